"""Where the corpus lives: the repository's own annotations and the shared reference data.

The shared data (AnnoMI, Welivita & Pu) sits next to the repository in ``../shared/data``;
set ``ALLIANCE_CODER_SHARED_DATA`` to point elsewhere. It is read at build time only and
never copied into the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (the folder holding ``coder/`` and ``data/``).
REPO_ROOT = Path(__file__).resolve().parents[2]
#: The project's own label files, ratings and constructed examples.
ANNOTATIONS_DIR = REPO_ROOT / "data" / "annotations"


def shared_data_dir() -> Path:
    """The shared reference-data folder (``$ALLIANCE_CODER_SHARED_DATA`` or ``../shared/data``).

    Returns
    -------
    pathlib.Path
        The folder; it may not exist (tests skip then).
    """
    env = os.environ.get("ALLIANCE_CODER_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


def default_annomi_path() -> Path:
    """``<shared data>/annomi/AnnoMI-full.csv``."""
    return shared_data_dir() / "annomi" / "AnnoMI-full.csv"


def default_welivita_dir() -> Path:
    """``<shared data>/welivita-mi``."""
    return shared_data_dir() / "welivita-mi"


def csv_records(path: Path, required, error=None):
    """Yield ``(line, record)`` for each row of a CSV of the project's own files.

    Raises ``error`` (default :class:`coder.errors.InputError`) naming the file and line 1 when a
    column of ``required`` is missing; ``line`` is the row's 1-based line (header = 1).
    """
    import csv

    from coder.errors import InputError

    error = error or InputError
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise error(path, f"missing column(s) {', '.join(missing)}", line=1)
        for record in reader:
            yield reader.line_num, record
