"""The corrections store: audit trail, current labels, concurrency, durability, progress and queue."""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from coder.review.store import ReviewError, Store, default_db_path, read_coded_dir
from tests.review.conftest import MODEL_ID, make_coded_dir

ROOT = Path(__file__).resolve().parents[2]


def test_store_import_reads_model_codes_probabilities_and_coder_id(store):
    utts = store.utterances()
    assert len(utts) == 10 and store.sessions() == ["s1", "s2"]
    first = utts.iloc[0]
    assert first.model_codes == ["question_open"] and first.proba["question_open"] == pytest.approx(0.91)
    assert store.meta()["model_coder_id"] == MODEL_ID
    # "Not really.": its closest call is w_minimal_response at 0.48 against the default 0.5
    assert utts.iloc[3].decision["code"] == "w_minimal_response"
    assert utts.iloc[3].margin == pytest.approx(abs(math.log(0.48 / 0.52)))
    assert utts.iloc[-1].margin is None or utts.iloc[-1].margin != utts.iloc[-1].margin  # "other": no decision
    assert utts.iloc[-1].role == "other" and utts.iloc[-1].proba == {}


def test_store_audit_trail_records_who_when_what(store):
    store.save_correction("annotator:alice", "s1", "u001", ["sustain_talk", "c_complaint_parameters"])
    store.save_correction("alice", "s1", "u001", ["neutral_talk"], guideline_version="1.2", note="second look")
    store.save_correction("bob", "s1", "u001", ["neutral_talk"])
    trail = store.audit_trail()
    assert trail[["annotator", "session_id", "utterance_id"]].values.tolist() == [["alice", "s1", "u001"]] * 2 + \
        [["bob", "s1", "u001"]]
    assert trail["old_codes"].tolist() == ["neutral_talk", "sustain_talk;c_complaint_parameters", "neutral_talk"]
    assert trail["new_codes"].tolist() == ["sustain_talk;c_complaint_parameters", "neutral_talk", "neutral_talk"]
    assert trail["guideline_version"].tolist() == ["1.1", "1.2", "1.1"]
    assert trail["note"].tolist() == ["", "second look", ""]
    assert all(t.endswith("Z") and t[:4].isdigit() for t in trail["created_at"])
    assert trail["created_at"].is_monotonic_increasing
    current = store.current_labels()
    assert current[["annotator", "new_codes"]].values.tolist() == [["alice", "neutral_talk"], ["bob", "neutral_talk"]]


def test_store_audit_trail_is_append_only(store):
    store.save_correction("alice", "s1", "u000", ["question_open"])
    with store.connect() as con:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("UPDATE corrections SET new_codes = ''")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute("DELETE FROM corrections")
    assert len(store.audit_trail()) == 1


def test_store_refuses_unknown_utterance_and_wrong_role_codes(store):
    with pytest.raises(ReviewError, match="no utterance"):
        store.save_correction("alice", "s1", "nope", [])
    with pytest.raises(ReviewError, match="not allowed on a client"):
        store.save_correction("alice", "s1", "u001", ["question_open"])
    with pytest.raises(ReviewError, match="annotator name"):
        store.save_correction("", "s1", "u001", [])
    # a batch is all or nothing
    with pytest.raises(ReviewError):
        store.save_corrections([{"annotator": "a", "session_id": "s1", "utterance_id": "u000", "codes": []},
                                {"annotator": "a", "session_id": "s1", "utterance_id": "u001", "codes": ["x"]}])
    assert store.audit_trail().empty


def test_store_wal_mode_and_reimport_keeps_corrections(store, coded_dir):
    with store.connect() as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.save_correction("alice", "s1", "u000", ["affirmation"])
    assert store.import_coded_dir(coded_dir) == 10
    assert len(store.utterances()) == 10
    assert store.current_labels("alice")["codes"].tolist() == [["affirmation"]]
    assert default_db_path(coded_dir) == coded_dir / "corrections.sqlite"


def test_store_progress_and_uncertain_queue(store):
    assert store.progress("alice") == (0, 9)  # the "other" utterance is not reviewable
    queue = store.uncertain_queue("alice")
    assert queue["margin"].is_monotonic_increasing
    # two margins of logit(0.52) tie (u003's w_minimal_response 0.48, s2/u002's reflection_complex 0.52):
    # transcript order breaks the tie
    assert (queue.iloc[0].session_id, queue.iloc[0].utterance_id) == ("s1", "u003")
    store.save_correction("alice", "s1", "u003", ["neutral_talk"])
    assert store.progress("alice") == (1, 9) and store.progress("alice", "s1") == (1, 6)
    assert store.progress("bob") == (0, 9)
    assert ("s1", "u003") not in set(zip(*store.uncertain_queue("alice")[["session_id", "utterance_id"]].values.T))


def test_store_long_table_annotators_dense_model_decisions(store):
    store.save_correction("alice", "s1", "u001", ["sustain_talk", "w_denial"])
    long = store.long_table()
    alice = long[long.coder_id == "annotator:alice"].set_index("code")["score"]
    assert alice["sustain_talk"] == 1 and alice["w_denial"] == 1 and alice["withdrawal"] == 1
    assert alice["neutral_talk"] == 0 and alice["confrontation"] == 0
    model = long[(long.coder_id == MODEL_ID) & (long.utterance_id == "u001") & (long.session_id == "s1")]
    assert set(model.score) == {0.0, 1.0}  # decisions, not probabilities
    proba = store.long_table(model="proba")
    assert proba[(proba.coder_id == MODEL_ID) & (proba.code == "c_complaint_parameters")].score.iloc[0] == 0.45


def test_store_reads_family_probabilities_and_empty_merged_codes(tmp_path):
    coded = make_coded_dir(tmp_path / "c")
    frame = __import__("pandas").read_csv(coded / "utterances.csv")
    frame["p_withdrawal"] = [0.0, 0.7] + [0.0] * 8
    frame.loc[1, "p_w_denial"] = None  # scored only as its family
    frame.loc[1, "codes"] = "neutral_talk;withdrawal"
    frame.to_csv(coded / "utterances.csv", index=False)
    table, _ = read_coded_dir(coded)
    assert "w_denial" not in table.proba[1] and table.proba[1]["withdrawal"] == 0.7
    store = Store(tmp_path / "db.sqlite")
    store.import_coded_dir(coded)
    utt = store.utterances("s1").iloc[1]
    assert utt.model_codes == ["neutral_talk"] and utt.model_families == ["withdrawal"]


def _annotate(db: str, name: str, rounds: int, barrier=None) -> None:
    store = Store(db)
    utts = store.utterances("s1")
    if barrier is not None:
        barrier.wait()
    for r in range(rounds):
        for u in utts.itertuples():
            codes = ["change_talk", "w_abstract"] if u.role == "client" else ["affirmation"]
            store.save_correction(name, "s1", u.utterance_id, codes if r % 2 == 0 else codes[:1], note=f"{name} {r}")


def test_store_two_annotators_concurrent_threads_lose_nothing(store):
    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=_annotate, args=(str(store.path), n, 8, barrier)) for n in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    trail = store.audit_trail()
    assert len(trail) == 2 * 8 * 6
    for name in ("alice", "bob"):
        mine = trail[trail.annotator == name]
        assert mine["note"].tolist() == [f"{name} {r}" for r in range(8) for _ in range(6)]
        current = store.current_labels(name)
        assert len(current) == 6 and set(current["note"]) == {f"{name} 7"}


def test_store_two_annotators_concurrent_processes_lose_nothing(store):
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_annotate, args=(str(store.path), n, 10, barrier)) for n in ("alice", "bob")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    trail = store.audit_trail()
    assert len(trail) == 2 * 10 * 6
    assert trail.groupby("annotator").size().to_dict() == {"alice": 60, "bob": 60}
    for name in ("alice", "bob"):
        assert store.progress(name, "s1") == (6, 6)
        assert store.current_labels(name)["codes"].map(len).tolist() == [1] * 6  # last round: one code each


CRASHER = """
import sys
from coder.review.store import Store
store = Store(sys.argv[1])
for i in range(1000):
    store.save_correction("alice", "s1", "u000", ["question_open"], note=str(i))
    print(i, flush=True)
"""


def test_store_acknowledged_saves_survive_a_killed_process(store):
    proc = subprocess.Popen([sys.executable, "-c", CRASHER, str(store.path)], stdout=subprocess.PIPE, text=True,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    acknowledged = []
    for line in proc.stdout:
        acknowledged.append(int(line))
        if len(acknowledged) == 25:
            proc.send_signal(signal.SIGKILL)  # mid-run, no clean shutdown
            break
    proc.wait(30)
    time.sleep(0.1)
    notes = set(Store(store.path).audit_trail()["note"].astype(int))
    assert set(acknowledged) <= notes


def test_store_refuses_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("just some text, not SQLite " * 100)
    with pytest.raises(ReviewError, match="not a corrections database"):
        Store(path)


def test_store_import_refuses_duplicate_keys(tmp_path):
    coded = make_coded_dir(tmp_path / "c")
    frame = __import__("pandas").read_csv(coded / "utterances.csv", dtype=str)
    frame.loc[2, "utterance_id"] = "u001"
    frame.to_csv(coded / "utterances.csv", index=False)
    with pytest.raises(ReviewError, match="s1/u001 appears twice"):
        Store(tmp_path / "db.sqlite").import_coded_dir(coded)
