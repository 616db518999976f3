"""Shared pieces of the readers: decoding, cleaning, word counts, timestamps and speaker prefixes.

Word accounting: every reader keeps each word of its input in an utterance or records it in a
skip ``(line, reason, words)`` in ``session.meta["skipped"]``; the pipeline sums the skips by
reason and the summary names them. A word is a whitespace-separated token after
:func:`clean` (so zero-width characters and byte-order marks are no words of their own).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

from coder.errors import InputError
from coder.session import Session, Utterance

#: Timestamps beyond this many seconds (24 h) are taken as an error in the file, not a session.
MAX_SECONDS = 24 * 3600.0

#: Invisible characters removed from text and labels: zero-width space, word joiner, BOM, soft
#: hyphen, direction marks and embeddings. (Zero-width (non-)joiners are kept: they spell words.)
INVISIBLE = "\u200b\u2060\ufeff\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_INVISIBLE_RE = re.compile(f"[{INVISIBLE}]")

# seconds may carry a stray leading zero ("00:09:025", seen in AnnoMI): read as 25 when below 60
_TIME = re.compile(r"^(?:(\d{1,2}):)?(\d{1,2}):(0?\d{1,2}(?:[.,]\d{1,3})?)$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def clean(text: str) -> str:
    """``text`` in NFC with the :data:`INVISIBLE` characters removed (nothing else changes)."""
    return unicodedata.normalize("NFC", _INVISIBLE_RE.sub("", text))


def count_words(text: object) -> int:
    """Words in ``text``: whitespace-separated tokens after :func:`clean`."""
    return len(clean(str(text)).split()) if text is not None else 0


def skip(line: int | None, reason: str, text: object = "") -> tuple[int | None, str, int]:
    """A skip record ``(line, reason, words)``: the line (or index) skipped, why, and its word count."""
    return (line, reason, count_words(text))


def split_lines(text: str) -> list[str]:
    """Lines split at ``\\r\\n``, ``\\r`` or ``\\n`` only, so numbers match what an editor shows."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def read_bytes(path: Path) -> bytes:
    """The file's bytes; errors for a missing, empty or unreadable file."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a folder, not a file") from None
    except OSError as err:
        raise InputError(path, f"cannot read: {err.strerror}") from None
    if not data.strip():
        raise InputError(path, "empty file")
    return data


def looks_binary(data: bytes) -> bool:
    """True for bytes no transcript would hold: NULs, or many control characters."""
    if b"\x00" in data:
        return True
    head = data[:8192]
    control = sum(b < 32 and b not in (9, 10, 12, 13) for b in head)
    return control > len(head) * 0.05


_BOMS = [(codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
         (codecs.BOM_UTF8, "utf-8", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
         (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16")]


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le``/``-be`` when the bytes look like UTF-16 text with no BOM (NULs in every other byte)."""
    head = data[:4096]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _control_share(text: str) -> float:
    head = text[:8192]
    return sum(ord(c) < 32 and c not in "\t\n\f\r" for c in head) / max(1, len(head))


def decode(data: bytes, path: Path) -> str:
    """Text from a transcript's bytes: a BOM's encoding (UTF-8/16/32), BOM-less UTF-16, UTF-8, else cp1252.

    Raises
    ------
    InputError
        For bytes that are no text in any of these encodings, naming what they are.
    """
    encoding, name = None, None
    for bom, enc, label in _BOMS:
        if data.startswith(bom):
            encoding, name, data = enc, label, data[len(bom):]
            break
    if encoding is None and (guess := _utf16_without_bom(data)):
        encoding, name = guess, "UTF-16 (no byte-order mark)"
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as err:
            line = data[: err.start].decode(encoding, "replace").count("\n") + 1
            raise InputError(path, f"looks like {name} text but is not valid {name}", line=line) from None
        if "\x00" in text or _control_share(text) > 0.05:
            raise InputError(path, f"binary file (control characters in its {name} text), not a text transcript")
        return text
    if looks_binary(data):
        what = "NUL bytes" if b"\x00" in data else "control bytes"
        raise InputError(path, f"binary file ({what}, and no UTF-16 or UTF-32 byte-order mark), not a text transcript")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(path, "cannot decode as UTF-8 or cp1252", line=line) from None


def read_text(path: Path) -> str:
    """Decode a text file (see :func:`decode`)."""
    return decode(read_bytes(path), path)


def parse_time(value: object, *, path: Path | None = None, line: int | None = None,
               where: str = "") -> float | None:
    """Seconds from ``hh:mm:ss[.mmm]``, ``mm:ss`` or a plain number; None for blank.

    Raises
    ------
    InputError
        For text that is no time, or a time that is negative or beyond 24 hours; ``where``
        (e.g. ``"session s1 utterance 3: "``) is put before the message.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(path, f"{where}not a timestamp: {str(value)[:30]!r} ({type(value).__name__})", line=line)
    if isinstance(value, (int, float)):
        seconds = float(value)
        if seconds != seconds:  # NaN from pandas
            return None
    else:
        text = value.strip().strip("[]()")
        if not text or text.lower() in {"nan", "n/a", "none"}:
            return None
        m = _TIME.match(text)
        if m:
            h, mnt, s = m.groups()
            secs = float(s.replace(",", "."))
            if int(mnt) >= 60 or secs >= 60:
                raise InputError(path, f"{where}not a timestamp: {text[:30]!r} (minutes or seconds over 59)",
                                 line=line)
            seconds = int(h or 0) * 3600 + int(mnt) * 60 + secs
        else:
            try:
                seconds = float(text)
            except ValueError:
                raise InputError(path, f"{where}not a timestamp: {text[:30]!r}", line=line) from None
            if seconds != seconds:
                raise InputError(path, f"{where}not a timestamp: {text[:30]!r}", line=line)
    if not 0 <= seconds <= MAX_SECONDS:
        raise InputError(path, f"{where}absurd timestamp {value!r} (outside 0 to 24 hours)", line=line)
    return seconds


def check_times(session: Session, path: Path) -> None:
    """Reject an utterance that ends before it starts, or times that run back by over a minute."""
    last = None
    for u in session.utterances:
        line = u.meta.get("line")
        if u.start is not None and u.end is not None and u.end < u.start:
            raise InputError(path, f"absurd timestamp: ends ({u.end:g}s) before it starts ({u.start:g}s)", line=line)
        if u.start is not None:
            if last is not None and u.start < last - 60:
                raise InputError(
                    path, f"absurd timestamp: {u.start:g}s comes after {last:g}s (times run backwards)", line=line
                )
            last = u.start if last is None else max(last, u.start)


def build_session(session_id: str, units: list[dict], *, meta: dict, path: Path) -> Session:
    """Make a Session from reader units (dicts with speaker, text, start, end, line, …).

    Text and speaker are :func:`clean`-ed; a unit whose text is then empty is skipped and
    recorded in ``meta["skipped"]`` (which the caller passes in, possibly already holding skips).
    """
    skipped = meta.setdefault("skipped", [])
    utts = []
    for i, unit in enumerate(units):
        text = " ".join(clean(str(unit["text"])).split())
        if not text:
            skipped.append(skip(unit.get("line"), "empty text"))
            continue
        speaker = " ".join(clean(str(unit["speaker"])).split())
        if not speaker:
            raise InputError(path, "empty speaker", line=unit.get("line"))
        extra = {k: v for k, v in unit.items() if k not in _UNIT_KEYS}
        utts.append(
            Utterance(
                session_id=str(session_id),
                utterance_id=str(unit["utterance_id"]) if unit.get("utterance_id") is not None else str(i),
                turn_id=int(unit["turn_id"]) if unit.get("turn_id") is not None else -1,
                speaker=speaker,
                role=unit.get("role"),
                start=unit.get("start"),
                end=unit.get("end"),
                text=text,
                codes=list(unit.get("codes") or []),
                meta=extra,
            )
        )
    if not utts:
        raise InputError(path, "no utterances with text found")
    session = Session(id=str(session_id), utterances=utts, meta={"source": str(path), **meta})
    check_times(session, path)
    return session


_UNIT_KEYS = {"utterance_id", "turn_id", "speaker", "role", "start", "end", "text", "codes"}

# --- speaker-prefixed lines (plain text, Word, and cue text of captions) ------------------

#: A speaker label: starts with a letter of any script, then up to 39 word characters, dots,
#: apostrophes, hyphens, spaces or zero-width (non-)joiners.
LABEL = r"[^\W\d_][\w.'’\-\u200c\u200d ]{0,39}?"
_COLON = r"[:：]"
_STAMP = r"[\[(]?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?[\])]?"
# after the colon only a bracketed or hh:mm:ss stamp is a time: "T: 10:30 suits me" keeps "10:30" as text
_STAMP_AFTER = r"(?:[\[(]\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?[\])]|\d{1,2}:\d{2}:\d{2}(?:[.,]\d{1,3})?)"
_PREFIX = re.compile(
    rf"^\s*(?:(?P<t1>{_STAMP})\s+)?"
    rf"(?P<speaker>{LABEL})"
    rf"\s*(?:(?P<t2>{_STAMP})\s*)?{_COLON}(?:\s*(?P<t3>{_STAMP_AFTER})(?=\s|$))?\s*(?P<text>.*)$", re.S
)
_HEADER = re.compile(rf"^\s*(?P<speaker>{LABEL})\s+(?P<t>{_STAMP})\s*$")


def split_prefix(line: str) -> tuple[str, str | None, str] | None:
    """``(speaker, timestamp or None, text)`` for a speaker-prefixed line (already :func:`clean`-ed), else None."""
    m = _HEADER.match(line)
    if m and len(m.group("speaker").split()) <= 4:
        return m.group("speaker").strip(), m.group("t"), ""
    m = _PREFIX.match(line)
    if m and len(m.group("speaker").split()) <= 4:
        stamp = m.group("t1") or m.group("t2") or m.group("t3")
        return m.group("speaker").strip(), stamp, m.group("text").strip()
    return None
