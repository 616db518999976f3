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
from coder.scheme import RUPTURE_MARKERS, THERAPIST_HARMFUL, THERAPIST_HELPFUL

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
        Re-checked 2026-12-03 with v2.1's out-of-fold codes, choosing on the train+validation
        transcripts only: threshold 0.2 with ``min_mass`` 0.5 scored higher there (F1 0.351 against
        0.303; 5.1 against 10.7 false episodes per high-quality hour) but lower on the test
        transcripts (0.286 against 0.385) and merges the long example's calm stretches into long
        episodes; no candidate kept AnnoMI's episodes and reduced the long example to its two
        constructed ruptures, so 0.3 stays (``annotation_guidelines/rollup.md`` § 5).
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
        (``benchmarks/rupture_episodes_model.py``; ``annotation_guidelines/rollup.md``); 0 kept
        on the 2026-12-03 re-check: a bar high enough to drop the long example's extra episodes
        (marker mass up to 6.3) drops nearly all of AnnoMI's human episodes, most of which are a
        single marked turn.
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


def _total(values: np.ndarray) -> float:
    """``float(pandas.Series(values).sum())``: NaN counts 0, the same additions in the same order."""
    return float(np.where(np.isnan(values), 0.0, values).sum())


def _largest(values: np.ndarray) -> np.ndarray:
    """Column maxima ignoring NaN (all-NaN: NaN), as ``DataFrame.max`` gives them."""
    return np.fmax.reduce(values, axis=0)


def _present(codes, values: np.ndarray, threshold: float) -> list[str]:
    if not len(values):
        return []
    return [c for c, top in zip(codes, _largest(values)) if top >= threshold]


def _severity(marker_mass: float, markers: list[str], escalating: bool) -> float:
    """1–5, in the spirit of the 3RS significance rating (documented in ``rollup.md``)."""
    value = 1.0 + min(2.0, marker_mass / 3.0) + 0.5 * (len(markers) >= 3) + 1.0 * bool(set(markers) & set(HOSTILE))
    value += 0.5 * escalating
    return round(float(np.clip(value, 1.0, 5.0)), 2)


def _family_of_both(mass: dict[str, float], mixed_share: float) -> str:
    """``mixed``, or the dominant family when the other holds less than ``mixed_share`` of the mass."""
    share = min(mass.values()) / max(sum(mass.values()), 1e-12)
    return "mixed" if share >= mixed_share else max(mass, key=mass.get)


def _response_kind(repair: bool, escalating: bool) -> str:
    return {(True, False): "repair", (False, True): "escalating", (True, True): "mixed"}.get((repair, escalating),
                                                                                               "none")


class _Units:
    """The utterance table as arrays, and its client units (turns or utterances) as runs of rows.

    ``order`` lists the client rows unit by unit (units in key order, rows in table order within
    a unit, as ``groupby`` gives them); unit ``k`` is ``order[bounds[k]:bounds[k + 1]]``.
    """

    def __init__(self, utts: pd.DataFrame, cfg: EpisodeConfig):
        role = utts["role"].to_numpy()
        self.client, self.therapist = role == "client", role == "therapist"
        num = lambda c: utts[c].to_numpy(float)  # noqa: E731
        table = lambda codes: np.column_stack([num(c) for c in codes])  # noqa: E731
        self.rupture, self.repair, self.escalating = num("rupture"), num("repair"), num("escalating")
        self.family = {f: num(f) for f in ("withdrawal", "confrontation")}
        self.talk = num("change_talk") + num("neutral_talk")
        self.elaborated = utts["elaborated"].to_numpy().astype(float)
        self.markers = table(RUPTURE_MARKERS)
        self.helpful, self.harmful = table(THERAPIST_HELPFUL), table(THERAPIST_HARMFUL)
        self.position = utts["position"].to_numpy()
        self.session_id, self.utterance_id = utts["session_id"].to_numpy(), utts["utterance_id"].to_numpy()
        self.start, self.end = utts["start"].to_numpy(), utts["end"].to_numpy()
        rows = np.flatnonzero(self.client)
        keys = utts["turn" if cfg.unit == "turn" else "position"].to_numpy()[rows]
        by_key = np.argsort(keys, kind="stable")
        self.order, keys = rows[by_key], keys[by_key]
        heads = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, dtype=int)
        self.bounds = np.r_[heads, len(keys)]
        hot = self.rupture[self.order] >= cfg.threshold
        self.marked = np.logical_or.reduceat(hot, heads) if len(heads) else np.zeros(0, dtype=bool)

    def rows(self, a: int, b: int) -> np.ndarray:
        """Rows of units ``a`` to ``b - 1``."""
        return self.order[self.bounds[a]:self.bounds[b]]


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
    units = _Units(utts, cfg)
    spans: list[tuple[int, int]] = []  # unit indices
    first = last = None
    for k, is_marked in enumerate(units.marked):
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
        spans = [(a, b) for a, b in spans
                 if sum(_total(units.rupture[units.rows(k, k + 1)]) for k in range(a, b + 1)) >= cfg.min_mass]
    rows = [_episode(units, a, b, cfg) for a, b in spans]
    frame = pd.DataFrame(rows, columns=EPISODE_COLUMNS)
    frame["episode"] = np.arange(1, len(frame) + 1)
    return frame


def _episode(units: _Units, a: int, b: int, cfg: EpisodeConfig) -> dict:
    thr, rthr, u = cfg.threshold, cfg.response_threshold, units
    span = u.rows(a, b + 1)
    hot = span[u.rupture[span] >= thr]
    first, last = hot[0], hot[-1]
    stop = min(b + 1 + cfg.closing_window, len(u.marked))
    window = u.rows(b + 1, stop)
    complete = stop - (b + 1) == cfg.closing_window and not u.marked[b + 1:stop].any()
    engaged = np.minimum(u.talk[window], 1.0) * (1.0 - u.rupture[window]) * u.elaborated[window]
    hits = window[engaged >= cfg.engaged_threshold]
    resolved = bool(complete and len(hits))
    end_pos = int(u.position[window[-1]]) if complete else int(u.position.max())
    ther = np.flatnonzero(u.therapist & (u.position >= u.position[first]) & (u.position <= end_pos))
    markers = _present(RUPTURE_MARKERS, u.markers[hot], thr)
    fams = [f for f in ("withdrawal", "confrontation") if (u.family[f][hot] >= thr).any()]
    if not markers:  # marked through a family probability only
        markers = fams
    family = fams[0] if len(fams) == 1 else _family_of_both({f: _total(u.family[f][hot]) for f in u.family},
                                                            cfg.mixed_share)
    repair_p = float(_largest(u.repair[ther])) if len(ther) else 0.0
    escalating_p = float(_largest(u.escalating[ther])) if len(ther) else 0.0
    rep, esc = u.repair[ther] >= rthr, u.escalating[ther] >= rthr
    answered = np.flatnonzero(rep | esc)
    final = _response_kind(bool(rep[answered[-1]]), bool(esc[answered[-1]])) if len(answered) else "none"
    mass = _total(u.rupture[span])
    end = u.end[last]
    return {
        "session_id": u.session_id[first], "episode": 0,
        "first_utterance_id": u.utterance_id[first], "last_utterance_id": u.utterance_id[last],
        "first_position": int(u.position[first]), "last_position": int(u.position[last]),
        "start": u.start[first], "end": end if pd.notna(end) else u.start[last],
        "family": family, "markers": ";".join(markers), "n_marked": int(len(hot)),
        "marker_mass": round(mass, 3), "severity": _severity(mass, markers, escalating_p >= rthr),
        "response": _response_kind(repair_p >= rthr, escalating_p >= rthr), "response_final": final,
        "response_helpful": ";".join(_present(THERAPIST_HELPFUL, u.helpful[ther], rthr)),
        "response_harmful": ";".join(_present(THERAPIST_HARMFUL, u.harmful[ther], rthr)),
        "repair_p": round(repair_p, 4), "escalating_p": round(escalating_p, 4),
        "resolved": resolved, "resolved_by": str(u.utterance_id[hits[0]]) if resolved else "",
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
