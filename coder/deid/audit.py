"""The de-identification audit: counts of replacements per session and type, never the values."""

from __future__ import annotations

import pandas as pd

from coder.deid.config import PLACEHOLDER_TYPES

AUDIT_COLUMNS = ["session_id", "n_utterances", *PLACEHOLDER_TYPES, "speaker_labels", "propagated", "n_distinct"]


def audit_frame(rows: list[dict]) -> pd.DataFrame:
    """One row per session with the columns of :data:`AUDIT_COLUMNS` (integers but the id)."""
    frame = pd.DataFrame(rows, columns=AUDIT_COLUMNS)
    counts = AUDIT_COLUMNS[1:]
    frame[counts] = frame[counts].fillna(0).astype("int64")
    return frame
