"""Shared pieces of the readers: decoding, binary sniffing, timestamps and speaker prefixes."""

from __future__ import annotations

import re
from pathlib import Path

from coder.errors import InputError
from coder.session import Session, Utterance

#: Timestamps beyond this many seconds (24 h) are taken as an error in the file, not a session.
MAX_SECONDS = 24 * 3600.0

# seconds may carry a stray leading zero ("00:09:025", seen in AnnoMI): read as 25 when below 60
_TIME = re.compile(r"^(?:(\d{1,2}):)?(\d{1,2}):(0?\d{1,2}(?:[.,]\d{1,3})?)$")


def read_bytes(path: Path) -> bytes:
    """The file's bytes; errors for a missing, empty or binary file."""
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
    head = data[:8192]
    if b"\x00" in head:
        return True
    control = sum(b < 32 and b not in (9, 10, 12, 13) for b in head)
    return control > len(head) * 0.05


def read_text(path: Path) -> str:
    """Decode a text file as UTF-8 (with or without BOM), falling back to cp1252."""
    data = read_bytes(path)
    if looks_binary(data):
        raise InputError(path, "binary file, not a text transcript")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(path, "cannot decode as UTF-8 or cp1252", line=line) from None


def parse_time(value: object, *, path: Path | None = None, line: int | None = None) -> float | None:
    """Seconds from ``hh:mm:ss[.mmm]``, ``mm:ss`` or a plain number; None for blank.

    Raises
    ------
    InputError
        For text that is no time, or a time that is negative or beyond 24 hours.
    """
    if value is None:
        return None
    if isinstance(value, (int, float)):
        seconds = float(value)
        if seconds != seconds:  # NaN from pandas
            return None
    else:
        text = str(value).strip().strip("[]()")
        if not text or text.lower() in {"nan", "n/a", "none"}:
            return None
        m = _TIME.match(text)
        if m:
            h, mnt, s = m.groups()
            secs = float(s.replace(",", "."))
            if int(mnt) >= 60 or secs >= 60:
                raise InputError(path, f"not a timestamp: {text[:30]!r} (minutes or seconds over 59)", line=line)
            seconds = int(h or 0) * 3600 + int(mnt) * 60 + secs
        else:
            try:
                seconds = float(text)
            except ValueError:
                raise InputError(path, f"not a timestamp: {text[:30]!r}", line=line) from None
    if seconds < 0 or seconds > MAX_SECONDS:
        raise InputError(path, f"absurd timestamp {value!r} (outside 0 to 24 hours)", line=line)
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
    """Make a Session from reader units (dicts with speaker, text, start, end, line, …)."""
    if not units:
        raise InputError(path, "no utterances with text found")
    utts = []
    for i, unit in enumerate(units):
        extra = {k: v for k, v in unit.items() if k not in _UNIT_KEYS}
        utts.append(
            Utterance(
                session_id=session_id,
                utterance_id=str(unit["utterance_id"]) if unit.get("utterance_id") is not None else str(i),
                turn_id=int(unit["turn_id"]) if unit.get("turn_id") is not None else -1,
                speaker=str(unit["speaker"]).strip(),
                role=unit.get("role"),
                start=unit.get("start"),
                end=unit.get("end"),
                text=" ".join(str(unit["text"]).split()),
                codes=list(unit.get("codes") or []),
                meta=extra,
            )
        )
    session = Session(id=str(session_id), utterances=utts, meta={"source": str(path), **meta})
    check_times(session, path)
    return session


_UNIT_KEYS = {"utterance_id", "turn_id", "speaker", "role", "start", "end", "text", "codes"}

# --- speaker-prefixed lines (plain text and Word) -------------------------------------------

_STAMP = r"[\[(]?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?[\])]?"
_PREFIX = re.compile(
    rf"^\s*(?:(?P<t1>{_STAMP})\s+)?"
    r"(?P<speaker>[A-Za-z][\w.'\- ]{0,39}?)"
    rf"\s*(?:(?P<t2>{_STAMP})\s*)?:\s*(?:(?P<t3>{_STAMP})\s*)?(?P<text>.*)$"
)
_HEADER = re.compile(rf"^\s*(?P<speaker>[A-Za-z][\w.'\- ]{{0,39}}?)\s+(?P<t>{_STAMP})\s*$")


def split_prefix(line: str) -> tuple[str, str | None, str] | None:
    """``(speaker, timestamp or None, text)`` for a speaker-prefixed line, else None."""
    m = _HEADER.match(line)
    if m and len(m.group("speaker").split()) <= 4:
        return m.group("speaker").strip(), m.group("t"), ""
    m = _PREFIX.match(line)
    if m and len(m.group("speaker").split()) <= 4:
        stamp = m.group("t1") or m.group("t2") or m.group("t3")
        return m.group("speaker").strip(), stamp, m.group("text").strip()
    return None
