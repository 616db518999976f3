"""WebVTT and SRT captions: cue times kept; speaker from ``<v Name>`` tags or ``Name:`` prefixes.

Zoom, Otter and Teams write ``Name: text`` inside the cue; webvtt-py only reads ``<v>``
tags, so both are handled here. A cue with no speaker continues the previous speaker (a long
turn split over several cues); a file whose first cue has no speaker is refused.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from coder.errors import InputError
from coder.io._common import build_session, parse_time, read_text as decode_file
from coder.session import Session

_NAME_PREFIX = re.compile(r"^(?P<speaker>[A-Za-z][\w.'\- ]{0,39}?)\s*:\s+(?P<text>.+)$", re.S)
_VOICE = re.compile(r"<v(?:\.[\w.]+)?\s+([^>]+)>", re.I)
_TAGS = re.compile(r"</?[^>]+>")


def _speaker_and_text(raw: str, voice: str | None) -> tuple[str | None, str]:
    text = _TAGS.sub("", raw).replace("\n", " ").strip()
    m = _NAME_PREFIX.match(text)
    if m and len(m.group("speaker").split()) <= 4:
        return (voice or m.group("speaker").strip()), m.group("text").strip()
    return voice, text


def _units_from_cues(cues: list[tuple[float, float, str, str | None, int]], path: Path) -> list[dict]:
    units: list[dict] = []
    speaker = None
    for start, end, raw, voice, line in cues:
        who, text = _speaker_and_text(raw, voice)
        if not text:
            continue
        speaker = who or speaker
        if speaker is None:
            raise InputError(path, "cue has no speaker: expected '<v Name>' or 'Name: text'", line=line)
        units.append({"speaker": speaker, "start": start, "end": end, "text": text, "line": line})
    return units


def read_vtt(path: str | Path, *, session_id: str | None = None) -> list[Session]:
    """Read a WebVTT transcript (one session per file)."""
    import webvtt
    from webvtt.errors import MalformedFileError

    path = Path(path)
    text = decode_file(path)
    if not text.lstrip().startswith("WEBVTT"):
        raise InputError(path, "not a WebVTT file: the first line must be 'WEBVTT'", line=1)
    bad = _bad_cue_line(text)
    if bad:  # webvtt-py drops such cues without a word
        raise InputError(path, "malformed WebVTT: expected 'hh:mm:ss.mmm --> hh:mm:ss.mmm'", line=bad)
    try:
        captions = webvtt.from_buffer(io.StringIO(text))
    except MalformedFileError as err:
        raise InputError(path, f"malformed WebVTT: {err}", line=_bad_cue_line(text)) from None
    lines = _cue_lines(text)
    cues = []
    for k, c in enumerate(captions):
        voice = getattr(c, "voice", None)
        m = _VOICE.search(getattr(c, "raw_text", "") or "")
        voice = voice or (m.group(1).strip() if m else None)
        cues.append((parse_time(c.start, path=path), parse_time(c.end, path=path), c.raw_text if hasattr(c, "raw_text") else c.text,
                     voice, lines[k] if k < len(lines) else None))
    units = _units_from_cues(cues, path)
    return [build_session(session_id or path.stem, units, meta={"skipped": []}, path=path)]


def _cue_lines(text: str) -> list[int]:
    return [i for i, line in enumerate(text.splitlines(), start=1) if "-->" in line]


def _bad_cue_line(text: str) -> int | None:
    ts = re.compile(r"^\s*(\d+:)?\d{2}:\d{2}[.,]\d{3}\s+-->\s+(\d+:)?\d{2}:\d{2}[.,]\d{3}")
    for i, line in enumerate(text.splitlines(), start=1):
        if "-->" in line and not ts.match(line):
            return i
    return None


def read_srt(path: str | Path, *, session_id: str | None = None) -> list[Session]:
    """Read an SRT transcript with ``Name: text`` (or ``<v Name>``) speakers in its cues."""
    import pysrt

    path = Path(path)
    text = decode_file(path)
    bad = _bad_srt_line(text)
    if bad:
        raise InputError(path, f"malformed SRT: {bad[1]}", line=bad[0])
    items = pysrt.from_string(text, error_handling=pysrt.ERROR_RAISE)
    lines = _cue_lines(text)
    cues = []
    for k, item in enumerate(items):
        m = _VOICE.search(item.text)
        cues.append((item.start.ordinal / 1000, item.end.ordinal / 1000, item.text,
                     m.group(1).strip() if m else None, lines[k] if k < len(lines) else None))
    if not cues:
        raise InputError(path, "no subtitle cues found")
    units = _units_from_cues(cues, path)
    return [build_session(session_id or path.stem, units, meta={"skipped": []}, path=path)]


def _bad_srt_line(text: str) -> tuple[int, str] | None:
    ts = re.compile(r"^\s*\d+:\d{2}:\d{2}[,.]\d{1,3}\s+-->\s+\d+:\d{2}:\d{2}[,.]\d{1,3}\s*$")
    block_start = True
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            block_start = True
            continue
        if block_start:
            if not line.strip().isdigit():
                return i, f"expected a cue number, found {line.strip()[:30]!r}"
            block_start = False
            expect_time = True
            continue
        if expect_time:
            if not ts.match(line):
                return i, f"expected 'hh:mm:ss,mmm --> hh:mm:ss,mmm', found {line.strip()[:40]!r}"
            expect_time = False
    return None


def _stamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"


def _require_times(sessions: list[Session], what: str) -> None:
    if len(sessions) != 1:
        raise ValueError(f"{what} holds one session per file")
    if any(u.start is None or u.end is None for u in sessions[0].utterances):
        raise ValueError(f"{what} needs start and end times on every utterance")


def write_vtt(sessions: list[Session], path: str | Path) -> None:
    """Write one session as WebVTT with ``<v Speaker>`` voice tags."""
    _require_times(sessions, "WebVTT")
    out = ["WEBVTT", ""]
    for u in sessions[0].utterances:
        out += [f"{_stamp(u.start, '.')} --> {_stamp(u.end, '.')}", f"<v {u.speaker}>{u.text}", ""]
    Path(path).write_text("\n".join(out), encoding="utf-8")


def write_srt(sessions: list[Session], path: str | Path) -> None:
    """Write one session as SRT with ``Speaker: text`` cues."""
    _require_times(sessions, "SRT")
    out = []
    for k, u in enumerate(sessions[0].utterances, start=1):
        out += [str(k), f"{_stamp(u.start, ',')} --> {_stamp(u.end, ',')}", f"{u.speaker}: {u.text}", ""]
    Path(path).write_text("\n".join(out), encoding="utf-8")
