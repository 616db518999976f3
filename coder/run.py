"""Code a corpus of transcripts: one function that the CLI, the Ray engine and the tests all call.

:func:`code_transcripts` checks the output folder (before any work), reads every input once to
plan (sessions, shard, what a resumed run has already done, utterance totals for the progress
line), then streams the sessions to an engine (this process, local worker processes, or Ray)
that codes each session, rolls it up in memory and writes its part atomically. The corpus tables
and the report are assembled from the parts at the end (:mod:`coder.run_output`).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from coder import __version__
from coder.errors import InputError
from coder.model.runtime import resolve_runtime
from coder.roles import RoleConfig
from coder.rollup.scores import RollupConfig
from coder.run_engines import ProgressLine
from coder.run_output import (check_output_dir, json_hash, model_settings, prepare_output,
                              read_manifest, write_manifest)
from coder.run_inputs import Planned, kept_sessions, plan_inputs  # noqa: F401  (Planned: its old home)
from coder.run_parts import KEPT, PartRef, assemble, part_folder
from coder.segment import SegmenterConfig

ENGINES = ("local", "ray")


@dataclass
class RunConfig:
    """Everything a coding run depends on besides its inputs, model and output folder.

    Attributes
    ----------
    fmt : str, optional
        Reader for every input file (``--format``); default from each file's extension.
    columns : dict, optional
        CSV/TSV column names (``{"text": "Said"}``).
    roles : RoleConfig
        How therapist and client are told apart (``--therapist``, ``--roles``).
    segmenter : SegmenterConfig
        How turns are split into utterances (``--no-segment``, ``--resegment``).
    batch_size : int
        Utterances per forward pass.
    runtime : str
        What runs the network (:data:`coder.model.runtime.RUNTIMES`): ``auto`` (``onnx-int8``
        when onnxruntime is installed, else ``torch``), ``onnx-int8``, ``onnx-fp32`` or
        ``torch``. Part of the settings: a resumed run keeps its runtime.
    threads : int, optional
        CPU threads for all workers together; default every core this process may use.
    calibration : path-like, optional
        A calibration from ``calibrate``; adds ``calibrated_<target>`` columns to sessions.csv.
    report : bool
        Write the HTML report (False for very large batches).
    resume : bool
        Continue a run in the same folder with the same model and options: sessions already
        complete (same input file hash) are kept, partial ones redone.
    overwrite : bool
        Replace the run outputs of a non-empty folder (only those; see
        :data:`coder.run_output.RUN_OUTPUTS`).
    shard : (int, int), optional
        ``(i, n)``: code only the sessions whose stable id hash falls in shard ``i`` of ``n``
        (0 ≤ i < n), for job arrays; ``merge`` joins the shards' folders.
    workers : int
        Worker processes (local engine) or Ray actors, each with its own model copy.
    engine : str
        ``local`` (this machine) or ``ray`` (Ray Data, optional extra ``[ray]``).
    ray_address : str, optional
        Address of an existing Ray cluster (``ray://host:10001`` or ``auto``); default: a Ray
        instance already started in this process, else a new local one.
    deidentify : bool
        Replace names and other identifiers in the text before coding (:mod:`coder.deid`).
    rollup : RollupConfig
        The roll-up's settings.
    progress_every : float
        Seconds between progress lines (``coded 1200/5000 utterances, 85 utt/s, ETA 45 s``).
    on_progress : callable, optional
        Receives each progress line; default none are made.
    """

    fmt: str | None = None
    columns: dict[str, str] | None = None
    roles: RoleConfig = field(default_factory=RoleConfig)
    segmenter: SegmenterConfig = field(default_factory=SegmenterConfig)
    batch_size: int = 64
    runtime: str = "auto"
    threads: int | None = None
    calibration: str | Path | None = None
    report: bool = True
    resume: bool = False
    overwrite: bool = False
    shard: tuple[int, int] | None = None
    workers: int = 1
    engine: str = "local"
    ray_address: str | None = None
    deidentify: bool = False
    rollup: RollupConfig = field(default_factory=RollupConfig)
    progress_every: float = 10.0
    on_progress: Callable[[str], None] | None = None


@dataclass
class RunResult:
    """What a run did.

    Attributes
    ----------
    out : Path
    coder_id : str
        ``model:<version>``.
    n_files : int
        Input files read.
    session_ids : list of str
        Sessions of this run (of this shard), in corpus order.
    n_utterances : int
        Utterances of those sessions.
    n_coded, n_coded_utterances, n_resumed : int
        Sessions and utterances coded now; sessions kept from an earlier run (``--resume``).
    failures, warnings : list of str
        One line each (bad files and sessions; role guesses).
    skipped, skipped_words : Counter
        Source lines skipped, and the words they held, by reason.
    paths : dict of str to Path
        The corpus tables and report written.
    seconds : float
        Wall time of the run.
    """

    out: Path
    coder_id: str = ""
    n_files: int = 0
    session_ids: list[str] = field(default_factory=list)
    n_utterances: int = 0
    n_coded: int = 0
    n_coded_utterances: int = 0
    n_resumed: int = 0
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    skipped_words: Counter = field(default_factory=Counter)
    paths: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """2 when a file or session failed, else 0."""
        return 2 if self.failures else 0

    def summary(self) -> str:
        """One line: files, sessions, utterances kept; lines skipped (by reason); failures."""
        from coder.pipeline import describe_skips

        text = (f"{self.n_files} file(s): {len(self.session_ids)} session(s), {self.n_utterances} utterance(s) kept; "
                + describe_skips(self.skipped, self.skipped_words))
        return text + (f"; {len(self.failures)} failed" if self.failures else "")


@dataclass
class Job:
    """What an engine needs to code sessions and write their parts (picklable, no model)."""

    out: str
    model: str
    settings_hash: str
    coder_id: str
    families: list[str]
    batch_size: int
    threads: int | None
    fmt: str | None
    columns: dict | None
    roles: RoleConfig
    segmenter: SegmenterConfig
    rollup: RollupConfig
    deidentify: bool
    runtime: str = "torch"
    #: Keep each session's analysis for the report (one process codes and assembles).
    keep_analyses: bool = False


def _settings(model_info: dict, config: RunConfig, runtime: str, model) -> dict:
    from coder.model.runtime import describe

    return {
        "model": model_info, "runtime": describe(runtime, model),
        "format": config.fmt, "columns": config.columns, "roles": asdict(config.roles),
        "segmenter": asdict(config.segmenter), "deidentify": config.deidentify,
        "rollup": asdict(config.rollup), "shard": list(config.shard) if config.shard else None,
        "coder_version": __version__,
    }


def with_model_reliability(config: RunConfig, model: Path) -> RunConfig:
    """``config`` whose roll-up pools the codes the model flags unreliable (unless already set)."""
    from dataclasses import replace

    from coder.model.decisions import unreliable_codes

    if config.rollup.mapping.unreliable:
        return config
    mapping = replace(config.rollup.mapping, unreliable=unreliable_codes(model))
    return replace(config, rollup=replace(config.rollup, mapping=mapping))


def _check(config: RunConfig) -> None:
    if config.engine not in ENGINES:
        raise InputError(None, f"--engine must be one of {', '.join(ENGINES)}, not {config.engine!r}")
    if config.engine == "ray":
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise InputError(None, "--engine ray needs Ray: pip install 'alliance-coder[ray]'")
    if config.workers < 1:
        raise InputError(None, "--workers must be 1 or more")
    if config.shard is not None:
        i, n = config.shard
        if not (n >= 1 and 0 <= i < n):
            raise InputError(None, f"--shard must be i/n with 0 <= i < n, not {i}/{n}")
    try:
        resolve_runtime(config.runtime)
    except ValueError as err:
        raise InputError(None, str(err)) from None
    if config.deidentify:
        try:
            import coder.deid  # noqa: F401
        except ImportError:
            raise InputError(None, "--deidentify needs coder.deid, which this installation lacks") from None


def code_transcripts(inputs, *, model: str | Path | None = None, config: RunConfig | None = None,
                     out: str | Path) -> RunResult:
    """Read, segment, code and roll up transcripts into ``out``; resumable, shardable, parallel.

    Parameters
    ----------
    inputs : list of path-like
        Transcript files, or folders of them.
    model : path-like, optional
        Saved model folder; default :func:`coder.model.default_model_path`.
    config : RunConfig, optional
    out : path-like
        Output folder (see :mod:`coder.run_output` for its layout).

    Returns
    -------
    RunResult

    Raises
    ------
    coder.errors.InputError
        Before any coding, for a bad option, model, calibration or output path
        (:class:`coder.run_output.OutputError`). Bad transcripts do not raise: they are in
        ``RunResult.failures`` and the run goes on.
    """
    from coder.model import default_model_path

    t0 = time.perf_counter()
    config = config or RunConfig()
    out = check_output_dir(out)  # path problems first, before the model or any input is read
    model = Path(model) if model is not None else default_model_path()
    _check(config)
    config = with_model_reliability(config, model)
    calibration = None
    if config.calibration is not None:
        from coder.rollup.calibrate import Calibration

        calibration = Calibration.load(config.calibration)
    model_info = model_settings(model)
    runtime = resolve_runtime(config.runtime)
    settings = _settings(model_info, config, runtime, model)
    settings_hash = json_hash(settings)
    resumed = prepare_output(out, settings, resume=config.resume, overwrite=config.overwrite)
    result = RunResult(out=out, coder_id=f"model:{model_info['version']}")
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    manifest = {"format": 1, "tool": f"alliance-coder {__version__}", "status": "running", "started": started,
                "model_path": str(model.absolute()), "settings": settings, "settings_hash": settings_hash,
                "execution": {"batch_size": config.batch_size, "threads": config.threads, "workers": config.workers,
                              "engine": config.engine, "calibration": str(config.calibration or ""),
                              "report": config.report, "resumed": resumed}}
    if resumed:
        manifest["started"] = (read_manifest(out) or {}).get("started", started)
    write_manifest(out, manifest)

    from coder.tables_io import model_families

    job = Job(out=str(out), model=str(model), settings_hash=settings_hash, coder_id=result.coder_id, families=[],
              batch_size=config.batch_size, threads=config.threads, fmt=config.fmt, columns=config.columns,
              roles=config.roles, segmenter=config.segmenter, rollup=config.rollup, deidentify=config.deidentify,
              runtime=runtime, keep_analyses=config.engine == "local" and config.workers == 1)
    files: list[list[str]] = []
    KEPT.clear()  # analyses kept by an earlier run in this process
    kept = kept_sessions() if config.engine == "local" else None  # Ray actors read their files themselves
    planned = plan_inputs(inputs, out, job, config, result, files, kept)
    result.session_ids = [p.session_id for p in planned]
    result.n_utterances = sum(p.n_utterances for p in planned)
    result.n_resumed = sum(p.done for p in planned)
    todo = [p for p in planned if not p.done]
    if todo:
        import json

        labels = json.loads((model / "labels.json").read_text(encoding="utf-8"))
        job.families = model_families(labels.get("targets", []))
        progress = ProgressLine(sum(p.n_utterances for p in todo), config.on_progress, config.progress_every)
        from coder.run_engines import run_engine

        if runtime.startswith("onnx"):
            from coder.model.runtime import ensure_onnx

            ensure_onnx(model, runtime)  # once, before any worker loads it
        run_engine(todo, job, config, progress, kept)
        result.n_coded = len(todo)
        result.n_coded_utterances = sum(p.n_utterances for p in todo)
        if config.on_progress and progress.done:
            config.on_progress(progress.line())
    parts = [PartRef(p.order, p.session_id, p.key, part_folder(out, p.key)) for p in planned]
    try:
        if planned or config.shard:
            result.paths = assemble(out, parts, config=config.rollup, calibration=calibration, report=config.report)
    finally:
        KEPT.clear()
    manifest.update(status="complete", finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    inputs_all=files,
                    sessions=[{"session_id": p.session_id, "key": p.key, "order": list(p.order),
                               "n_utterances": p.n_utterances, "source": p.source} for p in planned],
                    failures=result.failures)
    write_manifest(out, manifest)
    result.seconds = time.perf_counter() - t0
    return result
