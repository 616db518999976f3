"""Whisper and WhisperX JSON: ``segments`` with ``start``, ``end``, ``text`` and, when diarised,
``speaker`` (WhisperX writes ``SPEAKER_00``…; segment-level or, failing that, the most common
word-level speaker). Undiarised Whisper output has no speakers and is refused: run diarisation
(e.g. WhisperX) first.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from coder.errors import InputError
from coder.io._common import build_session, parse_time, read_text as decode_file, skip
from coder.session import Session


def _speaker(value: object, path: Path, i: int) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(path, f"segment {i}: speaker must be a string, not {type(value).__name__}")
    return str(value)


def sessions_from_whisper(data: dict, path: Path, session_id: str | None = None) -> list[Session]:
    """Sessions from parsed Whisper/WhisperX JSON."""
    units, skipped = [], []
    for i, seg in enumerate(data["segments"]):
        if not isinstance(seg, dict):
            raise InputError(path, f"segment {i} is not an object")
        text = seg.get("text")
        if text is not None and not isinstance(text, str):
            raise InputError(path, f"segment {i}: text must be a string, not {type(text).__name__}")
        if not (text or "").strip():
            skipped.append(skip(i, "empty text"))
            continue
        speaker = _speaker(seg.get("speaker"), path, i)
        words = seg.get("words")
        if speaker is None and isinstance(words, list):
            speakers = Counter(_speaker(w.get("speaker"), path, i) for w in words if isinstance(w, dict))
            speakers.pop(None, None)
            speaker = speakers.most_common(1)[0][0] if speakers else None
        if speaker is None:
            raise InputError(path, f"segment {i} has no speaker: transcript is not diarised "
                             "(run WhisperX diarisation, or convert to a speaker-prefixed format)")
        start = parse_time(_number(seg.get("start")), path=path, where=f"segment {i}: start: ")
        end = parse_time(_number(seg.get("end")), path=path, where=f"segment {i}: end: ")
        if start is None or end is None:
            raise InputError(path, f"segment {i} has no numeric start/end")
        units.append({"speaker": speaker, "start": start, "end": end, "text": text, "line": None,
                      "segment": i})
    meta = {"skipped": skipped}
    if isinstance(data.get("language"), str):
        meta["language"] = data["language"]
    return [build_session(session_id or path.stem.removesuffix(".whisper"), units, meta=meta, path=path)]


def _number(value: object) -> object:
    return None if isinstance(value, bool) or not isinstance(value, (int, float)) else value


def read_whisper(path: str | Path, *, session_id: str | None = None) -> list[Session]:
    """Read Whisper / WhisperX JSON output (diarised) into one session."""
    path = Path(path)
    try:
        data = json.loads(decode_file(path))
    except RecursionError:
        raise InputError(path, "invalid JSON: nested too deeply") from None
    except json.JSONDecodeError as err:
        raise InputError(path, f"invalid JSON: {err.msg} (column {err.colno})", line=err.lineno) from None
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise InputError(path, "not Whisper output: no top-level 'segments' list")
    return sessions_from_whisper(data, path, session_id)


def write_whisper(sessions: list[Session], path: str | Path) -> None:
    """Write one session as WhisperX-style JSON (segments with speaker)."""
    if len(sessions) != 1:
        raise ValueError("Whisper JSON holds one session per file")
    segs = [{"id": i, "start": u.start, "end": u.end, "text": u.text, "speaker": u.speaker}
            for i, u in enumerate(sessions[0].utterances)]
    Path(path).write_text(json.dumps({"segments": segs}, ensure_ascii=False, indent=1), encoding="utf-8")
