"""The folder for files derived from a model or the package, shared by later runs and workers.

``$ALLIANCE_CODER_CACHE``, else ``$XDG_CACHE_HOME/alliance-coder``, else
``~/.cache/alliance-coder``. It holds the ONNX exports of models (``onnx/``) and remembered
digests of large files (``sha256/``); deleting it only costs the time to build them again.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Where derived files are kept (see the module docstring)."""
    if os.environ.get("ALLIANCE_CODER_CACHE"):
        return Path(os.environ["ALLIANCE_CODER_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "alliance-coder"
