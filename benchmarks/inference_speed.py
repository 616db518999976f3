"""Classifier speed on CPU: each runtime against the matmul bound of its precision, where the time goes, start-up, end to end.

Measures, on this machine, with ``--threads`` (default 2) threads:

* the matmul bounds: best TFLOP/s of a 4096² matrix product in torch (bf16, fp32) and in
  onnxruntime (fp32 ``MatMul``; int8 ``MatMulInteger`` of uint8 activations by int8 weights,
  in TOPS), each best of 5 after a warm-up, measured before and after the throughput rows (the
  better kept); which units run bf16 (AMX or AVX-512 BF16) and int8 (AMX-INT8 or VNNI);
* throughput at batch 64 on realistic input: AnnoMI utterances with their two-utterance
  context, read from ``../shared/data/annomi`` at run time (no text is stored, only counts),
  pre-tokenised once, for each runtime (``torch-bf16``, ``torch-fp32``, ``onnx-fp32``,
  ``onnx-int8``), with length-sorted batches (what the predictors do) and in reading order,
  best of ``--repeats`` after a warm-up pass; only the network and the score layout are timed
  (torch: ``collate`` + network + ``raw_scores``; ONNX: ``collate_arrays`` + ``session.run`` +
  ``runtime.raw_scores``). Each row's ``share_of_bound`` is against the bound of its own
  precision (int8 rows: int8; fp32 rows: the better fp32 bound), ``share_of_bf16_bound`` against bf16;
* where a pass goes: per stage of one length-sorted torch pass (tokenisation, padding/collation,
  embeddings, attention, feed-forward, heads, post-processing), and per ONNX op type of one
  length-sorted pass of the default runtime (onnxruntime's profiler); the padding waste of both orders;
* start-up to the first batch, for the default runtime (``auto``) and for ``torch``: a fresh
  process that imports, loads the shipped model with ``load_runtime``, reads the 47-minute
  example and codes its first 64 utterances (the ONNX file already cached), and whether torch
  was imported;
* first use: the seconds ``ensure_onnx`` takes to build the int8 file into an empty cache;
* end to end: fresh ``alliance-coder code data/examples/long_session.txt -o TMP`` processes,
  default runtime and ``--runtime torch``;
* a projection (not a measurement) of hours for 10,000 such sessions on one machine and on N
  Ray workers, from the default runtime's measured per-session time.

    python benchmarks/inference_speed.py [--model models/NAME] [--utterances 1280] [--repeats 3] [--process-repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
RESULT = ROOT / "benchmarks" / "results" / "inference_speed.json"

from _speed_parts import (
    ANNOMI,
    annomi_sessions,
    batches_for,
    bf16_units,
    compile_package,
    end_to_end,
    first_use,
    int8_units,
    onnx_op_breakdown,
    ort_matmul_bound,
    padding_waste,
    startup,
    torch_matmul_bound,
)

PRECISION = {"torch-bf16": "bf16", "torch-fp32": "fp32", "onnx-fp32": "fp32", "onnx-int8": "int8"}


def row(runtime: str, sort: bool, batch_size: int, lengths, batches, best: float) -> dict:
    return {"runtime": runtime, "dtype": PRECISION[runtime], "batching": "length-sorted" if sort else "reading order",
            "batch_size": batch_size, "utterances": len(lengths), "seconds": round(best, 3),
            "utterances_per_s": round(len(lengths) / best, 1),
            "padding_waste": round(padding_waste(lengths, batches), 3)}


def throughput_torch(clf, encoded, *, bf16: bool, sort: bool, batch_size: int, repeats: int) -> dict:
    """Best-of-``repeats`` utterances/s of the torch network on pre-tokenised input."""
    import torch

    from coder.model.inputs import collate

    batches = batches_for(encoded.lengths, batch_size, sort)
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else torch.autocast("cpu", enabled=False)
    net, pad = clf.network_, clf.tokenizer_.pad_token_id or 0
    best = float("inf")
    with torch.inference_mode(), ctx:
        for rep in range(repeats + 1):  # the first pass warms oneDNN's kernels for these shapes
            t0 = time.perf_counter()
            for index in batches:
                batch = collate(encoded, index, pad)
                roles = batch.pop("roles")
                net.raw_scores(net(**batch), roles)
            if rep:
                best = min(best, time.perf_counter() - t0)
    return row("torch-bf16" if bf16 else "torch-fp32", sort, batch_size, encoded.lengths, batches, best)


def throughput_onnx(pred, encoded, *, sort: bool, batch_size: int, repeats: int) -> dict:
    """Best-of-``repeats`` utterances/s of an ``OnnxPredictor``'s session on pre-tokenised input."""
    from coder.model.inputs import collate_arrays
    from coder.model.runtime import raw_scores

    batches = batches_for(encoded.lengths, batch_size, sort)
    pad = pred.tokenizer_.pad_token_id or 0
    best = float("inf")
    for rep in range(repeats + 1):  # the first pass warms onnxruntime's allocations for these shapes
        t0 = time.perf_counter()
        for index in batches:
            batch = collate_arrays(encoded, index, pad)
            roles = batch.pop("roles")
            raw_scores(pred.session_.run(pred.outputs_, batch), roles, pred.layout_)
        if rep:
            best = min(best, time.perf_counter() - t0)
    return row(pred.runtime, sort, batch_size, encoded.lengths, batches, best)
def stage_breakdown(clf, sessions, *, bf16: bool, batch_size: int) -> dict:
    """Seconds per stage of one length-sorted pass (after a warm-up pass), from module hooks."""
    import torch

    from coder.model import bert
    from coder.model.inputs import collate, encode, length_batches, session_examples

    net, pad = clf.network_, clf.tokenizer_.pad_token_id or 0
    spent: dict[str, float] = {}
    starts: dict[int, float] = {}

    def hook(name):
        def pre(module, args):
            starts[id(module)] = time.perf_counter()

        def post(module, args, out):
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - starts.pop(id(module))
        return pre, post

    named = [(net.encoder.embeddings, "embeddings")]
    for layer in net.encoder.encoder.layer:
        named += [(layer.attention.self, "attention (q/k/v projections + SDPA)"),
                  (layer.attention.output, "attention output projection + LayerNorm"),
                  (layer.intermediate.dense, "feed-forward up projection"),
                  (layer.output, "feed-forward down projection + LayerNorm")]
    handles = []
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else torch.autocast("cpu", enabled=False)
    for rep in range(2):
        spent.clear()
        t = {}
        t0 = time.perf_counter()
        encoded = encode(clf.tokenizer_, session_examples(sessions, clf.cfg.context_size), clf.cfg.max_length)
        t["tokenisation and input assembly"] = time.perf_counter() - t0
        collate_s = forward_s = post_s = 0.0
        if rep == 1:
            for module, name in named:
                pre, post = hook(name)
                handles += [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]
            pre, post = hook("encoder total")
            handles += [net.encoder.register_forward_pre_hook(pre), net.encoder.register_forward_hook(post)]
        with torch.inference_mode(), ctx:
            for index in length_batches(encoded.lengths, batch_size):
                a = time.perf_counter()
                batch = collate(encoded, index, pad)
                roles = batch.pop("roles")
                b = time.perf_counter()
                logits = net(**batch)
                c = time.perf_counter()
                net.raw_scores(logits, roles).numpy()
                d = time.perf_counter()
                collate_s, forward_s, post_s = collate_s + b - a, forward_s + c - b, post_s + d - c
        for h in handles:
            h.remove()
        handles.clear()
    encoder_total = spent.pop("encoder total")
    inner = sum(spent.values())
    t["padding and collation"] = collate_s
    t.update(spent)
    t["GELU, residual glue and Python between modules"] = encoder_total - inner
    t["pooling and heads"] = forward_s - encoder_total
    t["role masking and score layout"] = post_s
    total = sum(t.values())
    return {"total_seconds": round(total, 3),
            "stages": {k: {"seconds": round(v, 3), "share": round(v / total, 3)} for k, v in t.items()},
            "note": "module hooks add a little overhead; bert.BertEncoder layers are timed on the CPU clock "
                    "(CPU ops are synchronous)", "encoder": type(net.encoder).__name__,
            "bert_module": bert.__name__}



def measure_bounds(threads: int, before: dict | None = None) -> dict:
    """Matmul bounds by library and precision (TFLOP/s; int8 TOPS), the better of this and ``before``."""
    import torch

    now = {"torch bf16": torch_matmul_bound(torch.bfloat16), "torch fp32": torch_matmul_bound(torch.float32),
           "onnxruntime fp32": ort_matmul_bound("fp32", threads), "onnxruntime int8": ort_matmul_bound("int8", threads)}
    return {k: max(v, (before or {}).get(k, 0.0)) for k, v in now.items()}


def by_precision(bounds: dict) -> dict:
    return {"bf16": bounds["torch bf16"], "fp32": max(bounds["torch fp32"], bounds["onnxruntime fp32"]),
            "int8": bounds["onnxruntime int8"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "alliance-minilm-v3")
    parser.add_argument("--utterances", type=int, default=1280, help="AnnoMI utterances timed for throughput.")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="Timed passes per throughput row (after a warm-up).")
    parser.add_argument("--process-repeats", type=int, default=3, help="Fresh processes for start-up and end to end.")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 8, 32, 100],
                        help="Ray worker counts of the 10,000-session projection.")
    parser.add_argument("--json", type=Path, default=RESULT)
    args = parser.parse_args()

    import onnxruntime
    import torch

    from coder.model.bert import flops_per_token
    from coder.model.config import bf16_supported
    from coder.model.inputs import encode, session_examples
    from coder.model.runtime import ensure_onnx, load_runtime, resolve_runtime

    torch.set_num_threads(args.threads)
    load_avg = os.getloadavg()[0]
    default = resolve_runtime("auto")
    default_row = default if default != "torch" else ("torch-bf16" if bf16_supported() else "torch-fp32")
    bounds = measure_bounds(args.threads)
    units = {"bf16": bf16_units(), "int8": int8_units()}
    print("matmul bounds on {} threads: {}; bf16 units {bf16}, int8 units {int8}; load average {:.1f}".format(
        args.threads, ", ".join(f"{k} {v:.3f}" for k, v in bounds.items()), load_avg, **units), flush=True)

    clf = load_runtime(args.model, runtime="torch", threads=args.threads)
    onnx = {rt: load_runtime(args.model, runtime=rt, threads=args.threads) for rt in ("onnx-fp32", "onnx-int8")}
    if not ANNOMI.is_file():
        raise SystemExit(f"{ANNOMI}: AnnoMI is not beside the repository")
    sessions = annomi_sessions(args.utterances)
    encoded = encode(clf.tokenizer_, session_examples(sessions, clf.cfg.context_size), clf.cfg.max_length)
    mean_len = sum(encoded.lengths) / len(encoded)
    config = clf.network_.encoder.config
    flop_utt = flops_per_token(config, mean_len) * mean_len
    fp32_share = 4 * mean_len / (2 * (4 * config.hidden_size + 2 * config.intermediate_size) + 4 * mean_len)
    rows = []
    for runtime in ("torch-bf16", "torch-fp32", "onnx-fp32", "onnx-int8"):
        for sort in (True, False):
            if runtime.startswith("torch"):
                rows.append(throughput_torch(clf, encoded, bf16=runtime == "torch-bf16", sort=sort,
                                             batch_size=args.batch_size, repeats=args.repeats))
            else:
                rows.append(throughput_onnx(onnx[runtime], encoded, sort=sort, batch_size=args.batch_size,
                                            repeats=args.repeats))
            print(json.dumps(rows[-1]), flush=True)
    # the bounds are re-measured after the throughput rows and the better figures kept: on a shared
    # machine one measurement can catch other load and understate what the cores can do
    bounds = measure_bounds(args.threads, bounds)
    bound = by_precision(bounds)
    for r in rows:
        r["share_of_bound"] = round(r["utterances_per_s"] * flop_utt / (bound[r["dtype"]] * 1e12), 3)
        r["share_of_bf16_bound"] = round(r["utterances_per_s"] * flop_utt / (bound["bf16"] * 1e12), 3)
    best = max(rows, key=lambda r: r["utterances_per_s"])
    mine = next(r for r in rows if r["runtime"] == default_row and r["batching"] == "length-sorted")
    best_torch = max((r for r in rows if r["runtime"].startswith("torch")), key=lambda r: r["utterances_per_s"])
    stages = stage_breakdown(clf, sessions, bf16=best_torch["dtype"] == "bf16", batch_size=args.batch_size)
    stages["runtime"] = best_torch["runtime"]
    print(json.dumps(stages, indent=1), flush=True)
    onnx_stages = None
    if default.startswith("onnx"):
        pred = onnx[default]
        onnx_stages = onnx_op_breakdown(ensure_onnx(args.model, default), encoded, pad_id=pred.tokenizer_.pad_token_id
                                        or 0, layout=pred.layout_, threads=args.threads, batch_size=args.batch_size)
        print(json.dumps(onnx_stages, indent=1), flush=True)

    bytecode = compile_package()
    start = startup(args.model, "auto", args.threads, args.process_repeats)
    start_torch = startup(args.model, "torch", args.threads, args.process_repeats)
    print(json.dumps({"startup": start, "startup_torch": start_torch}), flush=True)
    built = first_use(args.model) if default.startswith("onnx") else None
    print(json.dumps({"first_use_onnx_build": built}), flush=True)
    e2e = end_to_end(args.model, args.threads, args.process_repeats)
    e2e_torch = end_to_end(args.model, args.threads, args.process_repeats, runtime="torch")
    print(json.dumps({"end_to_end": e2e, "end_to_end_torch": e2e_torch}), flush=True)

    per_session = max(e2e["seconds"] - start["interpreter_start"] - start["imports"] - start["model_load"], 0.0)
    per_worker = start["seconds"] + (built["seconds"] if built else 0.0)
    one = 10_000 * per_session / 3600
    projection = {"sessions": 10_000, "runtime": start["runtime"], "per_session_seconds": round(per_session, 2),
                  "per_worker_seconds": round(per_worker, 2), "one_machine_hours": round(one, 1),
                  "ray_workers_hours": {str(n): round(one / n + per_worker / 3600, 2) for n in args.workers},
                  "note": "a projection, not a measurement: 10,000 sessions the size of the 47-minute example, "
                          "default runtime, per-session time = measured end to end minus start-up, paid once per "
                          "worker with the first-use ONNX build; each worker a machine like this one "
                          f"({args.threads} threads), no scheduling or I/O overhead"}
    result = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": {"platform": platform.platform(), "cpu": platform.processor() or "", "threads": args.threads,
                    "bf16_units": units["bf16"], "int8_units": units["int8"], "torch": torch.__version__,
                    "onnxruntime": onnxruntime.__version__, "load_average_at_start": round(load_avg, 2),
                    "load_average_at_end": round(os.getloadavg()[0], 2)},
        "matmul_bound_tflops": {**{k: round(v, 3) for k, v in bound.items()},
                                "by_library": {k: round(v, 3) for k, v in bounds.items()},
                                "note": "4096² products, best of 5 after a warm-up, before and after the throughput "
                                        "rows (better kept); int8 in TOPS (u8×s8 MatMulInteger into int32); fp32 "
                                        "= the better of torch and onnxruntime"},
        "input": {"source": "AnnoMI (read at run time; only counts stored)", "utterances": len(encoded),
                  "context_utterances": clf.cfg.context_size, "mean_tokens": round(mean_len, 1),
                  "gflop_per_utterance": round(flop_utt / 1e9, 3),
                  "note": "matmul FLOPs; in the int8 export the attention-score products "
                          f"({fp32_share:.1%} of them) stay fp32"},
        "bound_utterances_per_s": {k: round(v * 1e12 / flop_utt, 1) for k, v in bound.items()},
        "throughput": rows,
        "default_runtime": {"runtime": f"auto → {default}", **{k: mine[k] for k in (
            "dtype", "batching", "utterances_per_s", "share_of_bound", "share_of_bf16_bound")}},
        "best": {k: best[k] for k in ("runtime", "dtype", "batching", "utterances_per_s", "share_of_bound",
                                      "share_of_bf16_bound")},
        "stages": stages,
        "onnx_stages": onnx_stages,
        "package_bytecode": bytecode,
        "startup_to_first_batch": start,
        "startup_to_first_batch_torch": start_torch,
        "first_use_onnx_build": built,
        "end_to_end_long_session": e2e,
        "end_to_end_long_session_torch": e2e_torch,
        "projection_10000_sessions": projection,
        "model": args.model.name,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    shown = args.json.relative_to(ROOT) if args.json.resolve().is_relative_to(ROOT) else args.json
    first = f"; first use builds the ONNX file in {built['seconds']:.1f} s" if built else ""
    where = "; its pass: " + " / ".join(f"{k.split(' (')[0]} {v['share']:.0%}" for k, v in
                                       list(onnx_stages["groups"].items())[:3]) if onnx_stages else ""
    print(f"default {default} {mine['utterances_per_s']:.0f} utt/s (length-sorted) = {mine['share_of_bound']:.0%} "
          f"of the {mine['dtype']} bound ({bound[mine['dtype']]:.2f}), {mine['share_of_bf16_bound']:.0%} of the bf16 "
          f"bound ({bound['bf16']:.2f} TFLOP/s){where}; best {best['runtime']} {best['utterances_per_s']:.0f} utt/s; start-up "
          f"{start['seconds']:.2f} s (torch imported: {'yes' if start['torch_imported'] else 'no'}; --runtime torch "
          f"{start_torch['seconds']:.2f} s); end to end {e2e['seconds']:.2f} s (--runtime torch {e2e_torch['seconds']:.2f}"
          f" s; median {e2e['median_seconds']:.2f} s){first} → {shown}")


if __name__ == "__main__":
    main()
