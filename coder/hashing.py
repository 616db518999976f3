"""SHA-256 of files, computed once per process for a file that has not changed.

Inputs, model weights and the ONNX cache key are all hashed by content; a 45 MB model file
takes about 0.1 s, and a run hashes the model for its manifest and again for its runtime.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (remembered per path, size and modification time)."""
    path = Path(path).resolve()
    stat = path.stat()
    return _sha256(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=256)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
