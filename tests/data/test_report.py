"""The computed tables in the README and reliability.md are up to date."""

from __future__ import annotations

from coder.data.report import README, RELIABILITY, corpus_sections, fill, reliability_sections


def test_report_generated_blocks_are_current(dataset):
    assert fill(README.read_text(encoding="utf-8"), corpus_sections(dataset)) == README.read_text(encoding="utf-8"), \
        "run: python -m coder.data.report"
    text = RELIABILITY.read_text(encoding="utf-8")
    assert fill(text, reliability_sections()) == text, "run: python -m coder.data.report"
