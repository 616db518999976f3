"""Constructed coded sessions for the roll-up tests (one utterance per turn unless said otherwise)."""

from __future__ import annotations

from coder.session import Session, Utterance

ENGAGED = "I have been thinking about how the drinking gets in the way at work."
MINIMAL = "Yeah."

T_GOOD = [("What would you like to be different?", ["question_open"]),
          ("It sounds like you're worried about your health.", ["reflection_complex"]),
          ("You've already cut down once, which took real effort.", ["affirmation"]),
          ("You want things to change.", ["reflection_simple"])]


def make_session(items, *, sid: str = "s1", seconds: float | None = 10.0, proba: bool = False) -> Session:
    """A session from ``(role, text, codes)`` items; a new turn whenever the role changes.

    Parameters
    ----------
    items : list of (str, str, list of str) or (str, str, list of str, dict)
        Role, text, codes and optionally ``meta["proba"]``.
    seconds : float or None
        Each utterance lasts this long (None: no times).
    """
    utts, turn, prev = [], -1, None
    for i, item in enumerate(items):
        role, text, codes = item[:3]
        if role != prev:
            turn, prev = turn + 1, role
        meta = {"proba": item[3]} if len(item) > 3 else {}
        start = None if seconds is None else i * seconds
        end = None if seconds is None else start + seconds * 0.9
        utts.append(Utterance(session_id=sid, utterance_id=str(i), turn_id=turn, speaker=role.title(), role=role,
                              start=start, end=end, text=text, codes=list(codes), meta=meta))
    return Session(id=sid, utterances=utts)


def good_exchange(n: int = 10) -> list[tuple]:
    """``n`` therapist–client exchanges with helpful therapist codes and engaged client talk."""
    items = []
    for i in range(n):
        text, codes = T_GOOD[i % len(T_GOOD)]
        items.append(("therapist", text, codes))
        items.append(("client", ENGAGED, ["change_talk" if i % 2 else "neutral_talk"]))
    return items


def rupture(n_marked: int = 3, *, marker: str = "c_reject_intervention", resolved: bool = True) -> list[tuple]:
    """A rupture: ``n_marked`` marked client turns, then three client turns (engaged if resolved)."""
    items = []
    for _ in range(n_marked):
        items.append(("therapist", "You should just stop drinking on weekdays.", ["directing"]))
        items.append(("client", "That's never going to work for me, and you know it.", ["neutral_talk", marker]))
    for k in range(3):
        if resolved and k == 1:
            items.append(("therapist", "I pushed there; how was that for you?", ["metacommunication"]))
            items.append(("client", ENGAGED, ["change_talk"]))
        else:
            items.append(("therapist", "Okay.", []))
            items.append(("client", MINIMAL, ["neutral_talk"]))
    return items
