"""Agreement between coders (the model and annotators), per code and overall, from the long table.

Every code is treated as its own binary decision per utterance (present / absent). Two
coders are compared on the utterances both coded: Cohen's kappa, percentage agreement and
each coder's prevalence. With three or more coders, Fleiss' kappa (utterances every coder in
the group coded) and Krippendorff's alpha (nominal; any utterance with two or more codings)
are added, for the annotators alone and for everyone including the model.

"Overall" pools every utterance × code cell the coders share into one binary kappa
(``code = "(overall)"``); ``"(macro)"`` is the mean of the defined per-code values.

A coder "coded" an utterance when the long table has any row of theirs for it; a code they
have no row for on such an utterance counts as absent (so dense and sparse tables mix).
Scores at or above ``threshold`` are present: pass the model's *decisions* (1/0), as
:meth:`coder.review.store.Store.long_table` does, rather than probabilities, when the model
uses tuned thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from coder.frames import LONG_COLUMNS
from coder.metrics import cohen_kappa, fleiss_kappa
from coder.review.coded import FAMILY_LABELS
from coder.scheme import ALL_CODES, codes_for_role, family

__all__ = ["AgreementConfig", "COLUMNS", "agreement", "binary_cells", "cohen_kappa", "fleiss_kappa",
           "krippendorff_alpha", "load_long", "model_long_from_coded", "multirater_agreement", "pairwise_agreement"]

KEYS = ["session_id", "utterance_id"]
COLUMNS = ["statistic", "code", "family", "group", "coders", "n_raters", "n_items", "prevalence", "prev_a", "prev_b",
           "pct_agree", "value"]


@dataclass
class AgreementConfig:
    """Options of :func:`agreement`.

    Attributes
    ----------
    threshold : float
        A score at or above it means the code is present.
    multi_rater : bool
        Add Fleiss' kappa and Krippendorff's alpha for groups of three or more coders.
    """

    threshold: float = 0.5
    multi_rater: bool = True


def krippendorff_alpha(ratings) -> float:
    """Krippendorff's alpha, nominal, of a units × raters matrix (NaN = not rated)."""
    ratings = np.asarray(ratings, dtype=float)
    values = np.unique(ratings[~np.isnan(ratings)])
    index = {v: i for i, v in enumerate(values)}
    coincidence = np.zeros((len(values), len(values)))
    for unit in ratings:
        unit = unit[~np.isnan(unit)]
        m = len(unit)
        if m < 2:
            continue
        counts = np.zeros(len(values))
        for v in unit:
            counts[index[v]] += 1
        coincidence += (np.outer(counts, counts) - np.diag(counts)) / (m - 1)
    n_c = coincidence.sum(axis=1)
    n = n_c.sum()
    off = ~np.eye(len(values), dtype=bool)
    expected = (np.outer(n_c, n_c)[off]).sum()
    if n <= 1 or expected == 0:
        return float("nan")
    return float(1 - (n - 1) * coincidence[off].sum() / expected)


def binary_cells(long: pd.DataFrame, threshold: float = 0.5) -> pd.DataFrame:
    """Utterance × code cells (index ``session_id, utterance_id, code``) × coders: 1, 0 or NaN (not coded)."""
    missing = [c for c in LONG_COLUMNS if c not in long.columns]
    if missing:
        raise ValueError(f"not a long table (missing {', '.join(missing)})")
    long = long.assign(session_id=long.session_id.astype(str), utterance_id=long.utterance_id.astype(str),
                       present=(pd.to_numeric(long.score, errors="coerce") >= threshold).astype(float))
    wide = long.pivot_table(index=KEYS + ["code"], columns="coder_id", values="present", aggfunc="max")
    items = pd.MultiIndex.from_arrays([wide.index.get_level_values(0), wide.index.get_level_values(1)])
    for coder, rows in long.groupby("coder_id"):
        coded = pd.MultiIndex.from_frame(rows[KEYS].drop_duplicates())
        fill = items.isin(coded) & wide[coder].isna().to_numpy()
        wide.loc[fill, coder] = 0.0
    wide.columns.name = None
    return wide


def _family(code: str) -> str:
    try:
        return family(code)
    except KeyError:
        return "derived" if code in FAMILY_LABELS else ""


def _summary(rows: list[dict]) -> dict | None:
    values = [r["value"] for r in rows if not np.isnan(r["value"])]
    if not rows:
        return None
    return {**rows[0], "code": "(macro)", "family": "", "n_items": max(r["n_items"] for r in rows),
            "prevalence": np.nan, "prev_a": np.nan, "prev_b": np.nan, "pct_agree": np.nan,
            "value": float(np.mean(values)) if values else np.nan}


def pairwise_agreement(long: pd.DataFrame, config: AgreementConfig | None = None) -> pd.DataFrame:
    """Cohen's kappa for every pair of coders, per code, pooled (``(overall)``) and averaged (``(macro)``)."""
    cfg = config or AgreementConfig()
    cells = binary_cells(long, cfg.threshold)
    out = []
    for a, b in combinations(sorted(cells.columns, key=lambda c: (not c.startswith("model"), c)), 2):
        both = cells[[a, b]].dropna()
        if both.empty:
            continue
        group = "model-annotator" if (a.startswith("model") != b.startswith("model")) else \
            "annotators" if a.startswith("annotator") and b.startswith("annotator") else "other"
        base = {"statistic": "cohen_kappa", "group": group, "coders": f"{a} | {b}", "n_raters": 2}
        per_code = [_pair_row(base, code, part[a].to_numpy(), part[b].to_numpy())
                    for code, part in both.groupby(level="code", sort=False)]
        per_code.sort(key=lambda r: _order(r["code"]))
        out += per_code
        out.append(_pair_row(base, "(overall)", both[a].to_numpy(), both[b].to_numpy()))
        out.append(_summary(per_code))
    return pd.DataFrame([r for r in out if r], columns=COLUMNS)


def _pair_row(base: dict, name: str, x: np.ndarray, y: np.ndarray) -> dict:
    return {**base, "code": name, "family": _family(name) if not name.startswith("(") else "", "n_items": len(x),
            "prevalence": float(np.concatenate([x, y]).mean()), "prev_a": float(x.mean()), "prev_b": float(y.mean()),
            "pct_agree": float(np.mean(x == y)), "value": cohen_kappa(x, y)}


def _multi_rows(base: dict, members: list[str], name: str, part: pd.DataFrame) -> list[dict]:
    ratings = part[members].to_numpy()
    complete = ratings[~np.isnan(ratings).any(axis=1)]
    pairable = ratings[(~np.isnan(ratings)).sum(axis=1) >= 2]
    counts = np.stack([(complete == 0).sum(axis=1), (complete == 1).sum(axis=1)], axis=1)
    fam = _family(name) if not name.startswith("(") else ""
    pct = float(np.mean(counts.max(axis=1) == len(members))) if len(counts) else np.nan
    return [{**base, "statistic": "fleiss_kappa", "code": name, "family": fam, "n_items": len(complete),
             "prevalence": float(np.nanmean(complete)) if complete.size else np.nan, "pct_agree": pct,
             "value": fleiss_kappa(counts) if len(counts) else np.nan},
            {**base, "statistic": "krippendorff_alpha", "code": name, "family": fam, "n_items": len(pairable),
             "prevalence": float(np.nanmean(pairable)) if pairable.size else np.nan, "pct_agree": np.nan,
             "value": krippendorff_alpha(pairable)}]


def _order(code: str) -> tuple:
    return (ALL_CODES.index(code), code) if code in ALL_CODES else (len(ALL_CODES), code)


def multirater_agreement(long: pd.DataFrame, config: AgreementConfig | None = None) -> pd.DataFrame:
    """Fleiss' kappa and Krippendorff's alpha for the annotators, and for all coders, when ≥ 3."""
    cfg = config or AgreementConfig()
    cells = binary_cells(long, cfg.threshold)
    coders = sorted(cells.columns)
    groups = {"annotators": [c for c in coders if c.startswith("annotator:")], "all": coders}
    if groups["annotators"] == groups["all"]:
        del groups["all"]
    out = []
    for group, members in groups.items():
        if len(members) < 3:
            continue
        base = {"group": group, "coders": ", ".join(members), "n_raters": len(members), "prev_a": np.nan,
                "prev_b": np.nan}
        per_code = []
        for code, part in cells.groupby(level="code", sort=False):
            per_code += _multi_rows(base, members, code, part)
        per_code.sort(key=lambda r: (r["statistic"], _order(r["code"])))
        out += per_code
        out += _multi_rows(base, members, "(overall)", cells)
        for stat in ("fleiss_kappa", "krippendorff_alpha"):
            out.append(_summary([r for r in per_code if r["statistic"] == stat]))
    return pd.DataFrame([r for r in out if r], columns=COLUMNS)


def agreement(long: pd.DataFrame, config: AgreementConfig | None = None) -> pd.DataFrame:
    """Pairwise Cohen's kappa and (for ≥ 3 coders) Fleiss' kappa and Krippendorff's alpha, one table.

    Parameters
    ----------
    long : pandas.DataFrame
        The long table ``session_id, utterance_id, coder_id, code, score``.
    config : AgreementConfig, optional

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: ``statistic`` (``cohen_kappa``, ``fleiss_kappa``,
        ``krippendorff_alpha``), ``code`` (a code, ``(overall)`` or ``(macro)``), ``group``
        (``model-annotator``, ``annotators``, ``all``), ``coders``, ``n_items``, ``prevalence``
        (share of positive ratings), ``prev_a``/``prev_b`` (each coder's, pairs only),
        ``pct_agree`` and ``value``.
    """
    cfg = config or AgreementConfig()
    parts = [pairwise_agreement(long, cfg)]
    if cfg.multi_rater:
        parts.append(multirater_agreement(long, cfg))
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)


def model_long_from_coded(coded: pd.DataFrame, coder_id: str) -> pd.DataFrame:
    """The model's decisions, 1/0 for every code and family label it scored, from
    :func:`coder.review.coded.read_coded_dir`'s table."""
    rows = []
    for r in coded.to_dict("records"):
        have = set(str(r.get("codes") or "").split(";"))
        names = r["proba"] if isinstance(r.get("proba"), dict) else codes_for_role(r.get("role") or None)
        rows += [(str(r["session_id"]), str(r["utterance_id"]), coder_id, c, float(c in have)) for c in names]
    return pd.DataFrame(rows, columns=LONG_COLUMNS)


def load_long(paths) -> pd.DataFrame:
    """One long table from CSV long tables, corrections databases and coded folders.

    A ``.sqlite``/``.db`` file gives its annotators' current labels and the model's decisions;
    a coded folder gives the model's decisions (``utterances.csv``) plus its
    ``corrections.sqlite`` when present; anything else is read as a long-table CSV.
    """
    from coder.review.store import DEFAULT_DB_NAME, ReviewError, Store, read_coded_dir

    parts = []
    for path in map(Path, paths):
        if not path.exists():
            raise ReviewError(path, "no such file or folder")
        if path.suffix.lower() in (".sqlite", ".sqlite3", ".db"):
            parts.append(Store(path).long_table(model="codes"))
        elif path.is_dir():
            if (path / DEFAULT_DB_NAME).is_file():
                parts.append(Store(path / DEFAULT_DB_NAME).long_table(model="codes"))
            else:
                frame, coder_id = read_coded_dir(path)
                parts.append(model_long_from_coded(frame, coder_id))
        else:
            frame = pd.read_csv(path, dtype={"session_id": str, "utterance_id": str})
            missing = [c for c in LONG_COLUMNS if c not in frame.columns]
            if missing:
                raise ReviewError(path, f"not a long table (missing {', '.join(missing)})")
            parts.append(frame[LONG_COLUMNS])
    long = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=LONG_COLUMNS)
    return long.drop_duplicates(subset=KEYS + ["coder_id", "code"], keep="last").reset_index(drop=True)
