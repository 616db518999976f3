"""VTAS-style scores: directions, range, bands, stability, segments."""

from __future__ import annotations

import numpy as np
import pytest

from coder.rollup.mapping import SCALES
from coder.rollup.scores import (RollupConfig, prepare, resampled_sums, score_session, segment_records,
                                 segment_windows)
from coder.scheme import ALL_CODES, codes_for_role
from tests.rollup.build import ENGAGED, good_exchange, make_session, rupture

FAST = RollupConfig(n_boot=200)


def scores(items, config=FAST, **kw):
    return score_session(make_session(items, **kw), config)


def with_harm(items, every: int, codes=("directing", "confront_criticize")):
    out, k = [], 0
    for role, text, c in items:
        if role == "therapist":
            if k % every == 0:
                c = c + list(codes)
            k += 1
        out.append((role, text, c))
    return out


def test_scores_harmful_behaviours_lower_therapist_contribution():
    base = good_exchange(20)
    values = [scores(base)["therapist_contribution"]]
    for every in (8, 4, 2, 1):
        values.append(scores(with_harm(base, every))["therapist_contribution"])
    assert all(a > b for a, b in zip(values, values[1:])), values
    assert values[0] >= 4.0 and values[-1] < 1.0


def test_scores_unresolved_ruptures_lower_interaction():
    base = good_exchange(12)
    resolved = scores(base[:12] + rupture(resolved=True) + base[12:])
    unresolved = scores(base[:12] + rupture(resolved=False) + base[12:])
    assert resolved["n_resolved"] == 1 and unresolved["n_resolved"] == 0
    assert unresolved["interaction"] < resolved["interaction"] - 1.0
    assert unresolved["total"] < resolved["total"]
    two = scores(base[:12] + rupture(resolved=False) + base[12:20] + rupture(resolved=False) + base[20:])
    assert two["interaction"] < unresolved["interaction"]


def test_scores_withdrawal_lowers_patient_contribution_and_sustain_talk_does_not():
    base = good_exchange(12)
    withdrawn = [(r, t, c + (["w_deferential"] if r == "client" and i % 4 == 1 else [])) for i, (r, t, c) in
                 enumerate(base)]
    assert scores(withdrawn)["patient_contribution"] < scores(base)["patient_contribution"] - 0.5
    sustain = base + [("therapist", "What do you like about drinking?", ["question_open"]),
                      ("client", "It's the one time in the day I can actually relax and stop worrying.",
                       ["sustain_talk"])] * 4
    assert scores(sustain)["patient_contribution"] == pytest.approx(scores(base)["patient_contribution"], abs=0.05)


def test_scores_collaboration_raises_interaction():
    base = good_exchange(12)
    collab = [(r, t, c + (["collaboration"] if r == "therapist" and i % 4 == 0 else [])) for i, (r, t, c) in
              enumerate(base)]
    assert scores(collab)["interaction"] > scores(base)["interaction"]


@pytest.mark.parametrize("seed", range(5))
def test_scores_always_within_0_and_5_with_ordered_bands(seed):
    rng = np.random.default_rng(seed)
    items = []
    for i in range(int(rng.integers(2, 80))):
        role = ["therapist", "client"][int(rng.integers(0, 2))]
        allowed = codes_for_role(role)
        proba = {c: float(rng.random() ** rng.uniform(0.2, 5)) for c in allowed}
        codes = [c for c, p in proba.items() if p >= 0.5]
        items.append((role, ENGAGED if rng.random() < 0.5 else "Yeah.", codes, proba))
    for extreme in (items, [(r, t, list(codes_for_role(r))) for r, t, *_ in items],
                    [(r, t, []) for r, t, *_ in items]):
        record = scores(extreme)
        for scale in SCALES:
            assert 0.0 <= record[f"{scale}_lo"] <= record[scale] <= record[f"{scale}_hi"] <= 5.0


def test_scores_one_utterance_and_missing_roles_stay_in_range():
    for items in ([("client", "Hello.", [])], [("therapist", "Hi.", ["directing"])], [("other", "Hm.", [])]):
        record = scores(items, seconds=None)
        assert all(0.0 <= record[s] <= 5.0 for s in SCALES)


def test_scores_use_probabilities_and_move_smoothly():
    def session_with(p):
        items = []
        for role, text, codes in good_exchange(10):
            proba = {c: (1.0 if c in codes else 0.0) for c in codes_for_role(role)}
            if role == "therapist":
                proba["confront_criticize"] = p
            items.append((role, text, codes, proba))
        return items

    values = [scores(session_with(p))["therapist_contribution"] for p in (0.0, 0.02, 0.04, 0.06, 0.08)]
    steps = np.diff(values)
    assert (steps < 0).all() and (np.abs(steps) < 0.4).all()  # monotone, no jump at any threshold
    hard = scores([(r, t, c) for r, t, c, _ in session_with(0.08)], RollupConfig(n_boot=200, use_proba=False))
    assert hard["therapist_contribution"] > values[-1]  # hard codes ignore the sub-threshold harm


def test_scores_bootstrap_is_reproducible_and_band_shrinks_with_length():
    short, long_ = good_exchange(6), good_exchange(60)
    a, b = scores(with_harm(short, 3)), scores(with_harm(short, 3))
    assert a == b
    width = lambda r: r["therapist_contribution_hi"] - r["therapist_contribution_lo"]  # noqa: E731
    assert width(scores(with_harm(long_, 3))) < width(a)


def test_scores_segments_by_time_and_by_count():
    session = make_session(good_exchange(60), seconds=10.0)  # 120 utterances, 20 minutes
    cfg = RollupConfig(n_boot=50)
    windows = segment_windows(prepare(session, cfg).utterances, cfg)
    assert windows[0][0] == 0 and windows[-1][1] == 119
    assert len(windows) == 16  # 5-minute windows every minute over 20 minutes: starts 0..15 min
    untimed = make_session(good_exchange(60), seconds=None)
    prepared = prepare(untimed, cfg)
    segs = segment_records(prepared, cfg)
    assert segs["n_utterances"].max() == 40 and segs["last_position"].iloc[-1] == 119
    assert segs["first_position"].tolist()[:3] == [0, 10, 20]
    assert ((segs[list(SCALES)] >= 0) & (segs[list(SCALES)] <= 5)).all().all()


def test_scores_record_columns():
    record = scores(good_exchange(4))
    assert record["session_id"] == "s1" and record["n_utterances"] == 8
    assert record["duration_s"] == pytest.approx(7 * 10 + 9)
    assert set(ALL_CODES).isdisjoint(record)


def test_scores_unreliable_codes_count_once_as_their_family():
    import pandas as pd

    from coder.rollup.mapping import ScaleMapping

    turns = pd.DataFrame({"directing": [0.8, 0.0], "confront_criticize": [0.6, 0.0], "dismiss_invalidate": [0.0, 0.9]})
    weights = {"directing": 0.5, "confront_criticize": 1.0, "dismiss_invalidate": 1.0}
    plain = ScaleMapping().weighted(turns, weights)
    pooled = ScaleMapping(unreliable=("directing", "confront_criticize")).weighted(turns, weights)
    assert plain.tolist() == pytest.approx([0.4 + 0.6, 0.9])
    # the two flagged codes become one term: their largest probability at their mean weight
    assert pooled.tolist() == pytest.approx([0.75 * 0.8, 0.9])


@pytest.mark.parametrize("n_turns", [2, 7, 40, 300])
def test_scores_resampled_sums_match_the_plain_gather_bit_for_bit(n_turns):
    rng = np.random.default_rng(n_turns)
    features = np.asfortranarray(rng.random((n_turns, 17)) * rng.choice([1e-3, 1.0, 1e3], size=17))
    features[:, [3, 12, 13]] = 0.0  # all-zero columns are skipped
    features[:, 14] = -0.0  # … but not negative zeros
    features[rng.random(n_turns) < 0.5, 5] = 0.0
    for n_boot in (1, 50, 500):
        draws = rng.integers(0, n_turns, size=(n_boot, n_turns))
        got, expected = resampled_sums(features, draws), features[draws].sum(axis=1)
        assert np.array_equal(got, expected) and np.array_equal(np.signbit(got), np.signbit(expected))
    for columns in ([0], [0, 3], [3, 12]):  # fewer than two live columns: the plain gather
        sub = features[:, columns]
        draws = rng.integers(0, n_turns, size=(20, n_turns))
        assert np.array_equal(resampled_sums(sub, draws), sub[draws].sum(axis=1))
