"""Transcript files → role-labelled, segmented sessions, going on past bad files.

This is the first step of the one-way flow (transcript → Session → coded Session → scores →
tables/report); the CLI's ``segment`` and later ``code`` both start here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from coder.errors import InputError
from coder.io import expand_paths, read
from coder.roles import RoleConfig, identify_roles
from coder.segment import SegmenterConfig, segment_session
from coder.session import Session


@dataclass
class LoadReport:
    """Everything a batch read produced.

    Attributes
    ----------
    sessions : list of Session
        Sessions ready for coding (roles set, segmented).
    failures : list of str
        One line per file or session that was refused, naming the file (and line).
    warnings : list of str
        Guesses and other things a user should check (e.g. heuristic roles).
    skipped : Counter
        Source lines skipped, by reason (comments, empty text, repeated rows…).
    skipped_words : Counter
        Words in those lines, by reason: with the words kept in ``sessions`` they make up every
        word of the input read (the word accounting every reader keeps).
    n_files : int
        Files attempted.
    """

    sessions: list[Session] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    skipped_words: Counter = field(default_factory=Counter)
    n_files: int = 0

    @property
    def n_utterances(self) -> int:
        return sum(len(s.utterances) for s in self.sessions)

    def add_skips(self, entries: list) -> None:
        """Count a reader's skip records ``(line, reason[, words])`` by reason."""
        for entry in entries:
            reason = entry[1]
            reason = "repeated rows" if reason.startswith("repeats") else reason.split(" (")[0]
            self.skipped[reason] += 1
            self.skipped_words[reason] += entry[2] if len(entry) > 2 else 0

    def summary(self) -> str:
        """One line: files, sessions, utterances kept, lines skipped (by reason, with their words), failures."""
        text = (f"{self.n_files} file(s): {len(self.sessions)} session(s), {self.n_utterances} utterance(s) kept; "
                + describe_skips(self.skipped, self.skipped_words))
        if self.failures:
            text += f"; {len(self.failures)} failed"
        return text


def describe_skips(skipped: Counter, skipped_words: Counter | None = None) -> str:
    """``N line(s) skipped (n reason [w word(s)], …)`` for a summary line; words shown where there are any."""
    words = skipped_words or Counter()
    reasons = ", ".join(f"{n} {r}" + (f" [{words[r]} word(s)]" if words[r] else "") for r, n in skipped.most_common())
    return f"{sum(skipped.values())} line(s) skipped" + (f" ({reasons})" if reasons else "")


def load_transcripts(
    inputs: list[str | Path],
    *,
    fmt: str | None = None,
    columns: dict[str, str] | None = None,
    roles: RoleConfig | None = None,
    segmenter: SegmenterConfig | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> LoadReport:
    """Read, identify roles and segment every transcript in ``inputs`` (files or folders).

    Parameters
    ----------
    inputs : list of path-like
        Files, or folders meaning every transcript in them.
    fmt : str, optional
        Reader name for every file (``--format``); by default from each file's extension.
    columns : dict, optional
        Column names for CSV/TSV (``{"text": "Said"}``).
    roles, segmenter : config
        How to tell roles apart and how to segment.
    on_file : callable, optional
        Called after each file (progress bars).

    Returns
    -------
    LoadReport
        Good sessions plus one failure line per bad file or session; never raises for bad input.
    """
    report = LoadReport()
    roles = roles or RoleConfig()
    segmenter = segmenter or SegmenterConfig()
    paths: list[Path] = []
    for item in inputs:
        try:
            paths += expand_paths([item], fmt=fmt)
        except InputError as err:
            report.failures.append(str(err))
    seen: dict[str, str] = {}
    for path in paths:
        report.n_files += 1
        try:
            sessions = read(path, fmt=fmt, columns=columns)
        except InputError as err:
            report.failures.append(str(err))
            sessions = []
        except Exception as err:  # a library choking on a corrupt file: report it, go on
            report.failures.append(f"{path}: could not read ({type(err).__name__}: {' '.join(str(err).split())})")
            sessions = []
        for session in sessions:
            report.add_skips(session.meta.get("skipped", []))
            if session.id in seen:
                report.failures.append(f"{path}: session id {session.id!r} was already read from {seen[session.id]}; "
                                       "give the files distinct names or session ids")
                continue
            try:
                warnings = identify_roles(session, roles)
            except InputError as err:
                report.failures.append(str(err))
                continue
            seen[session.id] = str(path)
            session.meta["warnings"] = warnings
            report.warnings += warnings
            report.sessions.append(segment_session(session, segmenter))
        if on_file:
            on_file(path)
    return report
