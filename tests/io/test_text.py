"""Speaker-prefixed text: Unicode and zero-width labels, one-off third speakers, encodings, counted skips."""

from __future__ import annotations

import pytest

from coder.pipeline import load_transcripts
from coder.roles import RoleConfig


def _load(tmp_path, text, name="s.txt", encoding="utf-8", **kw):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return load_transcripts([path], **kw)


def _turns(report):
    (session,) = report.sessions
    out = []
    for u in session.utterances:
        if out and out[-1][0] == u.speaker:
            out[-1] = (u.speaker, out[-1][1] + " " + u.text)
        else:
            out.append((u.speaker, u.text))
    return out


def test_text_label_starting_with_non_ascii_letter_is_a_speaker(tmp_path):
    """D2: 'Émile: …' was read as part of the therapist's turn."""
    report = _load(tmp_path, "T: How are you both?\nC: Fine.\nÉmile: It is fine really.\nT: Good.\n")
    assert _turns(report) == [("T", "How are you both?"), ("C", "Fine."), ("Émile", "It is fine really."),
                              ("T", "Good.")]
    assert report.sessions[0].speakers["Émile"] == "other"


def test_text_session_of_elodie_and_zoe_has_two_speakers(tmp_path):
    """D2: a session of Élodie and Zoë was refused as 'only one speaker ('Zoë')'."""
    text = "Élodie: What brings you here?\nZoë: My sleep.\nÉlodie: So sleep is hard.\nZoë: Yes.\n"
    report = _load(tmp_path, text, roles=RoleConfig(therapist=["Élodie"]))
    assert report.failures == []
    assert report.sessions[0].speakers == {"Élodie": "therapist", "Zoë": "client"}


@pytest.mark.parametrize("mark", ["\u200b", "\ufeff", "\u2060", "\u200e"])
def test_text_zero_width_character_in_label_is_ignored(tmp_path, mark):
    """D3: 'C\\u200b: My sleep…' was filed under the previous speaker."""
    report = _load(tmp_path, f"T: How are you?\nC{mark}: My sleep is bad.\nT: I see.\n")
    assert _turns(report) == [("T", "How are you?"), ("C", "My sleep is bad."), ("T", "I see.")]


def test_text_zero_width_first_label_keeps_all_words(tmp_path):
    """D3: 7 of 11 words were dropped with exit 0 as 'text before the first speaker line'."""
    report = _load(tmp_path, "T\u200b: How have you been sleeping lately then?\nC: Not well.\nT: I see.\n")
    assert sum(len(u.text.split()) for u in report.sessions[0].utterances) == 11
    assert report.skipped == {}


def test_text_third_speaker_who_speaks_once_is_other_with_warning(tmp_path):
    """D4: 'Partner: …' was merged into the client's turn with no warning."""
    report = _load(tmp_path, "T: How are things at home?\nC: Okay I guess.\nPartner: I think they are fine.\n"
                   "T: Thank you both.\nC: Sure.\n")
    assert ("Partner", "I think they are fine.") in _turns(report)
    assert report.sessions[0].speakers["Partner"] == "other"
    assert any("Partner" in w and "'other'" in w for w in report.warnings)


@pytest.mark.parametrize("line", ["Note: bring the diary next time.", "So: what now?", "Example: a walk."])
def test_text_sentence_openers_with_colon_stay_text(tmp_path, line):
    report = _load(tmp_path, f"T: How are you?\nC: Tired.\n{line}\nT: I see.\n")
    assert _turns(report)[1] == ("C", f"Tired. {line}")


@pytest.mark.parametrize("labels", [("SPEAKER_00", "SPEAKER_01"), ("Speaker 1", "Speaker 2")])
def test_text_diarised_labels_are_guessed_with_warning(tmp_path, labels):
    a, b = labels
    text = (f"{a}: What brings you here today?\n{b}: My doctor sent me, I have been drinking a lot and my wife "
            f"is upset.\n{a}: So you're worried about your marriage.\n{b}: Yes, and my work too.\n")
    report = _load(tmp_path, text)
    assert report.failures == []
    assert report.sessions[0].speakers == {a: "therapist", b: "client"}
    assert len(report.warnings) == 1 and "guessed roles" in report.warnings[0]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"])
def test_text_utf16_and_utf32_are_read(tmp_path, encoding):
    """D10: a UTF-16 file was called 'binary file, not a text transcript'."""
    report = _load(tmp_path, "T: Ça va, Zoë?\nC: Oui, merci.\n", encoding=encoding)
    assert _turns(report) == [("T", "Ça va, Zoë?"), ("C", "Oui, merci.")]


def test_text_skipped_words_are_named_in_the_summary(tmp_path):
    report = _load(tmp_path, "# intake, second session\nRecorded at the clinic on Monday\nT: Hi.\nC: Hello.\n")
    assert report.skipped == {"comment": 1, "text before the first speaker line": 1}
    assert report.skipped_words == {"comment": 3, "text before the first speaker line": 6}
    assert "(1 comment [3 word(s)], 1 text before the first speaker line [6 word(s)])" in report.summary()


def test_text_time_after_colon_must_be_bracketed_to_be_a_time(tmp_path):
    report = _load(tmp_path, "T: 10:30 suits me?\nC: [00:00:05] Yes.\n")
    assert [(u.text, u.start) for u in report.sessions[0].utterances] == [("10:30 suits me?", None), ("Yes.", 5.0)]


def test_text_crlf_and_cr_line_ends(tmp_path):
    report = _load(tmp_path, "T: Hi there.\r\nC: Hello.\rMore from me.\r\n")
    assert _turns(report) == [("T", "Hi there."), ("C", "Hello. More from me.")]
