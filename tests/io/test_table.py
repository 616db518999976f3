"""CSV/TSV: repeated ids, turn numbers, and texts that look like missing values."""

from __future__ import annotations

import pytest

from coder.pipeline import load_transcripts


def _load(tmp_path, text, name="s.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, load_transcripts([path])


def test_table_repeat_with_another_speaker_is_an_error(tmp_path):
    """D8: a repeated id with the same text but another speaker was dropped as '1 repeated rows'."""
    path, report = _load(tmp_path, "utterance_id,speaker,text\n1,T,Hello there.\n1,C,Hello there.\n2,C,Hi.\n")
    assert report.failures == [f"{path}:3: utterance id '1' of session 's' repeats line 2 with another speaker "
                               "('T' there, 'C' here)"]


def test_table_annomi_style_repeats_are_skipped_and_counted_with_words(tmp_path):
    _, report = _load(tmp_path, "utterance_id,speaker,text,annotator\n1,T,Hello there.,a\n2,C,Hi.,a\n"
                      "1,T,Hello there.,b\n2,C,Hi.,b\n")
    assert report.failures == []
    assert report.n_utterances == 2
    assert report.skipped == {"repeated rows": 2} and report.skipped_words == {"repeated rows": 3}
    assert "2 repeated rows [3 word(s)]" in report.summary()


@pytest.mark.parametrize("turn", ["one", "1.5", "-1", "inf"])
def test_table_bad_turn_is_an_error_with_its_line(tmp_path, turn):
    """D10: a turn 'one' gave a ValueError with no line number."""
    path, report = _load(tmp_path, f"speaker,turn,text\nT,0,Hi.\nC,{turn},Hello.\n")
    assert report.failures == [f"{path}:3: turn {turn!r} is not a whole number of 0 or more"]


@pytest.mark.parametrize("text", ["N/A", "nan", "None", "NULL"])
def test_table_missing_value_words_are_text(tmp_path, text):
    """D11: utterance texts 'N/A' and 'nan' were skipped as empty."""
    _, report = _load(tmp_path, f"speaker,text\nT,What is your middle name?\nC,{text}\n")
    assert report.sessions[0].utterances[-1].text == text
    assert report.skipped == {}


def test_table_line_separator_inside_a_cell_is_no_row_break(tmp_path):
    _, report = _load(tmp_path, "speaker,text\nT,Hello\u2028there.\nC,Hi.\n")
    assert report.failures == []
    assert [u.text for u in report.sessions[0].utterances] == ["Hello there.", "Hi."]
