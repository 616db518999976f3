"""What the rewrites and the MIBot labels add, with a frozen encoder and logistic regression.

A cheap probe before a full fine-tune (issue 11: "measure a learning curve before writing
more"). Every AnnoMI utterance and every extra example is embedded once with the packaged
all-MiniLM-L6-v2 (mean pooling; the target utterance and its two previous utterances embedded
separately and concatenated). Then, in a 5-fold transcript-level cross-validation over all 105
AnnoMI transcripts, one logistic regression per target is trained on the fit transcripts'
real labels plus a share of the rewrite groups anchored in *fit* transcripts (a rewrite of a
held-out transcript never trains its own fold), and scored on the held-out transcripts' real
labels only. Reported: average precision per target, pooled out of fold, with none, a
quarter, half and all of the rewrite groups (samples stratified by target code and kind), and
with the MIBot labels added. The evaluation data are real AnnoMI labels only.

Run: ``.venv/bin/python benchmarks/augmentation_curve.py [--json OUT]``; embeddings are cached
in ``benchmarks/results/.cache/`` (ignored by git).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from coder.data.build import transcript_folds  # noqa: E402
from coder.data.constructed import mark  # noqa: E402
from coder.data.labels import join_labels  # noqa: E402
from coder.data.mibot import mibot_frame, read_mibot_labels  # noqa: E402
from coder.data.rewrites import read_rewrites, rewrite_frame  # noqa: E402
from coder.scheme import CONFRONTATION, THERAPIST_HARMFUL, WITHDRAWAL  # noqa: E402

CACHE = ROOT / "benchmarks" / "results" / ".cache"
FAMILIES = {"harmful": THERAPIST_HARMFUL, "withdrawal": WITHDRAWAL, "confrontation": CONFRONTATION}
TARGETS = {"therapist": ("harmful", "directing", "confront_criticize", "dismiss_invalidate", "rigid_structure"),
           "client": ("withdrawal", "confrontation", "c_reject_intervention", "c_defend_self", "w_deferential")}
#: Shares of the rewrite groups in the curve, each a sample stratified by target code and kind
#: (the groups were not written in a balanced order, so "the first N" would be skewed).
STEPS = (0.0, 0.25, 0.5, 1.0)


def stratified_groups(extra: pd.DataFrame, share: float, seed: int = 13) -> set:
    """A seeded ``share`` of the groups, drawn within each (target_code, kind) stratum."""
    if share >= 1.0:
        return set(extra["group"])
    heads = extra.drop_duplicates("group")
    keys = heads[["target_code", "kind"]].apply(tuple, axis=1) if "target_code" in heads else pd.Series(0, heads.index)
    rng = np.random.default_rng(seed)
    keep = set()
    for _, part in heads.groupby(keys, sort=True):
        k = int(round(share * len(part)))
        keep |= set(rng.choice(part["group"].to_numpy(), size=k, replace=False)) if k else set()
    return keep


def embed(texts: list[str], batch: int = 64) -> np.ndarray:
    """Mean-pooled, normalised MiniLM embeddings, cached by content hash."""
    import torch

    from transformers import AutoTokenizer, BertModel

    from coder.model.encoder import resolve_encoder

    key = hashlib.sha256("\x1e".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"emb_{key}.npy"
    if path.exists():
        return np.load(path)
    folder = resolve_encoder(None)
    tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = BertModel.from_pretrained(str(folder), local_files_only=True).eval()
    order = np.argsort([len(t) for t in texts])
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        for i in range(0, len(texts), batch):
            idx = order[i:i + batch]
            enc = tok([texts[j] or "" for j in idx], padding=True, truncation=True, max_length=128,
                      return_tensors="pt")
            hidden = model(**enc).last_hidden_state.float()
            m = enc["attention_mask"].unsqueeze(-1).float()
            v = (hidden * m).sum(1) / m.sum(1).clamp(min=1)
            out[idx] = torch.nn.functional.normalize(v, dim=-1).numpy()
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


def features(frame: pd.DataFrame) -> np.ndarray:
    """``[emb(target), emb(last two context utterances)]``."""
    ctx = ["\n".join(c[-2:]) for c in frame["context"]]
    return np.hstack([embed(list(frame["text"])), embed(ctx)])


def label(codes, target: str) -> bool:
    return bool(set(codes) & set(FAMILIES[target])) if target in FAMILIES else target in codes


def annomi_frame(joined: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for tid, g in joined.groupby("transcript_id", sort=False):
        history = []
        for r in g.sort_values("order").itertuples(index=False):
            rows.append({"transcript_id": str(tid), "role": r.role, "text": " ".join(str(r.text).split()),
                         "context": list(history), "codes": list(r.codes)})
            history.append(mark(r.role, r.text))
    return pd.DataFrame(rows)


def curve(real: pd.DataFrame, xr: np.ndarray, extra: pd.DataFrame, xe: np.ndarray, folds, steps) -> list[dict]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score

    results = []
    for share in steps:
        keep = stratified_groups(extra, share) if len(extra) else set()
        use_extra = extra["group"].isin(keep).to_numpy() if len(extra) else np.zeros(0, bool)
        for role, targets in TARGETS.items():
            rr, er = (real.role == role).to_numpy(), (extra.role == role).to_numpy() if len(extra) else np.zeros(0, bool)
            for target in targets:
                y = np.array([label(c, target) for c in real.codes])
                ye = np.array([label(c, target) for c in extra.codes]) if len(extra) else np.zeros(0, bool)
                scores = np.full(len(real), np.nan)
                for fit_ids, held_ids in folds:
                    fit = rr & real.transcript_id.isin(fit_ids).to_numpy()
                    held = rr & real.transcript_id.isin(held_ids).to_numpy()
                    ex = use_extra & er & ~extra.anchor.isin(held_ids).to_numpy() if len(extra) else use_extra
                    X = np.vstack([xr[fit], xe[ex]]) if ex.any() else xr[fit]
                    Y = np.concatenate([y[fit], ye[ex]]) if ex.any() else y[fit]
                    if Y.sum() < 2:
                        continue
                    clf = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit(X, Y)
                    scores[held] = clf.predict_proba(xr[held])[:, 1]
                ok = rr & ~np.isnan(scores)
                results.append({"share": share, "extra_groups": len(keep), "role": role, "target": target,
                                "support": int(y[ok].sum()), "extra_positives": int((ye & use_extra & er).sum()),
                                "average_precision": round(float(average_precision_score(y[ok], scores[ok])), 4)})
    return results


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "augmentation_curve.json")
    args = parser.parse_args()
    t0 = time.perf_counter()
    joined = join_labels()
    real = annomi_frame(joined)
    folds = transcript_folds(k=5, seed=13, include_test=True)
    xr = features(real)
    out = {"what": __doc__.splitlines()[0], "n_real": len(real), "folds": 5}
    rewrites = read_rewrites()
    if len(rewrites):
        rw = rewrite_frame(rewrites, joined)
        rw["group"] = rw.example_id.str.rsplit(":", n=1).str[0]
        rw["anchor"] = rw.transcript_id
        out["rewrites"] = {"groups": int(rw.group.nunique()), "rows": len(rw),
                           "curve": curve(real, xr, rw, features(rw), folds, STEPS)}
    labels = read_mibot_labels()
    if len(labels):
        mb = mibot_frame(labels)
        mb["group"], mb["anchor"] = mb.transcript_id, "mibot"
        out["mibot"] = {"conversations": int(mb.group.nunique()), "rows": len(mb),
                        "curve": curve(real, xr, mb, features(mb), folds, (0.0, 1.0))}
    out["seconds"] = round(time.perf_counter() - t0, 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    result = main()
    for part in ("rewrites", "mibot"):
        if part in result:
            table = pd.DataFrame(result[part]["curve"]).pivot_table(
                index=["role", "target", "support"], columns="extra_groups", values="average_precision")
            print(f"== {part} ==\n{table.to_string()}")
