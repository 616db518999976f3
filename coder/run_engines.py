"""Engines that code the sessions of a run: this process, local worker processes, or Ray.

Every engine calls :func:`code_one` per session (code → utterance and long tables → roll-up in
memory → part written atomically), so their outputs are identical; they differ only in where
the model lives. Each worker loads the model once; threads are split between workers.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from coder.errors import InputError
from coder.run_parts import part_folder, roll_up_session, write_part
from coder.session import Session
from coder.tables_io import long_frame, sessions_from_frame, utterance_frame

if TYPE_CHECKING:  # pragma: no cover
    from coder.run import Job, RunConfig
    from coder.run_inputs import Planned
    from coder.run_parts import KeptWithin


class ProgressLine:
    """Plain progress lines with rate and ETA, every ``every`` seconds (cluster logs too).

    Example: ``coded 1200/5000 utterances, 85 utt/s, ETA 45 s``.
    """

    def __init__(self, total: int, emit: Callable[[str], None] | None, every: float = 10.0):
        self.total, self.emit, self.every = total, emit, every
        self.done = 0
        self.start()

    def start(self) -> None:
        """(Re)start the clock, e.g. once the model is loaded, so the rate is the coding rate."""
        self.t0 = self.last = time.monotonic()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.t0, 1e-9)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        eta = f"{left:.0f} s" if left == left else "unknown"
        return f"coded {self.done}/{self.total} utterances, {rate:.0f} utt/s, ETA {eta}"

    def update(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.emit and now - self.last >= self.every:
            self.last = now
            self.emit(self.line())


def available_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def threads_per_worker(threads: int | None, workers: int) -> int | None:
    """Each worker's share of ``threads`` (default all cores); None for one worker and no request."""
    if workers <= 1:
        return threads
    return max(1, (threads or available_cores()) // workers)


def load_model(job: "Job", threads: int | None):
    """The job's predictor on its runtime, loaded once per worker."""
    from coder.model.runtime import load_runtime

    return load_runtime(job.model, runtime=job.runtime, threads=threads)


def code_one(clf, session: Session, plan: "Planned", job: "Job") -> int:
    """Code one session, roll it up in memory and write its part; returns its utterance count."""
    coded = clf.code([session], batch_size=job.batch_size)
    utterances = utterance_frame(coded, job.families)
    long = long_frame(coded, clf.coder_id)
    (rolled,) = sessions_from_frame(utterances)  # exactly what `rollup` reads back from the table
    folder = part_folder(Path(job.out), plan.key)
    record, segments, ruptures = roll_up_session(rolled, job.rollup, keep_as=str(folder) if job.keep_analyses else None)
    info = {"session_id": session.id, "order": list(plan.order), "source": plan.source,
            "source_sha256": plan.source_sha256, "settings_hash": job.settings_hash, "coder_id": clf.coder_id,
            "n_utterances": len(session.utterances), "record": record}
    if "deid_audit" in session.meta:  # counts per identifier type, never the removed values
        info["deid_audit"] = session.meta["deid_audit"]
    write_part(folder, utterances=utterances, long=long, segments=segments,
               ruptures=ruptures, info=info)
    return len(session.utterances)


# ------------------------------------------------------------------------------------- local pool
_WORKER: dict = {}


def _init_worker(job: "Job", threads: int | None) -> None:
    _WORKER["clf"] = load_model(job, threads)
    _WORKER["job"] = job


def _code_in_worker(session: Session, plan: "Planned") -> int:
    return code_one(_WORKER["clf"], session, plan, _WORKER["job"])


def run_local(todo: list["Planned"], job: "Job", config: "RunConfig", progress: "ProgressLine",
              kept: "KeptWithin | None" = None) -> None:
    """This process (one worker) or a pool of spawned processes, sessions streamed to them."""
    from coder.run_inputs import pending_sessions

    threads = threads_per_worker(config.threads, config.workers)
    if config.workers == 1:
        clf = load_model(job, threads)
        progress.start()
        for session, plan in pending_sessions(todo, job, kept):
            progress.update(code_one(clf, session, plan, job))
        return
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold torch threads
    with ProcessPoolExecutor(config.workers, mp_context=context, initializer=_init_worker,
                             initargs=(job, threads)) as pool:
        running = set()
        for session, plan in pending_sessions(todo, job, kept):
            running.add(pool.submit(_code_in_worker, session, plan))
            if len(running) >= 2 * config.workers:  # bounded: memory stays flat
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    progress.update(future.result())
        for future in running:
            progress.update(future.result())


# -------------------------------------------------------------------------------------------- Ray
class RayCoder:
    """A Ray Data callable class: loads the model once per actor, codes the sessions of a batch of
    input files and writes their parts (the output folder must be on a file system all nodes share)."""

    def __init__(self, job: "Job", threads: int | None):
        self.job = job
        self.clf = load_model(job, threads)

    def __call__(self, batch: dict) -> dict:
        from coder.run_inputs import Planned, pick_sessions

        keys, counts = [], []
        for text in batch["plans"]:
            planned = [Planned(tuple(p["order"]), p["session_id"], p["key"], p["source"], p["source_sha256"],
                               p["n_utterances"]) for p in json.loads(str(text))]
            for session, plan in pick_sessions(planned[0].source, {p.order[1]: p for p in planned}, self.job):
                counts.append(code_one(self.clf, session, plan, self.job))
                keys.append(plan.key)
        return {"key": keys, "n_utterances": counts}


def run_ray(todo: list["Planned"], job: "Job", config: "RunConfig", progress: "ProgressLine") -> None:
    """Ray Data ``map_batches`` over the input files, one :class:`RayCoder` actor per worker."""
    try:
        import ray
    except ImportError:
        raise InputError(None, "--engine ray needs Ray: pip install 'alliance-coder[ray]'") from None
    from dataclasses import asdict

    if not ray.is_initialized():
        ray.init(address=config.ray_address, include_dashboard=False, log_to_driver=False)
    by_file: dict[str, list[dict]] = {}
    for plan in todo:
        by_file.setdefault(plan.source, []).append(asdict(plan))
    threads = threads_per_worker(config.threads, config.workers) or 1
    dataset = ray.data.from_items([{"plans": json.dumps(plans)} for plans in by_file.values()])
    coded = dataset.map_batches(RayCoder, fn_constructor_kwargs={"job": job, "threads": threads}, batch_size=1,
                                batch_format="numpy", concurrency=config.workers, num_cpus=threads)
    expected = {p.key for p in todo}
    for row in coded.iter_rows():
        expected.discard(row["key"])
        progress.update(int(row["n_utterances"]))
    if expected:
        raise RuntimeError(f"the Ray engine did not code {len(expected)} session(s); run again with --resume")


def run_engine(todo: list["Planned"], job: "Job", config: "RunConfig", progress: "ProgressLine",
               kept: "KeptWithin | None" = None) -> None:
    """Code every planned session with the configured engine (``kept``: sessions read while planning)."""
    if config.engine == "ray":
        run_ray(todo, job, config, progress)
    else:
        run_local(todo, job, config, progress, kept)
