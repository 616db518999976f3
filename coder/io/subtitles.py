"""WebVTT and SRT captions: cue times kept; speaker from ``<v Name>`` tags or ``Name:`` prefixes.

Zoom, Otter and Teams write ``Name: text`` inside the cue; others use ``<v Name>`` voice tags.
A cue may hold several speakers (``<v A>…</v> <v B>…``, or a later line ``B: …`` with a name
that opens cues elsewhere in the file); each becomes its own unit with the cue's times. A cue
with no speaker continues the previous speaker (a long turn split over several cues); a file
whose first cue has no speaker is refused. A cue time that is no time (``00:00:75.000``) is an
error naming its line, never a dropped cue; ``NOTE`` blocks are skipped and counted with their
words; text after a blank line inside a cue is kept as part of that cue.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from coder.errors import InputError
from coder.io._common import MAX_SECONDS, LABEL, build_session, clean, skip, split_lines
from coder.io._common import read_text as decode_file
from coder.session import Session

_NAME_PREFIX = re.compile(rf"^(?P<speaker>{LABEL})\s*[:：](?:\s+(?P<text>.*)|$)", re.S)
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?(?:\s+([^>]*))?>", re.I)
_TAGS = re.compile(r"</?(?:v|c|i|b|u|s|ruby|rt|lang|font|span)(?:[.\s][^>]*)?>|<\d{1,3}:\d{2}(?::\d{2})?[.,]\d{1,3}>"
                   r"|\{\\[^}]*\}", re.I)
_TIME = re.compile(r"^(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?$")
_TIMING = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)(?:\s.*)?$")
_WHAT = {"WebVTT": "'hh:mm:ss.mmm --> hh:mm:ss.mmm'", "SRT": "'hh:mm:ss,mmm --> hh:mm:ss,mmm'"}


class _Cue:
    def __init__(self, start: float, end: float, line: int):
        self.start, self.end, self.line = start, end, line
        self.payload: list[tuple[int, str]] = []


def _cue_time(value: str, path: Path, line: int, fmt: str) -> float:
    m = _TIME.match(value)
    if not m:
        raise InputError(path, f"malformed {fmt}: expected {_WHAT[fmt]}, found {value[:30]!r}", line=line)
    h, mnt, s, ms = m.groups()
    if int(mnt) >= 60 or int(s) >= 60:
        raise InputError(path, f"malformed {fmt}: cue time {value[:30]!r} has minutes or seconds over 59", line=line)
    seconds = int(h or 0) * 3600 + int(mnt) * 60 + int(s) + (int(ms) / 10 ** len(ms) if ms else 0.0)
    if seconds > MAX_SECONDS:
        raise InputError(path, f"absurd timestamp {value[:30]!r} (beyond 24 hours)", line=line)
    return seconds


def _timing(line: str, no: int, path: Path, fmt: str) -> _Cue:
    m = _TIMING.match(line)
    if not m:
        raise InputError(path, f"malformed {fmt}: expected {_WHAT[fmt]}, found {line.strip()[:40]!r}", line=no)
    return _Cue(_cue_time(m.group(1), path, no, fmt), _cue_time(m.group(2), path, no, fmt), no)


def _blocks(lines: list[str]) -> list[list[tuple[int, str]]]:
    blocks: list[list[tuple[int, str]]] = [[]]
    for no, line in enumerate(lines, start=1):
        if line.strip():
            blocks[-1].append((no, line))
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def _parse_cues(blocks: list[list[tuple[int, str]]], path: Path, fmt: str) -> tuple[list[_Cue], list[tuple]]:
    """Cues with their payload lines; ``NOTE`` blocks (WebVTT) as skips."""
    cues: list[_Cue] = []
    skipped: list[tuple] = []
    for block in blocks:
        first = block[0][1].strip()
        if fmt == "WebVTT" and "-->" not in first:
            word = first.split()[0]
            if word == "NOTE":
                skipped.append(skip(block[0][0], "comment", " ".join(l for _, l in block)[4:]))
                continue
            if word in ("STYLE", "REGION") and len(first.split()) == 1:
                continue  # CSS and region settings: no words of the session
        timed = [k for k, (_, line) in enumerate(block) if "-->" in line]
        if not timed or timed[0] > 1:
            if fmt == "SRT" and first.isdigit():
                no, line = block[1] if len(block) > 1 else block[0]
                raise InputError(path, f"malformed SRT: expected {_WHAT[fmt]}, found {line.strip()[:40]!r}", line=no)
            if not cues:
                raise InputError(path, f"malformed {fmt}: text outside a cue (expected {_WHAT[fmt]} before it)",
                                 line=block[0][0])
            cues[-1].payload += block[: timed[0] if timed else None]  # a blank line inside a cue's text
            block = block[timed[0]:] if timed else []
        elif timed[0] == 1 and fmt == "SRT" and not first.isdigit():
            raise InputError(path, f"malformed SRT: expected a cue number, found {first[:30]!r}", line=block[0][0])
        elif timed[0] == 1:
            block = block[1:]  # the cue identifier (SRT: its number)
        for k, (no, line) in enumerate(block):
            if "-->" in line:
                cue = _timing(line, no, path, fmt)
                if cues and cues[-1].payload and k and cues[-1].payload[-1][1].strip().isdigit():
                    cues[-1].payload.pop()  # the number of a cue not set off by a blank line
                cues.append(cue)
            else:
                cues[-1].payload.append((no, line))
    return cues, skipped


def _label(row: str) -> tuple[str | None, str]:
    m = _NAME_PREFIX.match(row.strip())
    if m and len(m.group("speaker").split()) <= 4:
        return m.group("speaker").strip(), m.group("text") or ""
    return None, row


def _pieces(cue: _Cue, fmt: str, names: set[str] | None) -> list[tuple[str | None, str, int]]:
    """``(speaker or None, text, line)`` for each speaker's part of a cue.

    A part starts at a voice tag, at a ``Name:`` prefix on the cue's first line, or (with
    ``names``) at a ``Name:`` prefix on any line whose name is a speaker elsewhere in the file.
    """
    raw = "\n".join(line for _, line in cue.payload)
    line = cue.payload[0][0] if cue.payload else cue.line
    parts = _VOICE.split(raw)  # [text, voice, text, voice, text, ...]
    out: list[tuple[str | None, str, int]] = []
    for k in range(0, len(parts), 2):
        voice = (" ".join(clean(parts[k - 1] or "").split()) or None) if k else None
        text = _TAGS.sub("", parts[k])
        if fmt == "WebVTT":
            text = html.unescape(text)
        speaker, current = voice, []
        for i, row in enumerate(clean(text).split("\n")):
            label, rest = _label(row)
            if label and ((i == 0 and voice in (None, label)) or (names is not None and label in names)):
                if any(c.strip() for c in current):
                    out.append((speaker, " ".join(current), line))
                speaker, current = label, [rest]
            else:
                current.append(row)
        if any(c.strip() for c in current):
            out.append((speaker, " ".join(current), line))
    return out


def _units_from_cues(cues: list[_Cue], path: Path, fmt: str) -> list[dict]:
    names = {p[0] for cue in cues for p in _pieces(cue, fmt, None) if p[0]}
    units: list[dict] = []
    speaker = None
    for cue in cues:
        for who, text, line in _pieces(cue, fmt, names):
            if not text.strip():
                continue
            speaker = who or speaker
            if speaker is None:
                raise InputError(path, "cue has no speaker: expected '<v Name>' or 'Name: text'", line=line)
            units.append({"speaker": speaker, "start": cue.start, "end": cue.end, "text": text, "line": line})
    return units


def read_vtt(path: str | Path, *, session_id: str | None = None) -> list[Session]:
    """Read a WebVTT transcript (one session per file)."""
    path = Path(path)
    lines = split_lines(decode_file(path))
    blocks = _blocks(lines)
    if not blocks or not blocks[0][0][1].lstrip().startswith("WEBVTT"):
        raise InputError(path, "not a WebVTT file: the first line must be 'WEBVTT'",
                         line=blocks[0][0][0] if blocks else 1)
    header = blocks[0]
    timed = next((k for k, (_, line) in enumerate(header) if "-->" in line), None)
    blocks = ([header[timed - 1 if timed > 1 else timed:]] if timed else []) + blocks[1:]
    cues, skipped = _parse_cues(blocks, path, "WebVTT")
    if not cues:
        raise InputError(path, "no cues found")
    units = _units_from_cues(cues, path, "WebVTT")
    return [build_session(session_id or path.stem, units, meta={"skipped": skipped}, path=path)]


def read_srt(path: str | Path, *, session_id: str | None = None) -> list[Session]:
    """Read an SRT transcript with ``Name: text`` (or ``<v Name>``) speakers in its cues."""
    path = Path(path)
    cues, skipped = _parse_cues(_blocks(split_lines(decode_file(path))), path, "SRT")
    if not cues:
        raise InputError(path, "no subtitle cues found")
    units = _units_from_cues(cues, path, "SRT")
    return [build_session(session_id or path.stem, units, meta={"skipped": skipped}, path=path)]


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
