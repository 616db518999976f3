"""Named runs of out-of-fold prediction files, shared by the benchmarks that compare recipes.

``NAME=a.csv,b.csv`` names a run made of several files (commas, or glob patterns such as
``cv_fold*_predictions.csv``), e.g. the finished folds of a cross-validation still running;
a bare path joins the run called ``run``.
"""

from __future__ import annotations

import glob
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def parse_runs(items: list[str]) -> dict[str, list[str]]:
    """``{name: [file, ...]}`` from command-line ``NAME=PATH[,PATH]`` items (globs expanded)."""
    runs: dict[str, list[str]] = {}
    for item in items:
        name, spec = item.split("=", 1) if "=" in item else ("run", item)
        runs.setdefault(name, []).extend(f for part in spec.split(",") for f in (sorted(glob.glob(part)) or [part]))
    return runs


def join_files(paths: list[str], dest: Path) -> Path:
    """One CSV at ``dest`` holding the rows of ``paths`` in order (all columns read as text)."""
    pd.concat([pd.read_csv(p, dtype=str) for p in paths]).to_csv(dest, index=False)
    return dest


def repo_relative(path: str) -> str:
    """``path`` relative to the repository when inside it, as given otherwise (for result files)."""
    resolved = Path(path).resolve()
    return str(resolved.relative_to(ROOT)) if resolved.is_relative_to(ROOT) else path
