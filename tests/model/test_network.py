"""Role masking, family targets and the masked, weighted loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from coder.model.layout import CLIENT, OTHER, THERAPIST, Layout
from coder.model.network import MultiTaskLoss, MultiTaskNetwork, behaviour_targets, imbalance_weights
from coder.scheme import ALL_CODES, TALK_TYPES, THERAPIST_CODES


def test_network_role_masking_in_raw_scores(tiny_encoder_dir):
    from coder.model.encoder import load_encoder

    lay = Layout.from_merges({"w_denial": "withdrawal"})
    net = MultiTaskNetwork(load_encoder(tiny_encoder_dir)[0], lay).eval()
    ids = torch.tensor([[2, 10, 3, 11, 3]] * 3)
    types = torch.tensor([[0, 0, 0, 1, 1]] * 3)
    roles = torch.tensor([THERAPIST, CLIENT, OTHER])
    with torch.no_grad():
        raw = net.raw_scores(net(ids, torch.ones_like(ids), types), roles).numpy()
    finite = np.isfinite(raw)
    therapist_cols = [lay.names.index(c) for c in THERAPIST_CODES]
    assert finite[0, therapist_cols].all() and finite[0].sum() == len(therapist_cols)
    assert not finite[1, therapist_cols].any() and finite[1, lay.names.index("withdrawal")]
    assert not finite[2].any()
    talk = [lay.names.index(t) for t in TALK_TYPES]
    assert np.exp(raw[1, talk]).sum() == pytest.approx(1.0, abs=1e-5)


def test_layout_families_replace_merged_codes():
    lay = Layout.from_merges({"w_denial": "withdrawal", "w_abstract": "withdrawal"})
    assert "w_denial" not in lay.names and lay.names[-1] == "withdrawal"
    y = np.zeros((2, len(ALL_CODES)), bool)
    m = np.ones((2, len(ALL_CODES)), bool)
    y[0, ALL_CODES.index("w_denial")] = True
    m[1, ALL_CODES.index("w_topic_shift")] = False
    labels, mask = lay.from_scheme(y, m)
    j = lay.names.index("withdrawal")
    assert labels[:, j].tolist() == [1, 0] and mask[:, j].tolist() == [1, 0]
    assert np.isnan(lay.to_scheme(labels)[0, ALL_CODES.index("w_denial")])
    with pytest.raises(ValueError):
        Layout.from_merges({"w_denial": "nonsense"})


def test_network_loss_ignores_undecided_labels():
    lay = Layout.from_merges({})
    k = len(lay.names)
    weights = imbalance_weights(np.zeros((1, k)), np.ones((1, k)), np.array([THERAPIST]), lay)
    loss = MultiTaskLoss(lay, weights)
    torch.manual_seed(0)
    logits = (torch.randn(2, len(lay.therapist_idx)), torch.randn(2, 3), torch.randn(2, len(lay.client_idx)))
    roles = torch.tensor([THERAPIST, CLIENT])
    labels = torch.zeros(2, k)
    labels[1, lay.names.index("change_talk")] = 1
    mask = torch.ones(2, k)
    mask[0, lay.names.index("directing")] = 0
    base, _ = loss(logits, labels, mask, roles)
    labels[0, lay.names.index("directing")] = 1  # undecided: must not matter
    labels[0, lay.names.index("w_denial")] = 1  # not allowed for a therapist: must not matter
    again, _ = loss(logits, labels, mask, roles)
    assert float(base) == pytest.approx(float(again))
    labels[0, lay.names.index("affirmation")] = 1
    assert float(loss(logits, labels, mask, roles)[0]) != pytest.approx(float(base))


def test_network_imbalance_weights_from_counts():
    lay = Layout.from_merges({})
    k = len(lay.names)
    y = np.zeros((10, k))
    y[:2, lay.names.index("question_open")] = 1  # 2 positives, 8 negatives
    roles = np.array([THERAPIST] * 10)
    w = imbalance_weights(y, np.ones((10, k)), roles, lay, power=1.0)
    assert float(w["therapist"][lay.therapist_idx.index(lay.names.index("question_open"))]) == pytest.approx(4.0)
    assert float(w["therapist"][lay.therapist_idx.index(lay.names.index("directing"))]) == 1.0


def test_network_behaviour_head_scores_one_softmax(tiny_encoder_dir):
    from coder.model.encoder import load_encoder

    lay = Layout.from_merges({})
    net = MultiTaskNetwork(load_encoder(tiny_encoder_dir)[0], lay, behaviour=True).eval()
    ids = torch.tensor([[2, 10, 3, 11, 3]] * 2)
    roles = torch.tensor([THERAPIST, CLIENT])
    with torch.no_grad():
        logits = net(ids, torch.ones_like(ids), torch.tensor([[0, 0, 0, 1, 1]] * 2))
        raw = net.raw_scores(logits, roles).numpy()
    assert len(logits) == 4 and logits[3].shape == (2, 6)
    assert 0 < np.exp(raw[0, lay.behaviour_idx]).sum() < 1  # the rest is "other"
    assert not np.isfinite(raw[1, lay.behaviour_idx]).any()


def test_network_behaviour_targets_are_soft_and_masked():
    lay = Layout.from_merges({})
    k = len(lay.names)
    y, m = np.zeros((4, k)), np.ones((4, k))
    y[0, lay.names.index("question_open")] = 1
    y[1, [lay.names.index("question_open"), lay.names.index("reflection_simple")]] = 1
    m[3, lay.names.index("information")] = 0  # undecided: teaches no behaviour
    targets, rows = behaviour_targets(y, m, np.array([THERAPIST] * 4), lay)
    assert rows.tolist() == [True, True, True, False]
    assert targets[0].tolist() == [1, 0, 0, 0, 0, 0] and targets[1].tolist() == [0.5, 0, 0.5, 0, 0, 0]
    assert targets[2].tolist() == [0, 0, 0, 0, 0, 1]  # none of the five: "other"
    weights = imbalance_weights(y, m, np.array([THERAPIST] * 4), lay)
    loss = MultiTaskLoss(lay, weights)
    logits = (torch.zeros(4, len(lay.therapist_idx)), torch.zeros(4, 3), torch.zeros(4, len(lay.client_idx)),
              torch.zeros(4, 6))
    _, parts = loss(logits, torch.tensor(y, dtype=torch.float32), torch.tensor(m, dtype=torch.float32),
                    torch.tensor([THERAPIST] * 4))
    assert parts["behaviour"] > 0
