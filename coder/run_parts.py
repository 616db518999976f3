"""Per-session parts of a run and the corpus tables assembled from them (memory stays flat).

A part (``DIR/parts/<key>/``) holds one coded session's ``utterances.csv``, ``codes_long.csv``,
``segments.csv`` and ``ruptures.csv``, then ``part.json`` (its ``sessions.csv`` record, input
hash and settings hash) written last: a part without it is partial and ``--resume`` redoes it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import pandas as pd

from coder.rollup.episodes import EPISODE_COLUMNS
from coder.rollup.scores import SEGMENT_COLUMNS, RollupConfig
from coder.rollup.tables import SESSION_COLUMNS, analyse, tables_from
from coder.run_output import PART_DONE, PARTS_DIR, REPORT_DIR, dumps
from coder.session import Session
from coder.tables_io import LONG_FILE, UTTERANCES_FILE, concat_csv, read_coded, write_frame, write_text


# -------------------------------------------------------------------------------------------- parts
@dataclass
class PartRef:
    """A finished session part and where it sorts in the corpus tables.

    Attributes
    ----------
    order : tuple of int
        (input file index, session index within the file): corpus order, the same in every shard.
    session_id, key : str
        The session and its part folder name.
    folder : Path
        The part folder (may be in another run's folder when merging shards).
    """

    order: tuple[int, ...]
    session_id: str
    key: str
    folder: Path

    def info(self) -> dict:
        return json.loads((self.folder / PART_DONE).read_text(encoding="utf-8"))


def part_folder(out: Path, key: str) -> Path:
    return Path(out) / PARTS_DIR / key


def part_done(folder: Path, settings_hash: str, source_sha256: str) -> bool:
    """True when the part in ``folder`` is complete and was made from the same input and settings."""
    try:
        info = json.loads((folder / PART_DONE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return info.get("settings_hash") == settings_hash and info.get("source_sha256") == source_sha256


#: Utterances of sessions (or of their analyses) a run keeps in memory to save work: a small
#: corpus is read once and analysed once; past this budget (a few MB) the work is done again
#: when needed, so memory stays flat however large the corpus.
KEEP_UTTERANCES = 20_000


class KeptWithin:
    """Values kept by key while their utterances fit ``budget`` (sessions read while planning,
    analyses made for the tables), each taken once."""

    def __init__(self, budget: int = KEEP_UTTERANCES):
        self.budget, self.utterances, self.items = budget, 0, {}

    def add(self, key: str, value, n_utterances: int) -> None:
        if self.utterances + n_utterances <= self.budget:
            self.items[key], self.utterances = value, self.utterances + n_utterances

    def take(self, key: str):
        return self.items.pop(key, None)

    def clear(self) -> None:
        self.items.clear()
        self.utterances = 0


#: The analyses kept in this process (filled by ``code_one`` when the run asks, read by :func:`assemble`).
KEPT = KeptWithin()


def roll_up_session(session: Session, config: RollupConfig | None = None, *,
                    keep_as: str | None = None) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """One coded session's roll-up: its ``sessions.csv`` record, segment rows and rupture rows.

    ``keep_as``: keep the analysis in :data:`KEPT` under this key (a part folder) for the report.
    """
    analysis = analyse([session], config=config or RollupConfig())
    if keep_as is not None:
        KEPT.add(keep_as, analysis[0], len(session.utterances))
    tables = tables_from(analysis)
    return tables["sessions"].to_dict("records")[0], tables["segments"], tables["ruptures"]


def write_part(folder: Path, *, utterances: pd.DataFrame, long: pd.DataFrame, segments: pd.DataFrame,
               ruptures: pd.DataFrame, info: dict) -> Path:
    """Write one session's part; ``part.json`` (with ``info``) last, so its presence means complete.

    A part folder that already exists (from a killed run) is removed first.
    """
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    write_frame(utterances, folder / UTTERANCES_FILE)
    write_frame(long, folder / LONG_FILE)
    write_frame(segments, folder / "segments.csv")
    write_frame(ruptures, folder / "ruptures.csv")
    write_text(dumps(info), folder / PART_DONE)
    return folder


# ------------------------------------------------------------------------------------ corpus tables
def _header(path: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.readline().rstrip("\r\n").split(",")


class RollupSink:
    """Collects per-session roll-ups into ``sessions.csv``, ``segments.csv`` and ``ruptures.csv``.

    Segment and rupture rows are appended to temporary files as sessions come (memory stays
    flat); :meth:`finish` writes ``sessions.csv`` (calibrated when asked) and moves the files in.
    """

    def __init__(self, out: Path):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.records: list[dict] = []
        self._files = {}
        for name in ("segments", "ruptures"):
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.csv.", suffix=".tmp", dir=self.out)
            self._files[name] = (os.fdopen(fd, "w", encoding="utf-8", newline=""), Path(tmp))
        self._first = True

    def add(self, record: dict, segments: pd.DataFrame, ruptures: pd.DataFrame) -> None:
        self.records.append(record)
        for name, frame in (("segments", segments), ("ruptures", ruptures)):
            frame.to_csv(self._files[name][0], index=False, header=self._first)
        self._first = False

    def add_csv(self, record: dict, segments: Path, ruptures: Path) -> None:
        """Like :meth:`add` from a part's CSV files (copied as text)."""
        self.records.append(record)
        for name, path in (("segments", segments), ("ruptures", ruptures)):
            with open(path, encoding="utf-8", newline="") as fh:
                header = fh.readline()
                if self._first:
                    self._files[name][0].write(header)
                shutil.copyfileobj(fh, self._files[name][0])
        self._first = False

    def finish(self, calibration=None) -> dict[str, pd.DataFrame | Path]:
        """Write the three tables; returns their paths and the ``sessions`` DataFrame."""
        paths: dict = {}
        for name, columns in (("segments", SEGMENT_COLUMNS), ("ruptures", EPISODE_COLUMNS)):
            fh, tmp = self._files[name]
            if self._first:
                fh.write(",".join(columns) + "\n")
            fh.close()
            paths[name] = self.out / f"{name}.csv"
            os.replace(tmp, paths[name])
        sessions = pd.DataFrame(self.records, columns=SESSION_COLUMNS if not self.records else None)
        if calibration is not None:
            sessions = calibration.apply(sessions)
        paths["sessions"] = write_frame(sessions, self.out / "sessions.csv")
        paths["sessions_table"] = sessions
        return paths

    def abort(self) -> None:
        for fh, tmp in self._files.values():
            fh.close()
            tmp.unlink(missing_ok=True)


def write_report_pages(analyses: Iterable, table: pd.DataFrame, out: Path, config: RollupConfig) -> Path:
    """``out/report``: one page per session analysis (made one at a time) and the index.

    Written into a temporary folder that then replaces the old report whole, so pages of an
    earlier run never linger.
    """
    from coder.report import write_report

    tmp = Path(tempfile.mkdtemp(prefix=f"{REPORT_DIR}.", dir=out))
    write_report(analyses, {"sessions": table}, tmp, config=config)
    final, old = out / REPORT_DIR, out / f"{REPORT_DIR}.old"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    return final / "index.html"


def roll_up_stream(sessions: Callable[[], Iterable[Session]], out: str | Path, *, config: RollupConfig | None = None,
                   calibration=None, report: bool = True,
                   on_session: Callable[[Session], None] | None = None) -> dict[str, Path]:
    """Roll coded sessions up one at a time into ``out``'s tables and report.

    Parameters
    ----------
    sessions : callable
        Returns a fresh iterable of coded sessions (called twice with ``report``: tables, then pages).
    out : path-like
    config, calibration, report, on_session
        As :func:`coder.rollup.tables.write_outputs`.
    """
    cfg = config or RollupConfig()
    out = Path(out)
    sink = RollupSink(out)
    try:
        for session in sessions():
            sink.add(*roll_up_session(session, cfg))
            if on_session:
                on_session(session)
    except BaseException:
        sink.abort()
        raise
    done = sink.finish(calibration)
    table = done.pop("sessions_table")
    if report:
        done["report"] = write_report_pages((analyse([s], config=cfg)[0] for s in sessions()), table, out, cfg)
    return done


def assemble(out: str | Path, parts: Sequence[PartRef], *, config: RollupConfig | None = None, calibration=None,
             report: bool = True) -> dict[str, Path]:
    """The corpus tables and report in ``out`` from finished parts, in ``order``.

    ``utterances.csv`` and ``codes_long.csv`` are the parts' files joined line by line; the
    roll-up tables join the parts' segment and rupture rows and their session records.
    """
    out = Path(out)
    parts = sorted(parts, key=lambda p: p.order)
    paths: dict[str, Path] = {}
    if not parts:
        return paths
    for name in (UTTERANCES_FILE, LONG_FILE):
        files = [p.folder / name for p in parts]
        paths[name.split(".")[0]] = concat_csv(files, out / name, _header(files[0]))
    sink = RollupSink(out)
    try:
        for part in parts:
            sink.add_csv(part.info()["record"], part.folder / "segments.csv", part.folder / "ruptures.csv")
    except BaseException:
        sink.abort()
        raise
    done = sink.finish(calibration)
    table = done.pop("sessions_table")
    audits = [a for a in (p.info().get("deid_audit") for p in parts) if a]
    if audits:  # a --deidentify run: counts per session and identifier type, never values
        done["deid_audit"] = write_frame(pd.DataFrame(audits).fillna(0), out / "deid_audit.csv")
    paths.update(done)
    if report:
        cfg = config or RollupConfig()
        paths["report"] = write_report_pages((_analysis(p, cfg) for p in parts), table, out, cfg)
    return paths


def _analysis(part: PartRef, config: RollupConfig):
    """The part's session analysis: kept from coding, else made again from its utterance table."""
    kept = KEPT.take(str(part.folder))
    return kept if kept is not None else analyse([read_coded(part.folder / UTTERANCES_FILE)[0]], config=config)[0]


def run_parts(folder: Path, manifest: dict) -> Iterator[PartRef]:
    """The finished parts a complete run's manifest lists."""
    for s in manifest.get("sessions", []):
        where = Path(s["folder"]) if s.get("folder") else part_folder(folder, s["key"])
        yield PartRef(tuple(s["order"]), s["session_id"], s["key"], where)
