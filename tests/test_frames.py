"""The long table: one row per utterance × code, with the coder's id; the model is one more coder."""

from __future__ import annotations

from coder.frames import LONG_COLUMNS, from_long, to_long
from coder.scheme import CLIENT_CODES, THERAPIST_CODES
from coder.session import Session, Utterance


def _session():
    return Session("s", [
        Utterance("s", "0", 0, "T", "therapist", 0.0, 1.0, "How are you?", ["question_open"]),
        Utterance("s", "1", 1, "C", "client", 1.0, 2.0, "Fine.", ["neutral_talk", "w_minimal_response"]),
        Utterance("s", "2", 2, "X", "other", 2.0, 3.0, "Hello.", []),
    ])


def test_frames_long_dense_has_every_allowed_code():
    long = to_long([_session()], "agent-a1")
    assert list(long.columns) == LONG_COLUMNS
    assert len(long) == len(THERAPIST_CODES) + len(CLIENT_CODES)
    assert set(long.loc[long.score == 1, "code"]) == {"question_open", "neutral_talk", "w_minimal_response"}
    assert set(long["coder_id"]) == {"agent-a1"}


def test_frames_long_sparse_and_back():
    s = _session()
    long = to_long([s], "human:1", dense=False)
    assert long[["utterance_id", "code"]].values.tolist() == [["0", "question_open"], ["1", "neutral_talk"],
                                                              ["1", "w_minimal_response"]]
    s.utterances[0].codes = []
    (back,) = from_long(long, [s], "human:1")
    assert [u.codes for u in back.utterances] == [["question_open"], ["neutral_talk", "w_minimal_response"], []]


def test_frames_long_model_probabilities_and_threshold():
    s = _session()
    s.utterances[0].meta["proba"] = {c: 0.0 for c in THERAPIST_CODES} | {"question_open": 0.8, "affirmation": 0.4}
    long = to_long([s], "model:0.1")
    row = long[(long.utterance_id == "0") & (long.code == "affirmation")]
    assert row.score.item() == 0.4
    (back,) = from_long(long, [s], "model:0.1", threshold=0.5)
    assert back.utterances[0].codes == ["question_open"]
