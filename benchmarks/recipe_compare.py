"""Recipes compared on the same held-out transcripts, threshold-free (issue 11: what each lever moved).

A fold's headline F1 depends on thresholds tuned on that fold's 11-odd validation transcripts,
which moves it by several points between two models that rank utterances equally well. So
recipes are compared here on the out-of-fold probabilities of the folds they share: per target,
average precision against the corpus labels (``coder.model.decisions.read_cv_predictions``: the
same labels for every run, e.g. the guideline-1.1 withdrawal recode), and talk type as the
macro-F1 of the argmax. Paired by fold, so a difference is one of recipe, not of transcripts.

Run: ``.venv/bin/python benchmarks/recipe_compare.py NAME=PREDICTIONS.csv[,MORE.csv] ... [--json OUT]``,
each ``PREDICTIONS.csv`` a ``cv_predictions.csv`` or ``cv_fold{k}_predictions.csv`` of
``alliance-coder evaluate --cv 5 --cv-all`` with the same folds (seed 13); a run's files are
joined (e.g. the finished folds of a cross-validation still running). Result:
``benchmarks/results/recipe_compare.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, f1_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _runs import join_files, parse_runs, repo_relative  # noqa: E402
from coder.model.decisions import read_cv_predictions  # noqa: E402
from coder.scheme import TALK_TYPES  # noqa: E402

#: Fewest held-out positives for a target's average precision to be reported.
MIN_POSITIVES = 3


def scores(path: Path, folds: list[int]) -> dict:
    """Per-target average precision and the talk-type argmax macro-F1 over ``folds`` of one run."""
    oof, truth, mask, names = read_cv_predictions(path)
    held = oof["fold"].isin(folds).to_numpy()
    out = {}
    for j, name in enumerate(names):
        use = held & (mask[:, j] > 0.5)
        y = truth[use, j] > 0.5
        if y.sum() >= MIN_POSITIVES and name not in TALK_TYPES:
            out[name] = {"average_precision": round(float(average_precision_score(y, oof.loc[use, f"p_{name}"])), 4),
                         "positives": int(y.sum()), "utterances": int(use.sum())}
    talk = [names.index(t) for t in TALK_TYPES]
    use = held & (mask[:, talk].min(1) > 0.5) & (truth[:, talk].sum(1) == 1)
    pred = oof.loc[use, [f"p_{t}" for t in TALK_TYPES]].to_numpy().argmax(1)
    out["talk_type_argmax"] = {"macro_f1": round(float(f1_score(truth[use][:, talk].argmax(1), pred,
                                                                  average="macro")), 4),
                               "utterances": int(use.sum())}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="NAME=path/to/predictions.csv")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "recipe_compare.json")
    args = parser.parse_args()
    runs = parse_runs(args.runs)
    import tempfile

    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        joined = {}
        for name, paths in runs.items():
            joined[name] = join_files(paths, Path(tmp) / f"{len(joined)}.csv")
        folds = None
        for path in joined.values():
            these = set(pd.read_csv(path, usecols=["fold"])["fold"].unique().tolist())
            folds = these if folds is None else folds & these
        folds = sorted(int(f) for f in folds)
        if not folds:
            raise SystemExit("the runs share no fold")
        result = {name: scores(path, folds) for name, path in joined.items()}
    names = list(runs)
    targets = [t for t in result[names[0]] if t != "talk_type_argmax" and all(t in result[n] for n in names)]
    print(f"folds {folds}")
    print(f"{'target':24}" + "".join(f"{n:>12}" for n in names) + "  positives")
    for t in targets:
        print(f"{t:24}" + "".join(f"{result[n][t]['average_precision']:12.3f}" for n in names)
              + f"  {result[names[0]][t]['positives']}")
    print(f"{'talk type (argmax F1)':24}" + "".join(f"{result[n]['talk_type_argmax']['macro_f1']:12.3f}"
                                                     for n in names))
    means = {n: round(float(np.mean([result[n][t]["average_precision"] for t in targets])), 4) for n in names}
    print(f"{'mean AP':24}" + "".join(f"{means[n]:12.3f}" for n in names))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "date": time.strftime("%Y-%m-%d"), "what": __doc__.splitlines()[0], "folds": folds,
        "runs": {n: [repo_relative(p) for p in paths] for n, paths in runs.items()},
        "min_positives": MIN_POSITIVES, "mean_average_precision": means, "per_run": result}, indent=2) + "\n",
        encoding="utf-8")


if __name__ == "__main__":
    main()
