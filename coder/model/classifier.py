"""``UtteranceClassifier``: fine-tune, calibrate, save, load and apply the multi-task model.

Scikit-learn style: ``__init__`` stores parameters, :meth:`fit` learns (attributes ending in
``_``) and returns self, :meth:`predict_proba` scores, :meth:`code` writes codes onto sessions.
"""

from __future__ import annotations

import copy
import json
import random
import time
from contextlib import nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch

from coder import __version__
from coder.model.config import TrainConfig, available_cores, bf16_supported, seed_everything
from coder.metrics import f1, macro_f1
from coder.model import checkpoint as ckpt
from coder.model.calibration import Calibrator
from coder.model.encoder import MINILM_SHA256, PACKAGED, load_encoder
from coder.model.inputs import collate, encode, length_batches, record_examples
from coder.model.layout import CLIENT, THERAPIST, Layout, default_merges
from coder.model.network import MultiTaskLoss, MultiTaskNetwork, imbalance_weights
from coder.model.predictor import (EXCLUSIVE, WEIGHTS, ModelError, Predictor, _as_records,  # noqa: F401  (old home)
                                   read_model_folder)
from coder.scheme import ALL_CODES, SCHEME_VERSION

ENCODER_DIR = "encoder"


class UtteranceClassifier(Predictor):
    """Multi-task utterance classifier over the coding scheme.

    Parameters
    ----------
    config : TrainConfig, optional
        Training and inference settings; default ``TrainConfig()``.
    version : str, optional
        Model version, used in the coder id ``model:<version>``; default the save folder's name.
    progress : bool
        Show a progress bar while fitting.

    Attributes
    ----------
    classes_ : tuple of str
        The targets, i.e. the columns of :meth:`predict_proba` (scheme codes, then family
        labels of codes trained only as their family; see ``coder.model.layout``).
    """

    def __init__(self, config: TrainConfig | None = None, *, version: str | None = None, progress: bool = True):
        self.config = config
        self.version = version
        self.progress = progress

    # ----------------------------------------------------------------------------- runtime
    def _runtime(self) -> tuple[bool, Any]:
        torch.set_num_threads(max(1, self.cfg.threads or available_cores()))
        use_bf16 = bool(self.cfg.bf16) and bf16_supported()
        return use_bf16, (torch.autocast("cpu", dtype=torch.bfloat16) if use_bf16 else nullcontext())

    def _check_fitted(self) -> None:
        if not hasattr(self, "network_"):
            raise RuntimeError("this UtteranceClassifier is not fitted: call fit() or coder.model.load()")

    # ----------------------------------------------------------------------------- training
    def fit(self, train: Iterable[dict], validation: Iterable[dict] | None = None, *,
            checkpoint: str | Path | None = None) -> "UtteranceClassifier":
        """Fine-tune the encoder and heads; calibrate and tune thresholds on ``validation``.

        Parameters
        ----------
        train, validation : datasets.Dataset or iterable of dict
            Corpus examples (``coder.data.build``): ``text``, ``role``, ``context``, ``labels``
            and ``label_mask`` over ``ALL_CODES``. Validation drives early stopping,
            calibration and thresholds; the test split must never be passed here.
        checkpoint : path-like, optional
            A file for the training state after each epoch (``coder.model.checkpoint``). When it
            holds a state of the same settings and examples, training resumes after its last
            epoch and ends with the weights an uninterrupted fit gives. The caller removes it.

        Returns
        -------
        UtteranceClassifier
            self, with ``network_``, ``tokenizer_``, ``layout_``, ``calibrator_``, ``history_`` and
            ``resumed_after_`` (the epochs taken from ``checkpoint``; 0 when trained from the start).
        """
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        cfg = self.cfg
        seed_everything(cfg.seed)
        use_bf16, autocast = self._runtime()
        train_rec, val_rec = _as_records(train), _as_records(validation)
        if cfg.max_train_examples and len(train_rec) > cfg.max_train_examples:
            train_rec = random.Random(cfg.seed).sample(train_rec, cfg.max_train_examples)
        if not train_rec:
            raise ValueError("no training examples")
        self._init_network()
        lay = self.layout_
        train_x = encode(self.tokenizer_, record_examples(train_rec, cfg.context_size), cfg.max_length)
        y, m = lay.arrays(train_rec)
        loss_fn = MultiTaskLoss(lay, imbalance_weights(y, m, np.array(train_x.roles), lay,
                                                       power=cfg.class_weight_power, max_weight=cfg.max_class_weight))
        val_x = encode(self.tokenizer_, record_examples(val_rec, cfg.context_size), cfg.max_length) if val_rec else None
        val_y, val_m = lay.arrays(val_rec)
        optimizer, scheduler = self._optimizer(len(train_x))
        self.history_ = []
        best, best_state, stale, stopped, first = -1.0, None, 0, False, 1
        key = ckpt.training_key(cfg, *_token_arrays(train_x), y, m, *_token_arrays(val_x), val_y, val_m)
        state = ckpt.load(checkpoint, key) if checkpoint is not None else None
        self.resumed_after_ = state.epoch if state is not None else 0
        if state is not None:
            self.network_.load_state_dict(state.network)
            optimizer.load_state_dict(state.optimizer)
            scheduler.load_state_dict(state.scheduler)
            ckpt.set_rng_states(state.rng)
            self.history_ = list(state.history)
            best, best_state, stale, stopped, first = (state.best, state.best_state, state.stale, state.stopped,
                                                       state.epoch + 1)
        columns = (TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("loss {task.fields[loss]:.3f}"), TimeElapsedColumn())
        for epoch in range(first, cfg.epochs + 1):
            if stopped:
                break
            self.network_.train()
            batches = length_batches(train_x.lengths, cfg.batch_size, shuffle=True, seed=cfg.seed + epoch)
            t0, total, seen = time.perf_counter(), 0.0, 0
            with Progress(*columns, disable=not self.progress, transient=True) as bar:
                task = bar.add_task("", total=len(batches), epoch=epoch, loss=0.0)
                for index in batches:
                    batch = collate(train_x, index, self.tokenizer_.pad_token_id or 0)
                    roles = batch.pop("roles")
                    with autocast:
                        logits = self.network_(**batch)
                    loss, _ = loss_fn(logits, torch.from_numpy(y[index]), torch.from_numpy(m[index]), roles)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(self.network_.parameters(), cfg.grad_clip)
                    optimizer.step()
                    scheduler.step()
                    total += loss.item() * len(index)
                    seen += len(index)
                    bar.update(task, advance=1, loss=total / seen)
            record = {"epoch": epoch, "train_loss": total / seen, "train_seconds": time.perf_counter() - t0,
                      "train_examples": seen, "bf16": use_bf16}
            if val_x is not None:
                record["val_macro_f1"] = self._validation_f1(val_x, val_y, val_m)
            self.history_.append(record)
            if val_x is not None:
                if record["val_macro_f1"] > best + 1e-6:
                    best, stale, best_state = record["val_macro_f1"], 0, copy.deepcopy(self.network_.state_dict())
                else:
                    stale += 1
                    stopped = stale > cfg.patience
            if checkpoint is not None:
                ckpt.save(ckpt.TrainingState(epoch, self.network_.state_dict(), optimizer.state_dict(),
                                             scheduler.state_dict(), self.history_, best, best_state, stale,
                                             stopped, ckpt.rng_states()), checkpoint, key)
        if best_state is not None:
            self.network_.load_state_dict(best_state)
        self._round_to_fp16()
        self.network_.eval()
        self.calibrator_ = Calibrator()
        if val_x is not None:
            self.calibrator_ = Calibrator.fit(self._raw_scores(val_x), val_y, val_m, lay.allowed(val_x.roles),
                                              lay.names, calibrate=cfg.calibrate,
                                              min_support=cfg.min_threshold_support, behaviours=self._behaviours())
        return self

    def _init_network(self) -> "UtteranceClassifier":
        """Pretrained encoder + freshly initialised heads, identity calibration (no training)."""
        cfg = self.cfg
        merges, dropped = (default_merges() if cfg.merges is None else (cfg.merges, ()))
        self.layout_ = Layout.from_merges(merges, dropped)
        encoder, self.tokenizer_, _ = load_encoder(cfg.encoder)
        self.encoder_source_ = str(cfg.encoder) if cfg.encoder else PACKAGED
        self.encoder_sha256_ = None if cfg.encoder else MINILM_SHA256
        seed_everything(cfg.seed)
        self.network_ = MultiTaskNetwork(encoder, self.layout_, cfg.dropout, cfg.pooling,
                                         behaviour=cfg.behaviour_head).eval()
        if cfg.attention_dropout is not None:
            for module in self.network_.modules():
                if hasattr(module, "dropout_p"):  # coder.model.bert's self-attention
                    module.dropout_p = cfg.attention_dropout
        self.calibrator_ = Calibrator(behaviours=self._behaviours())
        self.history_ = []
        return self

    def _behaviours(self) -> tuple[str, ...]:
        """Targets scored by the behaviour softmax head (empty without one)."""
        if getattr(self.network_, "behaviour_head", None) is None:
            return ()
        return tuple(self.layout_.names[i] for i in self.layout_.behaviour_idx)

    @classmethod
    def untrained(cls, config: TrainConfig | None = None, **kwargs) -> "UtteranceClassifier":
        """A usable but untrained classifier: pretrained encoder, random heads (benchmarks, tests)."""
        return cls(config, **kwargs)._init_network()

    def _optimizer(self, n_train: int):
        cfg = self.cfg
        decay, no_decay, heads = [], [], []
        for name, p in self.network_.named_parameters():
            if not name.startswith("encoder."):
                heads.append(p)
            elif p.ndim < 2:
                no_decay.append(p)
            else:
                decay.append(p)
        optimizer = torch.optim.AdamW([
            {"params": decay, "lr": cfg.lr, "weight_decay": cfg.weight_decay},
            {"params": no_decay, "lr": cfg.lr, "weight_decay": 0.0},
            {"params": heads, "lr": cfg.head_lr, "weight_decay": cfg.weight_decay},
        ], fused=True if cfg.fused_optimizer else None)
        steps = max(1, cfg.epochs * -(-n_train // cfg.batch_size))
        warmup = max(1, int(steps * cfg.warmup_ratio))

        def schedule(step: int) -> float:
            return (step + 1) / warmup if step < warmup else max(0.0, (steps - step) / max(1, steps - warmup))

        return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)

    def _validation_f1(self, val_x, val_y, val_m) -> float:
        """Validation macro-F1 over targets with positives, at the decision rule used after training.

        Thresholds and talk offsets are tuned on validation as after training (no calibration,
        which does not change decisions), so epochs are compared on how well the model ranks,
        not on how far an unconverged model's logits sit from 0.5.
        """
        lay = self.layout_
        raw = self._raw_scores(val_x)
        allowed = lay.allowed(val_x.roles)
        rule = Calibrator.fit(raw, val_y, val_m, allowed, lay.names, calibrate=False,
                              min_support=self.cfg.min_threshold_support, behaviours=self._behaviours())
        pred = rule.decide(rule.proba(raw, lay.names), allowed, lay.names).astype(bool)
        truth, use = val_y > 0.5, (val_m > 0.5) & allowed
        scores = [f1(truth[use[:, j], j], pred[use[:, j], j])
                  for j in np.flatnonzero(lay.multilabel) if truth[use[:, j], j].any()]
        talk = lay.talk_idx
        rows = use[:, talk].all(1) & (truth[:, talk].sum(1) == 1)
        if rows.any():
            scores.append(macro_f1(truth[np.ix_(rows, talk)].argmax(1), pred[np.ix_(rows, talk)].argmax(1), len(talk)))
        return float(np.mean(scores)) if scores else 0.0

    def _round_to_fp16(self) -> None:
        """Round weights to fp16 precision, so the fitted model equals the saved one."""
        with torch.no_grad():
            for p in self.network_.state_dict().values():
                if p.is_floating_point():
                    p.copy_(p.to(torch.float16).to(p.dtype))

    # ----------------------------------------------------------------------------- inference
    def _raw_scores(self, encoded, batch_size: int | None = None) -> np.ndarray:
        """Raw target scores (logits / talk log-softmax, ``-inf`` where masked) of encoded examples."""
        batch_size = batch_size or self.cfg.eval_batch_size
        out = np.full((len(encoded), len(self.layout_.names)), -np.inf, dtype=np.float64)
        active = [i for i, r in enumerate(encoded.roles) if r in (THERAPIST, CLIENT)]
        if not active:
            return out
        _, autocast = self._runtime()
        lengths = [encoded.lengths[i] for i in active]
        was_training = self.network_.training
        self.network_.eval()
        with torch.inference_mode(), autocast:
            for group in length_batches(lengths, batch_size):
                index = [active[g] for g in group]
                batch = collate(encoded, index, self.tokenizer_.pad_token_id or 0)
                roles = batch.pop("roles")
                out[index] = self.network_.raw_scores(self.network_(**batch), roles).numpy()
        self.network_.train(was_training)
        return out

    # ----------------------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> Path:
        """Write the model folder.

        Files: ``model.safetensors`` (fp16 weights of encoder and heads), ``encoder/`` (its
        config and tokenizer, so loading needs no encoder package), ``labels.json`` (targets),
        ``thresholds.json``, ``calibration.json``, ``config.json``, ``history.json``.
        """
        from safetensors.torch import save_file

        self._check_fitted()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.version = self.version or path.name
        state = {k: (v.to(torch.float16) if v.is_floating_point() else v).contiguous()
                 for k, v in self.network_.state_dict().items()}
        save_file(state, str(path / WEIGHTS), metadata={"format": "pt", "version": self.version})
        self.network_.encoder.config.save_pretrained(str(path / ENCODER_DIR))
        self.tokenizer_.save_pretrained(str(path / ENCODER_DIR))
        cal = self.calibrator_.to_dict()
        _write_json(path / "labels.json", {"scheme_version": SCHEME_VERSION, "scheme_codes": list(ALL_CODES),
                                           "targets": list(self.layout_.names)})
        _write_json(path / "thresholds.json", {"thresholds": cal["thresholds"], "talk_offsets": cal["talk_offsets"],
                                               "behaviour_offsets": cal["behaviour_offsets"]})
        _write_json(path / "calibration.json", {"platt": cal["platt"], "talk_temperature": cal["talk_temperature"],
                                                "behaviours": cal["behaviours"],
                                                "behaviour_temperature": cal["behaviour_temperature"]})
        _write_json(path / "config.json", {
            "version": self.version, "coder_version": __version__, "scheme_version": SCHEME_VERSION,
            "encoder": {"source": self.encoder_source_, "sha256": self.encoder_sha256_},
            "train_config": asdict(self.cfg)})
        _write_json(path / "history.json", getattr(self, "history_", []))
        return path

    @classmethod
    def load(cls, path: str | Path, *, threads: int | None = None, bf16: bool | None = None) -> "UtteranceClassifier":
        """A ready classifier from a folder written by :meth:`save`.

        The encoder architecture and tokenizer come from ``path/encoder`` when present, else
        from the encoder the model was trained from; pretrained encoder weights are never read.

        Raises
        ------
        ModelError
            When the folder or one of its files is missing, or it was trained on another scheme.
        """
        from safetensors.torch import load_file

        folder = read_model_folder(path)
        path, cfg = folder.path, folder.config
        cfg.threads = threads if threads is not None else cfg.threads
        cfg.bf16 = bf16 if bf16 is not None else cfg.bf16
        meta, labels, calibration, thresholds = folder.meta, folder.labels, folder.calibration, folder.thresholds
        self = cls(cfg, version=meta.get("version") or path.name, progress=False)
        self.layout_ = Layout(tuple(labels["targets"]))
        source = path / ENCODER_DIR if (path / ENCODER_DIR / "config.json").is_file() else meta["encoder"]["source"]
        encoder, self.tokenizer_, _ = load_encoder(source, pretrained=False, empty=True)
        self.encoder_source_, self.encoder_sha256_ = meta["encoder"]["source"], meta["encoder"].get("sha256")
        empty = next(encoder.parameters()).is_meta
        self.network_ = MultiTaskNetwork(encoder, self.layout_, cfg.dropout, cfg.pooling, behaviour=cfg.behaviour_head,
                                         device="meta" if empty else None)  # meta: every weight is assigned below
        state, own = load_file(str(path / WEIGHTS)), self.network_.state_dict()
        absent = [k for k in own if k not in state]
        if absent:
            raise ModelError(path / WEIGHTS, f"weights do not fit the encoder (no {absent[0]})")
        self.network_.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items() if k in own}, assign=empty)
        self.network_.eval()
        self.calibrator_ = Calibrator.from_dict({**calibration, **thresholds})
        history = path / "history.json"
        self.history_ = json.loads(history.read_text(encoding="utf-8")) if history.is_file() else []
        return self


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _token_arrays(x) -> tuple[np.ndarray, ...]:
    """Encoded inputs as flat arrays (for :func:`coder.model.checkpoint.training_key`); none for None."""
    if x is None:
        return ()
    lengths = np.array([len(ids) for ids in x.input_ids], dtype=np.int64)
    flat = np.fromiter((t for ids in x.input_ids for t in ids), dtype=np.int64, count=int(lengths.sum()))
    kinds = np.fromiter((t for ids in x.token_type_ids for t in ids), dtype=np.int64, count=int(lengths.sum()))
    return lengths, flat, kinds, np.asarray(x.roles, dtype=np.int64)
