"""The embedded long example, hand-coded from its answer key: both ruptures found and resolved."""

from __future__ import annotations

import pytest

from coder.io._common import parse_time
from coder.rollup.scores import RollupConfig
from coder.rollup.tables import analyse, tables_from
from tests.rollup.long_session import hand_coded_long_session, key_rows


@pytest.fixture(scope="module")
def tables():
    return tables_from(analyse([hand_coded_long_session()], config=RollupConfig(n_boot=100)))


def test_long_session_rollup_finds_both_key_episodes_resolved(tables):
    ruptures = tables["ruptures"]
    assert len(ruptures) == 2
    for ep, key in zip(ruptures.itertuples(index=False), key_rows()):
        assert ep.family == key["family"]
        assert set(ep.markers.split(";")) == set(key["markers"].split(";"))
        assert ep.start == pytest.approx(parse_time(key["first_time"]))
        assert parse_time(key["last_time"]) <= ep.end < parse_time(key["repair_first_time"]) + 1
        assert ep.resolved and key["resolved"] == "true"
        assert ep.response_final == "repair"
    session = tables["sessions"].iloc[0]
    assert session["n_rupture_episodes"] == 2 and session["n_resolved"] == 2


def test_long_session_re_engagement_falls_in_the_repair(tables):
    utts = {u.utterance_id: u for u in hand_coded_long_session().utterances}
    for ep, key in zip(tables["ruptures"].itertuples(index=False), key_rows()):
        t = utts[ep.resolved_by].start
        assert parse_time(key["repair_first_time"]) <= t <= parse_time(key["repair_last_time"])


def test_long_session_scores_dip_during_the_ruptures(tables):
    segs = tables["segments"]
    for key in key_rows():
        a, b = parse_time(key["first_time"]), parse_time(key["last_time"])
        during = segs[(segs["start"] >= a - 60) & (segs["end"] <= b + 120)]
        assert len(during) and during["total"].min() < 1.5
    assert segs["total"].max() > 3.5
