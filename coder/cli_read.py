"""``alliance-coder segment | formats | data build``: reading transcripts and building the corpus."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from coder.cli_app import (ColumnOption, FormatOption, NoSegmentOption, ResegmentOption, RolesOption, TherapistOption, app,
                           deidentify_sessions, err, fail, is_batch, load_with_progress, output_dir, output_file, reading_options,
                           report_and_exit_code)
from coder.errors import InputError
from coder.frames import sessions_to_frame, to_long
from coder.io import READERS
from coder.segment import SegmenterConfig
from coder.tables_io import write_frame


@app.command()
def segment(
    inputs: list[Path] = typer.Argument(..., help="Transcript files, or folders of them."),
    fmt: FormatOption = None,
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Utterance table (.csv or .tsv); default: stdout."),
    long: Optional[Path] = typer.Option(None, "--long", help="Also write the long code table (CSV) here."),
    coder_id: str = typer.Option("input", "--coder-id", help="coder_id for codes carried by the input, in --long."),
    therapist: TherapistOption = [],
    roles_file: RolesOption = None,
    resegment: ResegmentOption = False,
    no_segment: NoSegmentOption = False,
    column: ColumnOption = [],
    deidentify: bool = typer.Option(False, "--deidentify", help="Replace names, places, dates and other "
                                    "identifiers by placeholders ([NAME_1]) before writing."),
) -> None:
    """Read transcripts and write the utterance table.

    Columns: session_id, utterance_id, turn_id, speaker, role, start, end, text (and codes when
    the input carried any).
    """
    output_file(out)
    output_file(long)
    roles, columns = reading_options(therapist, roles_file, column)
    seg = SegmenterConfig(segment=not no_segment, resegment=resegment)
    report = load_with_progress(inputs, fmt=fmt, columns=columns, roles=roles, segmenter=seg)
    if report.sessions:
        sessions = deidentify_sessions(report.sessions, deidentify)
        frame = sessions_to_frame(sessions)
        if not frame["codes"].astype(bool).any():
            frame = frame.drop(columns="codes")
        if out is None:
            frame.to_csv(sys.stdout, index=False)
        else:
            write_frame(frame, out)
        if long is not None:
            write_frame(to_long(sessions, coder_id, dense=False), long)
    raise typer.Exit(report_and_exit_code(report, batch=is_batch(inputs)))


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

    output_dir(out)
    try:
        build_and_report(out, show=True, annomi_path=annomi, context=context, seed=seed,
                         include_welivita=welivita, include_constructed=constructed)
    except InputError as e:
        fail(e)
    err.print(f"saved to {out}", markup=False)


@app.command()
def formats() -> None:
    """List the transcript formats that can be read, with their file extensions."""
    from coder.io import EXTENSIONS

    for name, reader in READERS.items():
        exts = " ".join(e for e, n in EXTENSIONS.items() if n == name)
        doc = (reader.__doc__ or "").strip().splitlines()[0]
        typer.echo(f"{name:8} {exts:14} {doc}")
