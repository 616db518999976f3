"""The model's targets: scheme codes, and family labels for codes trained only as their family.

The reliability plan (``annotation_guidelines/reliability.md``, encoded in
``coder.data.build.TRAINING_MERGES``) trains codes that are too rare or too unreliable only as
their family (``withdrawal``, ``confrontation``, ``harmful``). The model then predicts every
other scheme code plus those families; a merged code gets no probability of its own (NaN in
the scheme-wide view). Targets are derived here from the corpus's ``labels``/``label_mask``
(over ``ALL_CODES``): a family is positive when any member is, and decided when every member is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

import numpy as np

from coder.scheme import ALL_CODES, FAMILY_LABELS, TALK_TYPES, THERAPIST_CODES

#: Family labels the model may predict, with their member codes (:data:`coder.scheme.FAMILY_LABELS`).
FAMILIES = FAMILY_LABELS
#: AnnoMI's main therapist behaviours, one per utterance: scored by the behaviour softmax head,
#: whose sixth class ("other") is everything else (see ``coder.model.network``).
BEHAVIOURS = ("question_open", "question_closed", "reflection_simple", "reflection_complex", "information")
THERAPIST, CLIENT, OTHER = 0, 1, 2
#: Index of the behaviour head's "none of the five" class.
OTHER_BEHAVIOUR = 5
ROLE_IDS = {"therapist": THERAPIST, "client": CLIENT, "other": OTHER}


def default_merges() -> tuple[dict[str, str], frozenset[str]]:
    """The corpus's reliability plan: (code → family it trains as, dropped codes)."""
    try:
        from coder.data.build import DROPPED, TRAINING_MERGES
    except ImportError:  # pragma: no cover - corpus package absent
        return {}, frozenset()
    return dict(TRAINING_MERGES), frozenset(DROPPED)


@dataclass(frozen=True)
class Layout:
    """Target names and which head and role each belongs to.

    Attributes
    ----------
    names : tuple of str
        Scheme codes (scheme order) followed by family labels; columns of every score matrix.
    """

    names: tuple[str, ...]

    @classmethod
    def from_merges(cls, merges: dict[str, str] | None = None, dropped: Sequence[str] = ()) -> "Layout":
        """Every scheme code not merged or dropped, then the families merged codes train as."""
        merges = merges or {}
        bad = [f for f in merges.values() if f not in FAMILIES]
        if bad:
            raise ValueError(f"unknown family {bad[0]!r}; known: {', '.join(FAMILIES)}")
        codes = [c for c in ALL_CODES if c not in merges and c not in set(dropped)]
        families = [f for f in FAMILIES if f in set(merges.values())]
        return cls(tuple(codes + families))

    @classmethod
    def default(cls) -> "Layout":
        """The layout of the corpus's reliability plan (:func:`default_merges`)."""
        merges, dropped = default_merges()
        return cls.from_merges(merges, dropped)

    def __post_init__(self) -> None:
        unknown = [n for n in self.names if n not in ALL_CODES and n not in FAMILIES]
        if unknown:
            raise ValueError(f"unknown target {unknown[0]!r}")
        if not set(TALK_TYPES) <= set(self.names):
            raise ValueError("every talk type must be a target")

    def role_of(self, name: str) -> str:
        """``therapist`` or ``client``: who may carry target ``name``."""
        members = FAMILIES.get(name, (name,))
        return "therapist" if all(c in THERAPIST_CODES for c in members) else "client"

    @cached_property
    def therapist_idx(self) -> list[int]:
        """Columns of the therapist head (multi-label)."""
        return [i for i, n in enumerate(self.names) if self.role_of(n) == "therapist"]

    @cached_property
    def talk_idx(self) -> list[int]:
        """Columns of the talk-type head (softmax), in TALK_TYPES order."""
        return [self.names.index(t) for t in TALK_TYPES]

    @cached_property
    def behaviour_idx(self) -> list[int]:
        """Columns of the behaviour softmax (:data:`BEHAVIOURS` order); empty if one is not a target."""
        return [self.names.index(b) for b in BEHAVIOURS] if set(BEHAVIOURS) <= set(self.names) else []

    @cached_property
    def client_idx(self) -> list[int]:
        """Columns of the client multi-label head (rupture markers and families)."""
        return [i for i, n in enumerate(self.names) if self.role_of(n) == "client" and n not in TALK_TYPES]

    @cached_property
    def multilabel(self) -> np.ndarray:
        """Boolean per column: decided by a threshold (True) or by the talk-type argmax (False)."""
        return np.array([n not in TALK_TYPES for n in self.names])

    def allowed(self, roles: Sequence[int]) -> np.ndarray:
        """Boolean (n, len(names)): which targets each role id may carry."""
        roles = np.asarray(roles)
        out = np.zeros((len(roles), len(self.names)), dtype=bool)
        out[np.ix_(roles == THERAPIST, self.therapist_idx)] = True
        out[np.ix_(roles == CLIENT, self.talk_idx + self.client_idx)] = True
        return out

    def members(self, name: str) -> tuple[str, ...]:
        """Scheme codes behind target ``name`` (itself, or a family's members)."""
        return FAMILIES.get(name, (name,))

    def arrays(self, records: Sequence[dict]) -> tuple[np.ndarray, np.ndarray]:
        """(labels, mask) over :attr:`names` from records' ``labels``/``label_mask`` over ALL_CODES."""
        n, k = len(records), len(ALL_CODES)
        if n == 0:
            return np.zeros((0, len(self.names)), np.float32), np.zeros((0, len(self.names)), np.float32)
        y = np.array([r["labels"] for r in records], dtype=np.float32).reshape(n, k) > 0.5
        m = np.array([r.get("label_mask", [1.0] * k) for r in records], dtype=np.float32).reshape(n, k) > 0.5
        return self.from_scheme(y, m)

    def from_scheme(self, y: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(labels, mask) over :attr:`names` from boolean matrices over ALL_CODES."""
        index = {c: i for i, c in enumerate(ALL_CODES)}
        labels = np.zeros((len(y), len(self.names)), np.float32)
        mask = np.zeros_like(labels)
        for j, name in enumerate(self.names):
            cols = [index[c] for c in self.members(name)]
            labels[:, j] = y[:, cols].any(1)
            mask[:, j] = m[:, cols].all(1)
        return labels, mask

    def to_scheme(self, proba: np.ndarray) -> np.ndarray:
        """Scores over ALL_CODES from scores over :attr:`names`; NaN for codes not predicted alone."""
        out = np.full((len(proba), len(ALL_CODES)), np.nan)
        for j, name in enumerate(self.names):
            if name in ALL_CODES:
                out[:, ALL_CODES.index(name)] = proba[:, j]
        return out

