"""The typer ``app`` and the helpers every command shares; imports no command module.

Command modules (``coder/cli_*.py``) import ``app`` from here and register their commands;
:mod:`coder.cli`, the entry point, imports them all. So the CLI has no import circle.

Bad input prints one line per file (``FILE[:LINE]: what is wrong``) and exits with status 2;
a batch goes on past a bad file and ends with a summary of what was kept and what failed.
Output paths are checked before any work (one line, exit status 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from coder import __version__
from coder.errors import InputError
from coder.io import READERS
from coder.pipeline import LoadReport, load_transcripts
from coder.roles import RoleConfig, read_roles_file

app = typer.Typer(
    help="Code the therapeutic alliance in psychotherapy transcripts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_BAD_INPUT = 2
FORMAT_HELP = f"Input format for every file ({', '.join(READERS)}); default: from the extension."

# The reading options every command that reads transcripts shares (segment, code, deidentify).
FormatOption = Annotated[Optional[str], typer.Option("--format", "-f", help=FORMAT_HELP)]
TherapistOption = Annotated[list[str], typer.Option("--therapist", help="Speaker name to take as therapist "
                                                    "(repeatable).")]
RolesOption = Annotated[Optional[Path], typer.Option("--roles", help="CSV of speaker,role[,session_id].")]
ResegmentOption = Annotated[bool, typer.Option("--resegment", help="Split input that is already one row per "
                                               "utterance.")]
NoSegmentOption = Annotated[bool, typer.Option("--no-segment", help="Keep every turn whole.")]
ColumnOption = Annotated[list[str], typer.Option("--column", help="CSV/TSV column name, FIELD=NAME "
                                                 "(e.g. text=Said).")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"alliance-coder {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Code the therapeutic alliance in psychotherapy transcripts."""


def fail(error: InputError | str) -> NoReturn:
    """Print one line and exit with status 2."""
    err.print(str(error), markup=False)
    raise typer.Exit(EXIT_BAD_INPUT)


def output_file(path: Path | None) -> Path | None:
    """``path`` when it can be written as a file (checked before any work); else one line, exit 2."""
    from coder.run_output import OutputError, check_output_file

    if path is None:
        return None
    try:
        return check_output_file(path)
    except OutputError as e:
        fail(e)


def output_dir(path: Path | None) -> Path | None:
    """``path`` when it is, or can become, a writable folder; else one line, exit 2."""
    from coder.run_output import OutputError, check_output_dir

    if path is None:
        return None
    try:
        return check_output_dir(path)
    except OutputError as e:
        fail(e)


def _parse_columns(items: list[str]) -> dict[str, str] | None:
    out = {}
    for item in items:
        field, sep, name = item.partition("=")
        if not sep or not field or not name:
            raise InputError(None, f"--column expects FIELD=NAME, got {item!r}")
        out[field.strip()] = name.strip()
    return out or None


def reading_options(therapist: list[str], roles_file: Path | None, column: list[str]):
    """``(RoleConfig, columns)`` from the shared reading options; bad ones exit with status 2."""
    try:
        roles = RoleConfig(therapist=list(therapist), roles=read_roles_file(roles_file) if roles_file else {})
        return roles, _parse_columns(column)
    except InputError as e:
        fail(e)


def load_with_progress(inputs: list[Path], *, fmt, columns, roles, segmenter) -> LoadReport:
    """Run :func:`load_transcripts` with a progress bar on multi-file input."""
    n = len(inputs) if not any(Path(p).is_dir() for p in inputs) else None
    show = (n is None or n > 1) and err.is_terminal
    with Progress(TextColumn("[bold]reading"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=err, transient=True, disable=not show) as progress:
        task = progress.add_task("", total=n)
        return load_transcripts(
            inputs, fmt=fmt, columns=columns, roles=roles, segmenter=segmenter,
            on_file=lambda p: progress.update(task, advance=1, description=p.name),
        )


def print_report(warnings: list[str], failures: list[str], summary: str, *, batch: bool) -> int:
    """Print warnings, failures and (for batches, or when nothing failed) the summary; return the exit status."""
    for w in warnings:
        err.print(f"warning: {w}", markup=False)
    for f in failures:
        err.print(f, markup=False)
    if batch or not failures:
        err.print(summary, markup=False)
    return EXIT_BAD_INPUT if failures else 0


def report_and_exit_code(report: LoadReport, *, batch: bool) -> int:
    """Print a load report's warnings, failures and summary; return the exit status."""
    return print_report(report.warnings, report.failures, report.summary(), batch=batch)


def is_batch(inputs: list[Path]) -> bool:
    """Several inputs, or a folder."""
    return len(inputs) > 1 or any(Path(p).is_dir() for p in inputs)


def deidentify_sessions(sessions: list, enabled: bool) -> list:
    """The sessions with identifiers replaced when ``enabled`` (:mod:`coder.deid`); exit 2 if it is missing."""
    if not enabled:
        return sessions
    try:
        from coder.deid import deidentify_sessions as deid
    except ImportError:
        fail("--deidentify needs coder.deid, which this installation lacks")
    clean, _audit = deid(sessions)
    return list(clean)
