"""Bad input: one line naming the file (and line), exit status 2, and a batch goes on."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from coder.cli import app
from coder.pipeline import load_transcripts
from tests.conftest import FIXTURES

TWO = "T: How are you?\nC: Fine, thanks.\n"

# (case, file name, content (str or bytes), expected message, expected line or None)
CASES = [
    ("empty file", "empty.txt", "", "empty file", None),
    ("blank file", "blank.csv", "  \n\n", "empty file", None),
    ("binary file", "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01", "binary file (NUL bytes", None),
    ("unknown format", "notes.pdf", "%PDF-1.4", "unknown format '.pdf'", None),
    ("undecodable text", "odd.txt", b"T: caf\x81\nC: ok\n", "cannot decode as UTF-8 or cp1252", 1),
    ("no speaker prefixes", "prose.txt", "Once upon a time\nthere was a session.\n", "no speaker-prefixed lines found", 1),
    ("csv without text column", "cols.csv", "speaker,words\nT,hello\n", "no text column", 1),
    ("csv unbalanced quote", "quote.csv", 'speaker,text\nT,"hello\nC,fine\n', "malformed row", 2),
    ("csv stray delimiter", "ragged.csv", "speaker,text\nT,hello\nC,fine,thanks\n", "row has 3 fields but the header has 2", 3),
    ("csv clashing ids", "dup.csv", "utterance_id,speaker,text\n1,T,hello\n1,C,bye\n", "repeats line 2 with different text", 3),
    ("csv no rows with text", "notext.csv", "speaker,text\nT,\nC,\n", "no rows with text", None),
    ("jsonl malformed", "bad.jsonl", '{"speaker": "T", "text": "hi"}\n{"speaker": "C", "text": \n', "invalid JSON", 2),
    ("json wrong schema", "bad.json", '{"turns": []}', "not an object with an 'utterances' list", None),
    ("whisper not diarised", "asr.json", '{"segments": [{"start": 0, "end": 1, "text": "hi"}]}', "not diarised", None),
    ("vtt without header", "cues.vtt", "00:00:01.000 --> 00:00:02.000\nT: hi\n", "not a WebVTT file", 1),
    ("vtt bad cue timing", "timing.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nT: hi\n\n00:00:03 --> soon\nC: ok\n",
     "malformed WebVTT", 6),
    ("srt bad timestamp", "bad.srt", "1\n00:00:01,000 --> 00:00:02,000\nT: hi\n\n2\n00:00:03,000 -> 00:00:04,000\nC: ok\n",
     "malformed SRT: expected 'hh:mm:ss,mmm --> hh:mm:ss,mmm'", 6),
    ("elan malformed xml", "broken.eaf", "<ANNOTATION_DOCUMENT>\n<TIER>\n</ANNOTATION_DOCUMENT>\n", "malformed ELAN XML", 3),
    ("corrupt docx", "broken.docx", b"PK\x03\x04 not really a zip", "not a readable Word .docx file", None),
    ("single speaker", "mono.txt", "T: Hello.\nT: Anyone there?\n", "only one speaker ('T')", None),
    ("roles indistinguishable", "twins.txt", "Ann: Hello.\nBob: Hello.\nAnn: Hello.\nBob: Hello.\n",
     "cannot tell therapist from client", None),
    ("timestamp over 24 hours", "late.txt", "[00:00:01] T: Hi.\n[99:00:00] C: Hi.\n", "absurd timestamp", 2),
    ("ends before it starts", "backwards.csv", "speaker,start,end,text\nT,5,2,Hi.\nC,6,7,Hello.\n",
     "absurd timestamp: ends (2s) before it starts (5s)", 2),
    ("times run backwards", "jump.txt", "[00:10:00] T: Hi.\n[00:01:00] C: Hi.\n", "times run backwards", 2),
    ("not a timestamp", "when.csv", "speaker,start,text\nT,noon,Hi.\nC,1,Hi.\n", "not a timestamp: 'noon'", 2),
]


def _write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize(("case", "name", "content", "message", "line"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_documented_one_line_error(tmp_path, case, name, content, message, line):
    path = _write(tmp_path, name, content)
    report = load_transcripts([path])
    assert report.sessions == []
    (failure,) = report.failures
    where = f"{path}:{line}: " if line else f"{path}: "
    assert failure.startswith(where), failure
    assert message in failure
    assert "\n" not in failure


def test_bad_input_missing_folder_says_it_does_not_exist(tmp_path):
    """D10: a missing folder gave "unknown format '(no extension)'"."""
    report = load_transcripts([tmp_path / "sessions"])
    assert report.failures == [f"{tmp_path / 'sessions'}: no such file or folder"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"\xff\xfeT\x00:\x00 \x00\x00\xd8", "looks like UTF-16 text but is not valid UTF-16"),
     (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (NUL bytes, and no UTF-16 or UTF-32 byte-order mark)"),
     (b"T: hi\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\nC: ok", "binary file (control bytes")],
)
def test_bad_input_says_what_undecodable_bytes_are(tmp_path, content, message):
    path = _write(tmp_path, "odd.txt", content)
    (failure,) = load_transcripts([path]).failures
    assert message in failure


def test_bad_input_long_utterance_warns_naming_session_and_utterance(caplog):
    """D11: an utterance of 5,000 words was coded from its first 128 tokens with no warning."""
    from coder.model.inputs import Example, encode

    class Tokenizer:  # one token per word, ids from a running vocabulary
        cls_token_id, sep_token_id = 1, 2

        def __init__(self):
            self.vocab = {}

        def __call__(self, texts, add_special_tokens=False, verbose=False):
            one = isinstance(texts, str)
            ids = [[self.vocab.setdefault(w, len(self.vocab) + 3) for w in t.split()]
                   for t in ([texts] if one else texts)]
            return {"input_ids": ids[0] if one else ids}

    examples = [Example("Fine thanks.", "client", [], ("s1", "0")),
                Example(" ".join(["word"] * 5000), "client", [("therapist", "How are you?")], ("s1", "1"))]
    with caplog.at_level("WARNING"):
        encoded = encode(Tokenizer(), examples, max_length=128)
    assert encoded.truncated == [(1, 5001)]
    assert max(encoded.lengths) == 128
    (record,) = caplog.records
    assert "session s1 utterance 1 (5001 tokens)" in record.getMessage()
    assert "first 125 tokens" in record.getMessage()


def test_bad_input_missing_file(tmp_path):
    report = load_transcripts([tmp_path / "nowhere.txt"])
    assert report.failures == [f"{tmp_path / 'nowhere.txt'}: no such file or folder"]


@pytest.mark.parametrize(("case", "name", "content", "message", "line"), CASES[:6], ids=[c[0] for c in CASES[:6]])
def test_bad_input_cli_exit_status_2_without_traceback(tmp_path, case, name, content, message, line):
    path = _write(tmp_path, name, content)
    result = CliRunner().invoke(app, ["segment", str(path), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert message in result.output
    assert not (tmp_path / "out.csv").exists()


def test_bad_input_batch_goes_on_and_reports(tmp_path):
    bad = _write(tmp_path, "empty.txt", "")
    mono = _write(tmp_path, "mono.txt", "T: Hello.\nT: Anyone there?\n")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, ["segment", str(FIXTURES / "mini.txt"), str(bad), str(mono), "-o", str(out)])
    assert result.exit_code == 2
    assert f"{bad}: empty file" in result.output
    assert "only one speaker" in result.output
    assert ("3 file(s): 1 session(s), 10 utterance(s) kept; 1 line(s) skipped (1 comment [7 word(s)]); 2 failed"
            in result.output)
    assert out.read_text().count("\nmini,") == 10


def test_bad_input_skipped_rows_are_counted(tmp_path):
    path = _write(tmp_path, "gaps.csv", "speaker,text\nT,Hi there.\nC,\nC,Hello.\nT,  \n")
    report = load_transcripts([path])
    assert report.failures == []
    assert report.skipped == {"empty text": 2}
    assert report.n_utterances == 2


def test_bad_input_duplicate_session_ids_across_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for d in ("a", "b"):
        _write(tmp_path / d, "s.txt", TWO)
    report = load_transcripts([tmp_path / "a" / "s.txt", tmp_path / "b" / "s.txt"])
    assert len(report.sessions) == 1
    assert "session id 's' was already read from" in report.failures[0]
