"""The output folder of a run: path checks, hashes, the manifest, and what may be written where.

Layout of ``alliance-coder code ... -o DIR``::

    DIR/run.json              the manifest: model, options, input hashes, sessions, status
    DIR/parts/<key>/          one folder per session: utterances.csv, codes_long.csv,
                              segments.csv, ruptures.csv, then part.json (written last: "done")
    DIR/utterances.csv …      the corpus tables, assembled at the end from the parts
    DIR/report/               index.html and one page per session

Every file is written atomically (temporary file, then ``os.replace``), so a killed run leaves
either a complete part (with ``part.json``) or one that ``--resume`` redoes. The parts and the
corpus tables are :mod:`coder.run_parts`'s.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from coder.errors import InputError
from coder.hashing import file_sha256  # noqa: F401  (re-exported: run.py and tests use it from here)
from coder.tables_io import LONG_FILE, UTTERANCES_FILE, write_text

MANIFEST_FILE = "run.json"
PARTS_DIR = "parts"
PART_DONE = "part.json"
REPORT_DIR = "report"
ROLLUP_FILES = ("sessions.csv", "segments.csv", "ruptures.csv")
#: What a run writes into its folder; ``--overwrite`` removes these and nothing else.
RUN_OUTPUTS = (MANIFEST_FILE, PARTS_DIR, REPORT_DIR, UTTERANCES_FILE, LONG_FILE, *ROLLUP_FILES)


#: Files a saved model folder must hold (as ``UtteranceClassifier.load`` checks).
MODEL_FILES = ("config.json", "model.safetensors", "labels.json", "thresholds.json", "calibration.json")


class OutputError(InputError):
    """An output path that cannot be used; found before any reading or coding (exit status 2)."""


# --------------------------------------------------------------------------------------- path checks
def _probe(folder: Path) -> None:
    """Refuse a folder this process cannot create files in (checked by trying, so that read-only
    mounts and ACLs count too)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".alliance-coder-probe.", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as err:
        raise OutputError(folder, f"cannot write here ({err.strerror or type(err).__name__})") from None


def _existing_ancestor(path: Path) -> Path:
    probe = path.absolute()
    while not probe.exists():
        probe = probe.parent
    return probe


def check_output_dir(path: str | Path) -> Path:
    """Check that ``path`` is, or can become, a folder this process can write in.

    Raises
    ------
    OutputError
        When ``path`` (or a folder above it) is a file, or the folder cannot be written.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(path, "is a file, not a folder; give a folder for the outputs")
    base = _existing_ancestor(path)
    if not base.is_dir():
        raise OutputError(base, "is a file, not a folder")
    _probe(base)
    return path


def check_output_file(path: str | Path) -> Path:
    """Check that ``path`` can be written as a file (not a folder, its folder writable).

    Raises
    ------
    OutputError
        When ``path`` is a folder, a folder above it is a file, or it cannot be written.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(path, "is a folder; give a file name")
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(path, "cannot be overwritten (no write permission)")
    check_output_dir(path.parent)
    return path


# ------------------------------------------------------------------------------------------ hashing
def json_hash(data) -> str:
    """A stable short hash of JSON-able ``data`` (sorted keys)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def shard_of(session_id: str, n: int) -> int:
    """The shard (0 … n-1) of a session: SHA-256 of its id, so every machine and run agrees."""
    return int(hashlib.sha256(str(session_id).encode("utf-8")).hexdigest()[:16], 16) % n


def part_key(session_id: str, source: str) -> str:
    """The folder name of a session's part: a readable slug of the id plus a hash of source and id."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(session_id)).strip("._")[:60] or "session"
    digest = hashlib.sha1((str(source) + "\0" + str(session_id)).encode("utf-8")).hexdigest()[:10]
    return f"{slug}-{digest}"


def model_settings(model: Path) -> dict:
    """The model's identity for the manifest: version and a hash of its files.

    Raises
    ------
    coder.errors.InputError
        When ``model`` is not a saved model folder.
    """
    config = model / "config.json"
    missing = [f for f in MODEL_FILES if not (model / f).is_file()]
    if missing:
        raise InputError(model, f"no model here (missing {', '.join(missing)}); train one with "
                                "`alliance-coder train --out models/NAME` or pass --model PATH")
    version = json.loads(config.read_text(encoding="utf-8")).get("version") or model.name
    files = sorted([p for p in model.glob("*.json") if p.name != "history.json"] + list(model.glob("*.safetensors"))
                   + list((model / "encoder").glob("*")))
    digest = json_hash({str(p.relative_to(model)): file_sha256(p) for p in files})
    return {"version": version, "sha256": digest}


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def dumps(data) -> str:
    return json.dumps(data, indent=1, default=_jsonable, ensure_ascii=False) + "\n"


# ----------------------------------------------------------------------------------------- manifest
def read_manifest(folder: str | Path) -> dict | None:
    """The manifest of a run folder, or None when there is none (or it is unreadable)."""
    path = Path(folder) / MANIFEST_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_model_path(folder: str | Path) -> Path | None:
    """The model folder a run's manifest names (``model_path``), or None when there is no such run."""
    manifest = read_manifest(folder)
    path = manifest.get("model_path") if isinstance(manifest, dict) else None
    return Path(path) if isinstance(path, str) and path else None


def write_manifest(folder: str | Path, manifest: dict) -> Path:
    """Write the manifest atomically."""
    return write_text(dumps(manifest), Path(folder) / MANIFEST_FILE)


def _differences(old: dict, new: dict) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [k for k in keys if json.dumps(old.get(k), sort_keys=True, default=str)
            != json.dumps(new.get(k), sort_keys=True, default=str)]


def clear_run_outputs(folder: Path) -> None:
    """Remove what a run writes (:data:`RUN_OUTPUTS`) and leftover temporary files; nothing else."""
    for name in RUN_OUTPUTS:
        target = folder / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
    for leftover in folder.glob(".*.tmp"):
        leftover.unlink(missing_ok=True)
    for leftover in folder.glob(f"{REPORT_DIR}.*"):
        shutil.rmtree(leftover, ignore_errors=True)


def prepare_output(folder: str | Path, settings: dict, *, resume: bool, overwrite: bool) -> bool:
    """Decide, before any work, whether a run may write into ``folder``.

    Parameters
    ----------
    folder : path-like
        The output folder.
    settings : dict
        What the outputs depend on (model, reading options, shard…), as recorded in the manifest.
    resume, overwrite : bool
        ``--resume`` continues a run of the same settings; ``--overwrite`` clears an earlier run's
        files (only those, see :data:`RUN_OUTPUTS`).

    Returns
    -------
    bool
        True when resuming an earlier run of the same settings.

    Raises
    ------
    OutputError
        A path problem, or a non-empty folder that is not a resumable run of these settings.
    """
    folder = check_output_dir(folder)
    if resume and overwrite:
        raise OutputError(folder, "--resume and --overwrite exclude each other")
    if not folder.exists() or not any(folder.iterdir()):
        folder.mkdir(parents=True, exist_ok=True)
        return False
    manifest = read_manifest(folder)
    if overwrite:
        clear_run_outputs(folder)
        return False
    if manifest is None:
        raise OutputError(folder, "is not empty and holds no alliance-coder run; give a new or empty folder, "
                                  "or --overwrite to replace the run outputs in it")
    if not resume:
        raise OutputError(folder, f"holds an earlier run ({manifest.get('status', 'unknown')}); --resume continues "
                                  "it, --overwrite replaces it")
    changed = _differences(manifest.get("settings", {}), settings)
    if changed:
        raise OutputError(folder, f"holds a run with other settings ({', '.join(changed)} differ); --overwrite "
                                  "replaces it, or give another folder")
    return True
