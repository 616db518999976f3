"""``alliance-coder code | train | evaluate`` through typer's CliRunner (corpus runs: tests/run)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from coder.cli import app  # the entry point registers every command
from coder.frames import LONG_COLUMNS, UTTERANCE_COLUMNS
from coder.scheme import ALL_CODES, TALK_TYPES
from tests.conftest import ANNOMI, FIXTURES, MINI

runner = CliRunner()
needs_annomi = pytest.mark.skipif(not ANNOMI.exists(), reason="../shared/data/annomi is not beside the repository")


def test_cli_model_code_writes_both_tables(saved_model, tmp_path):
    out = tmp_path / "coded"
    result = runner.invoke(app, ["code", str(FIXTURES / "mini.txt"), "--out", str(out), "--model", str(saved_model)])
    assert result.exit_code == 0, result.output
    utts = pd.read_csv(out / "utterances.csv", keep_default_na=False)
    assert list(utts.columns[:9]) == UTTERANCE_COLUMNS
    assert [c for c in utts.columns if c.startswith("p_")][:len(ALL_CODES)] == [f"p_{c}" for c in ALL_CODES]
    assert utts["text"].tolist() == [t for _, _, t in MINI]
    for row in utts.itertuples():
        codes = row.codes.split(";") if row.codes else []
        if row.role == "client":
            assert len(set(codes) & set(TALK_TYPES)) == 1
            assert sum(float(getattr(row, f"p_{t}")) for t in TALK_TYPES) == pytest.approx(1, abs=1e-3)
        else:
            assert float(row.p_change_talk) == 0
    long = pd.read_csv(out / "codes_long.csv")
    assert list(long.columns) == LONG_COLUMNS and set(long.coder_id) == {"model:tiny"}
    assert len(long) == 4 * 15 + 6 * 17  # every code each role allows, per utterance
    assert "coded 10 utterance(s) with model:tiny" in result.output
    sessions = pd.read_csv(out / "sessions.csv")
    assert sessions[["session_id", "n_utterances"]].values.tolist() == [["mini", 10]]
    assert sessions[["therapist_contribution", "patient_contribution", "interaction", "total"]].stack().between(0, 5).all()
    assert (out / "ruptures.csv").exists() and (out / "segments.csv").exists()
    assert "mini" in (out / "report" / "index.html").read_text()
    nothing = runner.invoke(app, ["code", str(FIXTURES / "mini.txt"), "--out", str(tmp_path / "plain"), "--model",
                                  str(saved_model), "--no-report"])
    assert nothing.exit_code == 0 and not (tmp_path / "plain" / "report").exists()


def test_cli_model_code_without_model_exits_2(tmp_path):
    result = runner.invoke(app, ["code", str(FIXTURES / "mini.txt"), "--out", str(tmp_path), "--model",
                                 str(tmp_path / "none")])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "no model here" in result.output


def test_cli_model_code_bad_file_reported_and_skipped(saved_model, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("no speakers here at all\n")
    out = tmp_path / "coded"
    result = runner.invoke(app, ["code", str(FIXTURES / "mini.txt"), str(bad), "--out", str(out),
                                 "--model", str(saved_model)])
    assert result.exit_code == 2 and "bad.txt" in result.output
    assert len(pd.read_csv(out / "utterances.csv")) == 10


@needs_annomi
def test_cli_model_train_killed_resumes_at_its_last_epoch(tiny_encoder_dir, tmp_path, monkeypatch):
    from coder.model import checkpoint

    out = tmp_path / "models" / "smoke"
    args = ["train", "--out", str(out), "--encoder", str(tiny_encoder_dir), "--epochs", "2", "--patience", "5",
            "--limit", "48", "--no-welivita", "--max-length", "48"]
    real = checkpoint.save

    def save_then_die(state, path, key):
        real(state, path, key)
        raise SystemExit(137)  # stands for a kill right after epoch 1's checkpoint

    monkeypatch.setattr(checkpoint, "save", save_then_die)
    assert runner.invoke(app, args).exit_code == 137
    assert (out / ".checkpoints" / "train.pt").is_file() and not (out / "model.safetensors").exists()
    monkeypatch.setattr(checkpoint, "save", real)
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"resumed after epoch 1 from {out / '.checkpoints' / 'train.pt'}" in result.output
    assert "epoch 1: loss" in result.output and "epoch 2: loss" in result.output
    assert (out / "model.safetensors").is_file() and not (out / ".checkpoints").exists()


@needs_annomi
def test_cli_model_train_then_evaluate(tiny_encoder_dir, tmp_path):
    out = tmp_path / "models" / "smoke"
    args = ["train", "--out", str(out), "--encoder", str(tiny_encoder_dir), "--epochs", "1", "--limit", "64",
            "--no-welivita", "--max-length", "48"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (out / "model.safetensors").is_file() and "epoch 1: loss" in result.output
    assert not (out / ".checkpoints").exists() and "resumed" not in result.output
    result = runner.invoke(app, ["evaluate", "--model", str(out), "--split", "validation", "--out", str(tmp_path / "ev")])
    assert result.exit_code == 0, result.output
    for heading in ("per code", "macro averages per family", "confusion", "annomi_fine_macro_f1"):
        assert heading in result.output
    per_code = pd.read_csv(tmp_path / "ev" / "per_code.csv", index_col="code")
    assert {"precision", "recall", "f1", "support", "kappa"} <= set(per_code.columns)
    onnx = runner.invoke(app, ["evaluate", "--model", str(out), "--split", "validation", "--runtime", "onnx-fp32",
                               "--no-bf16", "--out", str(tmp_path / "ev-onnx")])
    assert onnx.exit_code == 0, onnx.output
    same = pd.read_csv(tmp_path / "ev-onnx" / "per_code.csv", index_col="code")
    assert (same.f1.fillna(-1) - per_code.f1.fillna(-1)).abs().max() < 0.02  # torch ran bf16 where the CPU has it
    bad = runner.invoke(app, ["evaluate", "--model", str(out), "--runtime", "gpu"])
    assert bad.exit_code == 2 and "unknown runtime 'gpu'" in bad.output


def test_cli_model_train_corrections_missing_database(tmp_path):
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "m2"), "--corrections",
                                      str(tmp_path / "none.sqlite"), "--model", str(tmp_path)])
    assert result.exit_code == 2
    assert "none.sqlite: no such review database" in result.output


def test_cli_model_default_model_path_lookup_order(tmp_path, monkeypatch):
    from coder.model import DEFAULT_MODEL_NAME, MODEL_ENV, default_model_path, model_search_path

    monkeypatch.delenv(MODEL_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    repo = model_search_path()[1]
    assert repo.parts[-2:] == ("models", DEFAULT_MODEL_NAME)
    assert model_search_path()[-1].parts[-4:] == ("share", "alliance-coder", "models", DEFAULT_MODEL_NAME)
    here = tmp_path / "models" / DEFAULT_MODEL_NAME
    here.mkdir(parents=True)
    (here / "config.json").write_text("{}")
    assert default_model_path() == Path("models") / DEFAULT_MODEL_NAME
    monkeypatch.setenv(MODEL_ENV, str(tmp_path / "mine"))
    assert default_model_path() == tmp_path / "mine"
