"""Agreement: Cohen's kappa against scikit-learn, Fleiss' kappa and Krippendorff's alpha on known values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from coder.review.agreement import (AgreementConfig, agreement, binary_cells, cohen_kappa, fleiss_kappa,
                                    krippendorff_alpha, load_long, multirater_agreement, pairwise_agreement)
from tests.review.conftest import MODEL_ID

#: Per utterance (10 therapist utterances), each coder's question_open and affirmation decisions.
MODEL_Q = [1, 1, 0, 0, 1, 0, 1, 0, 0, 1]
ALICE_Q = [1, 1, 0, 1, 1, 0, 0, 0, 0, 1]
BOB_Q = [1, 0, 0, 1, 1, 0, 1, 0, 1, 1]
MODEL_A = [0, 0, 1, 0, 0, 0, 0, 1, 0, 0]
ALICE_A = [0, 0, 1, 0, 0, 1, 0, 1, 0, 0]


def _long(coders: dict[str, dict[str, list[int]]]) -> pd.DataFrame:
    rows = [("s1", f"u{i}", coder, code, float(v))
            for coder, codes in coders.items() for code, values in codes.items() for i, v in enumerate(values)]
    return pd.DataFrame(rows, columns=["session_id", "utterance_id", "coder_id", "code", "score"])


def _value(table, code, coders=None, statistic="cohen_kappa"):
    sel = table[(table.code == code) & (table.statistic == statistic)]
    if coders:
        sel = sel[sel.coders == coders]
    assert len(sel) == 1, sel
    return sel.iloc[0]


def test_agreement_cohen_matches_sklearn():
    long = _long({MODEL_ID: {"question_open": MODEL_Q, "affirmation": MODEL_A},
                  "annotator:alice": {"question_open": ALICE_Q, "affirmation": ALICE_A}})
    table = pairwise_agreement(long)
    q = _value(table, "question_open")
    assert q.value == pytest.approx(cohen_kappa_score(MODEL_Q, ALICE_Q))
    assert q.coders == f"{MODEL_ID} | annotator:alice" and q.group == "model-annotator" and q.n_items == 10
    assert (q.prev_a, q.prev_b, q.pct_agree) == (0.5, 0.5, 0.8)
    assert _value(table, "affirmation").value == pytest.approx(cohen_kappa_score(MODEL_A, ALICE_A))
    overall = _value(table, "(overall)")
    assert overall.value == pytest.approx(cohen_kappa_score(MODEL_Q + MODEL_A, ALICE_Q + ALICE_A))
    assert overall.n_items == 20 and overall.prevalence == pytest.approx((5 + 5 + 2 + 3) / 40)
    macro = _value(table, "(macro)")
    assert macro.value == pytest.approx(np.mean([cohen_kappa_score(MODEL_Q, ALICE_Q),
                                                 cohen_kappa_score(MODEL_A, ALICE_A)]))


def test_agreement_cohen_function_nominal_and_degenerate():
    a, b = [0, 1, 2, 2, 1, 0, 2], [0, 1, 2, 1, 1, 0, 0]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))
    assert np.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))
    assert cohen_kappa([0, 1], [0, 1]) == 1.0


def test_agreement_fleiss_known_value():
    # Fleiss (1971) as reproduced on Wikipedia: 10 subjects, 14 raters, 5 categories → κ = 0.210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert fleiss_kappa(table) == pytest.approx(0.2099, abs=1e-4)
    with pytest.raises(ValueError):
        fleiss_kappa([[1, 1], [2, 1]])


def test_agreement_krippendorff_known_value():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal example: α = 0.743
    nan = np.nan
    data = np.array([[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
                     [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
                     [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
                     [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]).T
    assert krippendorff_alpha(data) == pytest.approx(0.743, abs=5e-4)


def test_agreement_three_annotators_fleiss_and_alpha_per_code():
    long = _long({"annotator:alice": {"question_open": ALICE_Q}, "annotator:bob": {"question_open": BOB_Q},
                  "annotator:model-like": {"question_open": MODEL_Q}})
    table = multirater_agreement(long)
    counts = np.stack([np.array(ALICE_Q) + BOB_Q + MODEL_Q], axis=1)[:, 0]
    expected = fleiss_kappa(np.stack([3 - counts, counts], axis=1))
    # by hand: 6 unanimous items (P_i = 1) and 4 split 2–1 (P_i = 1/3) → P̄ = 22/30;
    # p(yes) = 16/30 → P_e = (16² + 14²)/30² = 0.5022; κ = (0.7333 − 0.5022)/(1 − 0.5022) = 0.4643
    by_hand = (22 / 30 - (16 ** 2 + 14 ** 2) / 900) / (1 - (16 ** 2 + 14 ** 2) / 900)
    assert expected == pytest.approx(by_hand) and by_hand == pytest.approx(0.4643, abs=1e-4)
    fleiss = _value(table, "question_open", statistic="fleiss_kappa")
    assert fleiss.value == pytest.approx(expected) and fleiss.n_raters == 3 and fleiss.group == "annotators"
    assert fleiss.prevalence == pytest.approx(16 / 30)
    alpha = _value(table, "question_open", statistic="krippendorff_alpha")
    assert alpha.value == pytest.approx(krippendorff_alpha(np.array([ALICE_Q, BOB_Q, MODEL_Q]).T.astype(float)))


def test_agreement_only_shared_utterances_and_sparse_rows():
    long = _long({MODEL_ID: {"question_open": MODEL_Q}, "annotator:alice": {"question_open": ALICE_Q[:6]}})
    # a sparse coder: only assigned codes, on utterances 0-5 (affirmation on u2 only)
    long = pd.concat([long, pd.DataFrame([("s1", "u2", "annotator:alice", "affirmation", 1.0)],
                                         columns=long.columns)])
    cells = binary_cells(long)
    assert ("s1", "u1", "affirmation") not in cells.index  # no coder has a row for it
    # the model coded u2 (it has rows there), so its missing affirmation row counts as absent
    assert cells.loc[("s1", "u2", "affirmation")].to_dict() == {MODEL_ID: 0.0, "annotator:alice": 1.0}
    assert np.isnan(cells.loc[("s1", "u8", "question_open"), "annotator:alice"])  # alice never coded u8
    table = pairwise_agreement(long)
    q = _value(table, "question_open")
    assert q.n_items == 6 and q.value == pytest.approx(cohen_kappa_score(MODEL_Q[:6], ALICE_Q[:6]))


def test_agreement_from_store_and_cli(store, tmp_path):
    from typer.testing import CliRunner

    import coder.cli_review  # noqa: F401 - registers the commands
    from coder.cli import app

    for uid, codes in (("u000", ["question_open"]), ("u001", ["sustain_talk"]), ("u002", ["reflection_simple"])):
        store.save_correction("alice", "s1", uid, codes)
        store.save_correction("bob", "s1", uid, codes[:1] if uid != "u002" else ["reflection_complex"])
    long = load_long([store.path])
    assert set(long.coder_id) == {MODEL_ID, "annotator:alice", "annotator:bob"}
    table = agreement(long, AgreementConfig())
    assert set(table.statistic) == {"cohen_kappa", "fleiss_kappa", "krippendorff_alpha"}
    assert _value(table, "(overall)", "annotator:alice | annotator:bob").pct_agree < 1
    out = tmp_path / "agreement.csv"
    result = CliRunner().invoke(app, ["agreement", str(store.path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "cohen_kappa" in result.stdout and "(overall)" in result.stdout
    assert len(pd.read_csv(out)) == len(table)
    from tests.review.conftest import make_coded_dir

    one = CliRunner().invoke(app, ["agreement", str(make_coded_dir(tmp_path / "only"))])  # the model alone
    assert one.exit_code == 2 and "two coders" in one.output
    both = CliRunner().invoke(app, ["agreement", str(tmp_path / "coded"), "--all"])  # folder with its database
    assert both.exit_code == 0 and "question_open" in both.stdout
