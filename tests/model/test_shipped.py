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
