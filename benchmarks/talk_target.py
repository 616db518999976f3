"""Does client talk type gain from the session's target behaviour, inferred from the session itself?

Issue 11: "Talk type may also gain from knowing the session's target behaviour, inferred from
the session itself: try it." Whether a client utterance is change or sustain talk depends on
the behaviour the session is about (AnnoMI's ``topic``), so a talk-type classifier that knows
the target might read direction better. Frozen-encoder probe in the style of
``benchmarks/augmentation_curve.py``: every AnnoMI utterance is embedded once with the
packaged all-MiniLM-L6-v2 (its ``embed()``, same texts, so its cache is reused), then, in the
5-fold transcript-level cross-validation over all 105 transcripts
(``transcript_folds(k=5, seed=13, include_test=True)``), a multinomial logistic regression
(standardised features, balanced class weights) predicts the client talk type
(change / neutral / sustain) of every held-out client utterance:

A. the utterance embedding only;
B. A + the session vector (mean embedding of every utterance of the same transcript; no labels);
C. B + the *inferred* target behaviour: a topic classifier (standardised session vector,
   logistic regression, C=1.0) fit on the training transcripts gives each held-out session
   topic probabilities; training sessions get out-of-fold probabilities from an inner 5-fold
   split of the training transcripts, so train and test features are alike. Added: the
   probabilities and their products with the first 32 PCA components of the utterance
   embedding (PCA fit on the training fold's client utterances), so the direction can flip
   by target;
D. ORACLE, not available in practice: as C with the true topic one-hot from the metadata.

Topics are whitespace/case-normalised; within each fold, topics with fewer than two training
transcripts are pooled into one "other" class (for C and D alike). The regularisation C of the
talk-type model is chosen per variant and fold from a small grid by one inner transcript-level
split of the training transcripts only (never the held-out fold). Reported: pooled and per-fold
macro-F1, per-class F1 with support, topic accuracy on held-out transcripts, and a paired
transcript-level bootstrap of the pooled macro-F1 differences. The json holds counts, ids and
scores only, no dataset text.

Run: ``.venv/bin/python benchmarks/talk_target.py [--json OUT]``; the result goes to
``benchmarks/results/talk_target.json``; embeddings are cached in ``benchmarks/results/.cache/``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from augmentation_curve import annomi_frame, embed  # noqa: E402

from coder.data.build import transcript_folds  # noqa: E402
from coder.data.labels import join_labels  # noqa: E402
from coder.scheme import TALK_TYPES  # noqa: E402

CLASSES = ("change_talk", "neutral_talk", "sustain_talk")
VARIANTS = {"A": "utterance embedding", "B": "+ session vector", "C": "+ inferred target behaviour",
            "D": "ORACLE: + true topic one-hot (metadata, not available in practice)"}
C_GRID = (0.00001, 0.00003, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 1.0)
TOPIC_C = 1.0
N_PCA = 32
MIN_TOPIC_SESSIONS = 2
SEED = 13
N_BOOT = 2000


def norm_topic(t: str) -> str:
    return " ".join(str(t).split()).lower()


def macro_f1_from_cm(cm: np.ndarray) -> float:
    tp = np.diag(cm).astype(float)
    denom = cm.sum(0) + cm.sum(1)
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return float(f1.mean())


def confusion(y: np.ndarray, p: np.ndarray, k: int = 3) -> np.ndarray:
    return np.bincount(y * k + p, minlength=k * k).reshape(k, k)


def talk_model(X, y, c):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000, class_weight="balanced")).fit(X, y)


def topic_probs(S_fit, t_fit, S_pred, n_classes):
    """Topic probabilities (columns = fold topic classes) from a model fit on ``S_fit``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out = np.zeros((len(S_pred), n_classes))
    present = np.unique(t_fit)
    if len(present) == 1:
        out[:, present[0]] = 1.0
        return out
    m = make_pipeline(StandardScaler(), LogisticRegression(C=TOPIC_C, max_iter=3000)).fit(S_fit, t_fit)
    out[:, m.classes_] = m.predict_proba(S_pred)
    return out


def interact(T, Z):
    """``[T, T ⊗ Z]``: topic features and their products with the utterance projection."""
    return np.hstack([T, (T[:, :, None] * Z[:, None, :]).reshape(len(T), -1)])


def main() -> dict:
    from sklearn.decomposition import PCA
    from sklearn.model_selection import KFold

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "talk_target.json")
    args = parser.parse_args()
    t0 = time.perf_counter()
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass

    joined = join_labels()
    real = annomi_frame(joined)  # same rows and texts as augmentation_curve, so the cache hits
    emb = embed(list(real["text"]))
    topic_of = {str(t): norm_topic(v) for t, v in joined.drop_duplicates("transcript_id")[["transcript_id", "topic"]]
                .itertuples(index=False)}
    raw_topics = joined.drop_duplicates("transcript_id").topic.nunique()

    sessions = sorted(real.transcript_id.unique(), key=lambda t: (len(t), t))
    s_index = {t: i for i, t in enumerate(sessions)}
    S = np.vstack([emb[(real.transcript_id == t).to_numpy()].mean(0) for t in sessions])
    sess_of_row = real.transcript_id.map(s_index).to_numpy()

    client = (real.role == "client").to_numpy()
    talk = [sorted(set(c) & set(TALK_TYPES)) for c in real.codes]
    assert all(len(t) == 1 for t, c in zip(talk, client) if c), "client utterance without exactly one talk type"
    rows = np.flatnonzero(client)
    y = np.array([CLASSES.index(talk[i][0]) for i in rows])
    E, sess = emb[rows], sess_of_row[rows]
    tid = real.transcript_id.to_numpy()[rows]

    folds = transcript_folds(k=5, seed=SEED, include_test=True)
    pred = {v: np.full(len(rows), -1) for v in VARIANTS}
    chosen_c = {v: [] for v in VARIANTS}
    topic_hits, topic_n, fold_info = 0, 0, []
    for f, (fit_ids, held_ids) in enumerate(folds):
        fit_s = np.array([s_index[t] for t in fit_ids])
        held_s = np.array([s_index[t] for t in held_ids])
        # Fold topic vocabulary, from training transcripts only.
        names, counts = np.unique([topic_of[sessions[i]] for i in fit_s], return_counts=True)
        vocab = sorted(names[counts >= MIN_TOPIC_SESSIONS]) + ["other"]
        lab = {t: vocab.index(topic_of[t]) if topic_of[t] in vocab else len(vocab) - 1 for t in sessions}
        t_all = np.array([lab[t] for t in sessions])
        K = len(vocab)
        # Inferred topic probabilities: held-out from the training-fold model, training from inner OOF.
        P = np.zeros((len(sessions), K))
        P[held_s] = topic_probs(S[fit_s], t_all[fit_s], S[held_s], K)
        for a, b in KFold(5, shuffle=True, random_state=SEED).split(fit_s):
            P[fit_s[b]] = topic_probs(S[fit_s[a]], t_all[fit_s[a]], S[fit_s[b]], K)
        hits = int((P[held_s].argmax(1) == t_all[held_s]).sum())
        topic_hits, topic_n = topic_hits + hits, topic_n + len(held_s)
        majority = np.bincount(t_all[fit_s], minlength=K).argmax()
        O = np.eye(K)[t_all]

        fit_r = np.isin(tid, fit_ids)
        held_r = np.isin(tid, held_ids)
        Z = PCA(N_PCA, random_state=SEED).fit(E[fit_r]).transform(E)
        feats = {"A": E, "B": np.hstack([E, S[sess]]),
                 "C": np.hstack([E, S[sess], interact(P[sess], Z)]),
                 "D": np.hstack([E, S[sess], interact(O[sess], Z)])}
        # One inner transcript-level split of the training transcripts to choose C.
        rng = np.random.default_rng(SEED + f)
        inner_val = set(rng.choice(np.array(fit_ids), size=max(1, len(fit_ids) // 5), replace=False))
        iv = fit_r & np.isin(tid, list(inner_val))
        it = fit_r & ~iv
        for v, X in feats.items():
            scores = []
            for c in C_GRID:
                p = talk_model(X[it], y[it], c).predict(X[iv])
                scores.append(macro_f1_from_cm(confusion(y[iv], p)))
            c_best = C_GRID[int(np.argmax(scores))]
            chosen_c[v].append(c_best)
            pred[v][held_r] = talk_model(X[fit_r], y[fit_r], c_best).predict(X[held_r])
        fold_info.append({"fold": f, "held_transcripts": len(held_ids), "held_client_utterances": int(held_r.sum()),
                          "topic_classes": K, "topic_accuracy": round(hits / len(held_s), 4),
                          "topic_majority_accuracy": round(float((t_all[held_s] == majority).mean()), 4),
                          "held_sessions_true_topic_other": int((t_all[held_s] == K - 1).sum())})
        print(f"fold {f}: {time.perf_counter() - t0:.0f}s", flush=True)

    assert all((p >= 0).all() for p in pred.values())
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    out_variants = {}
    for v, name in VARIANTS.items():
        per_fold = [round(float(f1_score(y[np.isin(tid, h)], pred[v][np.isin(tid, h)], average="macro",
                                         labels=[0, 1, 2])), 4) for _, h in folds]
        _, _, f1s, sup = precision_recall_fscore_support(y, pred[v], labels=[0, 1, 2], zero_division=0)
        out_variants[v] = {"name": name, "pooled_macro_f1": round(float(f1_score(y, pred[v], average="macro")), 4),
                           "per_fold_macro_f1": per_fold,
                           "per_fold_mean": round(float(np.mean(per_fold)), 4),
                           "per_fold_sd": round(float(np.std(per_fold, ddof=1)), 4),
                           "per_class": {c: {"f1": round(float(f1s[i]), 4), "support": int(sup[i])}
                                         for i, c in enumerate(CLASSES)},
                           "chosen_C_per_fold": chosen_c[v]}

    # Paired transcript-level bootstrap of pooled macro-F1 differences.
    tids = np.array(sessions)
    cms = {v: np.stack([confusion(y[tid == t], pred[v][tid == t]) for t in tids]) for v in VARIANTS}
    rng = np.random.default_rng(SEED)
    draws = [np.bincount(rng.integers(0, len(tids), len(tids)), minlength=len(tids)) for _ in range(N_BOOT)]
    boot = {}
    for a, b in (("B", "A"), ("C", "A"), ("C", "B"), ("D", "A"), ("D", "C")):
        d = np.array([macro_f1_from_cm(np.tensordot(w, cms[a], 1)) - macro_f1_from_cm(np.tensordot(w, cms[b], 1))
                      for w in draws])
        fold_d = np.array(out_variants[a]["per_fold_macro_f1"]) - np.array(out_variants[b]["per_fold_macro_f1"])
        boot[f"{a}-{b}"] = {"pooled_diff": round(out_variants[a]["pooled_macro_f1"] - out_variants[b]["pooled_macro_f1"], 4),
                            "ci95": [round(float(np.quantile(d, 0.025)), 4), round(float(np.quantile(d, 0.975)), 4)],
                            "folds_better": int((fold_d > 0).sum())}

    acc = topic_hits / topic_n
    maj = float(np.mean([fi["topic_majority_accuracy"] for fi in fold_info]))
    pf = {v: out_variants[v]["pooled_macro_f1"] for v in VARIANTS}
    ci = boot["C-A"]["ci95"]
    finding = (f"Pooled macro-F1 A {pf['A']:.3f}, B (+session) {pf['B']:.3f}, C (+inferred target) {pf['C']:.3f}, "
               f"D (oracle topic) {pf['D']:.3f}; the topic is inferred right for {acc:.0%} of held-out transcripts "
               f"(majority class {maj:.0%}), and C minus A is {boot['C-A']['pooled_diff']:+.3f} "
               f"(95% transcript bootstrap {ci[0]:+.3f} to {ci[1]:+.3f}, better in {boot['C-A']['folds_better']}/5 folds)"
               + (", so the inferred target does not clearly help" if ci[0] <= 0 else ", a gain that holds up")
               + f"; even the oracle topic gives D minus A {boot['D-A']['pooled_diff']:+.3f}"
               f" (95% {boot['D-A']['ci95'][0]:+.3f} to {boot['D-A']['ci95'][1]:+.3f}).")
    try:
        date = subprocess.run(["date"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        date = datetime.now(timezone.utc).isoformat()
    out = {"date": date, "what": __doc__.splitlines()[0],
           "folds": "transcript_folds(k=5, seed=13, include_test=True): 5 folds over all 105 transcripts",
           "n_transcripts": len(sessions), "n_client_utterances": int(len(rows)),
           "class_counts": {c: int((y == i).sum()) for i, c in enumerate(CLASSES)},
           "encoder": "all-MiniLM-L6-v2, mean pooled, normalised (augmentation_curve.embed, utterance text only)",
           "talk_model": "StandardScaler + multinomial LogisticRegression, class_weight=balanced",
           "C": {"grid": list(C_GRID), "chosen_by": "one inner transcript-level 80/20 split of the training "
                 "transcripts per fold and variant (held-out fold never used)"},
           "topic": {"distinct_raw": int(raw_topics), "distinct_normalised": len(set(topic_of.values())),
                     "classes_per_fold": [fi["topic_classes"] for fi in fold_info],
                     "min_training_transcripts_per_class": MIN_TOPIC_SESSIONS,
                     "classifier": f"StandardScaler + LogisticRegression(C={TOPIC_C}) on the session vector",
                     "heldout_accuracy": round(acc, 4), "heldout_majority_class_accuracy_mean": round(maj, 4),
                     "per_fold": fold_info},
           "n_pca": N_PCA, "variants": out_variants,
           "bootstrap": {"resamples": N_BOOT, "unit": "transcript", "differences": boot},
           "finding": finding, "seconds": round(time.perf_counter() - t0, 1)}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    result = main()
    for v, r in result["variants"].items():
        print(f"{v} {r['pooled_macro_f1']:.4f}  folds {r['per_fold_macro_f1']}  {r['name']}")
    print(f"topic accuracy {result['topic']['heldout_accuracy']}  ({result['seconds']}s)")
    print(result["finding"])
