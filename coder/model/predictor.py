"""``Predictor``: what every coding model does at inference, whatever runs its network.

The decisions (calibration, thresholds, exclusive subtypes) and the coded sessions are the
same for the torch classifier (:class:`~coder.model.classifier.UtteranceClassifier`, which
also trains) and the ONNX runtime (:class:`~coder.model.runtime.OnnxPredictor`, which starts
without torch); a subclass only supplies :meth:`Predictor._raw_scores`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from coder.errors import InputError
from coder.model.config import TrainConfig
from coder.model.inputs import Example, encode, record_examples, session_examples
from coder.model.layout import ROLE_IDS
from coder.scheme import ALL_CODES, SCHEME_VERSION, codes_for_role
from coder.session import Session, Utterance

#: Code pairs no utterance carries together (one subtype per question or reflection).
EXCLUSIVE = (("question_open", "question_closed"), ("reflection_simple", "reflection_complex"))


WEIGHTS = "model.safetensors"


class ModelError(InputError):
    """A model folder is missing or unusable (one line; the CLI exits with status 2)."""


@dataclass
class ModelFolder:
    """The JSON files of a saved model folder, checked (weights are read by each runtime)."""

    path: Path
    meta: dict
    labels: dict
    thresholds: dict
    calibration: dict
    config: TrainConfig


def read_model_folder(path: str | Path) -> ModelFolder:
    """Read and check a folder written by ``UtteranceClassifier.save``.

    Raises
    ------
    ModelError
        When the folder or one of its files is missing, or it was trained on another scheme.
    """
    path = Path(path)
    needed = ("config.json", WEIGHTS, "labels.json", "thresholds.json", "calibration.json")
    missing = [f for f in needed if not (path / f).is_file()]
    if missing:
        raise ModelError(path, f"no model here (missing {', '.join(missing)}); train one with "
                               "`alliance-coder train --out models/NAME` or pass --model PATH")
    meta, labels, thresholds, calibration = (json.loads((path / f).read_text(encoding="utf-8"))
                                             for f in ("config.json", "labels.json", "thresholds.json",
                                                       "calibration.json"))
    if labels.get("scheme_codes") != list(ALL_CODES):
        raise ModelError(path, f"model was trained on scheme v{labels.get('scheme_version', '?')} codes, "
                               f"not on this version's (v{SCHEME_VERSION})")
    cfg = TrainConfig.from_dict({"behaviour_head": False, **meta.get("train_config", {})})
    return ModelFolder(path, meta, labels, thresholds, calibration, cfg)


def _as_records(data) -> list[dict]:
    return [dict(r) for r in data] if data is not None else []


class Predictor:
    """Calibrated probabilities, decisions and coded sessions from a fitted model's raw scores.

    Attributes (set by ``fit`` or ``load``)
    ---------------------------------------
    layout_ : Layout
        The targets.
    tokenizer_ : WordPieceTokenizer
    calibrator_ : Calibrator
        Calibration, thresholds and offsets.
    """

    config: TrainConfig | None = None
    version: str | None = None

    @property
    def cfg(self) -> TrainConfig:
        return self.config or TrainConfig()

    @property
    def coder_id(self) -> str:
        """``model:<version>``, the coder id of this model's rows in the long table."""
        return f"model:{self.version or 'unsaved'}"

    @property
    def classes_(self) -> tuple[str, ...]:
        self._check_fitted()
        return self.layout_.names

    def _check_fitted(self) -> None:
        if not hasattr(self, "calibrator_"):
            raise RuntimeError(f"this {type(self).__name__} is not fitted: call fit() or coder.model.load()")

    def _raw_scores(self, encoded, batch_size: int | None = None) -> np.ndarray:
        """Raw target scores (logits / log-softmax, ``-inf`` where the role masks them)."""
        raise NotImplementedError

    def _proba_examples(self, examples: Sequence[Example], batch_size: int | None = None) -> np.ndarray:
        self._check_fitted()
        encoded = encode(self.tokenizer_, examples, self.cfg.max_length)
        return self.calibrator_.proba(self._raw_scores(encoded, batch_size), self.layout_.names)

    def predict_proba(self, sessions: Sequence[Session], batch_size: int | None = None) -> np.ndarray:
        """Calibrated probabilities, one row per utterance of ``sessions`` (in order).

        Returns
        -------
        ndarray (n_utterances, len(classes_))
            Columns :attr:`classes_`; 0 for targets the utterance's role may not carry (all of
            them for ``other``); the talk-type columns of a client utterance sum to 1.
        """
        return self._proba_examples(session_examples(sessions, self.cfg.context_size), batch_size)

    def predict_proba_records(self, records: Iterable[dict], batch_size: int | None = None) -> np.ndarray:
        """As :meth:`predict_proba`, for corpus records (context taken from the record)."""
        return self._proba_examples(record_examples(_as_records(records), self.cfg.context_size), batch_size)

    def decide(self, proba: np.ndarray, roles: Sequence[str | None]) -> np.ndarray:
        """0/1 decisions (n, len(classes_)): tuned thresholds, talk type by offset argmax.

        Subtypes that exclude each other (:data:`EXCLUSIVE`: an AnnoMI question is open or
        closed, a reflection simple or complex) keep only the more probable one.
        """
        ids = [ROLE_IDS.get(str(r or "").lower(), 2) for r in roles]
        decided = self.calibrator_.decide(proba, self.layout_.allowed(ids), self.layout_.names)
        names = list(self.layout_.names)
        for a, b in EXCLUSIVE:
            if a in names and b in names:
                i, j = names.index(a), names.index(b)
                both = (decided[:, i] > 0) & (decided[:, j] > 0)
                decided[both & (proba[:, i] >= proba[:, j]), j] = 0
                decided[both & (proba[:, i] < proba[:, j]), i] = 0
        return decided

    def code(self, sessions: Sequence[Session], batch_size: int | None = None) -> list[Session]:
        """Copies of ``sessions`` with the model's codes and probabilities on every utterance.

        ``codes`` holds the assigned targets in scheme order, then family labels (a client
        utterance always gets exactly one talk type). ``meta["proba"]`` maps every scheme code
        the role allows to its probability (NaN for a code trained only as its family) and
        each family target the role allows to its probability; ``meta["coder_id"]`` is
        :attr:`coder_id`.
        """
        names = self.layout_.names
        proba = self.predict_proba(sessions, batch_size)
        decided = self.decide(proba, [u.role for s in sessions for u in s.utterances])
        out, row = [], 0
        for s in sessions:
            utts = []
            for u in s.utterances:
                scores = dict(zip(names, proba[row].tolist()))
                p = {c: scores.get(c, float("nan")) for c in codes_for_role(u.role)}
                p.update({n: scores[n] for n in names if n not in ALL_CODES and self.layout_.role_of(n) == u.role})
                codes = [n for j, n in enumerate(names) if decided[row, j]]
                utts.append(Utterance(**{**u.__dict__, "codes": codes,
                                         "meta": {**u.meta, "proba": p, "coder_id": self.coder_id}}))
                row += 1
            out.append(Session(id=s.id, utterances=utts, meta=dict(s.meta), speakers=dict(s.speakers)))
        return out
