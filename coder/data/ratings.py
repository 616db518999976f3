"""Session-level observer ratings on the scheme's four VTAS-style scales (0–5).

``data/annotations/session_ratings.csv`` holds one first-pass rating per AnnoMI transcript
(``transcript_id, annotator, therapist_contribution, patient_contribution, interaction,
total, rationale``); ``data/annotations/second_pass/ratings_agent-b1.csv`` the independent
second pass over 15 of them. Ratings were made after reading the whole transcript and
before looking at its MI-quality label; they are the reference the roll-up is checked
and calibrated against.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from coder.data.paths import ANNOTATIONS_DIR, csv_records
from coder.errors import InputError

SCALES = ("therapist_contribution", "patient_contribution", "interaction", "total")
RATING_COLUMNS = ["transcript_id", "annotator", *SCALES, "rationale"]
SESSION_RATINGS = ANNOTATIONS_DIR / "session_ratings.csv"


def read_ratings(path: str | Path) -> pd.DataFrame:
    """Read and validate one ratings file.

    Parameters
    ----------
    path : path-like
        A CSV with :data:`RATING_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        :data:`RATING_COLUMNS`; ids as strings, scales as floats.

    Raises
    ------
    coder.errors.InputError
        On a missing column, a duplicate transcript, a scale outside 0–5 or an empty
        rationale (naming the file and line).
    """
    path = Path(path)
    rows, lines = [], []
    for line, record in csv_records(path, RATING_COLUMNS):
        row = {c: (record[c] or "") for c in RATING_COLUMNS}
        row["transcript_id"] = row["transcript_id"].strip()
        for scale in SCALES:
            try:
                value = float(row[scale])
            except ValueError:
                raise InputError(path, f"{scale} {row[scale]!r} is not a number", line=line) from None
            if not 0 <= value <= 5:
                raise InputError(path, f"{scale} {value} is outside 0–5", line=line)
        if not row["rationale"].strip():
            raise InputError(path, "empty rationale", line=line)
        rows.append(row)
        lines.append(line)
    frame = pd.DataFrame(rows, columns=RATING_COLUMNS)
    dup = frame.duplicated(["transcript_id", "annotator"])
    if dup.any():
        raise InputError(path, f"transcript {frame.transcript_id[dup].iloc[0]} rated twice by the same annotator",
                         line=lines[int(dup.idxmax())])
    return frame.astype({s: float for s in SCALES})


def merge_rating_files(paths) -> pd.DataFrame:
    """Concatenate per-annotator ratings files into one frame sorted by transcript.

    Parameters
    ----------
    paths : iterable of path-like

    Returns
    -------
    pandas.DataFrame
        :data:`RATING_COLUMNS`; raises when a transcript is rated in two files.
    """
    frames = [read_ratings(p) for p in paths]
    merged = pd.concat(frames, ignore_index=True)
    dup = merged.duplicated("transcript_id", keep=False)
    if dup.any():
        raise InputError(None, f"transcript {merged.transcript_id[dup].iloc[0]} is rated in more than one file")
    key = pd.to_numeric(merged.transcript_id, errors="coerce")
    return merged.assign(_k=key).sort_values(["_k", "transcript_id"]).drop(columns="_k").reset_index(drop=True)


def load_session_ratings(path: str | Path | None = None, *, transcripts=None) -> pd.DataFrame:
    """The first-pass session ratings (``data/annotations/session_ratings.csv``).

    Parameters
    ----------
    path : path-like, optional
    transcripts : iterable of str, optional
        When given, every one must be rated exactly once.

    Returns
    -------
    pandas.DataFrame
        :data:`RATING_COLUMNS`.
    """
    frame = read_ratings(path or SESSION_RATINGS)
    if transcripts is not None:
        lacking = sorted(set(map(str, transcripts)) - set(frame.transcript_id), key=lambda t: (len(t), t))
        if lacking:
            raise InputError(path or SESSION_RATINGS, f"no rating for transcript(s) {', '.join(lacking[:10])}")
        if frame.transcript_id.duplicated().any():
            raise InputError(path or SESSION_RATINGS, "a transcript is rated more than once")
    return frame
