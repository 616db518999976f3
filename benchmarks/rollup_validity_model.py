"""Validity of the roll-up with MODEL codes: every AnnoMI transcript coded by a model that did not see it.

Reads the out-of-fold predictions that ``alliance-coder evaluate --cv K --cv-all --out DIR`` writes
(``DIR/cv_predictions.csv``, or the ``cv_fold*_predictions.csv`` of the folds finished so far: ids,
decided codes and ``p_<target>`` probabilities), joins the AnnoMI text and order at run time (never
stored), rolls every transcript up and reports, as ``benchmarks/rollup_validity_human.py`` does for
the human labels, the AUC of each scale for high- versus low-quality MI and the Spearman
correlation with the project's session ratings.

Run: ``.venv/bin/python benchmarks/rollup_validity_model.py DIR [--json OUT]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from rollup_validity_human import figures  # noqa: E402

from coder.data.labels import join_labels  # noqa: E402
from coder.data.ratings import SCALES, load_session_ratings  # noqa: E402
from coder.rollup.mapping import ScaleMapping  # noqa: E402
from coder.session import Session, Utterance  # noqa: E402


def load_predictions(folder: Path) -> pd.DataFrame:
    """All out-of-fold predictions in ``folder`` (the final file, else the per-fold files)."""
    files = [folder / "cv_predictions.csv"] if (folder / "cv_predictions.csv").exists() else sorted(
        folder.glob("cv_fold*_predictions.csv"))
    if not files:
        raise SystemExit(f"{folder}: no cv_predictions.csv or cv_fold*_predictions.csv")
    return pd.concat([pd.read_csv(f, dtype={"transcript_id": str, "utterance_id": str}, keep_default_na=False,
                                  na_values=[""]) for f in files], ignore_index=True)


def model_sessions(pred: pd.DataFrame, joined: pd.DataFrame) -> tuple[list[Session], pd.Series]:
    """One Session per predicted transcript, with the model's codes and probabilities."""
    joined = joined.assign(transcript_id=joined.transcript_id.astype(str), utterance_id=joined.utterance_id.astype(str))
    rows = joined.merge(pred, on=["transcript_id", "utterance_id"], suffixes=("", "_pred"))
    pcols = [c for c in pred.columns if c.startswith("p_")]
    sessions = []
    for tid, group in rows.groupby("transcript_id", sort=False):
        utts, turn, prev = [], -1, None
        for r in group.sort_values("order").to_dict("records"):
            if r["role"] != prev:
                turn, prev = turn + 1, r["role"]
            codes = [c for c in str(r["codes_pred"] or "").split(";") if c and c != "nan"]
            proba = {c[2:]: float(r[c]) for c in pcols if pd.notna(r[c])}
            utts.append(Utterance(session_id=tid, utterance_id=r["utterance_id"], turn_id=turn, speaker=r["role"],
                                  role=r["role"], start=None, end=None, text=str(r["text"]), codes=codes,
                                  meta={"proba": proba}))
        sessions.append(Session(id=tid, utterances=utts))
    quality = rows.groupby("transcript_id", sort=False)["mi_quality"].first()
    return sessions, quality


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "rollup_validity_model.json")
    args = parser.parse_args()
    pred = load_predictions(args.folder)
    sessions, quality = model_sessions(pred, join_labels())
    ratings = load_session_ratings().groupby("transcript_id")[list(SCALES)].mean()
    ratings.index = ratings.index.astype(str)
    result, table, high = figures(sessions, quality, ratings, ScaleMapping())
    result = {"what": "roll-up scores from out-of-fold MODEL codes (each transcript coded by a model that did "
                      "not see it)", "predictions": str(args.folder), "folds": sorted(pred["fold"].unique().tolist()),
              "n_transcripts": int(len(table)), "n_high": int(high.sum()), "n_low": int(len(high) - high.sum()),
              **result}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
