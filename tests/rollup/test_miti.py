"""MITI-style indicators on a hand-made case."""

from __future__ import annotations

import math

import pytest

from coder.rollup.features import utterance_table
from coder.rollup.miti import miti_indicators
from tests.rollup.build import make_session

CASE = [
    ("therapist", "What brings you in?", ["question_open"]),
    ("client", "My drinking, I want to cut down.", ["change_talk"]),
    ("therapist", "Do you drink every day?", ["question_closed"]),
    ("client", "Most days, and I like it.", ["sustain_talk"]),
    ("therapist", "You want to cut down.", ["reflection_simple"]),
    ("client", "I do.", ["change_talk"]),
    ("therapist", "Part of you enjoys it, and part of you is worried.", ["reflection_complex"]),
    ("client", "Yes, I'm worried about my liver.", ["change_talk"]),
    ("therapist", "How would cutting down help?", ["question_open"]),
    ("client", "I'd sleep better.", ["change_talk"]),
    ("therapist", "You need to stop now, that's all.", ["directing", "confront_criticize"]),
    ("client", "Okay.", ["neutral_talk"]),
]


def test_miti_indicators_hand_made_case():
    session = make_session(CASE, seconds=50.0)  # 12 utterances × 50 s = 10 minutes
    m = miti_indicators(utterance_table(make_session(CASE)), duration_s=600.0)
    assert m["reflection_question_ratio"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["pct_complex_reflections"] == pytest.approx(50.0)
    assert m["pct_open_questions"] == pytest.approx(200 / 3, abs=1e-3)
    assert m["helpful_per_100"] == pytest.approx(400 / 6, abs=1e-3)  # 4 helpful codes / 6 therapist utts
    assert m["harmful_per_100"] == pytest.approx(200 / 6, abs=1e-3)
    assert m["helpful_per_10min"] == pytest.approx(4.0) and m["harmful_per_10min"] == pytest.approx(2.0)
    assert m["change_talk_share"] == pytest.approx(0.8)
    assert (m["n_therapist_utterances"], m["n_client_utterances"]) == (6, 6)
    assert session.duration is not None


def test_miti_indicators_undefined_are_nan_not_zero():
    m = miti_indicators(utterance_table(make_session([("client", "Hi.", ["neutral_talk"])])))
    for key in ("reflection_question_ratio", "pct_complex_reflections", "pct_open_questions", "helpful_per_100",
                "helpful_per_10min", "change_talk_share"):
        assert math.isnan(m[key]), key


def test_miti_indicators_count_expected_codes_from_probabilities():
    items = [("therapist", "So you feel stuck.", [], {"reflection_simple": 0.25, "reflection_complex": 0.75}),
             ("therapist", "What else?", [], {"question_open": 0.5, "question_closed": 0.5})]
    m = miti_indicators(utterance_table(make_session(items)))
    assert m["reflection_question_ratio"] == pytest.approx(1.0)
    assert m["pct_complex_reflections"] == pytest.approx(75.0)
    assert m["pct_open_questions"] == pytest.approx(50.0)
