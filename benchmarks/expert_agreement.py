"""The model against AnnoMI's experts where ten experts coded the same transcripts.

AnnoMI's copy here has four transcripts (7, 27, 55, 130) coded by all ten annotators. On their
therapist utterances (AnnoMI fine codes) and client utterances (talk type) this reports, pooled
over the four transcripts, the macro-F1 of every pair of experts (45 pairs) and of the model
against each expert (10), with per-code medians. The model's codes are the out-of-fold
predictions of ``alliance-coder evaluate --cv K --cv-all --out DIR``: each transcript coded by a
model that never saw it. This is the scale the classifier issue sets its targets against ("aim
past the experts' median").

Run: ``.venv/bin/python benchmarks/expert_agreement.py DIR [--json OUT]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from rollup_validity_model import load_predictions  # noqa: E402

from coder.data.annomi import map_fields, read_annomi_csv  # noqa: E402
from coder.model.evaluate import binary_metrics  # noqa: E402
from coder.model.layout import BEHAVIOURS  # noqa: E402
from coder.scheme import TALK_TYPES  # noqa: E402

TARGETS = {"annomi_fine": ("therapist", BEHAVIOURS), "talk_type": ("client", TALK_TYPES)}


def code_f1(x: list[set], y: list[set], codes) -> dict[str, float]:
    """Per-code F1 of two coders (symmetric; NaN where neither assigns the code)."""
    return {c: binary_metrics([c in s for s in x], [c in s for s in y])["f1"] for c in codes}


def multi_coded(raw: pd.DataFrame, predictions: pd.DataFrame, role: str):
    """Per expert, and for the model, the code sets of ``role`` utterances every expert coded."""
    experts: dict[str, list[set]] = {}
    model: list[set] = []
    counts = raw.groupby("transcript_id")["annotator_id"].nunique()
    transcripts = sorted(counts[counts > 1].index, key=int)
    for tid in transcripts:
        rows = raw[raw["transcript_id"] == tid]
        coded = {aid: {r.utterance_id: (r.interlocutor, set(map_fields(r._asdict())[0]))
                       for r in g.itertuples(index=False)} for aid, g in rows.groupby("annotator_id")}
        pred = predictions[predictions["transcript_id"] == tid].set_index("utterance_id")
        ids = set(pred.index).intersection(*[{k for k, v in c.items() if v[0] == role} for c in coded.values()])
        ids = sorted(ids, key=int)
        for aid, c in coded.items():
            experts.setdefault(aid, []).extend(c[i][1] for i in ids)
        model.extend(set(filter(None, str(pred.loc[i, "codes"]).split(";"))) for i in ids)
    return transcripts, experts, model


def summarise(values: list[float]) -> dict:
    return {"median": round(float(np.median(values)), 3), "min": round(float(np.min(values)), 3),
            "max": round(float(np.max(values)), 3), "n": len(values)}


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="Folder with the out-of-fold predictions.")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "expert_agreement.json")
    args = parser.parse_args()
    raw, predictions = read_annomi_csv(), load_predictions(args.folder)
    result = {"what": "macro-F1, experts pairwise vs model against each expert, on AnnoMI's ten-annotator "
                      "transcripts (pooled)", "predictions": str(args.folder)}
    for name, (role, codes) in TARGETS.items():
        transcripts, experts, model = multi_coded(raw, predictions, role)
        pairs = [code_f1(experts[a], experts[b], codes) for a, b in itertools.combinations(sorted(experts), 2)]
        versus = [code_f1(model, experts[a], codes) for a in sorted(experts)]
        result[name] = {
            "transcripts": transcripts, "utterances": len(model), "experts": len(experts),
            "expert_pairs": summarise([np.nanmean(list(p.values())) for p in pairs]),
            "model_vs_expert": summarise([np.nanmean(list(v.values())) for v in versus]),
            "per_code_median": {c: {"expert_pairs": round(float(np.nanmedian([p[c] for p in pairs])), 3),
                                    "model_vs_expert": round(float(np.nanmedian([v[c] for v in versus])), 3)}
                                for c in codes},
        }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    out = main()
    for target in TARGETS:
        r = out[target]
        print(f"{target}: {r['utterances']} utterances of transcripts {', '.join(r['transcripts'])}; "
              f"expert pairs {r['expert_pairs']}; model vs expert {r['model_vs_expert']}")
        print(pd.DataFrame(r["per_code_median"]).T.to_string())
