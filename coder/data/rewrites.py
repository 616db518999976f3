"""Counterfactual rewrites of real AnnoMI exchanges: **training only, never evaluation**.

A rewrite replaces one therapist turn of a real transcript by a harmful variant (or a matched
near-miss), and possibly the client's following turn(s) by the rupture marker a client would
plausibly show. The real exchange stays in the corpus as the matched negative. Only the
rewritten turns are stored, as text written for the project; their context is the real
transcript up to the first replaced utterance, read from ``../shared/data`` at build time.

Files ``data/annotations/rewrites/rewrites_*.csv``, columns
``group_id, row, transcript_id, utterance_id, role, kind, target_code, codes, text, author``:
the rows of a group replace consecutive real utterances of one transcript, in order.

A rewrite carries its source transcript's id, so that a split or a cross-validation fold that
holds that transcript out drops the rewrite with it (``anchored_to``). A group is named by its
``target_code``; :func:`drop_targets` leaves out the groups of some targets (e.g. ``withdrawal``,
whose written markers lowered the recoded withdrawal labels' average precision).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

from coder.data.constructed import mark
from coder.data.paths import ANNOTATIONS_DIR, csv_records
from coder.errors import InputError
from coder.scheme import ALL_CODES, FAMILIES, TALK_TYPES, codes_for_role

REWRITES_DIR = ANNOTATIONS_DIR / "rewrites"
REWRITE_COLUMNS = ["group_id", "row", "transcript_id", "utterance_id", "role", "kind", "target_code", "codes",
                   "text", "author"]
REWRITE_LICENCE = "MIT (project-written rewrites; context AnnoMI, Public Domain)"
KINDS = ("positive", "hard_negative")


def read_rewrites(path: str | Path | None = None) -> pd.DataFrame:
    """Read and validate rewrite files (a file, or every ``rewrites_*.csv`` in a folder).

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`REWRITE_COLUMNS`, ``codes`` as a list, ``row`` as int, in file order.

    Raises
    ------
    coder.errors.InputError
        On a missing column, an unknown kind, an unknown or role-forbidden code, a client row
        without exactly one talk type, a positive group without its target code, or a repeated
        ``(group_id, row)`` (file and line).
    """
    path = Path(path) if path is not None else REWRITES_DIR
    files = sorted(path.glob("rewrites_*.csv")) if path.is_dir() else [path]
    rows, seen = [], set()
    for file in files:
        for line, r in csv_records(file, REWRITE_COLUMNS):
            def bad(what: str):
                return InputError(file, what, line=line)

            role, kind = str(r["role"]).strip(), str(r["kind"]).strip()
            codes = [c.strip() for c in str(r["codes"] or "").split(";") if c.strip()]
            if kind not in KINDS:
                raise bad(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
            allowed = set(codes_for_role(role))
            if not allowed:
                raise bad(f"role must be therapist or client, not {role!r}")
            wrong = [c for c in codes if c not in allowed]
            if wrong:
                raise bad(f"code {wrong[0]!r} is unknown or not allowed for a {role}")
            if role == "client" and sum(c in TALK_TYPES for c in codes) != 1:
                raise bad("a client row needs exactly one talk type")
            target = str(r["target_code"]).strip()
            try:
                row_no = int(str(r["row"]).strip())
            except ValueError:
                raise bad(f"row must be a number, not {r['row']!r}") from None
            key = (str(r["group_id"]).strip(), row_no)
            if key in seen:
                raise bad(f"repeated group row {key[0]}/{key[1]}")
            seen.add(key)
            if not str(r["text"] or "").strip():
                raise bad("empty text")
            rows.append({"group_id": key[0], "row": row_no, "transcript_id": str(r["transcript_id"]).strip(),
                         "utterance_id": str(r["utterance_id"]).strip(), "role": role, "kind": kind,
                         "target_code": target, "codes": codes, "text": " ".join(str(r["text"]).split()),
                         "author": str(r["author"]).strip(), "_where": (file, line)})
    frame = pd.DataFrame(rows, columns=[*REWRITE_COLUMNS, "_where"])
    for gid, group in frame[frame.kind == "positive"].groupby("group_id", sort=False):
        target = group.target_code.iloc[0]
        if not any(target in codes for codes in group.codes):
            file, line = group["_where"].iloc[0]
            raise InputError(file, f"positive group {gid} has no row coded with its target {target!r}", line=line)
    return frame.drop(columns="_where")


def rewrite_frame(rewrites: pd.DataFrame, joined: pd.DataFrame) -> pd.DataFrame:
    """Rewrites with their real context, as train-only examples.

    Parameters
    ----------
    rewrites : pandas.DataFrame
        From :func:`read_rewrites`.
    joined : pandas.DataFrame
        AnnoMI with final labels (``coder.data.labels.join_labels``): ``transcript_id,
        utterance_id, order, role, text``.

    Returns
    -------
    pandas.DataFrame
        ``example_id, transcript_id, role, text, context`` (list of marked utterances: the
        real ones before the group's first replaced utterance, then the group's earlier rows),
        ``codes``, ``source`` ("rewrite"), ``licence``, ``kind``, ``target_code``.

    Raises
    ------
    coder.errors.InputError
        When a rewrite points at an utterance that is not in AnnoMI, or its role differs
        from the real utterance's.
    """
    index = {(str(t), str(u)): (int(o), r) for t, u, o, r in
             zip(joined.transcript_id, joined.utterance_id, joined.order, joined.role)}
    by_transcript = {str(t): g.sort_values("order") for t, g in joined.groupby("transcript_id", sort=False)}
    out = []
    for gid, group in rewrites.sort_values(["group_id", "row"]).groupby("group_id", sort=False):
        first = group.iloc[0]
        key = (first.transcript_id, first.utterance_id)
        if key not in index:
            raise InputError(REWRITES_DIR, f"group {gid}: AnnoMI has no utterance {key[0]}/{key[1]}")
        real = by_transcript[first.transcript_id]
        before = real.order < index[key][0]
        history = [mark(r, t) for r, t in zip(real.role[before], real.text[before])]
        for r in group.itertuples(index=False):
            real_role = index.get((r.transcript_id, r.utterance_id), (None, None))[1]
            if real_role is not None and real_role != r.role:
                raise InputError(REWRITES_DIR, f"group {gid} row {r.row}: role {r.role} where the real utterance "
                                               f"{r.transcript_id}/{r.utterance_id} is the {real_role}'s")
            out.append({"example_id": f"rewrite:{gid}:{r.row}", "transcript_id": r.transcript_id, "role": r.role,
                        "text": r.text, "context": list(history), "codes": list(r.codes), "source": "rewrite",
                        "licence": REWRITE_LICENCE, "kind": r.kind, "target_code": r.target_code})
            history.append(mark(r.role, r.text))
    return pd.DataFrame(out)


def excluded_targets(names: Iterable[str]) -> list[str]:
    """The target codes that ``names`` (codes or scheme families, e.g. ``withdrawal``) stand for.

    Returns
    -------
    list of str
        Codes, sorted, each once (a family gives all its members).

    Raises
    ------
    coder.errors.InputError
        On a name that is neither a scheme code nor a family.
    """
    codes: set[str] = set()
    for name in names:
        name = str(name).strip()
        if name in FAMILIES:
            codes.update(FAMILIES[name])
        elif name in ALL_CODES:
            codes.add(name)
        else:
            raise InputError(None, f"rewrite target {name!r} is neither a code nor a family "
                                   f"({', '.join(FAMILIES)})")
    return sorted(codes)


def drop_targets(rewrites: pd.DataFrame, names: Iterable[str]) -> pd.DataFrame:
    """``rewrites`` (:func:`read_rewrites`) without the groups whose target is one of ``names``.

    Parameters
    ----------
    rewrites : pandas.DataFrame
    names : iterable of str
        Codes or families (:func:`excluded_targets`); a group goes as a whole, with its positive
        rows and its hard negatives.
    """
    targets = set(excluded_targets(names))
    if not targets or rewrites.empty:
        return rewrites
    gone = set(rewrites.group_id[rewrites.target_code.isin(targets)])
    return rewrites[~rewrites.group_id.isin(gone)]
