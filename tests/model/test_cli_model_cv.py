"""``evaluate --cv`` resumes per fold and refuses another recipe; the corpus options reach the recipe.

The corpus is the constructed one of ``tests.model.tiny`` (``_build_corpus`` and
``transcript_folds`` are replaced), so a two-fold cross-validation takes seconds.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from coder.cli import app  # the entry point registers every command
from coder.model.cv_store import RECIPE_FILE, TABLES
from coder.scheme import FAMILIES
from tests.model.tiny import corpus

runner = CliRunner()
#: Transcripts t0–t4 are folded (train + validation); t5 is the untouched test split.
FOLDS = [(["t0", "t1", "t2"], ["t3", "t4"]), (["t2", "t3", "t4"], ["t0", "t1"])]
SPLITS = {"train": {"t0", "t1", "t2", "t3"}, "validation": {"t4"}, "test": {"t5"}}


@pytest.fixture
def tiny_data(monkeypatch):
    """The corpus builder and fold maker replaced; returns the (context, options) each build got."""
    import coder.cli_model as cli_model
    import coder.data.build as build

    builds = []

    def fake_corpus(data, context, options=None):
        builds.append((context, dict(options or {})))
        records = corpus(6, "t")
        return {name: [r for r in records if r["transcript_id"] in ids] for name, ids in SPLITS.items()}

    monkeypatch.setattr(cli_model, "_build_corpus", fake_corpus)
    monkeypatch.setattr(build, "transcript_folds", lambda k, seed, include_test=False, **_: FOLDS)
    return builds


@pytest.fixture
def stop_before_training(monkeypatch):
    """Stop the cross-validation after the recipe is written, before any fold trains."""
    import coder.model.evaluate as ev

    def stop(*args, **kwargs):
        raise RuntimeError("stopped before training")

    monkeypatch.setattr(ev, "fold_sets", stop)


def _cv(model, out, *extra):
    return runner.invoke(app, ["evaluate", "--model", str(model), "--cv", "2", "--epochs", "2", "--out", str(out),
                               *extra])


def test_cli_model_cv_resumed_after_a_kill_writes_the_uninterrupted_tables(saved_model, tiny_data, tmp_path,
                                                                           monkeypatch):
    import coder.model.evaluate as ev

    full = _cv(saved_model, tmp_path / "full")
    assert full.exit_code == 0, full.output
    recipe = json.loads((tmp_path / "full" / RECIPE_FILE).read_text())
    assert recipe["folds"][1]["held_out"] == ["t0", "t1"] and recipe["train_config"]["epochs"] == 2

    real, calls = ev.evaluate, []

    def killed_in_fold_1(model, records):
        calls.append(records[0]["transcript_id"])
        if len(calls) == 2:
            raise KeyboardInterrupt  # the session ends during fold 1
        return real(model, records)

    monkeypatch.setattr(ev, "evaluate", killed_in_fold_1)
    cut = _cv(saved_model, tmp_path / "cut")
    assert cut.exit_code != 0
    assert (tmp_path / "cut" / "cv_fold0_summary.json").is_file()
    assert not (tmp_path / "cut" / "cv_fold1_summary.json").exists() and not (tmp_path / "cut" / TABLES[0]).exists()

    calls.clear()
    again = _cv(saved_model, tmp_path / "cut")
    assert again.exit_code == 2 and "--resume continues it" in again.output and not calls
    resumed = _cv(saved_model, tmp_path / "cut", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert calls == ["t0"]  # only fold 1 (held out: t0, t1) was trained again
    assert "fold 0: fine codes" in resumed.output and "(kept from the earlier run)" in resumed.output
    for name in TABLES:
        assert (tmp_path / "cut" / name).read_bytes() == (tmp_path / "full" / name).read_bytes(), name

    calls.clear()  # every fold done: --resume only assembles the tables again
    done = _cv(saved_model, tmp_path / "cut", "--resume")
    assert done.exit_code == 0 and not calls
    assert (tmp_path / "cut" / "cv_summary.csv").read_bytes() == (tmp_path / "full" / "cv_summary.csv").read_bytes()


@pytest.mark.parametrize("change, differs", [
    (["--epochs", "3"], "train_config.epochs"),
    (["--no-rewrites"], "data.include_rewrites"),
    (["--rewrite-exclude", "withdrawal"], "data.rewrite_exclude"),
    (["--context-size", "1"], "train_config.context_size"),
    (["--no-bf16"], "train_config.bf16"),
    (["--attention-dropout", "0"], "train_config.attention_dropout"),
    (["--fused-adamw"], "train_config.fused_optimizer"),
])
def test_cli_model_cv_resume_with_another_recipe_exits_2(saved_model, tiny_data, stop_before_training, tmp_path,
                                                       change, differs):
    first = _cv(saved_model, tmp_path)
    assert isinstance(first.exception, RuntimeError)  # stopped after writing the recipe
    recipe = (tmp_path / RECIPE_FILE).read_text()
    epochs = [] if "--epochs" in change else ["--epochs", "2"]
    result = runner.invoke(app, ["evaluate", "--model", str(saved_model), "--cv", "2", "--out", str(tmp_path),
                                 "--resume", *epochs, *change])
    assert result.exit_code == 2, result.output
    assert result.output.strip().count("\n") == 0
    assert RECIPE_FILE in result.output and differs in result.output
    assert (tmp_path / RECIPE_FILE).read_text() == recipe  # the earlier recipe is left as it was
    same = runner.invoke(app, ["evaluate", "--model", str(saved_model), "--cv", "2", "--epochs", "2", "--out",
                               str(tmp_path), "--resume", "--threads", "1"])
    assert isinstance(same.exception, RuntimeError)  # same recipe (threads do not count): it goes on


def test_cli_model_train_options_reach_config_and_cv_recipe(tiny_encoder_dir, tiny_data, stop_before_training,
                                                            tmp_path):
    model = tmp_path / "models" / "v3-smoke"
    result = runner.invoke(app, ["train", "--out", str(model), "--encoder", str(tiny_encoder_dir), "--epochs", "1",
                                 "--limit", "24", "--context-size", "1", "--max-length", "40", "--no-welivita",
                                 "--rewrite-exclude", "withdrawal", "--rewrite-exclude", "c_defend_self",
                                 "--no-mibot"])
    assert result.exit_code == 0, result.output
    config = json.loads((model / "config.json").read_text())
    assert (config["train_config"]["context_size"], config["train_config"]["max_length"]) == (1, 40)
    withdrawal = sorted(FAMILIES["withdrawal"])
    expected = {"include_welivita": False, "include_constructed": True, "include_rewrites": True,
                "rewrite_exclude": sorted([*withdrawal, "c_defend_self"]), "include_mibot": False, "recode": True}
    assert config["data"] == expected
    assert tiny_data[-1] == (1, expected)  # what the corpus was built with

    from coder.model import load

    assert load(model).cfg.context_size == 1  # the added key does not stop the model loading

    out = tmp_path / "cv"
    runner.invoke(app, ["evaluate", "--model", str(model), "--cv", "2", "--out", str(out)])
    recipe = json.loads((out / RECIPE_FILE).read_text())
    assert recipe["data"] == expected and recipe["train_config"]["context_size"] == 1  # the model's recipe
    runner.invoke(app, ["evaluate", "--model", str(model), "--cv", "2", "--out", str(out), "--overwrite",
                        "--mibot", "--no-recode", "--context-size", "0", "--max-length", "32"])
    recipe = json.loads((out / RECIPE_FILE).read_text())
    assert recipe["data"] == {**expected, "include_mibot": True, "recode": False}
    assert (recipe["train_config"]["context_size"], recipe["train_config"]["max_length"]) == (0, 32)
    assert tiny_data[-1][0] == 0


@pytest.mark.parametrize("args, message", [
    (["train", "--out", "{tmp}/m", "--rewrite-exclude", "w_nonsense"], "'w_nonsense' is neither a code nor a family"),
    (["evaluate", "--resume"], "--resume and --overwrite go with --cv and --out"),
    (["evaluate", "--cv", "1", "--out", "{tmp}/cv"], "at least 2 folds"),
])
def test_cli_model_cv_bad_options_exit_2_with_one_line(args, message, tmp_path):
    result = runner.invoke(app, [a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2, result.output
    assert result.output.strip().count("\n") == 0 and message in result.output
