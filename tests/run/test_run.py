"""``coder.run.code_transcripts``: resume after SIGKILL, shards and merge, workers, refusals, progress."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from coder.errors import InputError
from coder.run import RunConfig, code_transcripts
from coder.run_merge import merge_runs
from coder.run_output import MANIFEST_FILE, PART_DONE, PARTS_DIR, OutputError, shard_of
from tests.conftest import ROOT
from tests.run.conftest import frames, tables, write_corpus


def test_run_writes_tables_parts_and_manifest(baseline):
    manifest = json.loads((baseline / MANIFEST_FILE).read_text())
    assert manifest["status"] == "complete" and manifest["settings"]["model"]["version"] == "tiny"
    assert len(manifest["sessions"]) == 12 and all(len(sha) == 64 for _, sha in manifest["inputs_all"])
    assert len(list((baseline / PARTS_DIR).glob(f"*/{PART_DONE}"))) == 12
    text = tables(baseline)
    assert text["utterances.csv"].count("\n") == 1 + 12 * 14
    assert [line.split(",")[0] for line in text["sessions.csv"].splitlines()[1:]] == \
        [f"session-{k:03d}" for k in range(12)]
    assert len(list((baseline / "report").glob("session-*.html"))) == 12


@pytest.mark.slow
def test_run_killed_with_sigkill_then_resumed_equals_uninterrupted(tmp_path, saved_model, baseline):
    corpus = write_corpus(tmp_path / "big", 40)
    clean = code_transcripts([corpus], model=saved_model, out=tmp_path / "clean")
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "coder", "code", str(corpus), "-o", str(out), "--model", str(saved_model)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while not list((out / PARTS_DIR).glob(f"*/{PART_DONE}")) and time.monotonic() < deadline:
            assert proc.poll() is None, "the run ended before its first session was written"
            time.sleep(0.005)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    done = len(list((out / PARTS_DIR).glob(f"*/{PART_DONE}")))
    assert 1 <= done < 40, f"killed after {done} of 40 sessions: not mid-corpus"
    assert not (out / "utterances.csv").exists()
    refused = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode == 2 and "--resume" in refused.stderr and "Traceback" not in refused.stderr
    resumed = subprocess.run(cmd + ["--resume"], cwd=ROOT, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert f"({done} session(s) kept from the earlier run)" in resumed.stderr or done == 0
    assert tables(out) == tables(tmp_path / "clean")
    assert clean.n_coded == 40


def test_run_resume_redoes_partial_and_changed_sessions(tmp_path, saved_model):
    corpus = write_corpus(tmp_path / "c", 4)
    out = tmp_path / "out"
    code_transcripts([corpus], model=saved_model, out=out)
    before = tables(out)
    parts = sorted((out / PARTS_DIR).iterdir())
    (parts[0] / PART_DONE).unlink()  # killed while writing: no marker
    (parts[1] / "utterances.csv").write_text("half a fi")  # and a marker that no longer matches the input:
    info = json.loads((parts[1] / PART_DONE).read_text())
    (parts[1] / PART_DONE).write_text(json.dumps({**info, "source_sha256": "0" * 64}))
    result = code_transcripts([corpus], model=saved_model, out=out, config=RunConfig(resume=True))
    assert (result.n_coded, result.n_resumed) == (2, 2)
    assert tables(out) == before


def test_run_resume_with_other_settings_refused(tmp_path, saved_model):
    corpus = write_corpus(tmp_path / "c", 2)
    out = tmp_path / "out"
    code_transcripts([corpus], model=saved_model, out=out)
    with pytest.raises(OutputError, match="segmenter differ"):
        code_transcripts([corpus], model=saved_model, out=out,
                         config=RunConfig(resume=True, segmenter=type(RunConfig().segmenter)(segment=False)))


def test_run_overwrite_clears_stale_outputs_only(tmp_path, saved_model):
    corpus = write_corpus(tmp_path / "c", 2)
    out = tmp_path / "out"
    code_transcripts([corpus], model=saved_model, out=out)
    stale = out / "report" / "session-gone.html"
    stale.write_text("old")
    (out / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="holds an earlier run"):
        code_transcripts([corpus], model=saved_model, out=out)
    code_transcripts([corpus / "session-000.txt"], model=saved_model, out=out, config=RunConfig(overwrite=True))
    assert not stale.exists() and (out / "notes.txt").read_text() == "mine"
    assert len(list((out / PARTS_DIR).iterdir())) == 1


def test_run_refuses_a_foreign_nonempty_folder(tmp_path, saved_model):
    (tmp_path / "thesis.docx").write_text("x")
    with pytest.raises(OutputError, match="not empty"):
        code_transcripts([tmp_path / "none.txt"], model=saved_model, out=tmp_path)


@pytest.mark.parametrize("n", [2, 3])
def test_run_shards_merged_equal_unsharded(tmp_path, corpus, saved_model, baseline, n):
    folders = []
    for i in range(n):
        folders.append(tmp_path / f"shard{i}")
        result = code_transcripts([corpus], model=saved_model, out=folders[-1], config=RunConfig(shard=(i, n)))
        assert all(shard_of(s, n) == i for s in result.session_ids)
    merged = merge_runs(folders, tmp_path / "merged")
    assert len(merged.session_ids) == 12
    assert tables(tmp_path / "merged") == tables(baseline)
    names = sorted(p.name for p in (tmp_path / "merged" / "report").iterdir())
    assert names == sorted(p.name for p in (baseline / "report").iterdir())


def test_run_merge_refuses_missing_shard(tmp_path, corpus, saved_model):
    code_transcripts([corpus], model=saved_model, out=tmp_path / "s0", config=RunConfig(shard=(0, 2)))
    with pytest.raises(OutputError, match="missing shard"):
        merge_runs([tmp_path / "s0"], tmp_path / "merged")
    assert not (tmp_path / "merged").exists()


def test_run_shard_of_is_stable_and_spreads():
    assert [shard_of(f"s{k}", 4) for k in range(8)] == [shard_of(f"s{k}", 4) for k in range(8)]
    assert shard_of("session-000", 1000) == int(__import__("hashlib").sha256(b"session-000").hexdigest()[:16], 16) % 1000
    counts = [sum(shard_of(f"id-{k}", 4) == i for k in range(400)) for i in range(4)]
    assert min(counts) > 70


def test_run_two_workers_equal_one(tmp_path, corpus, saved_model, baseline):
    result = code_transcripts([corpus], model=saved_model, out=tmp_path / "w2",
                              config=RunConfig(workers=2, threads=2))
    assert result.n_coded == 12
    assert tables(tmp_path / "w2") == tables(baseline)


def test_run_progress_line_with_rate_and_eta(tmp_path, saved_model):
    lines: list[str] = []
    corpus = write_corpus(tmp_path / "c", 3)
    code_transcripts([corpus], model=saved_model, out=tmp_path / "out",
                     config=RunConfig(progress_every=0, on_progress=lines.append))
    assert lines[-1].startswith("coded 42/42 utterances, ") and " utt/s, ETA " in lines[-1]
    assert any(line.startswith("coded 14/42 utterances") for line in lines)


def test_run_bad_options_raise_before_coding(tmp_path, saved_model, monkeypatch):
    import coder.run_engines

    monkeypatch.setattr(coder.run_engines, "run_engine", lambda *a, **k: pytest.fail("coding started"))
    for config in (RunConfig(shard=(3, 2)), RunConfig(engine="spark"), RunConfig(workers=0)):
        with pytest.raises(InputError):
            code_transcripts([tmp_path], model=saved_model, out=tmp_path / "o", config=config)
    with pytest.raises(InputError, match="no model here"):
        code_transcripts([tmp_path], model=tmp_path / "nomodel", out=tmp_path / "o")


def test_run_manifest_records_runtime_and_resume_keeps_it(tmp_path, saved_model):
    """The runtime changes the codes a little (int8), so it is a setting: a resume may not switch it."""
    import json

    corpus = write_corpus(tmp_path / "c", 2)
    out = tmp_path / "out"
    code_transcripts([corpus], model=saved_model, out=out, config=RunConfig(runtime="onnx-fp32"))
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["settings"]["runtime"] == {"runtime": "onnx-fp32", "precision": "fp32"}
    with pytest.raises(OutputError, match="runtime differ"):
        code_transcripts([corpus], model=saved_model, out=out, config=RunConfig(resume=True, runtime="onnx-int8"))


def test_run_onnx_fp32_tables_equal_torch_fp32(tmp_path, saved_model, monkeypatch, request):
    """The fp32 export is the torch network's computation: the same codes and rounded tables.

    Only ``codes_long.csv``, which keeps full-precision scores, differs (in float rounding).
    """
    from coder.model.config import bf16_supported

    monkeypatch.setenv("ALLIANCE_CODER_BF16", "0")
    bf16_supported.cache_clear()  # the check is cached per process
    request.addfinalizer(bf16_supported.cache_clear)
    corpus = write_corpus(tmp_path / "c", 3)
    code_transcripts([corpus], model=saved_model, out=tmp_path / "torch", config=RunConfig(runtime="torch"))
    code_transcripts([corpus], model=saved_model, out=tmp_path / "onnx", config=RunConfig(runtime="onnx-fp32"))
    ref, got = tables(tmp_path / "torch"), tables(tmp_path / "onnx")
    assert {k: v for k, v in ref.items() if k != "codes_long.csv"} == \
        {k: v for k, v in got.items() if k != "codes_long.csv"}
    a, b = (frames(tmp_path / name)["codes_long.csv"] for name in ("torch", "onnx"))
    assert a.drop(columns="score").equals(b.drop(columns="score")) and (a.score - b.score).abs().max() < 1e-6


@pytest.mark.parametrize("budget", [0, 30, 10_000])
def test_run_kept_sessions_and_analyses_within_budget_give_the_same_outputs(budget, corpus, baseline, saved_model,
                                                                              tmp_path, monkeypatch):
    """Sessions read while planning and analyses made for the tables are reused only up to a
    budget (flat memory); whatever the budget, the tables and report are those of the baseline."""
    import coder.run_inputs as run_inputs
    from coder.run_parts import KEPT

    monkeypatch.setattr(run_inputs, "KEEP_UTTERANCES", budget)
    monkeypatch.setattr(KEPT, "budget", budget)
    out = tmp_path / "out"
    code_transcripts([corpus], model=saved_model, out=out)
    assert tables(out) == tables(baseline)
    pages = sorted(p.name for p in (baseline / "report").iterdir())
    assert pages == sorted(p.name for p in (out / "report").iterdir())
    for name in pages:
        assert (out / "report" / name).read_text() == (baseline / "report" / name).read_text()
    assert not KEPT.items and KEPT.utterances == 0
