"""Probability calibration and decision rules, fitted on validation data only.

* Multi-label codes: per-code Platt scaling of the logit, ``p = sigmoid(a·z + b)``, then a
  per-code threshold on ``p`` chosen to maximise that code's F1 on validation.
* Talk type: one temperature for the softmax (keeps the three probabilities summing to 1),
  then per-type offsets on the log-probabilities chosen to maximise validation macro-F1.
* Behaviour (models with a behaviour head): the same for AnnoMI's five main therapist
  behaviours plus the implicit "other" class; at most one of the five is assigned.

Codes with too few validation positives keep the identity calibration and threshold 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from coder.metrics import f1, macro_f1
from coder.scheme import TALK_TYPES

OTHER = "other"

#: Threshold grid searched per code.
GRID = np.round(np.arange(0.02, 0.981, 0.01), 2)
#: Offsets searched per talk type (added to log-probabilities).
OFFSETS = np.round(np.arange(-2.0, 2.001, 0.1), 2)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))


def fit_platt(z: np.ndarray, y: np.ndarray, *, min_count: int = 5) -> tuple[float, float]:
    """(a, b) of ``sigmoid(a·z + b)`` fitted by logistic regression; identity if it cannot be."""
    from sklearn.linear_model import LogisticRegression

    z, y = np.asarray(z, dtype=np.float64), np.asarray(y, dtype=int)
    if y.sum() < min_count or (1 - y).sum() < min_count:
        return 1.0, 0.0
    lr = LogisticRegression(C=10.0).fit(z.reshape(-1, 1), y)
    a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    return (a, b) if a > 0 else (1.0, 0.0)


def fit_temperature(logp: np.ndarray, y: np.ndarray) -> float:
    """Softmax temperature minimising the negative log-likelihood of class indices ``y``."""
    if len(y) == 0:
        return 1.0
    best, best_nll = 1.0, np.inf
    for t in np.exp(np.linspace(np.log(0.25), np.log(4.0), 61)):
        s = logp / t
        s = s - s.max(1, keepdims=True)
        nll = -(s[np.arange(len(y)), y] - np.log(np.exp(s).sum(1))).mean()
        if nll < best_nll - 1e-12:
            best, best_nll = float(t), nll
    return best


def best_threshold(p: np.ndarray, y: np.ndarray, *, min_count: int = 3) -> float:
    """Threshold on ``p`` that maximises F1 for labels ``y`` (ties: nearest 0.5); 0.5 if too few positives."""
    y = np.asarray(y, dtype=bool)
    if y.sum() < min_count:
        return 0.5
    scores = np.nan_to_num([f1(y, p >= t) for t in GRID], nan=0.0)  # NaN only without positives
    top = np.flatnonzero(scores >= scores.max() - 1e-12)
    return float(GRID[top[np.argmin(np.abs(GRID[top] - 0.5))]])


def best_offsets(logp: np.ndarray, y: np.ndarray, *, min_rows: int = 30, passes: int = 2,
                 fixed: int = 0, scored: int | None = None) -> np.ndarray:
    """Per-class offsets maximising macro-F1 of ``argmax(logp + offsets)``.

    Class ``fixed`` keeps offset 0; the macro-F1 averages classes ``0..scored-1`` (default all).
    """
    k = logp.shape[1]
    scored = k if scored is None else scored
    offsets = np.zeros(k)
    if len(y) < min_rows:
        return offsets
    best = macro_f1(y, (logp + offsets).argmax(1), scored)
    for _ in range(passes):
        for c in (c for c in range(k) if c != fixed):
            for value in OFFSETS:
                trial = offsets.copy()
                trial[c] = value
                score = macro_f1(y, (logp + trial).argmax(1), scored)
                if score > best + 1e-9 or (abs(score - best) <= 1e-9 and abs(value) < abs(offsets[c])):
                    best, offsets = score, trial
    return offsets


@dataclass
class Calibrator:
    """Calibration and decision rules for the whole scheme.

    Score matrices have one column per target (``names``, see ``coder.model.layout``).

    Attributes
    ----------
    platt : dict of str to (float, float)
        Per multi-label code, ``(a, b)`` of ``sigmoid(a·logit + b)``.
    talk_temperature : float
        Softmax temperature of the talk-type head.
    thresholds : dict of str to float
        Per multi-label code, the probability at or above which the code is assigned.
    talk_offsets : dict of str to float
        Per talk type, added to the log-probability before the argmax.
    behaviours : tuple of str
        Codes scored by a behaviour softmax (empty for models without that head).
    behaviour_temperature : float
        Its softmax temperature (over the behaviours and "other").
    behaviour_offsets : dict of str to float
        Per behaviour (and ``other``, fixed at 0), added to the log-probability before the argmax.
    """

    platt: dict[str, tuple[float, float]] = field(default_factory=dict)
    talk_temperature: float = 1.0
    thresholds: dict[str, float] = field(default_factory=dict)
    talk_offsets: dict[str, float] = field(default_factory=dict)
    behaviours: tuple[str, ...] = ()
    behaviour_temperature: float = 1.0
    behaviour_offsets: dict[str, float] = field(default_factory=dict)

    def _behaviour_idx(self, names: Sequence[str]) -> list[int]:
        return [list(names).index(c) for c in self.behaviours]

    @staticmethod
    def _with_other(p: np.ndarray) -> np.ndarray:
        """Log-probabilities (n, k + 1) of k softmax classes and their remainder, "other"."""
        other = np.clip(1.0 - p.sum(1, keepdims=True), 1e-12, 1.0)
        return np.log(np.clip(np.hstack([p, other]), 1e-12, 1.0))

    def proba(self, raw: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities from raw scores (columns ``names``, ``-inf`` where masked)."""
        raw = np.asarray(raw, dtype=np.float64)
        out = np.zeros_like(raw)
        talk_idx = [list(names).index(c) for c in TALK_TYPES]
        beh_idx = self._behaviour_idx(names)
        for j, code in enumerate(names):
            if j in talk_idx or j in beh_idx:
                continue
            a, b = self.platt.get(code, (1.0, 0.0))
            finite = np.isfinite(raw[:, j])
            out[finite, j] = _sigmoid(a * raw[finite, j] + b)
        rows = np.isfinite(raw[:, talk_idx]).all(1)
        if rows.any():
            s = raw[np.ix_(rows, talk_idx)] / self.talk_temperature
            s = np.exp(s - s.max(1, keepdims=True))
            out[np.ix_(rows, talk_idx)] = s / s.sum(1, keepdims=True)
        rows = np.isfinite(raw[:, beh_idx]).all(1) if beh_idx else np.zeros(len(raw), bool)
        if rows.any():
            s = self._with_other(np.exp(raw[np.ix_(rows, beh_idx)])) / self.behaviour_temperature
            s = np.exp(s - s.max(1, keepdims=True))
            out[np.ix_(rows, beh_idx)] = (s / s.sum(1, keepdims=True))[:, :-1]
        return out

    def decide(self, proba: np.ndarray, allowed: np.ndarray, names: Sequence[str]) -> np.ndarray:
        """0/1 decisions: thresholds for multi-label targets, offset argmax for talk type and behaviour."""
        proba = np.asarray(proba)
        out = np.zeros(proba.shape, dtype=np.int8)
        talk_idx = [list(names).index(c) for c in TALK_TYPES]
        beh_idx = self._behaviour_idx(names)
        for j, code in enumerate(names):
            if j not in talk_idx and j not in beh_idx:
                out[:, j] = (proba[:, j] >= self.thresholds.get(code, 0.5)) & allowed[:, j]
        rows = allowed[:, talk_idx].all(1)
        if rows.any():
            offsets = np.array([self.talk_offsets.get(c, 0.0) for c in TALK_TYPES])
            pick = (np.log(np.clip(proba[np.ix_(rows, talk_idx)], 1e-12, 1.0)) + offsets).argmax(1)
            out[np.flatnonzero(rows), np.asarray(talk_idx)[pick]] = 1
        rows = allowed[:, beh_idx].all(1) if beh_idx else np.zeros(len(proba), bool)
        if rows.any():
            offsets = np.array([self.behaviour_offsets.get(c, 0.0) for c in (*self.behaviours, OTHER)])
            pick = (self._with_other(proba[np.ix_(rows, beh_idx)]) + offsets).argmax(1)
            chosen = pick < len(beh_idx)
            out[np.flatnonzero(rows)[chosen], np.asarray(beh_idx)[pick[chosen]]] = 1
        return out

    @classmethod
    def fit(cls, raw: np.ndarray, labels: np.ndarray, mask: np.ndarray, allowed: np.ndarray,
            names: Sequence[str], *, calibrate: bool = True, min_support: int = 3,
            behaviours: Sequence[str] = ()) -> "Calibrator":
        """Fit calibration, thresholds and talk offsets on validation scores.

        Parameters
        ----------
        raw : ndarray (n, len(names))
            Raw scores from the network (logits; log-softmax for talk type; ``-inf`` masked).
        labels, mask : ndarray (n, len(names))
            Validation labels and which of them were decided.
        allowed : ndarray of bool (n, len(names))
            Role masking.
        names : sequence of str
            The targets (columns); talk types are found by name.
        calibrate : bool
            False keeps identity calibration (thresholds and offsets are still tuned).
        min_support : int
            Fewest validation positives for a code to get a tuned threshold.
        behaviours : sequence of str
            Codes whose raw scores are behaviour-softmax log-probabilities (see the module).
        """
        labels, mask = np.asarray(labels) > 0.5, np.asarray(mask) > 0.5
        talk_idx = [list(names).index(c) for c in TALK_TYPES]
        self = cls(behaviours=tuple(behaviours))
        beh_idx = self._behaviour_idx(names)
        use = allowed & mask
        for j, code in enumerate(names):
            if j in talk_idx or j in beh_idx or not calibrate:
                continue
            rows = use[:, j]
            self.platt[code] = fit_platt(raw[rows, j], labels[rows, j])
        talk_rows = use[:, talk_idx].all(1) & (labels[:, talk_idx].sum(1) == 1)
        logp, y = raw[np.ix_(talk_rows, talk_idx)], labels[np.ix_(talk_rows, talk_idx)].argmax(1)
        if calibrate:
            self.talk_temperature = fit_temperature(logp, y)
        if beh_idx:
            beh_rows = use[:, beh_idx].all(1) & (labels[:, beh_idx].sum(1) <= 1)
            y_beh = np.where(labels[np.ix_(beh_rows, beh_idx)].any(1),
                             labels[np.ix_(beh_rows, beh_idx)].argmax(1), len(beh_idx))
            if calibrate:
                self.behaviour_temperature = fit_temperature(
                    self._with_other(np.exp(raw[np.ix_(beh_rows, beh_idx)])), y_beh)
        proba = self.proba(raw, names)
        if beh_idx:
            offsets = best_offsets(self._with_other(proba[np.ix_(beh_rows, beh_idx)]), y_beh,
                                   fixed=len(beh_idx), scored=len(beh_idx))
            self.behaviour_offsets = dict(zip((*self.behaviours, OTHER), (float(v) for v in offsets)))
        for j, code in enumerate(names):
            if j not in talk_idx and j not in beh_idx:
                rows = use[:, j]
                self.thresholds[code] = best_threshold(proba[rows, j], labels[rows, j], min_count=min_support)
        tp = np.log(np.clip(proba[np.ix_(talk_rows, talk_idx)], 1e-12, 1.0))
        self.talk_offsets = dict(zip(TALK_TYPES, (float(v) for v in best_offsets(tp, y))))
        return self

    def to_dict(self) -> dict:
        """JSON-ready form (see :meth:`from_dict`)."""
        return {"platt": {c: list(v) for c, v in self.platt.items()}, "talk_temperature": self.talk_temperature,
                "thresholds": self.thresholds, "talk_offsets": self.talk_offsets,
                "behaviours": list(self.behaviours), "behaviour_temperature": self.behaviour_temperature,
                "behaviour_offsets": self.behaviour_offsets}

    @classmethod
    def from_dict(cls, data: dict) -> "Calibrator":
        return cls(platt={c: (float(a), float(b)) for c, (a, b) in data.get("platt", {}).items()},
                   talk_temperature=float(data.get("talk_temperature", 1.0)),
                   thresholds={c: float(t) for c, t in data.get("thresholds", {}).items()},
                   talk_offsets={c: float(v) for c, v in data.get("talk_offsets", {}).items()},
                   behaviours=tuple(data.get("behaviours", ())),
                   behaviour_temperature=float(data.get("behaviour_temperature", 1.0)),
                   behaviour_offsets={c: float(v) for c, v in data.get("behaviour_offsets", {}).items()})
