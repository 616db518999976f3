"""The corrections database's schema, its text fingerprint, and the migration of older databases.

Version 2 keys every correction by ``(session_id, utterance_id)`` *and* the fingerprint of the
text it was made on (:func:`text_hash`) and the role it had. A correction is *attached* when
the coded table now under review has an utterance with the same keys, fingerprint and role;
otherwise it is *orphaned*: kept, listed, never attached by id alone (a re-coded folder reuses
ids like ``u003`` for other text, often another speaker's).

Version 1 databases (no fingerprints) are migrated when opened: each old correction gets the
fingerprint and role of the utterance its keys name in the stored table. That table is the
one the correction was made against only when no import happened after it, so corrections
older than the last import are marked ``verified = 0``; and one whose codes its key's present
role could not carry (therapist codes on a client line) gets no fingerprint at all and stays
orphaned.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

from coder.review.coded import split_codes, utc_now
from coder.scheme import codes_for_role

SCHEMA_VERSION = "2"

UTTERANCES_V2 = """
CREATE TABLE IF NOT EXISTS utterances (
    session_id TEXT NOT NULL, utterance_id TEXT NOT NULL, seq INTEGER NOT NULL, turn_id INTEGER,
    speaker TEXT, role TEXT, start REAL, "end" REAL, text TEXT NOT NULL, text_hash TEXT NOT NULL DEFAULT '',
    model_codes TEXT NOT NULL DEFAULT '', model_families TEXT NOT NULL DEFAULT '', proba TEXT NOT NULL DEFAULT '{}',
    margin REAL, decision TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (session_id, utterance_id))"""
CORRECTIONS_V2 = """
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT, annotator TEXT NOT NULL, created_at TEXT NOT NULL,
    session_id TEXT NOT NULL, utterance_id TEXT NOT NULL, old_codes TEXT NOT NULL, new_codes TEXT NOT NULL,
    guideline_version TEXT NOT NULL, source TEXT NOT NULL DEFAULT 'app', note TEXT NOT NULL DEFAULT '',
    text_hash TEXT, role TEXT, text TEXT, verified INTEGER NOT NULL DEFAULT 1)"""
TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS corrections_no_update BEFORE UPDATE ON corrections "
    "BEGIN SELECT RAISE(ABORT, 'corrections are append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS corrections_no_delete BEFORE DELETE ON corrections "
    "BEGIN SELECT RAISE(ABORT, 'corrections are append-only'); END",
]
INDEXES = [
    "CREATE INDEX IF NOT EXISTS utterances_seq ON utterances (seq)",
    "CREATE INDEX IF NOT EXISTS utterances_margin ON utterances (margin)",
    "CREATE INDEX IF NOT EXISTS corrections_key ON corrections (annotator, session_id, utterance_id, id)",
    "CREATE INDEX IF NOT EXISTS corrections_hash ON corrections (session_id, utterance_id, text_hash)",
]


#: Each annotator's latest correction per utterance key *and text*, attached or orphaned.
LABELS_SQL = """
SELECT c.id, c.annotator, c.created_at, c.session_id, c.utterance_id, c.old_codes, c.new_codes,
       c.guideline_version, c.source, c.note, c.text_hash, c.role, c.text, c.verified, u.seq,
       CASE WHEN u.session_id IS NULL THEN 'orphaned' ELSE 'attached' END AS status
FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY annotator, session_id, utterance_id, text_hash ORDER BY id DESC)
      AS rn FROM corrections) c
LEFT JOIN utterances u ON u.session_id = c.session_id AND u.utterance_id = c.utterance_id
     AND u.text_hash = c.text_hash AND u.role IS c.role
WHERE c.rn = 1
"""
#: An utterance the annotator (first parameter) has a correction of, made on its present text and role.
REVIEWED_SQL = ("EXISTS (SELECT 1 FROM corrections c WHERE c.annotator=? AND c.session_id=u.session_id AND "
                "c.utterance_id=u.utterance_id AND c.text_hash=u.text_hash AND c.role IS u.role)")
AUDIT_COLUMNS = ["id", "annotator", "created_at", "session_id", "utterance_id", "old_codes", "new_codes",
                 "guideline_version", "source", "note", "role", "text_hash", "verified", "status"]
LABEL_COLUMNS = AUDIT_COLUMNS + ["text", "seq"]
UTTERANCE_COLUMNS = ["session_id", "utterance_id", "seq", "turn_id", "speaker", "role", "start", "end", "text",
                     "text_hash", "model_codes", "model_families", "proba", "margin", "decision"]


def text_hash(text) -> str:
    """Fingerprint of an utterance's text: SHA-256 of it with whitespace runs made one space (16 hex digits)."""
    return hashlib.sha256(" ".join(str(text).split()).encode("utf-8")).hexdigest()[:16]


def create(con: sqlite3.Connection) -> None:
    """Create the version-2 tables in an empty database (inside the caller's transaction)."""
    con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    con.execute(UTTERANCES_V2)
    con.execute(CORRECTIONS_V2)
    for statement in TRIGGERS + INDEXES:
        con.execute(statement)
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))


def _columns(con: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in con.execute(f"PRAGMA table_info({table})")}


def migrate_v1(con: sqlite3.Connection) -> dict:
    """Bring a version-1 database to version 2 (inside the caller's ``BEGIN IMMEDIATE``).

    Adds the fingerprint, role, text and ``verified`` columns to ``corrections`` and fills them
    from the stored utterance table (see the module docstring); adds ``text_hash``, ``margin``
    and ``decision`` to ``utterances`` (margins are recomputed on the next import). The
    append-only trigger is lifted for this one fill and put back; no recorded field changes.

    Returns
    -------
    dict
        ``corrections``, ``verified``, ``unverified``, ``unmatched`` (no fingerprint) counts.
    """
    have = _columns(con, "utterances")
    for column, decl in (("text_hash", "TEXT NOT NULL DEFAULT ''"), ("margin", "REAL"),
                         ("decision", "TEXT NOT NULL DEFAULT '{}'")):
        if column not in have:
            con.execute(f"ALTER TABLE utterances ADD COLUMN {column} {decl}")
    for sid, uid, text in con.execute("SELECT session_id, utterance_id, text FROM utterances").fetchall():
        con.execute("UPDATE utterances SET text_hash=? WHERE session_id=? AND utterance_id=?",
                    (text_hash(text), sid, uid))
    have = _columns(con, "corrections")
    for column, decl in (("text_hash", "TEXT"), ("role", "TEXT"), ("text", "TEXT"),
                         ("verified", "INTEGER NOT NULL DEFAULT 1")):
        if column not in have:
            con.execute(f"ALTER TABLE corrections ADD COLUMN {column} {decl}")
    last_import = (con.execute("SELECT value FROM meta WHERE key='imported_at'").fetchone() or [""])[0]
    utts = {(r[0], r[1]): (r[2], r[3]) for r in
            con.execute("SELECT session_id, utterance_id, role, text FROM utterances").fetchall()}
    counts = {"corrections": 0, "verified": 0, "unverified": 0, "unmatched": 0}
    con.execute("DROP TRIGGER IF EXISTS corrections_no_update")
    for cid, created, sid, uid, old, new in con.execute(
            "SELECT id, created_at, session_id, utterance_id, old_codes, new_codes FROM corrections").fetchall():
        counts["corrections"] += 1
        role, text = utts.get((sid, uid), (None, None))
        fits = text is not None and set(split_codes(old) + split_codes(new)) <= set(codes_for_role(role))
        verified = int(fits and bool(last_import) and created > last_import)
        counts["verified" if verified else "unverified"] += 1
        counts["unmatched"] += int(not fits)
        con.execute("UPDATE corrections SET text_hash=?, role=?, text=?, verified=? WHERE id=?",
                    (text_hash(text) if fits else None, role if fits else None, text if fits else None,
                     verified, cid))
    for statement in TRIGGERS + INDEXES:
        con.execute(statement)
    for key, value in (("schema_version", SCHEMA_VERSION), ("migrated_from", "1"), ("migrated_at", utc_now()),
                       ("migration", json.dumps(counts))):
        con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
    return counts


def ensure(con: sqlite3.Connection, path) -> None:
    """Create, migrate or accept the database on ``con`` (inside the caller's transaction).

    Raises
    ------
    coder.review.coded.ReviewError
        For a database written by a newer schema.
    """
    from coder.review.coded import ReviewError

    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    version = None
    if "meta" in tables:
        row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        version = row[0] if row else None
    if "corrections" not in tables:
        create(con)
    elif version in (None, "1"):
        migrate_v1(con)
    elif version != SCHEMA_VERSION:
        raise ReviewError(path, f"corrections database of schema version {version}; this alliance-coder reads "
                                f"version {SCHEMA_VERSION} and older")


__all__ = ["AUDIT_COLUMNS", "LABEL_COLUMNS", "LABELS_SQL", "REVIEWED_SQL", "SCHEMA_VERSION", "UTTERANCE_COLUMNS",
           "create", "ensure", "migrate_v1", "text_hash"]
