"""Schema version 2: text fingerprints, and the migration of version-1 databases."""

from __future__ import annotations

import json
import sqlite3

import pytest

from coder.review.schema import SCHEMA_VERSION, text_hash
from coder.review.store import ReviewError, Store
from tests.review.conftest import make_coded_dir
from tests.review.test_attach import CORRECTIONS, SEGMENTED, WHOLE_TURNS

#: The version-1 schema as alliance-coder wrote it before fingerprints.
V1_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE utterances (
    session_id TEXT NOT NULL, utterance_id TEXT NOT NULL, seq INTEGER NOT NULL, turn_id INTEGER,
    speaker TEXT, role TEXT, start REAL, "end" REAL, text TEXT NOT NULL,
    model_codes TEXT NOT NULL DEFAULT '', model_families TEXT NOT NULL DEFAULT '', proba TEXT NOT NULL DEFAULT '{}',
    uncertainty REAL NOT NULL DEFAULT 0, PRIMARY KEY (session_id, utterance_id));
CREATE INDEX utterances_seq ON utterances (seq);
CREATE TABLE corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT, annotator TEXT NOT NULL, created_at TEXT NOT NULL,
    session_id TEXT NOT NULL, utterance_id TEXT NOT NULL, old_codes TEXT NOT NULL, new_codes TEXT NOT NULL,
    guideline_version TEXT NOT NULL, source TEXT NOT NULL DEFAULT 'app', note TEXT NOT NULL DEFAULT '');
CREATE INDEX corrections_key ON corrections (annotator, session_id, utterance_id, id);
CREATE TRIGGER corrections_no_update BEFORE UPDATE ON corrections
    BEGIN SELECT RAISE(ABORT, 'corrections are append-only'); END;
CREATE TRIGGER corrections_no_delete BEFORE DELETE ON corrections
    BEGIN SELECT RAISE(ABORT, 'corrections are append-only'); END;
"""


def _v1_import(con, utterances, at: str) -> None:
    """What version 1 did on every launch: upsert the table's rows (stale rows stay), stamp the time."""
    ids: dict[str, int] = {}
    for seq, (sid, speaker, role, text, proba) in enumerate(utterances):
        uid = f"u{ids.setdefault(sid, 0):03d}"
        ids[sid] += 1
        codes = ";".join(c for c, p in proba.items() if p >= 0.5)
        con.execute('INSERT INTO utterances (session_id, utterance_id, seq, turn_id, speaker, role, text, model_codes, '
                    "proba) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (session_id, utterance_id) DO UPDATE SET "
                    "seq=excluded.seq, role=excluded.role, text=excluded.text, model_codes=excluded.model_codes",
                    (sid, uid, seq, seq, speaker, role, text, codes, json.dumps(proba)))
    con.execute("INSERT OR REPLACE INTO meta VALUES ('imported_at', ?)", (at,))


@pytest.fixture
def v1_database(tmp_path):
    """D5 in version 1: corrections on the segmented table, then a whole-turn re-code imported over it."""
    path = tmp_path / "rv2" / "corrections.sqlite"
    path.parent.mkdir()
    con = sqlite3.connect(path, isolation_level=None)
    con.executescript(V1_SCHEMA)
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    _v1_import(con, SEGMENTED, "2026-01-01T09:00:00.000000Z")
    for i, (who, sid, uid, codes) in enumerate(CORRECTIONS):
        con.execute("INSERT INTO corrections (annotator, created_at, session_id, utterance_id, old_codes, new_codes, "
                    "guideline_version) VALUES (?,?,?,?,?,?,'1.1')",
                    (who, f"2026-01-01T10:00:{i:02d}.000000Z", sid, uid, "", ";".join(codes)))
    _v1_import(con, WHOLE_TURNS, "2026-01-02T09:00:00.000000Z")  # the re-code, opened with version 1
    con.execute("INSERT INTO corrections (annotator, created_at, session_id, utterance_id, old_codes, new_codes, "
                "guideline_version) VALUES ('carol', '2026-01-02T10:00:00.000000Z', 's2', 'u000', "
                "'question_open', 'question_open', '1.1')")
    con.close()
    make_coded_dir(path.parent, WHOLE_TURNS)
    return path


def test_schema_text_hash_ignores_whitespace_only():
    assert text_hash("Sure,  that sounds\nfine. ") == text_hash("Sure, that sounds fine.")
    assert text_hash("Sure, that sounds fine.") != text_hash("sure, that sounds fine.")
    assert len(text_hash("x")) == 16


def test_schema_migrates_version_1_without_moving_labels(v1_database):
    with sqlite3.connect(v1_database) as con:
        before = con.execute("SELECT id, annotator, created_at, session_id, utterance_id, old_codes, new_codes "
                             "FROM corrections ORDER BY id").fetchall()
    store = Store(v1_database)
    meta = store.meta()
    assert meta["schema_version"] == SCHEMA_VERSION == "2" and meta["migrated_from"] == "1"
    assert json.loads(meta["migration"]) == {"corrections": 10, "verified": 1, "unverified": 9, "unmatched": 4}
    trail = store.audit_trail()
    assert [tuple(r) for r in trail[["id", "annotator", "created_at", "session_id", "utterance_id", "old_codes",
                                     "new_codes"]].itertuples(index=False)] == before  # nothing recorded changed
    store.import_coded_dir(v1_database.parent)
    assert store.attachment() == {"attached": 4, "orphaned": 6, "unverified": 3}
    current = store.current_labels()
    # therapist codes made on a therapist line never land on the client's "Sure, that sounds fine." (now u001)
    assert current[(current.session_id == "s1") & (current.utterance_id == "u001")].empty
    assert sorted(zip(current.annotator, current.session_id, current.utterance_id, current.verified)) == [
        ("alice", "s1", "u000", 0), ("alice", "s2", "u000", 0), ("bob", "s2", "u001", 0), ("carol", "s2", "u000", 1)]
    assert {(r.annotator, r.utterance_id) for r in store.orphans().itertuples()} == {
        ("alice", "u001"), ("alice", "u002"), ("alice", "u003"), ("alice", "u004"), ("alice", "u005"), ("bob", "u002")}
    assert "3 correction(s) predate text checking" in store.attachment_warning()
    with store.connect() as con, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE corrections SET new_codes = ''")
    assert Store(v1_database).meta()["migrated_at"] == meta["migrated_at"]  # migrated once


def test_schema_refuses_a_newer_database(tmp_path):
    path = tmp_path / "new.sqlite"
    Store(path)
    with sqlite3.connect(path) as con:
        con.execute("UPDATE meta SET value = '9' WHERE key = 'schema_version'")
    with pytest.raises(ReviewError, match="schema version 9"):
        Store(path)
