"""Sessions ⇄ pandas: the utterance table and the one long table every coder writes to.

The long table ``session_id, utterance_id, coder_id, code, score`` holds one row per
utterance × code a coder decided on: a human's 1/0, the model's probability. Agreement,
roll-up and exports all read it; the model is one more coder (``model:<version>``).
"""

from __future__ import annotations

import pandas as pd

from coder.scheme import codes_for_role
from coder.session import Session, Utterance

UTTERANCE_COLUMNS = ["session_id", "utterance_id", "turn_id", "speaker", "role", "start", "end", "text", "codes"]
LONG_COLUMNS = ["session_id", "utterance_id", "coder_id", "code", "score"]


def sessions_to_frame(sessions: list[Session]) -> pd.DataFrame:
    """The utterance table: one row per utterance, ``codes`` joined with ``;``."""
    rows = [
        {
            "session_id": u.session_id,
            "utterance_id": u.utterance_id,
            "turn_id": u.turn_id,
            "speaker": u.speaker,
            "role": u.role,
            "start": u.start,
            "end": u.end,
            "text": u.text,
            "codes": ";".join(u.codes),
        }
        for s in sessions
        for u in s.utterances
    ]
    frame = pd.DataFrame(rows, columns=UTTERANCE_COLUMNS)
    return frame.astype({"turn_id": "int64", "start": "float64", "end": "float64"})


def frame_to_sessions(frame: pd.DataFrame) -> list[Session]:
    """Inverse of :func:`sessions_to_frame`; sessions in order of first appearance."""
    sessions: dict[str, Session] = {}
    for row in frame.itertuples(index=False):
        sid = str(row.session_id)
        codes = getattr(row, "codes", "")
        utt = Utterance(
            session_id=sid,
            utterance_id=str(row.utterance_id),
            turn_id=int(row.turn_id),
            speaker=str(row.speaker),
            role=None if pd.isna(row.role) else str(row.role),
            start=None if pd.isna(row.start) else float(row.start),
            end=None if pd.isna(row.end) else float(row.end),
            text=str(row.text),
            codes=[c for c in str(codes).split(";") if c] if isinstance(codes, str) else [],
        )
        sessions.setdefault(sid, Session(id=sid)).utterances.append(utt)
    for s in sessions.values():
        s.speakers = {u.speaker: u.role for u in s.utterances}
    return list(sessions.values())


def to_long(sessions: list[Session], coder_id: str, *, dense: bool = True) -> pd.DataFrame:
    """Codes of ``sessions`` as the long table, with ``coder_id`` on every row.

    Parameters
    ----------
    dense : bool
        True writes every code the utterance's role allows, 1 for assigned and 0 for not, so
        that "reviewed, not present" differs from "not coded"; False writes assigned codes only.
    """
    rows = [row for s in sessions for u in s.utterances for row in long_rows(u, coder_id, dense=dense)]
    return pd.DataFrame(rows, columns=LONG_COLUMNS)


def long_rows(u: Utterance, coder_id: str, *, dense: bool = True) -> list[tuple]:
    """One utterance's rows of the long table (:func:`to_long`): its probability where it has
    one, else 1 for an assigned code and 0 for one not assigned."""
    assigned, scores = set(u.codes), u.meta.get("proba") or {}
    return [(u.session_id, u.utterance_id, coder_id, code, float(scores.get(code, 1.0 if code in assigned else 0.0)))
            for code in (codes_for_role(u.role) if dense else u.codes)]


def from_long(long: pd.DataFrame, sessions: list[Session], coder_id: str, *, threshold: float = 0.5) -> list[Session]:
    """Copies of ``sessions`` whose codes are ``coder_id``'s rows of ``long`` with score ≥ ``threshold``."""
    mine = long[long["coder_id"] == coder_id]
    assigned: dict[tuple[str, str], list[str]] = {}
    for row in mine.itertuples(index=False):
        if row.score >= threshold:
            assigned.setdefault((str(row.session_id), str(row.utterance_id)), []).append(row.code)
    out = []
    for s in sessions:
        utts = [
            Utterance(**{**u.__dict__, "codes": assigned.get((u.session_id, u.utterance_id), []), "meta": dict(u.meta)})
            for u in s.utterances
        ]
        out.append(Session(id=s.id, utterances=utts, meta=dict(s.meta), speakers=dict(s.speakers)))
    return out
