"""JSON and JSON Lines transcripts in the project's documented schema.

JSON Lines (``.jsonl``): one utterance (or turn) per line::

    {"session_id": "s1", "speaker": "T", "text": "What brings you in?", "start": 0.0, "end": 2.1}

Required: ``text`` and ``speaker`` (or ``role``). Optional: ``session_id`` (default: file
name), ``utterance_id`` (present on every line → the file is taken as already segmented),
``turn_id``, ``role``, ``start``/``end`` (seconds or ``hh:mm:ss``), ``codes`` (list or
``;``-joined string), ``meta`` (object). Other keys go to the utterance's metadata.

JSON (``.json``): one session object, a list of them, or ``{"sessions": [...]}``; a session
is ``{"id": "s1", "meta": {...}, "utterances": [ {utterance as above}, ... ]}``. A JSON file
with a top-level ``segments`` list is Whisper output and is read by :func:`read_whisper`.
"""

from __future__ import annotations

import json
from pathlib import Path

from coder.errors import InputError
from coder.io._common import build_session, parse_time, read_text as decode_file, skip, split_lines
from coder.session import Session

_KNOWN = {"session_id", "utterance_id", "turn_id", "speaker", "role", "start", "end", "text", "codes", "meta"}


def _name(obj: dict, key: str, path: Path, line: int | None, where: str) -> str | None:
    """A string-valued field (speaker, role, ids): strings and whole numbers, else an error."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(path, f"{where}: {key} must be a string, not {type(value).__name__} "
                         f"({json.dumps(value, ensure_ascii=False)[:40]})", line=line)
    return str(value)


def _unit(obj: object, path: Path, line: int | None, where: str) -> dict | None:
    if not isinstance(obj, dict):
        raise InputError(path, f"{where} is not an object", line=line)
    text = obj.get("text")
    if isinstance(text, bool) or not isinstance(text, (str, int, float, type(None))):
        raise InputError(path, f"{where}: text must be a string, not {type(text).__name__}", line=line)
    if text is None or not str(text).strip():
        return None
    speaker = _name(obj, "speaker", path, line, where)
    role = _name(obj, "role", path, line, where)
    if not speaker and not role:
        raise InputError(path, f"{where} has no speaker", line=line)
    codes = obj.get("codes") or []
    if isinstance(codes, str):
        codes = [c for c in codes.split(";") if c]
    if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
        raise InputError(path, f"{where}: codes must be a list of strings or a ';'-joined string", line=line)
    meta = obj.get("meta") or {}
    if not isinstance(meta, dict):
        raise InputError(path, f"{where}: meta must be an object", line=line)
    turn = obj.get("turn_id")
    if turn is not None and (isinstance(turn, bool) or not isinstance(turn, int) or turn < 0):
        if not (isinstance(turn, str) and turn.strip().isascii() and turn.strip().isdigit()):
            raise InputError(path, f"{where}: turn_id {turn!r} is not a whole number of 0 or more", line=line)
    unit = {
        "utterance_id": _name(obj, "utterance_id", path, line, where),
        "turn_id": int(turn) if turn is not None else None,
        "speaker": speaker or role,
        "role": role if speaker else None,
        "start": parse_time(obj.get("start"), path=path, line=line, where=f"{where}: start: "),
        "end": parse_time(obj.get("end"), path=path, line=line, where=f"{where}: end: "),
        "text": str(text),
        "codes": list(codes),
        "line": line,
    }
    unit.update({k: v for k, v in obj.items() if k not in _KNOWN})
    unit.update(meta)
    return unit


def read_jsonl(path: str | Path) -> list[Session]:
    """Read a JSON Lines transcript (one utterance per line; see the module docstring)."""
    path = Path(path)
    per_session: dict[str, list[dict]] = {}
    skipped: dict[str, list[tuple[int, str]]] = {}
    sid_default = path.stem
    for no, line in enumerate(split_lines(decode_file(path)), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except RecursionError:
            raise InputError(path, "invalid JSON: nested too deeply", line=no) from None
        except json.JSONDecodeError as err:
            raise InputError(path, f"invalid JSON: {err.msg} (column {err.colno})", line=no) from None
        unit = _unit(obj, path, no, "this line")
        sid = _name(obj, "session_id", path, no, "this line") or sid_default
        if unit is None:
            skipped.setdefault(sid, []).append(skip(no, "empty text"))
            continue
        per_session.setdefault(sid, []).append(unit)
    if not per_session:
        raise InputError(path, "no lines with text")
    out = []
    for sid, units in per_session.items():
        preseg = all(u["utterance_id"] is not None for u in units)
        out.append(build_session(sid, units, meta={"skipped": skipped.get(sid, []), "presegmented": preseg}, path=path))
    return out


def read_json(path: str | Path) -> list[Session]:
    """Read a JSON transcript: session object(s) in the documented schema, or Whisper output."""
    path = Path(path)
    text = decode_file(path)
    try:
        data = json.loads(text)
    except RecursionError:
        raise InputError(path, "invalid JSON: nested too deeply") from None
    except json.JSONDecodeError as err:
        raise InputError(path, f"invalid JSON: {err.msg} (column {err.colno})", line=err.lineno) from None
    if isinstance(data, dict) and isinstance(data.get("segments"), list):
        from coder.io.whisper import sessions_from_whisper

        return sessions_from_whisper(data, path)
    if isinstance(data, dict) and "sessions" in data:
        data = data["sessions"]
    items = data if isinstance(data, list) else [data]
    out = []
    for k, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("utterances"), list):
            raise InputError(path, f"session {k} is not an object with an 'utterances' list "
                             "(see the JSON schema in the README)")
        sid = (_name(item, "id", path, None, f"session {k}") or _name(item, "session_id", path, None, f"session {k}")
               or (path.stem if len(items) == 1 else f"{path.stem}-{k}"))
        if not isinstance(item.get("meta") or {}, dict):
            raise InputError(path, f"session {sid}: meta must be an object")
        units, skipped = [], []
        for i, obj in enumerate(item["utterances"]):
            unit = _unit(obj, path, None, f"session {sid} utterance {i}")
            if unit is None:
                skipped.append(skip(i, "empty text"))
            else:
                units.append(unit)
        preseg = bool(units) and all(u["utterance_id"] is not None for u in units)
        meta = {**(item.get("meta") or {}), "skipped": skipped, "presegmented": preseg}
        out.append(build_session(sid, units, meta=meta, path=path))
    return out


def _record(u) -> dict:
    return {"session_id": u.session_id, "utterance_id": u.utterance_id, "turn_id": u.turn_id,
            "speaker": u.speaker, "role": u.role, "start": u.start, "end": u.end, "text": u.text, "codes": u.codes}


def write_jsonl(sessions: list[Session], path: str | Path) -> None:
    """Write one utterance per line in the documented schema."""
    with open(path, "w", encoding="utf-8") as fh:
        for s in sessions:
            for u in s.utterances:
                fh.write(json.dumps(_record(u), ensure_ascii=False) + "\n")


def write_json(sessions: list[Session], path: str | Path) -> None:
    """Write ``{"sessions": [...]}`` in the documented schema."""
    meta_ok = lambda m: {k: v for k, v in m.items() if k not in {"skipped", "source", "warnings"}}  # noqa: E731
    data = {"sessions": [{"id": s.id, "meta": meta_ok(s.meta), "utterances": [_record(u) for u in s.utterances]}
                         for s in sessions]}
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
