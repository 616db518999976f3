"""Corrections stay attached to the text they were made on: re-coding a reviewed folder with
another segmentation orphans them (listed, kept), never moves them onto other utterances."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

import coder.cli_review  # noqa: F401 - registers review on coder.cli.app
from coder.cli import app as cli
from coder.review import labelstudio as ls
from coder.review.app import AppConfig, create_app
from coder.review.store import ReviewError, Store
from coder.scheme import THERAPIST_CODES
from tests.review.conftest import make_coded_dir

#: Sentence-segmented coding of two sessions (ids u000, u001, … per session, in order).
SEGMENTED = [
    ("s1", "T", "therapist", "Hello, thanks for coming in.", {"affirmation": 0.3}),
    ("s1", "T", "therapist", "Would it be okay to talk about your drinking?", {"question_closed": 0.8}),
    ("s1", "C", "client", "Sure, that sounds fine.", {"neutral_talk": 0.8, "change_talk": 0.1, "sustain_talk": 0.1}),
    ("s1", "T", "therapist", "What made you decide to come?", {"question_open": 0.9}),
    ("s1", "C", "client", "My partner worried.", {"neutral_talk": 0.6, "change_talk": 0.3, "sustain_talk": 0.1}),
    ("s1", "C", "client", "And I worry too.", {"change_talk": 0.6, "neutral_talk": 0.3, "sustain_talk": 0.1}),
    ("s2", "T", "therapist", "How was the week?", {"question_open": 0.9}),
    ("s2", "C", "client", "Better than the last one.", {"change_talk": 0.7, "neutral_talk": 0.2,
                                                          "sustain_talk": 0.1}),
]
#: The same transcripts re-coded with every turn whole (``code --no-segment``): s1 has fewer, merged
#: utterances, so its ids now name other text (u001 is the client's line); s2 is unchanged.
WHOLE_TURNS = [
    ("s1", "T", "therapist", "Hello, thanks for coming in. Would it be okay to talk about your drinking?",
     {"question_closed": 0.7}),
    ("s1", "C", "client", "Sure, that sounds fine.", {"neutral_talk": 0.8, "change_talk": 0.1, "sustain_talk": 0.1}),
    ("s1", "T", "therapist", "What made you decide to come?", {"question_open": 0.9}),
    ("s1", "C", "client", "My partner worried. And I worry too.", {"change_talk": 0.5, "neutral_talk": 0.4,
                                                                     "sustain_talk": 0.1}),
] + SEGMENTED[6:]

#: (annotator, session, utterance, codes) made on the segmented coding.
CORRECTIONS = [
    ("alice", "s1", "u000", ["affirmation"]),
    ("alice", "s1", "u001", ["question_open", "affirmation"]),  # therapist codes on a therapist line
    ("alice", "s1", "u002", ["change_talk"]),
    ("alice", "s1", "u003", ["question_open"]),
    ("alice", "s1", "u004", ["sustain_talk"]),
    ("alice", "s1", "u005", ["change_talk", "w_abstract"]),
    ("bob", "s1", "u002", ["neutral_talk"]),
    ("alice", "s2", "u000", ["question_open", "affirmation"]),
    ("bob", "s2", "u001", ["change_talk"]),
]


@pytest.fixture
def recoded(tmp_path):
    """A reviewed folder, then a copy of it (database included) re-coded with whole turns."""
    reviewed = make_coded_dir(tmp_path / "rv1", SEGMENTED)
    store = Store(reviewed / "corrections.sqlite")
    store.import_coded_dir(reviewed)
    for who, sid, uid, codes in CORRECTIONS:
        store.save_correction(who, sid, uid, codes)
    copy = tmp_path / "rv2"
    shutil.copytree(reviewed, copy)
    make_coded_dir(copy, WHOLE_TURNS)  # `code ... -o rv2 --no-segment` over the copy
    return reviewed, copy


def _text(folder, sid, uid) -> str:
    frame = pd.read_csv(folder / "utterances.csv", dtype=str)
    return frame[(frame.session_id == sid) & (frame.utterance_id == uid)].text.iloc[0]


def test_attach_recode_orphans_instead_of_moving(recoded):
    reviewed, copy = recoded
    store = Store(copy / "corrections.sqlite")
    assert store.import_coded_dir(copy) == len(WHOLE_TURNS)
    assert len(store.utterances()) == len(WHOLE_TURNS)  # the old table is replaced, not merged
    current = store.current_labels()
    # only the unchanged session keeps its labels; every s1 key now names other text
    assert sorted(zip(current.annotator, current.session_id, current.utterance_id)) == [
        ("alice", "s2", "u000"), ("bob", "s2", "u001")]
    orphans = store.orphans()
    assert len(orphans) == 7 and set(orphans.session_id) == {"s1"}
    assert len(current) + len(orphans) == len(CORRECTIONS)  # nothing lost
    assert store.attachment() == {"attached": 2, "orphaned": 7, "unverified": 0}
    # the client's "Sure, that sounds fine." (now u001) never receives the therapist codes made at u001
    assert _text(copy, "s1", "u001") == "Sure, that sounds fine."
    assert current[(current.session_id == "s1")].empty
    assert store.progress("alice", "s1") == (0, 4)
    # each orphan remembers its text; a unique same-text utterance is named as a hint only
    hint = orphans.set_index(["annotator", "utterance_id"])
    assert hint.loc[("alice", "u002"), "text"] == "Sure, that sounds fine."
    assert hint.loc[("alice", "u002"), "same_text_at"] == "u001"
    assert hint.loc[("alice", "u003"), "same_text_at"] == "u002"
    assert hint.loc[("alice", "u001"), "same_text_at"] == ""  # merged away
    assert "orphaned" in store.attachment_warning()


def test_attach_new_labels_and_switching_back_keep_both(recoded):
    reviewed, copy = recoded
    store = Store(copy / "corrections.sqlite")
    store.import_coded_dir(copy)
    saved = store.save_correction("alice", "s1", "u001", ["neutral_talk"])
    assert saved["old_codes"] == "neutral_talk"  # the model's codes of this text, not the orphan's
    assert store.current_labels("alice").query("session_id == 's1'").new_codes.tolist() == ["neutral_talk"]
    store.import_coded_dir(reviewed)  # back to the segmented table: the first labels re-attach by id + text
    current = store.current_labels()
    alice = current[(current.annotator == "alice") & (current.session_id == "s1")]
    assert dict(zip(alice.utterance_id, alice.new_codes)) == {
        "u000": "affirmation", "u001": "question_open;affirmation", "u002": "change_talk", "u003": "question_open",
        "u004": "sustain_talk", "u005": "change_talk;w_abstract"}
    assert store.orphans()[["utterance_id", "new_codes"]].values.tolist() == [["u001", "neutral_talk"]]
    assert len(store.audit_trail()) == len(CORRECTIONS) + 1  # nothing deleted


def test_attach_exports_say_which_are_orphaned(recoded, tmp_path):
    _, copy = recoded
    out = tmp_path / "labels.csv"
    result = CliRunner().invoke(cli, ["review", str(copy), "--export-csv", str(out)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "7 correction(s) no longer match" in warnings[0]
    labels = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(labels) == len(CORRECTIONS)
    assert labels.status.value_counts().to_dict() == {"orphaned": 7, "attached": 2}
    text_of = pd.read_csv(copy / "utterances.csv", dtype=str).set_index(["session_id", "utterance_id"]).text
    for row in labels[labels.status == "attached"].itertuples():
        assert row.text == text_of[(row.session_id, row.utterance_id)]
    client = labels[(labels.session_id == "s1") & (labels.utterance_id == "u001")]
    assert set(client.status) == {"orphaned"} and set(client.role) == {"therapist"}
    therapist_coded = labels[labels.codes.str.split(";").map(lambda cs: bool(set(cs) & set(THERAPIST_CODES)))]
    assert set(therapist_coded.role) == {"therapist"}

    tasks = tmp_path / "ls" / "tasks.json"
    result = CliRunner().invoke(cli, ["review", str(copy), "--export-labelstudio", str(tasks)])
    assert result.exit_code == 0, result.output
    exported = json.loads(tasks.read_text())
    on_tasks = [(t["data"]["session_id"], t["data"]["utterance_id"]) for t in exported for _ in t["annotations"]]
    assert sorted(on_tasks) == [("s2", "u000"), ("s2", "u001")]
    orphaned = pd.read_csv(ls.orphans_path(tasks), dtype=str, keep_default_na=False)
    assert len(orphaned) == 7 and set(orphaned.status) == {"orphaned"}

    result = CliRunner().invoke(cli, ["review", str(copy), "--export-csv", str(tmp_path / "audit.csv"), "--audit"])
    audit = pd.read_csv(tmp_path / "audit.csv", dtype=str)
    assert result.exit_code == 0 and audit.status.value_counts().to_dict() == {"orphaned": 7, "attached": 2}


def test_attach_csv_of_orphans_reimports_as_orphans(recoded, tmp_path):
    reviewed, copy = recoded
    store = Store(copy / "corrections.sqlite")
    store.import_coded_dir(copy)
    ls.export_corrections_csv(store, tmp_path / "labels.csv")
    fresh = Store(tmp_path / "fresh.sqlite")
    fresh.import_coded_dir(copy)
    assert ls.import_corrections_csv(fresh, tmp_path / "labels.csv") == len(CORRECTIONS)
    assert fresh.attachment() == store.attachment()  # orphans stay orphans, by text, not by id
    back = Store(tmp_path / "back.sqlite")
    back.import_coded_dir(reviewed)
    ls.import_corrections_csv(back, tmp_path / "labels.csv")
    assert back.attachment() == {"attached": len(CORRECTIONS), "orphaned": 0, "unverified": 0}


def test_attach_labelstudio_task_of_other_text_is_orphaned(recoded):
    reviewed, copy = recoded
    old = Store(reviewed / "corrections.sqlite")
    tasks = ls.export_tasks(old)
    store = Store(copy / "corrections.sqlite")
    store.import_coded_dir(copy)
    fresh = Store(copy / "fresh.sqlite")
    fresh.import_coded_dir(copy)
    assert ls.import_annotations(fresh, tasks) == len(CORRECTIONS)
    assert fresh.attachment()["orphaned"] == 7 and fresh.current_labels().query("session_id == 's1'").empty


def test_attach_app_banner_and_stale_page_refused(recoded):
    _, copy = recoded
    store = Store(copy / "corrections.sqlite")
    store.import_coded_dir(copy)
    client = create_app(store, AppConfig(annotator="alice", token="t")).test_client()
    client.get("/?token=t")
    html = client.get("/").get_data(as_text=True)
    assert 'id="orphan-banner"' in html and '<b id="orphan-count">7</b>' in html
    page = client.get("/session/s1").get_data(as_text=True)
    assert 'data-saved="neutral_talk"' in page  # u001, the client line, shows the model's codes only
    stale = {"session_id": "s1", "utterance_id": "u001", "codes": ["neutral_talk"],
             "text_hash": store.orphans().query("utterance_id == 'u001'").text_hash.iloc[0]}
    r = client.post("/api/label", json=stale, headers={"X-Review-Token": "t"})
    assert r.status_code == 400 and "no longer the text" in r.get_json()["error"]
    fresh = dict(stale, text_hash=store.utterances("s1").set_index("utterance_id").text_hash["u001"])
    assert client.post("/api/label", json=fresh, headers={"X-Review-Token": "t"}).get_json()["ok"]
    with pytest.raises(ReviewError, match="no longer the text"):
        store.save_correction("bob", "s1", "u001", ["neutral_talk"], text_hash=stale["text_hash"])
