"""Every reader turns the constructed mini session into the same utterances."""

from __future__ import annotations

import pytest

from coder.io import format_of
from coder.pipeline import load_transcripts
from coder.roles import RoleConfig
from tests.conftest import FIXTURES, MINI, MINI_TURN_STARTS

FILES = ["mini.txt", "mini.csv", "mini.tsv", "mini.jsonl", "mini.json", "mini.vtt", "mini_voice.vtt", "mini.srt",
         "mini.whisper.json", "mini.eaf", "mini.docx"]


@pytest.mark.parametrize("name", FILES)
def test_formats_read_mini_session_into_same_utterances(name):
    report = load_transcripts([FIXTURES / name])
    assert report.failures == []
    (session,) = report.sessions
    got = [(u.turn_id, u.speaker, u.text) for u in session.utterances]
    assert got == MINI
    assert [u.role for u in session.utterances] == ["therapist" if s == "Therapist" else "client" for _, s, _ in MINI]
    assert [u.utterance_id for u in session.utterances] == [str(i) for i in range(len(MINI))]
    turn_starts = [next(u.start for u in session.utterances if u.turn_id == t) for t in range(6)]
    assert turn_starts == pytest.approx(MINI_TURN_STARTS)
    for u in session.utterances:
        assert u.start <= u.end


@pytest.mark.parametrize("name", ["mini.csv", "mini.vtt", "mini.eaf", "mini.whisper.json"])
def test_formats_share_turn_time_by_length(name):
    """Sentences of a timed turn split its time in proportion to their length, in order."""
    (session,) = load_transcripts([FIXTURES / name]).sessions
    client = [u for u in session.utterances if u.turn_id == 1]
    assert client[0].start == pytest.approx(9.0)
    assert client[-1].end == pytest.approx(20.0)
    assert all(a.end <= b.start for a, b in zip(client, client[1:]))
    longest = max(client, key=lambda u: len(u.text))
    assert longest.end - longest.start == max(u.end - u.start for u in client)


def test_formats_whisperx_diarised_speakers_with_therapist_option(tmp_path):
    text = (FIXTURES / "mini.whisper.json").read_text().replace('"Therapist"', '"SPEAKER_00"').replace(
        '"Client"', '"SPEAKER_01"')
    path = tmp_path / "diarised.json"
    path.write_text(text)
    report = load_transcripts([path], roles=RoleConfig(therapist=["SPEAKER_00"]))
    (session,) = report.sessions
    assert session.speakers == {"SPEAKER_00": "therapist", "SPEAKER_01": "client"}
    assert report.warnings == []


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.txt", "text"), ("a.CSV", "csv"), ("a.tsv", "tsv"), ("a.jsonl", "jsonl"), ("a.json", "json"),
     ("a.vtt", "vtt"), ("a.srt", "srt"), ("a.eaf", "eaf"), ("a.docx", "docx")],
)
def test_formats_chosen_by_extension(name, fmt):
    from pathlib import Path

    assert format_of(Path(name)) == fmt


def test_formats_folder_means_every_transcript(tmp_path):
    (tmp_path / "a.txt").write_bytes((FIXTURES / "mini.txt").read_bytes())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.srt").write_bytes((FIXTURES / "mini.srt").read_bytes())
    (tmp_path / "notes.md").write_text("not a transcript")
    report = load_transcripts([tmp_path])
    assert report.failures == []
    assert sorted(s.id for s in report.sessions) == ["a", "b"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_formats_text_encodings(tmp_path, encoding):
    path = tmp_path / "enc.txt"
    path.write_text("T: Café — how are you feeling?\nC: I’m alright, naïve maybe.\n", encoding=encoding)
    (session,) = load_transcripts([path]).sessions
    assert session.utterances[0].text == "Café — how are you feeling?"
    assert session.utterances[-1].text == "I’m alright, naïve maybe."


def test_formats_otter_style_text_with_header_lines(tmp_path):
    path = tmp_path / "otter.txt"
    path.write_text("Dr. Lee  0:02\nHi, thanks for coming in. What brings you here?\n\n"
                    "Sam Park  0:09\nMy doctor said I should come.\nI haven't slept in weeks.\n\n"
                    "Dr. Lee  0:21\nSo the sleep has been hard.\n", encoding="utf-8")
    (session,) = load_transcripts([path], roles=RoleConfig(therapist=["Dr. Lee"])).sessions
    assert [u.speaker for u in session.utterances] == ["Dr. Lee", "Dr. Lee", "Sam Park", "Sam Park", "Dr. Lee"]
    assert [u.text for u in session.utterances] == ["Hi, thanks for coming in.", "What brings you here?",
                                                    "My doctor said I should come.", "I haven't slept in weeks.",
                                                    "So the sleep has been hard."]
    assert [u.turn_id for u in session.utterances] == [0, 0, 1, 1, 2]
    assert session.utterances[2].start == 9.0 and session.utterances[4].start == 21.0
