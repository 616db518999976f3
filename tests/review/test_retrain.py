"""Retraining from corrections: on a stand-in estimator (fast) and on the tiny real classifier."""

from __future__ import annotations

import json

import numpy as np
import pytest

from coder.review.retrain import RetrainConfig, consensus_labels, correction_records, retrain_from_corrections
from coder.review.store import Store
from coder.scheme import ALL_CODES
from tests.model.tiny import corpus
from tests.review.conftest import make_coded_dir
from tests.review.standin import StandIn

#: Utterances of the coded sessions under review; "test0" is a test-split transcript of the corpus.
CODED = [
    ("r1", "T", "therapist", "what do you want to change?", {"question_open": 0.9}),
    ("r1", "C", "client", "i want to change.", {"change_talk": 0.9}),
    ("r1", "T", "therapist", "you are doing great work.", {"information": 0.6}),
    ("r1", "C", "client", "i feel tired of this work.", {"neutral_talk": 0.8}),
    ("test0", "T", "therapist", "you are doing great work today.", {"information": 0.6}),
]
#: (session, utterance, codes) the annotator gives.
CORRECTIONS = [
    ("r1", "u002", ["affirmation"]),
    ("r1", "u003", ["sustain_talk", "c_complaint_activities"]),
    ("test0", "u000", ["affirmation"]),
]
SPLITS = {"train": corpus(6, "train"), "validation": corpus(2, "val"), "test": corpus(2, "test")}


@pytest.fixture
def corrected(tmp_path):
    coded = make_coded_dir(tmp_path / "coded", CODED)
    store = Store(coded / "corrections.sqlite")
    store.import_coded_dir(coded)
    for sid, uid, codes in CORRECTIONS:
        store.save_correction("alice", sid, uid, codes)
    return store


@pytest.fixture
def base_standin(tmp_path):
    return StandIn(version="standin-v1").fit(SPLITS["train"]).save(tmp_path / "models" / "standin-v1")


def _proba(model, records, code):
    return model.predict_proba_records(records)[:, ALL_CODES.index(code)]


def test_retrain_corrections_change_predictions_standin(corrected, base_standin, tmp_path):
    out = tmp_path / "models" / "standin-v2"
    records = correction_records(corrected, context_size=2)
    before = StandIn.load(base_standin)
    info = retrain_from_corrections(base_standin, corrected.path, out=out, corpus=SPLITS,
                                    config=RetrainConfig(load=StandIn.load))
    assert info["written"] and out.is_dir(), info["reason"]
    after = StandIn.load(out)
    target = [r for r in records if r["session_id"] == "r1"]
    assert _proba(after, target[:1], "affirmation")[0] > 0.5 > _proba(before, target[:1], "affirmation")[0]
    decided = after.decide(after.predict_proba_records(target), [r["role"] for r in target])
    assert decided[1, ALL_CODES.index("sustain_talk")] == 1
    assert decided[1, ALL_CODES.index("c_complaint_activities")] == 1
    assert info["corrections"]["utterances"] == 2 and info["corrections"]["excluded_test"] == 1
    assert info["new_score"] >= info["base_score"]


def test_retrain_writes_model_card(corrected, base_standin, tmp_path):
    out = tmp_path / "models" / "standin-v2"
    retrain_from_corrections(base_standin, corrected.path, out=out, corpus=SPLITS,
                             config=RetrainConfig(load=StandIn.load, correction_weight=3))
    card = (out / "MODEL_CARD.md").read_text()
    assert "from **standin-v1**" in card
    assert "Annotator corrections: 2 utterance(s) from 1 session(s), each repeated 3×" in card
    assert "Annotators: alice; guideline version(s): 1.1" in card
    assert "test split: 1 corrected utterance(s)" in card
    assert f"Corpus train split: {len(SPLITS['train'])} examples" in card
    info = json.loads((out / "retraining.json").read_text())
    assert info["base_model"] == "standin-v1" and info["new_version"] == "standin-v2"


def test_retrain_not_written_when_worse(corrected, base_standin, tmp_path):
    out = tmp_path / "models" / "standin-v2"
    info = retrain_from_corrections(base_standin, corrected.path, out=out, corpus=SPLITS,
                                    config=RetrainConfig(load=StandIn.load, tolerance=-1.0))
    assert not info["written"] and info["out"] is None and not out.exists()
    assert info["reason"].startswith("not written")


def test_retrain_refuses_existing_folder_and_no_corrections(tmp_path, base_standin):
    from coder.review.store import ReviewError

    coded = make_coded_dir(tmp_path / "coded", CODED)
    store = Store(coded / "c.sqlite")
    store.import_coded_dir(coded)
    with pytest.raises(ReviewError, match="no usable corrections"):
        retrain_from_corrections(base_standin, store.path, out=tmp_path / "new", corpus=SPLITS,
                                 config=RetrainConfig(load=StandIn.load))
    with pytest.raises(ReviewError, match="already exists"):
        retrain_from_corrections(base_standin, store.path, out=base_standin, corpus=SPLITS,
                                 config=RetrainConfig(load=StandIn.load))


def test_retrain_consensus_majority_and_latest(tmp_path):
    coded = make_coded_dir(tmp_path / "coded", CODED)
    store = Store(coded / "c.sqlite")
    store.import_coded_dir(coded)
    store.save_correction("ann", "r1", "u003", ["neutral_talk", "w_abstract"])
    store.save_correction("bob", "r1", "u003", ["sustain_talk", "w_abstract"])
    store.save_correction("cat", "r1", "u003", ["sustain_talk"])
    store.save_correction("ann", "r1", "u000", ["question_open"])
    store.save_correction("bob", "r1", "u000", ["question_open", "affirmation"])
    labels = {r["utterance_id"]: r["codes"] for r in consensus_labels(store)}
    assert labels["u003"] == ["sustain_talk", "w_abstract"]  # 2 of 3 for each
    assert labels["u000"] == ["question_open", "affirmation"]  # 1–1 tie goes to the latest (bob)
    records = {r["utterance_id"]: r for r in correction_records(store, context_size=2)}
    assert records["u003"]["context"] == "[C] i want to change.\n[T] you are doing great work."
    assert records["u003"]["labels"][ALL_CODES.index("w_abstract")] == 1.0


@pytest.mark.slow
def test_retrain_tiny_classifier_changes_predictions(corrected, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from coder.model.classifier import UtteranceClassifier
    from coder.model.config import TrainConfig
    from tests.model.tiny import tiny_encoder

    encoder = tiny_encoder(tmp_path / "encoder")
    # retraining mechanics only: without the behaviour head the tiny random encoder learns the
    # few corrected client rows within the test's epochs (the head itself is tested in tests/model)
    cfg = TrainConfig(encoder=str(encoder), epochs=6, batch_size=8, lr=1e-3, head_lr=1e-2, patience=10,
                      max_length=64, merges={}, bf16=False, threads=2, behaviour_head=False)
    base_dir = UtteranceClassifier(cfg, version="tiny-v1", progress=False).fit(
        SPLITS["train"], SPLITS["validation"]).save(tmp_path / "models" / "tiny-v1")
    out = tmp_path / "models" / "tiny-v2"
    info = retrain_from_corrections(base_dir, corrected.path, out=out, corpus=SPLITS,
                                    config=RetrainConfig(tolerance=1.0, correction_weight=6,
                                                        train={"epochs": 4, "batch_size": 16}))
    assert info["written"], info["reason"]
    assert info["method"] == "encoder warm start, new heads"
    from coder.model import load

    before, after = load(base_dir), load(out)
    target = [r for r in correction_records(corrected, context_size=2) if r["session_id"] == "r1"]
    p0, p1 = before.predict_proba_records(target), after.predict_proba_records(target)
    names = list(after.classes_)
    for row, code in ((0, "affirmation"), (1, "sustain_talk"), (1, "c_complaint_activities")):
        j = names.index(code)
        assert p1[row, j] > p0[row, j] + 0.2, (code, p0[row, j], p1[row, j])
    roles = [r["role"] for r in target]
    decided_before, decided_after = before.decide(p0, roles), after.decide(p1, roles)
    assert not np.array_equal(decided_before, decided_after)
    assert decided_after[1, names.index("sustain_talk")] == 1
    assert json.loads((out / "config.json").read_text())["version"] == "tiny-v2"
