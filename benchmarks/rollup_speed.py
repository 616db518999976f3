"""Seconds the roll-up (tables + HTML report) takes for the embedded ~47-minute session, on CPU.

The model is not run: every utterance gets seeded random probabilities over the codes its role
allows (the model's output shape), so this measures the roll-up's share of the end-to-end time of
``alliance-coder code``. Writes ``benchmarks/results/rollup_speed.json``.
Run: ``.venv/bin/python benchmarks/rollup_speed.py``.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coder.pipeline import load_transcripts  # noqa: E402
from coder.rollup.scores import RollupConfig  # noqa: E402
from coder.rollup.tables import rollup, write_outputs  # noqa: E402
from coder.scheme import TALK_TYPES, codes_for_role  # noqa: E402


def with_random_probabilities(session, seed: int = 0):
    """The session with model-shaped probabilities (rare codes mostly low, talk types summing to 1)."""
    rng = np.random.default_rng(seed)
    for u in session.utterances:
        codes = codes_for_role(u.role)
        p = {c: float(rng.beta(0.3, 3.0)) for c in codes if c not in TALK_TYPES}
        if u.role == "client":
            talk = rng.dirichlet([2.0, 1.0, 4.0])
            p.update(dict(zip(TALK_TYPES, map(float, talk))))
        u.meta["proba"] = p
        u.codes = [c for c, v in p.items() if v >= 0.5 and c not in TALK_TYPES]
        if u.role == "client":
            u.codes.append(max(TALK_TYPES, key=p.get))
    return session


def main(repeats: int = 5) -> dict:
    (session,) = load_transcripts([ROOT / "data" / "examples" / "long_session.txt"]).sessions
    session = with_random_probabilities(session)
    cfg = RollupConfig()
    tables, full = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeats):
            t0 = time.perf_counter()
            rollup([session], config=cfg)
            tables.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            write_outputs([session], tmp, config=cfg)
            full.append(time.perf_counter() - t0)
    result = {
        "session": "data/examples/long_session.txt", "minutes": round(session.duration / 60, 1),
        "utterances": len(session.utterances), "n_boot": cfg.n_boot,
        "rollup_tables_s_median": round(float(np.median(tables)), 3),
        "rollup_tables_and_report_s_median": round(float(np.median(full)), 3),
        "repeats": repeats, "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
        "note": "roll-up only; the classifier's time is measured separately",
    }
    out = ROOT / "benchmarks" / "results" / "rollup_speed.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
