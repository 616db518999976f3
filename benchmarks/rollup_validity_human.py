"""First validity check of the roll-up mapping — from the project's HUMAN labels, not the model.

Scores every AnnoMI transcript (105) from its final human codes (AnnoMI expert labels joined with
the project's first-pass labels, ``coder.data.labels.join_labels``), then reports

* the AUC of each scale for AnnoMI's high- versus low-quality MI (``mi_quality``), and
* the Spearman correlation of each scale with the project's first-pass session ratings
  (``data/annotations/session_ratings.csv``; same scale names), for the current mapping and for
  the mapping as designed before this check, and
* the cross-validated ICC(2,1) and Pearson r of a calibration (``coder.rollup.calibrate``)
  from these scores to the session ratings.

This is *not* the validity figure the issue asks for (model codes from cross-validation folds);
it checks the mapping itself with codes as good as the annotators'. Writes
``benchmarks/results/rollup_validity_human.json``. Run: ``.venv/bin/python benchmarks/rollup_validity_human.py``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coder.data.labels import join_labels  # noqa: E402
from coder.data.ratings import SCALES, load_session_ratings  # noqa: E402
from coder.rollup.calibrate import fit_calibration, icc_2_1, pearson_r  # noqa: E402
from coder.rollup.mapping import ScaleMapping  # noqa: E402
from coder.rollup.scores import RollupConfig  # noqa: E402
from coder.rollup.tables import rollup  # noqa: E402
from coder.session import Session, Utterance  # noqa: E402


def human_sessions(joined: pd.DataFrame) -> tuple[list[Session], pd.Series]:
    """One Session per transcript with the final human codes; ``mi_quality`` per transcript."""
    sessions = []
    for tid, rows in joined.groupby("transcript_id", sort=False):
        utts, turn, prev = [], -1, None
        for r in rows.sort_values("order").itertuples(index=False):
            if r.role != prev:
                turn, prev = turn + 1, r.role
            utts.append(Utterance(session_id=str(tid), utterance_id=str(r.utterance_id), turn_id=turn,
                                  speaker=r.role, role=r.role, start=None, end=None, text=str(r.text),
                                  codes=list(r.codes)))
        sessions.append(Session(id=str(tid), utterances=utts))
    quality = joined.groupby("transcript_id", sort=False)["mi_quality"].first()
    quality.index = quality.index.astype(str)
    return sessions, quality


def figures(sessions, quality, ratings, mapping: ScaleMapping) -> dict:
    """AUC (high vs low MI quality) and Spearman with the session ratings, for one mapping."""
    table = rollup(sessions, config=RollupConfig(n_boot=0, mapping=mapping))["sessions"].set_index("session_id")
    high = (quality.reindex(table.index) == "high").astype(int)
    common = [t for t in table.index if t in ratings.index]
    rho = {}
    for s in SCALES:
        r, p = spearmanr(table.loc[common, s], ratings.loc[common, s])
        rho[s] = {"rho": round(float(r), 3), "p": float(f"{p:.2g}")}
    return {
        "auc_high_vs_low_mi_quality": {s: round(float(roc_auc_score(high, table[s])), 3) for s in SCALES},
        "spearman_vs_session_ratings": rho, "n_rated": len(common),
        "pearson_vs_session_ratings": {s: round(pearson_r(table.loc[common, s], ratings.loc[common, s]), 3)
                                       for s in SCALES},
        "icc21_vs_session_ratings": {s: round(icc_2_1(table.loc[common, s], ratings.loc[common, s]), 3)
                                     for s in SCALES},
        "score_means_by_quality": table.assign(q=quality.reindex(table.index).to_numpy())
        .groupby("q")[list(SCALES)].mean().round(3).to_dict(),
        "n_episodes": int(table["n_rupture_episodes"].sum()), "n_resolved": int(table["n_resolved"].sum()),
    }, table, high


def main() -> dict:
    t0 = time.perf_counter()
    joined = join_labels()
    sessions, quality = human_sessions(joined)
    ratings = load_session_ratings().groupby("transcript_id")[list(SCALES)].mean()
    after, table, high = figures(sessions, quality, ratings, ScaleMapping())
    before, _, _ = figures(sessions, quality, ratings, ScaleMapping(tc_harm_count=0.0, pc_withdrawal_count=0.0))
    common = [t for t in table.index if t in ratings.index]
    cal = fit_calibration(table.reset_index(), ratings)
    result = {
        "what": "roll-up scores from HUMAN labels (AnnoMI expert + project first pass), not from the model",
        "n_transcripts": int(len(table)), "n_high": int(high.sum()), "n_low": int(len(high) - high.sum()),
        "current_mapping": after,
        "mapping_before_check": {**before, "note": "as designed from the rationale, before this check: "
                                 "tc_harm_count = pc_withdrawal_count = 0"},
        "reference_human_ratings_auc_high_vs_low": {
            s: round(float(roc_auc_score(high.loc[common], ratings.loc[common, s])), 3) for s in SCALES},
        "calibration_cv_5fold": {
            "note": "coder.rollup.calibrate fitted from these human-label scores to the session ratings; "
                    "held-out predictions (5-fold, seed 0)",
            **{row.target: {"icc21": row.icc21, "pearson_r": row.pearson_r, "n": row.n}
               for row in cal.metrics().itertuples(index=False)}},
        "seconds": round(time.perf_counter() - t0, 2),
    }
    out = ROOT / "benchmarks" / "results" / "rollup_validity_human.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
