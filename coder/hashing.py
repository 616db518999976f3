"""SHA-256 of files, computed once for a file that has not changed.

Inputs, model weights and the ONNX cache key are all hashed by content. A 45 MB model file
takes about 0.05–0.1 s, paid by every run; so the digest of a file of at least
:data:`REMEMBER_MIN_BYTES` is also remembered in the cache folder (``coder.cache``), keyed by
the file's path, size, inode and modification and change times, as ``git`` and ``make`` trust
a file's status. Any write to the file changes its change time (which, unlike the modification
time, cannot be set back), so a changed file is hashed again.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from functools import lru_cache
from pathlib import Path

from coder.cache import cache_dir

#: Files at least this large have their digest remembered across processes (model weights).
REMEMBER_MIN_BYTES = 1 << 20
_HEX = re.compile(r"^[0-9a-f]{64}$")


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (remembered per path and file status, see the module docstring)."""
    path = Path(path).resolve()
    stat = path.stat()
    return _sha256(str(path), stat.st_size, stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns)


@lru_cache(maxsize=256)
def _sha256(path: str, size: int, inode: int, mtime_ns: int, ctime_ns: int) -> str:
    record = _record(path, size, inode, mtime_ns, ctime_ns) if size >= REMEMBER_MIN_BYTES else None
    if record is not None:
        try:
            remembered = record.read_text(encoding="ascii").strip()
            if _HEX.match(remembered):
                return remembered
        except (OSError, UnicodeDecodeError):
            pass
    with open(path, "rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    if record is not None:
        _remember(record, digest)
    return digest


def _record(path: str, size: int, inode: int, mtime_ns: int, ctime_ns: int) -> Path:
    key = hashlib.sha256(f"{path}\0{size}\0{inode}\0{mtime_ns}\0{ctime_ns}".encode("utf-8", "surrogateescape"))
    return cache_dir() / "sha256" / key.hexdigest()[:32]


def _remember(record: Path, digest: str) -> None:
    """Write ``digest`` to ``record`` atomically; a cache that cannot be written is only slower."""
    tmp = None
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".sha256.", dir=record.parent)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(digest + "\n")
        os.replace(tmp, record)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
