"""Word accounting, per reader: words in = words kept + words in counted skips, none misattributed.

Hypothesis writes transcripts in every format from one generated model: 1–5 speakers with odd
Unicode labels (``Élodie``, ``SPEAKER_00``, ``医生``, zero-width characters inside), words of
any script with zero-width characters and byte-order marks in them, CRLF/CR/LF line ends, ragged
times (overlaps, gaps, small steps back), empty turns, comments and text before the first
speaker. The test reads the file with :func:`coder.pipeline.load_transcripts` (what the CLI's
``segment`` runs) and checks that every speaker's words come out under that speaker, and that
the words the reader skipped are exactly the ones the summary counts.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coder.io._common import INVISIBLE, clean
from coder.pipeline import load_transcripts
from coder.roles import RoleConfig

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True, database=None)

#: Labels every reader takes as a speaker, even when they speak once.
LABELS = ["T", "C", "Therapist", "Client", "Élodie", "Zoë", "Émile", "SPEAKER_00", "SPEAKER_01", "Speaker 2",
          "Dr. Lee", "Partner", "O'Brien", "Anne-Marie", "Ωmega", "医生"]
ODD = INVISIBLE[:3] + "\u200d"  # zero-width space, word joiner, BOM, zero-width joiner
# characters no word of these tests holds: separators and controls, and the few that are syntax at
# the start of a line (labels, comments, tags, entities, timestamps)
_EXCLUDED = ":：#<>&{}[]()\\" + INVISIBLE
_CHARS = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"),
                       exclude_characters=_EXCLUDED)


@st.composite
def words(draw) -> str:
    """One word: visible characters of any script, sometimes with zero-width characters around or inside."""
    core = draw(st.text(_CHARS, min_size=1, max_size=7))
    if draw(st.booleans()):
        k = draw(st.integers(0, len(core)))
        core = core[:k] + draw(st.sampled_from(ODD)) + core[k:]
    return core


@dataclass
class Turn:
    speaker: int
    words: list[str]
    start: float
    end: float


@dataclass
class Model:
    """A generated transcript: speakers, turns, and words that belong in skips (comments, preamble)."""

    labels: list[str]
    turns: list[Turn]
    extra: list[list[str]] = field(default_factory=list)  # lines of words that must be skipped and counted
    newline: str = "\n"

    def speaking(self) -> set[str]:
        return {clean(self.labels[t.speaker]) for t in self.turns if t.words}

    def words_by_speaker(self) -> Counter:
        return Counter((clean(self.labels[t.speaker]), clean(w)) for t in self.turns for w in t.words)

    def n_words(self) -> int:
        return sum(len(t.words) for t in self.turns) + sum(len(x) for x in self.extra)


@st.composite
def models(draw, *, extra: bool = True) -> Model:
    n = draw(st.integers(1, 5))
    labels = draw(st.lists(st.sampled_from(LABELS), min_size=n, max_size=n, unique=True))
    labels = [lab[:1] + draw(st.sampled_from(["", "", *ODD])) + lab[1:] for lab in labels]
    turns, t = [], 0.0
    for _ in range(draw(st.integers(1, 7))):
        t += draw(st.floats(0, 40))
        start = max(0.0, round(t + draw(st.floats(-29, 29)), 3))
        end = round(start + draw(st.floats(0, 15)), 3)
        turns.append(Turn(draw(st.integers(0, n - 1)), draw(st.lists(words(), max_size=9)), start, end))
    lines = draw(st.lists(st.lists(words(), min_size=1, max_size=4), max_size=2)) if extra else []
    return Model(labels, turns, lines, draw(st.sampled_from(["\n", "\r\n", "\r"])))


def _roles(model: Model) -> RoleConfig:
    """Every speaker's role given, so the test is about reading, not guessing roles."""
    first = next((t.speaker for t in model.turns if t.words), 0)
    roles = {(None, clean(lab)): ("therapist" if k == first else "client") for k, lab in enumerate(model.labels)}
    return RoleConfig(roles=roles)


def _check(tmp_path, model: Model, name: str, data: bytes | str, fmt: str | None = None, repeated: int = 0):
    """Read the file; check words per speaker, and words in = kept + skipped (``repeated``: words in repeats)."""
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    report = load_transcripts([path], fmt=fmt, roles=_roles(model))
    if len(model.speaking()) < 2:  # nothing to code: a one-line failure naming the file
        assert report.sessions == [] and len(report.failures) == 1, report.failures
        assert report.failures[0].startswith(str(path)) and "\n" not in report.failures[0]
        return report
    assert report.failures == []
    got = Counter((u.speaker, w) for s in report.sessions for u in s.utterances for w in u.text.split())
    assert got == model.words_by_speaker()
    kept = sum(got.values())
    skipped = sum(report.skipped_words.values())
    assert kept + skipped == model.n_words() + repeated
    summary = report.summary()
    for reason, n in report.skipped_words.items():
        if n:
            assert f"{reason} [{n} word(s)]" in summary
    return report


# --- writers of the generated model, one per format -------------------------------------------------


def _stamp(seconds: float, sep: str = ".") -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


@st.composite
def text_files(draw, model: Model) -> str:
    out = [f"# {' '.join(x)}" if draw(st.booleans()) else " ".join(x) for x in model.extra]
    last = -1.0
    for turn in model.turns:
        label = model.labels[turn.speaker]
        start = max(turn.start, last - 59)  # the text layout has start times only: keep them in order
        last = max(last, start)
        layout = draw(st.sampled_from(["plain", "before", "after", "header"]))
        parts = [turn.words[i:i + 3] for i in range(0, len(turn.words), 3)] or [[]]
        first = " ".join(parts[0])
        if layout == "plain":
            out.append(f"{label}: {first}")
        elif layout == "before":
            out.append(f"[{_stamp(start)}] {label}: {first}")
        elif layout == "after":
            out.append(f"{label} ({_stamp(start)}): {first}")
        else:
            out += [f"{label}  {_stamp(start)}", first]
        out += [" ".join(p) for p in parts[1:]]
        if draw(st.booleans()):
            out.append("")
    return model.newline.join(out) + model.newline


@given(data=st.data(), model=models())
@SETTINGS
def test_word_accounting_text(tmp_path_factory, data, model):
    text = data.draw(text_files(model))
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
    report = _check(tmp_path_factory.mktemp("t"), model, "s.txt", text.encode(encoding))
    if report.sessions and model.extra:
        assert sum(report.skipped_words[r] for r in ("comment", "text before the first speaker line")) > 0


@given(data=st.data(), model=models(extra=False))
@settings(SETTINGS, max_examples=15)
def test_word_accounting_docx(tmp_path_factory, data, model):
    import docx

    document = docx.Document()
    as_table = data.draw(st.booleans())
    table = document.add_table(rows=0, cols=2) if as_table else None
    for turn in model.turns:
        if table is not None and turn.words:
            cells = table.add_row().cells
            cells[0].text, cells[1].text = model.labels[turn.speaker], " ".join(turn.words)
        else:
            document.add_paragraph(f"{model.labels[turn.speaker]}: {' '.join(turn.words)}")
    buffer = io.BytesIO()
    document.save(buffer)
    _check(tmp_path_factory.mktemp("d"), model, "s.docx", buffer.getvalue())


@pytest.mark.parametrize("delimiter", [",", "\t"])
@given(data=st.data(), model=models(extra=False))
@SETTINGS
def test_word_accounting_table(tmp_path_factory, delimiter, data, model):
    with_ids = data.draw(st.booleans())
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=model.newline if model.newline != "\r" else "\n")
    writer.writerow((["utterance_id"] if with_ids else []) + ["speaker", "start", "end", "text"])
    rows, repeated = [], 0
    for k, turn in enumerate(model.turns):
        row = ([f"u{k}"] if with_ids else []) + [model.labels[turn.speaker], turn.start, turn.end, " ".join(turn.words)]
        rows.append(row)
        if with_ids and turn.words and data.draw(st.integers(0, 3)) == 0:  # AnnoMI-style repeat: same id, speaker, text
            rows.append(row)
            repeated += len(turn.words)
    writer.writerows(rows)
    report = _check(tmp_path_factory.mktemp("c"), model, "s.csv" if delimiter == "," else "s.tsv", buffer.getvalue(),
                    repeated=repeated)
    repeats = len(rows) - len(model.turns)
    if report.sessions and repeats:
        assert report.skipped["repeated rows"] == repeats


@given(data=st.data(), model=models(extra=False))
@SETTINGS
def test_word_accounting_json(tmp_path_factory, data, model):
    ascii_only = data.draw(st.booleans())
    records = [{"speaker": model.labels[t.speaker], "text": " ".join(t.words), "start": t.start, "end": t.end}
               for t in model.turns]
    if data.draw(st.booleans()):
        text = model.newline.join(json.dumps(r, ensure_ascii=ascii_only) for r in records) + model.newline
        _check(tmp_path_factory.mktemp("j"), model, "s.jsonl", text)
    else:
        text = json.dumps({"sessions": [{"id": "s", "utterances": records}]}, ensure_ascii=ascii_only, indent=1)
        _check(tmp_path_factory.mktemp("j"), model, "s.json", text)


@given(data=st.data(), model=models(extra=False))
@SETTINGS
def test_word_accounting_whisper(tmp_path_factory, data, model):
    segments = [{"id": k, "start": t.start, "end": t.end, "text": " " + " ".join(t.words),
                 "speaker": model.labels[t.speaker]} for k, t in enumerate(model.turns)]
    text = json.dumps({"segments": segments, "language": "en"}, ensure_ascii=data.draw(st.booleans()))
    _check(tmp_path_factory.mktemp("w"), model, "s.whisper.json", text, fmt="whisper")


@st.composite
def caption_files(draw, model: Model, fmt: str) -> str:
    sep = "." if fmt == "vtt" else ","
    out = ["WEBVTT", ""] if fmt == "vtt" else []
    for x in model.extra:
        out += ["NOTE " + " ".join(x), ""]
    previous = None
    for k, turn in enumerate(model.turns, start=1):
        label = model.labels[turn.speaker]
        if fmt == "srt" or draw(st.booleans()):
            out.append(str(k))
        out.append(f"{_stamp(turn.start, sep)} --> {_stamp(turn.end, sep)}")
        lines = [" ".join(turn.words[i:i + 4]) for i in range(0, len(turn.words), 4)] or [""]
        style = draw(st.sampled_from(["prefix", "voice", "none"] if fmt == "vtt" else ["prefix", "none"]))
        if style == "none" and previous != turn.speaker:
            style = "prefix"
        if style == "prefix":
            lines[0] = f"{label}: {lines[0]}".rstrip()
        elif style == "voice":
            lines[0] = f"<v {label}>{lines[0]}"
        out += lines + [""]
        previous = turn.speaker
    return model.newline.join(out)


@pytest.mark.parametrize("fmt", ["vtt", "srt"])
@given(data=st.data(), model=models())
@SETTINGS
def test_word_accounting_captions(tmp_path_factory, fmt, data, model):
    if fmt == "srt":
        model.extra = []  # SRT has no comments
    text = data.draw(caption_files(model, fmt))
    _check(tmp_path_factory.mktemp("v"), model, f"s.{fmt}", text)


@given(data=st.data(), model=models())
@SETTINGS
def test_word_accounting_elan(tmp_path_factory, data, model):
    slots, tiers = [], {}
    for k, turn in enumerate(model.turns):
        slots += [f'<TIME_SLOT TIME_SLOT_ID="ts{2 * k}" TIME_VALUE="{round(turn.start * 1000)}"/>',
                  f'<TIME_SLOT TIME_SLOT_ID="ts{2 * k + 1}" TIME_VALUE="{round(turn.end * 1000)}"/>']
        tiers.setdefault(turn.speaker, []).append(
            f'<ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a{k}" TIME_SLOT_REF1="ts{2 * k}" '
            f'TIME_SLOT_REF2="ts{2 * k + 1}"><ANNOTATION_VALUE>{escape(" ".join(turn.words))}'
            "</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>")
    body = []
    for s, anns in tiers.items():
        body.append(f'<TIER TIER_ID="tier{s}" PARTICIPANT={quoteattr(model.labels[s])} '
                    f'LINGUISTIC_TYPE_REF="default-lt">{"".join(anns)}</TIER>')
    for j, x in enumerate(model.extra):  # a translation tier: skipped, its words counted
        body.append(f'<TIER TIER_ID="gloss{j}" PARENT_REF="tier0" LINGUISTIC_TYPE_REF="gloss"><ANNOTATION>'
                    f'<REF_ANNOTATION ANNOTATION_ID="r{j}" ANNOTATION_REF="a0"><ANNOTATION_VALUE>{escape(" ".join(x))}'
                    "</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION></TIER>")
    schema = ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' if data.draw(st.booleans()) else ""
    text = (f'<?xml version="1.0" encoding="UTF-8"?>{model.newline}<ANNOTATION_DOCUMENT{schema} FORMAT="3.0">'
            f'<HEADER TIME_UNITS="milliseconds"/><TIME_ORDER>{"".join(slots)}</TIME_ORDER>'
            + model.newline.join(body) + "</ANNOTATION_DOCUMENT>")
    _check(tmp_path_factory.mktemp("e"), model, "s.eaf", text)
