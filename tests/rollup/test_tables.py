"""The roll-up tables, the files written beside utterances.csv, and reading a coded table back."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from coder.errors import InputError
from coder.rollup.calibrate import fit_calibration
from coder.rollup.coded import coded_frame, read_coded
from coder.rollup.miti import MITI_COLUMNS
from coder.rollup.scores import RollupConfig
from coder.rollup.tables import SESSION_COLUMNS, rollup, write_outputs
from coder.scheme import codes_for_role
from tests.rollup.build import good_exchange, make_session, rupture

FAST = RollupConfig(n_boot=50)


def two_sessions():
    base = good_exchange(10)
    return [make_session(base, sid="calm"),
            make_session(base[:8] + rupture(resolved=False) + base[8:], sid="strained", seconds=None)]


def test_tables_rollup_columns_and_rows():
    tables = rollup(two_sessions(), config=FAST)
    sessions = tables["sessions"]
    assert list(sessions.columns) == SESSION_COLUMNS
    assert list(sessions.columns[:7]) == ["session_id", "n_utterances", "duration_s", "therapist_contribution",
                                          "therapist_contribution_lo", "therapist_contribution_hi",
                                          "patient_contribution"]
    assert set(MITI_COLUMNS) <= set(sessions.columns)
    assert sessions["session_id"].tolist() == ["calm", "strained"]
    assert sessions["n_rupture_episodes"].tolist() == [0, 1] and sessions["n_resolved"].tolist() == [0, 0]
    assert math.isnan(sessions["duration_s"].iloc[1]) and math.isnan(sessions["helpful_per_10min"].iloc[1])
    assert set(tables["segments"]["session_id"]) == {"calm", "strained"}
    assert tables["ruptures"]["session_id"].tolist() == ["strained"]


def test_tables_write_outputs_files_and_calibration(tmp_path):
    sessions = two_sessions()
    table = rollup(sessions * 2, config=FAST)["sessions"]
    table["session_id"] = ["a", "b", "c", "d"]
    cal = fit_calibration(table, pd.DataFrame({"total": [4.0, 1.0, 4.5, 1.5]}, index=list("abcd")))
    paths = write_outputs(sessions, tmp_path / "out", config=FAST, calibration=cal.save(tmp_path / "cal.json"))
    assert {p.name for p in paths.values()} == {"sessions.csv", "segments.csv", "ruptures.csv", "index.html"}
    written = pd.read_csv(paths["sessions"])
    assert "calibrated_total" in written and written["calibrated_total"].between(1.0, 4.5).all()
    assert (tmp_path / "out" / "report" / "session-calm.html").exists()
    no_report = write_outputs(sessions, tmp_path / "bare", config=FAST, report=False)
    assert "report" not in no_report and not (tmp_path / "bare" / "report").exists()


def test_tables_empty_input_writes_headers(tmp_path):
    paths = write_outputs([], tmp_path, config=FAST)
    assert pd.read_csv(paths["sessions"]).columns.tolist() == SESSION_COLUMNS
    assert len(pd.read_csv(paths["ruptures"])) == 0


def test_coded_table_roundtrip_keeps_probabilities(tmp_path):
    items = []
    for role, text, codes in good_exchange(3):
        proba = {c: (0.9 if c in codes else 0.05) for c in codes_for_role(role)}
        proba["w_denial" if role == "client" else "self_disclosure_unhelpful"] = float("nan")
        items.append((role, text, codes, proba))
    session = make_session(items)
    frame = coded_frame([session])
    assert "p_question_open" in frame and frame["p_change_talk"].isna().sum() == 3  # therapist rows
    path = tmp_path / "utterances.csv"
    frame.to_csv(path, index=False)
    (back,) = read_coded(tmp_path)
    assert [u.codes for u in back.utterances] == [u.codes for u in session.utterances]
    first = back.utterances[0].meta["proba"]
    assert first["question_open"] == pytest.approx(0.9) and "self_disclosure_unhelpful" not in first
    direct = rollup([session], config=FAST)["sessions"].drop(columns="session_id")
    again = rollup([back], config=FAST)["sessions"].drop(columns="session_id")
    pd.testing.assert_frame_equal(direct, again)


def test_coded_table_errors_name_the_file(tmp_path):
    with pytest.raises(InputError, match="utterances.csv"):
        read_coded(tmp_path)
    (tmp_path / "utterances.csv").write_text("session_id,text\ns,hi\n")
    with pytest.raises(InputError, match="missing column"):
        read_coded(tmp_path)


def test_tables_rollup_never_imports_the_report():
    """The report reads the roll-up's SessionAnalysis; the roll-up does not know the report."""
    import subprocess
    import sys

    code = ("import sys, pkgutil, importlib, coder.rollup; "
            "[importlib.import_module('coder.rollup.' + m.name) for m in pkgutil.iter_modules(coder.rollup.__path__)]; "
            "print('coder.report' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
