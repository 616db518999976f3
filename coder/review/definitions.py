"""One-line meanings of the scheme's codes, shown on hover in the review app and in exports.

The full rules are in ``annotation_guidelines/`` (the family files and the quick reference);
these lines only remind a trained coder what a code is about and where its nearest neighbour
lies. They are paraphrases, kept short enough for a tooltip.
"""

from __future__ import annotations

import re
from pathlib import Path

from coder.scheme import ALL_CODES, codes_for_role, family

#: The guideline version corrections are made under (the coding manual's header).
GUIDELINE_VERSION = "1.1"

DEFINITIONS: dict[str, str] = {
    # therapist, helpful
    "question_open": "Open question: asks for the client's own view or for more, not for a yes/no or a fact.",
    "reflection_simple": "Simple reflection: says back what the client said, adding little or no meaning.",
    "reflection_complex": "Complex reflection: says back with added meaning: a feeling, the unsaid, both sides, "
                          "a metaphor.",
    "affirmation": "Affirmation: names a strength, effort, value, intention or past success of the client "
                   "(not a bare 'okay' or 'good').",
    "empathic_validation": "Empathic validation: declares the client's feeling or view understandable or "
                           "legitimate (more than naming it).",
    "affect_exploration": "Affect exploration: invites the client to notice, stay with or voice an emotion or "
                          "the here and now.",
    "collaboration": "Collaboration: asks permission, offers options, draws out the client's ideas, seeks "
                     "agreement on goals, leaves the choice to the client.",
    "metacommunication": "Metacommunication: talks about the relationship or the session itself, asks for "
                         "feedback, owns a part in a tension.",
    # therapist, neutral
    "question_closed": "Closed question: asks for a yes/no answer or one specific fact.",
    "information": "Information: gives facts, education or feedback without prescribing a course of action.",
    # therapist, harmful
    "directing": "Directing: tells, advises or warns the client what to do without permission or a "
                 "collaborative frame.",
    "confront_criticize": "Confront/criticise: argues with, blames, shames, labels or moralises at the client.",
    "dismiss_invalidate": "Dismiss/invalidate: minimises, brushes aside or contradicts the client's feeling or "
                          "concern, or answers off the point.",
    "rigid_structure": "Rigid structure: pushes the therapist's own agenda or task over the client's cues; "
                       "abrupt topic change; lecturing.",
    "self_disclosure_unhelpful": "Unhelpful self-disclosure: the therapist's own life takes the focus away from "
                                 "the client.",
    # client, talk type
    "change_talk": "Change talk: the client speaks for change (desire, ability, reasons, need, commitment, "
                   "steps).",
    "sustain_talk": "Sustain talk: the client speaks for keeping things as they are.",
    "neutral_talk": "Neutral talk: neither for nor against change (the default talk type).",
    # client, withdrawal
    "w_denial": "Withdrawal, denial: denies a feeling or problem the context makes plain.",
    "w_minimal_response": "Withdrawal, minimal response: a terse reply that withholds the elaboration "
                          "invited (not a back-channel).",
    "w_abstract": "Withdrawal, abstract talk: vague, intellectual or general talk that avoids the client's own "
                  "experience.",
    "w_topic_shift": "Withdrawal, topic shift: steers away from the focus, e.g. with a tangential story.",
    "w_deferential": "Withdrawal, deference: appeases or over-agrees to close a line of inquiry.",
    "w_content_affect_split": "Withdrawal, content/affect split: distressing content with incongruent affect "
                              "marked in the transcript, e.g. (laughs).",
    "w_self_criticism_hopelessness": "Withdrawal, self-criticism/hopelessness that closes the work down.",
    # client, confrontation
    "c_complaint_therapist": "Confrontation: complains about the therapist as a person or professional.",
    "c_reject_intervention": "Confrontation: rejects the therapist's suggestion, question or formulation.",
    "c_complaint_activities": "Confrontation: complains about what is done in therapy (tasks, exercises, "
                              "forms).",
    "c_complaint_parameters": "Confrontation: complains about scheduling, fees, length, rules, setting or being "
                              "sent.",
    "c_complaint_progress": "Confrontation: says therapy is not helping or going anywhere.",
    "c_defend_self": "Confrontation: defends self against a criticism or judgement felt from the therapist.",
    "c_control_pressure": "Confrontation: tries to control or pressure the therapist ('just tell me what to "
                          "do').",
}

#: Keys that toggle a code in the review app, in the order of ``codes_for_role(role)`` (a, j, k,
#: n, p and u are left free for the app's other shortcuts).
TOGGLE_KEYS = "1234567890qwertyiosdfghlzxcvbm"


def definition(code: str) -> str:
    """The one-line meaning of ``code`` (empty string for an unknown code)."""
    return DEFINITIONS.get(code, "")


def key_map(role: str | None) -> dict[str, str]:
    """Toggle key → code for the codes a ``role`` may carry (see :data:`TOGGLE_KEYS`)."""
    return dict(zip(TOGGLE_KEYS, codes_for_role(role)))


def code_table() -> list[dict]:
    """Every code with its family, role and definition, in scheme order (for pages and exports)."""
    rows = []
    for code in ALL_CODES:
        role = "therapist" if code in codes_for_role("therapist") else "client"
        rows.append({"code": code, "family": family(code), "role": role, "definition": DEFINITIONS[code]})
    return rows


def guideline_version(path: str | Path | None = None) -> str:
    """The guideline version in the quick reference's header, else :data:`GUIDELINE_VERSION`.

    Parameters
    ----------
    path : path-like, optional
        ``quick_reference.md``; default the repository's ``annotation_guidelines`` copy.
    """
    path = Path(path) if path else Path(__file__).resolve().parents[2] / "annotation_guidelines" / "quick_reference.md"
    try:
        head = path.read_text(encoding="utf-8")[:400]
    except OSError:
        return GUIDELINE_VERSION
    found = re.search(r"guideline version\s+([0-9][0-9.]*[0-9])", head, flags=re.IGNORECASE)
    return found.group(1) if found else GUIDELINE_VERSION
