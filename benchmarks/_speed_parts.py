"""Parts of ``benchmarks/inference_speed.py``: matmul bounds, input, fresh-process timings, ONNX op profile.

Not a benchmark by itself; ``inference_speed.py`` puts ``benchmarks/`` on ``sys.path`` and imports it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "examples" / "long_session.txt"
ANNOMI = ROOT.parent / "shared" / "data" / "annomi" / "AnnoMI-full.csv"


# --- the machine's matmul bounds -------------------------------------------------------------------------------

def torch_matmul_bound(dtype, n: int = 4096, repeats: int = 5) -> float:
    """Best TFLOP/s of an n×n by n×n product in ``dtype`` in torch (after a warm-up product)."""
    import torch

    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e12


def ort_matmul_bound(precision: str, threads: int, n: int = 4096, repeats: int = 5) -> float:
    """Best TOPS (int8) or TFLOP/s (fp32) of an n×n by constant n×n product in onnxruntime.

    int8: ``MatMulInteger`` of a uint8 activation by an int8 constant weight into int32, the
    u8×s8 kernel the dynamically quantised network runs; fp32: ``MatMul`` by a constant weight
    (both prepacked by onnxruntime, as the network's weights are). One multiply-add counts 2 ops.
    """
    import numpy as np
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    if precision == "int8":
        a = rng.integers(0, 256, (n, n), dtype=np.uint8)
        w = rng.integers(-127, 128, (n, n), dtype=np.int8)
        node, a_type, y_type = "MatMulInteger", TensorProto.UINT8, TensorProto.INT32
    else:
        a, w = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
        node, a_type, y_type = "MatMul", TensorProto.FLOAT, TensorProto.FLOAT
    graph = helper.make_graph([helper.make_node(node, ["a", "w"], ["y"])], "bound",
                              [helper.make_tensor_value_info("a", a_type, [n, n])],
                              [helper.make_tensor_value_info("y", y_type, [n, n])],
                              initializer=[numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads, options.log_severity_level = threads, 1, 3
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    session.run(None, {"a": a})
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        session.run(None, {"a": a})
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e12


def bf16_units() -> str:
    """``AMX`` or ``AVX-512 BF16`` (or ``none``) from the CPU flags the kernel exposes."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return "unknown"
    if "amx_bf16" in flags:
        return "AMX"
    return "AVX-512 BF16 (no AMX)" if "avx512_bf16" in flags else "none"


def int8_units() -> str:
    """``AMX-INT8``, ``AVX-512 VNNI``, ``AVX-VNNI`` or ``none`` from the CPU flags."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return "unknown"
    for flag, name in (("amx_int8", "AMX-INT8"), ("avx512_vnni", "AVX-512 VNNI"), ("avx_vnni", "AVX-VNNI")):
        if flag in flags:
            return name
    return "none"


# --- realistic input -------------------------------------------------------------------------------------------

def annomi_sessions(limit: int):
    """AnnoMI transcripts as sessions (one annotator's rows per utterance), up to ``limit`` utterances."""
    import pandas as pd

    from coder.session import Session, Utterance

    frame = pd.read_csv(ANNOMI, usecols=["transcript_id", "utterance_id", "interlocutor", "utterance_text"])
    frame = frame.drop_duplicates(["transcript_id", "utterance_id"]).sort_values(["transcript_id", "utterance_id"])
    sessions, n = [], 0
    for tid, rows in frame.groupby("transcript_id", sort=True):
        utts = [Utterance(session_id=str(tid), utterance_id=str(r.utterance_id), turn_id=i, speaker=r.interlocutor,
                          role=r.interlocutor if r.interlocutor in ("therapist", "client") else "other",
                          start=None, end=None, text=str(r.utterance_text))
                for i, r in enumerate(rows.itertuples(index=False))][: limit - n]
        sessions.append(Session(id=str(tid), utterances=utts))
        n += len(utts)
        if n >= limit:
            break
    return sessions


def batches_for(lengths, batch_size: int, sort: bool) -> list[list[int]]:
    """Length-sorted batches (what the predictors do) or batches in reading order."""
    from coder.model.inputs import length_batches

    if sort:
        return length_batches(lengths, batch_size)
    return [list(range(i, min(i + batch_size, len(lengths)))) for i in range(0, len(lengths), batch_size)]


def padding_waste(lengths, batches) -> float:
    """Share of the padded tokens of ``batches`` that are padding."""
    return 1 - sum(lengths) / sum(len(b) * max(lengths[i] for i in b) for b in batches)


# --- where an ONNX pass goes -----------------------------------------------------------------------------------

#: ONNX op types (after onnxruntime's fusions) by what they do in the encoder.
OP_GROUPS = {
    "int8 weight products (with activation quantisation)": {"DynamicQuantizeMatMul", "MatMulIntegerToFloat",
                                                            "DynamicQuantizeLinear", "MatMulInteger"},
    "fp32 products (attention scores and context; every product in onnx-fp32)": {"FusedMatMul", "MatMul", "Gemm"},
    "attention softmax and head transposes (and any Where masking)": {"Where", "Softmax", "Transpose"},
    "LayerNorm, GELU, residual and bias adds": {"SkipLayerNormalization", "LayerNormalization", "Gelu", "FastGelu",
                                                "BiasGelu", "Add", "Erf", "Mul", "Div"},
}

def onnx_op_breakdown(path: Path, encoded, *, pad_id: int, layout, threads: int, batch_size: int) -> dict:
    """Seconds per ONNX op type of one length-sorted pass (after a warm-up pass), from onnxruntime's profiler.

    Collation and score layout are timed around ``session.run``; what the session spends outside
    its nodes (input binding, allocation, thread hand-off) is the run total minus the nodes.
    """
    import onnxruntime

    from coder.model.inputs import collate_arrays
    from coder.model.runtime import raw_scores

    batches = batches_for(encoded.lengths, batch_size, sort=True)
    with tempfile.TemporaryDirectory() as tmp:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads, options.log_severity_level = threads, 1, 3
        options.enable_profiling, options.profile_file_prefix = True, str(Path(tmp) / "profile")
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        outputs = [o.name for o in session.get_outputs()]
        for rep in range(2):
            collate_s = post_s = 0.0
            for index in batches:
                a = time.perf_counter()
                batch = collate_arrays(encoded, index, pad_id)
                roles = batch.pop("roles")
                b = time.perf_counter()
                logits = session.run(outputs, batch)
                c = time.perf_counter()
                raw_scores(logits, roles, layout)
                collate_s, post_s = collate_s + b - a, post_s + time.perf_counter() - c
        events = json.loads(Path(session.end_profiling()).read_text())
    runs = sorted((e for e in events if e.get("name") == "model_run"), key=lambda e: e["ts"])
    timed = runs[len(batches):]  # the second pass
    cutoff = timed[0]["ts"] if timed else 0
    ops: dict[str, float] = {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] >= cutoff:
            op = e.get("args", {}).get("op_name", "?")
            ops[op] = ops.get(op, 0.0) + e["dur"] / 1e6
    run_s = sum(e["dur"] for e in timed) / 1e6
    t = {"padding and collation (collate_arrays)": collate_s,
         **{f"op {k}": v for k, v in sorted(ops.items(), key=lambda kv: -kv[1])},
         "session outside nodes": max(run_s - sum(ops.values()), 0.0),
         "role masking and score layout (raw_scores)": post_s}
    total = sum(t.values())
    groups: dict[str, float] = {}
    for op, v in ops.items():
        name = next((g for g, members in OP_GROUPS.items() if op in members), "other ops")
        groups[name] = groups.get(name, 0.0) + v
    groups["outside the nodes (collation, session, score layout)"] = total - sum(ops.values())
    shown = {k: v for k, v in t.items() if v >= 0.0005 * total}
    shown["ops under 0.05 % of the pass each"] = sum(v for k, v in t.items() if k not in shown)
    return {"runtime_file": path.name, "total_seconds": round(total, 3),
            "groups": {k: {"seconds": round(v, 3), "share": round(v / total, 3)}
                       for k, v in sorted(groups.items(), key=lambda kv: -kv[1])},
            "stages": {k: {"seconds": round(v, 3), "share": round(v / total, 3)} for k, v in shown.items()},
            "note": "op types after onnxruntime's graph optimisation (MatMulIntegerToFloat / DynamicQuantizeMatMul: "
                    "int8 weight products with their activation quantisation; MatMul: fp32 attention scores); "
                    "profiling adds a little overhead"}


# --- fresh processes -------------------------------------------------------------------------------------------

STARTUP = r"""
import time, sys
t_import = time.time()
import coder.model
from coder.model.runtime import load_runtime
t0 = time.time()
clf = load_runtime({model!r}, runtime={runtime!r}, threads={threads})
t1 = time.time()
from coder.pipeline import load_transcripts
sessions = load_transcripts([{example!r}]).sessions
s = sessions[0]
from coder.session import Session
first = [Session(id=s.id, utterances=s.utterances[:64], meta=s.meta, speakers=s.speakers)]
t2 = time.time()
clf.predict_proba(first, batch_size=64)
t3 = time.time()
print(t_import, t0, t1, t2, t3, "transformers" in sys.modules, "torch" in sys.modules, type(clf).__name__)
"""


def startup(model: Path, runtime: str, threads: int, repeats: int) -> dict:
    """Process start to the first batch of 64 coded on ``runtime``, in fresh processes (best of ``repeats``)."""
    from coder.model.runtime import resolve_runtime

    runs = []
    for _ in range(repeats):
        code = STARTUP.format(model=str(model), runtime=runtime, threads=threads, example=str(EXAMPLE))
        begin = time.time()
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
        t_import, t0, t1, t2, t3, hf, torch_in, predictor = out.stdout.split()
        t_import, t0, t1, t2, t3 = map(float, (t_import, t0, t1, t2, t3))
        runs.append({"seconds": round(t3 - begin, 2), "interpreter_start": round(t_import - begin, 2),
                     "imports": round(t0 - t_import, 2), "model_load": round(t1 - t0, 2),
                     "read_and_segment": round(t2 - t1, 2), "first_batch": round(t3 - t2, 2),
                     "transformers_imported": hf == "True", "torch_imported": torch_in == "True",
                     "predictor": predictor})
    best = min(runs, key=lambda r: r["seconds"])
    resolved = resolve_runtime(runtime)
    return {"runtime": runtime if runtime == resolved else f"{runtime} → {resolved}", **best,
            "runs": [r["seconds"] for r in runs],
            **({"onnx_file": "already cached (built before the run; first use: see first_use_onnx_build)"}
               if resolved.startswith("onnx") else {})}


FIRST_USE = r"""
import time
t0 = time.perf_counter()
from coder.model.runtime import ensure_onnx
path = ensure_onnx({model!r}, {runtime!r})
print(time.perf_counter() - t0, path.stat().st_size)
"""


def first_use(model: Path, runtime: str = "onnx-int8") -> dict:
    """Seconds ``ensure_onnx`` takes to build ``runtime``'s file into an empty cache (a fresh process, once)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ALLIANCE_CODER_CACHE": tmp}
        begin = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", FIRST_USE.format(model=str(model), runtime=runtime)],
                             cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        process = time.perf_counter() - begin
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
        seconds, size = out.stdout.split()[-2:]
    return {"runtime": runtime, "seconds": round(float(seconds), 2), "process_seconds": round(process, 2),
            "file_mb": round(int(size) / 1e6, 1),
            "what": "ensure_onnx into an empty $ALLIANCE_CODER_CACHE: importing torch and onnx, loading the "
                    "weights, torch.onnx.export, dynamic int8 quantisation; paid once per model and machine "
                    "(or shared cache)"}


def compile_package() -> dict:
    """Compile the package's bytecode (``python -m compileall coder``) before processes are timed.

    A package installed by pip has its bytecode compiled, and Python caches it on first import;
    but where ``PYTHONDONTWRITEBYTECODE`` is set (as on this project's machines) nothing is
    cached and every process compiles the package's modules again. Timed processes should see
    the package as a user's installation has it.
    """
    begin = time.perf_counter()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "coder")], check=True,
                   capture_output=True)
    return {"compiled": True, "seconds": round(time.perf_counter() - begin, 2),
            "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
            "note": "python -m compileall coder before the timed processes, as pip install leaves a package"}


def end_to_end(model: Path, threads: int, repeats: int, runtime: str | None = None) -> dict:
    """Wall seconds of fresh ``alliance-coder code`` processes on the 47-minute example.

    ``runtime`` None runs the CLI's default (no ``--runtime``); the runtime it used is read
    back from the run's manifest.
    """
    runs, used = [], None
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-m", "coder", "code", str(EXAMPLE), "-o", tmp, "--model", str(model),
                   "--threads", str(threads)] + (["--runtime", runtime] if runtime else [])
            t0 = time.perf_counter()
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
            runs.append(round(time.perf_counter() - t0, 2))
            if done.returncode != 0:
                raise RuntimeError(done.stderr[-2000:])
            try:
                used = json.loads((Path(tmp) / "run.json").read_text())["settings"]["runtime"]
            except (OSError, KeyError, ValueError):
                used = None
    return {"runtime": f"--runtime {runtime}" if runtime else "default (no --runtime)", "runtime_used": used,
            "seconds": min(runs), "median_seconds": round(statistics.median(runs), 2), "runs": runs,
            "what": "fresh process: start-up, model load, read, segment, code, roll-up, tables and HTML report"}
