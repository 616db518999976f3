"""The ONNX runtime: same raw scores and decisions as the torch network, cached export, no torch import."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

import torch  # noqa: E402

from coder.model.layout import CLIENT, OTHER, THERAPIST  # noqa: E402
from coder.model.runtime import (OnnxPredictor, load_runtime, onnx_path, raw_scores,  # noqa: E402
                                 resolve_runtime)
from tests.model.tiny import sessions  # noqa: E402


def test_runtime_raw_scores_equal_the_network(fitted):
    """The NumPy layout of the heads' outputs is the network's, role masks and log-softmax included."""
    net, lay = fitted.network_, fitted.layout_
    gen = torch.Generator().manual_seed(0)
    n = 9
    logits = [torch.randn(n, head.out_features, generator=gen) for head in
              (net.therapist_head, net.talk_head, net.client_head)]
    if net.behaviour_head is not None:
        logits.append(torch.randn(n, net.behaviour_head.out_features, generator=gen))
    roles = torch.tensor([THERAPIST, CLIENT, OTHER] * 3)
    expected = net.raw_scores(tuple(logits), roles).numpy()
    got = raw_scores([x.numpy() for x in logits], roles.numpy(), lay)
    assert np.array_equal(np.isinf(expected), np.isinf(got))
    assert np.allclose(expected[np.isfinite(expected)], got[np.isfinite(got)], atol=1e-6)


def test_runtime_onnx_fp32_equals_torch(fitted, saved_model):
    """fp32 ONNX: the torch network's computation, so probabilities agree to 1e-5 and codes exactly."""
    from coder.model.classifier import UtteranceClassifier

    ref = UtteranceClassifier.load(saved_model, bf16=False)
    onnx = load_runtime(saved_model, runtime="onnx-fp32")
    assert isinstance(onnx, OnnxPredictor) and onnx.classes_ == ref.classes_ and onnx.coder_id == ref.coder_id
    data = sessions(2)
    assert np.allclose(onnx.predict_proba(data), ref.predict_proba(data), atol=1e-5)
    assert [u.codes for s in onnx.code(data) for u in s.utterances] == \
        [u.codes for s in ref.code(data) for u in s.utterances]


def test_runtime_onnx_int8_is_close(saved_model):
    """int8 weights: probabilities move a little (measured on real data in benchmarks/runtime_agreement.py)."""
    from coder.model.classifier import UtteranceClassifier

    data = sessions(2)
    ref = UtteranceClassifier.load(saved_model, bf16=False).predict_proba(data)
    got = load_runtime(saved_model, runtime="onnx-int8").predict_proba(data)
    assert got.shape == ref.shape and np.isfinite(got).all()
    assert np.abs(got - ref).max() < 0.2
    assert onnx_path(saved_model, "onnx-int8").stat().st_size < onnx_path(saved_model, "onnx-fp32").stat().st_size


def test_runtime_export_is_cached_and_keyed_by_weights(saved_model, tmp_path):
    path = onnx_path(saved_model, "onnx-fp32")
    load_runtime(saved_model, runtime="onnx-fp32")
    built = path.stat().st_mtime_ns
    load_runtime(saved_model, runtime="onnx-fp32")
    assert path.stat().st_mtime_ns == built  # not rebuilt
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in saved_model.rglob("*"):
        if f.is_file():
            (copy / f.relative_to(saved_model)).parent.mkdir(parents=True, exist_ok=True)
            (copy / f.relative_to(saved_model)).write_bytes(f.read_bytes())
    assert onnx_path(copy, "onnx-fp32") == path  # same weights, same file
    config = json.loads((copy / "config.json").read_text())
    config["train_config"]["pooling"] = "all"
    (copy / "config.json").write_text(json.dumps(config))
    assert onnx_path(copy, "onnx-fp32") != path


@pytest.mark.parametrize("name, expected", [("onnx-fp32", "onnx-fp32"), ("torch", "torch"), ("auto", "onnx-int8"),
                                            (None, "onnx-int8")])
def test_runtime_resolve(name, expected):
    assert resolve_runtime(name) == expected


def test_runtime_resolve_rejects_unknown():
    with pytest.raises(ValueError, match="unknown runtime 'fast'"):
        resolve_runtime("fast")


def test_runtime_onnx_path_never_imports_torch(saved_model):
    """Coding on the ONNX runtime starts without torch (its import is most of a cold start)."""
    load_runtime(saved_model, runtime="onnx-int8")  # the export (which needs torch) is cached first
    code = ("import sys; from coder.model.runtime import load_runtime; from tests.model.tiny import sessions; "
            f"p = load_runtime({str(saved_model)!r}, runtime='onnx-int8'); p.code(sessions(1)); "
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ),
                          cwd=os.getcwd())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("trained_bf16, expected", [(True, "bf16"), (False, "fp32"), (None, "bf16")])
def test_runtime_describe_records_the_precision_torch_uses_for_the_model(tmp_path, monkeypatch, trained_bf16, expected):
    """run.json says fp32 for a model trained in fp32 even on a CPU with bf16 (torch follows the model)."""
    import coder.model.config
    from coder.model.runtime import describe

    monkeypatch.setattr(coder.model.config, "bf16_supported", lambda: True)
    train_config = {} if trained_bf16 is None else {"bf16": trained_bf16}
    (tmp_path / "config.json").write_text(json.dumps({"train_config": train_config}))
    assert describe("torch", tmp_path) == {"runtime": "torch", "precision": expected}
    assert describe("onnx-int8", tmp_path) == {"runtime": "onnx-int8", "precision": "int8"}
