"""The corrections store: one SQLite file with the coded utterances and an append-only audit trail.

Tables
------
``utterances``
    The coded output being reviewed (``CODED_DIR/utterances.csv``): keys, order, speaker,
    role, text, the model's codes, its probabilities (JSON) and an uncertainty score.
``corrections``
    Append-only (triggers refuse UPDATE and DELETE): one row per save, with annotator,
    UTC timestamp, keys, the codes before and after, guideline version, source and note.
``meta``
    Key/value facts: schema version, model coder id, where the utterances came from.

An annotator's *current* label of an utterance is their latest correction of it; "accept"
is a correction whose new codes equal the old ones. Every write runs in its own
``BEGIN IMMEDIATE`` transaction on a WAL database with ``synchronous=FULL``, so concurrent
annotators (threads or processes) queue behind a busy timeout instead of overwriting each
other, and a save that has returned is on disk.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

from coder.frames import LONG_COLUMNS
from coder.review.coded import (FAMILY_LABELS, ReviewError, annotator_name, derived_families, families_for_role,
                                join_codes, read_coded_dir, split_codes, uncertainty, utc_now)
from coder.review.definitions import GUIDELINE_VERSION
from coder.scheme import codes_for_role

__all__ = ["AUDIT_COLUMNS", "DEFAULT_DB_NAME", "FAMILY_LABELS", "REVIEWABLE_ROLES", "ReviewError", "Store",
           "StoreConfig", "annotator_name", "default_db_path", "join_codes", "read_coded_dir", "split_codes"]

SCHEMA_VERSION = "1"
DEFAULT_DB_NAME = "corrections.sqlite"
REVIEWABLE_ROLES = ("therapist", "client")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS utterances (
    session_id TEXT NOT NULL, utterance_id TEXT NOT NULL, seq INTEGER NOT NULL, turn_id INTEGER,
    speaker TEXT, role TEXT, start REAL, "end" REAL, text TEXT NOT NULL,
    model_codes TEXT NOT NULL DEFAULT '', model_families TEXT NOT NULL DEFAULT '', proba TEXT NOT NULL DEFAULT '{}', uncertainty REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, utterance_id));
CREATE INDEX IF NOT EXISTS utterances_seq ON utterances (seq);
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT, annotator TEXT NOT NULL, created_at TEXT NOT NULL,
    session_id TEXT NOT NULL, utterance_id TEXT NOT NULL, old_codes TEXT NOT NULL, new_codes TEXT NOT NULL,
    guideline_version TEXT NOT NULL, source TEXT NOT NULL DEFAULT 'app', note TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS corrections_key ON corrections (annotator, session_id, utterance_id, id);
CREATE TRIGGER IF NOT EXISTS corrections_no_update BEFORE UPDATE ON corrections
    BEGIN SELECT RAISE(ABORT, 'corrections are append-only'); END;
CREATE TRIGGER IF NOT EXISTS corrections_no_delete BEFORE DELETE ON corrections
    BEGIN SELECT RAISE(ABORT, 'corrections are append-only'); END;
"""

CURRENT_SQL = """
SELECT id, annotator, created_at, session_id, utterance_id, old_codes, new_codes, guideline_version, source, note
FROM (SELECT c.*, ROW_NUMBER() OVER (PARTITION BY annotator, session_id, utterance_id ORDER BY id DESC) AS rn
      FROM corrections c) WHERE rn = 1
"""
AUDIT_COLUMNS = ["id", "annotator", "created_at", "session_id", "utterance_id", "old_codes", "new_codes",
                 "guideline_version", "source", "note"]


@dataclass
class StoreConfig:
    """How the store opens SQLite.

    Attributes
    ----------
    busy_timeout_ms : int
        How long a writer waits for another writer's transaction before giving up.
    synchronous : str
        SQLite ``synchronous`` pragma; ``FULL`` makes every commit durable on power loss too.
    guideline_version : str
        Recorded on corrections that do not name their own.
    """

    busy_timeout_ms: int = 30_000
    synchronous: str = "FULL"
    guideline_version: str = GUIDELINE_VERSION


class Store:
    """The corrections database; every public method opens its own short connection.

    Parameters
    ----------
    path : path-like
        SQLite file; created (with its folder) when missing.
    config : StoreConfig, optional
    """

    def __init__(self, path: str | Path, config: StoreConfig | None = None):
        self.path = Path(path)
        self.config = config or StoreConfig()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.connect() as con:
                con.execute("PRAGMA journal_mode=WAL")
                with self.transaction(con):
                    for statement in SCHEMA.split(";\n"):
                        if statement.strip():
                            con.execute(statement)
                    con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        except sqlite3.DatabaseError as err:
            raise ReviewError(self.path, f"not a corrections database ({err})") from None

    # ------------------------------------------------------------------ connections
    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode with WAL, busy timeout and the durability pragma."""
        con = sqlite3.connect(self.path, timeout=self.config.busy_timeout_ms / 1000, isolation_level=None,
                              check_same_thread=False)
        try:
            con.row_factory = sqlite3.Row
            con.execute(f"PRAGMA busy_timeout={int(self.config.busy_timeout_ms)}")
            con.execute(f"PRAGMA synchronous={self.config.synchronous}")
            yield con
        finally:
            con.close()

    @staticmethod
    @contextmanager
    def transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error): one writer at a time."""
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    def meta(self) -> dict[str, str]:
        """The ``meta`` table as a dict."""
        with self.connect() as con:
            return {r["key"]: r["value"] for r in con.execute("SELECT key, value FROM meta")}

    # ------------------------------------------------------------------ utterances
    def import_coded_dir(self, coded_dir: str | Path) -> int:
        """Load (or refresh) the utterances of a coded folder; corrections are kept. Returns the count."""
        frame, coder_id = read_coded_dir(coded_dir)
        return self.import_frame(frame, model_coder_id=coder_id, source=str(Path(coded_dir).resolve()))

    def import_frame(self, frame: pd.DataFrame, *, model_coder_id: str = "model", source: str = "") -> int:
        """Upsert utterances from a coded table (``codes`` as text, ``proba`` as dicts, optional)."""
        rows = []
        for seq, row in enumerate(frame.to_dict("records")):
            role = row.get("role") or None
            role = None if role is None or (isinstance(role, float) and pd.isna(role)) else str(role)
            codes = split_codes(row.get("codes"))
            proba = row.get("proba") if isinstance(row.get("proba"), dict) else \
                {c: float(c in codes) for c in codes_for_role(role)}
            names = set(codes_for_role(role) + families_for_role(role))
            proba = {k: float(v) for k, v in proba.items() if k in names and v == v}
            families = [f for f in FAMILY_LABELS if f in codes and f in names]
            start, end = row.get("start"), row.get("end")
            rows.append((str(row["session_id"]), str(row["utterance_id"]), seq, int(row.get("turn_id") or 0),
                         str(row.get("speaker") or ""), role, None if start is None or pd.isna(start) else float(start),
                         None if end is None or pd.isna(end) else float(end), str(row["text"]), join_codes(codes),
                         ";".join(families), json.dumps(proba), uncertainty(proba)))
        with self.connect() as con, self.transaction(con):
            con.executemany(
                'INSERT INTO utterances (session_id, utterance_id, seq, turn_id, speaker, role, start, "end", text, '
                "model_codes, model_families, proba, uncertainty) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (session_id, utterance_id) DO UPDATE SET seq=excluded.seq, turn_id=excluded.turn_id, "
                'speaker=excluded.speaker, role=excluded.role, start=excluded.start, "end"=excluded."end", '
                "text=excluded.text, model_codes=excluded.model_codes, model_families=excluded.model_families, "
                "proba=excluded.proba, "
                "uncertainty=excluded.uncertainty", rows)
            for key, value in (("model_coder_id", model_coder_id), ("imported_from", source),
                               ("imported_at", utc_now())):
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        return len(rows)

    def sessions(self) -> list[str]:
        """Session ids in the order they were imported."""
        with self.connect() as con:
            return [r[0] for r in con.execute("SELECT session_id FROM utterances GROUP BY session_id ORDER BY MIN(seq)")]

    def utterances(self, session_id: str | None = None) -> pd.DataFrame:
        """Utterances (one session or all) in order; ``model_codes`` (scheme codes) and
        ``model_families`` (family labels) as lists, ``proba`` as dicts."""
        sql = 'SELECT session_id, utterance_id, seq, turn_id, speaker, role, start, "end", text, model_codes, ' \
              "model_families, proba, uncertainty FROM utterances"
        with self.connect() as con:
            rows = con.execute(sql + (" WHERE session_id = ? ORDER BY seq" if session_id is not None else
                                      " ORDER BY seq"), (session_id,) if session_id is not None else ()).fetchall()
        frame = pd.DataFrame([dict(r) for r in rows], columns=sql[7:sql.index(" FROM")].replace('"', "").split(", "))
        frame["model_codes"] = frame["model_codes"].map(split_codes)
        frame["model_families"] = frame["model_families"].map(split_codes)
        frame["proba"] = frame["proba"].map(json.loads)
        return frame

    # ------------------------------------------------------------------ corrections
    def save_correction(self, annotator: str, session_id: str, utterance_id: str, codes: Iterable[str], *,
                        source: str = "app", guideline_version: str | None = None, note: str = "") -> dict:
        """Append one correction; returns it as a dict once it is committed."""
        return self.save_corrections([{"annotator": annotator, "session_id": session_id, "utterance_id": utterance_id,
                                       "codes": list(codes), "guideline_version": guideline_version, "note": note}],
                                     source=source)[0]

    def save_corrections(self, items: Iterable[dict], *, source: str = "app") -> list[dict]:
        """Append corrections (dicts with ``annotator, session_id, utterance_id, codes`` and optional
        ``guideline_version, note``) in one transaction: all are saved or none.

        ``old_codes`` is the annotator's current label, or the model's codes before their first
        correction, read inside the same transaction.

        Raises
        ------
        ReviewError
            For an unknown utterance or a code its role may not carry.
        """
        saved = []
        with self.connect() as con, self.transaction(con):
            for item in items:
                name = annotator_name(item["annotator"])
                sid, uid = str(item["session_id"]), str(item["utterance_id"])
                utt = con.execute("SELECT role, model_codes FROM utterances WHERE session_id=? AND utterance_id=?",
                                  (sid, uid)).fetchone()
                if utt is None:
                    raise ReviewError(None, f"no utterance {sid}/{uid} in {self.path}")
                codes = item["codes"]
                codes = split_codes(codes) if isinstance(codes, str) else list(codes)
                bad = [c for c in codes if c not in codes_for_role(utt["role"])]
                if bad:
                    raise ReviewError(None, f"{sid}/{uid}: {', '.join(bad)} not allowed on a {utt['role']} utterance")
                last = con.execute("SELECT new_codes FROM corrections WHERE annotator=? AND session_id=? AND "
                                   "utterance_id=? ORDER BY id DESC LIMIT 1", (name, sid, uid)).fetchone()
                row = {"annotator": name, "created_at": utc_now(), "session_id": sid, "utterance_id": uid,
                       "old_codes": last[0] if last else utt["model_codes"], "new_codes": join_codes(codes),
                       "guideline_version": str(item.get("guideline_version") or self.config.guideline_version),
                       "source": source, "note": str(item.get("note") or "")}
                cur = con.execute(f"INSERT INTO corrections ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                                  tuple(row.values()))
                saved.append({"id": cur.lastrowid, **row})
        return saved

    def audit_trail(self, annotator: str | None = None, session_id: str | None = None) -> pd.DataFrame:
        """Every correction in the order saved (optionally one annotator's or one session's)."""
        where, args = [], []
        if annotator is not None:
            where.append("annotator = ?")
            args.append(annotator_name(annotator))
        if session_id is not None:
            where.append("session_id = ?")
            args.append(session_id)
        sql = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM corrections" + (" WHERE " + " AND ".join(where) if where else "")
        with self.connect() as con:
            rows = con.execute(sql + " ORDER BY id", args).fetchall()
        return pd.DataFrame([dict(r) for r in rows], columns=AUDIT_COLUMNS)

    def current_labels(self, annotator: str | None = None) -> pd.DataFrame:
        """Latest correction per annotator and utterance, with ``codes`` as a list and ``role``."""
        with self.connect() as con:
            rows = con.execute(f"SELECT c.*, u.role, u.seq FROM ({CURRENT_SQL}) c JOIN utterances u "
                               "USING (session_id, utterance_id) ORDER BY c.annotator, u.seq").fetchall()
        frame = pd.DataFrame([dict(r) for r in rows], columns=AUDIT_COLUMNS + ["role", "seq"])
        if annotator is not None:
            frame = frame[frame["annotator"] == annotator_name(annotator)]
        frame["codes"] = frame["new_codes"].map(split_codes)
        return frame.reset_index(drop=True)

    def annotators(self) -> list[str]:
        """Names of everyone with at least one correction."""
        with self.connect() as con:
            return [r[0] for r in con.execute("SELECT DISTINCT annotator FROM corrections ORDER BY annotator")]

    def progress(self, annotator: str, session_id: str | None = None) -> tuple[int, int]:
        """(reviewed, total) utterances with a reviewable role, overall or in one session."""
        name = annotator_name(annotator)
        scope, args = ("AND u.session_id = ?", [session_id]) if session_id is not None else ("", [])
        roles = ", ".join(f"'{r}'" for r in REVIEWABLE_ROLES)
        with self.connect() as con:
            total = con.execute(f"SELECT COUNT(*) FROM utterances u WHERE role IN ({roles}) {scope}", args).fetchone()[0]
            done = con.execute(f"SELECT COUNT(*) FROM utterances u WHERE role IN ({roles}) {scope} AND EXISTS "
                               "(SELECT 1 FROM corrections c WHERE c.annotator=? AND c.session_id=u.session_id "
                               "AND c.utterance_id=u.utterance_id)", args + [name]).fetchone()[0]
        return int(done), int(total)

    def uncertain_queue(self, annotator: str, limit: int | None = None) -> pd.DataFrame:
        """Utterances the annotator has not reviewed, least certain first (ties in transcript order)."""
        roles = ", ".join(f"'{r}'" for r in REVIEWABLE_ROLES)
        sql = (f"SELECT session_id, utterance_id, role, text, model_codes, uncertainty FROM utterances u "
               f"WHERE role IN ({roles}) AND NOT EXISTS (SELECT 1 FROM corrections c WHERE c.annotator=? AND "
               "c.session_id=u.session_id AND c.utterance_id=u.utterance_id) ORDER BY uncertainty DESC, seq")
        with self.connect() as con:
            rows = con.execute(sql + (f" LIMIT {int(limit)}" if limit else ""), (annotator_name(annotator),)).fetchall()
        return pd.DataFrame([dict(r) for r in rows],
                            columns=["session_id", "utterance_id", "role", "text", "model_codes", "uncertainty"])

    def long_table(self, *, model: str | None = "codes") -> pd.DataFrame:
        """The long table ``session_id, utterance_id, coder_id, code, score`` of the store.

        Annotators (``annotator:NAME``) give 1/0 for every code their utterance's role allows,
        and for the family labels derived from them, on the utterances they reviewed.
        ``model``: ``"codes"`` adds the model's decisions as 1/0 (what agreement should
        compare), ``"proba"`` its probabilities, None nothing; either for the codes and family
        labels it scored.
        """
        rows = []
        for r in self.current_labels().itertuples(index=False):
            have = set(r.codes) | set(derived_families(r.codes))
            rows += [(r.session_id, r.utterance_id, f"annotator:{r.annotator}", c, float(c in have))
                     for c in codes_for_role(r.role) + families_for_role(r.role)]
        if model is not None:
            coder_id = self.meta().get("model_coder_id", "model")
            for r in self.utterances().itertuples(index=False):
                have = set(r.model_codes) | set(r.model_families)
                rows += [(r.session_id, r.utterance_id, coder_id, c, p if model == "proba" else float(c in have))
                         for c, p in r.proba.items()]
        return pd.DataFrame(rows, columns=LONG_COLUMNS)


def default_db_path(coded_dir: str | Path) -> Path:
    """``CODED_DIR/corrections.sqlite`` (beside the file when ``coded_dir`` is a CSV)."""
    coded_dir = Path(coded_dir)
    return (coded_dir.parent if coded_dir.is_file() else coded_dir) / DEFAULT_DB_NAME
