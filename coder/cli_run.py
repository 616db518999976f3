"""``alliance-coder code | merge``: code a corpus (resumable, sharded, parallel, on Ray) and join shards.

The work is :func:`coder.run.code_transcripts` and :func:`coder.run_merge.merge_runs`; this
module only turns options into a :class:`coder.run.RunConfig` and results into lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from coder.cli_app import (ColumnOption, FormatOption, NoSegmentOption, ResegmentOption, RolesOption, TherapistOption, app, err, fail,
                           is_batch, print_report, reading_options)
from coder.errors import InputError
from coder.model import DEFAULT_MODEL_NAME, default_model_path
from coder.segment import SegmenterConfig


def parse_shard(text: Optional[str]) -> tuple[int, int] | None:
    """``"i/n"`` → ``(i, n)``; one line and exit 2 when malformed."""
    if text is None:
        return None
    i, sep, n = text.partition("/")
    if not sep or not i.strip().isdigit() or not n.strip().isdigit() or not 0 <= int(i) < int(n):
        fail(f"--shard expects i/n with 0 <= i < n (e.g. 0/4), got {text!r}")
    return int(i), int(n)


@app.command()
def code(
    inputs: list[Path] = typer.Argument(..., help="Transcript files, or folders of them."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder (new or empty; see --resume, --overwrite)."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help=f"Model folder; default the shipped "
                                         f"{DEFAULT_MODEL_NAME} (or $ALLIANCE_CODER_MODEL)."),
    fmt: FormatOption = None,
    therapist: TherapistOption = [],
    roles_file: RolesOption = None,
    resegment: ResegmentOption = False,
    no_segment: NoSegmentOption = False,
    column: ColumnOption = [],
    batch_size: int = typer.Option(64, "--batch-size", help="Utterances per forward pass."),
    runtime: str = typer.Option("auto", "--runtime", help="What runs the network: auto (onnx-int8 when "
                                "onnxruntime is installed), onnx-int8, onnx-fp32 (torch's fp32 computation) "
                                "or torch."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads for all workers together; "
                                          "default all this process may use."),
    calibration: Optional[Path] = typer.Option(None, "--calibration", help="Calibration file from `calibrate`."),
    no_report: bool = typer.Option(False, "--no-report", help="Tables only, no HTML report (large batches)."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run in DIR (same model and "
                                "options): complete sessions are kept, partial ones redone."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the outputs of an earlier run in DIR."),
    shard: Optional[str] = typer.Option(None, "--shard", help="i/n: code only shard i (0-based) of n, split by a "
                                        "stable hash of the session id; join the folders with `merge`."),
    workers: int = typer.Option(1, "--workers", help="Worker processes (or Ray actors), each with one model."),
    engine: str = typer.Option("local", "--engine", help="local, or ray (pip install 'alliance-coder[ray]')."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Existing Ray cluster, e.g. auto or "
                                              "ray://head:10001; default a local Ray instance."),
    deidentify: bool = typer.Option(False, "--deidentify", help="Replace names, places, dates and other "
                                    "identifiers by placeholders before coding (and in the outputs)."),
    progress_every: Optional[float] = typer.Option(None, "--progress-every", help="Seconds between progress "
                                                   "lines (default 10, or 1 on a terminal)."),
) -> None:
    """Read, segment and code transcripts, then roll the codes up into scores, episodes and a report.

    Writes DIR/utterances.csv (session_id, utterance_id, turn_id, speaker, role, start, end,
    text, codes, then p_<code> per code of the scheme), DIR/codes_long.csv (session_id,
    utterance_id, coder_id = model:<version>, code, score), DIR/sessions.csv, DIR/segments.csv,
    DIR/ruptures.csv, DIR/report/, and DIR/run.json (the manifest) with DIR/parts/ (one folder
    per session, what --resume and merge use).
    """
    from coder.run import RunConfig, code_transcripts

    roles, columns = reading_options(therapist, roles_file, column)
    every = progress_every if progress_every is not None else (1.0 if err.is_terminal else 10.0)
    config = RunConfig(fmt=fmt, columns=columns, roles=roles,
                       segmenter=SegmenterConfig(segment=not no_segment, resegment=resegment),
                       batch_size=batch_size, runtime=runtime, threads=threads, calibration=calibration,
                       report=not no_report,
                       resume=resume, overwrite=overwrite, shard=parse_shard(shard), workers=workers,
                       engine=engine, ray_address=ray_address, deidentify=deidentify, progress_every=every,
                       on_progress=lambda line: err.print(line, markup=False))
    try:
        result = code_transcripts(inputs, model=model, config=config, out=out)
    except InputError as e:
        path = model or default_model_path()
        if model is None and not path.exists():
            fail(f"{path}: no shipped model {DEFAULT_MODEL_NAME!r} found; set ALLIANCE_CODER_MODEL, reinstall "
                 "alliance-coder, or pass --model PATH")
        fail(e)
    if result.session_ids:
        kept = f" ({result.n_resumed} session(s) kept from the earlier run)" if result.n_resumed else ""
        err.print(f"coded {result.n_coded_utterances} utterance(s) with {result.coder_id} in {result.seconds:.1f} s{kept} → {out}",
                  markup=False)
        err.print(f"{len(result.session_ids)} session(s), {result.n_utterances} utterance(s) rolled up → "
                  + ", ".join(str(p) for p in result.paths.values()), markup=False)
    raise typer.Exit(print_report(result.warnings, result.failures, result.summary(), batch=is_batch(inputs)))


@app.command()
def merge(
    folders: list[Path] = typer.Argument(..., help="Output folders of `code --shard i/n` runs (all n of them)."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the merged tables and report."),
    calibration: Optional[Path] = typer.Option(None, "--calibration", help="Calibration file from `calibrate`."),
    no_report: bool = typer.Option(False, "--no-report", help="Tables only, no HTML report."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the outputs of an earlier merge in --out."),
) -> None:
    """Join the shards of a run into one set of tables and one report (equal to an unsharded run's)."""
    from coder.run_merge import merge_runs

    try:
        result = merge_runs(folders, out, calibration=calibration, report=not no_report, overwrite=overwrite)
    except InputError as e:
        fail(e)
    err.print(f"merged {len(folders)} folder(s){' (shards ' + ', '.join(result.shards) + ')' if result.shards else ''}:"
              f" {len(result.session_ids)} session(s), {result.n_utterances} utterance(s) → "
              + ", ".join(str(p) for p in result.paths.values()), markup=False)
