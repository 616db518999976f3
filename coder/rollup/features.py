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
    allowed = set(codes_for_role(utterance.role))
    out = {}
    for code in ALL_CODES:
        if code not in allowed:
            out[code] = 0.0
            continue
        p = _finite(proba.get(code))
        out[code] = min(1.0, max(0.0, p)) if p is not None else (1.0 if code in assigned else 0.0)
    if utterance.role == "client" and not any(out[t] for t in TALK_TYPES):
        out["neutral_talk"] = 1.0
    groups = {**FAMILY_CODES, "hostile": HOSTILE, "repair": REPAIR, "escalating": ESCALATING}
    for name, members in groups.items():
        value = max(out[c] for c in members)
        if members[0] in allowed:
            own = _finite(proba.get(name))
            if own is not None:
                value = max(value, min(1.0, max(0.0, own)))
        out[name] = value
    out["rupture"] = max(out["rupture"], out["withdrawal"], out["confrontation"])
    return out


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
    rows = []
    turn, prev = -1, None
    for i, u in enumerate(session.utterances):
        key = (u.turn_id, u.speaker, u.role)
        if key != prev:
            turn += 1
            prev = key
        p = code_probabilities(u, use_proba=use_proba)
        elaborated = bool(u.role == "client" and is_elaborated(u.text, min_words=min_words))
        client = u.role == "client"
        engaged = (p["change_talk"] + p["neutral_talk"] * elaborated) if client else 0.0
        sustain = p["sustain_talk"] if client else 0.0
        total = engaged + sustain + (p["neutral_talk"] * (not elaborated) if client else 0.0)
        scale = 1.0 / total if client and total > 0 else 0.0
        rows.append({
            "session_id": session.id, "position": i, "utterance_id": u.utterance_id, "turn": turn, "role": u.role,
            "start": u.start, "end": u.end, "text": u.text, "codes": ";".join(u.codes), "elaborated": elaborated,
            **p, "engaged": engaged * scale, "sustain": sustain * scale,
            "minimal": (1.0 - (engaged + sustain) * scale) if client else 0.0,
        })
    columns = BASE_COLUMNS + list(ALL_CODES) + list(FAMILY_CODES) + ["hostile", "repair", "escalating",
                                                                     "engaged", "sustain", "minimal"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"start": "float64", "end": "float64", "position": "int64", "turn": "int64"})


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
    out = pd.DataFrame(np.maximum.reduceat(utts[value_cols].to_numpy(float), heads, axis=0), columns=value_cols)
    means = np.add.reduceat(utts[["sustain", "minimal"]].to_numpy(float), heads, axis=0) / counts[:, None]
    rest = 1.0 - out["engaged"].to_numpy()
    denom = means.sum(1)
    sustain = np.divide(rest * means[:, 0], denom, out=np.zeros_like(rest), where=denom > 0)
    client = (utts["role"].to_numpy()[heads] == "client")
    out["sustain"] = np.where(client, sustain, 0.0)
    out["minimal"] = np.where(client, np.clip(rest - sustain, 0.0, None), 0.0)
    out.loc[~client, "engaged"] = 0.0
    positions = utts["position"].to_numpy()
    with np.errstate(all="ignore"):
        meta = {"turn": turn[heads], "role": utts["role"].to_numpy()[heads], "first": positions[heads],
                "last": positions[heads + counts - 1],
                "start": np.fmin.reduceat(utts["start"].to_numpy(float), heads),
                "end": np.fmax.reduceat(utts["end"].to_numpy(float), heads)}
    return pd.concat([pd.DataFrame(meta), out], axis=1)[columns]
