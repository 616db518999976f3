"""Rupture episodes from MODEL codes against the episodes of the human codes, on AnnoMI.

Every AnnoMI transcript is coded by a cross-validation model that did not see it (the
out-of-fold predictions of ``alliance-coder evaluate --cv K --cv-all --out DIR``). The episodes
the roll-up finds from those probabilities are matched to the episodes it finds from the human
codes of the same transcript (a match: the marked spans overlap, give or take ``--slack``
utterances). Episode-level precision, recall and F1 are reported over a grid of the episode
rule's ``threshold`` and ``min_mass`` (``coder.rollup.episodes.EpisodeConfig``); the grid point
with the best F1 is how the defaults were chosen — on AnnoMI, never on the embedded examples.
Then, at the default threshold, each human episode with an overlapping model episode is compared
on its family (withdrawal, confrontation, mixed) over a grid of ``mixed_share``, the share of
family probability the smaller family needs before an episode is called mixed (the human
episodes are found with the same rule from hard codes).

Run: ``.venv/bin/python benchmarks/rupture_episodes_model.py DIR [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from rollup_validity_human import human_sessions  # noqa: E402
from rollup_validity_model import load_predictions, model_sessions  # noqa: E402

from coder.data.labels import join_labels  # noqa: E402
from coder.rollup.episodes import EpisodeConfig, find_episodes  # noqa: E402
from coder.rollup.features import utterance_table  # noqa: E402

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
MIN_MASS = (0.0, 1.0, 1.5, 2.0)
MIXED_SHARE = (0.0, 0.2, 0.25, 1 / 3, 0.4)


def spans(frame: pd.DataFrame) -> list[tuple[int, int]]:
    return list(zip(frame["first_position"], frame["last_position"]))


def match(found: list[tuple[int, int]], truth: list[tuple[int, int]], slack: int) -> tuple[int, int]:
    """(found spans that overlap a true one, true spans that overlap a found one)."""
    hit = lambda a, b: a[0] <= b[1] + slack and b[0] <= a[1] + slack  # noqa: E731
    return sum(any(hit(f, t) for t in truth) for f in found), sum(any(hit(t, f) for f in found) for t in truth)


def agreement(model_tables, human_eps, config: EpisodeConfig, slack: int) -> dict:
    n_found = n_true = tp_found = tp_true = 0
    for sid, utts in model_tables.items():
        found, truth = spans(find_episodes(utts, config)), human_eps.get(sid, [])
        a, b = match(found, truth, slack)
        n_found, n_true, tp_found, tp_true = n_found + len(found), n_true + len(truth), tp_found + a, tp_true + b
    precision = tp_found / n_found if n_found else float("nan")
    recall = tp_true / n_true if n_true else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if n_found and precision + recall else 0.0
    return {"threshold": config.threshold, "min_mass": config.min_mass, "model_episodes": n_found,
            "human_episodes": n_true, "precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}


def family_agreement(model_tables, human_tables, config: EpisodeConfig, slack: int) -> dict:
    """Family accuracy over human episodes matched by a model episode (the most overlapping one)."""
    pairs = []
    for sid, utts in model_tables.items():
        found, truth = find_episodes(utts, config), find_episodes(human_tables[sid], config)
        for t in truth.itertuples(index=False):
            lo, hi = t.first_position - slack, t.last_position + slack
            overlap = (found["last_position"].clip(upper=hi) - found["first_position"].clip(lower=lo))
            best = overlap[overlap >= 0]
            if len(best):
                pairs.append((t.family, found.loc[best.idxmax(), "family"]))
    frame = pd.DataFrame(pairs, columns=["human", "model"])
    counts = frame.value_counts().rename("n").reset_index()
    return {"mixed_share": config.mixed_share, "matched": len(frame),
            "family_accuracy": round(float((frame["human"] == frame["model"]).mean()), 3) if len(frame) else None,
            "model_mixed": int((frame["model"] == "mixed").sum()), "human_mixed": int((frame["human"] == "mixed").sum()),
            "pairs": counts.to_dict(orient="records")}


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--slack", type=int, default=2, help="Utterances of slack when matching spans.")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "rupture_episodes_model.json")
    args = parser.parse_args()
    joined = join_labels()
    sessions, _ = model_sessions(load_predictions(args.folder), joined)
    model_tables = {s.id: utterance_table(s) for s in sessions}
    humans, _ = human_sessions(joined)
    base = EpisodeConfig()
    human_tables = {s.id: utterance_table(s, use_proba=False) for s in humans if s.id in model_tables}
    human_eps = {sid: spans(find_episodes(t, base)) for sid, t in human_tables.items()}
    grid = [agreement(model_tables, human_eps, replace(base, threshold=t, min_mass=m), args.slack)
            for t in THRESHOLDS for m in MIN_MASS]
    best = max(grid, key=lambda r: r["f1"])
    result = {"what": "rupture episodes from out-of-fold MODEL probabilities vs from the human codes (AnnoMI)",
              "predictions": str(args.folder), "n_transcripts": len(model_tables), "slack_utterances": args.slack,
              "grid": grid, "best": best,
              "family": [family_agreement(model_tables, human_tables, replace(base, mixed_share=m), args.slack)
                         for m in MIXED_SHARE]}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    out = main()
    print(pd.DataFrame(out["grid"]).to_string(index=False))
    print("best:", out["best"])
    print(pd.DataFrame(out["family"]).drop(columns="pairs").to_string(index=False))
