"""VTAS-style 0–5 scores for whole sessions and sliding segments, with bootstrap bands.

The four scales (``therapist_contribution``, ``patient_contribution``, ``interaction``,
``total``) come from :mod:`coder.rollup.mapping`; this module cuts sessions into segments,
resamples turns for the confidence bands and assembles one record per session or segment.

Bands: a nonparametric bootstrap over **turns** (each turn's utterances resampled together, so
the turn-level rates stay defined; rupture-episode terms travel with the turn where the episode
starts), ``n_boot`` resamples with a fixed seed, percentile interval at ``band`` coverage,
widened if needed to contain the point estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from coder.rollup.episodes import EpisodeConfig, find_episodes, worst_moment
from coder.rollup.features import turn_table, utterance_table
from coder.rollup.mapping import SCALES, TURN_FEATURES, ScaleMapping, indices, turn_features
from coder.rollup.miti import miti_indicators
from coder.session import Session

SEGMENT_COLUMNS = [
    "session_id", "segment", "first_utterance_id", "last_utterance_id", "first_position", "last_position",
    "start", "end", "n_utterances", "n_turns",
    *[c for s in SCALES for c in (s, f"{s}_lo", f"{s}_hi")], "n_rupture_episodes", "n_unresolved",
]


@dataclass
class RollupConfig:
    """Everything the roll-up of coded sessions depends on.

    Attributes
    ----------
    window_s, step_s : float
        Segment length and step in seconds, used when every utterance has a start time.
    window_utterances, step_utterances : int
        Segment length and step in utterances otherwise.
    n_boot : int
        Bootstrap resamples per session and per segment (0: no bands, ``_lo = _hi =`` score).
    band : float
        Coverage of the bootstrap percentile interval.
    seed : int
        Seed of every bootstrap (each session and segment starts from it: results do not depend
        on the order sessions come in).
    use_proba : bool
        Use the model's probabilities (``meta["proba"]``) where present; False: hard codes only.
    min_words : int
        Elaboration threshold for engaged client talk (:func:`coder.rollup.features.is_elaborated`).
    worst_window : int
        Utterances per stretch when looking for the worst moment.
    mapping : ScaleMapping
        Weights of the scales.
    episodes : EpisodeConfig
        Episode and resolution rules.
    """

    window_s: float = 300.0
    step_s: float = 60.0
    window_utterances: int = 40
    step_utterances: int = 10
    n_boot: int = 500
    band: float = 0.95
    seed: int = 0
    use_proba: bool = True
    min_words: int = 4
    worst_window: int = 12
    mapping: ScaleMapping = field(default_factory=ScaleMapping)
    episodes: EpisodeConfig = field(default_factory=EpisodeConfig)


@dataclass
class SessionAnalysis:
    """Everything the roll-up computes for one coded session; what the report is drawn from.

    Attributes
    ----------
    session : coder.session.Session
        The coded session.
    utterances : pandas.DataFrame
        :func:`coder.rollup.features.utterance_table`: one row per utterance, code probabilities.
    turns : pandas.DataFrame
        :func:`coder.rollup.features.turn_table`.
    episodes : pandas.DataFrame
        Rupture episodes (:data:`coder.rollup.episodes.EPISODE_COLUMNS`).
    features : pandas.DataFrame
        Per-turn :data:`coder.rollup.mapping.TURN_FEATURES`.
    worst : dict or None
        The worst moment (``first_position``, ``last_position``, ``first_utterance_id``,
        ``start``, …), None when there is none.
    record : dict or None
        Its ``sessions.csv`` row (:func:`session_record`), set by ``coder.rollup.tables.analyse``.
    segments : pandas.DataFrame or None
        Its ``segments.csv`` rows (:func:`segment_records`), set by ``analyse``.
    """

    session: Session
    utterances: pd.DataFrame
    turns: pd.DataFrame
    episodes: pd.DataFrame
    features: pd.DataFrame
    worst: dict | None
    record: dict | None = None
    segments: pd.DataFrame | None = None


def prepare(session: Session, config: RollupConfig | None = None) -> SessionAnalysis:
    """Everything computed once per session: utterance and turn tables, episodes, features.

    Parameters
    ----------
    session : coder.session.Session
        A coded session (codes, and ``meta["proba"]`` where a model coded it).
    config : RollupConfig, optional

    Returns
    -------
    SessionAnalysis
        Without ``record`` and ``segments`` (see ``coder.rollup.tables.analyse``).
    """
    cfg = config or RollupConfig()
    utts = utterance_table(session, use_proba=cfg.use_proba, min_words=cfg.min_words)
    turns = turn_table(utts)
    episodes = find_episodes(utts, cfg.episodes)
    feats = turn_features(turns, episodes, utts, cfg.mapping)
    worst = worst_moment(utts, cfg.mapping.harmful_weights, window=cfg.worst_window)
    return SessionAnalysis(session, utts, turns, episodes, feats, worst)


def resampled_sums(features: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """Column sums of bootstrap resamples of turns: ``features[draws].sum(axis=1)``, faster.

    The same additions in the same order (each resample's rows one after another), so the
    result is bit for bit the same; columns that are all ``+0.0`` are left out of the work.

    Parameters
    ----------
    features : ndarray (n_turns, n_features)
    draws : ndarray of int (n_resamples, n_turns)
        Row indices of each resample.

    Returns
    -------
    ndarray (n_resamples, n_features)
    """
    if features.shape[1] < 2:  # numpy sums a single column pairwise, not row after row
        return features[draws].sum(axis=1)
    sums = np.zeros((draws.shape[0], features.shape[1]))
    live = np.flatnonzero((features != 0).any(axis=0) | np.signbit(features).any(axis=0))
    if len(live) < 2:  # as above: with two columns or more numpy adds row after row
        live = np.arange(features.shape[1])
    sums[:, live] = np.ascontiguousarray(features[:, live]).take(draws.T, axis=0).sum(axis=0)
    return sums


def scores_with_bands(features: np.ndarray, config: RollupConfig | None = None) -> dict[str, float]:
    """The four scales and their bootstrap bands from a per-turn feature matrix.

    Parameters
    ----------
    features : ndarray (n_turns, len(TURN_FEATURES))
    config : RollupConfig, optional

    Returns
    -------
    dict
        ``<scale>``, ``<scale>_lo``, ``<scale>_hi`` for the four scales (rounded to 3 places),
        plus ``z_<scale>`` and the underlying rates.
    """
    cfg = config or RollupConfig()
    features = np.asarray(features, dtype=float).reshape(-1, len(TURN_FEATURES))
    point = indices(features.sum(0), cfg.mapping)
    out = {k: float(v) for k, v in point.items()}
    n = len(features)
    if cfg.n_boot > 0 and n > 1:
        rng = np.random.default_rng(cfg.seed)
        boot = indices(resampled_sums(features, rng.integers(0, n, size=(cfg.n_boot, n))), cfg.mapping)
        q = [50 * (1 - cfg.band), 50 * (1 + cfg.band)]
        bands = np.percentile(np.stack([boot[scale] for scale in SCALES]), q, axis=1)
        for k, scale in enumerate(SCALES):
            out[f"{scale}_lo"] = min(float(bands[0, k]), out[scale])
            out[f"{scale}_hi"] = max(float(bands[1, k]), out[scale])
    else:
        for scale in SCALES:
            out[f"{scale}_lo"] = out[f"{scale}_hi"] = out[scale]
    return {k: round(v, 3) if k.split("_")[0] != "z" else round(v, 4) for k, v in out.items()}


def _times_known(utts: pd.DataFrame) -> bool:
    return len(utts) > 0 and utts["start"].notna().all()


def duration_s(utts: pd.DataFrame) -> float | None:
    """Seconds from the first start to the last end (or start), None without times."""
    if not utts["start"].notna().any():
        return None
    ends = utts["end"].fillna(utts["start"])
    return float(ends.max() - utts["start"].min())


def session_record(prepared: SessionAnalysis, config: RollupConfig | None = None) -> dict:
    """One row of ``sessions.csv`` for a prepared session.

    Returns
    -------
    dict
        ``session_id, n_utterances, duration_s``, the scales with ``_lo``/``_hi``,
        ``n_rupture_episodes, n_resolved``, the MITI indicators, ``worst_utterance_id`` and
        ``worst_start`` (the worst moment, empty when there is none).
    """
    cfg = config or RollupConfig()
    utts, episodes = prepared.utterances, prepared.episodes
    dur = duration_s(utts)
    scores = scores_with_bands(prepared.features.to_numpy(), cfg)
    worst = prepared.worst or {}
    record = {"session_id": prepared.session.id, "n_utterances": int(len(utts)),
              "duration_s": round(dur, 2) if dur is not None else np.nan}
    for scale in SCALES:
        record.update({scale: scores[scale], f"{scale}_lo": scores[f"{scale}_lo"],
                       f"{scale}_hi": scores[f"{scale}_hi"]})
    record["n_rupture_episodes"] = int(len(episodes))
    record["n_resolved"] = int(episodes["resolved"].sum()) if len(episodes) else 0
    miti = miti_indicators(utts, dur if _times_known(utts) else None)
    record.update({k: v for k, v in miti.items() if not k.startswith("n_")})
    record["worst_utterance_id"] = worst.get("first_utterance_id", "")
    record["worst_start"] = worst.get("start", np.nan)
    return record


def segment_windows(utts: pd.DataFrame, config: RollupConfig | None = None) -> list[tuple[int, int]]:
    """Sliding windows as (first, last) utterance positions, inclusive.

    By time (``window_s``/``step_s``) when every utterance has a start time, else by count
    (``window_utterances``/``step_utterances``). A session shorter than one window is one
    segment; the last window is aligned to the end so that every utterance is covered.
    """
    cfg = config or RollupConfig()
    n = len(utts)
    if n == 0:
        return []
    if _times_known(utts):
        starts = utts["start"].to_numpy(float)
        t0, t1 = starts.min(), starts.max()
        offsets = list(np.arange(t0, t1 - cfg.window_s, cfg.step_s)) + [max(t0, t1 - cfg.window_s)]
        out = []
        for k, a in enumerate(offsets):
            last = k == len(offsets) - 1
            inside = np.flatnonzero((starts >= a) & ((starts < a + cfg.window_s) | last))
            if len(inside):
                out.append((int(inside[0]), int(inside[-1])))
        return list(dict.fromkeys(out))
    size, step = max(1, cfg.window_utterances), max(1, cfg.step_utterances)
    firsts = list(range(0, max(1, n - size + 1), step))
    if firsts[-1] + size < n:
        firsts.append(n - size)
    return [(a, min(n, a + size) - 1) for a in firsts]


def segment_records(prepared: SessionAnalysis, config: RollupConfig | None = None) -> pd.DataFrame:
    """Rows of ``segments.csv`` for a prepared session (:data:`SEGMENT_COLUMNS`).

    A turn belongs to the segment holding its first utterance; an episode to the segment holding
    its first marked utterance.
    """
    cfg = config or RollupConfig()
    utts, episodes = prepared.utterances, prepared.episodes
    feats, turn_first = prepared.features.to_numpy(), prepared.turns["first"].to_numpy()
    ep_first = episodes["first_position"].to_numpy()
    ep_unresolved = ~episodes["resolved"].to_numpy().astype(bool)
    ids, starts, ends = utts["utterance_id"].to_numpy(), utts["start"].to_numpy(), utts["end"].to_numpy()
    rows = []
    for j, (a, b) in enumerate(segment_windows(utts, cfg), start=1):
        sel = (turn_first >= a) & (turn_first <= b)
        scores = scores_with_bands(feats[sel], cfg)
        eps = (ep_first >= a) & (ep_first <= b)
        row = {"session_id": prepared.session.id, "segment": j, "first_utterance_id": ids[a],
               "last_utterance_id": ids[b], "first_position": a, "last_position": b,
               "start": starts[a], "end": ends[b] if pd.notna(ends[b]) else starts[b],
               "n_utterances": b - a + 1, "n_turns": int(sel.sum()),
               "n_rupture_episodes": int(eps.sum()), "n_unresolved": int((ep_unresolved & eps).sum())}
        row.update({k: v for k, v in scores.items() if k in SEGMENT_COLUMNS})
        rows.append(row)
    return pd.DataFrame(rows, columns=SEGMENT_COLUMNS)


def score_session(session: Session, config: RollupConfig | None = None) -> dict:
    """Convenience: the ``sessions.csv`` record of one coded session."""
    return session_record(prepare(session, config), config)
