"""The dataset builder: transcript-level splits, no leakage, label vectors and masks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coder.data.build import (CONTEXT_SEP, FAMILY_MEMBERS, TRAIN_LABELS, TRAINING_MERGES, format_context,
                              label_counts, label_vectors, split_transcripts, transcript_folds)
from coder.scheme import ALL_CODES, codes_for_role
from tests.data.conftest import needs_annomi


def _meta(n_high=40, n_low=10):
    ids = [str(i) for i in range(n_high + n_low)]
    return pd.DataFrame({"transcript_id": ids, "mi_quality": ["high"] * n_high + ["low"] * n_low})


def test_build_split_transcripts_is_disjoint_stratified_and_seeded():
    meta = _meta()
    splits = split_transcripts(meta, n_test=10, n_val=5, seed=13)
    sets = [set(v) for v in splits.values()]
    assert sum(map(len, sets)) == 50 and set.union(*sets) == set(meta.transcript_id)
    assert all(not (a & b) for i, a in enumerate(sets) for b in sets[i + 1:])
    low = set(meta[meta.mi_quality == "low"].transcript_id)
    assert len(set(splits["test"]) & low) == 2 and len(set(splits["validation"]) & low) == 1
    assert split_transcripts(meta, n_test=10, n_val=5, seed=13) == splits
    assert split_transcripts(meta, n_test=10, n_val=5, seed=14) != splits


@pytest.mark.parametrize("codes, role", [
    (["question_open", "directing"], "therapist"),
    (["change_talk", "w_denial", "c_defend_self"], "client"),
    ([], "client"),
])
def test_build_label_vectors_respect_role_mask(codes, role):
    v = label_vectors(codes, role)
    assert len(v["labels"]) == len(v["label_mask"]) == len(ALL_CODES)
    assert [c for c, y in zip(ALL_CODES, v["labels"]) if y] == [c for c in ALL_CODES if c in codes]
    assert [c for c, m in zip(ALL_CODES, v["label_mask"]) if m] == list(codes_for_role(role))
    assert len(v["train_labels"]) == len(v["train_mask"]) == len(TRAIN_LABELS)


def test_build_merged_codes_train_as_their_family():
    assert not set(TRAINING_MERGES) & set(TRAIN_LABELS)
    v = label_vectors(["neutral_talk", "w_denial"], "client")
    train = dict(zip(TRAIN_LABELS, v["train_labels"]))
    mask = dict(zip(TRAIN_LABELS, v["train_mask"]))
    assert train["withdrawal"] == 1 and train["confrontation"] == 0 and mask["withdrawal"] == 1
    assert mask["harmful"] == 0
    w = label_vectors(["directing"], "therapist", observed=["directing", "information"])
    assert dict(zip(TRAIN_LABELS, w["train_mask"]))["harmful"] == 0
    assert [c for c, m in zip(ALL_CODES, w["label_mask"]) if m] == ["information", "directing"]
    assert set(FAMILY_MEMBERS) <= set(TRAIN_LABELS)


def test_build_format_context_takes_last_items():
    items = ["[T] a", "[C] b", "[T] c"]
    assert format_context(items, 2) == "[C] b" + CONTEXT_SEP + "[T] c"
    assert format_context(items, 0) == "" and format_context([], 2) == ""


def test_build_no_transcript_in_two_splits(dataset):
    ids = {name: set(dataset[name].filter(lambda s: s == "annomi", input_columns="source")["transcript_id"])
           for name in dataset}
    assert not ids["train"] & ids["test"] and not ids["validation"] & ids["test"]
    assert not ids["train"] & ids["validation"]
    assert len(ids["train"] | ids["validation"] | ids["test"]) == 105
    assert sum(len(dataset[n].filter(lambda s: s == "annomi", input_columns="source")) for n in dataset) == 7758


def test_build_extra_sources_only_in_train(dataset):
    assert set(dataset["validation"]["source"]) == {"annomi"} and set(dataset["test"]["source"]) == {"annomi"}
    assert {"annomi", "welivita", "constructed"} <= set(dataset["train"]["source"])
    assert set(dataset["train"]["source"]) <= {"annomi", "welivita", "constructed", "rewrite", "mibot"}


def test_build_rewrites_only_of_train_transcripts(dataset):
    train_ids = set(dataset["train"].filter(lambda s: s == "annomi", input_columns="source")["transcript_id"])
    rewrites = dataset["train"].filter(lambda s: s == "rewrite", input_columns="source")
    assert set(rewrites["transcript_id"]) <= train_ids
    licences = dict(zip(dataset["train"]["source"], dataset["train"]["licence"]))
    assert licences["welivita"] == "CC BY-NC-SA 3.0"


def test_build_label_vectors_respect_masks_everywhere(dataset):
    for name in dataset:
        ds = dataset[name].with_format("numpy")
        y, m = np.stack(ds["labels"]), np.stack(ds["label_mask"])
        assert ((y == 1) & (m == 0)).sum() == 0, name
        roles = np.array(dataset[name]["role"])
        for role in ("therapist", "client"):
            allowed = np.array([c in codes_for_role(role) for c in ALL_CODES])
            assert not m[roles == role][:, ~allowed].any(), (name, role)
        code_cols = [i for i, c in enumerate(TRAIN_LABELS) if c in ALL_CODES]
        ty, tm = np.stack(ds["train_labels"])[:, code_cols], np.stack(ds["train_mask"])[:, code_cols]
        assert ((ty == 1) & (tm == 0)).sum() == 0, name


def test_build_context_is_previous_utterances_of_same_transcript(dataset, joined):
    test = dataset["test"]
    row = next(r for r in test if r["utterance_id"] == "3")
    prev = joined[(joined.transcript_id == row["transcript_id"]) & joined.order.isin([1, 2])].sort_values("order")
    expected = CONTEXT_SEP.join(f"[{'T' if r.role == 'therapist' else 'C'}] {' '.join(r.text.split())}"
                                for r in prev.itertuples())
    assert row["context"] == expected
    first = next(r for r in test if r["utterance_id"] == "0")
    assert first["context"] == ""


def test_build_label_counts_table(dataset):
    table = label_counts(dataset)
    assert list(table.columns[:3]) == ["train", "validation", "test"]
    assert table.loc["examples", ["train", "validation", "test"]].tolist() == [len(dataset[n]) for n in
                                                                             ("train", "validation", "test")]
    assert table.loc["examples", "train"] == table.loc["examples", [c for c in table.columns if ":" in c]].sum()


@needs_annomi
def test_build_transcript_folds_are_disjoint_and_exclude_test():
    from coder.data.annomi import transcript_metadata
    folds = transcript_folds(k=5, seed=13)
    test = set(split_transcripts(transcript_metadata(), seed=13)["test"])
    held = [set(h) for _, h in folds]
    assert len(folds) == 5 and not set.union(*held) & test
    assert sum(map(len, held)) == len(set.union(*held)) == 105 - len(test)
    assert all(not (set(fit) & set(h)) for fit, h in folds)
    assert len(set().union(*map(set, (h for _, h in transcript_folds(k=5, include_test=True))))) == 105
