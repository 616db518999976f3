"""The shipped model on the embedded 48-minute example session (slow; skipped without the model)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from coder.model import DEFAULT_MODEL_NAME
from coder.scheme import TALK_TYPES
from tests.conftest import ROOT

#: The shipped model; ``ALLIANCE_CODER_TEST_MODEL=PATH`` runs the test on another saved model.
SHIPPED = Path(os.environ.get("ALLIANCE_CODER_TEST_MODEL", ROOT / "models" / DEFAULT_MODEL_NAME))
EXAMPLE = ROOT / "data" / "examples" / "long_session.txt"


@pytest.mark.slow
@pytest.mark.skipif(not (SHIPPED / "model.safetensors").is_file(), reason=f"models/{DEFAULT_MODEL_NAME} not shipped yet")
def test_shipped_model_codes_long_session():
    import coder.model
    from coder.pipeline import load_transcripts

    clf = coder.model.load(SHIPPED)
    sessions = load_transcripts([EXAMPLE]).sessions
    coded = clf.code(sessions)
    utts = [u for s in coded for u in s.utterances]
    assert len(utts) > 500
    assert all(len(set(u.codes) & set(TALK_TYPES)) == 1 for u in utts if u.role == "client")
    therapist_codes = {c for u in utts if u.role == "therapist" for c in u.codes}
    assert {"question_open", "reflection_complex"} & therapist_codes


@pytest.mark.slow
@pytest.mark.skipif(not (SHIPPED / "model.safetensors").is_file(), reason=f"models/{DEFAULT_MODEL_NAME} not shipped yet")
def test_shipped_model_finds_both_long_session_ruptures_resolved():
    """With the model's codes (not the answer key), each constructed rupture overlaps a resolved episode of its family."""
    import coder.model
    from coder.io._common import parse_time
    from coder.pipeline import load_transcripts
    from coder.rollup.scores import RollupConfig
    from coder.rollup.tables import analyse, tables_from
    from tests.rollup.long_session import key_rows

    coded = coder.model.load(SHIPPED).code(load_transcripts([EXAMPLE]).sessions)
    ruptures = tables_from(analyse(coded, config=RollupConfig(n_boot=20)))["ruptures"]
    for key in key_rows():
        a, b = parse_time(key["first_time"]), parse_time(key["last_time"])
        hits = ruptures[(ruptures["start"] <= b) & (ruptures["end"] >= a)]
        assert len(hits), f"no model episode overlaps the {key['family']} rupture {a}-{b} s"
        assert (hits["family"] == key["family"]).any()
        assert hits["resolved"].all()
