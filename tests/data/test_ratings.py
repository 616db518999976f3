"""Session ratings: the merged file and its validation."""

from __future__ import annotations

import pytest

from coder.data.ratings import RATING_COLUMNS, SCALES, load_session_ratings, merge_rating_files, read_ratings
from coder.errors import InputError


def test_ratings_session_file_rates_every_transcript_once(annomi):
    frame = load_session_ratings(transcripts=annomi.transcript_id.unique())
    assert len(frame) == 105 and list(frame.columns) == RATING_COLUMNS
    assert frame[list(SCALES)].stack().between(0, 5).all()
    assert frame.annotator.str.startswith("agent-a").all()


@pytest.mark.parametrize("row, message", [
    ("1,agent-x,6,3,3,3,too high", "outside 0–5"),
    ("1,agent-x,a,3,3,3,not a number", "not a number"),
    ("1,agent-x,3,3,3,3,", "empty rationale"),
])
def test_ratings_corrupted_row_raises(tmp_path, row, message):
    path = tmp_path / "r.csv"
    path.write_text(",".join(RATING_COLUMNS) + "\n" + row + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"r.csv:2: .*{message}"):
        read_ratings(path)


def test_ratings_merge_rejects_transcript_in_two_files(tmp_path):
    for name in ("a", "b"):
        (tmp_path / f"{name}.csv").write_text(",".join(RATING_COLUMNS) + f"\n1,agent-{name},3,3,3,3,fine\n")
    with pytest.raises(InputError, match="more than one file"):
        merge_rating_files([tmp_path / "a.csv", tmp_path / "b.csv"])
