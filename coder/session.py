"""The two core records: an utterance and a session (ConvoKit-style, pandas only at the edges)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = ("therapist", "client", "other")


@dataclass
class Utterance:
    """One speaker's contiguous talk expressing one complete thought.

    Attributes
    ----------
    session_id, utterance_id : str
        Keys; ``utterance_id`` is unique within its session and kept as given for
        pre-segmented input.
    turn_id : int
        Index of the turn (everything one speaker says before another speaks), from 0.
    speaker : str
        Speaker label as it appears in the transcript.
    role : str or None
        ``therapist``, ``client`` or ``other``; None until roles are identified.
    start, end : float or None
        Seconds from the start of the session, when known.
    text : str
        What was said.
    codes : list of str
        Codes of the coding scheme assigned to this utterance (empty when uncoded).
    meta : dict
        Anything else the source carried (e.g. AnnoMI's label columns).
    """

    session_id: str
    utterance_id: str
    turn_id: int
    speaker: str
    role: str | None
    start: float | None
    end: float | None
    text: str
    codes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Session:
    """A transcript: its utterances in order, speaker → role map and metadata."""

    id: str
    utterances: list[Utterance] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    speakers: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for u in self.utterances:
            self.speakers.setdefault(u.speaker, u.role)

    @property
    def duration(self) -> float | None:
        """Seconds from the first start to the last end, or None without times."""
        starts = [u.start for u in self.utterances if u.start is not None]
        ends = [u.end if u.end is not None else u.start for u in self.utterances]
        ends = [e for e in ends if e is not None]
        if not starts or not ends:
            return None
        return max(ends) - min(starts)

    def by_role(self, role: str) -> list[Utterance]:
        """Utterances spoken in ``role``."""
        return [u for u in self.utterances if u.role == role]
