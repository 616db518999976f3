"""How close the model came to each of its decisions: the review queue's notion of "unsure".

A model decides most codes by a per-code threshold tuned on validation data (``thresholds.json``
of the model folder), the client's talk type by an argmax over log-probabilities plus
per-type offsets, and (models with a behaviour head) the therapist behaviour by an argmax
over the behaviours and "other" plus offsets. A probability of 0.50 therefore says little on
its own: a code with threshold 0.10 at p 0.12 is a closer call than a code with threshold 0.50
at p 0.30. The margin of a decision is its distance from the decision boundary on the log-odds
scale:

* threshold codes: ``|logit(p) − logit(threshold)|``;
* argmax groups: the gap between the chosen class's and the runner-up's log-probability plus
  offset, which for two classes is the same ``|logit(p) − logit(t)|`` with the threshold ``t``
  the offsets imply.

An utterance's margin is the smallest over the decisions the model made on it; the review
queue shows the utterances with the smallest margin first, naming that decision.

Where the rules come from (:func:`find_rules`): ``thresholds.json`` in the coded folder, else
the one of the model folder the run's manifest (``run.json``, ``model_path``) names, else the
model named by ``codes_long.csv``'s ``coder_id`` (``model:<version>``) in the models folder
(:func:`coder.model.default_model_path`'s parent), else threshold 0.5 for every code and the
talk type by plain argmax.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from coder.run_output import run_model_path
from coder.scheme import TALK_TYPES

#: The probability clip used before taking logs (p columns are rounded to 4 decimals, so 0 and 1 occur).
EPS = 1e-6
OTHER = "other"
RULES_FILE = "thresholds.json"


def logit(p: float) -> float:
    """``log(p / (1 − p))`` with ``p`` clipped to ``[EPS, 1 − EPS]``."""
    p = min(max(float(p), EPS), 1.0 - EPS)
    return math.log(p / (1.0 - p))


@dataclass
class DecisionRules:
    """The model's decision rules, as its ``thresholds.json`` records them.

    Attributes
    ----------
    thresholds : dict of str to float
        Per threshold-decided code or family label, the probability at or above which it is assigned.
    talk_offsets : dict of str to float
        Per talk type, added to its log-probability before the argmax.
    behaviour_offsets : dict of str to float
        Per behaviour code and ``other``; empty for models without a behaviour head.
    default_threshold : float
        Threshold of a code the file does not name (the classifier's own default).
    source : str
        Where the rules were read (a path), or ``default`` when nothing was found.
    """

    thresholds: dict[str, float] = field(default_factory=dict)
    talk_offsets: dict[str, float] = field(default_factory=dict)
    behaviour_offsets: dict[str, float] = field(default_factory=dict)
    default_threshold: float = 0.5
    source: str = "default"

    @property
    def behaviours(self) -> tuple[str, ...]:
        """Codes decided by the behaviour argmax."""
        return tuple(c for c in self.behaviour_offsets if c != OTHER)

    def threshold(self, code: str) -> float:
        return float(self.thresholds.get(code, self.default_threshold))

    @classmethod
    def from_file(cls, path: str | Path) -> "DecisionRules":
        """Rules from a model's ``thresholds.json``."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        as_floats = lambda d: {str(k): float(v) for k, v in (d or {}).items()}  # noqa: E731
        return cls(thresholds=as_floats(data.get("thresholds")), talk_offsets=as_floats(data.get("talk_offsets")),
                   behaviour_offsets=as_floats(data.get("behaviour_offsets")), source=str(Path(path).resolve()))

    def to_dict(self) -> dict:
        return {"thresholds": self.thresholds, "talk_offsets": self.talk_offsets,
                "behaviour_offsets": self.behaviour_offsets}


def find_rules(coded_dir: str | Path | None, coder_id: str | None = None,
               models_dir: str | Path | None = None) -> DecisionRules:
    """The decision rules of the model that coded ``coded_dir``.

    Parameters
    ----------
    coded_dir : path-like or None
        The coded folder (or its ``utterances.csv``); its own ``thresholds.json`` wins, then
        the model folder its ``run.json`` names.
    coder_id : str, optional
        ``model:<version>`` from ``codes_long.csv``; looked up as ``<models_dir>/<version>/thresholds.json``.
    models_dir : path-like, optional
        Default: the folder holding :func:`coder.model.default_model_path`.

    Returns
    -------
    DecisionRules
        ``source`` says which file was used, or ``default`` (every threshold 0.5).
    """
    candidates = []
    if coded_dir is not None:
        coded_dir = Path(coded_dir)
        folder = coded_dir.parent if coded_dir.is_file() else coded_dir
        candidates.append(folder / RULES_FILE)
        model_path = run_model_path(folder)  # the run's manifest names the model folder it coded with
        if model_path is not None:
            candidates.append(model_path / RULES_FILE)
    if coder_id and str(coder_id).startswith("model:") and len(str(coder_id)) > len("model:"):
        if models_dir is None:
            from coder.model import default_model_path

            models_dir = default_model_path().parent
        version = str(coder_id)[len("model:"):]
        if "/" not in version and "\\" not in version and version not in (".", ".."):
            candidates.append(Path(models_dir) / version / RULES_FILE)
    for path in candidates:
        if path.is_file():
            try:
                return DecisionRules.from_file(path)
            except (ValueError, OSError, AttributeError, TypeError):
                continue  # unreadable rules: fall through to the next source, then the default
    return DecisionRules()


@dataclass(frozen=True)
class Decision:
    """One decision of the model on one utterance and how close it was.

    Attributes
    ----------
    code : str
        The code (or family label) decided; for an argmax, the class chosen (``other`` = no behaviour code).
    p : float
        Its probability.
    margin : float
        Distance from the decision boundary in log-odds (0 = a coin toss on the model's own scale).
    rule : str
        ``threshold``, ``talk type`` or ``behaviour``.
    threshold : float or None
        The threshold (``threshold`` rule).
    rival, rival_p : str or None, float or None
        The runner-up and its probability (argmax rules).
    """

    code: str
    p: float
    margin: float
    rule: str
    threshold: float | None = None
    rival: str | None = None
    rival_p: float | None = None

    @property
    def assigned(self) -> bool:
        return self.p >= self.threshold if self.rule == "threshold" else self.code != OTHER

    def describe(self) -> str:
        """``affirmation: p 0.12 vs threshold 0.10`` or ``neutral_talk 0.50 over sustain_talk 0.40 (talk type)``."""
        if self.rule == "threshold":
            p, t = _pair(self.p, self.threshold)
            return f"{self.code}: p {p} vs threshold {t}"
        name = lambda c: "no behaviour code" if c == OTHER else c  # noqa: E731
        p, q = _pair(self.p, self.rival_p)
        return f"{name(self.code)} {p} over {name(self.rival)} {q} ({self.rule})"

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def _pair(a: float, b: float) -> tuple[str, str]:
    """Two probabilities with 2 decimals, or up to 4 when 2 would print them alike."""
    for digits in (2, 3, 4):
        x, y = f"{a:.{digits}f}", f"{b:.{digits}f}"
        if x != y:
            break
    return x, y


def describe(decision: Mapping | None) -> str:
    """:meth:`Decision.describe` of a stored decision dict (empty text for none)."""
    return Decision(**decision).describe() if decision else ""


def _argmax_decision(scores: dict[str, float], proba: Mapping[str, float], rule: str) -> Decision:
    ranked = sorted(scores, key=lambda c: -scores[c])
    top, second = ranked[0], ranked[1]
    return Decision(code=top, p=float(proba[top]), margin=float(scores[top] - scores[second]), rule=rule,
                    rival=second, rival_p=float(proba[second]))


def decisions(proba: Mapping[str, float], rules: DecisionRules | None = None) -> list[Decision]:
    """Every decision the model made on one utterance, with its margin.

    Parameters
    ----------
    proba : mapping of str to float
        The utterance's probabilities (codes its role allows and family labels; NaN ignored).
    rules : DecisionRules, optional
        Default: thresholds 0.5, talk type by plain argmax.

    Returns
    -------
    list of Decision
        Threshold decisions for the codes outside the argmax groups, one decision per argmax
        group whose members all have a probability.
    """
    rules = rules or DecisionRules()
    proba = {c: float(p) for c, p in proba.items() if p == p}
    out: list[Decision] = []
    grouped: set[str] = set()
    if all(c in proba for c in TALK_TYPES):
        grouped |= set(TALK_TYPES)
        scores = {c: math.log(max(proba[c], EPS)) + rules.talk_offsets.get(c, 0.0) for c in TALK_TYPES}
        out.append(_argmax_decision(scores, proba, "talk type"))
    behaviours = rules.behaviours
    if behaviours and all(c in proba for c in behaviours):
        grouped |= set(behaviours)
        probs = {c: proba[c] for c in behaviours}
        probs[OTHER] = max(1.0 - sum(probs.values()), 0.0)
        scores = {c: math.log(max(p, EPS)) + rules.behaviour_offsets.get(c, 0.0) for c, p in probs.items()}
        out.append(_argmax_decision(scores, probs, "behaviour"))
    for code, p in proba.items():
        if code not in grouped:
            t = rules.threshold(code)
            out.append(Decision(code=code, p=p, margin=abs(logit(p) - logit(t)), rule="threshold", threshold=t))
    return out


def least_sure(proba: Mapping[str, float], rules: DecisionRules | None = None) -> Decision | None:
    """The decision with the smallest margin (ties: the first in :func:`decisions` order), or None."""
    found = decisions(proba, rules)
    return min(found, key=lambda d: d.margin) if found else None


__all__ = ["Decision", "DecisionRules", "decisions", "describe", "find_rules", "least_sure", "logit"]
