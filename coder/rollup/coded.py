"""Read a coded utterance table (the classifier's ``utterances.csv``) back into sessions.

The table has the utterance columns of :data:`coder.frames.UTTERANCE_COLUMNS` (``codes``
``;``-joined) and, when a model coded it, one ``p_<code>`` column per code (and possibly
``p_<family>`` for families the model predicts instead of their members). Empty or NaN
probabilities (codes the role may not carry, codes the model does not predict alone) are left
out of ``meta["proba"]``, so the roll-up falls back to the hard codes for them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from coder.errors import InputError
from coder.frames import UTTERANCE_COLUMNS, frame_to_sessions, sessions_to_frame
from coder.scheme import ALL_CODES
from coder.session import Session

UTTERANCES_FILE = "utterances.csv"


def coded_table_path(path: str | Path) -> Path:
    """``path`` itself if it is a file, else ``path/utterances.csv``; InputError if missing."""
    path = Path(path)
    target = path if path.is_file() else path / UTTERANCES_FILE
    if not target.is_file():
        raise InputError(path, f"no coded utterance table here (expected {UTTERANCES_FILE})")
    return target


def read_coded(path: str | Path) -> list[Session]:
    """Sessions with codes and probabilities from a coded utterance table.

    Parameters
    ----------
    path : path-like
        A ``utterances.csv`` (or ``.tsv``), or the folder holding ``utterances.csv``.

    Returns
    -------
    list of Session
        In order of first appearance; ``meta["proba"]`` holds ``{code: p}`` from the
        ``p_<code>`` columns (finite values only).

    Raises
    ------
    coder.errors.InputError
        On a missing file or a missing required column (naming the file).
    """
    target = coded_table_path(path)
    sep = "\t" if target.suffix.lower() == ".tsv" else ","
    try:
        frame = pd.read_csv(target, sep=sep, dtype={"session_id": str, "utterance_id": str, "speaker": str,
                                                    "codes": str, "text": str}, keep_default_na=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        raise InputError(target, f"could not read the table ({' '.join(str(err).split())})") from None
    required = [c for c in UTTERANCE_COLUMNS if c not in ("start", "end", "codes")]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(target, f"missing column(s) {', '.join(missing)}", line=1)
    for column in ("start", "end"):
        if column not in frame.columns:
            frame[column] = float("nan")
    if "codes" not in frame.columns:
        frame["codes"] = ""
    frame["codes"] = frame["codes"].fillna("")
    frame["text"] = frame["text"].fillna("")
    sessions = frame_to_sessions(frame)
    pcols = [c for c in frame.columns if c.startswith("p_")]
    if pcols:
        values = frame[pcols].apply(pd.to_numeric, errors="coerce")
        utts = [u for s in sessions for u in s.utterances]
        for u, (_, row) in zip(utts, values.iterrows()):
            proba = {c[2:]: float(v) for c, v in row.items() if pd.notna(v)}
            if proba:
                u.meta["proba"] = proba
    return sessions


def coded_frame(sessions: list[Session]) -> pd.DataFrame:
    """The inverse of :func:`read_coded`: the utterance table plus a ``p_<code>`` column per code.

    Probabilities come from ``meta["proba"]``; codes without one (or on uncoded utterances) are
    NaN. Without any probability at all the ``p_`` columns are left out.
    """
    frame = sessions_to_frame(sessions)
    probas = [u.meta.get("proba") or {} for s in sessions for u in s.utterances]
    names = list(ALL_CODES) + sorted({k for p in probas for k in p} - set(ALL_CODES))
    if any(probas):
        for code in names:
            frame[f"p_{code}"] = [float(p[code]) if code in p else float("nan") for p in probas]
    return frame
