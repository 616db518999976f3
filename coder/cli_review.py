"""``alliance-coder review`` and ``alliance-coder agreement``: registered on :data:`coder.cli_app.app` on import."""

from __future__ import annotations

import getpass
import logging
import sys
from pathlib import Path
from typing import Optional

import typer

from coder.cli_app import EXIT_BAD_INPUT, app, err, output_file
from coder.errors import InputError


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no USER and no passwd entry
        return "annotator"


def _fail(error: InputError) -> None:
    err.print(str(error), markup=False)
    raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
def review(
    coded_dir: Path = typer.Argument(..., help="Folder written by `alliance-coder code` (utterances.csv)."),
    db: Optional[Path] = typer.Option(None, "--db", help="Corrections database; default CODED_DIR/corrections.sqlite."),
    annotator: Optional[str] = typer.Option(None, "--annotator", "-a", help="Your name; default your login name."),
    port: int = typer.Option(0, "--port", "-p", help="Port on 127.0.0.1; 0 picks a free one."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Only print the link; do not open a browser."),
    import_labelstudio: list[Path] = typer.Option([], "--import-labelstudio",
                                                  help="Add the annotations of a Label Studio JSON export, then exit."),
    export_labelstudio: Optional[Path] = typer.Option(None, "--export-labelstudio",
                                                      help="Write Label Studio tasks with predictions (JSON), then exit."),
    import_csv: list[Path] = typer.Option([], "--import-csv", help="Add corrections from a CSV, then exit."),
    export_csv: Optional[Path] = typer.Option(None, "--export-csv", help="Write current labels as CSV, then exit."),
    audit: bool = typer.Option(False, "--audit", help="With --export-csv: every correction, not just current labels."),
) -> None:
    """Review and correct the model's codes in a local web app (127.0.0.1, per-launch access token).

    Shows one session at a time with the model's codes and confidences, an uncertain-first
    queue across sessions, code definitions on hover and keyboard shortcuts (press ? on the
    page). Corrections go to an SQLite database with an audit trail. The import/export options
    move corrections to and from Label Studio's JSON and CSV instead of starting the app.
    """
    from coder.review import labelstudio as ls
    from coder.review.store import Store, default_db_path

    for path in (db, export_labelstudio, export_csv):
        output_file(path)
    try:
        store = Store(db or default_db_path(coded_dir))
        n = store.import_coded_dir(coded_dir)
        name = annotator or _login_name()
        batch = bool(import_labelstudio or export_labelstudio or import_csv or export_csv)
        for path in import_labelstudio:
            err.print(f"{path}: {ls.import_annotations(store, path, annotator=annotator)} correction(s) added",
                      markup=False)
        for path in import_csv:
            err.print(f"{path}: {ls.import_corrections_csv(store, path, annotator=annotator)} correction(s) added",
                      markup=False)
        if export_labelstudio:
            tasks = ls.export_tasks(store, export_labelstudio)
            err.print(f"{export_labelstudio}: {len(tasks)} task(s); labelling interface in "
                      f"{export_labelstudio.with_name(export_labelstudio.stem + '.label_config.xml')}", markup=False)
        if export_csv:
            frame = ls.export_corrections_csv(store, export_csv, audit=audit)
            err.print(f"{export_csv}: {len(frame)} row(s)", markup=False)
        warning = store.attachment_warning()  # orphaned / unverified corrections: one line, never silent
        if warning:
            err.print(f"warning: {warning}", markup=False)
        if batch:
            raise typer.Exit(0)
        from coder.review.app import AppConfig, ReviewServer

        server = ReviewServer(store, AppConfig(annotator=name), port=port)
    except InputError as e:
        _fail(e)
    except OSError as e:
        err.print(f"cannot start the review app: {e}", markup=False)
        raise typer.Exit(1) from None
    reviewed, total = store.progress(name)
    typer.echo(f"{n} utterance(s) from {coded_dir}; corrections in {store.path}")
    typer.echo(f"annotator {name}: {reviewed} / {total} reviewed")
    typer.echo(f"open {server.url}")
    typer.echo("(only this machine can reach it; the token changes every launch; Ctrl+C stops)")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    if not no_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("stopped")


@app.command()
def agreement(
    inputs: list[Path] = typer.Argument(..., help="Long-table CSVs, corrections databases or coded folders."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the full table as CSV here."),
    threshold: float = typer.Option(0.5, "--threshold", help="A score at or above it counts as the code present."),
    all_codes: bool = typer.Option(False, "--all", help="Print every code, not just the overall rows."),
) -> None:
    """Agreement per code and overall: Cohen's kappa for every pair of coders (model and annotators),
    Fleiss' kappa and Krippendorff's alpha for three or more, with prevalence."""
    from coder.review.agreement import AgreementConfig, agreement as compute, load_long

    output_file(out)
    try:
        long = load_long(inputs)
    except InputError as e:
        _fail(e)
    coders = sorted(long["coder_id"].unique())
    if len(coders) < 2:
        err.print(f"agreement needs two coders or more; found {len(coders)} ({', '.join(coders) or 'none'})",
                  markup=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    table = compute(long, AgreementConfig(threshold=threshold))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
    shown = table if all_codes else table[table["code"].isin(["(overall)", "(macro)"])]
    cols = ["statistic", "code", "coders", "n_items", "prevalence", "pct_agree", "value"]
    text = shown[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="–")
    typer.echo(text)
    if out is not None:
        err.print(f"{out}: {len(table)} row(s)", markup=False)
    sys.stdout.flush()
