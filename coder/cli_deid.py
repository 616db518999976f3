"""``alliance-coder deidentify``: transcripts → de-identified utterance table + per-session audit.

Registered on the CLI's ``app`` when imported (``coder/cli.py`` imports it). The Presidio
engine loads only when the command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from coder.cli_app import (ColumnOption, EXIT_BAD_INPUT, FormatOption, NoSegmentOption, ResegmentOption, RolesOption, TherapistOption,
                           app, err, load_with_progress, output_file, reading_options, report_and_exit_code)
from coder.segment import SegmenterConfig


def write_deidentified(sessions, out: Path, audit_path: Path, *, config=None) -> tuple[Path, Path]:
    """De-identify ``sessions``; write the utterance table to ``out`` and the audit CSV to ``audit_path``.

    The table has the columns of ``segment``'s (``codes`` dropped when no utterance has any);
    ``.tsv`` writes tab-separated. The audit holds counts per session and type, never values.
    """
    from coder.deid import deidentify_sessions
    from coder.frames import sessions_to_frame
    from coder.tables_io import write_frame

    clean, audit = deidentify_sessions(sessions, config=config)
    frame = sessions_to_frame(clean)
    if not frame["codes"].astype(bool).any():
        frame = frame.drop(columns="codes")
    return write_frame(frame, out), write_frame(audit, audit_path)


@app.command("deidentify")
def deidentify_command(
    inputs: list[Path] = typer.Argument(..., help="Transcript files, or folders of them."),
    out: Path = typer.Option(..., "--out", "-o", help="De-identified utterance table (.csv or .tsv)."),
    audit: Optional[Path] = typer.Option(None, "--audit", help="Per-session audit CSV; default OUT's name "
                                         "with .audit.csv."),
    fmt: FormatOption = None,
    therapist: TherapistOption = [],
    roles_file: RolesOption = None,
    resegment: ResegmentOption = False,
    no_segment: NoSegmentOption = False,
    column: ColumnOption = [],
    keep: list[str] = typer.Option([], "--keep", help="A word never to remove, e.g. the clinic's name (repeatable)."),
    no_speakers: bool = typer.Option(False, "--keep-speaker-labels", help="Leave speaker labels as they are."),
) -> None:
    """Replace identifiers with typed placeholders, consistent within each session; write an audit.

    Removes names, places, dates, ages over 89, phone numbers, e-mail and street addresses and
    record numbers ([NAME_1], [DATE_2]: the same value → the same placeholder). Speaker labels
    that are names become the person's [NAME_n]; roles are kept. Writes the utterance table (as
    `segment` does) and an audit CSV of counts per session and type (never the removed values).
    An aid, not a guarantee: read the output before sharing it.
    """
    from coder.deid import DeidConfig

    roles, columns = reading_options(therapist, roles_file, column)
    if out.suffix.lower() not in (".csv", ".tsv"):
        err.print(f"{out}: --out must be a .csv or .tsv file", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    out = output_file(out)
    audit_path = output_file(audit or out.with_name(out.stem + ".audit.csv"))
    report = load_with_progress(inputs, fmt=fmt, columns=columns, roles=roles,
                                segmenter=SegmenterConfig(segment=not no_segment, resegment=resegment))
    if report.sessions:
        config = DeidConfig(keep=list(keep), speaker_labels=not no_speakers)
        write_deidentified(report.sessions, out, audit_path, config=config)
        err.print(f"de-identified {len(report.sessions)} session(s) → {out}; audit → {audit_path}", markup=False)
    raise typer.Exit(report_and_exit_code(report, batch=len(inputs) > 1 or any(p.is_dir() for p in inputs)))
