"""The explicit mapping from code rates to the four VTAS-style scales (0–5).

Each scale is ``5 / (1 + exp(-z))`` of a linear index ``z`` of code rates, so it always lies
strictly inside 0–5, is 2.5 where the index is 0, and moves monotonically with every term. Rates
are computed over **turns** (see :mod:`coder.rollup.features`) with a small prior (``prior_turns``
pseudo-turns at the term's centre), so a short segment with little evidence is pulled towards the
middle instead of jumping to an extreme.

The directions follow ``annotation_guidelines/session_ratings.md`` ("How utterance codes feed the
roll-up"); the weights and centres are documented with their rationale in
``annotation_guidelines/rollup.md``. Everything here works on arrays of **sums over turns** of the
per-turn columns in :data:`TURN_FEATURES`, so the bootstrap can resample turns and recompute all
four scales in one vectorised step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Per-turn columns whose sums feed the scales (see :func:`turn_features`).
TURN_FEATURES = (
    "t",      # 1 for a therapist turn
    "h",      # weighted helpful codes, capped at 1 per turn
    "b",      # weighted harmful codes
    "c",      # collaboration or metacommunication
    "x",      # confront_criticize, dismiss_invalidate, rigid_structure (weighted)
    "cl",     # 1 for a client turn
    "e",      # engaged talk (change talk, or elaborated neutral talk)
    "ns",     # not sustain talk (denominator of engagement)
    "w",      # any withdrawal marker
    "hc",     # hostile confrontation (complaint about the therapist, control/pressure)
    "kc",     # confrontation marker outside resolved episodes
    "kw",     # withdrawal marker inside unresolved episodes
    "u",      # unresolved episode starting here, weighted by severity / 3
    "rr",     # resolved episode starting here whose therapist response was repair-oriented
    "late",   # unresolved episode starting here in the final third of the session
    "rep",    # repair-oriented response to the episode starting here (probability)
    "esc",    # escalating response to the episode starting here (probability)
)
SCALES = ("therapist_contribution", "patient_contribution", "interaction", "total")


def _helpful() -> dict[str, float]:
    return {"question_open": 1.0, "reflection_simple": 0.5, "reflection_complex": 1.0, "affirmation": 1.0,
            "empathic_validation": 1.0, "affect_exploration": 1.0, "collaboration": 1.0, "metacommunication": 1.0}


def _harmful() -> dict[str, float]:
    return {"directing": 1.0, "confront_criticize": 1.5, "dismiss_invalidate": 1.5, "rigid_structure": 1.0,
            "self_disclosure_unhelpful": 0.75}


def _interaction_harm() -> dict[str, float]:
    return {"confront_criticize": 1.5, "dismiss_invalidate": 1.5, "rigid_structure": 1.0}


@dataclass(frozen=True)
class ScaleMapping:
    """Weights, centres and slopes of the four scale indices (documented in ``rollup.md``).

    Attributes
    ----------
    helpful_weights, harmful_weights, interaction_harm_weights : dict
        Per-code weights of the helpful rate (capped at 1 per turn), the harmful rate and the
        harm that sets the therapist against the client (interaction).
    tc_centre, tc_helpful, tc_harmful, tc_response, tc_harm_count : float
        ``z_tc = tc_helpful·(H − tc_centre) − tc_harmful·B + tc_response·(repair − escalation)
        − tc_harm_count·(1 − exp(−ΣB/2))``: the last term counts harmful moments with diminishing
        returns (the anchors' "rare", "occasional", "several"), whatever the session length.
    pc_centre, pc_engaged, pc_withdrawal, pc_hostile, pc_withdrawal_count : float
        ``z_pc = pc_engaged·(E − pc_centre) − pc_withdrawal·W − pc_hostile·Hc
        − pc_withdrawal_count·(1 − exp(−(ΣW + ΣHc)/2))``, the same idea for withdrawal and hostility.
    i_intercept, i_collab_centre, i_collab, i_harm, i_confrontation, i_withdrawal, i_unresolved, i_repaired : float
        ``z_i = i_intercept + i_collab·(C − i_collab_centre) − i_harm·X − i_confrontation·Kc
        − i_withdrawal·Kw − i_unresolved·U + i_repaired·min(1, R)``.
    total_weights : tuple of float
        Weights of ``z_tc, z_pc, z_i`` in ``z_total``.
    total_late_unresolved, total_repaired : float
        ``z_total`` minus this if an unresolved episode starts in the final third; plus this if
        any episode was resolved with a repair-oriented response.
    prior_turns : float
        Pseudo-turns at each rate's centre (shrinks short segments to the middle).
    episode_turns : float
        Episode counts are per this many client turns (at least one), ~15–20 minutes of talk.
    unreliable : tuple of str
        Codes the model flags unreliable (``labels.json`` ``reliability``; cross-validated F1
        below 0.30). In each weighted rate they count only as their family: the unreliable
        members of a weight table are pooled into one term, the largest of their probabilities
        at the mean of their weights, so a code the model cannot tell from its neighbours does
        not steer the score by its own weight. Empty for human codes.
    """

    helpful_weights: dict[str, float] = field(default_factory=_helpful)
    harmful_weights: dict[str, float] = field(default_factory=_harmful)
    interaction_harm_weights: dict[str, float] = field(default_factory=_interaction_harm)
    tc_centre: float = 0.35
    tc_helpful: float = 6.0
    tc_harmful: float = 6.0
    tc_response: float = 0.5
    tc_harm_count: float = 1.0
    pc_centre: float = 0.45
    pc_engaged: float = 5.0
    pc_withdrawal: float = 6.0
    pc_hostile: float = 4.0
    pc_withdrawal_count: float = 1.0
    i_intercept: float = 0.5
    i_collab_centre: float = 0.1
    i_collab: float = 5.0
    i_harm: float = 6.0
    i_confrontation: float = 4.0
    i_withdrawal: float = 4.0
    i_unresolved: float = 1.0
    i_repaired: float = 0.5
    total_weights: tuple[float, float, float] = (0.35, 0.25, 0.40)
    total_late_unresolved: float = 0.75
    total_repaired: float = 0.4
    prior_turns: float = 2.0
    episode_turns: float = 50.0
    unreliable: tuple[str, ...] = ()

    def weighted(self, turns: pd.DataFrame, weights: dict[str, float]) -> np.ndarray:
        """``Σ w·p`` over ``weights``' codes, the unreliable ones pooled (see :attr:`unreliable`)."""
        total, flagged = np.zeros(len(turns)), set(self.unreliable)
        pooled = [c for c in weights if c in flagged]
        for code, w in weights.items():
            if code not in flagged:
                total = total + w * turns[code].to_numpy(float)
        if pooled:
            mean_w = sum(weights[c] for c in pooled) / len(pooled)
            total = total + mean_w * np.column_stack([turns[c].to_numpy(float) for c in pooled]).max(axis=1)
        return total


def turn_features(turns: pd.DataFrame, episodes: pd.DataFrame, utts: pd.DataFrame,
                  mapping: ScaleMapping) -> pd.DataFrame:
    """The per-turn feature matrix whose column sums determine the scales.

    Parameters
    ----------
    turns : pandas.DataFrame
        From :func:`coder.rollup.features.turn_table`.
    episodes : pandas.DataFrame
        From :func:`coder.rollup.episodes.find_episodes` for the same session.
    utts : pandas.DataFrame
        From :func:`coder.rollup.features.utterance_table` (for positions → turns).
    mapping : ScaleMapping

    Returns
    -------
    pandas.DataFrame
        One row per turn, columns :data:`TURN_FEATURES`, index aligned with ``turns``.
    """
    n = len(turns)
    if n == 0:
        return pd.DataFrame(0.0, index=turns.index, columns=list(TURN_FEATURES))
    f = {name: np.zeros(n) for name in TURN_FEATURES}
    ther = (turns["role"] == "therapist").to_numpy(float)
    cli = (turns["role"] == "client").to_numpy(float)
    col = lambda code: turns[code].to_numpy(float)  # noqa: E731
    wsum = lambda weights: mapping.weighted(turns, weights)  # noqa: E731
    f["t"], f["cl"] = ther, cli
    f["h"] = ther * np.minimum(1.0, wsum(mapping.helpful_weights))
    f["b"] = ther * wsum(mapping.harmful_weights)
    f["c"] = ther * np.maximum(col("collaboration"), col("metacommunication"))
    f["x"] = ther * wsum(mapping.interaction_harm_weights)
    f["e"] = cli * col("engaged")
    f["ns"] = cli * (1.0 - col("sustain"))
    f["w"] = cli * col("withdrawal")
    f["hc"] = cli * col("hostile")
    positions, turn_of = utts["position"].to_numpy(), utts["turn"].to_numpy()
    row_of = {t: r for r, t in enumerate(turns["turn"].to_numpy().tolist())}
    in_resolved = np.zeros(n)
    in_unresolved = np.zeros(n)
    last = int(positions.max()) if len(utts) else 0
    columns = ("first_position", "last_position", "resolved", "repair_p", "escalating_p", "severity")
    for first, final, resolved, repair_p, escalating_p, severity in zip(*(episodes[c].tolist() for c in columns)):
        inside = (positions >= first) & (positions <= final)
        span = [row_of[t] for t in np.unique(turn_of[inside]).tolist()]
        (in_resolved if resolved else in_unresolved)[span] = 1.0
        r = row_of[turn_of[positions == first][0].item()]
        f["rep"][r] += repair_p
        f["esc"][r] += escalating_p
        if resolved:
            f["rr"][r] += float(repair_p >= 0.5)
        else:
            f["u"][r] += severity / 3.0
            f["late"][r] += float(first >= 2 * last / 3)
    f["kc"] = cli * col("confrontation") * (1.0 - in_resolved)
    f["kw"] = cli * col("withdrawal") * in_unresolved
    return pd.DataFrame(f, index=turns.index, columns=list(TURN_FEATURES))


def _sig(z: np.ndarray) -> np.ndarray:
    return 5.0 / (1.0 + np.exp(-z))


def indices(sums: np.ndarray, mapping: ScaleMapping) -> dict[str, np.ndarray]:
    """Scale indices ``z`` and scores from sums of :data:`TURN_FEATURES`.

    Parameters
    ----------
    sums : ndarray (..., len(TURN_FEATURES))
        Column sums over the turns of a session, a segment or a bootstrap resample.
    mapping : ScaleMapping

    Returns
    -------
    dict
        ``z_<scale>`` and ``<scale>`` (0–5) for the four :data:`SCALES`, plus the rates behind
        them (``helpful_rate, harmful_rate, engaged_rate, withdrawal_rate, collab_rate``).
    """
    s = {name: sums[..., i] for i, name in enumerate(TURN_FEATURES)}
    m, k = mapping, mapping.prior_turns
    norm = np.maximum(1.0, s["cl"] / m.episode_turns)
    H = (s["h"] + k * m.tc_centre) / (s["t"] + k)
    B = s["b"] / (s["t"] + k)
    z_tc = (m.tc_helpful * (H - m.tc_centre) - m.tc_harmful * B + m.tc_response * (s["rep"] - s["esc"]) / norm
            - m.tc_harm_count * (1.0 - np.exp(-s["b"] / 2.0)))
    E = (s["e"] + k * m.pc_centre) / (s["ns"] + k)
    W = s["w"] / (s["cl"] + k)
    Hc = s["hc"] / (s["cl"] + k)
    z_pc = (m.pc_engaged * (E - m.pc_centre) - m.pc_withdrawal * W - m.pc_hostile * Hc
            - m.pc_withdrawal_count * (1.0 - np.exp(-(s["w"] + s["hc"]) / 2.0)))
    C = (s["c"] + k * m.i_collab_centre) / (s["t"] + k)
    X = s["x"] / (s["t"] + k)
    Kc = s["kc"] / (s["cl"] + k)
    Kw = s["kw"] / (s["cl"] + k)
    z_i = (m.i_intercept + m.i_collab * (C - m.i_collab_centre) - m.i_harm * X - m.i_confrontation * Kc
           - m.i_withdrawal * Kw - m.i_unresolved * s["u"] / norm + m.i_repaired * np.minimum(1.0, s["rr"] / norm))
    a, b, c = m.total_weights
    z_total = (a * z_tc + b * z_pc + c * z_i - m.total_late_unresolved * np.minimum(1.0, s["late"])
               + m.total_repaired * np.minimum(1.0, s["rr"]))
    out = {"z_therapist_contribution": z_tc, "z_patient_contribution": z_pc, "z_interaction": z_i,
           "z_total": z_total}
    for scale in SCALES:
        out[scale] = _sig(out[f"z_{scale}"])
    out.update(helpful_rate=H, harmful_rate=B, engaged_rate=E, withdrawal_rate=W, collab_rate=C)
    return out
