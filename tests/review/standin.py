"""A tiny stand-in for the classifier: hashed bag-of-words logistic regression over the scheme codes.

It follows the contract ``retrain_from_corrections`` relies on: ``fit(train, validation)``
(continuing from its current weights), ``predict_proba_records``, ``decide``, ``classes_``,
``save``, ``load``, ``version`` and ``coder_id``. Fast, deterministic, numpy only.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np

from coder.scheme import ALL_CODES, TALK_TYPES, codes_for_role

TALK = [ALL_CODES.index(c) for c in TALK_TYPES]


class StandIn:
    def __init__(self, version: str | None = None, *, epochs: int = 300, lr: float = 1.0, dim: int = 256):
        self.version, self.epochs, self.lr, self.dim = version, epochs, lr, dim

    classes_ = ALL_CODES

    @property
    def coder_id(self) -> str:
        return f"model:{self.version or 'unsaved'}"

    def _x(self, records) -> np.ndarray:
        x = np.zeros((len(records), self.dim))
        for i, r in enumerate(records):
            words = str(r["text"]).lower().replace("?", " ?").replace(".", " .").split()
            for w in words + [f"role={r['role']}"]:
                x[i, zlib.crc32(w.encode()) % self.dim] = 1.0
        return x

    @staticmethod
    def _allowed(roles) -> np.ndarray:
        return np.array([[c in codes_for_role(r) for c in ALL_CODES] for r in roles], dtype=float)

    def fit(self, train, validation=None) -> "StandIn":
        train = [dict(r) for r in train]
        x = self._x(train)
        y = np.array([r["labels"] for r in train], dtype=float)
        m = np.array([r["label_mask"] for r in train], dtype=float)
        if not hasattr(self, "w_"):
            self.w_, self.b_ = np.zeros((self.dim, len(ALL_CODES))), np.zeros(len(ALL_CODES))
        for _ in range(self.epochs):
            p = 1 / (1 + np.exp(-(x @ self.w_ + self.b_)))
            g = (p - y) * m / max(1, len(train))
            self.w_ -= self.lr * (x.T @ g)
            self.b_ -= self.lr * g.sum(0)
        return self

    def predict_proba_records(self, records, batch_size=None) -> np.ndarray:
        records = [dict(r) for r in records]
        p = 1 / (1 + np.exp(-(self._x(records) @ self.w_ + self.b_)))
        p = p * self._allowed([r["role"] for r in records])
        talk = p[:, TALK]
        sums = talk.sum(1, keepdims=True)
        p[:, TALK] = np.where(sums > 0, talk / np.where(sums > 0, sums, 1), 0)
        return p

    def decide(self, proba, roles) -> np.ndarray:
        out = (np.asarray(proba) >= 0.5).astype(int)
        for i, role in enumerate(roles):
            if role == "client":
                out[i, TALK] = 0
                out[i, TALK[int(np.argmax(proba[i, TALK]))]] = 1
        return out * self._allowed(roles).astype(int)

    def save(self, path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.version = self.version or path.name
        np.savez(path / "weights.npz", w=self.w_, b=self.b_)
        (path / "config.json").write_text(json.dumps({"version": self.version, "epochs": self.epochs,
                                                      "lr": self.lr, "dim": self.dim}))
        return path

    @classmethod
    def load(cls, path) -> "StandIn":
        path = Path(path)
        meta = json.loads((path / "config.json").read_text())
        self = cls(meta["version"], epochs=meta["epochs"], lr=meta["lr"], dim=meta["dim"])
        data = np.load(path / "weights.npz")
        self.w_, self.b_ = data["w"], data["b"]
        return self
