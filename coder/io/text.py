"""Speaker-prefixed plain text (``T: …``, ``Therapist: …``, ``Anna [00:01:23]: …``) and Word files.

Layout understood
-----------------
- one turn per line, starting with a speaker label and a colon: ``T:``, ``Client:``,
  ``Dr. Lee:``; a timestamp may stand before the label, after it, or after the colon
  (``[00:01:23]``, ``(01:23)``, ``00:01:23.5``);
- a line ``Name  00:01:23`` alone (as Otter writes it) opens a turn whose text follows;
- lines without a label continue the previous turn; blank lines are ignored;
- lines starting with ``#`` are comments (file headers); text before the first turn is skipped
  and counted.
A label counts as a speaker when it opens at least two lines, is a role word (``T``,
``Therapist``, ``Patient``…) or heads a ``Name  0:03`` line, so ``Note: …`` inside a turn stays text.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from coder.errors import InputError
from coder.io._common import build_session, parse_time, read_bytes, read_text as decode_file, split_prefix
from coder.roles import role_from_label
from coder.session import Session


def parse_prefixed_lines(lines: list[str], path: Path) -> tuple[list[dict], list[tuple[int, str]]]:
    """Units (one per speaker-prefixed line plus its continuations) and skipped ``(line, reason)``."""
    candidates: Counter[str] = Counter()
    headers: set[str] = set()
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            hit = split_prefix(line)
            if hit:
                candidates[hit[0]] += 1
                if hit[1] and not hit[2]:  # "Name  0:03" alone on its line
                    headers.add(hit[0])
    speakers = {s for s, n in candidates.items() if n >= 2 or role_from_label(s)} | headers
    units: list[dict] = []
    skipped: list[tuple[int, str]] = []
    for no, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            skipped.append((no, "comment"))
            continue
        hit = split_prefix(line)
        if hit and hit[0] in speakers:
            speaker, stamp, text = hit
            units.append({"speaker": speaker, "start": parse_time(stamp, path=path, line=no), "end": None,
                          "text": text, "line": no})
        elif units:
            units[-1]["text"] = (units[-1]["text"] + " " + stripped).strip()
        else:
            skipped.append((no, "text before the first speaker line"))
    if not units:
        first = next((i for i, l in enumerate(lines, 1) if l.strip() and not l.lstrip().startswith("#")), None)
        raise InputError(path, "no speaker-prefixed lines found (expected e.g. 'T: …' or 'Therapist: …')", line=first)
    kept = []
    for unit in units:
        if unit["text"]:
            kept.append(unit)
        else:
            skipped.append((unit["line"], "speaker label with no text"))
    return kept, skipped


def _session_from_lines(lines: list[str], path: Path, session_id: str | None) -> list[Session]:
    units, skipped = parse_prefixed_lines(lines, path)
    sid = session_id or path.stem
    return [build_session(sid, units, meta={"skipped": skipped}, path=path)]


def read_text(path: str | Path, *, session_id: str | None = None) -> list[Session]:
    """Read a speaker-prefixed plain-text transcript (one session per file).

    Parameters
    ----------
    path : path-like
        The ``.txt`` file (UTF-8, UTF-8 with BOM or cp1252).
    session_id : str, optional
        Defaults to the file name without extension.
    """
    path = Path(path)
    return _session_from_lines(decode_file(path).splitlines(), path, session_id)


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
    lines = [p.text for p in document.paragraphs]
    return _session_from_lines(lines, path, session_id)


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
