"""MITI-style summary indicators computable from the codes (MITI 4.2.1; Moyers et al. 2014/2016).

Counts are **expected counts**: the sum over utterances of each code's probability (hard codes
count 0/1), so an utterance carrying two helpful codes counts twice, as MITI behaviour counts do.
Counting is over utterances, not turns: MITI codes every therapist utterance.

=============================  ===========================================================
indicator                      definition
=============================  ===========================================================
``reflection_question_ratio``  (simple + complex reflections) / (open + closed questions)
``pct_complex_reflections``    100 · complex / (simple + complex reflections)
``pct_open_questions``         100 · open / (open + closed questions)
``helpful_per_100``            helpful therapist codes per 100 therapist utterances
``harmful_per_100``            harmful therapist codes per 100 therapist utterances
``helpful_per_10min``          helpful therapist codes per 10 minutes (times known)
``harmful_per_10min``          harmful therapist codes per 10 minutes (times known)
``change_talk_share``          change talk / (change + sustain talk), MI's "% change talk"
=============================  ===========================================================

An indicator whose denominator is zero is NaN (empty in the CSV), never 0.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from coder.scheme import THERAPIST_HARMFUL, THERAPIST_HELPFUL

MITI_COLUMNS = [
    "reflection_question_ratio", "pct_complex_reflections", "pct_open_questions", "helpful_per_100",
    "harmful_per_100", "helpful_per_10min", "harmful_per_10min", "change_talk_share",
]


def _ratio(num: float, den: float, scale: float = 1.0) -> float:
    return scale * num / den if den > 0 else math.nan


def miti_indicators(utts: pd.DataFrame, duration_s: float | None = None) -> dict[str, float]:
    """The MITI-style indicators of one session or segment.

    Parameters
    ----------
    utts : pandas.DataFrame
        From :func:`coder.rollup.features.utterance_table` (or a slice of it).
    duration_s : float, optional
        Seconds covered; the per-10-minute rates are NaN without it (or when it is 0).

    Returns
    -------
    dict
        :data:`MITI_COLUMNS` → float (rounded to 4 places; NaN where undefined), plus
        ``n_therapist_utterances`` and ``n_client_utterances``.
    """
    ther = (utts["role"] == "therapist").to_numpy(bool)
    cli = (utts["role"] == "client").to_numpy(bool)

    def total(rows: np.ndarray, codes) -> float:
        # code by code, as ``DataFrame.to_numpy().sum()`` adds them (its array is column-major)
        if not rows.any():
            return 0.0
        return float(np.concatenate([utts[c].to_numpy(float)[rows] for c in codes]).sum())

    sr, cr = total(ther, ["reflection_simple"]), total(ther, ["reflection_complex"])
    oq, cq = total(ther, ["question_open"]), total(ther, ["question_closed"])
    helpful, harmful = total(ther, THERAPIST_HELPFUL), total(ther, THERAPIST_HARMFUL)
    ct, st = total(cli, ["change_talk"]), total(cli, ["sustain_talk"])
    minutes = (duration_s or 0.0) / 60.0
    out = {
        "reflection_question_ratio": _ratio(sr + cr, oq + cq),
        "pct_complex_reflections": _ratio(cr, sr + cr, 100.0),
        "pct_open_questions": _ratio(oq, oq + cq, 100.0),
        "helpful_per_100": _ratio(helpful, int(ther.sum()), 100.0),
        "harmful_per_100": _ratio(harmful, int(ther.sum()), 100.0),
        "helpful_per_10min": _ratio(helpful, minutes, 10.0),
        "harmful_per_10min": _ratio(harmful, minutes, 10.0),
        "change_talk_share": _ratio(ct, ct + st),
    }
    out = {k: (round(v, 4) if not math.isnan(v) else v) for k, v in out.items()}
    out["n_therapist_utterances"] = int(ther.sum())
    out["n_client_utterances"] = int(cli.sum())
    return out
