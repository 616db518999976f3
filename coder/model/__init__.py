"""The fine-tuned utterance classifier: encoder, multi-task network, training, inference, evaluation.

Modules
-------
encoder
    Find, hash-check and load the packaged all-MiniLM-L6-v2 (or any local encoder folder).
bert
    The BERT encoder in plain torch and the ``tokenizers`` tokenizer: same computation and
    parameter names as ``transformers``' ``BertModel``, without its import cost (fast start).
inputs
    Target utterance + role-marked context → token ids; length-bucketed batches.
network
    One encoder, three heads (therapist codes, client talk type, rupture markers), role
    masking and the imbalance-weighted loss.
calibration
    Per-code Platt scaling, talk-type temperature, thresholds and offsets (validation only).
classifier
    ``UtteranceClassifier`` and ``TrainConfig``: fit, predict_proba, code, save, load.
evaluate
    Per-code metrics with kappa, family macros, the talk-type confusion table and the
    transcript-level cross-validation driver.

Use ``coder.model.load(path)`` for a ready classifier.
"""

from __future__ import annotations

import os
import site
import sys
from pathlib import Path

#: Folder name of the model the project ships in ``models/``.
DEFAULT_MODEL_NAME = "alliance-minilm-v3"
#: Environment variable naming a model folder to use instead of the shipped one.
MODEL_ENV = "ALLIANCE_CODER_MODEL"


def model_search_path() -> list[Path]:
    """Where :func:`default_model_path` looks, in order.

    ``$ALLIANCE_CODER_MODEL``; ``models/<name>`` in the working directory; the repository
    checkout this package runs from; the data files of an installed wheel
    (``<prefix>/share/alliance-coder/models/<name>``, for the environment, the user and the base
    prefix).
    """
    found = [Path(os.environ[MODEL_ENV])] if os.environ.get(MODEL_ENV) else []
    found += [Path("models") / DEFAULT_MODEL_NAME, Path(__file__).resolve().parents[2] / "models" / DEFAULT_MODEL_NAME]
    prefixes = [sys.prefix, getattr(site, "USER_BASE", None) or "", sys.base_prefix]
    found += [Path(p) / "share" / "alliance-coder" / "models" / DEFAULT_MODEL_NAME for p in dict.fromkeys(prefixes) if p]
    return found


def default_model_path() -> Path:
    """The shipped model's folder: the first of :func:`model_search_path` that holds a model.

    ``$ALLIANCE_CODER_MODEL`` wins even when it holds none (the error then names it); with no
    model anywhere, the repository path (for the error message).
    """
    candidates = model_search_path()
    if os.environ.get(MODEL_ENV):
        return candidates[0]
    for path in candidates:
        if (path / "config.json").is_file():
            return path
    return candidates[1]


def load(path: str | Path | None = None, **kwargs):
    """A ready :class:`~coder.model.classifier.UtteranceClassifier` from a saved model folder.

    Parameters
    ----------
    path : path-like, optional
        Folder written by ``UtteranceClassifier.save``; default :func:`default_model_path`.
    **kwargs
        ``threads`` and ``bf16`` overrides.
    """
    from coder.model.classifier import UtteranceClassifier

    return UtteranceClassifier.load(path if path is not None else default_model_path(), **kwargs)


def __getattr__(name: str):  # lazy: importing coder.model must not import torch
    if name in ("UtteranceClassifier", "TrainConfig", "ModelError"):
        from coder.model import classifier

        return getattr(classifier, name)
    raise AttributeError(name)
