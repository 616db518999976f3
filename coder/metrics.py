"""F1 and kappa, once for the whole project (model evaluation, calibration, review agreement, reliability).

Conventions for the undefined cases (one everywhere; ``tests/test_metrics.py`` checks them):

* **F1** is NaN when there are neither true nor predicted positives (0/0: nothing to find and
  nothing found says nothing about the coder); it is 0 when only one side has positives.
  **Precision** is NaN without predicted positives, **recall** NaN without true positives.
  These are scikit-learn's ``zero_division=np.nan``. Averages (macro-F1) skip NaN, i.e. they
  average over the codes that occur, which is how the project always reported them.
* **Cohen's and Fleiss' kappa** are NaN when chance agreement is 1, i.e. every rating falls in
  one category (both raters constant and equal): agreement is then perfect and uninformative.
  Two raters that are each constant but disagree get kappa 0 (chance agreement 0, observed 0).
  An empty input gives NaN.

The formulas are written with NumPy counts rather than calling ``sklearn.metrics`` per call:
they run in the inner loops of threshold search (about a hundred calls per code) and of
bootstrap intervals (a thousand per code), where scikit-learn's input validation costs a
millisecond a call, and importing scikit-learn would add to the coder's start-up. The tests
check every function against ``sklearn.metrics.f1_score``/``precision_score``/``recall_score``
(``zero_division=np.nan``) and ``cohen_kappa_score``, edge cases included.
"""

from __future__ import annotations

import numpy as np

__all__ = ["binary_metrics", "cohen_kappa", "f1", "fleiss_kappa", "macro_f1"]


def f1(truth, pred) -> float:
    """Binary F1 of boolean (or 0/1) vectors; NaN when neither has a positive.

    Parameters
    ----------
    truth, pred : array-like of bool
        Reference labels and decisions, same length.
    """
    truth, pred = np.asarray(truth, bool), np.asarray(pred, bool)
    denom = int(truth.sum()) + int(pred.sum())
    return 2.0 * int(np.sum(truth & pred)) / denom if denom else float("nan")


def macro_f1(y, pred, k: int) -> float:
    """Macro-F1 over the classes ``0..k-1`` that occur in ``y`` (NaN when none does).

    Parameters
    ----------
    y, pred : array-like of int
        Reference and predicted class indices.
    k : int
        Number of classes.
    """
    y, pred = np.asarray(y), np.asarray(pred)
    scores = [f1(y == c, pred == c) for c in range(k) if np.any(y == c)]
    return float(np.mean(scores)) if scores else float("nan")


def binary_metrics(truth, pred) -> dict[str, float]:
    """Precision, recall, F1, Cohen's kappa, support, predicted positives and n for one code.

    Parameters
    ----------
    truth, pred : array-like of bool

    Returns
    -------
    dict
        ``precision, recall, f1, kappa`` (floats, NaN where undefined; see the module) and
        ``support, predicted, n`` (ints).
    """
    truth, pred = np.asarray(truth, bool), np.asarray(pred, bool)
    n, tp = len(truth), int(np.sum(truth & pred))
    support, predicted = int(truth.sum()), int(pred.sum())
    return {"precision": tp / predicted if predicted else float("nan"),
            "recall": tp / support if support else float("nan"),
            "f1": f1(truth, pred), "kappa": cohen_kappa(truth, pred),
            "support": support, "predicted": predicted, "n": n}


def cohen_kappa(a, b) -> float:
    """Cohen's kappa of two nominal rating vectors (binary or more categories).

    NaN when empty or when chance agreement is 1 (every rating in one category).
    """
    a, b = np.asarray(a), np.asarray(b)
    if len(a) != len(b):
        raise ValueError(f"rating vectors differ in length ({len(a)} vs {len(b)})")
    if len(a) == 0:
        return float("nan")
    po = float(np.mean(a == b))
    pe = float(sum(np.mean(a == c) * np.mean(b == c) for c in np.union1d(a, b)))
    return float("nan") if pe >= 1 - 1e-12 else (po - pe) / (1 - pe)


def fleiss_kappa(counts) -> float:
    """Fleiss' kappa of an items × categories matrix of rater counts (the same number of raters per item).

    NaN when empty or when chance agreement is 1 (every rating in one category).

    Raises
    ------
    ValueError
        When items have different numbers of ratings, or fewer than two.
    """
    counts = np.asarray(counts, dtype=float)
    if counts.size == 0:
        return float("nan")
    n = counts.sum(axis=1)
    if np.any(n != n[0]) or n[0] < 2:
        raise ValueError("Fleiss' kappa needs the same number (≥ 2) of ratings on every item")
    p_j = counts.sum(axis=0) / counts.sum()
    p_i = ((counts ** 2).sum(axis=1) - n) / (n * (n - 1))
    pe = float((p_j ** 2).sum())
    return float("nan") if pe >= 1 - 1e-12 else (float(p_i.mean()) - pe) / (1 - pe)
