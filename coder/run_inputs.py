"""Planning a run's inputs and reading them for coding: which sessions, from where, read how often.

Split from :mod:`coder.run` (which orchestrates a run): the plan reads every input once
(session ids, utterance counts, hashes, resume state) and keeps the sessions it read within a
budget, so that a small corpus is read once and a large one streams with flat memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from coder.errors import InputError
from coder.hashing import file_sha256
from coder.io import expand_paths
from coder.pipeline import load_transcripts
from coder.run_output import part_key, shard_of
from coder.run_parts import KEEP_UTTERANCES, KeptWithin, part_done, part_folder
from coder.session import Session

if TYPE_CHECKING:  # pragma: no cover
    from coder.run import Job, RunConfig, RunResult


@dataclass
class Planned:
    """A session of the run: where it comes from, its part and whether a resumed run has it."""

    order: tuple[int, int]
    session_id: str
    key: str
    source: str
    source_sha256: str
    n_utterances: int
    done: bool = False


def read_file(path: Path, job: Job):
    """One input file → its sessions (roles, segments) and the load report of that file."""
    report = load_transcripts([path], fmt=job.fmt, columns=job.columns, roles=job.roles, segmenter=job.segmenter)
    return report.sessions, report


def deidentify(sessions: list[Session], job: Job) -> list[Session]:
    """Sessions with identifiers replaced, when the run asks for it."""
    if not job.deidentify or not sessions:
        return sessions
    from coder.deid import deidentify_sessions

    clean, audit = deidentify_sessions(sessions)
    rows = {str(r["session_id"]): r for r in audit.to_dict("records")}
    for s in clean:  # the counts go with the session into its part, then into deid_audit.csv
        s.meta["deid_audit"] = {k: (int(v) if isinstance(v, (int, float)) and k != "session_id" else v)
                                for k, v in rows.get(str(s.id), {"session_id": s.id}).items()}
    return list(clean)


def kept_sessions() -> KeptWithin:
    """Where the sessions read while planning wait to be coded (within :data:`KEEP_UTTERANCES`)."""
    return KeptWithin(KEEP_UTTERANCES)


def plan_inputs(inputs, out: Path, job: Job, config: RunConfig, result: RunResult,
                files: list, kept: KeptWithin | None = None) -> list[Planned]:
    """Every session of ``inputs`` in order, with its part, hash and resume state; failures go to ``result``."""
    paths: list[Path] = []
    for item in inputs:
        try:
            paths += expand_paths([item], fmt=config.fmt)
        except InputError as err:
            result.failures.append(str(err))
    out_abs = out.absolute()
    paths = [p for p in paths if out_abs not in p.absolute().parents]  # never read our own outputs
    seen: dict[str, str] = {}
    planned: list[Planned] = []
    for fi, path in enumerate(paths):
        result.n_files += 1
        sha = file_sha256(path) if path.is_file() else ""
        files.append([str(path), sha])
        sessions, report = read_file(path, job)
        if kept is not None:
            kept.add(str(path), sessions, sum(len(s.utterances) for s in sessions))
        result.failures += report.failures
        result.warnings += report.warnings
        result.skipped += report.skipped
        result.skipped_words += report.skipped_words
        for si, session in enumerate(sessions):
            if session.id in seen:
                result.failures.append(f"{path}: session id {session.id!r} was already read from {seen[session.id]}; "
                                       "give the files distinct names or session ids")
                continue
            seen[session.id] = str(path)
            if config.shard and shard_of(session.id, config.shard[1]) != config.shard[0]:
                continue
            key = part_key(session.id, str(path))
            planned.append(Planned((fi, si), session.id, key, str(path), sha, len(session.utterances),
                                   done=config.resume and part_done(part_folder(out, key), job.settings_hash, sha)))
    return planned


def pending_sessions(planned: list[Planned], job: Job, kept: KeptWithin | None = None) -> Iterator[tuple[Session, Planned]]:
    """The sessions still to code with their plan: kept from planning, or read again."""
    todo: dict[str, dict[int, Planned]] = {}
    for p in planned:
        if not p.done:
            todo.setdefault(p.source, {})[p.order[1]] = p
    for source, wanted in todo.items():
        yield from pick_sessions(source, wanted, job, kept)


def pick_sessions(source: str, wanted: dict[int, Planned], job: Job,
                  kept: KeptWithin | None = None) -> list[tuple[Session, Planned]]:
    """The planned sessions of ``source`` (by index in the file), kept from planning or read
    again, de-identified when the run asks for it; InputError when the file no longer holds them."""
    sessions = kept.take(source) if kept is not None else None
    if sessions is None:
        sessions, _ = read_file(Path(source), job)
    picked = [(s, wanted[i]) for i, s in enumerate(sessions) if i in wanted and s.id == wanted[i].session_id]
    if len(picked) != len(wanted):
        raise InputError(source, "changed while the run was reading it; run again with --resume")
    coded = deidentify([s for s, _ in picked], job)
    return list(zip(coded, (p for _, p in picked)))
