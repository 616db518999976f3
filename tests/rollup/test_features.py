"""Utterance and turn tables: probabilities, fall-backs, elaboration."""

from __future__ import annotations

import pytest

from coder.rollup.features import BASE_COLUMNS, code_probabilities, is_elaborated, turn_table, utterance_table
from coder.session import Utterance
from tests.rollup.build import make_session


@pytest.mark.parametrize("text, expected", [
    ("Yeah.", False), ("I suppose it is.", False), ("(long pause) A bit. Yeah.", False), ("I don't know.", False),
    ("Sure, whatever you think is best.", True), ("It felt like being told off, I suppose.", True),
    ("It's not that it's never useful.", True), ("(laughs) (sighs) [pause]", False),
])
def test_features_elaboration_rule(text, expected):
    assert is_elaborated(text) is expected


def utt(role, codes, proba=None):
    return Utterance("s", "0", 0, role, role, None, None, "text", codes, {"proba": proba} if proba else {})


def test_features_probabilities_override_hard_codes_and_nan_falls_back():
    p = code_probabilities(utt("therapist", ["directing", "question_open"],
                               {"directing": 0.2, "question_open": float("nan"), "harmful": 0.7}))
    assert p["directing"] == 0.2  # the model's probability wins over the hard code
    assert p["question_open"] == 1.0  # NaN: fall back to the hard code
    assert p["harmful"] == 0.7  # the model's family probability when larger than its members
    assert p["change_talk"] == 0.0  # not a therapist code
    hard = code_probabilities(utt("therapist", ["directing"], {"directing": 0.2}), use_proba=False)
    assert hard["directing"] == 1.0


def test_features_uncoded_client_counts_as_neutral_talk_and_rupture_is_any_marker():
    p = code_probabilities(utt("client", ["w_denial"]))
    assert p["neutral_talk"] == 1.0 and p["withdrawal"] == 1.0 and p["rupture"] == 1.0 and p["confrontation"] == 0
    assert code_probabilities(utt("other", ["w_denial"]))["rupture"] == 0.0


def test_features_turn_table_takes_the_largest_probability_per_turn():
    items = [("therapist", "Hm.", [], {"reflection_complex": 0.2}),
             ("therapist", "So you feel stuck.", [], {"reflection_complex": 0.9}),
             ("client", "Yeah.", ["neutral_talk"]),
             ("client", "I have been stuck at home for months now.", ["neutral_talk"])]
    utts = utterance_table(make_session(items))
    turns = turn_table(utts)
    assert len(turns) == 2 and turns["reflection_complex"].iloc[0] == pytest.approx(0.9)
    assert turns["engaged"].iloc[1] == 1.0  # one elaborated utterance makes the turn engaged
    assert (utts["engaged"] + utts["sustain"] + utts["minimal"])[utts.role == "client"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize("seconds", [10.0, None])
def test_features_utterance_table_column_types(seconds):
    items = [("therapist", "So you feel stuck.", ["reflection_complex"]), ("client", "Yeah.", []),
             ("other", "Sorry, wrong room.", [])]
    for session in (make_session(items, seconds=seconds), make_session([], seconds=seconds)):
        utts = utterance_table(session)
        assert utts["start"].dtype == utts["end"].dtype == "float64"
        assert utts["position"].dtype == utts["turn"].dtype == "int64"
        assert utts["position"].tolist() == list(range(len(utts)))
        if len(utts):
            assert all(utts[c].dtype == "float64" for c in utts.columns[len(BASE_COLUMNS):])
            assert utts["elaborated"].dtype == bool and utts["turn"].tolist() == [0, 1, 2]
            assert utts["neutral_talk"].tolist() == [0.0, 1.0, 0.0]  # an uncoded client utterance is neutral talk
            assert utts["minimal"].tolist() == [0.0, 1.0, 0.0] and utts["start"].isna().all() == (seconds is None)
