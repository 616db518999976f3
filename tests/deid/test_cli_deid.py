"""``alliance-coder deidentify``: outputs, exit codes, bad input, and a fast ``--help``."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from coder.cli import app
from tests.conftest import FIXTURES, ROOT


def test_cli_deid_help_does_not_load_presidio():
    code = ("import sys; from typer.testing import CliRunner; from coder.cli import app; "
            "r = CliRunner().invoke(app, ['deidentify', '--help']); assert r.exit_code == 0, r.output; "
            "assert 'spacy' not in sys.modules and 'presidio_analyzer' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_cli_deid_bad_input_one_line_exit_2(tmp_path):
    result = CliRunner().invoke(app, ["deidentify", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "missing.txt" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "o.csv").exists()


def test_cli_deid_bad_out_suffix_exit_2(tmp_path):
    result = CliRunner().invoke(app, ["deidentify", str(FIXTURES / "mini.txt"), "-o", str(tmp_path / "o.json")])
    assert result.exit_code == 2 and "o.json" in result.output


def test_cli_deid_writes_table_and_audit(tmp_path):
    pytest.importorskip("presidio_analyzer")
    bad = tmp_path / "broken.vtt"
    bad.write_text("not a vtt file\n", encoding="utf-8")
    out = tmp_path / "deid" / "utts.csv"
    result = CliRunner().invoke(app, ["deidentify", str(FIXTURES / "mini.txt"), str(bad), "-o", str(out)])
    assert result.exit_code == 2, result.output  # the batch goes on past the bad file, then reports it
    assert "broken.vtt" in result.output
    table = pd.read_csv(out)
    audit = pd.read_csv(out.with_name("utts.audit.csv"))
    assert list(table.columns) == ["session_id", "utterance_id", "turn_id", "speaker", "role", "start", "end", "text"]
    assert "Patel" not in " ".join(table.text) and "Dr. [NAME_1] said" in " ".join(table.text)
    assert audit.loc[0, "NAME"] == 1 and audit.loc[0, "n_utterances"] == len(table)
    assert "Patel" not in out.with_name("utts.audit.csv").read_text()


def test_cli_deid_exit_0_and_custom_audit_path(tmp_path):
    pytest.importorskip("presidio_analyzer")
    result = CliRunner().invoke(app, ["deidentify", str(FIXTURES / "mini.txt"), "-o", str(tmp_path / "u.tsv"),
                                      "--audit", str(tmp_path / "a.csv"), "--keep", "Patel"])
    assert result.exit_code == 0, result.output
    assert "Patel" in (tmp_path / "u.tsv").read_text() and (tmp_path / "a.csv").exists()


def test_cli_deid_engine_leaves_torch_importable():
    pytest.importorskip("presidio_analyzer")
    code = ("import sys; from coder.deid.engine import analyzer; analyzer(); "
            "assert 'torch' not in sys.modules; import torch, transformers")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
