"""Decisions fitted on out-of-fold predictions: prevalence band, nesting, reliability flags."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from coder.model.decisions import DecisionConfig, DecisionFit, fit_decisions, fit_threshold


def test_decisions_threshold_stays_in_prevalence_band():
    rng = np.random.default_rng(0)
    y = rng.random(2000) < 0.05
    # a weak, over-confident scorer: the F1-best threshold alone would flag far too many
    p = np.clip(0.25 * y + rng.random(2000) * 0.6, 0, 1)
    t = fit_threshold(p, y, config=DecisionConfig(min_ratio=0.67, max_ratio=1.5))
    ratio = (p >= t).sum() / y.sum()
    assert 0.67 <= ratio <= 1.5


@pytest.mark.parametrize("n_pos", [0, 2])
def test_decisions_threshold_with_few_positives_matches_prevalence(n_pos):
    p = np.linspace(0, 1, 100)
    y = np.zeros(100, bool)
    y[:n_pos] = True
    t = fit_threshold(p, y, config=DecisionConfig(min_support=5))
    assert (p >= t).sum() == (n_pos if n_pos else (p >= 0.99).sum())


def _oof(n=600, seed=1):
    rng = np.random.default_rng(seed)
    y_good = rng.random(n) < 0.2
    y_bad = rng.random(n) < 0.05
    frame = pd.DataFrame({
        "role": "therapist", "fold": np.arange(n) % 5, "codes": "",
        "p_directing": np.clip(0.7 * y_good + rng.random(n) * 0.3, 0, 1),  # separable
        "p_rigid_structure": rng.random(n),  # noise
    })
    truth = np.stack([y_good, y_bad], 1).astype(float)
    return frame, truth, np.ones_like(truth), ["directing", "rigid_structure"]


def test_decisions_flag_noise_codes_unreliable():
    fit = fit_decisions(*_oof())
    assert fit.per_code.loc["directing", "reliable"]
    assert fit.per_code.loc["directing", "f1"] > 0.9
    assert fit.unreliable == ["rigid_structure"]
    assert len(fit.fold_thresholds["directing"]) == 5


def test_decisions_nested_figures_do_not_use_own_fold():
    frame, truth, mask, names = _oof()
    # make fold 0's labels the opposite of its scores: a rule fitted on fold 0 itself would
    # score well there; a nested rule cannot.
    f0 = frame.fold.to_numpy() == 0
    truth[f0, 0] = frame.loc[f0, "p_directing"].to_numpy() < 0.3
    fit = fit_decisions(frame, truth, mask, names)
    held = frame[f0]
    pred = held.p_directing.to_numpy() >= fit.fold_thresholds["directing"][0]
    assert (pred == truth[f0, 0].astype(bool)).mean() < 0.5


def test_decisions_save_writes_thresholds_and_reliability(tmp_path):
    (tmp_path / "thresholds.json").write_text(json.dumps({"thresholds": {"directing": 0.2}, "talk_offsets": {"x": 1}}))
    (tmp_path / "labels.json").write_text(json.dumps({"scheme_codes": ["directing", "rigid_structure", "w_denial"]}))
    fit = fit_decisions(*_oof())
    fit.save(tmp_path, source="test")
    th = json.loads((tmp_path / "thresholds.json").read_text())
    labels = json.loads((tmp_path / "labels.json").read_text())
    assert th["talk_offsets"] == {"x": 1} and th["decisions"]["source"] == "test"
    assert th["thresholds"]["directing"] == pytest.approx(fit.thresholds["directing"], abs=1e-4)
    assert labels["reliability"]["directing"]["reliable"] is True
    assert labels["reliability"]["rigid_structure"]["reliable"] is False
    assert labels["reliability"]["w_denial"] == {"reliable": False, "cv_f1": None, "support": None,
                                                 "family_only": "withdrawal"}
    assert isinstance(fit, DecisionFit)


def test_decisions_unreliable_codes_read_from_labels_json(tmp_path):
    from coder.model.decisions import unreliable_codes

    (tmp_path / "labels.json").write_text(json.dumps({"reliability": {
        "directing": {"reliable": False}, "question_open": {"reliable": True}, "harmful": {"reliable": False},
        "affirmation": {"reliable": False}}}))
    assert unreliable_codes(tmp_path) == ("affirmation", "directing")  # family targets are not scheme codes
    assert unreliable_codes(tmp_path / "missing") == () and unreliable_codes(None) == ()
