"""Speaker-prefixed plain text (``T: …``, ``Therapist: …``, ``Anna [00:01:23]: …``) and Word files.

Layout understood
-----------------
- one turn per line, starting with a speaker label and a colon: ``T:``, ``Client:``,
  ``Dr. Lee:``, ``Émile:``, ``SPEAKER_00:``; a timestamp may stand before the label, after it,
  or after the colon (``[00:01:23]``, ``(01:23)``, ``00:01:23.5``);
- a line ``Name  00:01:23`` alone (as Otter writes it) opens a turn whose text follows;
- lines without a label continue the previous turn; blank lines are ignored;
- lines starting with ``#`` are comments (file headers); text before the first turn is skipped;
  both are counted, with their words, in the summary.
A label counts as a speaker when it opens at least two lines, is a role word (``T``,
``Therapist``, ``Patient``…) or a diarisation label (``Speaker 2``), heads a ``Name  0:03``
line, or looks like a name (capitalised, up to three words, not a word such as ``Note`` or
``So`` that opens ordinary sentences), so a third person who speaks once (``Partner: …``) is
a speaker while ``Note: …`` inside a turn stays text. Zero-width characters and byte-order
marks are removed before labels are read.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from coder.errors import InputError
from coder.io._common import build_session, clean, parse_time, read_bytes, skip, split_lines, split_prefix
from coder.io._common import read_text as decode_file
from coder.roles import is_generic_label, role_from_label
from coder.session import Session

#: First words of ``Word: …`` lines that open ordinary sentences or notes, not a speaker's turn.
NOT_SPEAKERS = {
    "a", "about", "also", "an", "and", "answer", "anyway", "as", "aside", "at", "basically", "because", "but",
    "by", "caution", "comment", "comments", "date", "definition", "e.g", "edit", "eg", "example", "except",
    "finally", "first", "for", "from", "he", "her", "here", "his", "honestly", "how", "i", "i.e", "ie", "if",
    "important", "in", "it", "like", "listen", "location", "look", "maybe", "my", "n.b", "nb", "next", "no",
    "not", "note", "notes", "now", "oh", "ok", "okay", "on", "or", "our", "p.s", "plus", "ps", "question",
    "quote", "re", "reason", "remember", "reminder", "result", "second", "see", "she", "so", "source", "step",
    "subject", "summary", "that", "the", "their", "then", "there", "they", "third", "this", "time", "tip",
    "title", "to", "todo", "topic", "update", "warning", "we", "well", "what", "when", "where", "which", "who",
    "why", "with", "yes", "you", "your",
    # header lines of transcript files
    "attendees", "audio", "case", "client id", "created", "date", "document", "duration", "file", "interview",
    "kind", "language", "length", "media", "participants", "present", "recorded", "recording", "session",
    "source", "speakers", "transcribed", "transcriber", "transcript", "transcription", "video",
}


def looks_like_name(label: str) -> bool:
    """True for a label that reads as a person's name: up to three capitalised words, no sentence opener."""
    words = label.replace("_", " ").split()
    if not 1 <= len(words) <= 3 or words[0].lower().rstrip(".") in NOT_SPEAKERS:
        return False
    return all(w[0].isupper() or not w[0].islower() for w in words)


def parse_prefixed_lines(lines: list[str], path: Path) -> tuple[list[dict], list[tuple]]:
    """Units (one per speaker-prefixed line plus its continuations) and skips ``(line, reason, words)``."""
    lines = [clean(line) for line in lines]
    candidates: Counter[str] = Counter()
    headers: set[str] = set()
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            hit = split_prefix(line)
            if hit:
                candidates[hit[0]] += 1
                if hit[1] and not hit[2]:  # "Name  0:03" alone on its line
                    headers.add(hit[0])
    speakers = {s for s, n in candidates.items()
                if n >= 2 or role_from_label(s) or is_generic_label(s) or looks_like_name(s)} | headers
    units: list[dict] = []
    skipped: list[tuple] = []
    for no, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            skipped.append(skip(no, "comment", stripped.lstrip("#")))
            continue
        hit = split_prefix(line)
        if hit and hit[0] in speakers:
            speaker, stamp, text = hit
            units.append({"speaker": speaker, "start": parse_time(stamp, path=path, line=no), "end": None,
                          "text": text, "line": no})
        elif units:
            units[-1]["text"] = (units[-1]["text"] + " " + stripped).strip()
        else:
            skipped.append(skip(no, "text before the first speaker line", stripped))
    if not units:
        first = next((i for i, l in enumerate(lines, 1) if l.strip() and not l.lstrip().startswith("#")), None)
        raise InputError(path, "no speaker-prefixed lines found (expected e.g. 'T: …' or 'Therapist: …')",
                         line=first)
    kept = []
    for unit in units:
        if unit["text"]:
            kept.append(unit)
        else:
            skipped.append(skip(unit["line"], "speaker label with no text"))
    return kept, skipped


def _session_from_lines(lines: list[str], path: Path, session_id: str | None,
                        skipped: list[tuple] | None = None) -> list[Session]:
    units, more = parse_prefixed_lines(lines, path)
    sid = session_id or path.stem
    return [build_session(sid, units, meta={"skipped": (skipped or []) + more}, path=path)]


def read_text(path: str | Path, *, session_id: str | None = None) -> list[Session]:
    """Read a speaker-prefixed plain-text transcript (one session per file).

    Parameters
    ----------
    path : path-like
        The ``.txt`` file (UTF-8 with or without BOM, UTF-16 or UTF-32 with BOM, or cp1252).
    session_id : str, optional
        Defaults to the file name without extension.
    """
    path = Path(path)
    return _session_from_lines(split_lines(decode_file(path)), path, session_id)


def write_text(sessions: list[Session], path: str | Path) -> None:
    """Write one session as ``[hh:mm:ss] Speaker: text`` lines, one per utterance."""
    if len(sessions) != 1:
        raise ValueError("plain text holds one session per file")
    lines = [f"# session: {sessions[0].id}"]
    for u in sessions[0].utterances:
        stamp = f"[{_clock(u.start)}] " if u.start is not None else ""
        lines.append(f"{stamp}{u.speaker}: {u.text}")
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_docx(path: str | Path, *, session_id: str | None = None) -> list[Session]:
    """Read a Word transcript whose paragraphs are speaker-prefixed, as labs type them."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    path = Path(path)
    read_bytes(path)
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as err:
        raise InputError(path, f"not a readable Word .docx file ({type(err).__name__})") from None
    except Exception as err:  # zipfile.BadZipFile and lxml errors from a corrupt package
        raise InputError(path, f"not a readable Word .docx file ({type(err).__name__})") from None
    return _session_from_lines(docx_lines(document), path, session_id)


def docx_lines(document) -> list[str]:
    """The document's text as lines, paragraphs and table rows in order.

    A table row of two filled cells reads as ``cell1: cell2`` (``Speaker | Text`` tables);
    other rows as their cells joined by spaces; merged cells count once; content controls are
    read in place.
    """
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    children = list(document.element.body.iterchildren())
    while children:
        child = children.pop(0)
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "sdt":  # a content control: its paragraphs and tables, in place
            content = [c for c in child.iterchildren() if c.tag.endswith("}sdtContent")]
            children[:0] = [c for box in content for c in box.iterchildren()]
        elif tag == "p":
            lines += split_lines(Paragraph(child, document).text)
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells, seen = [], set()
                for cell in row.cells:
                    if id(cell._tc) not in seen:
                        seen.add(id(cell._tc))
                        cells.append(" ".join(cell.text.split()))
                cells = [c for c in cells if c]
                lines.append(f"{cells[0]}: {cells[1]}" if len(cells) == 2 else " ".join(cells))
    return lines


def write_docx(sessions: list[Session], path: str | Path) -> None:
    """Write one session as a Word file, one speaker-prefixed paragraph per utterance."""
    import docx

    if len(sessions) != 1:
        raise ValueError("a Word transcript holds one session per file")
    document = docx.Document()
    for u in sessions[0].utterances:
        stamp = f"[{_clock(u.start)}] " if u.start is not None else ""
        document.add_paragraph(f"{stamp}{u.speaker}: {u.text}")
    document.save(str(path))


def _clock(seconds: float) -> str:
    whole = int(seconds)
    frac = seconds - whole
    text = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return text + (f".{round(frac * 1000):03d}" if round(frac * 1000) else "")
