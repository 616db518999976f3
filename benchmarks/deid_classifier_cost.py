"""What de-identification costs the classifier: test-split scores on original vs de-identified text.

The corpus test split (``coder.data.build.build_dataset``, AnnoMI transcripts held out from
training) is scored twice with the shipped model: once as it is, once with every utterance's
``text`` de-identified (each transcript as one session, so placeholders are consistent within
it) and its ``context`` rebuilt from the de-identified previous utterances, which is the same
as de-identifying the context with the transcript's placeholders. The script first checks that
rebuilding the context from the original texts reproduces the corpus's context exactly.

Run: ``.venv/bin/python benchmarks/deid_classifier_cost.py`` (a few CPU minutes); writes
``benchmarks/results/deid_classifier_cost.json`` (aggregate numbers only, no text).
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULT = ROOT / "benchmarks" / "results" / "deid_classifier_cost.json"


def _contexts(records, texts, size):
    from coder.data.build import format_context
    from coder.data.constructed import mark

    out, history, current = [], [], None
    for r, text in zip(records, texts):
        if r["transcript_id"] != current:
            current, history = r["transcript_id"], []
        out.append(format_context(history, size))
        history.append(mark(r['role'], text))
    return out


def main() -> None:
    from coder.data.build import build_dataset
    from coder.deid import Deidentifier
    from coder.model import default_model_path, load
    from coder.model.evaluate import evaluate

    t0 = time.perf_counter()
    clf = load(default_model_path())
    size = clf.cfg.context_size
    test = [dict(r) for r in build_dataset(context=size, include_welivita=False)["test"]]
    rebuilt = _contexts(test, [r["text"] for r in test], size)
    mismatches = sum(a != r["context"] for a, r in zip(rebuilt, test))
    if mismatches:
        raise SystemExit(f"context rebuild differs from the corpus on {mismatches} record(s); not comparable")

    deid, t1 = Deidentifier(), time.perf_counter()
    texts, counts, order = [], Counter(), []
    for tid in dict.fromkeys(r["transcript_id"] for r in test):
        recs = [r for r in test if r["transcript_id"] == tid]
        new, c, _ = deid.deidentify_texts([r["text"] for r in recs])
        texts += new
        counts += c
        order += recs
    assert [r["example_id"] for r in order] == [r["example_id"] for r in test]
    deid_seconds = time.perf_counter() - t1
    deidentified = [dict(r, text=t, context=c) for r, t, c in zip(test, texts, _contexts(test, texts, size))]
    changed = sum(a["text"] != b["text"] for a, b in zip(test, deidentified))

    original = evaluate(clf, test).summary
    after = evaluate(clf, deidentified).summary
    rows = {k: {"original": round(original[k], 4), "deidentified": round(after[k], 4),
                "change": round(after[k] - original[k], 4)} for k in original}
    payload = {"model": clf.coder_id, "split": "test", "n_utterances": len(test),
               "n_transcripts": len({r["transcript_id"] for r in test}),
               "utterances_changed": changed, "replacements": {k: v for k, v in sorted(counts.items()) if v},
               "deidentify_seconds": round(deid_seconds, 1), "total_seconds": round(time.perf_counter() - t0, 1),
               "headline": rows}
    RESULT.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"{'metric':30}{'original':>10}{'deid':>10}{'change':>10}")
    for k, v in rows.items():
        print(f"{k:30}{v['original']:>10.3f}{v['deidentified']:>10.3f}{v['change']:>+10.3f}")
    print(f"{changed}/{len(test)} utterances changed; replacements {dict(counts)}; wrote {RESULT}")


if __name__ == "__main__":
    main()
