"""Label Studio JSON and CSV: export, import, round trips."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from coder.review import labelstudio as ls
from coder.review.store import ReviewError, Store
from coder.scheme import ALL_CODES
from tests.review.conftest import MODEL_ID, make_coded_dir

LABELS = {("alice", "s1", "u000"): "question_open;affirmation",
          ("alice", "s1", "u001"): "sustain_talk;c_complaint_parameters",
          ("bob", "s1", "u001"): "neutral_talk",
          ("bob", "s2", "u001"): ""}


def _fill(store):
    for (who, sid, uid), codes in LABELS.items():
        store.save_correction(who, sid, uid, codes.split(";") if codes else [])


def _labels(store) -> dict:
    current = store.current_labels()
    return {(r.annotator, r.session_id, r.utterance_id): r.new_codes for r in current.itertuples()}


def _fresh(tmp_path, name="other"):
    coded = make_coded_dir(tmp_path / name)
    store = Store(coded / "corrections.sqlite")
    store.import_coded_dir(coded)
    return store


def test_labelstudio_tasks_carry_predictions_with_scores(store, tmp_path):
    tasks = ls.export_tasks(store, tmp_path / "tasks.json", annotations=False)
    assert len(tasks) == 9  # the "other" utterance is no task
    first = tasks[0]
    assert first["data"]["text"] == "What brings you here today?" and first["data"]["role"] == "therapist"
    pred = first["predictions"][0]
    assert pred["model_version"] == MODEL_ID
    assert pred["result"][0]["value"]["choices"] == ["question_open"]
    assert pred["result"][0]["type"] == "choices" and 0.5 < pred["score"] <= 1
    assert first["data"]["model_scores"]["question_open"] == 0.91
    assert tasks[2]["data"]["context"].splitlines() == ["[T] T: What brings you here today?",
                                                        "[C] C: My doctor sent me."]
    assert json.loads((tmp_path / "tasks.json").read_text()) == tasks
    xml = ET.fromstring((tmp_path / "tasks.label_config.xml").read_text())
    choices = xml.find("Choices")
    assert choices.get("name") == "codes" and choices.get("toName") == "text" and choices.get("choice") == "multiple"
    assert [c.get("value") for c in choices] == list(ALL_CODES)
    assert all(c.get("hint") for c in choices)


def test_labelstudio_json_round_trip_same_labels(store, tmp_path):
    _fill(store)
    path = tmp_path / "export.json"
    ls.export_tasks(store, path)
    other = _fresh(tmp_path)
    assert ls.import_annotations(other, path) == 4
    assert _labels(other) == _labels(store) == {k: v for k, v in LABELS.items()}
    assert set(other.audit_trail()["source"]) == {"labelstudio"}
    assert ls.import_annotations(other, path) == 0  # the same export twice adds nothing


def test_labelstudio_import_of_a_completed_project_export(store):
    tasks = ls.export_tasks(store, annotations=False)
    export = []
    for i, task in enumerate(tasks[:3]):
        choices = task["predictions"][0]["result"][0]["value"]["choices"]
        if i == 1:
            choices = ["sustain_talk", "c_reject_intervention"]
        export.append({**task, "id": 100 + i, "annotations": [
            {"id": 7 + i, "completed_by": 3, "was_cancelled": False, "created_at": "2024-05-01T10:00:00.000Z",
             "updated_at": "2024-05-01T10:00:00.000Z",
             "result": [{"from_name": "codes", "to_name": "text", "type": "choices", "value": {"choices": choices}}]},
            {"id": 99, "completed_by": 4, "was_cancelled": True, "result": []}]})
    export.append({"id": 200, "data": tasks[3]["data"], "annotations": [
        {"id": 11, "completed_by": {"id": 5, "email": "dana@lab.org"}, "result": [
            {"from_name": "codes", "type": "taxonomy", "value": {"taxonomy": [["Client", "neutral_talk"]]}}]}]})
    n = ls.import_annotations(store, export, config=ls.LabelStudioConfig(users={3: "carol"}))
    assert n == 4
    got = _labels(store)
    assert got[("carol", "s1", "u001")] == "sustain_talk;c_reject_intervention"
    assert got[("carol", "s1", "u000")] == "question_open"
    assert got[("dana@lab.org", "s1", "u003")] == "neutral_talk"
    assert "labelstudio-4" not in store.annotators()  # cancelled annotation skipped


def test_labelstudio_json_min_export(store):
    rows = [{"id": 1, "session_id": "s1", "utterance_id": "u001", "text": "My doctor sent me.",
             "codes": {"choices": ["sustain_talk", "c_complaint_parameters"]}, "annotator": "erin@lab.org",
             "annotation_id": 5}, {"id": 2, "session_id": "s1", "utterance_id": "u000", "codes": "question_open",
                                   "annotator": "erin@lab.org", "annotation_id": 6}]
    assert ls.import_annotations(store, rows) == 2
    assert _labels(store)[("erin@lab.org", "s1", "u001")] == "sustain_talk;c_complaint_parameters"


def test_labelstudio_import_refuses_bad_tasks_atomically(store):
    good = {"data": {"session_id": "s1", "utterance_id": "u000"}, "annotations": [
        {"id": 1, "completed_by": 1, "result": [{"type": "choices", "value": {"choices": ["question_open"]}}]}]}
    bad = {"data": {"session_id": "s1", "utterance_id": "u001"}, "annotations": [
        {"id": 2, "completed_by": 1, "result": [{"type": "choices", "value": {"choices": ["question_open"]}}]}]}
    with pytest.raises(ReviewError, match="not allowed on a client"):
        ls.import_annotations(store, [good, bad])
    with pytest.raises(ReviewError, match="no session_id"):
        ls.import_annotations(store, [{"data": {"text": "x"}, "annotations": []}])
    assert store.audit_trail().empty


def test_labelstudio_csv_round_trip(store, tmp_path):
    _fill(store)
    frame = ls.export_corrections_csv(store, tmp_path / "labels.csv")
    assert list(frame.columns[:4]) == ["annotator", "session_id", "utterance_id", "codes"]
    other = _fresh(tmp_path)
    assert ls.import_corrections_csv(other, tmp_path / "labels.csv") == 4
    assert _labels(other) == _labels(store)
    audit = ls.export_corrections_csv(store, tmp_path / "audit.csv", audit=True)
    assert list(audit.columns) == ["id", "annotator", "created_at", "session_id", "utterance_id", "old_codes",
                                   "new_codes", "guideline_version", "source", "note", "role", "text_hash",
                                   "verified", "status"]
    assert set(audit["status"]) == {"attached"} and set(frame["status"]) == {"attached"}


def test_labelstudio_csv_import_needs_annotator_and_columns(store, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("session_id,utterance_id,codes\ns1,u000,question_open;affirmation\n")
    with pytest.raises(ReviewError, match="no annotator"):
        ls.import_corrections_csv(store, path)
    assert ls.import_corrections_csv(store, path, annotator="fay") == 1
    assert _labels(store)[("fay", "s1", "u000")] == "question_open;affirmation"
    path.write_text("session,codes\ns1,x\n")
    with pytest.raises(ReviewError, match="missing column"):
        ls.import_corrections_csv(store, path, annotator="fay")
