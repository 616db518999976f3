"""The coding scheme v1 (``shared/coding-scheme.md``): code names, families and who may carry them.

The names are the contract between the guidelines, the labels, the model and the reports;
``tests/test_scheme.py`` checks them against the scheme document when it is present.
"""

from __future__ import annotations

SCHEME_VERSION = "1"

THERAPIST_HELPFUL = (
    "question_open",
    "reflection_simple",
    "reflection_complex",
    "affirmation",
    "empathic_validation",
    "affect_exploration",
    "collaboration",
    "metacommunication",
)
THERAPIST_NEUTRAL = ("question_closed", "information")
THERAPIST_HARMFUL = (
    "directing",
    "confront_criticize",
    "dismiss_invalidate",
    "rigid_structure",
    "self_disclosure_unhelpful",
)
THERAPIST_CODES = THERAPIST_HELPFUL + THERAPIST_NEUTRAL + THERAPIST_HARMFUL

TALK_TYPES = ("change_talk", "sustain_talk", "neutral_talk")
WITHDRAWAL = (
    "w_denial",
    "w_minimal_response",
    "w_abstract",
    "w_topic_shift",
    "w_deferential",
    "w_content_affect_split",
    "w_self_criticism_hopelessness",
)
CONFRONTATION = (
    "c_complaint_therapist",
    "c_reject_intervention",
    "c_complaint_activities",
    "c_complaint_parameters",
    "c_complaint_progress",
    "c_defend_self",
    "c_control_pressure",
)
RUPTURE_MARKERS = WITHDRAWAL + CONFRONTATION
CLIENT_CODES = TALK_TYPES + RUPTURE_MARKERS

ALL_CODES = THERAPIST_CODES + CLIENT_CODES

#: The code families, the one definition every other module derives from: name → member codes,
#: in report order. Every scheme code belongs to exactly one family.
FAMILIES: dict[str, tuple[str, ...]] = {
    "helpful": THERAPIST_HELPFUL,
    "neutral": THERAPIST_NEUTRAL,
    "harmful": THERAPIST_HARMFUL,
    "talk_type": TALK_TYPES,
    "withdrawal": WITHDRAWAL,
    "confrontation": CONFRONTATION,
}
#: Families a model may predict as a whole, for codes it trains only as their family (the
#: reliability plan's merges); derived for annotators (present when any member is). Iterating
#: gives the names, in this order.
FAMILY_LABELS: dict[str, tuple[str, ...]] = {name: FAMILIES[name]
                                             for name in ("harmful", "withdrawal", "confrontation")}
#: Family-level labels, derived and never annotated.
DERIVED = {"withdrawal": WITHDRAWAL, "confrontation": CONFRONTATION, "rupture": RUPTURE_MARKERS}
#: Which family each code belongs to.
CODE_FAMILY: dict[str, str] = {code: name for name, members in FAMILIES.items() for code in members}


def codes_for_role(role: str | None) -> tuple[str, ...]:
    """Codes an utterance in ``role`` may carry (none for ``other`` or unknown roles)."""
    if role == "therapist":
        return THERAPIST_CODES
    if role == "client":
        return CLIENT_CODES
    return ()


def family(code: str) -> str:
    """The code family a code belongs to (a key of :data:`FAMILIES`), as used in reports and macro averages."""
    try:
        return CODE_FAMILY[code]
    except KeyError:
        raise KeyError(f"unknown code {code!r}") from None


def validate_codes(codes: list[str], role: str | None) -> list[str]:
    """Codes in ``codes`` that are unknown or not allowed for ``role``."""
    allowed = set(codes_for_role(role))
    return [c for c in codes if c not in allowed]
