"""Rank (share) decisions against threshold decisions, nested over cross-validation folds.

``coder.model.decisions.fit_decisions`` fits one probability threshold per code on the other
folds' out-of-fold probabilities and applies it to the held-out fold. Each fold model is
Platt-calibrated on its own 11-odd validation transcripts, so the probability scales of the
fold models differ, and a threshold that suits four folds can flag many times the labelled
prevalence on the fifth (``empathic_validation`` on v3: 221 flags for 13 labels). The rank
rule removes the scale: within each fold, and within the role a target applies to, a target's
probability becomes the share of that fold's utterances scoring at least as high; the share
``q`` to flag is fitted on the other folds with ``fit_threshold``'s rule (F1-best among the
shares whose predicted/labelled ratio lies in ``DecisionConfig``'s band, F1 smoothed over
neighbouring grid points, prevalence matching when positives are few or no share meets the
band), on a log-spaced share grid fine enough for codes well under 1 % prevalence; the
held-out fold then flags its top ``q`` share. This uses the held-out fold's score
distribution (never its labels): a transductive rule.

Both rules are judged nested, per target (support, predicted, ratio, precision, recall, F1),
by family macro-F1 (fine codes; argmax targets keep the fold models' decisions), by the F1 of
the family labels, by the targets outside the [0.5, 2] ratio band, and by rupture episodes
(``coder.model.episode_agreement``).

Run: ``.venv/bin/python benchmarks/rank_decisions.py NAME=PREDICTIONS.csv[,MORE.csv] ... [--json OUT]``,
each file a ``cv_predictions.csv`` or ``cv_fold{k}_predictions.csv`` of ``alliance-coder evaluate
--cv 5``; a run's files (commas, or glob patterns such as ``cv_fold*_predictions.csv``) are
joined. Result: ``benchmarks/results/rank_decisions.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _runs import join_files, parse_runs, repo_relative  # noqa: E402
from coder.metrics import binary_metrics  # noqa: E402
from coder.model import decisions  # noqa: E402
from coder.model.episode_agreement import episode_agreement  # noqa: E402
from coder.model.evaluate import target_family  # noqa: E402

ARGMAX_TARGETS, DecisionConfig, _role_of = decisions.ARGMAX_TARGETS, decisions.DecisionConfig, decisions._role_of

#: Shares to flag: log-spaced from 1e-4 to 1, about 4 % apart (a fold role holds ~400-1000 rows).
SHARE_GRID = np.geomspace(1e-4, 1.0, 241)
#: Fine-code families reported as macro-F1, and the family labels predicted as a whole.
FAMILY_MACROS = ("helpful", "harmful", "withdrawal", "confrontation")
FAMILY_LABELS = ("harmful", "withdrawal", "confrontation")
BAND = (0.5, 2.0)


def within_fold_shares(p: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Per row, the share of its fold's rows scoring at least as high (1/n for the top row).

    Parameters
    ----------
    p, folds : ndarray
        Probabilities of one target, and the fold of each row.

    Returns
    -------
    ndarray
        Shares in (0, 1]; tied scores all get the share of the lowest of their group.
    """
    s = np.empty(len(p))
    for k in np.unique(folds):
        rows = folds == k
        srt = np.sort(p[rows])
        s[rows] = (len(srt) - np.searchsorted(srt, p[rows], side="left")) / len(srt)
    return s


def fit_share(s: np.ndarray, y: np.ndarray, *, config: DecisionConfig | None = None,
              grid: np.ndarray = SHARE_GRID) -> float:
    """The F1-best share to flag among those whose prevalence ratio lies in the config's band.

    Mirrors ``coder.model.decisions.fit_threshold`` with ``s <= q`` in place of ``p >= t``.

    Parameters
    ----------
    s : ndarray
        Within-fold shares (:func:`within_fold_shares`) of one target.
    y : ndarray of bool
        Its labels.
    config : DecisionConfig, optional
        Band, smoothing width and fewest positives for a fitted share.
    grid : ndarray, optional
        Increasing candidate shares.

    Returns
    -------
    float
        The share; 0 without positives; the grid point whose predicted count is closest to
        the labelled count when positives are too few or no grid point meets the band.
    """
    cfg = config or DecisionConfig()
    s, y = np.asarray(s, float), np.asarray(y, bool)
    n_pos = int(y.sum())
    if n_pos == 0:
        return 0.0
    flag = s[None, :] <= grid[:, None]
    predicted = flag.sum(1)
    closest = float(grid[int(np.argmin(np.abs(predicted - n_pos)))])
    if n_pos < cfg.min_support:
        return closest
    f1 = 2 * (flag & y[None, :]).sum(1) / np.maximum(predicted + n_pos, 1)
    ok = (predicted / n_pos >= cfg.min_ratio) & (predicted / n_pos <= cfg.max_ratio)
    if not ok.any():
        return closest
    score = np.where(ok, f1, np.nan)
    if cfg.smooth > 1:
        kernel = np.ones(cfg.smooth)
        weight = np.convolve(ok.astype(float), kernel, "same")
        score = np.where(ok, np.convolve(np.nan_to_num(score), kernel, "same") / np.maximum(weight, 1), np.nan)
    return float(grid[int(np.nanargmax(score))])


def rank_decisions(oof: pd.DataFrame, truth: np.ndarray, mask: np.ndarray, names, base: np.ndarray, *,
                   config: DecisionConfig | None = None) -> tuple[np.ndarray, dict[str, list[float]]]:
    """Nested rank-rule decisions: each fold flags its top share fitted on the other folds.

    Parameters
    ----------
    oof : pandas.DataFrame
        Out-of-fold predictions (``role``, ``fold``, ``p_<target>``).
    truth, mask : ndarray (len(oof), len(names))
        Labels and which of them were decided.
    names : sequence of str
        Targets, the columns.
    base : ndarray (len(oof), len(names))
        ``fit_decisions``'s nested decisions; argmax targets are copied from it.
    config : DecisionConfig, optional

    Returns
    -------
    (decided, fold_shares)
        The decisions (0/1, same shape as ``truth``) and, per threshold target, the share
        applied to each fold.
    """
    truth, mask = np.asarray(truth) > 0.5, np.asarray(mask) > 0.5
    folds, roles = oof["fold"].to_numpy(), oof["role"].astype(str).to_numpy()
    decided, fold_shares = np.array(base, dtype=np.int8), {}
    for j, name in enumerate(names):
        if name in ARGMAX_TARGETS:
            continue
        use = (roles == _role_of(name)) & mask[:, j]
        f, y = folds[use], truth[use, j]
        s = within_fold_shares(oof[f"p_{name}"].to_numpy(float)[use], f)
        pred, shares = np.zeros(len(y), bool), []
        for k in np.unique(f):
            q = fit_share(s[f != k], y[f != k], config=config)
            pred[f == k] = s[f == k] <= q
            shares.append(round(q, 5))
        decided[:, j] = 0
        decided[use, j] = pred
        fold_shares[name] = shares
    return decided, fold_shares


def summarise(oof: pd.DataFrame, truth: np.ndarray, mask: np.ndarray, names, decided: np.ndarray) -> dict:
    """Per-target metrics and the headline figures of one set of nested decisions.

    Returns
    -------
    dict
        ``per_code`` (target: support, predicted, ratio, precision, recall, f1), family
        macro-F1s, family-label F1s, ``out_of_band`` (targets with ratio outside [0.5, 2])
        and the episode figures.
    """
    truth, mask = np.asarray(truth) > 0.5, np.asarray(mask) > 0.5
    roles = oof["role"].astype(str).to_numpy()
    rows = {}
    for j, name in enumerate(names):
        use = (roles == _role_of(name)) & mask[:, j]
        m = binary_metrics(truth[use, j], decided[use, j] > 0)
        rows[name] = {"family": target_family(name), "support": m["support"], "predicted": m["predicted"],
                      "ratio": m["predicted"] / m["support"] if m["support"] else float("nan"),
                      "precision": m["precision"], "recall": m["recall"], "f1": m["f1"]}
    table = pd.DataFrame.from_dict(rows, orient="index")
    present = table[table.support > 0]
    macro = {f"{fam}_macro_f1": float(present[present.family == fam].f1.mean()) for fam in FAMILY_MACROS}
    labels = {f"{fam}_label_f1": float(table.loc[fam, "f1"]) for fam in FAMILY_LABELS if fam in table.index}
    band = [n for n, r in table.ratio.items() if not (BAND[0] <= r <= BAND[1])]
    episodes = episode_agreement(oof[["transcript_id", "utterance_id"]].to_dict("records"), truth, decided, names)
    return {**macro, **labels, "n_out_of_band": len(band), "out_of_band": band, **episodes,
            "per_code": {n: {k: v for k, v in r.items() if k != "family"} for n, r in rows.items()}}


def run(path: Path, config: DecisionConfig) -> dict:
    """Base (``fit_decisions``) and rank decisions of one predictions file, summarised."""
    oof, truth, mask, names = decisions.read_cv_predictions(path)
    base = decisions.fit_decisions(oof, truth, mask, names, config=config)
    rank, fold_shares = rank_decisions(oof, truth, mask, names, base.decided, config=config)
    return {"folds": sorted(int(k) for k in oof["fold"].unique()), "n_utterances": len(oof),
            "base": summarise(oof, truth, mask, names, base.decided),
            "rank": summarise(oof, truth, mask, names, rank),
            "fold_thresholds": base.fold_thresholds, "fold_shares": fold_shares}


def print_run(name: str, r: dict) -> None:
    """Per threshold target support, ratio and F1 of both rules, then the headline figures."""
    print(f"\n== {name}: folds {r['folds']}, {r['n_utterances']} utterances")
    print(f"{'target':24}{'support':>8}{'ratio base':>11}{'rank':>7}{'F1 base':>9}{'rank':>7}")
    for t in r["fold_shares"]:
        b, k = r["base"]["per_code"][t], r["rank"]["per_code"][t]
        print(f"{t:24}{b['support']:8d}{b['ratio']:11.2f}{k['ratio']:7.2f}{b['f1']:9.3f}{k['f1']:7.3f}")
    for key in [k for k in r["base"] if k not in ("per_code", "out_of_band")]:
        print(f"{key:28}{r['base'][key]:10.3f}{r['rank'][key]:10.3f}")


def _clean(x):
    """Rounded plain figures for JSON; NaN becomes null."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, (np.integer, int)) and not isinstance(x, bool):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return None if np.isnan(x) else round(float(x), 4)
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="NAME=predictions.csv[,more.csv] (globs allowed), or bare paths")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "rank_decisions.json")
    args = parser.parse_args()
    runs = parse_runs(args.runs)
    cfg, result = DecisionConfig(), {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, paths) in enumerate(runs.items()):
            result[name] = run(join_files(paths, Path(tmp) / f"{i}.csv"), cfg)
            print_run(name, result[name])
    args.json.parent.mkdir(parents=True, exist_ok=True)
    out = {"date": time.strftime("%Y-%m-%d"), "what": __doc__.splitlines()[0], "config": vars(cfg),
           "share_grid": {"min": float(SHARE_GRID[0]), "max": float(SHARE_GRID[-1]), "points": len(SHARE_GRID)},
           "band": list(BAND), "runs": {n: [repo_relative(p) for p in ps] for n, ps in runs.items()},
           "per_run": result}
    args.json.write_text(json.dumps(_clean(out), indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
