"""Rupture episodes from client markers, the therapist's response, resolution, the worst moment.

Implements "Rupture episodes and resolution (for the roll-up)" of
``annotation_guidelines/client_rupture_markers.md`` with its default parameters, counted in client
**turns** instead of client utterances (see :class:`EpisodeConfig`; ``unit="utterance"`` gives
the literal rule):

* work along the client turns in order; a turn is *marked* when one of its utterances has a
  probability of carrying any ``w_*``/``c_*`` marker of at least ``threshold`` (hard codes 0/1);
* an episode starts at a marked turn and goes on while the next marked client turn comes after
  at most ``max_gap`` (2) unmarked ones;
* it closes when ``closing_window`` (3) consecutive unmarked client turns follow its last marked
  one — the *closing window* — or when the session ends;
* an episode whose marker mass (its client utterances' summed marker probability, as in the
  ``marker_mass`` column; the number of marked utterances with hard codes) stays below ``min_mass`` is not
  reported (an isolated, uncertain marker is not yet a rupture episode);
* it is **resolved** when the closing window is complete and holds at least one *engaged*
  client utterance: change or neutral talk, no marker, elaborated
  (:func:`coder.rollup.features.is_elaborated`); with probabilities,
  ``(P(change) + P(neutral)) · (1 − P(marker)) · elaborated ≥ engaged_threshold``;
* the therapist's response is the set of therapist codes on therapist utterances from the first
  marked utterance to the end of the closing window (or of the session).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from coder.rollup.features import HOSTILE
from coder.scheme import CONFRONTATION, THERAPIST_HARMFUL, THERAPIST_HELPFUL, WITHDRAWAL

EPISODE_COLUMNS = [
    "session_id", "episode", "first_utterance_id", "last_utterance_id", "first_position", "last_position",
    "start", "end", "family", "markers", "n_marked", "marker_mass", "severity", "response", "response_final",
    "response_helpful", "response_harmful", "repair_p", "escalating_p", "resolved", "resolved_by",
    "window_end_position", "window_complete",
]


@dataclass
class EpisodeConfig:
    """How markers become episodes (defaults from ``client_rupture_markers.md``).

    Attributes
    ----------
    threshold : float
        Probability at or above which a rupture marker counts as present. 0.3, chosen on
        AnnoMI's out-of-fold model codes against the human episodes (episode F1 0.36 against
        0.25 at 0.5; ``benchmarks/rupture_episodes_model.py``); hard codes are 0 or 1 either way.
    response_threshold : float
        Probability at or above which a therapist code counts as part of the response.
    max_gap : int
        Unmarked client utterances allowed between two marked ones of the same episode.
    closing_window : int
        Consecutive unmarked client utterances that close an episode and in which re-engagement
        is looked for.
    engaged_threshold : float
        Probability at or above which a client utterance in the window counts as engaged.
    min_mass : float
        Least marker mass (summed marker probability over the episode's client utterances) for
        an episode to be reported; 0 reports every marked span (the guideline's literal rule).
        Chosen on AnnoMI's out-of-fold model codes against the human episodes
        (``benchmarks/rupture_episodes_model.py``; ``annotation_guidelines/rollup.md``).
    mixed_share : float
        An episode with markers of both families is ``mixed`` only when the smaller family holds
        at least this share of the marked utterances' family probability; otherwise it takes the
        dominant family. 0 calls every episode with any marker of both families ``mixed`` (the
        guideline's literal rule). 1/3 (the smaller family at least half the larger) on the
        rationale that a stray probability over the threshold is not a second rupture; on AnnoMI's
        out-of-fold model codes it matched the human episodes' family in 30 of 46 matched episodes
        against 29 with 0 (``benchmarks/rupture_episodes_model.py``).
    unit : str
        What ``max_gap`` and ``closing_window`` count: ``"turn"`` (client turns; default, see
        below) or ``"utterance"`` (client utterances, the guideline's literal default). A turn is
        marked when any of its utterances is, engaged when any of its utterances is.

    Notes
    -----
    The guideline counts client *utterances*; its worked example has one utterance per turn. With
    sentence-level segmentation a single reply such as "(long pause) A bit. Yeah." is three
    utterances and would use up a three-utterance closing window on its own, so the roll-up counts
    client **turns** by default (identical on turn-level transcripts such as AnnoMI). This change
    is documented in ``annotation_guidelines/rollup.md``.
    """

    threshold: float = 0.3
    response_threshold: float = 0.5
    max_gap: int = 2
    closing_window: int = 3
    engaged_threshold: float = 0.5
    min_mass: float = 0.0
    mixed_share: float = 1 / 3
    unit: str = "turn"


def _present(rows: pd.DataFrame, codes, threshold: float) -> list[str]:
    if rows.empty:
        return []
    return [c for c in codes if rows[c].max() >= threshold]


def _severity(marker_mass: float, markers: list[str], escalating: bool) -> float:
    """1–5, in the spirit of the 3RS significance rating (documented in ``rollup.md``)."""
    value = 1.0 + min(2.0, marker_mass / 3.0) + 0.5 * (len(markers) >= 3) + 1.0 * bool(set(markers) & set(HOSTILE))
    value += 0.5 * escalating
    return round(float(np.clip(value, 1.0, 5.0)), 2)


def _family_of_both(marked: pd.DataFrame, mixed_share: float) -> str:
    """``mixed``, or the dominant family when the other holds less than ``mixed_share`` of the mass."""
    mass = {f: float(marked[f].sum()) for f in ("withdrawal", "confrontation")}
    share = min(mass.values()) / max(sum(mass.values()), 1e-12)
    return "mixed" if share >= mixed_share else max(mass, key=mass.get)


def _response_kind(repair: bool, escalating: bool) -> str:
    return {(True, False): "repair", (False, True): "escalating", (True, True): "mixed"}.get((repair, escalating),
                                                                                               "none")


def find_episodes(utts: pd.DataFrame, config: EpisodeConfig | None = None) -> pd.DataFrame:
    """Rupture episodes of one session.

    Parameters
    ----------
    utts : pandas.DataFrame
        From :func:`coder.rollup.features.utterance_table`.
    config : EpisodeConfig, optional

    Returns
    -------
    pandas.DataFrame
        :data:`EPISODE_COLUMNS`, one row per episode in order. ``first_utterance_id`` and
        ``last_utterance_id`` are the first and last *marked* client utterances; ``family`` is
        ``withdrawal``, ``confrontation`` or ``mixed``; ``markers`` the ``;``-joined marker codes
        present on its marked utterances; ``response`` ``repair``/``escalating``/``mixed``/``none``
        over the response span and ``response_final`` the kind of the last therapist utterance in
        it that carried a repair or escalating code; ``repair_p``/``escalating_p`` the largest
        probabilities of such codes; ``resolved_by`` the first engaged utterance of the closing
        window ('' if unresolved).
    """
    cfg = config or EpisodeConfig()
    if cfg.unit not in ("turn", "utterance"):
        raise ValueError(f"EpisodeConfig.unit must be 'turn' or 'utterance', not {cfg.unit!r}")
    client = utts[utts["role"] == "client"]
    keys = client["turn"] if cfg.unit == "turn" else client["position"]
    units = [rows for _, rows in client.groupby(keys.to_numpy(), sort=True)]
    marked = np.array([bool((rows["rupture"] >= cfg.threshold).any()) for rows in units], dtype=bool)
    spans: list[tuple[int, int]] = []  # indices into ``units``
    first = last = None
    for k, is_marked in enumerate(marked):
        if is_marked:
            if first is None:
                first = k
            last = k
        elif first is not None and k - last > cfg.max_gap:
            spans.append((first, last))
            first = last = None
    if first is not None:
        spans.append((first, last))
    if cfg.min_mass > 0:
        spans = [(a, b) for a, b in spans if sum(float(u["rupture"].sum()) for u in units[a:b + 1]) >= cfg.min_mass]
    rows = [_episode(utts, units, marked, a, b, cfg) for a, b in spans]
    frame = pd.DataFrame(rows, columns=EPISODE_COLUMNS)
    frame["episode"] = np.arange(1, len(frame) + 1)
    return frame


def _episode(utts, units, marked, a: int, b: int, cfg: EpisodeConfig) -> dict:
    thr, rthr = cfg.threshold, cfg.response_threshold
    in_span = pd.concat(units[a:b + 1])
    span_marked = in_span[in_span["rupture"] >= thr]
    first, last = span_marked.iloc[0], span_marked.iloc[-1]
    window_units = units[b + 1:b + 1 + cfg.closing_window]
    complete = len(window_units) == cfg.closing_window and not marked[b + 1:b + 1 + cfg.closing_window].any()
    window = pd.concat(window_units) if window_units else utts.iloc[0:0]
    engaged = ((window["change_talk"] + window["neutral_talk"]).clip(upper=1.0) * (1.0 - window["rupture"])
               * window["elaborated"].astype(float))
    hits = window[engaged.to_numpy() >= cfg.engaged_threshold]
    resolved = bool(complete and len(hits))
    end_pos = int(window["position"].iloc[-1]) if complete else int(utts["position"].max())
    ther = utts[(utts["role"] == "therapist") & (utts["position"] >= first.position) & (utts["position"] <= end_pos)]
    markers = _present(span_marked, WITHDRAWAL + CONFRONTATION, thr)
    fams = [f for f in ("withdrawal", "confrontation") if (span_marked[f] >= thr).any()]
    if not markers:  # marked through a family probability only
        markers = fams
    family = fams[0] if len(fams) == 1 else _family_of_both(span_marked, cfg.mixed_share)
    repair_p = float(ther["repair"].max()) if len(ther) else 0.0
    escalating_p = float(ther["escalating"].max()) if len(ther) else 0.0
    final = "none"
    for row in ther.itertuples(index=False):
        rep, esc = row.repair >= rthr, row.escalating >= rthr
        if rep or esc:
            final = _response_kind(rep, esc)
    mass = float(in_span["rupture"].sum())
    return {
        "session_id": first.session_id, "episode": 0,
        "first_utterance_id": first.utterance_id, "last_utterance_id": last.utterance_id,
        "first_position": int(first.position), "last_position": int(last.position),
        "start": first.start, "end": last.end if pd.notna(last.end) else last.start,
        "family": family, "markers": ";".join(markers), "n_marked": int(len(span_marked)),
        "marker_mass": round(mass, 3), "severity": _severity(mass, markers, escalating_p >= rthr),
        "response": _response_kind(repair_p >= rthr, escalating_p >= rthr), "response_final": final,
        "response_helpful": ";".join(_present(ther, THERAPIST_HELPFUL, rthr)),
        "response_harmful": ";".join(_present(ther, THERAPIST_HARMFUL, rthr)),
        "repair_p": round(repair_p, 4), "escalating_p": round(escalating_p, 4),
        "resolved": resolved, "resolved_by": str(hits["utterance_id"].iloc[0]) if resolved else "",
        "window_end_position": end_pos, "window_complete": bool(complete),
    }


def strain(utts: pd.DataFrame, harmful_weights: dict[str, float]) -> np.ndarray:
    """Per-utterance strain: weighted harmful codes (therapist) or markers, hostile ×1.5 (client)."""
    ther = (utts["role"] == "therapist").to_numpy(float)
    cli = (utts["role"] == "client").to_numpy(float)
    harm = sum(w * utts[c].to_numpy(float) for c, w in harmful_weights.items())
    return ther * harm + cli * (utts["rupture"].to_numpy(float) + 0.5 * utts["hostile"].to_numpy(float))


def worst_moment(utts: pd.DataFrame, harmful_weights: dict[str, float], *, window: int = 12,
                 min_strain: float = 1.0) -> dict | None:
    """The stretch of ``window`` utterances with the most strain, for the report's jump link.

    Parameters
    ----------
    utts : pandas.DataFrame
        From :func:`coder.rollup.features.utterance_table`.
    harmful_weights : dict
        Per-code weights of harmful therapist codes (``ScaleMapping.harmful_weights``).
    window : int
        Utterances per stretch.
    min_strain : float
        Below this total strain there is no worst moment (None).

    Returns
    -------
    dict or None
        ``first_position, last_position, first_utterance_id, start, end, strain``: the first and
        last utterance of the stretch with strain ≥ 0.25.
    """
    s = strain(utts, harmful_weights)
    if len(s) == 0:
        return None
    rolling = np.convolve(s, np.ones(min(window, len(s))), mode="valid")
    i = int(np.argmax(rolling))
    if rolling[i] < min_strain:
        return None
    idx = np.arange(i, i + min(window, len(s)))
    hot = idx[s[idx] >= 0.25]
    if not len(hot):  # strain spread thinly over the stretch: point at its most strained utterance
        hot = idx[[int(np.argmax(s[idx]))]]
    a, b = int(hot[0]), int(hot[-1])
    first, last = utts.iloc[a], utts.iloc[b]
    return {"first_position": a, "last_position": b, "first_utterance_id": str(first.utterance_id),
            "start": first.start, "end": last.end if pd.notna(last.end) else last.start,
            "strain": round(float(rolling[i]), 3)}
