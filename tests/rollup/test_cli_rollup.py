"""``alliance-coder rollup`` and ``alliance-coder calibrate`` through typer's CliRunner."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from coder.cli import app  # the entry point registers every command
from coder.tables_io import coded_frame
from tests.rollup.build import good_exchange, make_session, rupture
from tests.rollup.test_calibrate import constructed_sessions

runner = CliRunner()


def test_cli_rollup_writes_tables_and_report(tmp_path):
    base = good_exchange(8)
    sessions = [make_session(base, sid="a"), make_session(base[:6] + rupture() + base[6:], sid="b")]
    coded_frame(sessions).to_csv(tmp_path / "utterances.csv", index=False)
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "session-old.html").write_text("from an earlier roll-up")
    result = runner.invoke(app, ["rollup", str(tmp_path), "--n-boot", "50"])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "report" / "session-old.html").exists()
    sessions_csv = pd.read_csv(tmp_path / "sessions.csv")
    assert sessions_csv["session_id"].tolist() == ["a", "b"]
    assert sessions_csv["n_resolved"].tolist() == [0, 1]
    assert (tmp_path / "ruptures.csv").exists() and (tmp_path / "segments.csv").exists()
    assert (tmp_path / "report" / "index.html").exists() and (tmp_path / "report" / "session-b.html").exists()
    out = tmp_path / "elsewhere"
    result = runner.invoke(app, ["rollup", str(tmp_path / "utterances.csv"), "--out", str(out), "--no-report",
                                 "--window-utterances", "10", "--n-boot", "0"])
    assert result.exit_code == 0, result.output
    assert (out / "segments.csv").exists() and not (out / "report").exists()


def test_cli_rollup_bad_input_exits_2(tmp_path):
    result = runner.invoke(app, ["rollup", str(tmp_path)])
    assert result.exit_code == 2 and "utterances.csv" in result.output


def test_cli_calibrate_fits_and_saves(tmp_path):
    sessions = constructed_sessions(24, seed=3)
    coded = tmp_path / "coded"
    coded.mkdir()
    coded_frame(sessions).to_csv(coded / "utterances.csv", index=False)
    from coder.rollup.scores import RollupConfig
    from coder.rollup.tables import rollup

    table = rollup(sessions, config=RollupConfig(n_boot=0))["sessions"]
    ratings = pd.DataFrame({"session_id": table["session_id"], "rater": "lab-1",
                            "vtas_r_total": np.round(1 + 1.0 * table["total"], 2)})
    ratings.to_csv(tmp_path / "ratings.csv", index=False)
    out = tmp_path / "cal.json"
    result = runner.invoke(app, ["calibrate", str(tmp_path / "ratings.csv"), str(coded), "--out", str(out)])
    assert result.exit_code == 0, result.output
    line = [ln for ln in result.stdout.splitlines() if ln.startswith("vtas_r_total,")][0]
    _, n, icc, r = line.split(",")
    assert int(n) == 24 and float(icc) > 0.9 and float(r) > 0.9
    saved = json.loads(out.read_text())
    assert list(saved["targets"]) == ["vtas_r_total"]
    result = runner.invoke(app, ["rollup", str(coded), "--calibration", str(out), "--no-report", "--n-boot", "0"])
    assert result.exit_code == 0, result.output
    assert "calibrated_vtas_r_total" in pd.read_csv(coded / "sessions.csv")


def test_cli_calibrate_bad_ratings_exit_2(tmp_path):
    (tmp_path / "r.csv").write_text("nothing,here\n1,2\n")
    result = runner.invoke(app, ["calibrate", str(tmp_path / "r.csv"), str(tmp_path)])
    assert result.exit_code == 2
