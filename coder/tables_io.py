"""The one reader and writer of the coded tables: ``utterances.csv`` and ``codes_long.csv``.

Everything that writes or reads these files goes through this module: the ``code`` run (one part
per session, then the corpus table), ``segment``, the roll-up (``rollup DIR``, ``calibrate``) and
the review app. Writes are atomic (a temporary file beside the target, then ``os.replace``), so
a killed run never leaves a half-written table under the final name.

``utterances.csv`` has :data:`coder.frames.UTTERANCE_COLUMNS` (``codes`` ``;``-joined) and, when a
model coded it, one ``p_<code>`` column per scheme code and per family label the model predicts.
A ``p_`` cell is 0 for a code the utterance's role may not carry and empty for a code the model
scores only as its family. ``codes_long.csv`` is :data:`coder.frames.LONG_COLUMNS`.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import pandas as pd

from coder.errors import InputError
from coder.frames import LONG_COLUMNS, UTTERANCE_COLUMNS, frame_to_sessions, long_rows, sessions_to_frame
from coder.scheme import ALL_CODES
from coder.scheme import FAMILY_LABELS as SCHEME_FAMILY_LABELS
from coder.session import Session

UTTERANCES_FILE = "utterances.csv"
LONG_FILE = "codes_long.csv"
#: Family labels a model may predict for codes it trains only as their family, in column order.
FAMILY_LABELS = tuple(SCHEME_FAMILY_LABELS)
_TEXT_COLUMNS = ("session_id", "utterance_id", "speaker", "role", "text", "codes")


# ----------------------------------------------------------------------------------------- writing
def _sep(path: Path) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else ","


def _umask() -> int:
    """This process's umask (read without changing it where Linux allows)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_writer(path: str | Path) -> Iterator:
    """A text file handle for ``path`` that replaces it only when the block completes.

    The data go to a temporary file beside ``path`` (same file system), which ``os.replace``
    then moves over ``path``; on any error the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600: give the mode any new file gets
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_frame(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as CSV (TSV for ``.tsv``) atomically (:func:`atomic_writer`)."""
    path = Path(path)
    with atomic_writer(path) as fh:
        frame.to_csv(fh, index=False, sep=_sep(path))
    return path


def write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` (UTF-8) atomically (:func:`atomic_writer`)."""
    path = Path(path)
    with atomic_writer(path) as fh:
        fh.write(text)
    return path


def concat_csv(parts: Iterable[str | Path], path: str | Path, columns: Sequence[str]) -> Path:
    """Join CSV files that share the header ``columns`` into ``path`` (atomic, streamed line by line).

    Used to assemble the corpus tables from the per-session parts without holding them in memory;
    no parts gives a header-only table.
    """
    path = Path(path)
    header = ",".join(columns) + "\n"
    with atomic_writer(path) as out:
        out.write(header)
        for part in parts:
            with open(part, encoding="utf-8", newline="") as fh:
                first = fh.readline()
                if first.rstrip("\r\n") != header.rstrip("\n"):
                    raise InputError(part, f"unexpected header (expected {header.strip()})", line=1)
                shutil.copyfileobj(fh, out)
    return path


def model_families(target_names: Iterable[str]) -> list[str]:
    """The family labels among a model's targets, in :data:`FAMILY_LABELS` order."""
    names = set(target_names)
    return [f for f in FAMILY_LABELS if f in names]


def utterance_frame(coded: Sequence[Session], families: Sequence[str] | None = None) -> pd.DataFrame:
    """The model's utterance table: the utterance columns, then ``p_<code>`` per code and family.

    Parameters
    ----------
    coded : sequence of Session
        Sessions from ``UtteranceClassifier.code`` (``meta["proba"]`` on every utterance).
    families : sequence of str, optional
        Family labels to give a column; pass the model's (:func:`model_families`) so that every
        session's part has the same columns. Default: the families found in the probabilities.
    """
    frame = sessions_to_frame(list(coded))
    utts = [u for s in coded for u in s.utterances]
    if families is None:
        families = [f for f in FAMILY_LABELS if any(f in u.meta.get("proba", {}) for u in utts)]
    columns = {f"p_{name}": [u.meta.get("proba", {}).get(name, 0.0) for u in utts]
               for name in (*ALL_CODES, *families)}
    return pd.concat([frame[UTTERANCE_COLUMNS], pd.DataFrame(columns, index=frame.index).round(4)], axis=1)


def long_frame(coded: Sequence[Session], coder_id: str) -> pd.DataFrame:
    """The long table of the model's scores: codes its role allows, then family labels.

    Codes the model scores only as their family have no rows of their own.
    """
    rows = []
    for s in coded:
        for u in s.utterances:
            rows += [row for row in long_rows(u, coder_id) if not math.isnan(row[-1])]  # unscored rows left out
            rows += [(u.session_id, u.utterance_id, coder_id, name, float(p))
                     for name, p in (u.meta.get("proba") or {}).items() if name in FAMILY_LABELS]
    return pd.DataFrame(rows, columns=LONG_COLUMNS).round({"score": 4})


def coded_frame(sessions: Sequence[Session]) -> pd.DataFrame:
    """The utterance table plus a ``p_<code>`` column per code, for hand-made or test sessions.

    Probabilities come from ``meta["proba"]``; codes without one are NaN. Without any
    probability at all the ``p_`` columns are left out. The inverse of :func:`read_coded`.
    """
    frame = sessions_to_frame(list(sessions))
    probas = [u.meta.get("proba") or {} for s in sessions for u in s.utterances]
    names = list(ALL_CODES) + sorted({k for p in probas for k in p} - set(ALL_CODES))
    if any(probas):
        for code in names:
            frame[f"p_{code}"] = [float(p[code]) if code in p else float("nan") for p in probas]
    return frame


# ----------------------------------------------------------------------------------------- reading
def coded_table_path(path: str | Path) -> Path:
    """``path`` itself if it is a file, else ``path/utterances.csv``; InputError if missing."""
    path = Path(path)
    target = path if path.is_file() else path / UTTERANCES_FILE
    if not target.is_file():
        raise InputError(path, f"no coded utterance table here (expected {UTTERANCES_FILE})")
    return target


def _clean(frame: pd.DataFrame, target: Path) -> pd.DataFrame:
    required = [c for c in UTTERANCE_COLUMNS if c not in ("start", "end", "codes")]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(target, f"missing column(s) {', '.join(missing)}", line=1)
    for column in ("start", "end"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce") if column in frame.columns else float("nan")
    if "codes" not in frame.columns:
        frame["codes"] = ""
    for column in _TEXT_COLUMNS:
        frame[column] = frame[column].fillna("").astype(str)
    pcols = [c for c in frame.columns if str(c).startswith("p_")]
    if pcols:
        frame[pcols] = frame[pcols].apply(pd.to_numeric, errors="coerce")
    return frame


def _reader(target: Path, chunksize: int | None = None):
    sep = _sep(target)
    return pd.read_csv(target, sep=sep, dtype=str, keep_default_na=False, na_values=[""],
                       chunksize=chunksize, encoding="utf-8")


def read_utterance_frame(path: str | Path) -> pd.DataFrame:
    """The coded utterance table of a folder (or file) as a typed DataFrame.

    Text columns (``session_id``, ``utterance_id``, ``speaker``, ``role``, ``text``, ``codes``)
    are strings with ``""`` for empty cells (an utterance that says "NA" stays "NA"); ``start``,
    ``end`` and the ``p_`` columns are floats (NaN for empty). This is what the review app reads.

    Raises
    ------
    coder.errors.InputError
        On a missing or unreadable file or a missing required column (naming the file).
    """
    target = coded_table_path(path)
    try:
        frame = _reader(target)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise InputError(target, f"could not read the table ({' '.join(str(err).split())})") from None
    return _clean(frame, target)


def sessions_from_frame(frame: pd.DataFrame) -> list[Session]:
    """Sessions with codes and probabilities from a coded utterance table (in memory).

    ``meta["proba"]`` holds ``{code: p}`` from the ``p_<code>`` columns (finite values only), so
    the roll-up falls back to the hard codes where a probability is empty. ``code`` rolls its
    sessions up through this same function, so its tables equal ``rollup`` of its output.
    """
    frame = frame.copy()
    frame["role"] = frame["role"].where(frame["role"].notna() & (frame["role"] != ""), None)
    sessions = frame_to_sessions(frame)
    pcols = [c for c in frame.columns if str(c).startswith("p_")]
    if pcols:
        utts = [u for s in sessions for u in s.utterances]
        names = [c[2:] for c in pcols]
        for u, values in zip(utts, frame[pcols].itertuples(index=False, name=None)):
            proba = {n: float(v) for n, v in zip(names, values) if pd.notna(v)}
            if proba:
                u.meta["proba"] = proba
    return sessions


def read_coded(path: str | Path) -> list[Session]:
    """Sessions with codes and probabilities from a coded ``utterances.csv`` (or its folder).

    Raises
    ------
    coder.errors.InputError
        On a missing file or a missing required column (naming the file).
    """
    return sessions_from_frame(read_utterance_frame(path))


def iter_coded(path: str | Path, chunksize: int = 50_000) -> Iterator[Session]:
    """Sessions of a coded table one at a time, reading it in chunks (memory stays flat).

    Each session's rows must be contiguous (as ``code`` and ``segment`` write them).

    Raises
    ------
    coder.errors.InputError
        As :func:`read_coded`, and when a session's rows are split by another session's.
    """
    target = coded_table_path(path)
    seen: set[str] = set()
    pending = None
    try:
        for chunk in _reader(target, chunksize=chunksize):
            chunk = _clean(chunk, target)
            if pending is not None:
                chunk = pd.concat([pending, chunk], ignore_index=True)
            ids, cut = chunk["session_id"], len(chunk)
            while cut > 0 and ids.iloc[cut - 1] == ids.iloc[-1]:  # the last session may go on in the next chunk
                cut -= 1
            done, pending = chunk.iloc[:cut], chunk.iloc[cut:]
            yield from _sessions_once(done, seen, target)
        if pending is not None and len(pending):
            yield from _sessions_once(pending, seen, target)
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise InputError(target, f"could not read the table ({' '.join(str(err).split())})") from None
    except pd.errors.EmptyDataError:
        raise InputError(target, "could not read the table (no columns)") from None


def _sessions_once(frame: pd.DataFrame, seen: set[str], target: Path) -> Iterator[Session]:
    ids = frame["session_id"]
    for sid in ids[ids != ids.shift()]:
        if sid in seen:
            raise InputError(target, f"the rows of session {sid!r} are not together; sort the table by "
                                     "session_id first")
        seen.add(sid)
    yield from sessions_from_frame(frame)


def read_coder_id(folder: str | Path) -> str | None:
    """The model's coder id (``model:<version>``) in ``folder/codes_long.csv``, else its first
    coder id, else None."""
    long_path = Path(folder) / LONG_FILE
    if not long_path.is_file():
        return None
    ids = pd.read_csv(long_path, usecols=["coder_id"], nrows=1000)["coder_id"].dropna().unique()
    return next((str(i) for i in ids if str(i).startswith("model:")), str(ids[0]) if len(ids) else None)
