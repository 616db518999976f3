"""Classifier inference speed on CPU: utterances/s and peak memory per batch size, bf16 vs fp32.

Also times the whole ``code`` path on the embedded 48-minute example session (read, segment,
classify, write both tables) in-process and as a fresh ``alliance-coder code`` process, and
prints the encoder's FLOP bound: the peak bf16 matrix-multiply rate measured here divided
by the FLOPs one utterance costs at the measured mean input length.

Without ``--model`` it uses the packaged all-MiniLM-L6-v2 with random heads (same cost as a
fine-tuned model: the heads are three small linear layers).

    python benchmarks/inference_speed.py [--model models/NAME] [--batch-sizes 1 2 4 8 16 32 64]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EXAMPLE = ROOT / "data" / "examples" / "long_session.txt"


def matmul_peak(dtype, n: int = 4096, repeats: int = 5) -> float:
    """Best TFLOP/s of an n×n by n×n matrix product in ``dtype``."""
    import torch

    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e12


def flops_per_utterance(config, length: float) -> float:
    """Forward FLOPs of a BERT encoder on one input of ``length`` tokens (matmuls only)."""
    h, inter, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    per_layer = 2 * length * (4 * h * h + 2 * h * inter) + 2 * 2 * length * length * h
    return layers * per_layer


def _script(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


def worker(args) -> None:
    """One configuration in a fresh process: best-of-N seconds and this process's peak RSS."""
    import torch

    clf, sessions = _load(args)
    clf.config.bf16 = args.dtype == "bf16"
    if args.utterances:
        from coder.session import Session

        s = sessions[0]
        sessions = [Session(id=s.id, utterances=s.utterances[:args.utterances], meta=s.meta, speakers=s.speakers)]
    n = sum(len(s.utterances) for s in sessions)
    clf.predict_proba(sessions, batch_size=args.batch_size)  # warm-up: oneDNN kernels for these shapes
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        clf.predict_proba(sessions, batch_size=args.batch_size)
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"dtype": args.dtype, "batch_size": args.batch_size, "utterances": n,
                      "seconds": round(min(times), 3), "utterances_per_s": round(n / min(times), 1),
                      "median_utterances_per_s": round(n / sorted(times)[len(times) // 2], 1),
                      "peak_rss_mb": round(peak, 1), "threads": torch.get_num_threads()}))


def _load(args):
    from coder.model import load
    from coder.model.classifier import TrainConfig, UtteranceClassifier
    from coder.pipeline import load_transcripts

    clf = load(args.model, threads=args.threads) if args.model else UtteranceClassifier.untrained(
        TrainConfig(threads=args.threads), version="minilm-random-heads")
    return clf, load_transcripts([EXAMPLE]).sessions


def run_worker(args, dtype: str, batch_size: int, utterances: int | None) -> dict:
    cmd = _script("--worker", "--dtype", dtype, "--batch-size", str(batch_size), "--repeats", str(args.repeats))
    if utterances:
        cmd += ["--utterances", str(utterances)]
    if args.model:
        cmd += ["--model", str(args.model)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def end_to_end(model_dir: Path, threads: int | None, repeats: int) -> dict:
    """Wall seconds (best and all) and peak RSS of fresh ``alliance-coder code`` processes on the example."""
    script = ("import sys; import coder.cli_model; from coder.cli import app; "
              "sys.argv = ['alliance-coder'] + sys.argv[1:]; app()")
    runs, peak = [], 0
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [sys.executable, "-c", script, "code", str(EXAMPLE), "--out", tmp, "--model", str(model_dir)]
            cmd += ["--threads", str(threads)] if threads else []
            t0 = time.perf_counter()
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            runs.append(round(time.perf_counter() - t0, 2))
            if done.returncode != 0:
                raise RuntimeError(done.stderr)
            peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return {"seconds": min(runs), "runs": runs, "peak_rss_mb": round(peak / 1024, 1),
            "what": "fresh process: interpreter start, imports, model load, read, segment, code (bf16, batch 64), "
                    "write utterances.csv and codes_long.csv"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="Saved model folder; default MiniLM with random heads.")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64])
    parser.add_argument("--repeats", type=int, default=3, help="Timed runs per configuration (best is kept).")
    parser.add_argument("--small-batch-utterances", type=int, default=192,
                        help="Utterances timed for batch sizes below 8 (they are slow).")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "inference_speed.json")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dtype", default="bf16", help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=64, help=argparse.SUPPRESS)
    parser.add_argument("--utterances", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    import torch

    from coder.model.config import available_cores, bf16_supported
    from coder.model.inputs import encode, session_examples

    t0 = time.perf_counter()
    clf, sessions = _load(args)
    load_seconds = time.perf_counter() - t0
    threads = args.threads or available_cores()
    torch.set_num_threads(threads)
    n_utts = sum(len(s.utterances) for s in sessions)
    enc = encode(clf.tokenizer_, session_examples(sessions, clf.cfg.context_size), clf.cfg.max_length)
    mean_len = sum(enc.lengths) / len(enc)
    flops = flops_per_utterance(clf.network_.encoder.config, mean_len)
    peak_bf16 = matmul_peak(torch.bfloat16) if bf16_supported() else None
    peak_fp32 = matmul_peak(torch.float32)
    print(f"{n_utts} utterances, mean input {mean_len:.1f} tokens (context {clf.cfg.context_size}), "
          f"{flops / 1e9:.2f} GFLOP each; matmul peak bf16 {peak_bf16 or 0:.2f}, fp32 {peak_fp32:.2f} TFLOP/s; "
          f"{threads} threads; load average {os.getloadavg()[0]:.1f}", flush=True)

    rows = []
    for dtype in (["bf16", "fp32"] if bf16_supported() else ["fp32"]):
        for bs in args.batch_sizes:
            rows.append(run_worker(args, dtype, bs, args.small_batch_utterances if bs < 8 else None))
            print(json.dumps(rows[-1]), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = args.model or clf.save(Path(tmp) / "random-heads")
        fresh = end_to_end(model_dir, args.threads, args.repeats)
    print(json.dumps({"end_to_end": fresh}), flush=True)

    best = max(r["utterances_per_s"] for r in rows)
    bound = (peak_bf16 or peak_fp32) * 1e12 / flops
    result = {
        "machine": {"platform": platform.platform(), "threads": threads, "bf16_autocast": bf16_supported(),
                    "torch": torch.__version__, "load_average_at_start": round(os.getloadavg()[0], 2)},
        "model": str(args.model) if args.model else "all-MiniLM-L6-v2 (packaged) + random heads",
        "model_load_seconds": round(load_seconds, 2),
        "session": {"file": EXAMPLE.relative_to(ROOT).as_posix(), "utterances": n_utts,
                    "minutes": round((sessions[0].duration or 0) / 60, 1)},
        "mean_input_tokens": round(mean_len, 1),
        "gflop_per_utterance": round(flops / 1e9, 3),
        "matmul_peak_tflops": {"bf16": round(peak_bf16, 3) if peak_bf16 else None, "fp32": round(peak_fp32, 3)},
        "flop_bound_utterances_per_s": round(bound, 1),
        "best_utterances_per_s": best,
        "share_of_bound": round(best / bound, 3),
        "throughput": rows,
        "end_to_end": fresh,
        "notes": "each throughput row is a fresh process (peak RSS is that process's), best of --repeats runs "
                 "after one warm-up; batch sizes below 8 time the first --small-batch-utterances utterances",
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"FLOP bound {bound:.0f} utt/s ({(peak_bf16 or peak_fp32):.2f} TFLOP/s ÷ {flops / 1e9:.2f} GFLOP); "
          f"best measured {best:.0f} utt/s = {best / bound:.0%} of it")
    print(f"end to end (fresh process): {fresh['seconds']:.1f} s, peak {fresh['peak_rss_mb']:.0f} MB "
          f"→ {args.json.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
