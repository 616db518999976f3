"""CSV and TSV: one row per utterance or per turn, several sessions per file via a session column.

Columns are found by name (case-insensitive); the first alias present wins:

============  ==============================================================
field         aliases
============  ==============================================================
session_id    session_id, transcript_id, session, conversation_id, dialog_id
utterance_id  utterance_id, utt_id, id
turn_id       turn_id, turn
speaker       speaker, interlocutor, speaker_name, name, author
role          role
start         start, start_time, timestamp, begin, time
end           end, end_time, stop
text          text, utterance_text, utterance, transcript, content, sentence
codes         codes (``;``-separated code names)
============  ==============================================================

AnnoMI's columns read with no options. Other names: ``columns={"text": "Said"}`` (CLI:
``--column text=Said``). A file with an utterance-id column is taken as already segmented.
Other columns are kept as metadata: on the session when constant within it, else on the
utterance. Rows with empty text are skipped and counted (``N/A`` and ``nan`` are text and
kept); rows repeating a session, utterance id, speaker and text (AnnoMI repeats a transcript
once per annotator) are merged and counted with their words; a repeated id with other text or
another speaker is an error naming both lines.
"""

from __future__ import annotations

import csv
import io
import math
import sys
from pathlib import Path

from coder.errors import InputError
from coder.io._common import build_session, parse_time, read_text as decode_file, skip
from coder.session import Session

ALIASES = {
    "session_id": ["session_id", "transcript_id", "session", "conversation_id", "dialog_id"],
    "utterance_id": ["utterance_id", "utt_id", "id"],
    "turn_id": ["turn_id", "turn"],
    "speaker": ["speaker", "interlocutor", "speaker_name", "name", "author"],
    "role": ["role"],
    "start": ["start", "start_time", "timestamp", "begin", "time"],
    "end": ["end", "end_time", "stop"],
    "text": ["text", "utterance_text", "utterance", "transcript", "content", "sentence"],
    "codes": ["codes"],
}

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def _find_columns(header: list[str], columns: dict[str, str], path: Path) -> dict[str, int]:
    lower = {h.strip().lower(): i for i, h in enumerate(header)}
    found: dict[str, int] = {}
    for field, name in columns.items():
        if field not in ALIASES:
            raise InputError(path, f"unknown field {field!r} in column options (known: {', '.join(ALIASES)})")
        if name.strip().lower() not in lower:
            raise InputError(path, f"no column {name!r} (columns: {', '.join(header)})", line=1)
        found[field] = lower[name.strip().lower()]
    for field, names in ALIASES.items():
        if field not in found:
            idx = next((lower[n] for n in names if n in lower), None)
            if idx is not None and idx not in found.values():
                found[field] = idx
    if "text" not in found:
        raise InputError(path, f"no text column (columns: {', '.join(header)}); name it with --column text=NAME", line=1)
    if "speaker" not in found and "role" not in found:
        raise InputError(path, f"no speaker column (columns: {', '.join(header)}); "
                         "name it with --column speaker=NAME", line=1)
    return found


def read_table(path: str | Path, *, delimiter: str = ",", columns: dict[str, str] | None = None) -> list[Session]:
    """Read a delimited transcript table into sessions (see the module docstring for columns)."""
    path = Path(path)
    text = decode_file(path)
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(rows)
    except StopIteration:
        raise InputError(path, "no header row", line=1) from None
    except csv.Error as err:
        raise InputError(path, f"malformed header: {err}", line=1) from None
    col = _find_columns(header, columns or {}, path)
    extra = [i for i in range(len(header)) if i not in col.values()]
    per_session: dict[str, list[dict]] = {}
    skipped: dict[str, list[tuple[int, str]]] = {}
    seen: dict[tuple[str, str], tuple[int, str, str | None, str | None]] = {}
    default_sid = path.stem
    while True:
        no = rows.line_num + 1
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as err:
            raise InputError(path, f"malformed row ({err}); an unclosed quote?", line=no) from None
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(path, f"row has {len(row)} fields but the header has {len(header)} "
                             "(unbalanced quotes or a stray delimiter?)", line=no)
        get = lambda f: row[col[f]].strip() if f in col else None  # noqa: E731
        sid = get("session_id") or default_sid
        text_value = get("text")
        if not text_value:
            skipped.setdefault(sid, []).append(skip(no, "empty text"))
            continue
        uid = get("utterance_id")
        if uid is not None:
            if not uid:
                raise InputError(path, "empty utterance id", line=no)
            if (sid, uid) in seen:
                first_line, first_text, first_speaker, first_role = seen[(sid, uid)]
                if first_text != text_value:
                    raise InputError(path, f"utterance id {uid!r} of session {sid!r} repeats line {first_line} "
                                     "with different text", line=no)
                if (first_speaker, first_role) != (get("speaker"), get("role")):
                    raise InputError(path, f"utterance id {uid!r} of session {sid!r} repeats line {first_line} "
                                     f"with another speaker ({first_speaker or first_role!r} there, "
                                     f"{get('speaker') or get('role')!r} here)", line=no)
                skipped.setdefault(sid, []).append(skip(no, f"repeats line {first_line}", text_value))
                continue
            seen[(sid, uid)] = (no, text_value, get("speaker"), get("role"))
        speaker = get("speaker") or get("role")
        if not speaker:
            raise InputError(path, "empty speaker", line=no)
        unit = {
            "utterance_id": uid,
            "turn_id": _turn(get("turn_id"), path, no),
            "speaker": speaker,
            "role": get("role") if "speaker" in col else None,
            "start": parse_time(get("start"), path=path, line=no),
            "end": parse_time(get("end"), path=path, line=no),
            "text": text_value,
            "codes": [c for c in (get("codes") or "").split(";") if c.strip()],
            "line": no,
        }
        unit.update({header[i]: row[i] for i in extra})
        per_session.setdefault(sid, []).append(unit)
    if not per_session:
        raise InputError(path, "no rows with text")
    sessions = []
    for sid, units in per_session.items():
        constant = {header[i]: units[0][header[i]] for i in extra
                    if all(u[header[i]] == units[0][header[i]] for u in units)}
        for unit in units:
            for key in constant:
                del unit[key]
        meta = {"skipped": skipped.get(sid, []), "presegmented": "utterance_id" in col, **constant}
        sessions.append(build_session(sid, units, meta=meta, path=path))
    return sessions


def _turn(value: str | None, path: Path, line: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not math.isfinite(number) or number != int(number) or number < 0:
        raise InputError(path, f"turn {value[:30]!r} is not a whole number of 0 or more", line=line)
    return int(number)


def read_csv(path: str | Path, *, columns: dict[str, str] | None = None) -> list[Session]:
    """Read a comma-separated transcript table; see :func:`read_table`."""
    return read_table(path, delimiter=",", columns=columns)


def read_tsv(path: str | Path, *, columns: dict[str, str] | None = None) -> list[Session]:
    """Read a tab-separated transcript table; see :func:`read_table`."""
    return read_table(path, delimiter="\t", columns=columns)


def write_csv(sessions: list[Session], path: str | Path) -> None:
    """Write the utterance table as CSV (readable back with :func:`read_csv`)."""
    from coder.frames import sessions_to_frame  # pandas: only writers need it (reading starts faster)

    sessions_to_frame(sessions).to_csv(path, index=False)


def write_tsv(sessions: list[Session], path: str | Path) -> None:
    """Write the utterance table as TSV."""
    from coder.frames import sessions_to_frame

    sessions_to_frame(sessions).to_csv(path, index=False, sep="\t")
