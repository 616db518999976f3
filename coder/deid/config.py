"""What de-identification removes and how: one config dataclass, the placeholder types."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Placeholder types, in the order the audit lists them.
#: NAME people's names; LOCATION places (cities, neighbourhoods, countries, landmarks);
#: ORG named institutions (schools, employers, clinics); ADDRESS street addresses, PO boxes,
#: ZIP/post codes; DATE specific dates (not years alone, weekdays or "last week"); AGE ages
#: over 89; PHONE; EMAIL; URL; ID record, account and other ID numbers.
PLACEHOLDER_TYPES = ("NAME", "LOCATION", "ORG", "ADDRESS", "DATE", "AGE", "PHONE", "EMAIL", "URL", "ID")


@dataclass
class DeidConfig:
    """How to de-identify transcripts.

    Attributes
    ----------
    types : tuple of str
        Placeholder types to remove (any of :data:`PLACEHOLDER_TYPES`); others are left in place.
    min_score : float
        Lowest recognizer confidence accepted (Presidio's phone recognizer scores 0.4, spaCy's
        entities 0.85, the project's patterns 0.5 to 0.95).
    speaker_labels : bool
        Replace speaker labels that look like names (anything but role words such as
        ``Therapist``, ``T``, ``Client 2`` or generic ones such as ``SPEAKER_00``) by the same
        ``[NAME_n]`` as the person's mentions in the text. The utterance's role is kept.
    propagate : bool
        Once a value is found anywhere in a session (or is a speaker's name), remove every other
        occurrence of it in that session too, including ones the recognizers missed.
    keep : list of str
        Words never removed (e.g. a clinic's public name the lab wants kept), case-insensitive.
    """

    types: tuple[str, ...] = PLACEHOLDER_TYPES
    min_score: float = 0.35
    speaker_labels: bool = True
    propagate: bool = True
    keep: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        unknown = [t for t in self.types if t not in PLACEHOLDER_TYPES]
        if unknown:
            raise ValueError(f"unknown placeholder type(s) {unknown}; choose from {', '.join(PLACEHOLDER_TYPES)}")
        self.types = tuple(self.types)
