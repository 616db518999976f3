"""Per-epoch training checkpoints, so a fit killed mid-way resumes at its last finished epoch.

A fold of a cross-validation, or a final training run, can take longer than a working session.
:func:`save` writes everything the next epoch depends on (weights, optimizer and scheduler
state, the best weights so far, early-stopping counters, history and the random generators'
states) atomically after each epoch; :func:`load` gives it back only when it was written for the
same training settings and the same examples (:func:`training_key`). Resuming from a checkpoint
gives the same weights as an uninterrupted fit (tested).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

#: Bumped when the checkpoint's contents change; a checkpoint of another format is ignored.
FORMAT = 1


@dataclass
class TrainingState:
    """Where a fit stands after ``epoch`` finished epochs."""

    epoch: int
    network: dict
    optimizer: dict
    scheduler: dict
    history: list = field(default_factory=list)
    best: float = -1.0
    best_state: dict | None = None
    stale: int = 0
    stopped: bool = False
    rng: dict = field(default_factory=dict)


def training_key(config: Any, *arrays: np.ndarray) -> str:
    """A digest of the training settings and the encoded examples: a checkpoint of other ones is not reused.

    Parameters
    ----------
    config : dataclass
        The :class:`coder.model.config.TrainConfig`. Its ``threads`` field is left out: a fit
        resumed with another thread count differs only in the order of float sums.
    *arrays : numpy.ndarray
        The encoded training and validation inputs and labels.
    """
    settings = {k: v for k, v in asdict(config).items() if k != "threads"}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode("utf-8"))
    for a in arrays:
        a = np.ascontiguousarray(a)
        digest.update(f"{a.dtype}{a.shape}".encode("ascii"))
        digest.update(a.tobytes())
    return digest.hexdigest()


def rng_states() -> dict:
    """The states of the generators training draws from (dropout, shuffles)."""
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}


def set_rng_states(states: dict) -> None:
    """Restore :func:`rng_states`."""
    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])


def save(state: TrainingState, path: str | Path, key: str) -> Path:
    """Write ``state`` to ``path`` atomically (a kill mid-write leaves the previous checkpoint)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save({"format": FORMAT, "key": key, **asdict(state)}, fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | Path, key: str) -> TrainingState | None:
    """The state saved at ``path`` for ``key``, or None when there is none, or it is of other settings or data."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False)
    except Exception:  # a truncated or foreign file is not a checkpoint: train from the start
        return None
    if not isinstance(saved, dict) or saved.get("format") != FORMAT or saved.get("key") != key:
        return None
    saved.pop("format"), saved.pop("key")
    return TrainingState(**saved)
