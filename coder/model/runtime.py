"""Coding without torch: a model's network exported once to ONNX and run by onnxruntime.

Why: importing torch alone takes 1.3–2.4 s on the project's 2-core machines, about the whole
budget for starting to code; onnxruntime imports in about 0.1 s. With its linear layers' weights
quantised to int8 (dynamic, per output channel), the network also runs about twice as fast as
torch in fp32 on CPUs with AVX-512 VNNI (``benchmarks/inference_speed.py``);
``benchmarks/runtime_agreement.py`` measures what int8 changes in the decisions.

Runtimes (``--runtime``):

* ``onnx-int8`` — int8 weights, fp32 activations (the default when onnxruntime is installed);
* ``onnx-fp32`` — the torch network's fp32 computation, op for op (probabilities tested equal to 1e-5);
* ``torch`` — :class:`~coder.model.classifier.UtteranceClassifier` itself (bf16 autocast
  where the CPU has it and the model was trained with it, as it was validated).

The ONNX file is derived from ``model.safetensors``, so it is not shipped (a model version
stays under 50 MB): the first use of a model builds it (seconds, needs torch and onnx) into the
cache folder (``$ALLIANCE_CODER_CACHE``, else ``$XDG_CACHE_HOME/alliance-coder``, else
``~/.cache/alliance-coder``), under the hash of the weights, atomically, so parallel workers
and later runs share it.
"""

from __future__ import annotations

import hashlib
import json
import importlib.util
import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from coder.cache import cache_dir
from coder.hashing import file_sha256
from coder.model.calibration import Calibrator
from coder.model.config import available_cores
from coder.model.encoder import load_tokenizer
from coder.model.inputs import collate_arrays, length_batches
from coder.model.layout import CLIENT, OTHER_BEHAVIOUR, THERAPIST, Layout
from coder.model.predictor import WEIGHTS, ModelError, Predictor, read_model_folder

log = logging.getLogger("coder")

#: What ``--runtime`` accepts; ``auto`` = ``onnx-int8`` when onnxruntime is installed, else ``torch``.
RUNTIMES = ("auto", "onnx-int8", "onnx-fp32", "torch")
#: Bumped whenever the exported graph changes, so that older cached files are rebuilt.
EXPORT_FORMAT = 3
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUTS = ("therapist", "talk", "client", "behaviour")

def onnx_available() -> bool:
    """True when onnxruntime can be imported."""
    return importlib.util.find_spec("onnxruntime") is not None


def resolve_runtime(runtime: str | None) -> str:
    """The concrete runtime for ``runtime`` (``auto`` resolved); ValueError for an unknown name."""
    runtime = runtime or "auto"
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown runtime {runtime!r} (choose from {', '.join(RUNTIMES)})")
    if runtime == "auto":
        return "onnx-int8" if onnx_available() else "torch"
    if runtime.startswith("onnx") and not onnx_available():
        raise ValueError(f"--runtime {runtime} needs onnxruntime (pip install onnxruntime), or use --runtime torch")
    return runtime


def onnx_path(model: str | Path, runtime: str) -> Path:
    """The cached ONNX file of ``model`` for ``runtime`` (``onnx-int8`` or ``onnx-fp32``).

    Keyed by the SHA-256 of the weights and of ``config.json``, and by :data:`EXPORT_FORMAT`.
    """
    model = Path(model)
    digest = hashlib.sha256(f"format {EXPORT_FORMAT}\n".encode())
    for name in (WEIGHTS, "config.json"):
        digest.update(bytes.fromhex(file_sha256(model / name)))
    return cache_dir() / "onnx" / digest.hexdigest()[:24] / f"network-{runtime.removeprefix('onnx-')}.onnx"


def ensure_onnx(model: str | Path, runtime: str) -> Path:
    """The ONNX file of ``model`` for ``runtime``, built first when it is not cached yet."""
    path = onnx_path(model, runtime)
    if not path.is_file():
        log.warning(f"building the {runtime} runtime of {Path(model).name} (once; cached in {path.parent})")
        export_onnx(model, path, quantize=runtime == "onnx-int8")
    return path


def export_onnx(model: str | Path, out: str | Path, *, quantize: bool) -> Path:
    """Export the network of the model folder ``model`` to ONNX at ``out`` (atomically).

    Parameters
    ----------
    model : path-like
        A folder written by ``UtteranceClassifier.save``.
    out : path-like
        The ONNX file to write.
    quantize : bool
        Give the encoder's linear layers int8 weights (dynamic quantisation, per output
        channel; see ``_quantize``); activations, embeddings and attention products stay fp32.
    """
    import torch

    from coder.model.classifier import UtteranceClassifier

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    clf = UtteranceClassifier.load(model, bf16=False)
    graph = _graph(clf.network_).eval()
    ids = torch.tensor([[2, 5, 6, 3, 7, 8, 3], [2, 5, 3, 7, 3, 0, 0]])  # one padded row: the mask stays in
    mask = (torch.arange(7) < torch.tensor([[7], [5]])).long()
    types = torch.tensor([[0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 0, 0]])
    names = OUTPUTS[: 4 if clf.network_.behaviour_head is not None else 3]
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(graph, (ids, mask, types), str(fp32), input_names=list(INPUTS), output_names=list(names),
                              dynamic_axes={k: {0: "batch", 1: "tokens"} for k in INPUTS}, opset_version=17,
                              dynamo=False)
        final = fp32
        if quantize:
            final = Path(tmp) / "int8.onnx"
            _quantize(fp32, final)
        os.replace(final, out)
    return out


def _quantize(fp32: Path, out: Path) -> None:
    """int8 weights (per output channel) for the encoder's linear layers; the rest stays fp32.

    The embedding lookups and the attention products (scores and weighted values, both
    activations) stay fp32: quantising them cost accuracy (validation split, 2026-12-03:
    largest probability change 0.17 against 0.10) and, for the attention products, speed.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fp32), load_external_data=False).graph
    weights = {t.name for t in graph.initializer}
    keep = [n.name for n in graph.node  # lookups, and products of two activations (attention)
            if n.op_type == "Gather" or (n.op_type == "MatMul" and not weights.intersection(n.input))]
    root = logging.getLogger()
    quiet = logging.NullHandler()  # its advice to pre-process (image models) would configure the root logger
    root.addHandler(quiet)
    try:
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=keep)
    finally:
        root.removeHandler(quiet)


def _graph(network):
    """What is exported: the network's forward pass from token ids to the heads' logits."""
    import torch

    class Graph(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.network = network

        def forward(self, input_ids, attention_mask, token_type_ids):
            return tuple(self.network(input_ids, attention_mask, token_type_ids))

    return Graph()


def log_softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax in float32."""
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def raw_scores(logits: list[np.ndarray], roles: np.ndarray, layout: Layout) -> np.ndarray:
    """Head outputs laid out over the targets, ``-inf`` where the role masks them.

    The NumPy twin of ``MultiTaskNetwork.raw_scores`` (tested equal): multi-label columns hold
    logits, talk type (and behaviour) columns log-softmax values.
    """
    therapist, talk, client = (np.asarray(x, dtype=np.float32) for x in logits[:3])
    full = np.full((therapist.shape[0], len(layout.names)), -np.inf, dtype=np.float32)
    is_t, is_c = roles == THERAPIST, roles == CLIENT
    full[np.ix_(is_t, layout.therapist_idx)] = therapist[is_t]
    full[np.ix_(is_c, layout.talk_idx)] = log_softmax(talk[is_c])
    if layout.client_idx:
        full[np.ix_(is_c, layout.client_idx)] = client[is_c]
    if len(logits) > 3:
        behaviour = log_softmax(np.asarray(logits[3], dtype=np.float32)[is_t])
        full[np.ix_(is_t, layout.behaviour_idx)] = behaviour[:, :OTHER_BEHAVIOUR]
    return full


class OnnxPredictor(Predictor):
    """A saved model run by onnxruntime: same inputs, calibration and decisions as the torch classifier.

    Parameters
    ----------
    runtime : {"onnx-int8", "onnx-fp32"}
        Which export of the network to run.
    threads : int, optional
        Intra-op threads; default the cores this process may use.
    """

    def __init__(self, *, runtime: str = "onnx-int8", threads: int | None = None):
        self.runtime = runtime
        self.threads = threads

    @classmethod
    def load(cls, path: str | Path, *, runtime: str = "onnx-int8", threads: int | None = None) -> "OnnxPredictor":
        """A ready predictor from a model folder (its ONNX file built first when not cached).

        Raises
        ------
        ModelError
            When the folder is not a usable model.
        """
        import onnxruntime

        folder = read_model_folder(path)
        self = cls(runtime=runtime, threads=threads)
        self.config, self.version = folder.config, folder.meta.get("version") or folder.path.name
        self.layout_ = Layout(tuple(folder.labels["targets"]))
        encoder = folder.path / "encoder"
        if not (encoder / "tokenizer.json").is_file():
            raise ModelError(encoder, "no tokenizer.json here; the ONNX runtime needs it (use --runtime torch)")
        self.tokenizer_ = load_tokenizer(encoder)
        self.calibrator_ = Calibrator.from_dict({**folder.calibration, **folder.thresholds})
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads or available_cores())
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session_ = onnxruntime.InferenceSession(str(ensure_onnx(folder.path, runtime)), options,
                                                     providers=["CPUExecutionProvider"])
        self.outputs_ = [o.name for o in self.session_.get_outputs()]
        return self

    def _raw_scores(self, encoded, batch_size: int | None = None) -> np.ndarray:
        batch_size = batch_size or self.cfg.eval_batch_size
        out = np.full((len(encoded), len(self.layout_.names)), -np.inf, dtype=np.float64)
        active = [i for i, r in enumerate(encoded.roles) if r in (THERAPIST, CLIENT)]
        lengths = [encoded.lengths[i] for i in active]
        for group in length_batches(lengths, batch_size) if active else []:
            index = [active[g] for g in group]
            batch = collate_arrays(encoded, index, self.tokenizer_.pad_token_id or 0)
            roles = batch.pop("roles")
            logits = self.session_.run(self.outputs_, batch)
            out[index] = raw_scores(logits, roles, self.layout_)
        return out


def load_runtime(path: str | Path, *, runtime: str = "auto", threads: int | None = None) -> Predictor:
    """A ready predictor of the model folder ``path`` on ``runtime`` (see :data:`RUNTIMES`)."""
    runtime = resolve_runtime(runtime)
    if runtime == "torch":
        from coder.model.classifier import UtteranceClassifier

        return UtteranceClassifier.load(path, threads=threads)
    return OnnxPredictor.load(path, runtime=runtime, threads=threads)


def describe(runtime: str, model: str | Path | None = None) -> dict:
    """What a run's manifest records of its runtime (the precision actually used).

    Torch runs a model in the precision it was trained in (``train_config.bf16`` of its
    ``config.json``; bf16 only where the CPU has it), so ``model`` decides between bf16 and fp32.
    """
    if runtime == "torch":
        from coder.model.config import bf16_supported

        trained_bf16 = True
        if model is not None:
            config = Path(model) / "config.json"
            if config.is_file():
                trained_bf16 = bool(json.loads(config.read_text()).get("train_config", {}).get("bf16", True))
        return {"runtime": "torch", "precision": "bf16" if trained_bf16 and bf16_supported() else "fp32"}
    return {"runtime": runtime, "precision": runtime.removeprefix("onnx-")}


__all__ = ["RUNTIMES", "OnnxPredictor", "describe", "ensure_onnx", "export_onnx", "load_runtime", "onnx_path",
           "raw_scores", "resolve_runtime"]
