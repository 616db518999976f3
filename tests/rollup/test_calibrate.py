"""Calibration to human ratings: recovers a known mapping, ICC, save/load, apply."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coder.errors import InputError
from coder.rollup.calibrate import Calibration, fit_calibration, icc_2_1, read_ratings_table
from coder.rollup.scores import RollupConfig
from coder.rollup.tables import rollup
from tests.rollup.build import good_exchange, make_session


def constructed_sessions(n: int = 40, seed: int = 0):
    """Sessions whose harmful share and collaboration vary, so their scores spread over the scale."""
    rng = np.random.default_rng(seed)
    sessions = []
    for i in range(n):
        harm, collab = rng.uniform(0, 0.6), rng.uniform(0, 0.5)
        items = []
        for role, text, codes in good_exchange(int(rng.integers(8, 20))):
            if role == "therapist":
                codes = codes + (["directing"] if rng.random() < harm else [])
                codes = codes + (["collaboration"] if rng.random() < collab else [])
            items.append((role, text, codes))
        sessions.append(make_session(items, sid=f"s{i}"))
    return sessions


@pytest.fixture(scope="module")
def table():
    return rollup(constructed_sessions(), config=RollupConfig(n_boot=0))["sessions"]


def known_mapping(t: pd.DataFrame) -> np.ndarray:
    """A lab's rating on a 1–7 scale: a linear function of two roll-up features."""
    return 1.0 + 0.8 * t["therapist_contribution"].to_numpy() + 0.4 * t["interaction"].to_numpy()


def test_calibrate_recovers_a_known_mapping(table):
    rng = np.random.default_rng(1)
    ratings = pd.DataFrame({"wai_o": known_mapping(table) + rng.normal(0, 0.05, len(table))},
                           index=table["session_id"])
    cal = fit_calibration(table, ratings)
    cv = cal.targets["wai_o"]["cv"]
    assert cv["icc21"] > 0.95 and cv["pearson_r"] > 0.95 and cv["n"] == len(table)
    fresh = rollup(constructed_sessions(10, seed=7), config=RollupConfig(n_boot=0))["sessions"]
    pred = cal.predict(fresh)["wai_o"].to_numpy()
    inside = (known_mapping(fresh) >= ratings["wai_o"].min()) & (known_mapping(fresh) <= ratings["wai_o"].max())
    assert np.abs(pred - known_mapping(fresh))[inside].max() < 0.25


def test_calibrate_save_load_apply_roundtrip(table, tmp_path):
    ratings = pd.DataFrame({"total": np.clip(known_mapping(table) / 1.5, 0, 5)}, index=table["session_id"])
    cal = fit_calibration(table, ratings)
    for name in ("cal.json", "cal.joblib"):
        loaded = Calibration.load(cal.save(tmp_path / name))
        pd.testing.assert_frame_equal(loaded.predict(table), cal.predict(table))
    applied = cal.apply(table)
    assert "calibrated_total" in applied and len(applied) == len(table)
    assert applied["calibrated_total"].between(ratings["total"].min(), ratings["total"].max()).all()
    assert cal.metrics()["target"].tolist() == ["total"]
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(InputError):
        Calibration.load(tmp_path / "bad.json")


def test_calibrate_needs_rated_sessions(table):
    with pytest.raises(ValueError):
        fit_calibration(table, pd.DataFrame({"x": [1.0, 2.0]}, index=["nope", "s0"]))


def test_calibrate_icc_2_1_known_values():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert icc_2_1(a, a) == pytest.approx(1.0)
    assert icc_2_1(a, a + 1.0) < icc_2_1(a, a + 0.1) < 1.0  # absolute agreement penalises an offset
    # Shrout & Fleiss (1979), table 2: six targets, four judges; published ICC(2,1) = .29
    judges = ([9, 6, 8, 7, 10, 6], [2, 1, 4, 1, 5, 2], [5, 3, 6, 2, 6, 4], [8, 2, 8, 6, 9, 7])
    assert icc_2_1(*judges) == pytest.approx(0.29, abs=0.005)


def test_calibrate_reads_ratings_averaging_raters(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("transcript_id,annotator,vtas_total,rationale\n1,a,4,x\n1,b,5,y\n2,a,2,z\n")
    table = read_ratings_table(path)
    assert table.to_dict() == {"vtas_total": {"1": 4.5, "2": 2.0}}
    (tmp_path / "none.csv").write_text("who,what\n1,x\n")
    with pytest.raises(InputError):
        read_ratings_table(tmp_path / "none.csv")
