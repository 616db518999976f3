"""WebVTT and SRT: bad cue times are errors naming the line; several speakers per cue; nothing dropped."""

from __future__ import annotations

import pytest

from coder.pipeline import load_transcripts
from coder.roles import RoleConfig


def _load(tmp_path, text, name="s.vtt", **kw):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, load_transcripts([path], **kw)


@pytest.mark.parametrize(
    ("timing", "message"),
    [("00:00:75.000 --> 00:00:80.000", "cue time '00:00:75.000' has minutes or seconds over 59"),
     ("00:61:00.000 --> 00:62:00.000", "cue time '00:61:00.000' has minutes or seconds over 59"),
     ("00:00:03.000 --> later", "expected 'hh:mm:ss.mmm --> hh:mm:ss.mmm', found 'later'"),
     ("25:00:00.000 --> 25:00:01.000", "absurd timestamp")],
)
def test_subtitles_vtt_invalid_cue_time_is_an_error_with_its_line(tmp_path, timing, message):
    """D1: a cue with an invalid time vanished with its words, and the summary said 0 lines skipped."""
    text = f"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nT: How are you?\n\n{timing}\nC: Not well.\n"
    path, report = _load(tmp_path, text)
    assert report.sessions == []
    (failure,) = report.failures
    assert failure.startswith(f"{path}:6: ") and message in failure


def test_subtitles_srt_invalid_cue_time_is_an_error_with_its_line(tmp_path):
    path, report = _load(tmp_path, "1\n00:00:01,000 --> 00:00:02,000\nT: Hi.\n\n2\n00:00:75,000 --> 00:00:80,000\n"
                         "C: Hello.\n", name="s.srt")
    assert report.failures == [f"{path}:6: malformed SRT: cue time '00:00:75,000' has minutes or seconds over 59"]


def test_subtitles_several_speakers_in_one_cue(tmp_path):
    text = ("WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Ana>How are you?</v>\n<v Ben>Fine &amp; you?</v>\n\n"
            "00:00:05.000 --> 00:00:08.000\nAna: Good.\nBen: Great.\n")
    _, report = _load(tmp_path, text, roles=RoleConfig(therapist=["Ana"]))
    got = [(u.speaker, u.text, u.start, u.end) for u in report.sessions[0].utterances]
    assert got == [("Ana", "How are you?", 1.0, 4.0), ("Ben", "Fine & you?", 1.0, 4.0), ("Ana", "Good.", 5.0, 8.0),
                   ("Ben", "Great.", 5.0, 8.0)]


def test_subtitles_note_words_are_counted_and_unknown_tags_kept(tmp_path):
    text = ("WEBVTT\n\nNOTE recorded in clinic two\n\n00:00:01.000 --> 00:00:02.000\nT: I <3 this, <i>really</i>.\n\n"
            "00:00:03.000 --> 00:00:04.000\nC: Me too.\n")
    _, report = _load(tmp_path, text)
    assert report.sessions[0].utterances[0].text == "I <3 this, really."
    assert report.skipped == {"comment": 1} and report.skipped_words == {"comment": 4}


def test_subtitles_text_after_blank_line_inside_a_cue_is_kept(tmp_path):
    text = "1\n00:00:01,000 --> 00:00:03,000\nT: How are\n\nyou today?\n\n2\n00:00:04,000 --> 00:00:05,000\nC: Fine.\n"
    _, report = _load(tmp_path, text, name="s.srt")
    assert [u.text for u in report.sessions[0].utterances] == ["How are you today?", "Fine."]


def test_subtitles_missing_blank_line_between_cues(tmp_path):
    text = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nT: Hi there.\n00:00:03.000 --> 00:00:04.000\nC: Hello.\n"
    _, report = _load(tmp_path, text)
    assert [(u.speaker, u.text, u.start) for u in report.sessions[0].utterances] == [("T", "Hi there.", 1.0),
                                                                                    ("C", "Hello.", 3.0)]


def test_subtitles_unicode_and_zero_width_labels(tmp_path):
    text = ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nÉlodie\u200b: Bonjour?\n\n"
            "00:00:03.000 --> 00:00:04.000\nZoë: Salut.\n")
    _, report = _load(tmp_path, text, roles=RoleConfig(therapist=["Élodie"]))
    assert report.sessions[0].speakers == {"Élodie": "therapist", "Zoë": "client"}
