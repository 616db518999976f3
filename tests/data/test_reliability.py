"""Agreement statistics and the double-coded subset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from coder.data.reliability import (PROJECT_CODES, code_agreement, cohen_kappa, fleiss_kappa, icc_2_1,
                                    markdown_table, rating_agreement)


@pytest.mark.parametrize("x, y", [
    ([1, 0, 1, 0, 1, 1], [1, 0, 0, 0, 1, 1]),
    ([0, 0, 0, 1], [0, 0, 1, 1]),
    ([1, 1, 0, 0], [0, 0, 1, 1]),
])
def test_reliability_cohen_kappa_matches_sklearn(x, y):
    assert cohen_kappa(x, y) == pytest.approx(cohen_kappa_score(x, y))


def test_reliability_cohen_kappa_undefined_when_both_constant():
    assert np.isnan(cohen_kappa([0, 0, 0], [0, 0, 0]))


def test_reliability_fleiss_and_icc_known_values():
    assert fleiss_kappa(np.array([[3, 0], [0, 3], [3, 0]])) == pytest.approx(1.0)
    # every item split evenly between the two categories: agreement below chance
    assert fleiss_kappa(np.array([[1, 1], [1, 1]])) < 0
    assert icc_2_1(np.array([[1, 1], [2, 2], [4, 4]])) == pytest.approx(1.0)
    assert icc_2_1(np.array([[1, 2], [2, 3], [4, 5]])) < 1


def _pass(rows):
    return pd.DataFrame([{"transcript_id": t, "utterance_id": u, "role": r, "code_list": c} for t, u, r, c in rows])


def test_reliability_code_agreement_on_tiny_passes():
    first = _pass([("1", "0", "therapist", ["directing"]), ("1", "1", "client", ["w_denial"]),
                   ("2", "0", "therapist", []), ("2", "1", "client", [])])
    second = _pass([("1", "0", "therapist", ["directing"]), ("1", "1", "client", ["c_defend_self"]),
                    ("2", "0", "therapist", []), ("2", "1", "client", [])])
    table = code_agreement(first, second, n_boot=20).set_index("code")
    assert table.loc["directing", "kappa"] == pytest.approx(1.0)
    assert table.loc["directing", ["n", "pos_first", "pos_second"]].tolist() == [2, 1, 1]
    assert table.loc["w_denial", "kappa"] == pytest.approx(0.0) and table.loc["rupture", "kappa"] == pytest.approx(1.0)
    assert np.isnan(table.loc["affirmation", "kappa"]) and table.loc["affirmation", "needs_plan"]
    assert set(PROJECT_CODES) <= set(table.index) and "question_open" not in table.index


def test_reliability_real_subset_covers_fifteen_transcripts(first_pass, second_pass):
    table = code_agreement(first_pass, second_pass, n_boot=50)
    assert set(second_pass.transcript_id) == {"2", "4", "6", "8", "9", "17", "30", "52", "53", "69", "77", "80",
                                              "87", "118", "119"}
    assert table[table.level == "code"].n.sum() > 0
    from coder.data.build import TRAINING_MERGES, UNVALIDATED, DROPPED
    planned = set(TRAINING_MERGES) | set(UNVALIDATED) | set(DROPPED)
    assert set(table[(table.level == "code") & table.needs_plan].code) <= planned


def test_reliability_rating_agreement_on_second_pass(annomi):
    from coder.data.paths import ANNOTATIONS_DIR
    from coder.data.ratings import load_session_ratings, read_ratings
    table = rating_agreement(load_session_ratings(), read_ratings(ANNOTATIONS_DIR / "second_pass" / "ratings_agent-b1.csv"))
    assert table.n.eq(15).all() and table.icc_2_1.between(-1, 1).all()


def test_reliability_markdown_table_formats_nan_and_bools():
    text = markdown_table(pd.DataFrame({"a": [1.234, np.nan], "b": [True, False]}))
    assert "| 1.23 | yes |" in text and "| – | no |" in text
