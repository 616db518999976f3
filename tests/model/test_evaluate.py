"""Metrics on hand-made cases with known answers, and the cross-validation driver."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coder.model.evaluate import binary_metrics, cross_validate, evaluate, family_macro, score_decisions
from coder.model.layout import Layout
from tests.model.tiny import corpus


def test_evaluate_binary_metrics_known_case():
    m = binary_metrics([1, 1, 0, 0, 1, 0], [1, 0, 0, 1, 1, 0])
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3) and m["kappa"] == pytest.approx(1 / 3)
    assert (m["support"], m["predicted"], m["n"]) == (3, 3, 6)
    perfect = binary_metrics([1, 0, 1], [1, 0, 1])
    assert perfect["f1"] == 1 and perfect["kappa"] == 1
    none = binary_metrics([0, 0], [0, 0])
    assert np.isnan(none["f1"]) and np.isnan(none["kappa"]) and none["support"] == 0


def _case():
    lay = Layout.from_merges({})
    n = lay.names
    rows = [  # (role, expert codes, model codes)
        ("therapist", {"question_open"}, {"question_open"}),
        ("therapist", {"question_closed"}, {"question_open"}),
        ("therapist", {"reflection_simple"}, {"reflection_simple"}),
        ("client", {"change_talk"}, {"change_talk"}),
        ("client", {"sustain_talk"}, {"neutral_talk"}),
        ("client", {"neutral_talk"}, {"neutral_talk"}),
    ]
    truth = np.array([[c in t for c in n] for _, t, _ in rows], float)
    pred = np.array([[c in p for c in n] for _, _, p in rows], float)
    return lay, truth, pred, [r for r, _, _ in rows]


def test_evaluate_per_code_families_and_confusion():
    lay, truth, pred, roles = _case()
    result = score_decisions(truth, pred, np.ones_like(truth), roles, lay)
    pc = result.per_code
    assert pc.loc["question_open", "precision"] == 0.5 and pc.loc["question_open", "recall"] == 1.0
    assert pc.loc["question_closed", "f1"] == 0.0 and pc.loc["question_closed", "n"] == 3
    assert pc.loc["change_talk", "f1"] == 1.0 and pc.loc["neutral_talk", "f1"] == pytest.approx(2 / 3)
    assert pc.loc["sustain_talk", "support"] == 1 and pc.loc["sustain_talk", "f1"] == 0.0
    assert pc.loc["affirmation", "support"] == 0
    assert result.confusion.loc["sustain_talk", "neutral_talk"] == 1 and result.confusion.values.sum() == 3
    assert result.summary["talk_type_macro_f1"] == pytest.approx((1 + 0 + 2 / 3) / 3)
    # fine codes with support: question_open 2/3, question_closed 0, reflection_simple 1
    assert result.summary["annomi_fine_macro_f1"] == pytest.approx((2 / 3 + 0 + 1) / 3)
    fam = family_macro(pc)
    assert fam.loc["talk_type", "codes"] == 3 and "harmful" not in fam.index


def test_evaluate_masked_cells_do_not_count():
    lay, truth, pred, roles = _case()
    mask = np.ones_like(truth)
    mask[1, lay.names.index("question_closed")] = 0
    mask[1, lay.names.index("question_open")] = 0
    pc = score_decisions(truth, pred, mask, roles, lay).per_code
    assert pc.loc["question_open", "precision"] == 1.0 and pc.loc["question_closed", "support"] == 0


def test_evaluate_cross_validate_trains_per_fold(tiny_config):
    from coder.model.classifier import UtteranceClassifier

    records = corpus(6, "t")
    folds = [(["t0", "t1", "t2", "t3"], ["t4", "t5"]), (["t2", "t3", "t4", "t5"], ["t0", "t1"])]
    fitted = []

    def make():
        clf = UtteranceClassifier(tiny_config.__class__(**{**tiny_config.__dict__, "epochs": 2}), progress=False)
        fitted.append(clf)
        return clf

    result = cross_validate(records, folds, make, validation_share=0.25)
    assert len(fitted) == 2
    assert set(result.per_fold["fold"]) == {0, 1}
    assert {"f1_mean", "f1_sd", "kappa_mean", "support"} <= set(result.per_code.columns)
    assert result.per_code.loc["question_open", "support"] == 2 * 2 * 2  # 2 per transcript, 2 held out, 2 folds
    assert list(result.summary.index[-2:]) == ["mean", "sd"]
    assert result.confusion.values.sum() == 6 * 4  # six client utterances per transcript, every transcript once
    oof = result.predictions  # out of fold: every transcript scored once, by the fold that held it out
    assert len(oof) == 4 * len(records) // 6  # the four held-out transcripts, once each
    assert dict(zip(oof.transcript_id, oof.fold)) == {"t4": 0, "t5": 0, "t0": 1, "t1": 1}
    assert "text" not in oof.columns and "p_question_open" in oof.columns
    assert oof[[c for c in oof.columns if c.startswith("p_")]].stack().between(0, 1).all()


def test_evaluate_uses_model_thresholds(fitted):
    result = evaluate(fitted, corpus(2, "x"))
    assert result.per_code.loc["question_open", "support"] == 4
    assert 0 <= result.summary["annomi_fine_macro_f1"] <= 1


def test_evaluate_cross_validate_drops_extras_anchored_in_held_out_transcripts(monkeypatch):
    import coder.model.evaluate as ev

    seen = []

    class Recorder:
        def fit(self, train, validation):
            seen.append({r["example_id"] for r in train})
            return self

    def fake_evaluate(model, records):
        per_code = pd.DataFrame({"family": ["helpful"], "precision": [1.0], "recall": [1.0], "f1": [1.0],
                                 "kappa": [1.0], "support": [1], "predicted": [1], "n": [1]}, index=["question_open"])
        return ev.Evaluation(per_code, ev.family_macro(per_code), pd.DataFrame([[1]]), {"x": 1.0})

    monkeypatch.setattr(ev, "evaluate", fake_evaluate)
    records = [{"example_id": f"{t}:0", "transcript_id": t} for t in ("t0", "t1", "t2", "t3")]
    extra = [{"example_id": "rewrite-of-t3", "transcript_id": "t3"}, {"example_id": "forum", "transcript_id": "welivita"}]
    folds = [(["t0", "t1", "t2"], ["t3"]), (["t1", "t2", "t3"], ["t0"])]
    cross_validate(records, folds, Recorder, extra_train=extra, validation_share=0.01)
    assert "rewrite-of-t3" not in seen[0] and "forum" in seen[0]
    assert "forum" in seen[1]
