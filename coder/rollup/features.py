"""Coded sessions → numbers: one row per utterance, then one row per turn.

Every roll-up quantity starts from the **utterance table** built here: for each utterance the
probability of every scheme code (the model's ``meta["proba"]`` where it is a finite number, the
hard codes as 0/1 otherwise) and of the derived families, plus whether the utterance is
*elaborated* (more than a back-channel, a yes/no or a stock phrase).

Scores are computed over **turns** (everything a speaker says before the other speaks): a turn
carries a code with the largest probability any of its utterances gives it. Rates per turn do not
depend on how finely a transcript was cut into utterances, so a turn-level corpus (AnnoMI) and a
sentence-segmented recording are scored on the same footing. Rupture episodes, which the
guidelines define over client *utterances*, use the utterance table directly.
"""

from __future__ import annotations

import math
import re
from functools import cache

import numpy as np
import pandas as pd

from coder.scheme import ALL_CODES, DERIVED, FAMILIES, TALK_TYPES, codes_for_role
from coder.session import Session

#: Family columns added to the utterance table (``rupture`` = any marker), from
#: :data:`coder.scheme.DERIVED` and :data:`coder.scheme.FAMILIES`.
FAMILY_CODES: dict[str, tuple[str, ...]] = {**DERIVED, "harmful": FAMILIES["harmful"], "helpful": FAMILIES["helpful"]}
#: Confrontation markers aimed at the therapist as a person (session_ratings.md: they lower
#: ``patient_contribution`` as well as ``interaction``).
HOSTILE = ("c_complaint_therapist", "c_control_pressure")
#: 3RS resolution strategies among the therapist codes (client_rupture_markers.md).
REPAIR = ("metacommunication", "empathic_validation", "collaboration", "reflection_simple",
          "reflection_complex", "affect_exploration")
#: Escalating responses to a rupture (client_rupture_markers.md).
ESCALATING = ("confront_criticize", "dismiss_invalidate", "rigid_structure", "directing")

BASE_COLUMNS = ["session_id", "position", "utterance_id", "turn", "role", "start", "end", "text", "codes",
                "elaborated"]

_GROUPS: dict[str, tuple[str, ...]] = {**FAMILY_CODES, "hostile": HOSTILE, "repair": REPAIR, "escalating": ESCALATING}
_KEYS = (*ALL_CODES, *_GROUPS)
_CUE = re.compile(r"[\(\[][^\)\]]*[\)\]]")
_TOKEN = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.U)
#: Words that add no content of their own; an utterance made only of them is not elaborated.
FILLER = frozenset(
    "yeah yes yep yup no nope nah okay ok right sure fine true exactly absolutely definitely really oh ah um uh "
    "mm mhm hmm mm-hmm uh-huh well so i guess suppose know dunno don't maybe perhaps whatever thanks thank you "
    "alright good great cool a bit not that's it is it's kind of sort just like probably yes".split()
)


def is_elaborated(text: str, *, min_words: int = 4) -> bool:
    """Whether a client utterance adds content of its own (the resolution rule's *engaged* test).

    Transcribed cues in brackets (``(pause)``, ``[sighs]``) are removed; the rest must hold at
    least ``min_words`` word tokens, not all of them filler words (:data:`FILLER`: back-channels,
    yes/no, hedges, "I don't know", "I suppose", "whatever" …).

    Parameters
    ----------
    text : str
    min_words : int
        Operational threshold for "at least one full clause of new content".

    Returns
    -------
    bool
    """
    words = [w.lower().replace("’", "'") for w in _TOKEN.findall(_CUE.sub(" ", str(text)))]
    return len(words) >= min_words and any(w not in FILLER for w in words)


def _finite(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def code_probabilities(utterance, *, use_proba: bool = True) -> dict[str, float]:
    """Probability of every scheme code and family for one utterance.

    Parameters
    ----------
    utterance : coder.session.Utterance
        ``meta["proba"]`` (``{code: p}``, possibly with family keys ``withdrawal``,
        ``confrontation``, ``harmful``) is used where its value is a finite number; other codes
        count 1.0 when in ``codes`` and 0.0 when not. Codes the role may not carry are 0.
    use_proba : bool
        False ignores the probabilities and uses the hard codes only.

    Returns
    -------
    dict
        Every code of :data:`coder.scheme.ALL_CODES` plus the :data:`FAMILY_CODES` families and
        ``hostile``, ``repair``, ``escalating`` (probability that at least one member is present,
        taken as the largest member probability, or the model's own family probability when it is
        larger). A client utterance with no talk type at all counts as ``neutral_talk``.
    """
    proba = (utterance.meta.get("proba") or {}) if use_proba else {}
    assigned = set(utterance.codes)
    allowed, groups = _role_layout(utterance.role)
    out = dict.fromkeys(_KEYS, 0.0)
    for code in allowed:
        p = _probability(proba.get(code)) if proba else None
        out[code] = p if p is not None else (1.0 if code in assigned else 0.0)
    if utterance.role == "client" and not any(out[t] for t in TALK_TYPES):
        out["neutral_talk"] = 1.0
    for name, members, own_counts in groups:
        value = max([out[c] for c in members])
        if own_counts and proba:
            own = _probability(proba.get(name))
            if own is not None:
                value = max(value, own)
        out[name] = value
    out["rupture"] = max(out["rupture"], out["withdrawal"], out["confrontation"])
    return out


@cache
def _role_layout(role) -> tuple[tuple[str, ...], tuple[tuple[str, tuple[str, ...], bool], ...]]:
    """The codes ``role`` may carry (in :data:`ALL_CODES` order) and the groups with a member among them.

    Groups come as ``(name, members, whether the model's own group probability counts)``; the
    other groups are 0 for this role.
    """
    allowed = set(codes_for_role(role))
    groups = tuple((name, members, members[0] in allowed) for name, members in _GROUPS.items()
                   if allowed.intersection(members))
    return tuple(c for c in ALL_CODES if c in allowed), groups


def _probability(value) -> float | None:
    """``value`` clipped to 0–1, None when it is missing or not a finite number."""
    if value is None:
        return None
    if isinstance(value, float):
        value = float(value)
        if value - value != 0.0:  # NaN or infinite
            return None
    else:
        value = _finite(value)
        if value is None:
            return None
    return min(1.0, max(0.0, value))


def utterance_table(session: Session, *, use_proba: bool = True, min_words: int = 4) -> pd.DataFrame:
    """One row per utterance of ``session`` with its code probabilities.

    Parameters
    ----------
    session : coder.session.Session
    use_proba : bool
        Use ``meta["proba"]`` where present (False: hard codes only).
    min_words : int
        Elaboration threshold (:func:`is_elaborated`).

    Returns
    -------
    pandas.DataFrame
        :data:`BASE_COLUMNS` (``position`` 0-based; ``turn`` a 0-based index of contiguous
        same-speaker runs, recomputed so it never depends on the source's numbering; ``codes``
        ``;``-joined) followed by one float column per code, family and derived group (see
        :func:`code_probabilities`) and the client talk split ``engaged``, ``sustain``,
        ``minimal`` (summing to 1 on client rows, 0 elsewhere): ``engaged`` =
        P(change talk) + P(neutral talk)·elaborated.
    """
    columns = BASE_COLUMNS + list(_KEYS) + ["engaged", "sustain", "minimal"]
    utts = session.utterances
    if not utts:
        frame = pd.DataFrame([], columns=columns)
        return frame.astype({"start": "float64", "end": "float64", "position": "int64", "turn": "int64"})
    turns, turn, prev = [], -1, None
    for u in utts:
        key = (u.turn_id, u.speaker, u.role)
        if key != prev:
            turn += 1
            prev = key
        turns.append(turn)
    probs = np.array([list(code_probabilities(u, use_proba=use_proba).values()) for u in utts], dtype=float)
    client = np.array([u.role == "client" for u in utts], dtype=bool)
    elaborated = np.array([bool(u.role == "client" and is_elaborated(u.text, min_words=min_words)) for u in utts],
                          dtype=bool)
    p = dict(zip(_KEYS, probs.T))
    engaged = np.where(client, p["change_talk"] + p["neutral_talk"] * elaborated, 0.0)
    sustain = np.where(client, p["sustain_talk"], 0.0)
    total = engaged + sustain + np.where(client, p["neutral_talk"] * ~elaborated, 0.0)
    scale = np.divide(1.0, total, out=np.zeros(len(utts)), where=client & (total > 0))
    data = {
        "session_id": [session.id] * len(utts), "position": np.arange(len(utts), dtype="int64"),
        "utterance_id": [u.utterance_id for u in utts], "turn": np.array(turns, dtype="int64"),
        "role": [u.role for u in utts], "start": _floats([u.start for u in utts]),
        "end": _floats([u.end for u in utts]), "text": [u.text for u in utts],
        "codes": [";".join(u.codes) for u in utts], "elaborated": elaborated, **p,
        "engaged": engaged * scale, "sustain": sustain * scale,
        "minimal": np.where(client, 1.0 - (engaged + sustain) * scale, 0.0),
    }
    return pd.DataFrame(data, columns=columns)


def _floats(values: list) -> np.ndarray:
    """``values`` as float64, None as NaN (what ``astype("float64")`` makes of an object column)."""
    return pd.Series(values, dtype=object).astype("float64").to_numpy()


def turn_table(utts: pd.DataFrame) -> pd.DataFrame:
    """One row per turn: the largest probability of each code over the turn's utterances.

    Parameters
    ----------
    utts : pandas.DataFrame
        From :func:`utterance_table`.

    Returns
    -------
    pandas.DataFrame
        ``turn, role, first, last`` (positions of the turn's first and last utterance),
        ``start``, ``end``, every probability column (turn maximum), and the client split
        recomputed per turn: ``engaged`` = the turn maximum, ``sustain`` = the rest shared
        between sustain and minimal talk in proportion to their turn means.
    """
    value_cols = [c for c in utts.columns if c not in BASE_COLUMNS]
    columns = ["turn", "role", "first", "last", "start", "end", *value_cols]
    if utts.empty:
        return pd.DataFrame(columns=columns)
    turn = utts["turn"].to_numpy()
    heads = np.flatnonzero(np.r_[True, turn[1:] != turn[:-1]])  # turns are contiguous runs
    counts = np.diff(np.r_[heads, len(turn)])
    top = np.maximum.reduceat(utts[value_cols].to_numpy(float), heads, axis=0)
    out = dict(zip(value_cols, top.T))
    means = np.add.reduceat(utts[["sustain", "minimal"]].to_numpy(float), heads, axis=0) / counts[:, None]
    rest = 1.0 - out["engaged"]
    denom = means.sum(1)
    sustain = np.divide(rest * means[:, 0], denom, out=np.zeros_like(rest), where=denom > 0)
    roles = utts["role"].to_numpy()[heads]
    client = roles == "client"
    out["sustain"] = np.where(client, sustain, 0.0)
    out["minimal"] = np.where(client, np.clip(rest - sustain, 0.0, None), 0.0)
    out["engaged"] = np.where(client, out["engaged"], 0.0)
    positions = utts["position"].to_numpy()
    with np.errstate(all="ignore"):
        meta = {"turn": turn[heads], "role": roles, "first": positions[heads], "last": positions[heads + counts - 1],
                "start": np.fmin.reduceat(utts["start"].to_numpy(float), heads),
                "end": np.fmax.reduceat(utts["end"].to_numpy(float), heads)}
    return pd.DataFrame({**meta, **out}, columns=columns)
