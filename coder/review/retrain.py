"""Retraining from annotators' corrections (``alliance-coder train --corrections DB``).

:func:`retrain_from_corrections` turns the corrections database into training examples
(the annotators' agreed current labels of the utterances as they stand, with the same
``[T]``/``[C]`` context the corpus uses; orphaned corrections, made on text no longer in the
table, are left out), fine-tunes from the current model on them plus the original corpus's train split
(validation split for early stopping and calibration), scores the old and the new model on
the untouched test split, and writes the new version only if it is not worse, with a model
card that records what it was trained on.

The classifier contract it relies on (``coder.model``): ``fit(train, validation)``,
``predict_proba_records(records)``, ``decide(proba, roles)``, ``classes_``, ``save(path)``,
``load(path)`` (or the module's ``load``), ``version``. An ``UtteranceClassifier`` is warm
started by giving the new one the current model's fine-tuned encoder as its encoder; any
other estimator is deep-copied and its ``fit`` continues from where it is.
"""

from __future__ import annotations

import copy
import json
import tempfile
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from coder.metrics import f1
from coder.review.coded import FAMILY_LABELS, ReviewError, annotator_name, utc_now
from coder.review.store import Store
from coder.scheme import ALL_CODES, TALK_TYPES, codes_for_role

ROLE_MARKERS = {"therapist": "[T]", "client": "[C]"}


@dataclass
class RetrainConfig:
    """Options of :func:`retrain_from_corrections`.

    Attributes
    ----------
    tolerance : float
        The new model is written when its test macro-F1 ≥ the old one's − ``tolerance``.
    correction_weight : int
        How many times each corrected utterance is repeated in the training set.
    annotators : list of str, optional
        Use only these annotators' corrections (default everyone's).
    context_size : int, optional
        Previous utterances given as context; default the model's ``context_size`` (or 2).
    train : dict
        Overrides of the classifier's training settings (e.g. ``{"epochs": 2}``).
    load : callable, optional
        Loads the model folder; default ``coder.model.load``.
    """

    tolerance: float = 0.0
    correction_weight: int = 2
    annotators: list[str] | None = None
    context_size: int | None = None
    train: dict[str, Any] = field(default_factory=dict)
    load: Callable[[Path], Any] | None = None


def consensus_labels(store: Store, annotators: list[str] | None = None) -> list[dict]:
    """One label set per corrected utterance: per code the annotators' majority, ties and
    talk-type conflicts settled by the most recent correction.

    Returns
    -------
    list of dict
        ``session_id, utterance_id, role, codes, annotators, last_id`` in transcript order.
    """
    current = store.current_labels()
    if annotators:
        current = current[current["annotator"].isin([annotator_name(a) for a in annotators])]
    out = []
    for (sid, uid), group in current.sort_values("id").groupby(["session_id", "utterance_id"], sort=False):
        role, latest = group["role"].iloc[0], set(group["codes"].iloc[-1])
        n = len(group)
        votes = {c: sum(c in codes for codes in group["codes"]) for c in codes_for_role(role)}
        codes = {c for c, v in votes.items() if 2 * v > n or (2 * v == n and c in latest)}
        if role == "client" and len(codes & set(TALK_TYPES)) != 1:
            codes = (codes - set(TALK_TYPES)) | (latest & set(TALK_TYPES))
        out.append({"session_id": sid, "utterance_id": uid, "role": role, "seq": int(group["seq"].iloc[0]),
                    "codes": [c for c in ALL_CODES if c in codes], "annotators": sorted(group["annotator"]),
                    "last_id": int(group["id"].max())})
    return sorted(out, key=lambda r: r["seq"])


def correction_records(store: Store, *, context_size: int = 2, annotators: list[str] | None = None) -> list[dict]:
    """Training examples from the corrections, shaped like the corpus's (``coder.data.build``)."""
    from coder.data.build import CONTEXT_SEP, label_vectors

    labels = consensus_labels(store, annotators)
    wanted = {(r["session_id"], r["utterance_id"]): r for r in labels}
    records, history = [], {}
    for u in store.utterances().itertuples(index=False):
        lines = history.setdefault(u.session_id, [])
        label = wanted.get((u.session_id, u.utterance_id))
        if label is not None:
            context = CONTEXT_SEP.join(lines[-context_size:]) if context_size > 0 else ""
            records.append({"example_id": f"review:{u.session_id}:{u.utterance_id}",
                            "transcript_id": f"review:{u.session_id}", "session_id": u.session_id,
                            "utterance_id": u.utterance_id, "role": u.role, "text": u.text, "context": context,
                            "codes": label["codes"], **label_vectors(label["codes"], u.role),
                            "source": "correction", "licence": "", "mi_quality": "",
                            "annotators": label["annotators"]})
        lines.append(f"{ROLE_MARKERS.get(u.role, '[O]')} {' '.join(str(u.text).split())}")
    return records


def _records(split) -> list[dict]:
    return [dict(r) for r in split] if split is not None else []


def _corpus(corpus, context_size: int) -> dict[str, list[dict]]:
    if corpus is None:
        from coder.data.build import build_dataset

        corpus = build_dataset(context=context_size)
    elif isinstance(corpus, (str, Path)):
        from datasets import load_from_disk

        corpus = load_from_disk(str(corpus))
    missing = [s for s in ("train", "validation", "test") if s not in corpus]
    if missing:
        raise ReviewError(None, f"the corpus has no {', '.join(missing)} split")
    return {name: _records(corpus[name]) for name in ("train", "validation", "test")}


def _targets(records: list[dict], classes) -> tuple[np.ndarray, np.ndarray]:
    """Truth and decided-mask over ``classes`` (scheme codes and family labels) from corpus labels."""
    y = np.array([r["labels"] for r in records], dtype=float).reshape(len(records), len(ALL_CODES)) > 0.5
    m = np.array([r.get("label_mask", [1] * len(ALL_CODES)) for r in records],
                 dtype=float).reshape(len(records), len(ALL_CODES)) > 0.5
    idx = {c: i for i, c in enumerate(ALL_CODES)}
    truth, mask = np.zeros((len(records), len(classes)), bool), np.zeros((len(records), len(classes)), bool)
    for j, name in enumerate(classes):
        members = [idx[c] for c in FAMILY_LABELS.get(name, (name,)) if c in idx]
        if members:
            truth[:, j], mask[:, j] = y[:, members].any(1), m[:, members].all(1)
    return truth, mask


def split_scores(model, records: list[dict]) -> dict[str, float]:
    """F1 per target on ``records`` (targets with support), and ``macro_f1`` over them."""
    if not records:
        return {"macro_f1": float("nan")}
    classes = tuple(getattr(model, "classes_", ALL_CODES))
    pred = np.asarray(model.decide(model.predict_proba_records(records), [r["role"] for r in records])) > 0.5
    truth, mask = _targets(records, classes)
    out = {}
    for j, name in enumerate(classes):
        t, p = truth[mask[:, j], j], pred[mask[:, j], j]
        if t.sum():
            out[name] = f1(t, p)
    out["macro_f1"] = float(np.mean(list(out.values()))) if out else float("nan")
    return out


def _fit_from(model, train: list[dict], validation: list[dict], overrides: dict, version: str, workdir: Path):
    """A new model fine-tuned from ``model``; returns (model, how)."""
    if hasattr(model, "fine_tune"):
        return model.fine_tune(train, validation, **overrides), "fine_tune"
    network, tokenizer = getattr(model, "network_", None), getattr(model, "tokenizer_", None)
    config = getattr(model, "config", None)
    if network is not None and tokenizer is not None and is_dataclass(config):
        encoder_dir = workdir / "encoder"
        network.encoder.save_pretrained(str(encoder_dir))
        tokenizer.save_pretrained(str(encoder_dir))
        names = {f.name for f in fields(config)}
        overrides = {"max_train_examples": None, **overrides}  # never subsample the corrections away
        cfg = replace(config, encoder=str(encoder_dir), **{k: v for k, v in overrides.items() if k in names})
        new = type(model)(cfg, version=version, progress=False).fit(train, validation)
        new.encoder_source_ = f"fine-tuned from {model.coder_id}"
        new.encoder_sha256_ = None
        return new, "encoder warm start, new heads"
    new = copy.deepcopy(model)
    for key, value in overrides.items():
        setattr(new, key, value)
    new.version = version
    return new.fit(train, validation), "continued fit"


def model_card(info: dict) -> str:
    """The Markdown model card of a retrained version."""
    c, corpus = info["corrections"], info["corpus"]
    lines = [
        f"# Model card: {info['new_version']}",
        "",
        f"Retrained on {info['created_at']} from **{info['base_model']}** ({info['method']}) by "
        "`alliance-coder train --corrections`.",
        "",
        "## Trained on",
        f"- Corpus train split: {corpus['train']} examples; validation (early stopping, calibration, "
        f"thresholds): {corpus['validation']}.",
        f"- Annotator corrections: {c['utterances']} utterance(s) from {c['sessions']} session(s), each repeated "
        f"{c['weight']}×, from `{c['db']}` (corrections up to id {c['last_id']}, {c['first_at']} … {c['last_at']}).",
        f"- Annotators: {', '.join(c['annotators']) or '–'}; guideline version(s): "
        f"{', '.join(c['guideline_versions']) or '–'}; labels = per-code majority of annotators, ties to the latest.",
        f"- Left out because they belong to the test split: {c['excluded_test']} corrected utterance(s).",
        "",
        "## Evaluation (untouched test split)",
        f"- Test examples: {corpus['test']}. Macro-F1 over targets with support: base {info['base_score']:.4f}, "
        f"new {info['new_score']:.4f} (tolerance {info['tolerance']}).",
        f"- Decision: {info['reason']}",
        "",
        "| target | base F1 | new F1 |",
        "|---|---|---|",
    ]
    for name, (old, new) in info["per_target"].items():
        lines.append(f"| {name} | {old:.3f} | {new:.3f} |")
    return "\n".join(lines) + "\n"


def retrain_from_corrections(model_path, db_path, *, out, corpus=None, config: RetrainConfig | None = None) -> dict:
    """Fine-tune the model at ``model_path`` on the corrections in ``db_path`` plus the corpus.

    Parameters
    ----------
    model_path : path-like
        The current model folder.
    db_path : path-like
        The corrections database (:class:`coder.review.store.Store`).
    out : path-like
        Folder for the new version; written only when the new model is not worse on the test
        split; must not exist yet (or be empty).
    corpus : DatasetDict, dict of splits, path-like or None
        ``train``, ``validation`` and ``test`` splits of corpus records; a path is read with
        ``datasets.load_from_disk``; None builds the corpus (``coder.data.build``).
    config : RetrainConfig, optional

    Returns
    -------
    dict
        ``written`` (bool), ``out``, ``base_model``, ``new_version``, ``base_score``,
        ``new_score`` (test macro-F1), ``per_target`` (base and new F1), ``reason``,
        ``corrections`` and ``corpus`` (what it was trained on), ``method``, ``created_at``.

    Raises
    ------
    ReviewError
        When there are no usable corrections, or ``out`` already holds something.
    """
    cfg = config or RetrainConfig()
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ReviewError(out, "already exists; a retrained model is written to a new folder only")
    load = cfg.load
    if load is None:
        from coder.model import load
    model = load(Path(model_path))
    context = cfg.context_size if cfg.context_size is not None else \
        int(getattr(getattr(model, "config", None), "context_size", 2) or 2)
    store = Store(db_path)
    records = correction_records(store, context_size=context, annotators=cfg.annotators)
    splits = _corpus(corpus, context)
    test_ids = {str(r.get("transcript_id")) for r in splits["test"]}
    test_texts = {(r.get("role"), " ".join(str(r.get("text")).split())) for r in splits["test"]}
    used = [r for r in records if r["session_id"] not in test_ids and (r["role"], " ".join(r["text"].split()))
            not in test_texts]
    if not used:
        raise ReviewError(db_path, f"no usable corrections ({len(records)} corrected utterance(s), "
                                   f"{len(records) - len(used)} of them in the test split)")
    keys = {(r["session_id"], r["utterance_id"]) for r in used}
    train = [r for r in splits["train"] if (str(r.get("transcript_id")), str(r.get("utterance_id"))) not in keys]
    train += [dict(r) for r in used for _ in range(max(1, cfg.correction_weight))]
    base_version = getattr(model, "version", None) or Path(model_path).name
    audit = store.audit_trail()
    audit = audit[(audit["status"] == "attached") & audit.apply(lambda a: (a.session_id, a.utterance_id) in keys,
                                                                 axis=1)]
    if cfg.annotators:
        audit = audit[audit["annotator"].isin([annotator_name(a) for a in cfg.annotators])]
    with tempfile.TemporaryDirectory(prefix="retrain-") as tmp:
        new, method = _fit_from(model, train, splits["validation"], dict(cfg.train), out.name, Path(tmp))
    base, fresh = split_scores(model, splits["test"]), split_scores(new, splits["test"])
    base_score, new_score = base["macro_f1"], fresh["macro_f1"]
    ok = bool(np.isnan(base_score) or new_score >= base_score - cfg.tolerance)
    info = {
        "written": ok, "out": str(out) if ok else None, "base_model": base_version, "new_version": out.name,
        "created_at": utc_now(), "method": method, "base_score": base_score, "new_score": new_score,
        "tolerance": cfg.tolerance,
        "reason": (f"written: test macro-F1 {new_score:.4f} is not worse than {base_score:.4f}" if ok else
                   f"not written: test macro-F1 {new_score:.4f} is worse than {base_score:.4f}"),
        "per_target": {k: (base.get(k, float("nan")), fresh.get(k, float("nan")))
                       for k in dict.fromkeys([*base, *fresh]) if k != "macro_f1"},
        "corrections": {"db": str(Path(db_path).resolve()), "utterances": len(used),
                        "sessions": len({r["session_id"] for r in used}), "weight": max(1, cfg.correction_weight),
                        "excluded_test": len(records) - len(used), "corrections": int(len(audit)),
                        "last_id": int(audit["id"].max()), "first_at": str(audit["created_at"].min()),
                        "last_at": str(audit["created_at"].max()),
                        "annotators": sorted({a for r in used for a in r["annotators"]}),
                        "guideline_versions": sorted(audit["guideline_version"].unique().tolist())},
        "corpus": {"train": len(train) - len(used) * max(1, cfg.correction_weight),
                   "validation": len(splits["validation"]), "test": len(splits["test"])},
        "train_overrides": {k: v for k, v in cfg.train.items()},
    }
    if ok:
        new.save(out)
        (out / "MODEL_CARD.md").write_text(model_card(info), encoding="utf-8")
        (out / "retraining.json").write_text(json.dumps(info, indent=2, default=str) + "\n", encoding="utf-8")
    return info


__all__ = ["RetrainConfig", "consensus_labels", "correction_records", "model_card", "retrain_from_corrections",
           "split_scores"]
