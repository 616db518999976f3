"""Shared fixtures: the constructed mini session in every format, and the reference data path."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Derived runtime files (ONNX exports of the tests' tiny models) go to a folder of this test
# run, never to the user's cache; subprocesses inherit it.
os.environ.setdefault("ALLIANCE_CODER_CACHE", tempfile.mkdtemp(prefix="alliance-coder-cache-"))

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
ANNOMI = SHARED / "data" / "annomi" / "AnnoMI-full.csv"

#: What the mini session says, as (turn_id, speaker, text) per utterance, in every format.
MINI = [
    (0, "Therapist", "Hi, thanks for coming in today."),
    (0, "Therapist", "What would you like to focus on?"),
    (1, "Client", "Mm-hmm."),
    (1, "Client", "Well, Dr. Patel said I should talk to someone about my sleep."),
    (1, "Client", "I haven't slept properly in weeks."),
    (2, "Therapist", "It sounds like the tiredness is really wearing you down."),
    (3, "Client", "Yeah."),
    (4, "Therapist", "How has that been for you, e.g. at work?"),
    (5, "Client", "Honestly, it's been hard."),
    (5, "Client", "I keep making small mistakes and I feel embarrassed."),
]
#: Turn start times of the mini session, in seconds.
MINI_TURN_STARTS = [2.0, 9.0, 21.0, 28.0, 32.0, 39.0]


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def annomi_path() -> Path:
    if not ANNOMI.exists():
        pytest.skip("reference data ../shared/data/annomi is not beside the repository")
    return ANNOMI
