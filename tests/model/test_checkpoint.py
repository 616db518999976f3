"""Per-epoch checkpoints: a fit killed after an epoch resumes to the weights of an uninterrupted fit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from coder.model import checkpoint as ckpt
from coder.model.classifier import UtteranceClassifier
from coder.model.evaluate import cross_validate
from tests.model.tiny import corpus

EPOCHS = 3


class Killed(Exception):
    """Stands for a SIGKILL right after a checkpoint was written."""


@pytest.fixture(scope="module")
def config(tiny_config):
    return replace(tiny_config, epochs=EPOCHS, patience=10)


@pytest.fixture(scope="module")
def data():
    return corpus(4, "train"), corpus(2, "val")


@pytest.fixture(scope="module")
def uninterrupted(config, data):
    return UtteranceClassifier(config, progress=False).fit(*data)


def _kill_after(monkeypatch, epochs: int) -> list:
    """Make ``checkpoint.save`` raise after writing the checkpoint of epoch ``epochs``."""
    written, real = [], ckpt.save

    def save(state, path, key):
        real(state, path, key)
        written.append(state.epoch)
        if state.epoch == epochs:
            raise Killed

    monkeypatch.setattr(ckpt, "save", save)
    return written


def _same_weights(a: UtteranceClassifier, b: UtteranceClassifier) -> bool:
    sa, sb = a.network_.state_dict(), b.network_.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _history(model: UtteranceClassifier) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "train_seconds"} for r in model.history_]


@pytest.mark.parametrize("killed_after", [1, 2, EPOCHS])
def test_checkpoint_resumed_fit_equals_uninterrupted(config, data, uninterrupted, tmp_path, monkeypatch, killed_after):
    path = tmp_path / "fold0.pt"
    with monkeypatch.context() as m:
        written = _kill_after(m, killed_after)
        with pytest.raises(Killed):
            UtteranceClassifier(config, progress=False).fit(*data, checkpoint=path)
    assert written == list(range(1, killed_after + 1))
    resumed = UtteranceClassifier(config, progress=False).fit(*data, checkpoint=path)
    assert _same_weights(resumed, uninterrupted)
    assert _history(resumed) == _history(uninterrupted)
    records = data[1]
    np.testing.assert_array_equal(resumed.predict_proba_records(records), uninterrupted.predict_proba_records(records))


def test_checkpoint_of_other_settings_or_data_is_not_used(config, data, tmp_path, monkeypatch):
    path = tmp_path / "fold0.pt"
    with monkeypatch.context() as m:
        _kill_after(m, 1)
        with pytest.raises(Killed):
            UtteranceClassifier(config, progress=False).fit(*data, checkpoint=path)
    saved = torch.load(path, weights_only=False)
    assert ckpt.load(path, saved["key"]) is not None
    assert ckpt.load(path, "another key") is None
    # other data: the fit starts from epoch 1 (a checkpoint is written for every epoch again)
    with monkeypatch.context() as m:
        written = _kill_after(m, EPOCHS)
        with pytest.raises(Killed):
            UtteranceClassifier(config, progress=False).fit(corpus(3, "train"), data[1], checkpoint=path)
    assert written == [1, 2, 3]


def test_checkpoint_truncated_file_trains_from_the_start(config, data, uninterrupted, tmp_path):
    path = tmp_path / "fold0.pt"
    path.write_bytes(b"PK\x03\x04 not a checkpoint")
    model = UtteranceClassifier(config, progress=False).fit(*data, checkpoint=path)
    assert _same_weights(model, uninterrupted)
    saved = torch.load(path, weights_only=False)  # replaced by the fit's own checkpoint
    assert ckpt.load(path, saved["key"]).epoch == EPOCHS


def test_checkpoint_key_ignores_threads_only(config):
    a = np.arange(6)
    assert ckpt.training_key(config, a) == ckpt.training_key(replace(config, threads=7), a)
    assert ckpt.training_key(config, a) != ckpt.training_key(replace(config, lr=config.lr * 2), a)
    assert ckpt.training_key(config, a) != ckpt.training_key(config, a + 1)


def test_cross_validate_removes_a_fold_checkpoint_once_kept(config, tmp_path):
    records = corpus(6, "t")
    ids = sorted({r["transcript_id"] for r in records})
    folds = [(ids[:4], ids[4:]), (ids[2:], ids[:2])]
    seen = []

    def on_fold(k, result):
        seen.append((k, sorted(p.name for p in tmp_path.iterdir())))

    cross_validate(records, folds, lambda: UtteranceClassifier(replace(config, epochs=1), progress=False),
                   on_fold=on_fold, checkpoints=tmp_path)
    assert seen == [(0, ["fold0.pt"]), (1, ["fold1.pt"])]
    assert list(tmp_path.iterdir()) == []
