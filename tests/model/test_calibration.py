"""Calibration and thresholds: fitted on validation scores, applied by name."""

from __future__ import annotations

import numpy as np
import pytest

from coder.model.calibration import Calibrator, best_offsets, best_threshold, fit_platt, fit_temperature
from coder.model.layout import BEHAVIOURS, CLIENT, THERAPIST, Layout


def test_calibration_threshold_maximises_f1():
    p = np.array([0.1, 0.2, 0.3, 0.35, 0.8, 0.9])
    y = np.array([0, 0, 1, 1, 1, 0])
    assert best_threshold(p, y) == pytest.approx(0.3)
    assert best_threshold(p, np.array([0, 0, 0, 0, 0, 1])) == 0.5  # too few positives: default


def test_calibration_platt_and_temperature_recover_known_scales():
    rng = np.random.default_rng(0)
    z = rng.normal(size=4000)
    y = rng.random(4000) < 1 / (1 + np.exp(-(2 * z - 1)))
    a, b = fit_platt(z, y)
    assert a == pytest.approx(2, abs=0.3) and b == pytest.approx(-1, abs=0.2)
    assert fit_platt(z[:20], np.zeros(20, bool)) == (1.0, 0.0)  # no positives: identity
    logits = rng.normal(size=(4000, 3)) * 3
    truth = np.array([rng.choice(3, p=np.exp(l / 2) / np.exp(l / 2).sum()) for l in logits])
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    assert fit_temperature(logp, truth) == pytest.approx(2, rel=0.15)


def test_calibration_offsets_recover_a_shifted_class():
    rng = np.random.default_rng(1)
    y = rng.choice(3, size=600, p=[0.6, 0.2, 0.2])
    logp = np.log(np.full((600, 3), 0.1))
    logp[np.arange(600), y] = np.log(0.8)
    logp[:, 0] += 2.5  # a biased model: always the first class
    assert (logp.argmax(1) == 0).all()
    offsets = best_offsets(logp, y)
    assert ((logp + offsets).argmax(1) == y).mean() > 0.95


def test_calibration_thresholds_and_talk_offsets_applied_by_name():
    lay = Layout.from_merges({})
    names = lay.names
    cal = Calibrator(thresholds={"question_open": 0.9, "directing": 0.1}, talk_offsets={"sustain_talk": 5.0})
    proba = np.zeros((2, len(names)))
    proba[0, names.index("question_open")] = 0.8
    proba[0, names.index("directing")] = 0.2
    proba[1, [names.index(t) for t in ("change_talk", "sustain_talk", "neutral_talk")]] = [0.6, 0.05, 0.35]
    decided = cal.decide(proba, lay.allowed([THERAPIST, CLIENT]), names)
    on = {names[j] for j in np.flatnonzero(decided[0])} | {names[j] for j in np.flatnonzero(decided[1])}
    assert on == {"directing", "sustain_talk"}


def test_calibration_behaviour_softmax_fits_and_decides():
    lay = Layout.from_merges({})
    names, idx = lay.names, lay.behaviour_idx
    rng = np.random.default_rng(2)
    n = 3000
    logits = rng.normal(size=(n, 6)) * 3
    truth = np.array([rng.choice(6, p=np.exp(l / 2) / np.exp(l / 2).sum()) for l in logits])
    raw = np.full((n, len(names)), -np.inf)
    raw[:, lay.therapist_idx] = 0.0
    raw[:, idx] = (logits - np.log(np.exp(logits).sum(1, keepdims=True)))[:, :5]
    labels, mask = np.zeros_like(raw), np.ones_like(raw)
    rows = truth < 5
    labels[np.flatnonzero(rows), np.asarray(idx)[truth[rows]]] = 1
    allowed = lay.allowed([THERAPIST] * n)
    cal = Calibrator.fit(raw, labels, mask, allowed, names, behaviours=BEHAVIOURS)
    assert cal.behaviour_temperature == pytest.approx(2, rel=0.15)
    assert cal.behaviour_offsets["other"] == 0.0 and "question_open" not in cal.platt
    proba = cal.proba(raw, names)
    assert (proba[:, idx].sum(1) < 1).all()
    decided = cal.decide(proba, allowed, names)[:, idx]
    assert decided.sum(1).max() == 1 and (decided.sum(1) == 0).any()  # one behaviour or none
    picked = np.where(decided.any(1), decided.argmax(1), 5)
    assert (picked == truth).mean() > (truth == np.bincount(truth).argmax()).mean()


def test_calibration_round_trips_through_dict():
    cal = Calibrator(platt={"a": (2.0, -1.0)}, talk_temperature=1.5, thresholds={"a": 0.3}, talk_offsets={"x": 0.2},
                     behaviours=("a",), behaviour_temperature=0.8, behaviour_offsets={"a": 0.1, "other": 0.0})
    assert Calibrator.from_dict(cal.to_dict()) == cal
