"""Fixtures for the run tests: a tiny saved model (tests/model) and a constructed corpus of small sessions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("torch")

from tests.model.conftest import fitted, saved_model, tiny_config, tiny_encoder_dir  # noqa: E402,F401
from tests.model.tiny import TEMPLATES  # noqa: E402

TABLES = ("utterances.csv", "codes_long.csv", "sessions.csv", "segments.csv", "ruptures.csv")


def write_corpus(folder: Path, n: int, turns: int = 14) -> Path:
    """``n`` constructed sessions (speaker-prefixed text), each a different rotation of the templates."""
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        lines = []
        for j in range(turns):
            role, text, _ = TEMPLATES[(k * 5 + j * 7) % len(TEMPLATES)]
            lines.append(f"[00:{j * 20 // 60:02d}:{j * 20 % 60:02d}] {'Therapist' if role == 'therapist' else 'Client'}: "
                         f"{text[0].upper()}{text[1:]}")
        (folder / f"session-{k:03d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def tables(folder: Path) -> dict[str, str]:
    """The corpus tables of an output folder, as text (compared byte for byte)."""
    return {name: (folder / name).read_text(encoding="utf-8") for name in TABLES}


def frames(folder: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(folder / name, keep_default_na=False) for name in TABLES}


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus") / "transcripts", 12)


@pytest.fixture(scope="session")
def baseline(corpus, saved_model, tmp_path_factory) -> Path:
    """The uninterrupted, unsharded, one-process run of :func:`corpus`."""
    from coder.run import code_transcripts

    out = tmp_path_factory.mktemp("baseline") / "out"
    result = code_transcripts([corpus], model=saved_model, out=out)
    assert result.exit_code == 0 and len(result.session_ids) == 12 and result.n_coded == 12
    return out
