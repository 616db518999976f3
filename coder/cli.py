"""The ``alliance-coder`` entry point: the typer app with every command registered.

:mod:`coder.cli_app` defines ``app`` and the shared helpers and imports no command module; each
``coder/cli_*.py`` registers its commands on it; this module imports them all, so
``from coder.cli import app`` gives the complete CLI and there is no import circle.
"""

from __future__ import annotations

import importlib

from coder.cli_app import app

#: Command modules, imported for their ``@app.command`` registrations.
COMMAND_MODULES = ("coder.cli_read", "coder.cli_run", "coder.cli_model", "coder.cli_rollup", "coder.cli_review",
                   "coder.cli_deid")

for _name in COMMAND_MODULES:
    try:
        importlib.import_module(_name)
    except ModuleNotFoundError as _err:  # cli_deid arrives with coder.deid; nothing else may be missing
        if _err.name != _name or _name != "coder.cli_deid":
            raise

__all__ = ["app"]

if __name__ == "__main__":  # pragma: no cover
    app()
