"""Fixtures for the review tests: a small constructed coded folder, as ``alliance-coder code`` writes it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from coder.scheme import ALL_CODES, codes_for_role

MODEL_ID = "model:tiny-test"

#: (session, speaker, role, text, {code: probability}) — codes with p >= 0.5 are the model's codes.
UTTERANCES = [
    ("s1", "T", "therapist", "What brings you here today?", {"question_open": 0.91, "question_closed": 0.12}),
    ("s1", "C", "client", "My doctor sent me.", {"neutral_talk": 0.7, "change_talk": 0.2, "sustain_talk": 0.1,
                                                "c_complaint_parameters": 0.45}),
    ("s1", "T", "therapist", "You didn't really want to come.", {"reflection_complex": 0.55, "reflection_simple": 0.4}),
    ("s1", "C", "client", "Not really.", {"neutral_talk": 0.5, "sustain_talk": 0.4, "change_talk": 0.1,
                                         "w_minimal_response": 0.48}),
    ("s1", "T", "therapist", "You should stop drinking.", {"directing": 0.8, "information": 0.3}),
    ("s1", "C", "client", "I want to cut down, I guess.", {"change_talk": 0.85, "neutral_talk": 0.1,
                                                          "sustain_talk": 0.05}),
    ("s2", "T", "therapist", "How has the week been?", {"question_open": 0.88}),
    ("s2", "C", "client", "Fine.", {"neutral_talk": 0.9, "change_talk": 0.05, "sustain_talk": 0.05,
                                    "w_minimal_response": 0.6}),
    ("s2", "T", "therapist", "It sounds like a lot is going on.", {"reflection_complex": 0.52, "affirmation": 0.2}),
    ("s2", "O", "other", "[door closes]", {}),
]


def make_coded_dir(folder: Path, utterances=UTTERANCES, model_id: str = MODEL_ID) -> Path:
    """Write ``utterances.csv`` (with ``p_<code>`` columns) and ``codes_long.csv`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rows, long = [], []
    counters: dict[str, int] = {}
    for turn, (sid, speaker, role, text, proba) in enumerate(utterances):
        uid = f"u{counters.setdefault(sid, 0):03d}"
        counters[sid] += 1
        allowed = codes_for_role(role)
        full = {c: proba.get(c, 0.02) for c in allowed}
        codes = [c for c in ALL_CODES if c in full and full[c] >= 0.5]
        row = {"session_id": sid, "utterance_id": uid, "turn_id": turn, "speaker": speaker, "role": role,
               "start": float(turn), "end": turn + 0.9, "text": text, "codes": ";".join(codes)}
        row.update({f"p_{c}": (full[c] if c in full else 0.0) for c in ALL_CODES})
        rows.append(row)
        long += [(sid, uid, model_id, c, p) for c, p in full.items()]
    pd.DataFrame(rows).to_csv(folder / "utterances.csv", index=False)
    pd.DataFrame(long, columns=["session_id", "utterance_id", "coder_id", "code", "score"]).to_csv(
        folder / "codes_long.csv", index=False)
    return folder


@pytest.fixture
def coded_dir(tmp_path) -> Path:
    return make_coded_dir(tmp_path / "coded")


@pytest.fixture
def store(coded_dir):
    from coder.review.store import Store

    s = Store(coded_dir / "corrections.sqlite")
    s.import_coded_dir(coded_dir)
    return s
