"""``alliance-coder rollup`` and ``alliance-coder calibrate``: the roll-up from a coded table.

Registered on :data:`coder.cli_app.app` when this module is imported (``coder/cli.py`` imports it).
Both read the classifier's output format: ``utterances.csv`` with a ``codes`` column and, when a
model coded it, ``p_<code>`` probability columns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from coder.cli_app import EXIT_BAD_INPUT, app, err, fail, output_dir, output_file
from coder.errors import InputError
from coder.rollup.calibrate import Calibration, CalibrationConfig, fit_calibration, read_ratings_table
from coder.rollup.episodes import EpisodeConfig
from coder.rollup.scores import RollupConfig
from coder.rollup.tables import rollup as rollup_tables
from coder.tables_io import coded_table_path, iter_coded, read_coded


def _config(window: Optional[float], step: Optional[float], window_utterances: Optional[int],
            threshold: Optional[float], n_boot: Optional[int], hard: bool) -> RollupConfig:
    cfg = RollupConfig(use_proba=not hard)
    if window is not None:
        cfg.window_s = window * 60.0
    if step is not None:
        cfg.step_s = step * 60.0
    if window_utterances is not None:
        cfg.window_utterances = window_utterances
        cfg.step_utterances = max(1, window_utterances // 4)
    if threshold is not None:
        cfg.episodes = EpisodeConfig(threshold=threshold)
    if n_boot is not None:
        cfg.n_boot = n_boot
    return cfg


@app.command("rollup")
def rollup_command(
    coded: Path = typer.Argument(..., help="Folder holding utterances.csv (or the table itself)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder; default: the input folder."),
    calibration: Optional[Path] = typer.Option(None, "--calibration", help="Calibration file from `calibrate`."),
    no_report: bool = typer.Option(False, "--no-report", help="Write the tables only, no HTML report."),
    window: Optional[float] = typer.Option(None, "--window", help="Segment length in minutes (default 5)."),
    step: Optional[float] = typer.Option(None, "--step", help="Segment step in minutes (default 1)."),
    window_utterances: Optional[int] = typer.Option(None, "--window-utterances",
                                                    help="Segment length in utterances without times (default 40)."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Marker probability threshold (0.3)."),
    n_boot: Optional[int] = typer.Option(None, "--n-boot", help="Bootstrap resamples for the bands (500)."),
    hard: bool = typer.Option(False, "--hard-codes", help="Ignore p_<code> columns; use the codes only."),
) -> None:
    """Roll a coded utterance table up into sessions.csv, segments.csv, ruptures.csv and the report."""
    cfg = _config(window, step, window_utterances, threshold, n_boot, hard)
    if not hard:  # a model's run: its unreliable codes count only as their family (rollup.md)
        from dataclasses import replace

        from coder.model.decisions import unreliable_codes
        from coder.run_output import run_model_path

        model_path = run_model_path(coded if coded.is_dir() else coded.parent)
        cfg.mapping = replace(cfg.mapping, unreliable=unreliable_codes(model_path))
    target = out if out is not None else (coded if coded.is_dir() else coded.parent)
    roll_up_folder(coded, target, config=cfg, calibration=calibration, report=not no_report)


def roll_up_folder(coded: Path, target: Path, *, config=None, calibration: Optional[Path] = None,
                   report: bool = True) -> None:
    """Stream ``coded``'s utterance table session by session into the roll-up tables (and report) in ``target``.

    Bad input (an unreadable table or calibration) and an unusable ``target`` print one line and
    exit with status 2, before anything is written.
    """
    from coder.run_parts import roll_up_stream

    output_dir(target)
    try:
        table = coded_table_path(coded)
        cal = Calibration.load(calibration) if calibration else None
    except InputError as e:
        fail(e)
    counts = {"sessions": 0, "utterances": 0}

    def seen(session) -> None:
        counts["sessions"] += 1
        counts["utterances"] += len(session.utterances)
        progress.update(task, advance=1, description=session.id)

    with Progress(TextColumn("[bold]rolling up"), BarColumn(), TextColumn("{task.completed} session(s)"),
                  TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=True,
                  disable=not err.is_terminal) as progress:
        task = progress.add_task("", total=None)
        try:
            paths = roll_up_stream(lambda: iter_coded(table), target, config=config, calibration=cal, report=report,
                                   on_session=seen)
        except InputError as e:
            fail(e)
    err.print(f"{counts['sessions']} session(s), {counts['utterances']} utterance(s) rolled up → "
              + ", ".join(str(p) for p in paths.values()), markup=False)


@app.command()
def calibrate(
    ratings: Path = typer.Argument(..., help="CSV of human ratings: session_id (or transcript_id) + rating columns."),
    coded: Path = typer.Argument(..., help="Folder holding the coded utterances.csv of the rated sessions."),
    out: Path = typer.Option(Path("calibration.json"), "--out", "-o", help="Where to save (.json or .joblib)."),
    target: list[str] = typer.Option([], "--target", help="Rating column to calibrate (repeatable; default all)."),
    folds: int = typer.Option(5, "--folds", help="Cross-validation folds."),
    hard: bool = typer.Option(False, "--hard-codes", help="Ignore p_<code> columns; use the codes only."),
) -> None:
    """Fit a mapping from session features to a lab's human observer ratings, with cross-validation.

    Prints cross-validated ICC(2,1) and Pearson r per rating column and saves the calibration,
    which `rollup --calibration` (and `code --calibration`) then apply.
    """
    output_file(out)
    try:
        table = read_ratings_table(ratings, targets=list(target) or None)
        sessions = read_coded(coded)
    except InputError as e:
        err.print(str(e), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    cfg = RollupConfig(use_proba=not hard, n_boot=0)
    features = rollup_tables(sessions, config=cfg)["sessions"]
    try:
        cal = fit_calibration(features, table, config=CalibrationConfig(n_splits=folds))
    except ValueError as e:
        err.print(f"{ratings}: {e}", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    path = cal.save(out)
    typer.echo("target,n,icc21,pearson_r")
    for row in cal.metrics().itertuples(index=False):
        typer.echo(f"{row.target},{row.n},{row.icc21:.3f},{row.pearson_r:.3f}")
    err.print(f"cross-validated over {folds} folds; calibration saved to {path}", markup=False)
