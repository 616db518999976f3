"""Segmentation throughput on a 10-hour constructed transcript.

Builds the transcript by repeating the embedded 48-minute example session with shifted
timestamps (plain-text format, so the measured path is: decode, parse speaker prefixes,
identify roles, split sentences, share out times), then reports utterances per second.

    python benchmarks/segment_throughput.py [--hours 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import tempfile
import time
from pathlib import Path

from coder.pipeline import load_transcripts

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "examples" / "long_session.txt"
STAMP = re.compile(r"^\[(\d\d):(\d\d):(\d\d)\]")


def build_transcript(hours: float, path: Path) -> int:
    """Write a transcript of at least ``hours`` hours; return the number of turns."""
    lines = [l for l in EXAMPLE.read_text(encoding="utf-8").splitlines() if STAMP.match(l)]
    last = STAMP.match(lines[-1]).groups()
    span = int(last[0]) * 3600 + int(last[1]) * 60 + int(last[2]) + 10
    out, offset = [], 0
    while offset < hours * 3600:
        for line in lines:
            h, m, s = (int(x) for x in STAMP.match(line).groups())
            t = h * 3600 + m * 60 + s + offset
            out.append(f"[{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}]" + line[10:])
        offset += span
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return len(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "segment_throughput.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ten_hours.txt"
        turns = build_transcript(args.hours, path)
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            report = load_transcripts([path])
            times.append(time.perf_counter() - t0)
        assert not report.failures, report.failures
    best = min(times)
    result = {
        "hours": args.hours, "turns": turns, "utterances": report.n_utterances,
        "seconds_best": round(best, 3), "seconds_all": [round(t, 3) for t in times],
        "utterances_per_second": round(report.n_utterances / best),
        "python": platform.python_version(), "machine": platform.machine(),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    print(f"{args.hours:g} h transcript: {turns} turns -> {report.n_utterances} utterances in {best:.2f} s "
          f"(best of {args.repeats}) = {result['utterances_per_second']} utterances/s")


if __name__ == "__main__":
    main()
