"""The embedded example sessions read cleanly: they are the README's demo input."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from coder.io._common import parse_time
from coder.pipeline import load_transcripts

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"
KEY = Path(__file__).parent / "fixtures" / "long_session_key.csv"


def test_examples_all_read_without_failures():
    report = load_transcripts([EXAMPLES])
    assert report.failures == []
    assert sorted(s.id for s in report.sessions) == ["intake_zoom", "long_session", "s-brief-01", "s-brief-02"]
    for s in report.sessions:
        assert {"therapist", "client"} <= set(s.speakers.values())


def test_examples_long_session_is_40_to_60_minutes():
    (s,) = load_transcripts([EXAMPLES / "long_session.txt"]).sessions
    assert 40 * 60 <= s.duration <= 60 * 60
    assert len(s.utterances) > 400


@pytest.mark.parametrize("family", ["withdrawal", "confrontation"])
def test_examples_key_ruptures_fall_on_client_turns_with_repair_after(family):
    (s,) = load_transcripts([EXAMPLES / "long_session.txt"]).sessions
    (row,) = [r for r in csv.DictReader(KEY.open()) if r["family"] == family]
    first, last = parse_time(row["first_time"]), parse_time(row["last_time"])
    starts = {u.start: u for u in s.utterances}
    assert starts[first].role == "client" and starts[last].role == "client"
    assert last < parse_time(row["repair_first_time"]) < parse_time(row["repair_last_time"])
