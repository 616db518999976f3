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
from coder.io._common import build_session, read_text as decode_file
from coder.session import Session


def sessions_from_whisper(data: dict, path: Path, session_id: str | None = None) -> list[Session]:
    """Sessions from parsed Whisper/WhisperX JSON."""
    units, skipped = [], []
    for i, seg in enumerate(data["segments"]):
        if not isinstance(seg, dict):
            raise InputError(path, f"segment {i} is not an object")
        text = str(seg.get("text") or "").strip()
        if not text:
            skipped.append((i, "empty text"))
            continue
        speaker = seg.get("speaker")
        if speaker is None and seg.get("words"):
            speakers = Counter(w.get("speaker") for w in seg["words"] if isinstance(w, dict) and w.get("speaker"))
            speaker = speakers.most_common(1)[0][0] if speakers else None
        if speaker is None:
            raise InputError(path, f"segment {i} has no speaker: transcript is not diarised "
                             "(run WhisperX diarisation, or convert to a speaker-prefixed format)")
        try:
            start, end = float(seg["start"]), float(seg["end"])
        except (KeyError, TypeError, ValueError):
            raise InputError(path, f"segment {i} has no numeric start/end") from None
        units.append({"speaker": str(speaker), "start": start, "end": end, "text": text, "line": None,
                      "segment": i})
    meta = {"skipped": skipped}
    if data.get("language"):
        meta["language"] = data["language"]
    return [build_session(session_id or path.stem.removesuffix(".whisper"), units, meta=meta, path=path)]


def read_whisper(path: str | Path, *, session_id: str | None = None) -> list[Session]:
    """Read Whisper / WhisperX JSON output (diarised) into one session."""
    path = Path(path)
    try:
        data = json.loads(decode_file(path))
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
