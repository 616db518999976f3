"""Training configuration and the CPU runtime: bf16 support, threads, seeds."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import numpy as np


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved with the model).

    Attributes
    ----------
    encoder : str or None
        Hugging Face model folder; None = the packaged all-MiniLM-L6-v2 (hash-checked).
    context_size : int
        Previous utterances given as context (with role markers).
    max_length : int
        Longest input in tokens; the context is cut from its oldest end first.
    pooling : str
        ``target`` (mean over the target utterance's tokens) or ``all``.
    lr, head_lr : float
        AdamW learning rates of the encoder and of the heads.
    weight_decay : float
        AdamW weight decay (not on biases and LayerNorm).
    warmup_ratio : float
        Share of steps with linear warm-up; linear decay after.
    epochs : int
        Most epochs.
    batch_size, eval_batch_size : int
        Training and inference batch sizes.
    seed : int
        Seeds Python, NumPy and torch, and the batch order.
    patience : int
        Epochs without a better validation macro-F1 before stopping.
    dropout : float
        Dropout on the pooled vector.
    class_weight_power : float
        Imbalance weighting: 0 none, 1 fully balanced (see ``network.imbalance_weights``).
    max_class_weight : float
        Clip of the imbalance weights.
    bf16 : bool
        bf16 autocast in training and inference when the CPU has native bf16 (AMX or
        AVX512-BF16, see :func:`bf16_supported`); fp32 (noted in the history) when it does not.
    threads : int or None
        torch threads; None = the cores this process may use.
    calibrate : bool
        Platt/temperature calibration on validation.
    min_threshold_support : int
        Fewest validation positives for a code to get a tuned threshold (else 0.5).
    max_train_examples : int or None
        Train on a seeded random subset of this size (smoke runs).
    grad_clip : float
        Gradient-norm clip.
    behaviour_head : bool
        Score AnnoMI's five main therapist behaviours with one softmax (plus "other") instead
        of five sigmoids; at most one is assigned per utterance.
    merges : dict of str to str, or None
        Codes trained only as their family (``harmful``, ``withdrawal``, ``confrontation``);
        None = the corpus's reliability plan (``coder.data.build.TRAINING_MERGES``), ``{}`` =
        every code on its own.
    attention_dropout : float or None
        Dropout on the encoder's attention probabilities in training; None keeps the encoder's
        own (0.1 for MiniLM). 0 lets torch run its fused attention kernel in training too.
    fused_optimizer : bool
        torch's fused AdamW kernel (the same update up to float rounding).

    With ``attention_dropout=0`` and ``fused_optimizer=True`` a training step on AnnoMI-length
    input with 4 context utterances took 0.77 s against 1.15–1.31 s on the 2-core AVX-512 machine
    (2026-12-03); the defaults stay those the earlier models were trained with.
    """

    encoder: str | None = None
    context_size: int = 2
    max_length: int = 128
    pooling: str = "target"
    lr: float = 5e-5
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    epochs: int = 3
    batch_size: int = 16
    eval_batch_size: int = 64
    seed: int = 13
    patience: int = 1
    dropout: float = 0.1
    class_weight_power: float = 0.5
    max_class_weight: float = 20.0
    bf16: bool = True
    threads: int | None = None
    calibrate: bool = True
    min_threshold_support: int = 3
    max_train_examples: int | None = None
    grad_clip: float = 1.0
    behaviour_head: bool = True
    merges: dict[str, str] | None = None
    attention_dropout: float | None = None
    fused_optimizer: bool = False

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@lru_cache(maxsize=1)
def bf16_supported() -> bool:
    """True when bf16 autocast on this CPU is native (AMX or AVX512-BF16) and works.

    On this project's 2-core AVX512-BF16 machine without AMX, bf16 was no faster than fp32
    (the 47-minute example: 3.6–4.2 s either way; AnnoMI-length input: 64 against 110
    utterances/s, ``benchmarks/inference_speed.py``, 2026-12-03). bf16 stays the default there
    so that predictions stay those the shipped model was validated with;
    ``ALLIANCE_CODER_BF16=0`` (fp32) or ``=1`` overrides the hardware check.
    """
    forced = os.environ.get("ALLIANCE_CODER_BF16")
    if forced in ("0", "1"):
        return forced == "1"
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    if "amx_bf16" not in flags and "avx512_bf16" not in flags:
        return False
    import torch

    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            torch.ones(4, 4) @ torch.ones(4, 4)
        return True
    except (RuntimeError, TypeError):
        return False


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
