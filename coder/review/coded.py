"""Reading a coded folder, and the small helpers on code lists the review modules share."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import pandas as pd

from coder.errors import InputError
from coder.scheme import ALL_CODES, FAMILY_LABELS, codes_for_role  # FAMILY_LABELS: the review modules import it here


class ReviewError(InputError):
    """A correction or import the store refuses (unknown utterance, code not allowed for the role)."""


def utc_now() -> str:
    """The current UTC time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def join_codes(codes: Iterable[str]) -> str:
    """Codes in scheme order, deduplicated, joined with ``;``."""
    wanted = set(codes)
    return ";".join(c for c in ALL_CODES if c in wanted)


def split_codes(text) -> list[str]:
    """``a;b`` → ``["a", "b"]`` (empty, None and NaN → [])."""
    if not isinstance(text, str):
        return []
    return [c.strip() for c in text.split(";") if c.strip()]


def annotator_name(name: str) -> str:
    """``annotator:alice`` or ``alice`` → ``alice`` (refuses empty names)."""
    name = str(name or "").strip()
    if name.startswith("annotator:"):
        name = name[len("annotator:"):]
    if not name:
        raise ReviewError(None, "an annotator name is needed (--annotator NAME)")
    return name


def families_for_role(role: str | None) -> tuple[str, ...]:
    """Family labels whose members a ``role`` may carry."""
    allowed = set(codes_for_role(role))
    return tuple(f for f, members in FAMILY_LABELS.items() if set(members) <= allowed)


def derived_families(codes: Iterable[str]) -> list[str]:
    """Family labels present in ``codes`` (any member code, or the family label itself)."""
    have = set(codes)
    return [f for f, members in FAMILY_LABELS.items() if f in have or have & set(members)]


def read_coded_dir(coded_dir: str | Path) -> tuple[pd.DataFrame, str]:
    """The coded utterance table of ``coded_dir`` and the model's coder id.

    Parameters
    ----------
    coded_dir : path-like
        Folder written by ``alliance-coder code`` (``utterances.csv`` with ``p_<code>``
        columns, and ``codes_long.csv`` whose ``coder_id`` names the model), or a CSV file.

    Returns
    -------
    (pandas.DataFrame, str)
        The table with columns ``codes`` and ``proba`` (dict per row: every code and family
        label of the role with a probability; codes the model scores only as their family have
        none), and ``model:<version>`` (``model`` when the folder does not say). Without
        ``p_`` columns (a human-coded table) the probabilities are the codes as 1/0.
    """
    from coder.tables_io import read_coder_id, read_utterance_frame

    coded_dir = Path(coded_dir)
    path = coded_dir if coded_dir.is_file() else coded_dir / "utterances.csv"
    if not path.is_file():
        raise ReviewError(path, "no coded utterances here; run `alliance-coder code ... --out DIR` first")
    try:
        frame = read_utterance_frame(path)
    except InputError as err:
        raise ReviewError(path, err.message, line=err.line) from None
    has_p = any(str(c).startswith("p_") for c in frame.columns)
    probas = []
    for row in frame.to_dict("records"):
        role = row.get("role") or None
        assigned = set(split_codes(row.get("codes")))
        proba = {}
        for name in codes_for_role(role) + families_for_role(role):
            value = pd.to_numeric(row.get(f"p_{name}", ""), errors="coerce") if has_p else float(name in assigned)
            if has_p and pd.isna(value):
                continue
            if has_p or name in ALL_CODES:
                proba[name] = float(value)
        probas.append(proba)
    frame["proba"] = probas
    coder_id = read_coder_id(path.parent) or "model"
    return frame, coder_id
