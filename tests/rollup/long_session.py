"""A hand-coded version of ``data/examples/long_session.txt`` built from the answer key.

Client markers come from ``tests/fixtures/long_session_key.csv``: every client turn whose start
lies between an episode's ``first_time`` and ``last_time`` gets one of that episode's key markers
(in the key's order, cycling), so every key marker is used. Client utterances are otherwise
``neutral_talk``; a few plan statements are ``change_talk``. Therapist turns get a question code
by rule (ends with "?": open if it starts with what/how/why/tell, else closed) plus the hand-coded
turns below (the provocations before and during each rupture, and the repairs after them). This
is a fixture for the roll-up, not a reference coding.
"""

from __future__ import annotations

import csv
from pathlib import Path

from coder.io._common import parse_time
from coder.pipeline import load_transcripts
from coder.session import Session

ROOT = Path(__file__).resolve().parents[2]
LONG_SESSION = ROOT / "data" / "examples" / "long_session.txt"
KEY = ROOT / "tests" / "fixtures" / "long_session_key.csv"

THERAPIST_TURNS: dict[str, list[str]] = {
    # withdrawal rupture: an imposed interpretation and homework, then repair
    "00:13:35": ["rigid_structure"],
    "00:14:11": ["directing"],
    "00:16:19": ["rigid_structure"],
    "00:16:31": ["directing"],
    "00:18:00": ["metacommunication"],
    "00:18:40": ["metacommunication", "affect_exploration"],
    "00:19:17": ["empathic_validation"],
    "00:19:54": ["reflection_complex"],
    "00:20:01": ["collaboration", "affect_exploration"],
    "00:20:41": ["reflection_complex"],
    "00:21:07": ["empathic_validation"],
    "00:21:33": ["reflection_complex"],
    "00:22:39": ["metacommunication", "question_closed"],
    # confrontation rupture: pushing the thought record, then repair
    "00:30:01": ["directing", "rigid_structure"],
    "00:30:50": ["confront_criticize"],
    "00:31:24": ["dismiss_invalidate"],
    "00:32:03": ["rigid_structure"],
    "00:32:24": ["dismiss_invalidate"],
    "00:32:49": ["dismiss_invalidate"],
    "00:34:46": ["directing"],
    "00:35:05": ["metacommunication"],
    "00:35:49": ["metacommunication", "question_open"],
    "00:36:37": ["reflection_complex"],
    "00:36:52": ["empathic_validation"],
    "00:37:08": ["metacommunication"],
    "00:37:35": ["collaboration"],
    "00:37:58": ["collaboration", "question_open"],
    "00:39:18": ["collaboration", "question_closed"],
    "00:41:57": ["metacommunication", "question_open"],
    # elsewhere
    "00:04:59": ["reflection_complex"],
    "00:06:10": ["reflection_complex"],
    "00:06:42": ["affirmation"],
    "00:12:27": ["reflection_complex"],
    "00:28:57": ["affirmation"],
    "00:40:07": ["collaboration", "information"],
}
CHANGE_TALK = {"00:40:31", "00:40:47", "00:41:14", "00:44:07", "00:44:42", "00:45:08"}
OPEN_STARTS = ("what", "how", "why", "tell", "could you tell", "in what")


def key_rows() -> list[dict]:
    """The answer key, one dict per episode."""
    with KEY.open(newline="") as fh:
        return list(csv.DictReader(fh))


def hand_coded_long_session() -> Session:
    """The long example session with the codes described in the module docstring."""
    (session,) = load_transcripts([LONG_SESSION]).sessions
    turn_start = {}
    for u in session.utterances:
        turn_start.setdefault(u.turn_id, u.start)
    by_time = {parse_time(t): codes for t, codes in THERAPIST_TURNS.items()}
    change = {parse_time(t) for t in CHANGE_TALK}
    ranges = [(parse_time(r["first_time"]), parse_time(r["last_time"]), r["markers"].split(";")) for r in key_rows()]
    counters = [0] * len(ranges)
    turn_marker: dict[int, str] = {}
    for turn, start in sorted(turn_start.items()):
        role = next(u.role for u in session.utterances if u.turn_id == turn)
        for i, (a, b, markers) in enumerate(ranges):
            if role == "client" and a <= start <= b:
                turn_marker[turn] = markers[counters[i] % len(markers)]
                counters[i] += 1
    for u in session.utterances:
        start = turn_start[u.turn_id]
        if u.role == "client":
            u.codes = ["change_talk" if start in change else "neutral_talk"]
            if u.turn_id in turn_marker:
                u.codes.append(turn_marker[u.turn_id])
        elif u.role == "therapist":
            codes = list(by_time.get(start, []))
            text = u.text.strip().lower()
            if text.endswith("?") and not any(c.startswith("question") for c in codes):
                codes.append("question_open" if text.startswith(OPEN_STARTS) else "question_closed")
            u.codes = codes
    return session
