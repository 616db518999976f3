"""Errors about the user's input: one line that names the file and, where there is one, the line."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """Bad input: the CLI prints ``str(err)`` alone and exits with status 2.

    Parameters
    ----------
    path : path-like or None
        The file at fault.
    message : str
        What is wrong, in one line, and where useful what to do.
    line : int or None
        1-based line number in the file, when the fault has one.
    """

    def __init__(self, path: str | Path | None, message: str, *, line: int | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        self.message = " ".join(str(message).split())
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        return f"{where}: {self.message}"


class RoleError(InputError):
    """The therapist and client of a session cannot be told apart; the session is not coded."""
