"""The fine-tuned utterance classifier: encoder, multi-task network, training, inference, evaluation.

Modules
-------
encoder
    Find, hash-check and load the packaged all-MiniLM-L6-v2 (or any local encoder folder).
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

from pathlib import Path

#: Folder name of the model the project ships in ``models/``.
DEFAULT_MODEL_NAME = "alliance-minilm-v2"


def default_model_path() -> Path:
    """``models/<DEFAULT_MODEL_NAME>`` in the working directory if it exists, else in the repository."""
    here = Path("models") / DEFAULT_MODEL_NAME
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "models" / DEFAULT_MODEL_NAME


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
