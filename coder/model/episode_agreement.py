"""Rupture episodes from the model's codes against episodes built from the labels.

An episode is a run of utterances carrying a rupture marker (any withdrawal or confrontation
code, or the family label) whose consecutive marked utterances are at most ``max_gap``
positions apart in the transcript. A predicted episode counts as found when it overlaps a
labelled one give or take ``slack`` utterances; precision is over predicted episodes, recall
over labelled ones. The same rule builds both sides, so the figure measures the codes, not the
roll-up's resolution logic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from coder.scheme import FAMILIES

#: Targets whose presence marks an utterance as part of a rupture.
MARKER_TARGETS = frozenset(FAMILIES["withdrawal"]) | frozenset(FAMILIES["confrontation"]) | {"withdrawal",
                                                                                               "confrontation"}


@dataclass(frozen=True)
class EpisodeRule:
    """How marked utterances become episodes and how episodes are matched.

    Attributes
    ----------
    max_gap : int
        Largest distance in utterance positions between consecutive marked utterances of one
        episode (3: "marker utterances at most 3 apart form one episode").
    slack : int
        A predicted and a labelled episode match when their spans overlap give or take this
        many utterances.
    """

    max_gap: int = 3
    slack: int = 1


def episodes(positions: Sequence[int], *, max_gap: int = 3) -> list[tuple[int, int]]:
    """``(first, last)`` position of each episode from the sorted positions of marked utterances."""
    spans: list[tuple[int, int]] = []
    for pos in sorted(positions):
        if spans and pos - spans[-1][1] <= max_gap:
            spans[-1] = (spans[-1][0], pos)
        else:
            spans.append((pos, pos))
    return spans


def _order(utterance_id: str) -> tuple:
    try:
        return (0, float(utterance_id), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(utterance_id))


def episode_agreement(records: Sequence[dict], truth: np.ndarray, pred: np.ndarray, names: Sequence[str], *,
                      rule: EpisodeRule | None = None) -> dict[str, float]:
    """Episode precision and recall of decisions ``pred`` against labels ``truth``.

    Parameters
    ----------
    records : sequence of dict
        ``transcript_id`` and ``utterance_id`` of each row (rows of one transcript are put in
        utterance-id order).
    truth, pred : ndarray (n, len(names))
        Labels and model decisions, 0/1.
    names : sequence of str
        Target names (columns); the rupture markers and family labels among them mark episodes.
    rule : EpisodeRule, optional

    Returns
    -------
    dict
        ``episode_precision``, ``episode_recall`` (NaN without episodes on that side),
        ``episodes_predicted``, ``episodes_labelled``.
    """
    rule = rule or EpisodeRule()
    cols = [j for j, n in enumerate(names) if n in MARKER_TARGETS]
    marked_t = (np.asarray(truth)[:, cols] > 0.5).any(1) if cols else np.zeros(len(records), bool)
    marked_p = (np.asarray(pred)[:, cols] > 0.5).any(1) if cols else np.zeros(len(records), bool)
    by_transcript: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        by_transcript.setdefault(str(r["transcript_id"]), []).append(i)
    n_pred = n_true = hit_pred = hit_true = 0
    for rows in by_transcript.values():
        rows = sorted(rows, key=lambda i: _order(records[i]["utterance_id"]))
        true_eps = episodes([k for k, i in enumerate(rows) if marked_t[i]], max_gap=rule.max_gap)
        pred_eps = episodes([k for k, i in enumerate(rows) if marked_p[i]], max_gap=rule.max_gap)
        near = lambda a, b: a[0] <= b[1] + rule.slack and b[0] <= a[1] + rule.slack  # noqa: E731
        n_pred, n_true = n_pred + len(pred_eps), n_true + len(true_eps)
        hit_pred += sum(any(near(p, t) for t in true_eps) for p in pred_eps)
        hit_true += sum(any(near(t, p) for p in pred_eps) for t in true_eps)
    return {"episode_precision": hit_pred / n_pred if n_pred else float("nan"),
            "episode_recall": hit_true / n_true if n_true else float("nan"),
            "episodes_predicted": float(n_pred), "episodes_labelled": float(n_true)}
