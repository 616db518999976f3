"""Rupture episodes built from markers, and their precision and recall against the labels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coder.model.episode_agreement import EpisodeRule, episode_agreement, episodes


@pytest.mark.parametrize("positions, spans", [
    ([], []),
    ([4], [(4, 4)]),
    ([1, 4, 8], [(1, 4), (8, 8)]),  # 4 - 1 = 3 joins, 8 - 4 = 4 does not
    ([9, 2, 3], [(2, 3), (9, 9)]),
])
def test_episode_agreement_episodes_join_markers_at_most_three_apart(positions, spans):
    assert episodes(positions, max_gap=3) == spans


def test_episode_agreement_precision_and_recall():
    names = ["question_open", "c_defend_self", "withdrawal"]
    records = [{"transcript_id": "t", "utterance_id": str(i)} for i in range(20)]
    truth, pred = np.zeros((20, 3)), np.zeros((20, 3))
    truth[[2, 3], 1] = 1           # labelled episode A: 2-3
    truth[15, 2] = 1               # labelled episode B: 15
    pred[4, 1] = 1                 # predicted 4: overlaps A within 1 utterance
    pred[10, 2] = 1                # predicted 10: matches nothing
    pred[[0], 0] = 1               # not a marker
    out = episode_agreement(records, truth, pred, names, rule=EpisodeRule(max_gap=3, slack=1))
    assert out["episodes_labelled"] == 2 and out["episodes_predicted"] == 2
    assert out["episode_precision"] == 0.5 and out["episode_recall"] == 0.5
    strict = episode_agreement(records, truth, pred, names, rule=EpisodeRule(slack=0))
    assert strict["episode_precision"] == 0.0


def test_episode_agreement_orders_rows_by_utterance_id_within_transcript():
    names = ["c_defend_self"]
    records = [{"transcript_id": "t", "utterance_id": u} for u in ("10", "2", "3", "4", "5", "6")]
    truth = np.array([[0], [1], [1], [0], [0], [0]])
    pred = np.array([[1], [0], [0], [0], [0], [0]])  # utterance 10 comes first in the rows, last in the talk
    out = episode_agreement(records, truth, pred, names)
    assert out["episode_precision"] == 0.0 and out["episode_recall"] == 0.0
    assert math.isnan(episode_agreement(records, truth * 0, pred * 0, names)["episode_precision"])
