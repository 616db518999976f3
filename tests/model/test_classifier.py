"""UtteranceClassifier: learning, role masking, thresholds, coding, save/load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from coder.model.classifier import EXCLUSIVE, ModelError, UtteranceClassifier
from coder.model.layout import BEHAVIOURS
from coder.pipeline import load_transcripts
from coder.scheme import ALL_CODES, TALK_TYPES, THERAPIST_CODES
from coder.session import Session, Utterance
from tests.conftest import FIXTURES
from tests.model.tiny import TEMPLATES, corpus


@pytest.fixture(scope="module")
def mini():
    return load_transcripts([FIXTURES / "mini.txt"]).sessions


def _session(texts_roles):
    return [Session("s", [Utterance("s", str(i), i, r, r, None, None, t) for i, (r, t) in enumerate(texts_roles)])]


def test_classifier_training_lowers_loss_and_learns(fitted, tiny_config):
    losses = [h["train_loss"] for h in fitted.history_]
    assert losses[-1] < 0.6 * losses[0]
    untrained = UtteranceClassifier(tiny_config.__class__(**{**tiny_config.__dict__, "epochs": 0}), progress=False)
    untrained.fit(corpus(1), None)
    sessions = _session([(role, text) for role, text, _ in TEMPLATES])
    assert not np.allclose(untrained.predict_proba(sessions), fitted.predict_proba(sessions), atol=1e-3)
    coded = fitted.code(sessions)[0].utterances
    hits = sum(set(codes) <= set(u.codes) for u, (_, _, codes) in zip(coded, TEMPLATES))
    assert hits >= 9  # of 12 template utterances, all labels recovered


def test_classifier_role_masking(fitted, mini):
    sessions = mini + _session([("other", "hello"), ("therapist", "did you sleep?")])
    proba = fitted.predict_proba(sessions)
    roles = [u.role for s in sessions for u in s.utterances]
    names = fitted.classes_
    t_cols = [names.index(c) for c in THERAPIST_CODES if c in names]
    c_cols = [j for j, n in enumerate(names) if j not in t_cols]
    for row, role in zip(proba, roles):
        if role == "therapist":
            assert (row[c_cols] == 0).all() and (row[t_cols] > 0).all()
        elif role == "client":
            assert (row[t_cols] == 0).all()
            assert row[[names.index(t) for t in TALK_TYPES]].sum() == pytest.approx(1.0)
        else:
            assert (row == 0).all()
    for u in [u for s in fitted.code(sessions) for u in s.utterances]:
        allowed = set(THERAPIST_CODES) if u.role == "therapist" else set(ALL_CODES) - set(THERAPIST_CODES)
        assert set(u.codes) <= (allowed if u.role != "other" else set())
        if u.role == "client":
            assert len(set(u.codes) & set(TALK_TYPES)) == 1


def test_classifier_thresholds_are_applied(fitted, mini):
    import copy

    clf = copy.copy(fitted)
    clf.calibrator_ = copy.deepcopy(fitted.calibrator_)
    behaviours = set(clf.calibrator_.behaviours)
    assert behaviours == set(BEHAVIOURS)  # the default recipe scores them with the behaviour softmax
    names = [n for n in clf.classes_ if n not in TALK_TYPES and n not in behaviours]
    clf.calibrator_.thresholds = {n: 0.0 for n in names}
    coded = [u for s in clf.code(mini) for u in s.utterances]
    for u in coded:
        if u.role == "therapist":
            assert set(THERAPIST_CODES) - behaviours <= set(u.codes)  # every thresholded code kept
            assert len(behaviours & set(u.codes)) <= 1  # one behaviour at most, by argmax
            for a, b in EXCLUSIVE:
                assert len({a, b} & set(u.codes)) <= 1
    clf.calibrator_.thresholds = {n: 1.01 for n in names}
    coded = [u for s in clf.code(mini) for u in s.utterances]
    assert all(set(u.codes) <= set(TALK_TYPES) | behaviours for u in coded)
    assert all(len(u.codes) == 1 for u in coded if u.role == "client")


@pytest.mark.parametrize("favour, expected", [("question_open", {"question_open"}), ("other", set())])
def test_classifier_behaviour_offsets_pick_one_or_none(fitted, mini, favour, expected):
    import copy

    clf = copy.copy(fitted)
    clf.calibrator_ = copy.deepcopy(fitted.calibrator_)
    clf.calibrator_.behaviour_offsets = {favour: 50.0}
    for u in (u for s in clf.code(mini) for u in s.utterances if u.role == "therapist"):
        assert set(BEHAVIOURS) & set(u.codes) == expected
        assert sum(u.meta["proba"][b] for b in BEHAVIOURS) <= 1 + 1e-9


def test_classifier_without_behaviour_head_round_trips(tiny_config, mini, tmp_path):
    import coder.model

    cfg = tiny_config.__class__(**{**tiny_config.__dict__, "epochs": 1, "behaviour_head": False})
    clf = UtteranceClassifier(cfg, progress=False).fit(corpus(1), corpus(1, "v"))
    assert clf.network_.behaviour_head is None and clf.calibrator_.behaviours == ()
    loaded = coder.model.load(clf.save(tmp_path / "plain"))
    assert loaded.network_.behaviour_head is None
    np.testing.assert_array_equal(loaded.predict_proba(mini), clf.predict_proba(mini))


def test_classifier_code_carries_probabilities(fitted, mini):
    coded = fitted.code(mini)
    assert [u.text for u in coded[0].utterances] == [u.text for u in mini[0].utterances]
    assert mini[0].utterances[0].codes == []  # input untouched
    u = coded[0].utterances[0]
    assert set(u.meta["proba"]) == set(THERAPIST_CODES) and u.meta["coder_id"] == "model:tiny"


def test_classifier_save_load_round_trip_is_identical(fitted, saved_model, mini, monkeypatch):
    import coder.model
    import coder.model.encoder as enc

    weights = saved_model / "model.safetensors"
    assert weights.stat().st_size < 50e6
    from safetensors import safe_open

    with safe_open(str(weights), "pt") as f:
        assert {str(f.get_tensor(k).dtype) for k in f.keys()} <= {"torch.float16", "torch.int64"}
    # the saved folder is self-contained: no encoder package needed to load it
    monkeypatch.setattr(enc, "packaged_encoder_dir", lambda: (_ for _ in ()).throw(enc.EncoderError("no package")))
    loaded = coder.model.load(saved_model)
    assert loaded.classes_ == fitted.classes_ and loaded.coder_id == "model:tiny"
    np.testing.assert_array_equal(loaded.predict_proba(mini), fitted.predict_proba(mini))
    assert [u.codes for u in loaded.code(mini)[0].utterances] == [u.codes for u in fitted.code(mini)[0].utterances]
    meta = json.loads((saved_model / "config.json").read_text())
    assert meta["train_config"]["context_size"] == 2 and meta["scheme_version"] == "1"
    assert json.loads((saved_model / "thresholds.json").read_text())["thresholds"]


def test_classifier_load_errors_are_one_line(tmp_path, saved_model):
    with pytest.raises(ModelError, match="no model here") as info:
        UtteranceClassifier.load(tmp_path / "missing")
    assert "\n" not in str(info.value)
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(saved_model, bad)
    labels = json.loads((bad / "labels.json").read_text())
    labels["scheme_codes"] = labels["scheme_codes"][:-1]
    (bad / "labels.json").write_text(json.dumps(labels))
    with pytest.raises(ModelError, match="scheme"):
        UtteranceClassifier.load(bad)


def test_classifier_bf16_falls_back_to_fp32(tiny_config, monkeypatch):
    import coder.model.classifier as cl

    monkeypatch.setattr(cl, "bf16_supported", lambda: False)
    clf = UtteranceClassifier(tiny_config.__class__(**{**tiny_config.__dict__, "epochs": 1}), progress=False)
    clf.fit(corpus(1), corpus(1, "v"))
    assert clf.history_[0]["bf16"] is False


def test_classifier_unfitted_raises(mini):
    with pytest.raises(RuntimeError, match="not fitted"):
        UtteranceClassifier().predict_proba(mini)


def test_classifier_attention_dropout_and_fused_optimizer_options(tiny_config):
    from dataclasses import replace

    default = UtteranceClassifier.untrained(tiny_config, progress=False)
    assert {m.dropout_p for m in default.network_.modules() if hasattr(m, "dropout_p")} == {0.1}
    assert default._optimizer(10)[0].defaults["fused"] is None
    fast = UtteranceClassifier.untrained(replace(tiny_config, attention_dropout=0.0, fused_optimizer=True),
                                         progress=False)
    assert {m.dropout_p for m in fast.network_.modules() if hasattr(m, "dropout_p")} == {0.0}
    assert fast._optimizer(10)[0].defaults["fused"] is True
    model = UtteranceClassifier(replace(tiny_config, attention_dropout=0.0, fused_optimizer=True, epochs=2),
                                progress=False).fit(corpus(3, "train"), corpus(1, "val"))
    assert [h["epoch"] for h in model.history_] == [1, 2] and np.isfinite(model.history_[-1]["train_loss"])
