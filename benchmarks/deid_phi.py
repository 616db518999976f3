"""Recall and precision of de-identification per identifier type, on a constructed PHI test set.

The test set (``data/phi/phi_sessions.txt``, compiled here into ``data/phi/phi_testset.jsonl``)
is therapy-like talk written for the project with planted identifiers of every type, including
speaker labels that are names and ordinary words that are also names (Will, May, Hope, Grace,
Bill, Mark...). Its sessions are split in two: ``dev`` (used while writing the recognizers) and
``heldout`` (not looked at until the recognizers were frozen); both are reported.

Scoring, per planted identifier: *caught* when every letter and digit of it lies inside some
placeholder (any type: what matters for privacy), *typed* when inside placeholders of its own
type. A speaker label counts once per session. Per predicted span: *correct* when it overlaps a
planted identifier (precision), *typed* when the identifier is of the span's type.

Run: ``.venv/bin/python benchmarks/deid_phi.py [--show] [--split dev]``; writes
``benchmarks/results/deid_phi.json`` (aggregate numbers only).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SOURCE = ROOT / "data" / "phi" / "phi_sessions.txt"
TESTSET = ROOT / "data" / "phi" / "phi_testset.jsonl"
RESULT = ROOT / "benchmarks" / "results" / "deid_phi.json"
_MARK = re.compile(r"\[\[([A-Z]+):(.+?)\]\]")


def _strip(marked: str) -> tuple[str, list[dict]]:
    """Plain text and the planted spans of a marked-up line."""
    out, spans, last = [], [], 0
    pos = 0
    for m in _MARK.finditer(marked):
        out.append(marked[last:m.start()])
        pos += len(marked[last:m.start()])
        spans.append({"start": pos, "end": pos + len(m.group(2)), "type": m.group(1)})
        out.append(m.group(2))
        pos += len(m.group(2))
        last = m.end()
    out.append(marked[last:])
    return "".join(out), spans


def compile_testset(source: Path = SOURCE) -> list[dict]:
    """Parse the marked-up sessions into records (one per utterance) with planted spans."""
    records, session, split, n = [], None, None, 0
    for no, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("# "):
            continue
        if line.startswith("## "):
            session, split = line[3:].split()
            n = 0
            continue
        speaker, role, text = (part.strip() for part in line.split("|", 2))
        label, speaker_spans = _strip(speaker)
        plain, spans = _strip(text)
        for s in spans:
            assert plain[s["start"]:s["end"]].strip() == plain[s["start"]:s["end"]], f"{source}:{no}: padded span"
        records.append({"session_id": session, "split": split, "utterance_id": str(n), "speaker": label,
                        "speaker_is_name": bool(speaker_spans), "role": role, "text": plain, "spans": spans})
        n += 1
    return records


def _covered(lo: int, hi: int, text: str, preds) -> bool:
    return all(any(p.start <= i < p.end for p in preds) for i in range(lo, hi) if text[i].isalnum())


def score(records: list[dict], *, show: bool = False) -> dict:
    """Per split and type: planted, caught, typed; predicted, correct, typed."""
    from coder.deid import Deidentifier
    from coder.deid.deidentify import is_name_label

    deid = Deidentifier()
    tallies: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    by_session: dict = defaultdict(list)
    for r in records:
        by_session[r["session_id"]].append(r)
    t0 = time.perf_counter()
    for sid, recs in by_session.items():
        split = recs[0]["split"]
        labels = list(dict.fromkeys(r["speaker"] for r in recs))
        found, _ = deid.session_spans([r["text"] for r in recs], speakers=labels)
        for key in (split, "all"):
            t = tallies[key]
            for label in labels:
                planted = any(r["speaker_is_name"] for r in recs if r["speaker"] == label)
                replaced = is_name_label(label)
                if planted:
                    t["NAME"]["planted"] += 1
                    t["NAME"]["caught"] += replaced
                    t["NAME"]["typed"] += replaced
                    t["speaker_label"]["planted"] += 1
                    t["speaker_label"]["caught"] += replaced
                    t["speaker_label"]["typed"] += replaced
                if replaced:
                    t["NAME"]["predicted"] += 1
                    t["NAME"]["correct"] += planted
                    t["NAME"]["pred_typed"] += planted
                if show and key == "all" and planted != replaced:
                    print(f"{sid} speaker {'MISSED' if planted else 'FALSE'}: {label!r}")
            for r, preds in zip(recs, found):
                text = r["text"]
                for g in r["spans"]:
                    caught = _covered(g["start"], g["end"], text, preds)
                    typed = _covered(g["start"], g["end"], text, [p for p in preds if p.type == g["type"]])
                    t[g["type"]]["planted"] += 1
                    t[g["type"]]["caught"] += caught
                    t[g["type"]]["typed"] += typed
                    if show and key == "all" and not typed:
                        what = "MISSED" if not caught else "WRONG TYPE"
                        got = [(p.type, text[p.start:p.end]) for p in preds if p.start < g["end"] and g["start"] < p.end]
                        print(f"{sid}/{r['utterance_id']} {what} {g['type']}: {text[g['start']:g['end']]!r} {got}")
                for p in preds:
                    hits = [g for g in r["spans"] if p.start < g["end"] and g["start"] < p.end]
                    t[p.type]["predicted"] += 1
                    t[p.type]["correct"] += bool(hits)
                    t[p.type]["pred_typed"] += any(g["type"] == p.type for g in hits)
                    if show and key == "all" and not hits:
                        print(f"{sid}/{r['utterance_id']} FALSE {p.type}: {text[p.start:p.end]!r}")
    seconds = time.perf_counter() - t0
    out = {}
    for split, t in tallies.items():
        rows = {}
        for kind, c in sorted(t.items()):
            row = {"planted": c["planted"], "predicted": c["predicted"]}
            if c["planted"]:
                row["recall"] = round(c["caught"] / c["planted"], 3)
                row["recall_typed"] = round(c["typed"] / c["planted"], 3)
            if c["predicted"]:
                row["precision"] = round(c["correct"] / c["predicted"], 3)
                row["precision_typed"] = round(c["pred_typed"] / c["predicted"], 3)
            rows[kind] = row
        total = {k: sum(c[k] for kind, c in t.items() if kind != "speaker_label")
                 for k in ("planted", "caught", "typed", "predicted", "correct", "pred_typed")}
        rows["ALL"] = {"planted": total["planted"], "predicted": total["predicted"],
                       "recall": round(total["caught"] / total["planted"], 3),
                       "recall_typed": round(total["typed"] / total["planted"], 3),
                       "precision": round(total["correct"] / total["predicted"], 3),
                       "precision_typed": round(total["pred_typed"] / total["predicted"], 3)}
        out[split] = rows
    out["_seconds_analysis"] = round(seconds, 1)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", action="store_true", help="Print every miss and false alarm (constructed text).")
    ap.add_argument("--split", choices=["dev", "heldout", "test", "all"], default="all", help="Sessions to score.")
    ap.add_argument("--json", type=Path, default=RESULT)
    args = ap.parse_args(argv)
    records = compile_testset()
    TESTSET.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    if args.split != "all":
        records = [r for r in records if r["split"] == args.split]
    t0 = time.perf_counter()
    from coder.deid.engine import analyzer

    analyzer()
    load = time.perf_counter() - t0
    result = score(records, show=args.show)
    for split in ("dev", "heldout", "test", "all"):
        if split not in result:
            continue
        print(f"== {split} ==")
        print(f"{'type':14}{'planted':>8}{'recall':>8}{'typed':>8}{'pred':>6}{'prec':>7}{'typed':>7}")
        for kind, row in result[split].items():
            print(f"{kind:14}{row['planted']:>8}{row.get('recall', float('nan')):>8.3f}"
                  f"{row.get('recall_typed', float('nan')):>8.3f}{row['predicted']:>6}"
                  f"{row.get('precision', float('nan')):>7.3f}{row.get('precision_typed', float('nan')):>7.3f}")
    if args.split == "all":
        payload = {"testset": str(TESTSET.relative_to(ROOT)), "n_sessions": len({r["session_id"] for r in records}),
                   "n_utterances": len(records), "engine_load_seconds": round(load, 1),
                   "scoring": "recall: planted identifier fully inside placeholders (any type); recall_typed: "
                              "of its own type; precision: predicted span overlaps a planted identifier",
                   **result}
        if args.json.exists():  # carried forward: the held-out half scored once, before its misses were studied
            first = json.loads(args.json.read_text(encoding="utf-8")).get("heldout_first_freeze")
            if first:
                payload["heldout_first_freeze"] = first
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
