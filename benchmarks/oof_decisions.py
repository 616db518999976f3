"""Per-code decisions from the whole corpus's out-of-fold predictions (issue 11, part 1).

1. Nested judgement over all 105 AnnoMI transcripts: for each fold, thresholds fitted on the
   other folds' out-of-fold probabilities decide the held-out fold; pooled per-code precision,
   recall, F1 and predicted/labelled ratio, and the reliable flag (F1 >= 0.30).
2. Thresholds to ship: fitted once on the out-of-fold predictions of the train + validation
   transcripts only, so the 21-transcript test split stays a clean check.
3. That check: the shipped model on the test split with its old (validation-tuned) thresholds
   and with the new ones, per code.
4. Rupture episodes from the nested decisions against episodes built from the labels
   (``coder.model.episode_agreement``: marker utterances at most 3 apart form one episode; a
   match overlaps within 1 utterance).

Run: ``.venv/bin/python benchmarks/oof_decisions.py MODEL_DIR [--write]``; ``--write`` puts the
thresholds into ``MODEL_DIR/thresholds.json`` and the flags into ``MODEL_DIR/labels.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coder.data.annomi import transcript_metadata  # noqa: E402
from coder.data.build import build_dataset, split_transcripts  # noqa: E402
from coder.model.decisions import DecisionConfig, DecisionFit, fit_decisions, read_cv_predictions  # noqa: E402
from coder.model.episode_agreement import episode_agreement  # noqa: E402
from coder.model.evaluate import score_decisions  # noqa: E402


def test_check(model_dir: Path, thresholds: dict[str, float]) -> pd.DataFrame:
    """Per-code F1 and predicted/labelled ratio on the test split, old and new thresholds."""
    from coder.model import load

    clf = load(model_dir)
    records = list(build_dataset(include_welivita=False, include_constructed=False, include_rewrites=False,
                                 include_mibot=False)["test"])
    roles = [r["role"] for r in records]
    proba = clf.predict_proba_records(records)
    truth, mask = clf.layout_.arrays(records)
    out = {}
    for name, th in (("old", dict(clf.calibrator_.thresholds)), ("new", {**clf.calibrator_.thresholds, **thresholds})):
        clf.calibrator_.thresholds = th
        pc = score_decisions(truth, clf.decide(proba, roles), mask, roles, clf.layout_).per_code
        out[name] = pc
    table = pd.DataFrame({"support": out["old"]["support"],
                          "predicted_old": out["old"]["predicted"], "f1_old": out["old"]["f1"],
                          "predicted_new": out["new"]["predicted"], "f1_new": out["new"]["f1"]})
    table["ratio_old"] = table.predicted_old / table.support.replace(0, np.nan)
    table["ratio_new"] = table.predicted_new / table.support.replace(0, np.nan)
    return table


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--predictions", type=Path, default=None,
                        help="Default MODEL/evaluation/cv5/cv_predictions.csv.")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "oof_decisions.json")
    args = parser.parse_args()
    preds = args.predictions or args.model / "evaluation" / "cv5" / "cv_predictions.csv"
    cfg = DecisionConfig()
    oof, truth, mask, names = read_cv_predictions(preds)
    nested = fit_decisions(oof, truth, mask, names, config=cfg)
    records = oof[["transcript_id", "utterance_id"]].to_dict("records")
    episodes_nested = episode_agreement(records, truth, nested.decided, names)
    test_ids = split_transcripts(transcript_metadata())["test"]
    ship = fit_decisions(*read_cv_predictions(preds, exclude=test_ids), config=cfg)
    check = test_check(args.model, ship.thresholds)
    per_code = nested.per_code.assign(shipped_threshold=pd.Series(ship.thresholds))
    per_code["reliable"] = nested.per_code["reliable"]
    out_dir = args.model / "evaluation" / "decisions"
    out_dir.mkdir(parents=True, exist_ok=True)
    per_code.to_csv(out_dir / "oof_per_code.csv", index_label="target")
    check.to_csv(out_dir / "test_check.csv", index_label="target")
    result = {"predictions": str(preds), "config": vars(cfg), "n_utterances": len(oof),
              "episodes_nested": episodes_nested,
              "unreliable": nested.unreliable,
              "out_of_band": [c for c, r in nested.per_code.ratio.items() if not (0.5 <= r <= 2)],
              "thresholds": {c: round(v, 4) for c, v in ship.thresholds.items()},
              "fold_thresholds": nested.fold_thresholds}
    if args.write:
        DecisionFit(ship.thresholds, nested.per_code, nested.fold_thresholds, cfg).save(args.model, source=f"out-of-fold predictions {preds.name} (train+validation transcripts); "
                                     "reliability from nested 5-fold CV over all 105 transcripts")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, default=float) + "\n")
    pd.set_option("display.width", 200)
    print(per_code.round(3).to_string())
    print(check.round(3).to_string())
    return result


if __name__ == "__main__":
    print(json.dumps({k: v for k, v in main().items() if k != "fold_thresholds"}, indent=2, default=float))
