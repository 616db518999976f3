"""Build the training corpus as a Hugging Face ``DatasetDict`` with transcript-level splits.

Every example carries the utterance, its context (previous utterances with ``[T]``/``[C]``
role markers) and two label views:

``labels`` / ``label_mask``
    Multi-hot over :data:`coder.scheme.ALL_CODES` (scheme order): the labels as annotated.
    The mask is 1 for codes the utterance's role may carry *and* its source can speak to
    (all of them for AnnoMI and constructed rows; :data:`coder.data.welivita.OBSERVED_CODES`
    for Welivita rows). Use these for evaluation and analysis.
``train_labels`` / ``train_mask``
    Multi-hot over :data:`TRAIN_LABELS`: the reliability plan applied
    (``annotation_guidelines/reliability.md``). Codes in :data:`TRAINING_MERGES` are not
    trained on their own; they count towards their family label (``withdrawal``,
    ``confrontation``, ``harmful``), which is trained for every row whose role and source
    observe all its members. **Train the classifier on these.**

Splits are made over AnnoMI transcripts (stratified by ``mi_quality``, fixed seed), so no
transcript is in two splits; Welivita and constructed examples go to ``train`` only.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from datasets import Dataset, DatasetDict, Features, Sequence, Value
from sklearn.model_selection import StratifiedKFold, train_test_split

from coder.data.annomi import ANNOMI_LICENCE, load_annomi, transcript_metadata
from coder.data.constructed import load_constructed, mark
from coder.data.labels import join_labels, load_labels
from coder.data.mibot import mibot_frame, read_mibot_labels
from coder.data.rewrites import drop_targets, excluded_targets, read_rewrites, rewrite_frame
from coder.data.welivita import OBSERVED_CODES, load_welivita
from coder.scheme import ALL_CODES, RUPTURE_MARKERS, codes_for_role
from coder.scheme import FAMILY_LABELS as SCHEME_FAMILY_LABELS

SPLITS = ("train", "validation", "test")
SOURCES = ("annomi", "welivita", "constructed", "rewrite", "mibot")
CONTEXT_SEP = "\n"
N_TEST, N_VAL = 21, 11

#: Family labels trained alongside the codes (derived from the codes, never annotated).
FAMILY_MEMBERS = {name: SCHEME_FAMILY_LABELS[name] for name in ("withdrawal", "confrontation", "harmful")}
FAMILY_LABELS = tuple(FAMILY_MEMBERS)
#: The reliability plan (reliability.md): codes too rare in the double-coded subset to show a
#: kappa (< 5 positive utterances) or below 0.4, that have a natural family, train only as
#: that family. Their code-level labels stay in ``labels`` for analysis.
TRAINING_MERGES: dict[str, str] = {
    "w_denial": "withdrawal",
    "w_minimal_response": "withdrawal",
    "w_abstract": "withdrawal",
    "w_topic_shift": "withdrawal",
    "w_content_affect_split": "withdrawal",
    "w_self_criticism_hopelessness": "withdrawal",
    "c_complaint_therapist": "confrontation",
    "c_complaint_activities": "confrontation",
    "c_complaint_progress": "confrontation",
    "c_control_pressure": "confrontation",
    "self_disclosure_unhelpful": "harmful",
}
#: Codes removed from training altogether (none at present; see reliability.md).
DROPPED: frozenset[str] = frozenset()
#: Codes kept at code level although their kappa could not be estimated (< 5 positives in
#: the double-coded subset): their scores are reported as "reliability not established".
UNVALIDATED = ("empathic_validation", "affect_exploration", "metacommunication")
#: Codes whose decision rule is sharpened in guideline v1.1 (rule ids as in reliability.md).
#: S3 is applied to the labels mechanically (coder.data.labels.final_codes); the others shape
#: the constructed examples and near-misses, and future (re-)annotation.
SHARPENED: dict[str, tuple[str, ...]] = {
    "directing": ("S1", "S2", "S3", "S4"),
    "collaboration": ("S2", "S3"),
    "rigid_structure": ("S5",),
    "dismiss_invalidate": ("S5", "S9"),
    "empathic_validation": ("S6",),
    "affect_exploration": ("S7",),
    "metacommunication": ("S8", "S9"),
    "confront_criticize": ("S10",),
    "w_denial": ("S11",),
    "w_minimal_response": ("S12",),
    "w_deferential": ("S12",),
    "w_content_affect_split": ("S13",),
    "w_self_criticism_hopelessness": ("S14",),
    "c_reject_intervention": ("S12", "S15"),
    "c_complaint_therapist": ("S16",),
    "c_complaint_activities": ("S16",),
    "c_complaint_parameters": ("S16",),
    "c_complaint_progress": ("S16",),
    "c_defend_self": ("S17",),
    "c_control_pressure": ("S18",),
}
TRAIN_LABELS: tuple[str, ...] = tuple(
    c for c in ALL_CODES if c not in TRAINING_MERGES and c not in DROPPED) + FAMILY_LABELS

FEATURES = Features({
    "example_id": Value("string"), "transcript_id": Value("string"), "utterance_id": Value("string"),
    "role": Value("string"), "text": Value("string"), "context": Value("string"),
    "codes": Sequence(Value("string")), "labels": Sequence(Value("float32")),
    "label_mask": Sequence(Value("float32")), "train_labels": Sequence(Value("float32")),
    "train_mask": Sequence(Value("float32")), "source": Value("string"), "licence": Value("string"),
    "mi_quality": Value("string"),
})


def label_vectors(codes, role: str, observed=None) -> dict[str, list[float]]:
    """The four label vectors of one example.

    Parameters
    ----------
    codes : iterable of str
        The example's codes.
    role : str
        ``therapist`` or ``client``.
    observed : iterable of str, optional
        Codes the source can speak to (default: all); the masks are 0 elsewhere.

    Returns
    -------
    dict
        ``labels, label_mask`` over ``ALL_CODES``; ``train_labels, train_mask`` over
        :data:`TRAIN_LABELS`. A family is masked unless every member is observed.
    """
    codes = set(codes)
    allowed = set(codes_for_role(role)) & (set(observed) if observed is not None else set(ALL_CODES))
    labels = [1.0 if c in codes else 0.0 for c in ALL_CODES]
    mask = [1.0 if c in allowed else 0.0 for c in ALL_CODES]
    train, tmask = [], []
    for name in TRAIN_LABELS:
        if name in FAMILY_MEMBERS:
            members = FAMILY_MEMBERS[name]
            train.append(1.0 if codes & set(members) else 0.0)
            tmask.append(1.0 if set(members) <= allowed else 0.0)
        else:
            train.append(1.0 if name in codes else 0.0)
            tmask.append(1.0 if name in allowed else 0.0)
    return {"labels": labels, "label_mask": mask, "train_labels": train, "train_mask": tmask}


def format_context(items, context: int) -> str:
    """The last ``context`` marked utterances joined with :data:`CONTEXT_SEP` ('' for 0)."""
    items = list(items)
    return CONTEXT_SEP.join(items[-context:]) if context > 0 and items else ""


def split_transcripts(meta: pd.DataFrame, *, n_test: int = N_TEST, n_val: int = N_VAL,
                      seed: int = 13) -> dict[str, list[str]]:
    """Transcript ids per split, stratified by ``mi_quality``.

    Parameters
    ----------
    meta : pandas.DataFrame
        ``transcript_id, mi_quality`` (:func:`coder.data.annomi.transcript_metadata`).
    n_test, n_val : int
        Numbers of transcripts in test and validation; the rest is train.
    seed : int

    Returns
    -------
    dict
        ``{"train": [...], "validation": [...], "test": [...]}``, ids sorted.
    """
    meta = meta.assign(_k=pd.to_numeric(meta.transcript_id, errors="coerce")).sort_values(["_k", "transcript_id"])
    ids, strata = meta.transcript_id.to_numpy(), meta.mi_quality.to_numpy()
    rest, test, rest_s, _ = train_test_split(ids, strata, test_size=n_test, stratify=strata, random_state=seed)
    train, val = train_test_split(rest, test_size=n_val, stratify=rest_s, random_state=seed)
    key = lambda t: (len(t), t)  # noqa: E731 - numeric-looking ids in numeric order
    return {"train": sorted(train, key=key), "validation": sorted(val, key=key), "test": sorted(test, key=key)}


def transcript_folds(k: int = 5, seed: int = 13, *, annomi_path=None, include_test: bool = False,
                     n_test: int = N_TEST, n_val: int = N_VAL) -> list[tuple[list[str], list[str]]]:
    """Transcript-level cross-validation folds, stratified by ``mi_quality``.

    Parameters
    ----------
    k : int
        Number of folds.
    seed : int
        Seed of the fold assignment (and of the test split it leaves out).
    annomi_path : path-like, optional
    include_test : bool
        False (default) folds only the train + validation transcripts of
        :func:`split_transcripts` with the same ``seed``, ``n_test`` and ``n_val``, so the test
        split stays untouched; True folds all 105 transcripts.

    Returns
    -------
    list of (list of str, list of str)
        ``(fit_transcripts, heldout_transcripts)`` per fold; held-out sets are disjoint.
    """
    meta = transcript_metadata(annomi_path)
    if not include_test:
        test = set(split_transcripts(meta, n_test=n_test, n_val=n_val, seed=seed)["test"])
        meta = meta[~meta.transcript_id.isin(test)]
    ids, strata = meta.transcript_id.to_numpy(), meta.mi_quality.to_numpy()
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(ids, strata)
    return [(sorted(ids[a], key=lambda t: (len(t), t)), sorted(ids[b], key=lambda t: (len(t), t))) for a, b in folds]


def annomi_examples(joined: pd.DataFrame, context: int) -> list[dict]:
    """Examples for every AnnoMI utterance of ``joined`` (:func:`coder.data.labels.join_labels`)."""
    rows = []
    for tid, group in joined.groupby("transcript_id", sort=False):
        history: list[str] = []
        for r in group.sort_values("order").itertuples(index=False):
            rows.append({"example_id": f"annomi:{tid}:{r.utterance_id}", "transcript_id": tid,
                         "utterance_id": r.utterance_id, "role": r.role, "text": r.text,
                         "context": format_context(history, context), "codes": list(r.codes),
                         **label_vectors(r.codes, r.role), "source": "annomi", "licence": ANNOMI_LICENCE,
                         "mi_quality": r.mi_quality})
            history.append(mark(r.role, r.text))
    return rows


def extra_examples(frame: pd.DataFrame, context: int, *, observed=None, anchored: bool = False) -> list[dict]:
    """Train-only examples from a Welivita, constructed, rewrite or MIBot frame (``example_id,
    role, text, context`` as a list, ``codes``, ``source``, ``licence``).

    ``anchored`` keeps the frame's ``transcript_id`` (a rewrite's source transcript), so that
    a fold holding that transcript out also drops the example; otherwise it is the source name.
    """
    return [{"example_id": r.example_id, "transcript_id": r.transcript_id if anchored else r.source,
             "utterance_id": r.example_id,
             "role": r.role, "text": r.text, "context": format_context(r.context, context), "codes": list(r.codes),
             **label_vectors(r.codes, r.role, observed), "source": r.source, "licence": r.licence, "mi_quality": ""}
            for r in frame.itertuples(index=False)]


def build_dataset(*, annomi_path=None, labels_dir=None, context: int = 2, seed: int = 13, n_test: int = N_TEST,
                  n_val: int = N_VAL, include_welivita: bool = True, include_constructed: bool = True,
                  welivita_dir=None, constructed_path=None, include_rewrites: bool = True,
                  include_mibot: bool = True, rewrites_path=None, mibot_labels=None, recode: bool = True,
                  rewrite_exclude=()) -> DatasetDict:
    """The corpus as a ``DatasetDict`` with ``train``, ``validation`` and ``test``.

    Parameters
    ----------
    annomi_path : path-like, optional
        AnnoMI CSV (default ``../shared/data/annomi/AnnoMI-full.csv``).
    labels_dir : path-like, optional
        Folder of the first-pass label files (default ``data/annotations/first_pass``).
    context : int
        Previous utterances given as context (0 for none).
    seed, n_test, n_val : int
        Split seed and the numbers of test and validation transcripts.
    include_welivita, include_constructed : bool
        Add the train-only extra sources.
    welivita_dir, constructed_path : path-like, optional
        Override their default locations.
    include_rewrites, include_mibot : bool
        Add the counterfactual rewrites (``coder.data.rewrites``; only those of *train*
        transcripts, so validation and test never meet a rewrite of themselves) and the
        project's MIBot labels (``coder.data.mibot``) to train.
    rewrites_path, mibot_labels : path-like, optional
        Override their default locations (a file or a folder).
    recode : bool
        Withdrawal codes from the guideline-1.1 recode (``coder.data.labels.join_labels``; the
        default); False keeps the first pass's.
    rewrite_exclude : iterable of str
        Rewrite targets (codes or families, ``coder.data.rewrites.drop_targets``) left out.

    Returns
    -------
    datasets.DatasetDict
        Columns as in :data:`FEATURES`; see the module docstring for the label views.
    """
    annomi = load_annomi(annomi_path)
    joined = join_labels(annomi, load_labels(labels_dir, annomi=annomi), recode=recode)
    splits = split_transcripts(transcript_metadata(annomi), n_test=n_test, n_val=n_val, seed=seed)
    examples = pd.DataFrame(annomi_examples(joined, context))
    parts = {name: examples[examples.transcript_id.isin(ids)].to_dict("records") for name, ids in splits.items()}
    if include_welivita:
        parts["train"] += extra_examples(load_welivita(welivita_dir), context, observed=OBSERVED_CODES)
    if include_constructed:
        parts["train"] += extra_examples(load_constructed(constructed_path), context)
    if include_rewrites:
        rewrites = drop_targets(read_rewrites(rewrites_path), rewrite_exclude)
        if len(rewrites):
            frame = rewrite_frame(rewrites[rewrites.transcript_id.isin(splits["train"])], joined)
            parts["train"] += extra_examples(frame, context, anchored=True)
    if include_mibot:
        labels = read_mibot_labels(mibot_labels)
        if len(labels):
            parts["train"] += extra_examples(mibot_frame(labels), context, anchored=True)
    description = json.dumps({"label_names": list(ALL_CODES), "train_label_names": list(TRAIN_LABELS),
                              "training_merges": TRAINING_MERGES, "dropped": sorted(DROPPED),
                              "unvalidated": list(UNVALIDATED), "sharpened": SHARPENED, "seed": seed,
                              "context": context, "recode": recode,
                              "rewrite_exclude": excluded_targets(rewrite_exclude) if include_rewrites else [],
                              "split_transcripts": splits})
    out = DatasetDict()
    for name in SPLITS:
        columns = {col: [row[col] for row in parts[name]] for col in FEATURES}
        out[name] = Dataset.from_dict(columns, features=FEATURES)
        out[name].info.description = description
    return out


def label_counts(dataset: DatasetDict) -> pd.DataFrame:
    """Positive examples per code (and family, and in total) × split, with train by source.

    Parameters
    ----------
    dataset : datasets.DatasetDict
        From :func:`build_dataset`.

    Returns
    -------
    pandas.DataFrame
        Index: ``ALL_CODES``, then ``withdrawal, confrontation, rupture, harmful`` (derived),
        then ``examples`` (rows in the split); columns: the splits, then
        ``train:<source>`` for each source present in train.
    """
    def counts(ds) -> list[int]:
        y = np.asarray(ds["labels"], dtype=float).reshape(len(ds), len(ALL_CODES))
        idx = {c: i for i, c in enumerate(ALL_CODES)}
        fam = lambda members: int((y[:, [idx[c] for c in members]].sum(axis=1) > 0).sum())  # noqa: E731
        return [int(v) for v in y.sum(axis=0)] + [fam(FAMILY_MEMBERS["withdrawal"]), fam(FAMILY_MEMBERS["confrontation"]),
                                                    fam(RUPTURE_MARKERS), fam(FAMILY_MEMBERS["harmful"]), len(ds)]
    index = list(ALL_CODES) + ["withdrawal", "confrontation", "rupture", "harmful", "examples"]
    table = {name: counts(dataset[name]) for name in dataset}
    train = dataset["train"]
    sources = train["source"]
    for source in SOURCES:
        rows = [i for i, s in enumerate(sources) if s == source]
        if rows:
            table[f"train:{source}"] = counts(train.select(rows))
    return pd.DataFrame(table, index=index)


def build_and_report(out: str | Path | None = None, *, show: bool = True, **options) -> tuple[DatasetDict, pd.DataFrame]:
    """Build the dataset, print the label-count table and optionally save everything.

    Parameters
    ----------
    out : path-like, optional
        When given: ``DatasetDict.save_to_disk(out)``, plus ``label_counts.csv`` and
        ``manifest.json`` (label names, merges, split transcripts, sources and licences).
    show : bool
        Print the table.
    **options
        Passed to :func:`build_dataset`.

    Returns
    -------
    (datasets.DatasetDict, pandas.DataFrame)
        The dataset and :func:`label_counts`.
    """
    dataset = build_dataset(**options)
    table = label_counts(dataset)
    if show:
        print(table.to_string())
    if out is not None:
        out = Path(out)
        dataset.save_to_disk(str(out))
        table.to_csv(out / "label_counts.csv", index_label="code")
        manifest = json.loads(dataset["train"].info.description)
        manifest["licences"] = sorted(set(dataset["train"]["licence"]))
        manifest["evaluation_sources"] = ["annomi"]
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return dataset, table
