"""Readers and writers by name, registered by format and file extension.

``read(path)`` picks the reader from the extension (``.txt .csv .tsv .jsonl .json .vtt .srt
.eaf .docx``; ``.json`` holding Whisper ``segments`` is read as Whisper) or from
``fmt=`` (``--format``). ``read_paths`` expands folders and goes on past bad files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from coder.errors import InputError
from coder.io.elan import read_eaf, write_eaf
from coder.io.jsonl import read_json, read_jsonl, write_json, write_jsonl
from coder.io.subtitles import read_srt, read_vtt, write_srt, write_vtt
from coder.io.table import read_csv, read_tsv, write_csv, write_tsv
from coder.io.text import read_docx, read_text, write_docx, write_text
from coder.io.whisper import read_whisper, write_whisper
from coder.session import Session

READERS: dict[str, Callable[..., list[Session]]] = {
    "text": read_text,
    "csv": read_csv,
    "tsv": read_tsv,
    "jsonl": read_jsonl,
    "json": read_json,
    "vtt": read_vtt,
    "srt": read_srt,
    "whisper": read_whisper,
    "eaf": read_eaf,
    "docx": read_docx,
}
WRITERS: dict[str, Callable[[list[Session], Path], None]] = {
    "text": write_text,
    "csv": write_csv,
    "tsv": write_tsv,
    "jsonl": write_jsonl,
    "json": write_json,
    "vtt": write_vtt,
    "srt": write_srt,
    "whisper": write_whisper,
    "eaf": write_eaf,
    "docx": write_docx,
}
EXTENSIONS = {
    ".txt": "text", ".text": "text", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl",
    ".ndjson": "jsonl", ".json": "json", ".vtt": "vtt", ".srt": "srt", ".eaf": "eaf", ".docx": "docx",
}
#: Options a reader accepts; others given on the command line are ignored for that reader.
_OPTIONS = {"columns": {"csv", "tsv"}}


def format_of(path: Path, fmt: str | None = None) -> str:
    """The format name for ``path``: ``fmt`` when given, else from the extension."""
    if fmt:
        if fmt not in READERS:
            raise InputError(path, f"unknown format {fmt!r} (known: {', '.join(READERS)})")
        return fmt
    name = EXTENSIONS.get(Path(path).suffix.lower())
    if name is None:
        raise InputError(path, f"unknown format {Path(path).suffix or '(no extension)'!r}; "
                         f"use --format with one of: {', '.join(READERS)}")
    return name


def read(path: str | Path, *, fmt: str | None = None, **options) -> list[Session]:
    """Read one transcript file into sessions with the reader for its format."""
    path = Path(path)
    name = format_of(path, fmt)
    kwargs = {k: v for k, v in options.items() if v is not None and name in _OPTIONS.get(k, ())}
    return READERS[name](path, **kwargs)


def write(sessions: list[Session], path: str | Path, *, fmt: str | None = None) -> None:
    """Write sessions with the writer for ``path``'s extension (or ``fmt``)."""
    path = Path(path)
    WRITERS[format_of(path, fmt)](sessions, path)


def expand_paths(inputs: list[str | Path], *, fmt: str | None = None) -> list[Path]:
    """Files named, plus every transcript (known extension, or any file with ``fmt``) in folders named."""
    out: list[Path] = []
    for item in inputs:
        p = Path(item)
        if not p.exists():
            raise InputError(p, "no such file or folder")
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")
                           and (fmt or f.suffix.lower() in EXTENSIONS))
            if not found:
                raise InputError(p, "folder holds no transcript files")
            out += found
        else:
            out.append(p)
    return out


@dataclass
class Failure:
    """A file that could not be read, with the one-line reason."""

    path: str
    error: str


@dataclass
class BatchResult:
    """What a batch read produced: sessions, failures, and per-file notes."""

    sessions: list[Session] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
