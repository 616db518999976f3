"""The corrections store: one SQLite file with the coded utterances and an append-only audit trail.

Tables
------
``utterances``
    The coded table under review (``CODED_DIR/utterances.csv``), replaced on every import:
    keys, order, speaker, role, text and its fingerprint, the model's codes, its probabilities
    (JSON) and its least sure decision (margin in log-odds, :mod:`coder.review.margins`).
``corrections``
    Append-only (triggers refuse UPDATE and DELETE): one row per save, with annotator,
    UTC timestamp, keys, the fingerprint, role and text of the utterance as the annotator saw
    it, the codes before and after, guideline version, source and note.
``meta``
    Key/value facts: schema version, model coder id, where the utterances came from, which
    decision rules ranked them.

A correction is *attached* when the table under review has an utterance with its keys, text
fingerprint and role, and *orphaned* otherwise (after a re-code with another segmentation the
same ``utterance_id`` names other text): orphans are kept and listed
(:meth:`Store.orphans`), never attached by id alone (:mod:`coder.review.schema`). An
annotator's *current* label of an utterance is their latest correction of that text; "accept"
is a correction whose new codes equal the old ones. Every write runs in its own ``BEGIN
IMMEDIATE`` transaction on a WAL database with ``synchronous=FULL``, so concurrent annotators
(threads or processes) queue behind a busy timeout instead of overwriting each other, and a
save that has returned is on disk.
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
                                join_codes, read_coded_dir, split_codes, utc_now)
from coder.review.definitions import GUIDELINE_VERSION
from coder.review.margins import DecisionRules, find_rules, least_sure
from coder.review.schema import (AUDIT_COLUMNS, LABEL_COLUMNS, LABELS_SQL, REVIEWED_SQL, SCHEMA_VERSION,
                                 UTTERANCE_COLUMNS, ensure, text_hash)
from coder.scheme import ALL_CODES, codes_for_role

__all__ = ["AUDIT_COLUMNS", "DEFAULT_DB_NAME", "FAMILY_LABELS", "REVIEWABLE_ROLES", "ReviewError", "SCHEMA_VERSION",
           "Store", "StoreConfig", "annotator_name", "default_db_path", "join_codes", "read_coded_dir",
           "split_codes", "text_hash"]

DEFAULT_DB_NAME = "corrections.sqlite"
REVIEWABLE_ROLES = ("therapist", "client")

_QUOTED = ", ".join(f'"{c}"' for c in UTTERANCE_COLUMNS)


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
                    ensure(con, self.path)
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
    def import_coded_dir(self, coded_dir: str | Path, rules: DecisionRules | None = None) -> int:
        """Load the utterances of a coded folder in place of the stored ones; corrections are kept
        (attached where their text is still there, orphaned otherwise). Returns the count.

        ``rules``: the model's decision rules for the margins; default :func:`coder.review.margins.find_rules`.
        """
        frame, coder_id = read_coded_dir(coded_dir)
        rules = rules if rules is not None else find_rules(coded_dir, coder_id)
        return self.import_frame(frame, model_coder_id=coder_id, source=str(Path(coded_dir).resolve()), rules=rules)

    def import_frame(self, frame: pd.DataFrame, *, model_coder_id: str = "model", source: str = "",
                     rules: DecisionRules | None = None) -> int:
        """Replace the utterances by a coded table (``codes`` as text, ``proba`` as dicts, optional)."""
        rules = rules or DecisionRules()
        rows, seen = [], set()
        for seq, row in enumerate(frame.to_dict("records")):
            key = (str(row["session_id"]), str(row["utterance_id"]))
            if key in seen:
                raise ReviewError(source or None, f"utterance {key[0]}/{key[1]} appears twice (row {seq + 2})")
            seen.add(key)
            role = row.get("role") or None
            role = None if role is None or (isinstance(role, float) and pd.isna(role)) else str(role)
            codes = split_codes(row.get("codes"))
            proba = row.get("proba") if isinstance(row.get("proba"), dict) else \
                {c: float(c in codes) for c in codes_for_role(role)}
            names = set(codes_for_role(role) + families_for_role(role))
            proba = {k: float(v) for k, v in proba.items() if k in names and v == v}
            families = [f for f in FAMILY_LABELS if f in codes and f in names]
            decision = least_sure(proba, rules) if role in REVIEWABLE_ROLES else None
            start, end = row.get("start"), row.get("end")
            rows.append((str(row["session_id"]), str(row["utterance_id"]), seq, int(row.get("turn_id") or 0),
                         str(row.get("speaker") or ""), role, None if start is None or pd.isna(start) else float(start),
                         None if end is None or pd.isna(end) else float(end), str(row["text"]),
                         text_hash(row["text"]), join_codes(codes), ";".join(families), json.dumps(proba),
                         None if decision is None else decision.margin,
                         json.dumps(decision.to_dict() if decision else {})))
        with self.connect() as con, self.transaction(con):
            con.execute("DELETE FROM utterances")
            con.executemany(f"INSERT INTO utterances ({_QUOTED}) VALUES ({', '.join('?' * len(UTTERANCE_COLUMNS))})",
                            rows)
            for key, value in (("model_coder_id", model_coder_id), ("imported_from", source),
                               ("imported_at", utc_now()), ("decision_rules", rules.source)):
                con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        return len(rows)

    def sessions(self) -> list[str]:
        """Session ids in the order they were imported."""
        with self.connect() as con:
            return [r[0] for r in con.execute("SELECT session_id FROM utterances GROUP BY session_id "
                                              "ORDER BY MIN(seq)")]

    def utterances(self, session_id: str | None = None) -> pd.DataFrame:
        """Utterances (one session or all) in order; ``model_codes`` (scheme codes) and
        ``model_families`` (family labels) as lists, ``proba`` and ``decision`` (the least sure
        decision, :class:`coder.review.margins.Decision` fields) as dicts."""
        sql = f"SELECT {_QUOTED} FROM utterances"
        with self.connect() as con:
            rows = con.execute(sql + (" WHERE session_id = ? ORDER BY seq" if session_id is not None else
                                      " ORDER BY seq"), (session_id,) if session_id is not None else ()).fetchall()
        frame = pd.DataFrame([dict(r) for r in rows], columns=UTTERANCE_COLUMNS)
        frame["model_codes"] = frame["model_codes"].map(split_codes)
        frame["model_families"] = frame["model_families"].map(split_codes)
        frame["proba"] = frame["proba"].map(json.loads)
        frame["decision"] = frame["decision"].map(json.loads)
        return frame

    # ------------------------------------------------------------------ corrections
    def save_correction(self, annotator: str, session_id: str, utterance_id: str, codes: Iterable[str], *,
                        source: str = "app", guideline_version: str | None = None, note: str = "",
                        text_hash: str | None = None) -> dict:
        """Append one correction; returns it as a dict once it is committed.

        ``text_hash``: the fingerprint of the text the annotator saw; a save is refused when the
        utterance's text has changed since (the page was loaded before a re-import).
        """
        return self.save_corrections([{"annotator": annotator, "session_id": session_id, "utterance_id": utterance_id,
                                       "codes": list(codes), "guideline_version": guideline_version, "note": note,
                                       "text_hash": text_hash}], source=source)[0]

    def save_corrections(self, items: Iterable[dict], *, source: str = "app", mismatch: str = "error") -> list[dict]:
        """Append corrections in one transaction: all are saved or none.

        Parameters
        ----------
        items : iterable of dict
            ``annotator, session_id, utterance_id, codes`` and optional ``guideline_version,
            note``, and what the annotator saw: ``text_hash`` or ``text`` (and ``role``).
            Without either the correction is of the utterance now at those keys. ``verified``
            false (``0``) carries an unverified correction over from an export.
        source : str
            Recorded with each correction (``app``, ``csv``, ``labelstudio``).
        mismatch : {"error", "orphan"}
            What to do with an item whose text is not the text now at its keys: refuse the
            batch, or keep it as an orphaned correction (imports of labels made on another
            version of the table).

        ``old_codes`` is the annotator's current label of that text, or the model's codes before
        their first correction, read inside the same transaction.

        Raises
        ------
        ReviewError
            For an unknown utterance, a code its role may not carry, or changed text (``mismatch="error"``).
        """
        saved = []
        with self.connect() as con, self.transaction(con):
            for item in items:
                name = annotator_name(item["annotator"])
                sid, uid = str(item["session_id"]), str(item["utterance_id"])
                utt = con.execute("SELECT role, model_codes, text, text_hash FROM utterances WHERE session_id=? AND "
                                  "utterance_id=?", (sid, uid)).fetchone()
                seen = item.get("text_hash") or (text_hash(item["text"]) if item.get("text") is not None else None)
                attached = utt is not None and (seen is None or seen == utt["text_hash"])
                if not attached:
                    if seen is None:
                        raise ReviewError(None, f"no utterance {sid}/{uid} in {self.path}")
                    if mismatch != "orphan":
                        raise ReviewError(None, f"{sid}/{uid}: its text is no longer the text that was labelled "
                                                "(the coded table was re-imported); reload and label it again")
                role = utt["role"] if attached else (str(item.get("role") or "") or None)
                codes = item["codes"]
                codes = split_codes(codes) if isinstance(codes, str) else list(codes)
                bad = [c for c in codes if c not in (codes_for_role(role) if attached or role else ALL_CODES)]
                if bad:
                    raise ReviewError(None, f"{sid}/{uid}: {', '.join(bad)} not allowed on a {role} utterance")
                key_hash = utt["text_hash"] if attached else seen
                last = con.execute("SELECT new_codes FROM corrections WHERE annotator=? AND session_id=? AND "
                                   "utterance_id=? AND text_hash=? ORDER BY id DESC LIMIT 1",
                                   (name, sid, uid, key_hash)).fetchone()
                row = {"annotator": name, "created_at": utc_now(), "session_id": sid, "utterance_id": uid,
                       "old_codes": last[0] if last else (utt["model_codes"] if attached else ""),
                       "new_codes": join_codes(codes),
                       "guideline_version": str(item.get("guideline_version") or self.config.guideline_version),
                       "source": source, "note": str(item.get("note") or ""), "text_hash": key_hash, "role": role,
                       "text": utt["text"] if attached else item.get("text"),
                       "verified": int(str(item.get("verified", 1)).strip().lower() not in ("0", "false", "0.0"))}
                cur = con.execute(f"INSERT INTO corrections ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                                  tuple(row.values()))
                saved.append({"id": cur.lastrowid, **row, "status": "attached" if attached else "orphaned"})
        return saved

    def audit_trail(self, annotator: str | None = None, session_id: str | None = None) -> pd.DataFrame:
        """Every correction in the order saved (optionally one annotator's or one session's), with
        ``status`` attached (its text is in the table under review) or orphaned."""
        where, args = [], []
        if annotator is not None:
            where.append("c.annotator = ?")
            args.append(annotator_name(annotator))
        if session_id is not None:
            where.append("c.session_id = ?")
            args.append(session_id)
        sql = (f"SELECT {', '.join('c.' + c for c in AUDIT_COLUMNS[:-1])}, CASE WHEN u.session_id IS NULL THEN "
               "'orphaned' ELSE 'attached' END AS status FROM corrections c LEFT JOIN utterances u ON "
               "u.session_id = c.session_id AND u.utterance_id = c.utterance_id AND u.text_hash = c.text_hash "
               "AND u.role IS c.role" + (" WHERE " + " AND ".join(where) if where else ""))
        with self.connect() as con:
            rows = con.execute(sql + " ORDER BY c.id", args).fetchall()
        return pd.DataFrame([dict(r) for r in rows], columns=AUDIT_COLUMNS)

    def labels(self, annotator: str | None = None) -> pd.DataFrame:
        """Each annotator's latest correction per utterance key and text, attached ones first (in
        transcript order), then the orphaned ones; ``codes`` as a list."""
        with self.connect() as con:
            rows = con.execute(f"SELECT * FROM ({LABELS_SQL}) ORDER BY status, annotator, seq, session_id, "
                               "utterance_id, id").fetchall()
        frame = pd.DataFrame([dict(r) for r in rows], columns=LABEL_COLUMNS)
        if annotator is not None:
            frame = frame[frame["annotator"] == annotator_name(annotator)]
        frame["codes"] = frame["new_codes"].map(split_codes)
        return frame.reset_index(drop=True)

    def current_labels(self, annotator: str | None = None) -> pd.DataFrame:
        """Latest correction per annotator and utterance of the table under review (attached
        corrections only), with ``codes`` as a list, ``role`` and ``seq``."""
        frame = self.labels(annotator)
        return frame[frame["status"] == "attached"].reset_index(drop=True)

    def orphans(self, annotator: str | None = None) -> pd.DataFrame:
        """Current labels whose text is no longer in the table under review.

        ``same_text_at`` names the one utterance of the same session with the same text and role,
        when there is exactly one (a hint for a person; nothing is re-attached by it).
        """
        frame = self.labels(annotator)
        frame = frame[frame["status"] == "orphaned"].reset_index(drop=True)
        utts = self.utterances()[["session_id", "utterance_id", "role", "text_hash"]]
        where: dict[tuple, list[str]] = {}
        for u in utts.itertuples(index=False):
            where.setdefault((u.session_id, u.role, u.text_hash), []).append(u.utterance_id)
        frame["same_text_at"] = [(lambda ids: ids[0] if len(ids) == 1 else "")(where.get((s, r, h), []))
                                 for s, r, h in zip(frame["session_id"], frame["role"], frame["text_hash"])]
        return frame

    def attachment(self) -> dict[str, int]:
        """Counts of current labels: ``attached``, ``orphaned``, and ``unverified`` (attached labels
        migrated from a version-1 database whose original text could not be checked)."""
        counts = {"attached": 0, "orphaned": 0, "unverified": 0}
        with self.connect() as con:
            for status, verified, n in con.execute(f"SELECT status, verified, COUNT(*) FROM ({LABELS_SQL}) "
                                                   "GROUP BY status, verified"):
                counts[status] += n
                counts["unverified"] += n if status == "attached" and not verified else 0
        return counts

    def attachment_warning(self) -> str | None:
        """One line on orphaned and unverified labels, or None when every label is attached and verified."""
        counts = self.attachment()
        parts = []
        if counts["orphaned"]:
            parts.append(f"{counts['orphaned']} correction(s) no longer match an utterance of the coded table "
                         "(its text or segmentation changed); they are kept as orphaned and not shown "
                         "(--export-csv lists them with status=orphaned)")
        if counts["unverified"]:
            parts.append(f"{counts['unverified']} correction(s) predate text checking and are attached unverified")
        return "; ".join(parts) or None

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
            total = con.execute(f"SELECT COUNT(*) FROM utterances u WHERE role IN ({roles}) {scope}",
                                args).fetchone()[0]
            done = con.execute(f"SELECT COUNT(*) FROM utterances u WHERE role IN ({roles}) {scope} AND "
                               f"{REVIEWED_SQL}", args + [name]).fetchone()[0]
        return int(done), int(total)

    def uncertain_queue(self, annotator: str, limit: int | None = None) -> pd.DataFrame:
        """Utterances the annotator has not reviewed, the model's closest call first.

        Ranked by ``margin``: the distance, in log-odds, of the utterance's least sure decision
        from that decision's own boundary (threshold or argmax runner-up;
        :mod:`coder.review.margins`); ties in transcript order. ``decision`` names it.
        """
        roles = ", ".join(f"'{r}'" for r in REVIEWABLE_ROLES)
        sql = (f"SELECT session_id, utterance_id, role, text, model_codes, margin, decision FROM utterances u "
               f"WHERE role IN ({roles}) AND NOT {REVIEWED_SQL} ORDER BY margin IS NULL, margin, seq")
        with self.connect() as con:
            rows = con.execute(sql + (f" LIMIT {int(limit)}" if limit else ""), (annotator_name(annotator),)).fetchall()
        columns = ["session_id", "utterance_id", "role", "text", "model_codes", "margin", "decision"]
        frame = pd.DataFrame([dict(r) for r in rows], columns=columns)
        frame["decision"] = frame["decision"].map(json.loads)
        return frame

    def long_table(self, *, model: str | None = "codes") -> pd.DataFrame:
        """The long table ``session_id, utterance_id, coder_id, code, score`` of the store.

        Annotators (``annotator:NAME``) give 1/0 for every code their utterance's role allows,
        and for the family labels derived from them, on the utterances they reviewed (attached
        corrections only). ``model``: ``"codes"`` adds the model's decisions as 1/0 (what
        agreement should compare), ``"proba"`` its probabilities, None nothing; either for the
        codes and family labels it scored.
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
