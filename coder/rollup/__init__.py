"""Roll-up: utterance codes → VTAS-style session and segment scores, rupture episodes, MITI-style
indicators, calibration to a lab's human ratings, and the tables written beside ``utterances.csv``.

Modules
-------
features
    Coded sessions → utterance table (code probabilities) → turn table.
episodes
    Rupture episodes, the therapist's response, resolution; the worst moment.
mapping
    The explicit mapping from code rates to the four 0–5 scales (``ScaleMapping``).
scores
    Session and sliding-segment scores with bootstrap bands (``RollupConfig``).
miti
    MITI-style summary indicators.
calibrate
    Fit, cross-validate, save, load and apply a mapping to human observer ratings.
tables
    ``rollup`` (DataFrames) and ``write_outputs`` (CSV files and the HTML report).
coded
    Read a coded ``utterances.csv`` (``codes`` and ``p_<code>`` columns) back into sessions.

The mapping and its rationale: ``annotation_guidelines/rollup.md``.
"""

from coder.rollup.episodes import EpisodeConfig, find_episodes
from coder.rollup.mapping import SCALES, ScaleMapping
from coder.rollup.scores import RollupConfig, SessionAnalysis, score_session
from coder.rollup.tables import SESSION_COLUMNS, rollup, write_outputs

__all__ = ["EpisodeConfig", "RollupConfig", "SCALES", "SESSION_COLUMNS", "ScaleMapping", "SessionAnalysis",
           "find_episodes", "rollup", "score_session", "write_outputs"]
