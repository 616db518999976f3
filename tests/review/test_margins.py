"""The review queue ranks by closeness to each code's own decision rule (log-odds margin)."""

from __future__ import annotations

import json
import math

import pytest

from coder.review.app import AppConfig, create_app
from coder.review.margins import DecisionRules, decisions, find_rules, least_sure, logit
from coder.review.store import Store
from tests.review.conftest import make_coded_dir

RULES = {"thresholds": {"affirmation": 0.1, "empathic_validation": 0.7, "directing": 0.5},
         "talk_offsets": {"change_talk": 0.0, "sustain_talk": 0.6, "neutral_talk": -0.2},
         "behaviour_offsets": {"question_open": -0.4, "question_closed": -0.9, "reflection_simple": -0.1,
                               "reflection_complex": 0.0, "information": 0.2, "other": 0.0}}
TALK = {"change_talk": 0.1, "sustain_talk": 0.1, "neutral_talk": 0.8}


def test_margins_threshold_distance_in_log_odds():
    rules = DecisionRules(thresholds={"affirmation": 0.1})
    close = decisions({"affirmation": 0.12}, rules)[0]
    far = decisions({"directing": 0.3}, rules)[0]  # default threshold 0.5
    assert close.margin == pytest.approx(abs(logit(0.12) - logit(0.1)))
    assert far.margin == pytest.approx(abs(logit(0.3)))
    assert close.margin < far.margin  # p 0.12 against 0.10 is the closer call than p 0.30 against 0.50
    assert close.describe() == "affirmation: p 0.12 vs threshold 0.10" and close.assigned


@pytest.mark.parametrize("offsets, expected_top", [({}, "neutral_talk"), ({"sustain_talk": 1.0}, "sustain_talk")])
def test_margins_talk_type_is_an_argmax_with_offsets(offsets, expected_top):
    rules = DecisionRules(talk_offsets=offsets)
    d = least_sure({"change_talk": 0.2, "sustain_talk": 0.35, "neutral_talk": 0.45}, rules)
    assert d.rule == "talk type" and d.code == expected_top
    scores = {c: math.log(p) + offsets.get(c, 0.0) for c, p in {"change_talk": 0.2, "sustain_talk": 0.35,
                                                                  "neutral_talk": 0.45}.items()}
    top, second = sorted(scores.values(), reverse=True)[:2]
    assert d.margin == pytest.approx(top - second)


def test_margins_behaviour_argmax_includes_other():
    rules = DecisionRules(behaviour_offsets=RULES["behaviour_offsets"])
    proba = {"question_open": 0.3, "question_closed": 0.05, "reflection_simple": 0.05, "reflection_complex": 0.05,
             "information": 0.05, "affirmation": 0.9}
    d = [x for x in decisions(proba, rules) if x.rule == "behaviour"][0]
    # other = 0.5 (offset 0) beats question_open 0.3 (offset −0.4)
    assert (d.code, d.rival) == ("other", "question_open") and not d.assigned
    assert d.margin == pytest.approx(math.log(0.5) - (math.log(0.3) - 0.4))
    assert "no behaviour code 0.50 over question_open 0.30" in d.describe()


def test_margins_rules_from_folder_then_named_model_then_default(tmp_path):
    coded = make_coded_dir(tmp_path / "coded")
    models = tmp_path / "models"
    (models / "tiny-test").mkdir(parents=True)
    (models / "tiny-test" / "thresholds.json").write_text(json.dumps({"thresholds": {"affirmation": 0.3}}))
    assert find_rules(coded, "model:tiny-test", models_dir=models).threshold("affirmation") == 0.3
    (coded / "thresholds.json").write_text(json.dumps(RULES))
    rules = find_rules(coded, "model:tiny-test", models_dir=models)
    assert rules.threshold("affirmation") == 0.1 and rules.source == str((coded / "thresholds.json").resolve())
    other = tmp_path / "other-model"
    other.mkdir()
    (other / "thresholds.json").write_text(json.dumps({"thresholds": {"affirmation": 0.2}}))
    run = make_coded_dir(tmp_path / "run")
    (run / "run.json").write_text(json.dumps({"model_path": str(other)}))
    assert find_rules(run, "model:tiny-test", models_dir=models).threshold("affirmation") == 0.2
    default = find_rules(tmp_path / "elsewhere", "model:unknown", models_dir=models)
    assert default.source == "default" and default.threshold("affirmation") == 0.5
    assert find_rules(None, "model:../tiny-test", models_dir=models / "x").source == "default"  # no path tricks


def test_margins_rules_of_the_shipped_model_by_coder_id(tmp_path, monkeypatch):
    models = tmp_path / "models"
    (models / "shipped-v9").mkdir(parents=True)
    (models / "shipped-v9" / "thresholds.json").write_text(json.dumps(RULES))
    monkeypatch.setattr("coder.model.default_model_path", lambda: models / "shipped-v9")
    coded = make_coded_dir(tmp_path / "coded", model_id="model:shipped-v9")
    store = Store(tmp_path / "db.sqlite")
    store.import_coded_dir(coded)
    assert store.meta()["decision_rules"].endswith("shipped-v9/thresholds.json")


#: Utterances whose largest min(p, 1 − p) is 0.50 (a coin-toss talk type) yet whose decisions are clear
#: on the model's own scale, and a few real close calls against tuned thresholds.
QUEUE = [
    ("q1", "C", "client", "Half and half.", {"neutral_talk": 0.5, "change_talk": 0.1, "sustain_talk": 0.4}),
    ("q1", "T", "therapist", "You did well.", {"affirmation": 0.12}),
    ("q1", "C", "client", "Maybe.", {"neutral_talk": 0.5, "change_talk": 0.45, "sustain_talk": 0.05}),
    ("q1", "T", "therapist", "Go on.", {"directing": 0.3}),
    ("q1", "T", "therapist", "I hear you.", {"empathic_validation": 0.5}),
    ("q1", "C", "client", "No idea.", {"neutral_talk": 0.5, "change_talk": 0.25, "sustain_talk": 0.25}),
]


@pytest.fixture
def queue_store(tmp_path):
    coded = make_coded_dir(tmp_path / "coded", QUEUE)
    (coded / "thresholds.json").write_text(json.dumps(RULES))
    store = Store(coded / "corrections.sqlite")
    store.import_coded_dir(coded)
    return store


def test_margins_queue_ranks_close_calls_on_the_models_scale(queue_store):
    queue = queue_store.uncertain_queue("alice")
    order = queue["text"].tolist()
    assert order.index("You did well.") < order.index("Go on.")  # t 0.1, p 0.12 above t 0.5, p 0.3
    # first: change_talk 0.45 beats neutral_talk 0.50 only through the offsets (margin 0.09)
    assert queue.iloc[0].text == "Maybe." and queue.iloc[0].decision["code"] == "change_talk"
    assert queue.iloc[0].margin == pytest.approx(math.log(0.45) - (math.log(0.5) - 0.2))
    well = queue[queue.text == "You did well."].iloc[0]
    assert well.decision["code"] == "affirmation" and well.decision["threshold"] == 0.1
    assert queue["margin"].is_monotonic_increasing
    # the old rank (largest min(p, 1 − p)) put every 0.50 first; the queue's top is not all 0.50
    old = sorted(QUEUE, key=lambda u: -max(min(p, 1 - p) for p in u[4].values()))
    assert all(max(min(p, 1 - p) for p in u[4].values()) == 0.5 for u in old[:4])
    top = [d["p"] for d in queue["decision"].head(3)]
    assert top != [0.5] * 3


def test_margins_index_page_names_the_uncertain_decision(queue_store):
    client = create_app(queue_store, AppConfig(annotator="alice", token="t")).test_client()
    client.get("/?token=t")
    html = client.get("/").get_data(as_text=True)
    assert "affirmation: p 0.12 vs threshold 0.10" in html
    assert html.index("You did well.") < html.index("Go on.")
    assert str(queue_store.meta()["decision_rules"]) in html
    assert "change_talk 0.45 over neutral_talk 0.50 (talk type)" in html
    assert client.get("/next").headers["Location"] == "/session/q1?focus=u002&queue=1"
