"""Fixtures for the model tests: a tiny random BERT and a classifier fitted on a constructed corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from tests.model.tiny import corpus, tiny_encoder  # noqa: E402

#: Training settings that make the tiny model learn the constructed corpus in about a second.
TINY = dict(epochs=8, batch_size=8, lr=1e-3, head_lr=1e-2, patience=10, max_length=64, merges={})


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory) -> Path:
    return tiny_encoder(tmp_path_factory.mktemp("tiny") / "encoder")


@pytest.fixture(scope="session")
def tiny_config(tiny_encoder_dir):
    from coder.model.config import TrainConfig

    return TrainConfig(encoder=str(tiny_encoder_dir), **TINY)


@pytest.fixture(scope="session")
def fitted(tiny_config):
    """A classifier fitted on 6 constructed transcripts, validated on 2 others."""
    from coder.model.classifier import UtteranceClassifier

    return UtteranceClassifier(tiny_config, version="tiny", progress=False).fit(corpus(6, "train"), corpus(2, "val"))


@pytest.fixture(scope="session")
def saved_model(fitted, tmp_path_factory) -> Path:
    return fitted.save(tmp_path_factory.mktemp("models") / "tiny-v1")
