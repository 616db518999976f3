"""coder.metrics: F1 and kappa agree with scikit-learn, and the undefined cases follow one convention."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score, f1_score, precision_score, recall_score

from coder.metrics import binary_metrics, cohen_kappa, f1, fleiss_kappa, macro_f1

RNG = np.random.default_rng(3)
CASES = [([1, 1, 0, 0, 1, 0], [1, 0, 0, 1, 1, 0]), ([1, 0, 1], [1, 0, 1]), ([0, 0, 0, 1], [0, 0, 0, 0]),
         ([0, 0, 0, 0], [1, 0, 0, 0]), ([1, 1, 1], [0, 0, 0]), ([1, 1], [1, 1])]
CASES += [tuple(RNG.integers(0, 2, (2, 40)).tolist()) for _ in range(5)]


def _sk(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.mark.parametrize(("truth", "pred"), CASES)
def test_metrics_binary_match_sklearn(truth, pred):
    m = binary_metrics(truth, pred)
    np.testing.assert_allclose([m["precision"], m["recall"], m["f1"]],
                               [_sk(precision_score, truth, pred, zero_division=np.nan),
                                _sk(recall_score, truth, pred, zero_division=np.nan),
                                _sk(f1_score, truth, pred, zero_division=np.nan)])
    assert m["f1"] == f1(np.array(truth, bool), np.array(pred, bool)) or np.isnan(m["f1"])
    expected = _sk(cohen_kappa_score, truth, pred)
    assert (np.isnan(m["kappa"]) and np.isnan(expected)) or m["kappa"] == pytest.approx(expected)
    assert (m["support"], m["predicted"], m["n"]) == (sum(truth), sum(pred), len(truth))


def test_metrics_f1_convention_undefined_only_without_any_positive():
    assert np.isnan(f1([0, 0], [0, 0]))  # nothing to find, nothing found
    assert f1([1, 0], [0, 0]) == 0.0  # missed every positive
    assert f1([0, 0], [1, 0]) == 0.0  # only false alarms
    assert np.isnan(binary_metrics([1, 0], [0, 0])["precision"]) and binary_metrics([1, 0], [0, 0])["recall"] == 0.0


def test_metrics_kappa_convention():
    assert np.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))  # chance agreement 1: undefined
    assert cohen_kappa([1, 1, 1], [0, 0, 0]) == 0.0  # constant raters that disagree
    assert np.isnan(cohen_kappa([], []))
    assert cohen_kappa([0, 1], [0, 1]) == 1.0
    assert np.isnan(fleiss_kappa([[3, 0], [3, 0]])) and np.isnan(fleiss_kappa(np.zeros((0, 2))))
    with pytest.raises(ValueError):
        cohen_kappa([1, 0], [1])


@pytest.mark.parametrize("seed", range(4))
def test_metrics_cohen_kappa_nominal_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
    b[:25] = a[:25]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_metrics_fleiss_kappa_known_value_and_two_raters():
    # Fleiss (1971)-style table from Wikipedia's worked example: kappa 0.210
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert fleiss_kappa(table) == pytest.approx(0.2099, abs=1e-4)
    with pytest.raises(ValueError):
        fleiss_kappa([[1, 1], [2, 1]])


def test_metrics_macro_f1_over_present_classes():
    y, pred = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1])
    expected = _sk(f1_score, y, pred, labels=[0, 1], average="macro", zero_division=np.nan)
    assert macro_f1(y, pred, 3) == pytest.approx(expected)  # class 2 never occurs: not averaged
    assert np.isnan(macro_f1(np.array([], int), np.array([], int), 3))
