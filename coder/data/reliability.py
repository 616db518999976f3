"""Agreement of the double-coded subset: per code, per family, per session-rating scale.

The first pass (agents a1–a6, one per transcript) and the independent second pass
(agent-b1) overlap on 15 transcripts. For every project-coded code this computes Cohen's
kappa over the utterances of the code's role, its prevalence in each pass, percent
agreement and a 95% bootstrap interval (transcripts resampled), and flags a code as *too
rare to estimate* when fewer than :data:`MIN_POSITIVES` utterances are positive in at least
one of the passes. AnnoMI's own agreement on the mapped codes (its four ten-annotator transcripts) is
given alongside, as the ceiling for the codes the project takes from AnnoMI.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from coder.data.annomi import ANNOMI_DENSE_CODES, VOTED_FIELDS, map_fields, read_annomi_csv
from coder.data.ratings import SCALES
from coder.metrics import cohen_kappa, fleiss_kappa  # noqa: F401 - re-exported for the reliability report
from coder.scheme import FAMILIES as SCHEME_FAMILIES
from coder.scheme import RUPTURE_MARKERS, THERAPIST_CODES

KEYS = ["transcript_id", "utterance_id"]
#: Below this many positive utterances (union of both passes) a kappa is not interpretable.
MIN_POSITIVES = 5
#: Kappa below which a code needs a plan (merge, sharpen or drop).
KAPPA_FLOOR = 0.4
#: Family-level labels (derived, never annotated): name → (role, member codes).
FAMILIES = {
    "withdrawal": ("client", SCHEME_FAMILIES["withdrawal"]),
    "confrontation": ("client", SCHEME_FAMILIES["confrontation"]),
    "rupture": ("client", RUPTURE_MARKERS),
    "harmful_any": ("therapist", SCHEME_FAMILIES["harmful"]),
}
#: The codes the project annotates (AnnoMI's question, reflection, information and talk-type
#: codes are given, not re-coded; ``collaboration`` is both).
PROJECT_CODES = tuple(c for c in THERAPIST_CODES if c not in ANNOMI_DENSE_CODES["therapist"]) + RUPTURE_MARKERS
AGREEMENT_COLUMNS = ["code", "level", "role", "n", "pos_first", "pos_second", "prev_first", "prev_second",
                     "pct_agree", "kappa", "ci_low", "ci_high", "estimable", "needs_plan"]


def double_coded(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Rows coded in both passes: keys, role, and ``codes_first`` / ``codes_second`` (lists).

    Parameters
    ----------
    first, second : pandas.DataFrame
        Label frames from :func:`coder.data.labels.load_labels`.
    """
    cols = KEYS + ["role", "code_list"]
    merged = second[cols].merge(first[cols], on=KEYS, suffixes=("_second", "_first"), validate="one_to_one")
    if (merged.role_first != merged.role_second).any():
        raise ValueError("the two passes disagree on a role")
    return merged.rename(columns={"role_first": "role", "code_list_first": "codes_first",
                                  "code_list_second": "codes_second"}).drop(columns="role_second")


def _agreement_row(name, level, role, frame, members, *, n_boot, rng) -> dict:
    sub = frame[frame.role == role]
    x = sub.codes_first.map(lambda cs: any(c in members for c in cs)).to_numpy(int)
    y = sub.codes_second.map(lambda cs: any(c in members for c in cs)).to_numpy(int)
    kappa = cohen_kappa(x, y)
    groups = [np.flatnonzero((sub.transcript_id == t).to_numpy()) for t in sub.transcript_id.unique()]
    boots = []
    for _ in range(n_boot if not np.isnan(kappa) else 0):
        idx = np.concatenate([groups[i] for i in rng.integers(0, len(groups), len(groups))])
        boots.append(cohen_kappa(x[idx], y[idx]))
    boots = np.array([b for b in boots if not np.isnan(b)])
    union = int(((x + y) > 0).sum())
    estimable = union >= MIN_POSITIVES
    return {
        "code": name, "level": level, "role": role, "n": len(sub), "pos_first": int(x.sum()),
        "pos_second": int(y.sum()), "prev_first": x.mean() if len(x) else np.nan,
        "prev_second": y.mean() if len(y) else np.nan, "pct_agree": float(np.mean(x == y)) if len(x) else np.nan,
        "kappa": kappa, "ci_low": np.quantile(boots, 0.025) if len(boots) else np.nan,
        "ci_high": np.quantile(boots, 0.975) if len(boots) else np.nan, "estimable": estimable,
        "needs_plan": bool(np.isnan(kappa) or kappa < KAPPA_FLOOR or not estimable),
    }


def code_agreement(first: pd.DataFrame, second: pd.DataFrame, *, codes=None, n_boot: int = 1000,
                   seed: int = 13) -> pd.DataFrame:
    """Per-code and per-family agreement between the first and second pass.

    Parameters
    ----------
    first, second : pandas.DataFrame
        Label frames (:func:`coder.data.labels.load_labels`).
    codes : sequence of str, optional
        Codes to report; default :data:`PROJECT_CODES`.
    n_boot : int
        Bootstrap replicates for the 95% interval (transcripts resampled with replacement).
    seed : int

    Returns
    -------
    pandas.DataFrame
        :data:`AGREEMENT_COLUMNS`; ``level`` is ``code`` or ``family``; ``kappa`` is NaN
        when undefined; ``needs_plan`` marks kappa < 0.4, undefined, or too rare.
    """
    frame = double_coded(first, second)
    rng = np.random.default_rng(seed)
    codes = list(codes or PROJECT_CODES)
    rows = [_agreement_row(c, "code", "therapist" if c in THERAPIST_CODES else "client", frame, {c},
                           n_boot=n_boot, rng=rng) for c in codes]
    rows += [_agreement_row(name, "family", role, frame, set(members), n_boot=n_boot, rng=rng)
             for name, (role, members) in FAMILIES.items()]
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)


def annomi_agreement(annomi_path=None) -> pd.DataFrame:
    """AnnoMI's own inter-annotator agreement on the mapped codes (transcripts 7, 27, 55, 130).

    Parameters
    ----------
    annomi_path : path-like, optional

    Returns
    -------
    pandas.DataFrame
        ``code, role, n_utterances, n_annotators, prevalence, fleiss_kappa,
        mean_pairwise_kappa``; ``advice`` is the AnnoMI value that is a candidate for
        ``directing``.
    """
    raw = read_annomi_csv(annomi_path)
    multi = raw[raw.groupby("transcript_id").annotator_id.transform("nunique") > 1].copy()
    mapped = [map_fields(r) for r in multi[list(VOTED_FIELDS)].to_dict("records")]
    multi["codes"] = [m[0] + (["advice"] if m[1] else []) for m in mapped]
    rows = []
    targets = [("therapist", c) for c in ("question_open", "question_closed", "reflection_simple",
                                          "reflection_complex", "information", "collaboration", "advice")]
    targets += [("client", c) for c in ("change_talk", "sustain_talk", "neutral_talk")]
    for role, code in targets:
        sub = multi[multi.interlocutor == role]
        wide = sub.assign(v=sub.codes.map(lambda cs: int(code in cs))).pivot_table(
            index=KEYS, columns="annotator_id", values="v", aggfunc="first").dropna()
        arr = wide.to_numpy(int)
        pos = arr.sum(axis=1)
        pairs = [cohen_kappa(arr[:, i], arr[:, j]) for i, j in combinations(range(arr.shape[1]), 2)]
        rows.append({"code": code, "role": role, "n_utterances": len(arr), "n_annotators": arr.shape[1],
                     "prevalence": float(arr.mean()),
                     "fleiss_kappa": fleiss_kappa(np.column_stack([arr.shape[1] - pos, pos])),
                     "mean_pairwise_kappa": float(np.nanmean(pairs)) if pairs else np.nan})
    return pd.DataFrame(rows)


def icc_2_1(ratings: np.ndarray) -> float:
    """ICC(2,1): two-way random effects, absolute agreement, single rater (Shrout & Fleiss 1979).

    Parameters
    ----------
    ratings : array, shape (n_subjects, k_raters)
    """
    y = np.asarray(ratings, dtype=float)
    n, k = y.shape
    grand = y.mean()
    msr = k * ((y.mean(axis=1) - grand) ** 2).sum() / (n - 1)
    msc = n * ((y.mean(axis=0) - grand) ** 2).sum() / (k - 1)
    sse = ((y - y.mean(axis=1, keepdims=True) - y.mean(axis=0, keepdims=True) + grand) ** 2).sum()
    mse = sse / ((n - 1) * (k - 1))
    denom = msr + (k - 1) * mse + k * (msc - mse) / n
    return float("nan") if denom == 0 else float((msr - mse) / denom)


def rating_agreement(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Agreement of two passes of session ratings, per scale.

    Parameters
    ----------
    first, second : pandas.DataFrame
        Ratings frames (:func:`coder.data.ratings.read_ratings`); matched on transcript.

    Returns
    -------
    pandas.DataFrame
        ``scale, n, mean_first, mean_second, mean_abs_diff, within_0_5, pearson_r, icc_2_1``.
    """
    both = second.merge(first, on="transcript_id", suffixes=("_second", "_first"))
    rows = []
    for scale in SCALES:
        a, b = both[f"{scale}_first"].to_numpy(float), both[f"{scale}_second"].to_numpy(float)
        r = float(np.corrcoef(a, b)[0, 1]) if len(a) > 2 and a.std() and b.std() else float("nan")
        rows.append({"scale": scale, "n": len(a), "mean_first": a.mean(), "mean_second": b.mean(),
                     "mean_abs_diff": float(np.abs(a - b).mean()), "within_0_5": float(np.mean(np.abs(a - b) <= 0.5)),
                     "pearson_r": r, "icc_2_1": icc_2_1(np.column_stack([a, b]))})
    return pd.DataFrame(rows)


def markdown_table(frame: pd.DataFrame, *, floatfmt: str = ".2f", na: str = "–") -> str:
    """A GitHub-markdown table of ``frame`` (no index); floats formatted, NaN shown as ``na``."""
    def cell(v):
        if isinstance(v, (bool, np.bool_)):
            return "yes" if v else "no"
        if isinstance(v, (float, np.floating)):
            return na if np.isnan(v) else format(v, floatfmt)
        return str(v)
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)
