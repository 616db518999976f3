"""JSON and JSON Lines: field types checked, errors name the utterance."""

from __future__ import annotations

import json

import pytest

from coder.pipeline import load_transcripts


def _load(tmp_path, obj, name="s.json"):
    path = tmp_path / name
    text = "\n".join(json.dumps(o) for o in obj) if name.endswith(".jsonl") else json.dumps(obj)
    path.write_text(text, encoding="utf-8")
    return path, load_transcripts([path])


@pytest.mark.parametrize(("field", "value", "kind"), [("speaker", ["C", "D"], "list"), ("speaker", {"n": 1}, "dict"),
                                                      ("role", True, "bool"), ("utterance_id", [1], "list")])
def test_jsonl_non_string_names_are_errors(tmp_path, field, value, kind):
    """D9: a JSON speaker given as a list was accepted as the speaker name ['C', 'D']."""
    utts = [{"speaker": "T", "text": "Hi."}, {"speaker": "C", "text": "Hello.", field: value}]
    path, report = _load(tmp_path, {"id": "s1", "utterances": utts})
    assert len(report.failures) == 1
    assert report.failures[0].startswith(f"{path}: session s1 utterance 1: {field} must be a string, not {kind}")


def test_jsonl_bad_start_names_the_utterance(tmp_path):
    """D10: a JSON bad start gave no utterance index."""
    utts = [{"speaker": "T", "text": "Hi.", "start": 0}, {"speaker": "C", "text": "Hello.", "start": "soon"}]
    path, report = _load(tmp_path, {"id": "s1", "utterances": utts})
    assert report.failures == [f"{path}: session s1 utterance 1: start: not a timestamp: 'soon'"]


def test_jsonl_bad_line_names_the_line(tmp_path):
    path, report = _load(tmp_path, [{"speaker": "T", "text": "Hi."}, {"speaker": "C", "text": ["x"]}], "s.jsonl")
    assert report.failures == [f"{path}:2: this line: text must be a string, not list"]


def test_jsonl_integer_speakers_are_names(tmp_path):
    utts = [{"speaker": 0, "text": "How are you?"}, {"speaker": 1, "text": "Fine."}]
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"utterances": utts}))
    from coder.roles import RoleConfig

    report = load_transcripts([path], roles=RoleConfig(therapist=["0"]))
    assert report.sessions[0].speakers == {"0": "therapist", "1": "client"}
