"""Every writer's output reads back into the same utterances."""

from __future__ import annotations

import pytest

from coder.frames import frame_to_sessions, sessions_to_frame
from coder.io import WRITERS, read, write
from coder.pipeline import load_transcripts
from tests.conftest import FIXTURES

SUFFIX = {"text": ".txt", "csv": ".csv", "tsv": ".tsv", "jsonl": ".jsonl", "json": ".json", "vtt": ".vtt",
          "srt": ".srt", "whisper": ".json", "eaf": ".eaf", "docx": ".docx"}


@pytest.fixture
def mini():
    (session,) = load_transcripts([FIXTURES / "mini.vtt"]).sessions
    return session


@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_roundtrip_writer_then_reader_keeps_utterances(fmt, mini, tmp_path):
    path = tmp_path / f"out{SUFFIX[fmt]}"
    write([mini], path, fmt=fmt)
    (back,) = read(path, fmt=fmt)
    assert [(u.speaker, u.text) for u in back.utterances] == [(u.speaker, u.text) for u in mini.utterances]
    starts = [u.start for u in back.utterances]
    assert starts == pytest.approx([u.start for u in mini.utterances], abs=1e-3)
    if fmt not in {"text", "docx"}:  # these carry start times only
        assert [u.end for u in back.utterances] == pytest.approx([u.end for u in mini.utterances], abs=1e-3)


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "json"])
def test_roundtrip_tables_keep_ids_roles_turns_and_codes(fmt, mini, tmp_path):
    mini.utterances[1].codes = ["question_open"]
    path = tmp_path / f"out{SUFFIX[fmt]}"
    write([mini], path, fmt=fmt)
    (back,) = load_transcripts([path]).sessions
    assert [(u.utterance_id, u.turn_id, u.role, u.codes) for u in back.utterances] == [
        (u.utterance_id, u.turn_id, u.role, u.codes) for u in mini.utterances
    ]


def test_roundtrip_dataframe(mini):
    mini.utterances[2].codes = ["neutral_talk", "w_minimal_response"]
    frame = sessions_to_frame([mini])
    assert list(frame.columns) == ["session_id", "utterance_id", "turn_id", "speaker", "role", "start", "end",
                                   "text", "codes"]
    (back,) = frame_to_sessions(frame)
    assert back.utterances == [type(u)(**{**u.__dict__, "meta": {}}) for u in mini.utterances]
    assert back.speakers == {"Therapist": "therapist", "Client": "client"}
