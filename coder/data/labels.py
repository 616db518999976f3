"""The project's own utterance labels: load, validate, join with AnnoMI, and the long table.

Label files (``data/annotations/{first_pass,second_pass}/labels_<annotator>.csv``) hold
``transcript_id, utterance_id, role, codes, annotator, guideline_version``; ``codes`` is
``;``-separated and empty means "reviewed, none of the project's codes". They hold no text.

The final label of an utterance is AnnoMI-derived codes ∪ the project's codes, with two
rules from the guidelines (``annotation_guidelines/reliability.md``):

* AnnoMI ``advice`` becomes ``directing`` only when the project annotator coded
  ``directing`` on that row (otherwise the advice was permitted or framed collaboratively);
* *sharpened in v1.1*: the automatic ``collaboration`` of an AnnoMI ``options`` or
  ``negotiation`` row yields to the annotator's ``directing`` on the same row (an imposed
  "negotiation" is not collaboration), unless the annotator also coded ``collaboration``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from coder.data.annomi import ANNOMI_DENSE_CODES, load_annomi, sort_codes
from coder.data.paths import ANNOTATIONS_DIR, csv_records
from coder.errors import InputError
from coder.frames import LONG_COLUMNS
from coder.scheme import ALL_CODES, WITHDRAWAL, codes_for_role

LABEL_COLUMNS = ["transcript_id", "utterance_id", "role", "codes", "annotator", "guideline_version"]
KEYS = ["transcript_id", "utterance_id"]
ROLES = ("therapist", "client")
#: Coder id of AnnoMI's expert labels and of the final joined labels in the long table.
ANNOMI_CODER = "annomi:expert"
REFERENCE_CODER = "reference:v1"
#: The v1.1 rule above; switch off to reproduce the v1.0 union.
DIRECTING_OVERRIDES_AUTO_COLLABORATION = True


class LabelError(InputError):
    """A label file is malformed or does not match AnnoMI (names the file and line)."""


def read_label_file(path: str | Path) -> pd.DataFrame:
    """Read and validate one label file.

    Parameters
    ----------
    path : path-like
        A CSV with :data:`LABEL_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        :data:`LABEL_COLUMNS` plus ``code_list`` (list of str), ``file`` and ``line``
        (1-based line in the file, header = line 1).

    Raises
    ------
    LabelError
        On a missing column, an unknown role or code, a code not allowed for the role, or a
        key given twice; the message names the file and line.
    """
    path = Path(path)
    rows = []
    seen: dict[tuple[str, str], int] = {}
    for line, record in csv_records(path, LABEL_COLUMNS, LabelError):
        key = (str(record["transcript_id"]).strip(), str(record["utterance_id"]).strip())
        if not all(key):
            raise LabelError(path, "empty transcript_id or utterance_id", line=line)
        role = str(record["role"]).strip().lower()
        if role not in ROLES:
            raise LabelError(path, f"role {record['role']!r} is not therapist or client", line=line)
        codes = [c.strip() for c in str(record["codes"] or "").split(";") if c.strip()]
        unknown = [c for c in codes if c not in ALL_CODES]
        if unknown:
            raise LabelError(path, f"unknown code(s) {', '.join(unknown)} (scheme v1 names only)", line=line)
        wrong = [c for c in codes if c not in codes_for_role(role)]
        if wrong:
            raise LabelError(path, f"code(s) {', '.join(wrong)} not allowed on a {role} utterance", line=line)
        if key in seen:
            raise LabelError(path, f"utterance {key[0]}#{key[1]} labelled twice (first at line {seen[key]})",
                             line=line)
        seen[key] = line
        rows.append({
            "transcript_id": key[0], "utterance_id": key[1], "role": role, "codes": ";".join(codes),
            "annotator": str(record["annotator"]).strip(), "guideline_version": str(record["guideline_version"]).strip(),
            "code_list": codes, "file": str(path), "line": line,
        })
    return pd.DataFrame(rows, columns=[*LABEL_COLUMNS, "code_list", "file", "line"])


def load_labels(directory: str | Path | None = None, *, annomi: pd.DataFrame | None = None,
                complete: bool = True) -> pd.DataFrame:
    """Load every ``labels_*.csv`` in a folder and check them against AnnoMI.

    Parameters
    ----------
    directory : path-like, optional
        Defaults to ``data/annotations/first_pass``.
    annomi : pandas.DataFrame, optional
        The output of :func:`coder.data.annomi.load_annomi`; when given, every labelled key
        must exist in AnnoMI with the same role, and (if ``complete``) every AnnoMI utterance
        of a labelled transcript must be labelled. With ``complete`` and a first pass, all
        transcripts of AnnoMI must be covered.
    complete : bool
        Require full coverage (first pass) rather than a subset of transcripts (second pass).

    Returns
    -------
    pandas.DataFrame
        The rows of all files (see :func:`read_label_file`), sorted like AnnoMI.

    Raises
    ------
    LabelError
        On any validation failure, naming the file and line (or the missing utterance).
    """
    directory = Path(directory) if directory is not None else ANNOTATIONS_DIR / "first_pass"
    files = sorted(directory.glob("labels_*.csv"))
    if not files:
        raise LabelError(directory, "no labels_*.csv files here")
    frame = pd.concat([read_label_file(f) for f in files], ignore_index=True)
    dup = frame[frame.duplicated(KEYS, keep=False)]
    if len(dup):
        first = dup.iloc[0]
        other = dup[(dup.transcript_id == first.transcript_id) & (dup.utterance_id == first.utterance_id)].iloc[1]
        raise LabelError(other.file, f"utterance {first.transcript_id}#{first.utterance_id} is also labelled in "
                         f"{first.file}:{first.line}", line=int(other.line))
    if annomi is not None:
        _check_against_annomi(frame, annomi, complete=complete)
    return _sort(frame)


def _sort(frame: pd.DataFrame) -> pd.DataFrame:
    order = frame.assign(_t=pd.to_numeric(frame.transcript_id, errors="coerce"),
                         _u=pd.to_numeric(frame.utterance_id, errors="coerce"))
    return order.sort_values(["_t", "transcript_id", "_u", "utterance_id"]).drop(columns=["_t", "_u"]).reset_index(drop=True)


def _check_against_annomi(frame: pd.DataFrame, annomi: pd.DataFrame, *, complete: bool) -> None:
    ref = annomi[KEYS + ["role"]]
    merged = frame.merge(ref, on=KEYS, how="left", suffixes=("", "_annomi"), indicator=True)
    extra = merged[merged["_merge"] == "left_only"]
    if len(extra):
        r = extra.iloc[0]
        raise LabelError(r.file, f"utterance {r.transcript_id}#{r.utterance_id} does not exist in AnnoMI",
                         line=int(r.line))
    wrong = merged[merged.role != merged.role_annomi]
    if len(wrong):
        r = wrong.iloc[0]
        raise LabelError(r.file, f"utterance {r.transcript_id}#{r.utterance_id} has role {r.role} but AnnoMI "
                         f"says {r.role_annomi}", line=int(r.line))
    scope = ref if complete else ref[ref.transcript_id.isin(set(frame.transcript_id))]
    lacking = scope[~scope.set_index(KEYS).index.isin(frame.set_index(KEYS).index)]
    if len(lacking):
        r = lacking.iloc[0]
        raise LabelError(None, f"{len(lacking)} AnnoMI utterance(s) have no label, first transcript "
                         f"{r.transcript_id} utterance {r.utterance_id}")


def final_codes(annomi_codes, project_codes, *, auto_collaboration: bool = False) -> list[str]:
    """The final codes of one utterance: AnnoMI-derived ∪ project, with the v1.1 rule.

    Parameters
    ----------
    annomi_codes, project_codes : iterable of str
        Codes from :func:`coder.data.annomi.map_fields` and from the label file.
    auto_collaboration : bool
        Whether AnnoMI's ``collaboration`` came from ``options``/``negotiation``.

    Returns
    -------
    list of str
        In scheme order. AnnoMI ``advice`` adds nothing here: ``directing`` comes only
        from the project annotator.
    """
    annomi_codes, project_codes = list(annomi_codes), list(project_codes)
    if (DIRECTING_OVERRIDES_AUTO_COLLABORATION and auto_collaboration and "directing" in project_codes
            and "collaboration" not in project_codes):
        annomi_codes = [c for c in annomi_codes if c != "collaboration"]
    return sort_codes(annomi_codes + project_codes)


RECODE_DIR = ANNOTATIONS_DIR / "recode_withdrawal"
RECODE_COLUMNS = ["transcript_id", "utterance_id", "codes", "annotator", "guideline_version"]


def read_recode(path: str | Path | None = None, *, family: tuple[str, ...] = WITHDRAWAL) -> pd.DataFrame:
    """A family recode (``recode_withdrawal/labels_*.csv``): only the family's codes, client rows.

    Returns
    -------
    pandas.DataFrame
        ``transcript_id, utterance_id, code_list, annotator, guideline_version``; empty when
        there is no recode.

    Raises
    ------
    LabelError
        On a code outside the family or a key given twice (file and line).
    """
    path = Path(path) if path is not None else RECODE_DIR
    files = sorted(path.glob("labels_*.csv")) if path.is_dir() else ([path] if path.exists() else [])
    rows, seen = [], set()
    for file in files:
        for line, r in csv_records(file, RECODE_COLUMNS, LabelError):
            key = (str(r["transcript_id"]).strip(), str(r["utterance_id"]).strip())
            codes = [c.strip() for c in str(r["codes"] or "").split(";") if c.strip()]
            wrong = [c for c in codes if c not in family]
            if wrong:
                raise LabelError(file, f"code {wrong[0]!r} is not one this recode covers", line=line)
            if key in seen:
                raise LabelError(file, f"utterance {key[0]}#{key[1]} recoded twice", line=line)
            seen.add(key)
            rows.append({"transcript_id": key[0], "utterance_id": key[1], "code_list": codes,
                         "annotator": str(r["annotator"]).strip(),
                         "guideline_version": str(r["guideline_version"]).strip()})
    return pd.DataFrame(rows, columns=["transcript_id", "utterance_id", "code_list", "annotator",
                                       "guideline_version"])


def apply_recode(labels: pd.DataFrame, recode: pd.DataFrame, *, family: tuple[str, ...] = WITHDRAWAL
                 ) -> pd.DataFrame:
    """``labels`` with the family's codes replaced by the recode's on every recoded transcript.

    A recoded transcript must have every client utterance recoded; its other codes stay as
    they were. ``guideline_version`` becomes e.g. ``1.0+withdrawal:1.1``.
    """
    if recode.empty:
        return labels
    by_key = {(t, u): (c, v) for t, u, c, v in zip(recode.transcript_id, recode.utterance_id, recode.code_list,
                                                     recode.guideline_version)}
    recoded = set(recode.transcript_id)
    out = labels.copy()
    target = out.transcript_id.isin(recoded) & (out.role == "client")
    missing = [k for k in zip(out.transcript_id[target], out.utterance_id[target]) if k not in by_key]
    if missing:
        raise LabelError(RECODE_DIR, f"transcript {missing[0][0]} is recoded but utterance "
                                     f"{missing[0][0]}#{missing[0][1]} is not")
    name = "withdrawal" if family == WITHDRAWAL else "family"
    lists, versions = [], []
    for key, codes, version, hit in zip(zip(out.transcript_id, out.utterance_id), out.code_list,
                                        out.guideline_version, target):
        if hit:
            new, v = by_key[key]
            codes = sort_codes([c for c in codes if c not in family] + list(new))
            version = f"{version}+{name}:{v}"
        lists.append(list(codes))
        versions.append(version)
    out["code_list"], out["guideline_version"] = lists, versions
    out["codes"] = [";".join(c) for c in lists]
    return out


def join_labels(annomi: pd.DataFrame | None = None, labels: pd.DataFrame | None = None, *,
                annomi_path: str | Path | None = None, labels_dir: str | Path | None = None,
                recode: bool = True) -> pd.DataFrame:
    """One table of every AnnoMI utterance with its final codes.

    Parameters
    ----------
    annomi : pandas.DataFrame, optional
        From :func:`coder.data.annomi.load_annomi` (loaded from ``annomi_path`` if None).
    labels : pandas.DataFrame, optional
        From :func:`load_labels` (loaded from ``labels_dir`` if None, first pass).
    recode : bool
        Replace the withdrawal codes by the guideline-1.1 recode (:func:`read_recode`) where
        there is one.

    Returns
    -------
    pandas.DataFrame
        ``transcript_id, utterance_id, order, role, text, codes`` (final list),
        ``annomi_codes, project_codes, annotator, guideline_version, advice_candidate,
        auto_collaboration, mi_quality, topic``. ``text`` comes from AnnoMI and must not be
        written into the repository.
    """
    annomi = annomi if annomi is not None else load_annomi(annomi_path)
    labels = labels if labels is not None else load_labels(labels_dir, annomi=annomi)
    if recode:
        labels = apply_recode(labels, read_recode())
    merged = annomi.merge(labels[KEYS + ["role", "code_list", "annotator", "guideline_version"]],
                          on=KEYS, how="left", suffixes=("", "_label"), validate="one_to_one")
    if merged.annotator.isna().any():
        r = merged[merged.annotator.isna()].iloc[0]
        raise LabelError(None, f"utterance {r.transcript_id}#{r.utterance_id} has no project label")
    if (merged.role != merged.role_label).any():
        r = merged[merged.role != merged.role_label].iloc[0]
        raise LabelError(None, f"utterance {r.transcript_id}#{r.utterance_id}: role mismatch")
    merged = merged.rename(columns={"code_list": "project_codes"})
    merged["codes"] = [final_codes(a, p, auto_collaboration=bool(auto))
                       for a, p, auto in zip(merged.annomi_codes, merged.project_codes, merged.auto_collaboration)]
    columns = ["transcript_id", "utterance_id", "order", "role", "text", "codes", "annomi_codes", "project_codes",
               "annotator", "guideline_version", "advice_candidate", "auto_collaboration", "mi_quality", "topic"]
    return merged[columns]


def _dense_rows(frame: pd.DataFrame, coder_of, codes_of, reviewed_of) -> list[tuple]:
    rows = []
    for r in frame.itertuples(index=False):
        assigned = set(codes_of(r))
        for code in reviewed_of(r):
            rows.append((r.transcript_id, r.utterance_id, coder_of(r), code, 1.0 if code in assigned else 0.0))
    return rows


def long_table(joined: pd.DataFrame, *passes: pd.DataFrame, reference: bool = True) -> pd.DataFrame:
    """The corpus as the long table ``session_id, utterance_id, coder_id, code, score``.

    Parameters
    ----------
    joined : pandas.DataFrame
        From :func:`join_labels`.
    *passes : pandas.DataFrame
        Label frames from :func:`load_labels` (first pass, second pass …); each row is
        written under its ``annotator`` (``agent-a1`` …), densely over the codes the project
        annotates for its role (every scheme code except those AnnoMI gives).
    reference : bool
        Also write the final joined labels as coder ``reference:v1`` (dense over the role).

    Returns
    -------
    pandas.DataFrame
        :data:`coder.frames.LONG_COLUMNS`. ``annomi:expert`` is dense over the codes AnnoMI
        decides for the role (questions, reflections, information; talk types), plus a 1 for
        ``collaboration`` where it came from ``options``/``negotiation``.
    """
    rows = _dense_rows(joined, lambda r: ANNOMI_CODER, lambda r: r.annomi_codes,
                       lambda r: ANNOMI_DENSE_CODES.get(r.role, ()))
    rows += [(r.transcript_id, r.utterance_id, ANNOMI_CODER, "collaboration", 1.0)
             for r in joined.itertuples(index=False) if r.auto_collaboration]
    for labels in passes:
        rows += _dense_rows(labels, lambda r: r.annotator, lambda r: r.code_list,
                            lambda r: [c for c in codes_for_role(r.role) if c not in ANNOMI_DENSE_CODES[r.role]])
    if reference:
        rows += _dense_rows(joined, lambda r: REFERENCE_CODER, lambda r: r.codes, lambda r: codes_for_role(r.role))
    return pd.DataFrame(rows, columns=["session_id", "utterance_id", "coder_id", "code", "score"])[LONG_COLUMNS]
