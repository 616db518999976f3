"""The ``alliance-coder`` command line: a thin typer layer over pure functions.

Bad input prints one line per file (``FILE[:LINE]: what is wrong``) and exits with status 2;
a batch goes on past a bad file and ends with a summary of what was kept and what failed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from coder import __version__
from coder.errors import InputError
from coder.frames import sessions_to_frame, to_long
from coder.io import READERS
from coder.pipeline import LoadReport, load_transcripts
from coder.roles import RoleConfig, read_roles_file
from coder.segment import SegmenterConfig

app = typer.Typer(
    help="Code the therapeutic alliance in psychotherapy transcripts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_BAD_INPUT = 2


def _version(value: bool) -> None:
    if value:
        typer.echo(f"alliance-coder {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Code the therapeutic alliance in psychotherapy transcripts."""


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
        err.print(str(e), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)


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


def report_and_exit_code(report: LoadReport, *, batch: bool) -> int:
    """Print warnings, failures and (for batches) the summary; return the exit status."""
    for w in report.warnings:
        err.print(f"warning: {w}", markup=False)
    for f in report.failures:
        err.print(f, markup=False)
    if batch or not report.failures:
        err.print(report.summary(), markup=False)
    return EXIT_BAD_INPUT if report.failures else 0


FORMAT_HELP = f"Input format for every file ({', '.join(READERS)}); default: from the extension."


@app.command()
def segment(
    inputs: list[Path] = typer.Argument(..., help="Transcript files, or folders of them."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Utterance table (.csv or .tsv); default: stdout."),
    long: Optional[Path] = typer.Option(None, "--long", help="Also write the long code table (CSV) here."),
    coder_id: str = typer.Option("input", "--coder-id", help="coder_id for codes carried by the input, in --long."),
    therapist: list[str] = typer.Option([], "--therapist", help="Speaker name to take as therapist (repeatable)."),
    roles_file: Optional[Path] = typer.Option(None, "--roles", help="CSV of speaker,role[,session_id]."),
    resegment: bool = typer.Option(False, "--resegment", help="Split input that is already one row per utterance."),
    no_segment: bool = typer.Option(False, "--no-segment", help="Keep every turn whole."),
    column: list[str] = typer.Option([], "--column", help="CSV/TSV column name, FIELD=NAME (e.g. text=Said)."),
) -> None:
    """Read transcripts and write the utterance table.

    Columns: session_id, utterance_id, turn_id, speaker, role, start, end, text (and codes when
    the input carried any).
    """
    roles, columns = reading_options(therapist, roles_file, column)
    seg = SegmenterConfig(segment=not no_segment, resegment=resegment)
    report = load_with_progress(inputs, fmt=fmt, columns=columns, roles=roles, segmenter=seg)
    if report.sessions:
        frame = sessions_to_frame(report.sessions)
        if not frame["codes"].astype(bool).any():
            frame = frame.drop(columns="codes")
        if out is None:
            frame.to_csv(sys.stdout, index=False)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(out, index=False, sep="\t" if out.suffix.lower() == ".tsv" else ",")
        if long is not None:
            long.parent.mkdir(parents=True, exist_ok=True)
            to_long(report.sessions, coder_id, dense=False).to_csv(long, index=False)
    code = report_and_exit_code(report, batch=len(inputs) > 1 or any(p.is_dir() for p in inputs))
    raise typer.Exit(code)


data_app = typer.Typer(help="Build the training corpus from AnnoMI and the project's labels.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("build")
def data_build(
    out: Path = typer.Option(..., "--out", "-o", help="Folder for the DatasetDict, label_counts.csv, manifest.json."),
    annomi: Optional[Path] = typer.Option(None, "--annomi", help="AnnoMI-full.csv (default: ../shared/data/annomi)."),
    context: int = typer.Option(2, "--context", help="Previous utterances given as context."),
    seed: int = typer.Option(13, "--seed", help="Seed of the transcript-level split."),
    welivita: bool = typer.Option(True, "--welivita/--no-welivita", help="Add Welivita & Pu (CC BY-NC-SA 3.0) to train."),
    constructed: bool = typer.Option(True, "--constructed/--no-constructed", help="Add constructed examples to train."),
) -> None:
    """Build the labelled corpus with transcript-level splits and print label counts per split."""
    from coder.data.build import build_and_report

    try:
        build_and_report(out, show=True, annomi_path=annomi, context=context, seed=seed,
                         include_welivita=welivita, include_constructed=constructed)
    except InputError as e:
        err.print(str(e), markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    err.print(f"saved to {out}", markup=False)


@app.command()
def formats() -> None:
    """List the transcript formats that can be read, with their file extensions."""
    from coder.io import EXTENSIONS

    for name, reader in READERS.items():
        exts = " ".join(e for e, n in EXTENSIONS.items() if n == name)
        doc = (reader.__doc__ or "").strip().splitlines()[0]
        typer.echo(f"{name:8} {exts:14} {doc}")


# Commands that live beside their subject register themselves on ``app`` when imported.
import coder.cli_model  # noqa: E402,F401
import coder.cli_rollup  # noqa: E402,F401
import coder.cli_review  # noqa: E402,F401

if __name__ == "__main__":  # pragma: no cover
    app()
