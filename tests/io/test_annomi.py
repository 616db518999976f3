"""AnnoMI's CSV reads with no options into 105 sessions whose utterance ids match the file."""

from __future__ import annotations

import csv

from coder.pipeline import load_transcripts


def test_annomi_loads_with_no_options(annomi_path):
    report = load_transcripts([annomi_path])
    assert report.failures == []
    assert len(report.sessions) == 105
    with open(annomi_path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    want = {}
    for r in rows:
        want.setdefault(r["transcript_id"], {}).setdefault(r["utterance_id"], (r["interlocutor"], r["utterance_text"]))
    got = {s.id: {u.utterance_id: (u.role, u.text) for u in s.utterances} for s in report.sessions}
    assert got.keys() == want.keys()
    for sid, utts in want.items():
        assert list(got[sid]) == list(utts)
        assert {k: v[0] for k, v in got[sid].items()} == {k: v[0] for k, v in utts.items()}
    # the four transcripts coded by all ten annotators repeat their rows; the repeats are counted, not lost
    assert report.skipped == {"repeated rows": len(rows) - sum(len(u) for u in want.values())}
    assert report.sessions[0].meta["mi_quality"] in {"high", "low"}
