"""Prior-shift calibration for the codes a model left uncalibrated (issue 11; v3's long-example failure).

``coder.model.calibration.Calibrator`` fits Platt scaling per code on the validation share and
keeps the identity where that share holds fewer than 5 positives. Training weights each positive
of a multi-label code by ``pos_weight = (negatives / positives) ** power``
(``coder.model.network.imbalance_weights``), which raises its logits by about
``log(pos_weight)``, so an identity-calibrated code reads too high. The roll-up's rupture episodes
read marker probabilities at a fixed threshold, so those probabilities matter beyond the
decisions. This script replaces each identity calibration by ``(1, -log(pos_weight))``,
recomputing the weights exactly as training did from the model's recorded training data
(``config.json`` → ``data``), and moves that code's decision threshold by the same map,
``t' = sigmoid(logit(t) - log(pos_weight))``, so the model's **codes do not change** (checked on
the validation and test transcripts); only its probabilities do.

Run: ``.venv/bin/python benchmarks/prior_calibration.py MODEL_DIR [--write]``. Without
``--write`` it prints the shifts and the check; with it, it updates ``calibration.json`` and
``thresholds.json`` (recording the shifts under ``prior_shift``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coder.data.build import build_dataset  # noqa: E402
from coder.model.layout import ROLE_IDS  # noqa: E402
from coder.model.network import imbalance_weights  # noqa: E402


def positive_weights(clf, model_dir: Path) -> dict[str, float]:
    """The BCE ``pos_weight`` per multi-label target, as training computed it for this model."""
    data = json.loads((model_dir / "config.json").read_text())["data"]
    corpus = build_dataset(include_welivita=data["include_welivita"], include_constructed=data["include_constructed"],
                           include_rewrites=data["include_rewrites"], include_mibot=data["include_mibot"],
                           rewrite_exclude=data.get("rewrite_exclude", ()), recode=data.get("recode", True))
    train = list(corpus["train"])
    lay, cfg = clf.layout_, clf.cfg
    y, m = lay.arrays(train)
    roles = np.array([ROLE_IDS.get(str(r["role"]).lower(), ROLE_IDS["other"]) for r in train])
    w = imbalance_weights(y, m, roles, lay, power=cfg.class_weight_power, max_weight=cfg.max_class_weight)
    out = {}
    for head, idx in (("therapist", lay.therapist_idx), ("client", lay.client_idx)):
        out.update({lay.names[i]: float(v) for i, v in zip(idx, w[head].tolist())})
    return out


def decisions(clf, records) -> np.ndarray:
    """The model's 0/1 decisions on ``records`` (rows) for its targets (columns)."""
    proba = clf.predict_proba_records(records)
    return np.asarray(clf.decide(proba, [r["role"] for r in records]))


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    from coder.model import load

    clf = load(args.model)
    weights = positive_weights(clf, args.model)
    cal = clf.calibrator_
    shifts = {c: -math.log(weights[c]) for c, ab in cal.platt.items()
              if tuple(ab) == (1.0, 0.0) and c in weights and weights[c] > 1.0}
    held_out = build_dataset(include_welivita=False, include_constructed=False, include_rewrites=False,
                             include_mibot=False)
    records = list(held_out["validation"]) + list(held_out["test"])
    before = decisions(clf, records)
    old_thresholds = dict(cal.thresholds)
    for code, b in shifts.items():
        cal.platt[code] = (1.0, b)
        if code in cal.thresholds:
            t = min(max(cal.thresholds[code], 1e-6), 1 - 1e-6)
            cal.thresholds[code] = 1.0 / (1.0 + math.exp(-(math.log(t / (1 - t)) + b)))
    after = decisions(clf, records)
    changed = int((before != after).any(1).sum())
    result = {"model": args.model.name, "shifts": {c: round(b, 4) for c, b in shifts.items()},
              "pos_weight": {c: round(weights[c], 4) for c in shifts},
              "thresholds": {c: [round(old_thresholds.get(c, float("nan")), 4), round(cal.thresholds.get(c, float("nan")), 4)]
                             for c in shifts},
              "check": {"utterances": len(records), "utterances_whose_codes_changed": changed}}
    print(json.dumps(result, indent=2))
    if changed:
        raise SystemExit(f"{args.model}: the shift changed the codes of {changed} utterance(s); nothing written")
    if args.write:
        for name, update in (("calibration.json", {"platt": {c: list(v) for c, v in cal.platt.items()}}),
                             ("thresholds.json", {"thresholds": cal.thresholds})):
            path = args.model / name
            doc = json.loads(path.read_text())
            doc.update(update)
            doc["prior_shift"] = {"codes": result["shifts"], "pos_weight": result["pos_weight"],
                                  "source": "benchmarks/prior_calibration.py: identity Platt replaced by "
                                            "(1, -log pos_weight); thresholds moved by the same map"}
            path.write_text(json.dumps(doc, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
