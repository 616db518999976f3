"""Constructed examples for codes that are rare in AnnoMI: **training only, never evaluation**.

``data/annotations/constructed_examples.csv`` holds short exchanges written for the project
(not taken from any transcript or corpus) for every rupture marker, every harmful therapist
code, ``metacommunication`` and ``affect_exploration``: at least eight positives per code,
plus a few *near-misses* (``target_code`` = ``near_miss:<code>``) that sit on the far side of
a decision rule and carry the codes they should get instead. Every row is coded in full
for its role (client rows carry exactly one talk type), so the whole role mask applies.

Columns: ``example_id, target_code, role, context, text, codes, constructed, author``;
``context`` is the previous one or two turns with ``[T]``/``[C]`` role markers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from coder.data.paths import ANNOTATIONS_DIR, csv_records
from coder.errors import InputError
from coder.scheme import TALK_TYPES, codes_for_role

CONSTRUCTED_PATH = ANNOTATIONS_DIR / "constructed_examples.csv"
CONSTRUCTED_COLUMNS = ["example_id", "target_code", "role", "context", "text", "codes", "constructed", "author"]
CONSTRUCTED_LICENCE = "MIT (project-written)"
_MARKER = re.compile(r"\s*(?=\[(?:T|C)\] )")


#: Markers of a context utterance's role (an unknown role gets ``[?]``).
ROLE_MARKERS = {"therapist": "[T]", "client": "[C]"}


def mark(role: str | None, text: str) -> str:
    """``"[T] text"``: one context utterance with its role marker, whitespace collapsed."""
    return f"{ROLE_MARKERS.get(role, '[?]')} {' '.join(str(text).split())}"


def split_context(context: str) -> list[str]:
    """``"[C] a [T] b"`` → ``["[C] a", "[T] b"]`` (one item per utterance, markers kept)."""
    return [part.strip() for part in _MARKER.split(str(context or "")) if part.strip()]


def load_constructed(path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate the constructed examples.

    Parameters
    ----------
    path : path-like, optional
        Defaults to ``data/annotations/constructed_examples.csv``.

    Returns
    -------
    pandas.DataFrame
        ``example_id, target_code, role, text, context`` (list of marked utterances),
        ``codes`` (list), ``source`` ("constructed"), ``licence``.

    Raises
    ------
    coder.errors.InputError
        On a missing column, a row not flagged ``constructed=true``, an unknown or
        role-forbidden code, a client row without exactly one talk type, a positive row
        lacking its target code, a malformed context, or a duplicate id (file and line).
    """
    path = Path(path) if path is not None else CONSTRUCTED_PATH
    rows, seen = [], set()
    for line, r in csv_records(path, CONSTRUCTED_COLUMNS):
        if str(r["constructed"]).strip().lower() != "true":
            raise InputError(path, "every row must be flagged constructed=true", line=line)
        role = r["role"].strip()
        codes = [c.strip() for c in r["codes"].split(";") if c.strip()]
        bad = [c for c in codes if c not in codes_for_role(role)]
        if bad or role not in ("therapist", "client"):
            raise InputError(path, f"code(s) {', '.join(bad) or '-'} not allowed for role {role!r}", line=line)
        if role == "client" and sum(c in TALK_TYPES for c in codes) != 1:
            raise InputError(path, "a client example needs exactly one talk type", line=line)
        target = r["target_code"].strip()
        if not target.startswith("near_miss:") and target not in codes:
            raise InputError(path, f"target {target} is not among the row's codes", line=line)
        context = split_context(r["context"])
        if r["context"].strip() and not context[0].startswith(("[T] ", "[C] ")):
            raise InputError(path, "context must start with a [T] or [C] marker", line=line)
        if r["example_id"] in seen:
            raise InputError(path, f"duplicate example_id {r['example_id']}", line=line)
        seen.add(r["example_id"])
        rows.append({"example_id": r["example_id"], "target_code": target, "role": role,
                     "text": r["text"].strip(), "context": context, "codes": codes})
    frame = pd.DataFrame(rows)
    frame["source"] = "constructed"
    frame["licence"] = CONSTRUCTED_LICENCE
    return frame
