"""Evaluation against expert labels, and transcript-level cross-validation.

Every metric is computed on the rows where the label was decided (``label_mask``) and the
role may carry the code. Thresholds and calibration come from the model (tuned on its
validation split); nothing here tunes on the data it scores.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from coder.metrics import binary_metrics
from coder.model.layout import BEHAVIOURS, FAMILIES, ROLE_IDS, Layout
from coder.scheme import TALK_TYPES, family

#: AnnoMI's fine therapist codes (the issue's headline fine-code macro-F1).
ANNOMI_FINE_CODES = BEHAVIOURS
#: Columns of the per-code tables; ``binary_metrics`` (``coder.metrics``) gives the metric ones.
METRIC_COLUMNS = ["family", "precision", "recall", "f1", "kappa", "support", "predicted", "n"]


def target_family(name: str) -> str:
    """The scheme family of a code, or ``derived`` for a family label predicted as a whole."""
    return "derived" if name in FAMILIES else family(name)


def per_code_metrics(truth: np.ndarray, pred: np.ndarray, use: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """One row per target: :data:`METRIC_COLUMNS`, over the rows where ``use`` is true.

    Parameters
    ----------
    truth, pred, use : ndarray (n, len(names))
        Expert labels, model decisions (0/1) and which cells count (decided and allowed).
    names : sequence of str
        Targets, the columns.
    """
    rows = {}
    for j, name in enumerate(names):
        rows[name] = {"family": target_family(name), **binary_metrics(truth[use[:, j], j], pred[use[:, j], j])}
    return pd.DataFrame.from_dict(rows, orient="index", columns=METRIC_COLUMNS)


def family_macro(per_code: pd.DataFrame) -> pd.DataFrame:
    """Macro averages of precision, recall, F1 and kappa per family, over codes with support."""
    present = per_code[per_code["support"] > 0]
    table = present.groupby("family", sort=False)[["precision", "recall", "f1", "kappa"]].mean()
    table["codes"] = present.groupby("family", sort=False).size()
    table["support"] = present.groupby("family", sort=False)["support"].sum()
    return table


def talk_confusion(truth: np.ndarray, pred: np.ndarray, use: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """Talk-type confusion counts: rows = expert label, columns = model label."""
    idx = [list(names).index(t) for t in TALK_TYPES]
    rows = use[:, idx].all(1) & (truth[:, idx].sum(1) == 1) & (pred[:, idx].sum(1) == 1)
    t, p = truth[np.ix_(rows, idx)].argmax(1), pred[np.ix_(rows, idx)].argmax(1)
    counts = np.zeros((len(idx), len(idx)), dtype=int)
    np.add.at(counts, (t, p), 1)
    return pd.DataFrame(counts, index=pd.Index(TALK_TYPES, name="expert"), columns=pd.Index(TALK_TYPES, name="model"))


def headline(per_code: pd.DataFrame) -> dict[str, float]:
    """The issue's headline figures: AnnoMI fine-code and talk-type macro-F1, family macro-F1s."""
    def macro(codes):
        sub = per_code.loc[[c for c in codes if c in per_code.index]]
        sub = sub[sub["support"] > 0]
        return float(sub["f1"].mean()) if len(sub) else float("nan")
    out = {"annomi_fine_macro_f1": macro(ANNOMI_FINE_CODES), "talk_type_macro_f1": macro(TALK_TYPES)}
    for name, row in family_macro(per_code).iterrows():
        out[f"{name}_macro_f1"] = float(row["f1"])
    return out


@dataclass
class Evaluation:
    """What :func:`evaluate` returns.

    Attributes
    ----------
    per_code : pandas.DataFrame
        :func:`per_code_metrics`.
    families : pandas.DataFrame
        :func:`family_macro`.
    confusion : pandas.DataFrame
        :func:`talk_confusion`.
    summary : dict
        :func:`headline`.
    predictions : pandas.DataFrame or None
        Per scored utterance: ``transcript_id, utterance_id, role, codes`` (decided, ``;``-joined)
        and ``p_<target>`` probabilities; ids only, never text (set by :func:`evaluate`).
    """

    per_code: pd.DataFrame
    families: pd.DataFrame
    confusion: pd.DataFrame
    summary: dict = field(default_factory=dict)
    predictions: pd.DataFrame | None = None


def score_decisions(truth, pred, mask, roles, layout: Layout) -> Evaluation:
    """An :class:`Evaluation` of decisions ``pred`` against ``truth`` (all over ``layout.names``)."""
    ids = [ROLE_IDS.get(str(r or "").lower(), 2) for r in roles]
    use = (np.asarray(mask) > 0.5) & layout.allowed(ids)
    truth, pred = np.asarray(truth) > 0.5, np.asarray(pred) > 0.5
    per_code = per_code_metrics(truth, pred, use, layout.names)
    return Evaluation(per_code, family_macro(per_code), talk_confusion(truth, pred, use, layout.names),
                      headline(per_code))


def evaluate(model, records: Sequence[dict], batch_size: int | None = None) -> Evaluation:
    """Score a fitted classifier on corpus records (e.g. the test split) with its own thresholds.

    The summary also holds ``episode_precision`` and ``episode_recall``: rupture episodes from
    the model's marker codes against episodes built from the labels
    (:mod:`coder.model.episode_agreement`: markers at most 3 utterances apart, a match overlaps
    within 1 utterance).
    """
    records = [dict(r) for r in records]
    roles = [r.get("role") for r in records]
    proba = model.predict_proba_records(records, batch_size)
    truth, mask = model.layout_.arrays(records)
    decided = model.decide(proba, roles)
    result = score_decisions(truth, decided, mask, roles, model.layout_)
    names = list(model.layout_.names)
    from coder.model.episode_agreement import episode_agreement

    episode_truth = np.where(np.asarray(mask) > 0.5, np.asarray(truth), 0)
    episodes = episode_agreement(records, episode_truth, decided, names)
    result.summary.update(episode_precision=episodes["episode_precision"], episode_recall=episodes["episode_recall"])
    result.predictions = pd.concat([
        pd.DataFrame({"transcript_id": [r.get("transcript_id") for r in records],
                      "utterance_id": [r.get("utterance_id") for r in records], "role": roles,
                      "codes": [";".join(n for n, d in zip(names, row) if d) for row in decided]}),
        pd.DataFrame(proba, columns=[f"p_{n}" for n in names]).round(4),
    ], axis=1)
    return result


@dataclass
class CrossValidation:
    """What :func:`cross_validate` returns.

    Attributes
    ----------
    per_fold : pandas.DataFrame
        Long table: ``fold``, ``target`` and the :data:`METRIC_COLUMNS`.
    per_code : pandas.DataFrame
        Per target: mean and sd over folds of precision, recall, F1 and kappa, and total support.
    summary : pandas.DataFrame
        Headline figures per fold (rows) with ``mean`` and ``sd`` rows appended.
    confusion : pandas.DataFrame
        Talk-type confusion summed over folds.
    predictions : pandas.DataFrame
        Out-of-fold predictions for every held-out utterance, with its ``fold`` (ids only): every
        transcript coded by a model that did not see it, as the roll-up's validity check needs.
    """

    per_fold: pd.DataFrame
    per_code: pd.DataFrame
    summary: pd.DataFrame
    confusion: pd.DataFrame
    predictions: pd.DataFrame | None = None


def fold_sets(records: Sequence[dict], fit_ids: Sequence[str], held_ids: Sequence[str], fold: int, *,
              extra_train: Sequence[dict] = (), validation_share: float = 0.15,
              seed: int = 13) -> tuple[list[dict], list[dict], list[dict]]:
    """The training, validation and held-out examples of one fold (see :func:`cross_validate`).

    Parameters
    ----------
    records : sequence of dict
        Evaluation-grade examples with ``transcript_id``.
    fit_ids, held_ids : sequence of str
        The fold's fit and held-out transcripts.
    fold : int
        The fold's number; with ``seed`` it seeds the validation draw (``seed + fold``).
    extra_train, validation_share, seed
        As in :func:`cross_validate`.

    Returns
    -------
    (list of dict, list of dict, list of dict)
        Train (fit transcripts less validation, plus the extras not anchored in a validation or
        held-out transcript), validation and held-out examples.
    """
    fit_ids = sorted(fit_ids)
    n_val = max(1, round(len(fit_ids) * validation_share))
    val_ids = set(random.Random(seed + fold).sample(fit_ids, n_val))
    held = set(held_ids)
    # an extra example anchored in a transcript (a rewrite of it) leaves with that transcript
    extra = [r for r in extra_train if r.get("transcript_id") not in held | val_ids]
    train = [r for r in records if r["transcript_id"] in set(fit_ids) - val_ids] + extra
    val = [r for r in records if r["transcript_id"] in val_ids]
    test = [r for r in records if r["transcript_id"] in held]
    return train, val, test


def combine_folds(evaluations: Sequence[Evaluation]) -> CrossValidation:
    """The cross-validation tables from each fold's :class:`Evaluation` (fold ``k`` at position ``k``).

    The one aggregation: :func:`cross_validate` uses it for the folds it trains and the folds a
    resumed run reads back (``coder.model.cv_store``), so both give the same tables.
    """
    rows, summaries, confusion, predictions = [], [], None, []
    for k, result in enumerate(evaluations):
        rows.append(result.per_code.rename_axis("target").reset_index().assign(fold=k))
        if result.predictions is not None:
            predictions.append(result.predictions.assign(fold=k))
        summaries.append(pd.Series(result.summary, name=k))
        confusion = result.confusion if confusion is None else confusion + result.confusion
    per_fold = pd.concat(rows, ignore_index=True)
    stats = per_fold.groupby("target", sort=False)[["precision", "recall", "f1", "kappa"]].agg(["mean", "std"])
    stats.columns = [f"{m}_{s.replace('std', 'sd')}" for m, s in stats.columns]
    stats["support"] = per_fold.groupby("target", sort=False)["support"].sum()
    stats.insert(0, "family", per_fold.groupby("target", sort=False)["family"].first())
    summary = pd.DataFrame(summaries)
    summary.index.name = "fold"
    summary = pd.concat([summary, summary.mean().to_frame("mean").T, summary.std().to_frame("sd").T])
    oof = pd.concat(predictions, ignore_index=True) if predictions else None
    return CrossValidation(per_fold, stats, summary, confusion, oof)


def cross_validate(records: Sequence[dict], folds: Sequence[tuple[Sequence[str], Sequence[str]]],
                   make_model: Callable[[], object], *, extra_train: Sequence[dict] = (),
                   validation_share: float = 0.15, seed: int = 13,
                   on_fold: Callable[[int, Evaluation], None] | None = None,
                   done: Mapping[int, Evaluation] | None = None,
                   checkpoints: str | Path | None = None) -> CrossValidation:
    """Transcript-level cross-validation: train per fold, score the held-out transcripts.

    In each fold a seeded share of the *fit* transcripts is held back as validation (early
    stopping, calibration, thresholds); the held-out transcripts are only ever scored.

    Parameters
    ----------
    records : sequence of dict
        Evaluation-grade examples with ``transcript_id`` (AnnoMI).
    folds : sequence of (fit ids, held-out ids)
        From ``coder.data.build.transcript_folds``.
    make_model : callable
        Returns a fresh, unfitted classifier (``fit``, ``predict_proba_records``, ``decide``).
    extra_train : sequence of dict
        Train-only examples (Welivita, constructed, rewrites, MIBot) added to every fold's
        training set, except those whose ``transcript_id`` is one of the fold's validation or
        held-out transcripts (rewrites of those transcripts).
    validation_share : float
        Share of fit transcripts used as validation.
    seed : int
        Seeds the validation draw.
    on_fold : callable, optional
        Called with (fold number, its Evaluation) after each fold trained here.
    done : mapping of int to Evaluation, optional
        Folds already scored by an earlier run of the same recipe
        (``coder.model.cv_store.FoldStore.completed``): taken as they are, not retrained.
    checkpoints : path-like, optional
        A folder for per-epoch training checkpoints (``fold<k>.pt``), so a fold killed mid-way
        resumes at its last finished epoch; each is removed once its fold is kept by ``on_fold``.
    """
    records = [dict(r) for r in records]
    done = done or {}
    evaluations = []
    for k, (fit_ids, held_ids) in enumerate(folds):
        if k in done:
            evaluations.append(done[k])
            continue
        train, val, test = fold_sets(records, fit_ids, held_ids, k, extra_train=extra_train,
                                     validation_share=validation_share, seed=seed)
        checkpoint = Path(checkpoints) / f"fold{k}.pt" if checkpoints is not None else None
        model = make_model()
        result = evaluate(model.fit(train, val) if checkpoint is None else model.fit(train, val, checkpoint=checkpoint),
                          test)
        if on_fold:
            on_fold(k, result)
        if checkpoint is not None:
            checkpoint.unlink(missing_ok=True)
        evaluations.append(result)
    return combine_folds(evaluations)
