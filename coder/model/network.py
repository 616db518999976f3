"""The multi-task network: one encoder, three heads, role masking and an imbalance-aware loss.

Heads (over the mean-pooled encoder states), with columns given by a
:class:`~coder.model.layout.Layout`:

* therapist — multi-label (sigmoid): therapist codes (and ``harmful`` when merged codes
  train as that family);
* talk type — single-label (softmax) over :data:`coder.scheme.TALK_TYPES`;
* client — multi-label (sigmoid): rupture markers (and ``withdrawal``/``confrontation``);
* behaviour (optional) — single-label (softmax) over AnnoMI's main therapist behaviours
  (:data:`~coder.model.layout.BEHAVIOURS`) plus "other". An AnnoMI utterance is one of them
  at most, so a softmax fits the data better than five independent sigmoids; when present, its
  log-probabilities replace the therapist head's scores for those five codes.

Role masking: a therapist utterance gets therapist targets only, a client utterance talk type
and rupture targets only, an ``other`` utterance nothing; masked scores are ``-inf`` in the raw
score matrix and probability 0 after calibration.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from coder.model.bert import Linear
from coder.model.layout import CLIENT, OTHER_BEHAVIOUR, THERAPIST, Layout


class MultiTaskNetwork(nn.Module):
    """Encoder + three linear heads.

    Parameters
    ----------
    encoder : torch.nn.Module
        A BERT-style encoder returning the last hidden states (:class:`coder.model.bert.BertEncoder`)
        or an output with ``last_hidden_state`` (a ``transformers`` model).
    layout : Layout
        The targets; fixes the heads' widths.
    dropout : float
        Dropout on the pooled vector during training.
    pooling : {"target", "all"}
        Mean over the target utterance's tokens (segment B) or over every token.
    behaviour : bool
        Add the behaviour softmax head (needs every one of the layout's ``behaviour_idx``).
    device : torch.device or str, optional
        Where the heads are created (``"meta"`` when every weight is assigned from a checkpoint).
    """

    def __init__(self, encoder: nn.Module, layout: Layout, dropout: float = 0.1, pooling: str = "target",
                 behaviour: bool = False, device=None):
        super().__init__()
        if pooling not in ("target", "all"):
            raise ValueError(f"pooling must be 'target' or 'all', not {pooling!r}")
        self.encoder = encoder
        self.layout = layout
        self.pooling = pooling
        hidden = encoder.config.hidden_size
        self.dropout = nn.Dropout(dropout)
        self.therapist_head = Linear(hidden, len(layout.therapist_idx), device=device)
        self.talk_head = Linear(hidden, len(layout.talk_idx), device=device)
        self.client_head = Linear(hidden, len(layout.client_idx), device=device)
        self.behaviour_head = Linear(hidden, len(layout.behaviour_idx) + 1, device=device) \
            if behaviour and layout.behaviour_idx else None

    def pool(self, hidden: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        """Mean of ``hidden`` over the pooled tokens (float32)."""
        mask = attention_mask if self.pooling == "all" else attention_mask * (token_type_ids == 1)
        mask = mask.unsqueeze(-1).to(torch.float32)
        return (hidden.float() * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def forward(self, input_ids, attention_mask, token_type_ids):
        """Logits of the heads: (therapist, talk type, client[, behaviour]), each float32."""
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        hidden = out if isinstance(out, torch.Tensor) else out.last_hidden_state
        pooled = self.dropout(self.pool(hidden, attention_mask, token_type_ids))
        logits = (self.therapist_head(pooled).float(), self.talk_head(pooled).float(),
                  self.client_head(pooled).float())
        return logits + (self.behaviour_head(pooled).float(),) if self.behaviour_head is not None else logits

    def raw_scores(self, logits: tuple[torch.Tensor, ...], roles: torch.Tensor) -> torch.Tensor:
        """Head outputs laid out over the targets; ``-inf`` where the role masks them.

        Talk-type columns hold log-softmax values (``exp`` gives probabilities summing to 1);
        with a behaviour head, so do the behaviour columns (``1 -`` their sum is "other");
        the multi-label columns hold logits.
        """
        therapist, talk, client = (x.float() for x in logits[:3])
        lay = self.layout
        full = torch.full((therapist.shape[0], len(lay.names)), float("-inf"), dtype=torch.float32)
        rows_t = (roles == THERAPIST).nonzero(as_tuple=True)[0].unsqueeze(1)
        rows_c = (roles == CLIENT).nonzero(as_tuple=True)[0].unsqueeze(1)
        full[rows_t, torch.tensor(lay.therapist_idx)] = therapist[roles == THERAPIST]
        full[rows_c, torch.tensor(lay.talk_idx)] = F.log_softmax(talk[roles == CLIENT], dim=-1)
        if lay.client_idx:
            full[rows_c, torch.tensor(lay.client_idx)] = client[roles == CLIENT]
        if len(logits) > 3:
            logp = F.log_softmax(logits[3].float()[roles == THERAPIST], dim=-1)
            full[rows_t, torch.tensor(lay.behaviour_idx)] = logp[:, :OTHER_BEHAVIOUR]
        return full


def imbalance_weights(labels: np.ndarray, mask: np.ndarray, roles: np.ndarray, layout: Layout, *,
                      power: float = 0.5, max_weight: float = 20.0) -> dict[str, torch.Tensor]:
    """Loss weights from training-label counts.

    Multi-label targets get a BCE ``pos_weight`` of ``(negatives / positives) ** power``; talk
    types and behaviours get CE class weights ``(n / (k * count)) ** power``, normalised to mean 1. All are
    clipped to ``[1/max_weight, max_weight]``; a target never seen positive gets weight 1.

    Parameters
    ----------
    labels, mask : ndarray (n, len(layout.names))
        Multi-hot targets and which of them were decided.
    roles : ndarray (n,)
        Role ids.
    layout : Layout
    power : float
        0 = unweighted, 1 = fully balanced.
    max_weight : float
        Upper clip.
    """
    labels, mask, roles = np.asarray(labels, np.float64), np.asarray(mask, np.float64), np.asarray(roles)

    def pos_weight(idx, role):
        rows = roles == role
        pos = (labels[rows][:, idx] * mask[rows][:, idx]).sum(0)
        neg = ((1 - labels[rows][:, idx]) * mask[rows][:, idx]).sum(0)
        w = np.where(pos > 0, (neg / np.maximum(pos, 1)) ** power, 1.0)
        return torch.tensor(np.clip(w, 1.0 / max_weight, max_weight), dtype=torch.float32)

    def class_weight(counts):
        n = counts.sum()
        w = np.where(counts > 0, (n / np.maximum(len(counts) * counts, 1)) ** power, 1.0)
        return torch.tensor(np.clip(w / w.mean(), 1.0 / max_weight, max_weight), dtype=torch.float32)

    talk = layout.talk_idx
    rows = (roles == CLIENT) & (mask[:, talk].min(1) > 0) & (labels[:, talk].sum(1) == 1)
    out = {"therapist": pos_weight(layout.therapist_idx, THERAPIST), "talk": class_weight(labels[rows][:, talk].sum(0)),
           "client": pos_weight(layout.client_idx, CLIENT)}
    if layout.behaviour_idx:
        targets, rows = behaviour_targets(labels, mask, roles, layout)
        out["behaviour"] = class_weight(targets[rows].sum(0))
    return out


def behaviour_targets(labels: np.ndarray, mask: np.ndarray, roles: np.ndarray, layout: Layout):
    """Soft behaviour targets (n, 6) and the rows that teach them.

    A therapist row teaches the behaviour head when all five behaviours were decided; its
    target spreads evenly over the behaviours present (a few AnnoMI rows carry two after the
    annotators' vote), or is "other" when none is.
    """
    idx = layout.behaviour_idx
    y = np.asarray(labels)[:, idx] > 0.5
    rows = (np.asarray(roles) == THERAPIST) & (np.asarray(mask)[:, idx] > 0.5).all(1)
    targets = np.zeros((len(y), len(idx) + 1), dtype=np.float32)
    targets[:, :len(idx)] = y
    targets[~y.any(1), OTHER_BEHAVIOUR] = 1.0
    return targets / targets.sum(1, keepdims=True), rows


class MultiTaskLoss(nn.Module):
    """Weighted BCE on the multi-label heads + weighted CE on talk type (and behaviour), each on its role's rows.

    Only decided labels count (``mask``): a Welivita sentence teaches the codes its label set
    can express and nothing else. A client row teaches talk type only when exactly one talk
    type is given; a therapist row teaches behaviour as :func:`behaviour_targets` says. The
    parts are averaged over their own elements and summed.

    Parameters
    ----------
    layout : Layout
    weights : dict of str to Tensor
        From :func:`imbalance_weights`.
    """

    def __init__(self, layout: Layout, weights: dict[str, torch.Tensor]):
        super().__init__()
        self.layout = layout
        self.register_buffer("therapist_pos", weights["therapist"])
        self.register_buffer("talk_weight", weights["talk"])
        self.register_buffer("client_pos", weights["client"])
        self.register_buffer("behaviour_weight", weights.get("behaviour", torch.ones(len(layout.behaviour_idx) + 1)))

    @staticmethod
    def _bce(logits, labels, mask, pos_weight):
        if logits.shape[0] == 0 or logits.shape[1] == 0 or mask.sum() == 0:
            return logits.sum() * 0.0
        loss = F.binary_cross_entropy_with_logits(logits, labels, pos_weight=pos_weight, reduction="none")
        return (loss * mask).sum() / mask.sum()

    def forward(self, logits, labels: torch.Tensor, mask: torch.Tensor, roles: torch.Tensor):
        """Total loss and its parts (floats) for one batch."""
        therapist, talk, client = logits[:3]
        lay = self.layout
        is_t, is_c = roles == THERAPIST, roles == CLIENT
        l_t = self._bce(therapist[is_t], labels[is_t][:, lay.therapist_idx], mask[is_t][:, lay.therapist_idx],
                        self.therapist_pos)
        l_r = self._bce(client[is_c], labels[is_c][:, lay.client_idx], mask[is_c][:, lay.client_idx], self.client_pos)
        talk_lab = labels[:, lay.talk_idx]
        has_talk = is_c & (mask[:, lay.talk_idx].min(1).values > 0) & (talk_lab.sum(1) == 1)
        if has_talk.any():
            l_c = F.cross_entropy(talk[has_talk], talk_lab[has_talk].argmax(1), weight=self.talk_weight)
        else:
            l_c = talk.sum() * 0.0
        parts = {"therapist": l_t, "talk": l_c, "client": l_r}
        if len(logits) > 3:
            targets, rows = behaviour_targets(labels.numpy(), mask.numpy(), roles.numpy(), lay)
            rows = torch.from_numpy(rows)
            parts["behaviour"] = (F.cross_entropy(logits[3][rows], torch.from_numpy(targets[rows.numpy()]),
                                                  weight=self.behaviour_weight) if rows.any() else logits[3].sum() * 0.0)
        total = sum(parts.values())
        return total, {k: float(v.detach()) for k, v in parts.items()}
