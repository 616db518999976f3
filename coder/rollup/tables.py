"""The roll-up tables (sessions, segments, ruptures) and the files written next to ``utterances.csv``.

``rollup`` returns DataFrames; ``write_outputs`` writes ``sessions.csv``, ``segments.csv``,
``ruptures.csv`` and (unless ``report=False``) ``report/index.html`` with one page per session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from coder.rollup.episodes import EPISODE_COLUMNS
from coder.rollup.mapping import SCALES
from coder.rollup.miti import MITI_COLUMNS
from coder.rollup.scores import SEGMENT_COLUMNS, RollupConfig, SessionAnalysis, prepare, segment_records, session_record
from coder.session import Session

SESSION_COLUMNS = [
    "session_id", "n_utterances", "duration_s",
    *[c for s in SCALES for c in (s, f"{s}_lo", f"{s}_hi")],
    "n_rupture_episodes", "n_resolved", *MITI_COLUMNS, "worst_utterance_id", "worst_start",
]
RUPTURE_COLUMNS = EPISODE_COLUMNS


def analyse(sessions: Sequence[Session], *, config: RollupConfig | None = None,
            on_session: Callable[[Session], None] | None = None) -> list[SessionAnalysis]:
    """Prepare every session and attach its session record and segment rows.

    Parameters
    ----------
    sessions : sequence of Session
        Coded sessions.
    config : RollupConfig, optional
    on_session : callable, optional
        Called after each session (progress bars).

    Returns
    -------
    list of SessionAnalysis
        One per session, in order, with ``record`` and ``segments`` set.
    """
    cfg = config or RollupConfig()
    out = []
    for session in sessions:
        prepared = prepare(session, cfg)
        prepared.record = session_record(prepared, cfg)
        prepared.segments = segment_records(prepared, cfg)
        out.append(prepared)
        if on_session:
            on_session(session)
    return out


def tables_from(analyses: Sequence[SessionAnalysis]) -> dict[str, pd.DataFrame]:
    """``{"sessions", "segments", "ruptures"}`` DataFrames from :func:`analyse`'s output."""
    sessions = pd.DataFrame([a.record for a in analyses], columns=SESSION_COLUMNS)
    segments = [a.segments for a in analyses if a.segments is not None and len(a.segments)]
    ruptures = [a.episodes for a in analyses if len(a.episodes)]
    return {
        "sessions": sessions,
        "segments": pd.concat(segments, ignore_index=True) if segments else pd.DataFrame(columns=SEGMENT_COLUMNS),
        "ruptures": pd.concat(ruptures, ignore_index=True) if ruptures else pd.DataFrame(columns=RUPTURE_COLUMNS),
    }


def rollup(sessions: Sequence[Session], *, config: RollupConfig | None = None) -> dict[str, pd.DataFrame]:
    """Roll coded sessions up into the three tables.

    Parameters
    ----------
    sessions : sequence of Session
        Coded sessions (``codes``; ``meta["proba"]`` where a model coded them).
    config : RollupConfig, optional

    Returns
    -------
    dict of str to pandas.DataFrame
        ``sessions`` (:data:`SESSION_COLUMNS`), ``segments``
        (:data:`coder.rollup.scores.SEGMENT_COLUMNS`), ``ruptures`` (:data:`RUPTURE_COLUMNS`).
    """
    return tables_from(analyse(sessions, config=config))


def _load_calibration(calibration):
    if calibration is None:
        return None
    if isinstance(calibration, (str, Path)):
        from coder.rollup.calibrate import Calibration

        return Calibration.load(calibration)
    return calibration


def write_outputs(sessions: Sequence[Session], out_dir: str | Path, *, config: RollupConfig | None = None,
                  calibration=None, report: bool = True,
                  on_session: Callable[[Session], None] | None = None) -> dict[str, Path]:
    """Write the roll-up files for coded sessions into ``out_dir``.

    Sessions are rolled up one at a time (:func:`coder.run_parts.roll_up_stream`, the same
    code ``code`` and ``rollup`` use), every file is written atomically, and the report folder
    is replaced whole, so no page of an earlier roll-up lingers.

    Parameters
    ----------
    sessions : sequence of Session
        Coded sessions.
    out_dir : path-like
        Output folder (created if needed).
    config : RollupConfig, optional
    calibration : Calibration or path-like, optional
        A saved or fitted :class:`coder.rollup.calibrate.Calibration`; adds ``calibrated_<target>``
        columns to ``sessions.csv`` (and to the report).
    report : bool
        Write ``report/index.html`` and one page per session (False for large batches).
    on_session : callable, optional
        Called after each session is rolled up (progress bars).

    Returns
    -------
    dict of str to Path
        ``sessions``, ``segments``, ``ruptures`` and, with ``report``, ``report`` (the index).
    """
    from coder.run_parts import roll_up_stream

    sessions = list(sessions)
    return roll_up_stream(lambda: sessions, out_dir, config=config, calibration=_load_calibration(calibration),
                          report=report, on_session=on_session)
