"""``alliance-coder code | merge`` and the output-path checks of every writing command (CliRunner)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from coder.cli import app
from tests.conftest import FIXTURES, ROOT
from tests.run.conftest import tables, write_corpus

runner = CliRunner()


def unwritable(tmp_path: Path) -> Path:
    """A folder this process cannot create files in (as root, chmod does not stop us: use /proc)."""
    if os.geteuid() == 0:
        return Path("/proc/1")
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    return folder


@pytest.fixture
def no_coding(monkeypatch):
    """Fail the test if any engine starts coding."""
    import coder.run_engines

    monkeypatch.setattr(coder.run_engines, "run_engine", lambda *a, **k: pytest.fail("coding started"))


def _cases(tmp_path: Path, model: Path) -> dict[str, list[str]]:
    file = tmp_path / "existing_file.txt"
    file.write_text("x")
    folder = tmp_path / "some_dir"
    folder.mkdir()
    mini = str(FIXTURES / "mini.txt")
    return {
        "code into a file": ["code", mini, "-o", str(file), "--model", str(model)],
        "code below a file": ["code", mini, "-o", str(file / "out"), "--model", str(model)],
        "code unwritable": ["code", mini, "-o", str(unwritable(tmp_path) / "out"), "--model", str(model)],
        "segment into a folder": ["segment", mini, "-o", str(folder)],
        "segment long into a folder": ["segment", mini, "-o", str(tmp_path / "u.csv"), "--long", str(folder)],
        "rollup into a file": ["rollup", str(tmp_path), "-o", str(file)],
        "merge into a file": ["merge", str(folder), "-o", str(file)],
        "calibrate into a folder": ["calibrate", str(file), str(folder), "-o", str(folder)],
        "agreement into a folder": ["agreement", str(file), "-o", str(folder)],
        "review export into a folder": ["review", str(folder), "--export-csv", str(folder)],
        "train into a file": ["train", "-o", str(file)],
        "evaluate into a file": ["evaluate", "-o", str(file), "--model", str(model)],
        "data build into a file": ["data", "build", "-o", str(file)],
    }


CASES = ["code into a file", "code below a file", "code unwritable", "segment into a folder",
         "segment long into a folder", "rollup into a file", "merge into a file", "calibrate into a folder",
         "agreement into a folder", "review export into a folder", "train into a file", "evaluate into a file",
         "data build into a file"]


@pytest.mark.parametrize("case", CASES)
def test_cli_run_output_path_problem_is_one_line_exit_2_before_work(case, tmp_path, saved_model, no_coding):
    result = runner.invoke(app, _cases(tmp_path, saved_model)[case])
    assert result.exit_code == 2, result.output
    assert result.output.strip().count("\n") == 0 and "Traceback" not in result.output, result.output
    assert any(w in result.output for w in ("is a file", "is a folder", "cannot write here")), result.output
    assert not (tmp_path / "u.csv").exists()


def test_cli_run_code_refuses_nonempty_then_resume_and_overwrite(tmp_path, saved_model):
    corpus = write_corpus(tmp_path / "c", 2)
    out = tmp_path / "out"
    args = ["code", str(corpus), "-o", str(out), "--model", str(saved_model), "--no-report"]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "holds an earlier run" in again.output and again.output.count("\n") == 1
    resumed = runner.invoke(app, args + ["--resume"])
    assert resumed.exit_code == 0 and "coded 0 utterance(s)" in resumed.output
    assert "(2 session(s) kept from the earlier run)" in resumed.output
    assert runner.invoke(app, args + ["--overwrite"]).exit_code == 0
    both = runner.invoke(app, args + ["--overwrite", "--resume"])
    assert both.exit_code == 2 and "exclude each other" in both.output


def test_cli_run_shards_then_merge(tmp_path, saved_model):
    corpus = write_corpus(tmp_path / "c", 5)
    base = ["--model", str(saved_model), "--no-report"]
    assert runner.invoke(app, ["code", str(corpus), "-o", str(tmp_path / "all")] + base).exit_code == 0
    for i in range(2):
        result = runner.invoke(app, ["code", str(corpus), "-o", str(tmp_path / f"s{i}"), "--shard", f"{i}/2"] + base)
        assert result.exit_code == 0, result.output
    merged = runner.invoke(app, ["merge", str(tmp_path / "s0"), str(tmp_path / "s1"), "-o", str(tmp_path / "m"),
                                 "--no-report"])
    assert merged.exit_code == 0, merged.output
    assert "merged 2 folder(s) (shards 0/2, 1/2): 5 session(s)" in merged.output
    assert tables(tmp_path / "m") == tables(tmp_path / "all")
    bad = runner.invoke(app, ["code", str(corpus), "-o", str(tmp_path / "x"), "--shard", "2/2"] + base)
    assert bad.exit_code == 2 and "--shard expects i/n" in bad.output


def test_cli_run_progress_lines_in_a_log(tmp_path, saved_model):
    corpus = write_corpus(tmp_path / "c", 2)
    result = runner.invoke(app, ["code", str(corpus), "-o", str(tmp_path / "o"), "--model", str(saved_model),
                                 "--no-report", "--progress-every", "0"])
    assert result.exit_code == 0
    assert "coded 28/28 utterances, " in result.output and " utt/s, ETA " in result.output


def test_cli_run_rollup_of_code_output_gives_the_same_tables(tmp_path, saved_model):
    out = tmp_path / "o"
    code = runner.invoke(app, ["code", str(write_corpus(tmp_path / "c", 3)), "-o", str(out), "--model",
                               str(saved_model)])
    assert code.exit_code == 0, code.output
    before = tables(out)
    again = runner.invoke(app, ["rollup", str(out), "-o", str(tmp_path / "r")])
    assert again.exit_code == 0, again.output
    for name in ("sessions.csv", "segments.csv", "ruptures.csv"):
        assert (tmp_path / "r" / name).read_text() == before[name], name
    assert pd.read_csv(tmp_path / "r" / "sessions.csv")["session_id"].tolist() == [
        "session-000", "session-001", "session-002"]


def test_cli_run_app_module_imports_no_command_module():
    code = ("import sys, coder.cli_app; bad = sorted(m for m in sys.modules if m.startswith('coder.cli') "
            "and m != 'coder.cli_app'); print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("module", ["coder.cli_read", "coder.cli_run", "coder.cli_model", "coder.cli_rollup",
                                    "coder.cli_review", "coder.cli_deid"])
def test_cli_run_command_module_imports_fresh_without_the_entry_point(module):
    import importlib.util

    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not there yet")
    code = (f"import sys, {module}; print(sorted(m for m in sys.modules if m == 'coder.cli')); "
            "sys.exit(1 if 'coder.cli' in sys.modules else 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, f"{module} imports coder.cli (an import circle): {done.stdout}{done.stderr}"


def _named_session(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "named.txt"
    path.write_text("Therapist: Hello Maria Gonzalez, how did the week in Boston go?\n"
                    "Client: It was hard. My sister Ana called me on 12 March.\n"
                    "Therapist: It sounds like that call mattered.\nClient: Yes.\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["segment", "code"])
def test_cli_run_deidentify_removes_names_before_writing(command, tmp_path, saved_model):
    src = _named_session(tmp_path / "in")
    out = tmp_path / "out"
    args = [command, str(src), "-o", str(out / "utterances.csv" if command == "segment" else out), "--deidentify"]
    result = runner.invoke(app, args + (["--model", str(saved_model), "--no-report"] if command == "code" else []))
    assert result.exit_code == 0, result.output
    text = (out / "utterances.csv").read_text()
    assert "Maria" not in text and "Gonzalez" not in text and "[NAME_1]" in text
    if command == "code":
        audit = pd.read_csv(out / "deid_audit.csv")
        assert list(audit.session_id) == ["named"] and audit.drop(columns="session_id").to_numpy().sum() > 0
        assert "Maria" not in (out / "deid_audit.csv").read_text()
        assert runner.invoke(app, args + ["--model", str(saved_model), "--no-report", "--resume"]).exit_code == 0
        plain = runner.invoke(app, [command, str(src), "-o", str(out), "--model", str(saved_model), "--resume"])
        assert plain.exit_code == 2 and "deidentify differ" in plain.output


def test_cli_run_unknown_runtime_is_one_line_exit_2(tmp_path, saved_model):
    corpus = write_corpus(tmp_path / "c", 1)
    result = runner.invoke(app, ["code", str(corpus), "-o", str(tmp_path / "o"), "--model", str(saved_model),
                                 "--runtime", "gpu"])
    assert result.exit_code == 2 and "unknown runtime 'gpu'" in result.output
    assert result.output.strip().count("\n") == 0 and not (tmp_path / "o" / "run.json").exists()
