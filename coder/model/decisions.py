"""Per-code decisions fitted on out-of-fold predictions of a transcript-level cross-validation.

Thresholds tuned on a small validation share (11 transcripts for v2) over-fit the rare codes:
on new sessions the model flagged 4–8× more utterances than the labels hold. Here every
multi-label target gets its threshold from the out-of-fold probabilities of *all* training
transcripts, under a prevalence constraint (predicted / labelled positives within a band),
and is marked unreliable when its cross-validated F1 stays below a floor.

The figures that judge the rule are nested: the threshold applied to fold k is fitted on the
other folds' out-of-fold predictions only, so no figure comes from the data it was tuned on.
The thresholds to ship are then fitted once on all folds.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from coder.model.evaluate import binary_metrics, target_family
from coder.model.layout import BEHAVIOURS, FAMILIES
from coder.scheme import CLIENT_CODES, TALK_TYPES

#: Targets decided by an argmax (talk type, behaviour softmax), not by a threshold.
ARGMAX_TARGETS = frozenset(TALK_TYPES) | frozenset(BEHAVIOURS)


@dataclass
class DecisionConfig:
    """How thresholds are fitted on out-of-fold predictions.

    Attributes
    ----------
    min_ratio, max_ratio : float
        Allowed predicted / labelled positives on the fitting data. Tighter than the issue's
        [0.5, 2] band so that held-out folds, whose calibration differs a little, stay inside it.
    grid_step : float
        Step of the threshold grid over (0, 1).
    smooth : int
        Width (grid points) of the moving average over F1 before the argmax, so that one lucky
        grid point among few positives does not decide.
    min_reliable_f1 : float
        Cross-validated (nested) F1 below which a code is marked unreliable.
    min_support : int
        Fewest labelled positives on the fitting data for a fitted threshold; below it the
        threshold matches the labelled prevalence.
    """

    min_ratio: float = 0.67
    max_ratio: float = 1.5
    grid_step: float = 0.01
    smooth: int = 5
    min_reliable_f1: float = 0.30
    min_support: int = 5


def fit_threshold(p: np.ndarray, y: np.ndarray, *, config: DecisionConfig | None = None) -> float:
    """The F1-best threshold among those whose prevalence ratio lies in the config's band.

    Parameters
    ----------
    p : ndarray
        Calibrated probabilities of one code.
    y : ndarray of bool
        Its labels.
    config : DecisionConfig, optional

    Returns
    -------
    float
        The threshold; when no grid point meets the band (or positives are too few), the one
        whose predicted count is closest to the labelled count (prevalence matching).
    """
    cfg = config or DecisionConfig()
    p, y = np.asarray(p, float), np.asarray(y, bool)
    n_pos = int(y.sum())
    grid = np.round(np.arange(cfg.grid_step, 1.0, cfg.grid_step), 6)
    predicted = (p[None, :] >= grid[:, None]).sum(1)
    if n_pos == 0:
        return float(grid[-1])
    closest = float(grid[int(np.argmin(np.abs(predicted - n_pos)))])
    if n_pos < cfg.min_support:
        return closest
    tp = ((p[None, :] >= grid[:, None]) & y[None, :]).sum(1)
    f1 = 2 * tp / np.maximum(predicted + n_pos, 1)  # coder.metrics.f1 at every grid point at once
    ratio = predicted / n_pos
    ok = (ratio >= cfg.min_ratio) & (ratio <= cfg.max_ratio)
    if not ok.any():
        return closest
    score = np.where(ok, f1, np.nan)
    if cfg.smooth > 1:
        kernel = np.ones(cfg.smooth)
        filled = np.nan_to_num(score, nan=0.0)
        weight = np.convolve(ok.astype(float), kernel, "same")
        score = np.where(ok, np.convolve(filled, kernel, "same") / np.maximum(weight, 1), np.nan)
    return float(grid[int(np.nanargmax(score))])


@dataclass
class DecisionFit:
    """What :func:`fit_decisions` returns.

    Attributes
    ----------
    thresholds : dict of str to float
        Per multi-label target, fitted on all folds: the thresholds to ship.
    per_code : pandas.DataFrame
        One row per target: family, support, predicted, ratio, precision, recall, f1, kappa
        (all nested out of fold), threshold (shipped), rule (``threshold`` or ``argmax``),
        reliable.
    fold_thresholds : dict of str to list of float
        The nested thresholds, one per fold (how stable the rule is).
    config : DecisionConfig
    decided : ndarray or None
        The nested out-of-fold decisions (rows of the predictions × targets), for figures that
        need them all at once (rupture episodes).
    """

    thresholds: dict[str, float]
    per_code: pd.DataFrame
    fold_thresholds: dict[str, list[float]] = field(default_factory=dict)
    config: DecisionConfig = field(default_factory=DecisionConfig)
    decided: np.ndarray | None = None

    @property
    def unreliable(self) -> list[str]:
        """Targets whose nested cross-validated F1 is below the floor (or undefined)."""
        return [c for c, ok in self.per_code["reliable"].items() if not ok]

    def reliability(self) -> dict[str, dict]:
        """``{target: {"reliable", "cv_f1", "support"}}`` for ``labels.json``."""
        out = {}
        for code, row in self.per_code.iterrows():
            f1 = None if pd.isna(row.f1) else round(float(row.f1), 3)
            out[code] = {"reliable": bool(row.reliable), "cv_f1": f1, "support": int(row.support)}
        return out

    def save(self, model_dir: str | Path, *, source: str) -> None:
        """Write the shipped thresholds and the reliability flags into a model folder.

        ``thresholds.json`` keeps the model's talk and behaviour offsets and gains a
        ``decisions`` record of where the thresholds came from; ``labels.json`` gains
        ``reliability``.
        """
        model_dir = Path(model_dir)
        th_path, labels_path = model_dir / "thresholds.json", model_dir / "labels.json"
        th = json.loads(th_path.read_text(encoding="utf-8"))
        th["thresholds"] = {c: round(v, 4) for c, v in self.thresholds.items()}
        th["decisions"] = {"source": source, "config": asdict(self.config)}
        th_path.write_text(json.dumps(th, indent=2) + "\n", encoding="utf-8")
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
        reliability = self.reliability()
        for code in labels.get("scheme_codes", []):
            if code not in reliability:  # trained only as its family: no decision of its own
                reliability[code] = {"reliable": False, "cv_f1": None, "support": None,
                                     "family_only": next((f for f, m in FAMILIES.items() if code in m), None)}
        labels["reliability"] = reliability
        labels_path.write_text(json.dumps(labels, indent=2) + "\n", encoding="utf-8")


def unreliable_codes(model_dir: str | Path | None) -> tuple[str, ...]:
    """Scheme codes a model folder's ``labels.json`` flags unreliable, sorted (none without flags)."""
    if model_dir is None:
        return ()
    try:
        labels = json.loads((Path(model_dir) / "labels.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ()
    flags = labels.get("reliability") or {}
    return tuple(sorted(c for c, f in flags.items() if not f.get("reliable", True) and c not in FAMILIES))


def _role_of(name: str) -> str:
    if name in FAMILIES:
        return "client" if name in ("withdrawal", "confrontation") else "therapist"
    return "client" if name in CLIENT_CODES else "therapist"


def fit_decisions(oof: pd.DataFrame, truth: np.ndarray, mask: np.ndarray, names: Sequence[str], *,
                  config: DecisionConfig | None = None) -> DecisionFit:
    """Fit per-target thresholds on out-of-fold predictions; judge them nested across folds.

    Parameters
    ----------
    oof : pandas.DataFrame
        Out-of-fold predictions (``coder.model.evaluate.cross_validate``): ``role``, ``fold``,
        ``codes`` (the fold model's own decisions) and one ``p_<target>`` column per target.
    truth, mask : ndarray (len(oof), len(names))
        Labels of the same rows, and which of them were decided.
    names : sequence of str
        Targets, the columns of ``truth``.
    config : DecisionConfig, optional

    Returns
    -------
    DecisionFit
        Argmax targets (talk type, behaviours) keep the fold models' own decisions; they are
        scored and flagged like the rest.
    """
    cfg = config or DecisionConfig()
    truth, mask = np.asarray(truth) > 0.5, np.asarray(mask) > 0.5
    folds = oof["fold"].to_numpy()
    decided = oof["codes"].fillna("").astype(str).str.split(";")
    roles = oof["role"].astype(str).to_numpy()
    thresholds, fold_thresholds, rows = {}, {}, {}
    decided_all = np.zeros(truth.shape, dtype=np.int8)
    for j, name in enumerate(names):
        use = (roles == _role_of(name)) & mask[:, j]
        y = truth[use, j]
        if name in ARGMAX_TARGETS:
            pred = np.array([name in d for d in decided])[use]
            rule, shipped = "argmax", float("nan")
        else:
            p = oof[f"p_{name}"].to_numpy(float)[use]
            f = folds[use]
            pred, per_fold = np.zeros(len(y), bool), []
            for k in np.unique(folds):
                t = fit_threshold(p[f != k], y[f != k], config=cfg)
                pred[f == k] = p[f == k] >= t
                per_fold.append(round(t, 4))
            shipped = fit_threshold(p, y, config=cfg)
            thresholds[name], fold_thresholds[name], rule = shipped, per_fold, "threshold"
        decided_all[use, j] = pred
        m = binary_metrics(y, pred)
        ratio = m["predicted"] / m["support"] if m["support"] else float("nan")
        reliable = bool(m["support"] > 0 and not np.isnan(m["f1"]) and m["f1"] >= cfg.min_reliable_f1)
        rows[name] = {"family": target_family(name), "support": m["support"], "predicted": m["predicted"],
                      "ratio": ratio, "precision": m["precision"], "recall": m["recall"], "f1": m["f1"],
                      "kappa": m["kappa"], "threshold": shipped, "rule": rule, "reliable": reliable}
    return DecisionFit(thresholds, pd.DataFrame.from_dict(rows, orient="index"), fold_thresholds, cfg, decided_all)


def read_cv_predictions(path: str | Path, *, annomi_path=None, exclude: Sequence[str] = ()
                        ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, tuple[str, ...]]:
    """Out-of-fold predictions joined to the corpus labels of the same utterances.

    Parameters
    ----------
    path : path-like
        ``cv_predictions.csv`` from ``alliance-coder evaluate --cv K --out DIR``.
    annomi_path : path-like, optional
    exclude : sequence of str
        Transcript ids to leave out (the test split, when the decisions are to be shipped and
        the test split kept for a clean check).

    Returns
    -------
    (oof, truth, mask, names)
    """
    from coder.data.build import build_dataset
    from coder.model.layout import Layout

    oof = pd.read_csv(path, dtype={"transcript_id": str, "utterance_id": str, "codes": str})
    oof = oof[~oof.transcript_id.isin(set(map(str, exclude)))].reset_index(drop=True)
    corpus = build_dataset(annomi_path=annomi_path, include_welivita=False, include_constructed=False,
                           include_rewrites=False, include_mibot=False)
    records = [r for split in corpus for r in corpus[split]]
    layout = Layout.default()
    missing = [n for n in layout.names if f"p_{n}" not in oof.columns]
    if missing:
        raise ValueError(f"{path}: no p_ column for {', '.join(missing)} (predictions of another layout?)")
    truth, mask = layout.arrays(records)
    index = {(str(r["transcript_id"]), str(r["utterance_id"])): i for i, r in enumerate(records)}
    rows = np.array([index[k] for k in zip(oof.transcript_id, oof.utterance_id)])
    return oof, np.asarray(truth)[rows], np.asarray(mask)[rows], tuple(layout.names)
