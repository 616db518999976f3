"""What each runtime changes: the shipped model's decisions on AnnoMI under torch (bf16/fp32) and ONNX (fp32/int8).

The question is whether the fast runtimes code like the runtime the model was validated with
(torch, bf16 autocast on CPUs with native bf16, else fp32). For every runtime, on the corpus's
validation and test transcripts (which the shipped weights never trained on; nothing is tuned
here, so the test split is only read):

* decision agreement with the reference runtime: the share of (utterance, target) decisions
  that are equal, the number of utterances whose codes change, and the flips per target;
* the largest and mean absolute difference of the calibrated probabilities;
* per-code F1 with support on the test split and the family macro-F1s, next to the reference's.

    python benchmarks/runtime_agreement.py [--model models/NAME] [--reference torch]

Writes ``benchmarks/results/runtime_agreement.json`` (counts and figures only, no text).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULT = ROOT / "benchmarks" / "results" / "runtime_agreement.json"


def load(model: Path, runtime: str, threads: int):
    """The shipped model on ``runtime``; ``torch-fp32``/``torch-bf16`` force the precision."""
    from coder.model.runtime import load_runtime

    if runtime.startswith("torch"):
        from coder.model.classifier import UtteranceClassifier
        from coder.model.config import bf16_supported

        bf16 = runtime == "torch-bf16"
        if bf16 and not bf16_supported():
            return None
        return UtteranceClassifier.load(model, threads=threads, bf16=bf16)
    return load_runtime(model, runtime=runtime, threads=threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "alliance-minilm-v3")
    parser.add_argument("--runtimes", nargs="+", default=["torch-bf16", "torch-fp32", "onnx-fp32", "onnx-int8"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=RESULT)
    args = parser.parse_args()

    from coder.data.build import build_dataset
    from coder.model.evaluate import evaluate
    from coder.model.predictor import read_model_folder

    cfg = read_model_folder(args.model).config
    corpus = build_dataset(context=cfg.context_size, include_welivita=False)
    splits = {name: [dict(r) for r in corpus[name]] for name in ("validation", "test")}
    results, decisions, probas = {}, {}, {}
    for runtime in args.runtimes:
        model = load(args.model, runtime, args.threads)
        if model is None:
            print(f"{runtime}: not native on this CPU, skipped", flush=True)
            continue
        entry = {}
        for split, records in splits.items():
            t0 = time.perf_counter()
            result = evaluate(model, records, batch_size=64)
            seconds = time.perf_counter() - t0
            names = list(model.layout_.names)
            proba = result.predictions[[f"p_{n}" for n in names]].to_numpy()
            decided = np.array([[n in set(c.split(";")) for n in names] for c in result.predictions["codes"]])
            decisions[(runtime, split)], probas[(runtime, split)] = decided, proba
            entry[split] = {"utterances": len(records), "seconds": round(seconds, 2),
                            "utterances_per_s": round(len(records) / seconds, 1), "summary": result.summary}
            if split == "test":
                entry["test_per_code"] = {code: {"f1": round(float(row.f1), 3), "support": int(row.support)}
                                          for code, row in result.per_code.iterrows()}
        results[runtime] = entry
        print(f"{runtime}: " + ", ".join(f"{s} {e['utterances_per_s']} utt/s" for s, e in entry.items()
                                          if isinstance(e, dict) and "utterances_per_s" in e), flush=True)
    reference = next(iter(results))
    for runtime in results:
        for split in splits:
            ref, got = decisions[(reference, split)], decisions[(runtime, split)]
            flips = {n: int((ref[:, j] != got[:, j]).sum()) for j, n in enumerate(names) if (ref[:, j] != got[:, j]).any()}
            diff = np.abs(probas[(reference, split)] - probas[(runtime, split)])
            results[runtime][split]["against_" + reference] = {
                "decisions_equal": round(float((ref == got).mean()), 5),
                "utterances_with_changed_codes": int((ref != got).any(1).sum()),
                "flips_per_target": flips,
                "max_abs_probability_diff": round(float(diff.max()), 4),
                "mean_abs_probability_diff": round(float(diff.mean()), 5)}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "date": time.strftime("%Y-%m-%d"), "model": args.model.name, "reference": reference,
        "machine": {"platform": platform.platform(), "threads": args.threads,
                    "cpu_flags": sorted({f for f in Path("/proc/cpuinfo").read_text().split()
                                         if f.startswith(("amx", "avx512_bf16", "avx512_vnni", "avx_vnni"))})
                    if os.path.exists("/proc/cpuinfo") else []},
        "runtimes": results}, indent=1) + "\n", encoding="utf-8")
    for runtime, entry in results.items():
        t = entry["test"]
        print(f"{runtime:11s} test: " + " ".join(f"{k}={v:.3f}" for k, v in t["summary"].items()
                                                  if isinstance(v, float)))
        for split in splits:
            a = entry[split]["against_" + reference]
            print(f"   {split}: decisions equal {a['decisions_equal']:.4f}, utterances changed "
                  f"{a['utterances_with_changed_codes']}/{entry[split]['utterances']}, max |dp| "
                  f"{a['max_abs_probability_diff']}")


if __name__ == "__main__":
    main()
