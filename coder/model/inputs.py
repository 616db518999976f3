"""Model inputs: a target utterance with its dialogue context, as token ids.

Every example is one target utterance plus the ``context_size`` utterances before it, each
prefixed by a speaker-role marker, encoded as a BERT pair::

    [CLS] therapist: <u-2> client: <u-1> [SEP] therapist: <target> [SEP]

Each utterance is tokenized once; examples are assembled from the pieces, so a session costs
one tokenizer call. The target is kept whole up to ``max_length`` and the context is cut from
its oldest end. Corpus examples carry their context as text with ``[T] …`` / ``[C] …``
markers (``coder.data``); :func:`parse_context` turns that back into (role, text) pairs, so
training and inference build identical inputs.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from coder.model.layout import ROLE_IDS
from coder.session import Session

#: Words that stand for the speaker role inside the encoder input (single pretrained tokens).
MARKER_WORDS = {"therapist": "therapist:", "client": "client:", "other": "speaker:"}
#: The markers the corpus builder writes into its context strings.
CORPUS_MARKERS = {"[T]": "therapist", "[C]": "client", "[O]": "other"}
_MARKER_RE = re.compile(r"\[(T|C|O)\]\s*")
log = logging.getLogger(__name__)


@dataclass
class Example:
    """One target utterance to classify.

    Attributes
    ----------
    text : str
        The target utterance.
    role : str
        ``therapist``, ``client`` or ``other``.
    context : list of (str, str)
        Previous utterances as (role, text), oldest first.
    key : tuple
        Where it came from: (session or transcript id, utterance id).
    """

    text: str
    role: str
    context: list[tuple[str, str]] = field(default_factory=list)
    key: tuple = ()


def normalise_role(role: Any) -> str:
    """``therapist``/``client``/``other`` from a role string (unknown or None → ``other``)."""
    role = str(role or "").strip().lower()
    return role if role in ROLE_IDS else "other"


def parse_context(context: Any) -> list[tuple[str, str]]:
    """(role, text) pairs, oldest first, from a corpus ``context`` field.

    Accepts a string with ``[T]``/``[C]`` markers, a list of such strings, a list of
    (role, text) pairs or of dicts with ``role`` and ``text``; None or empty gives [].
    """
    if context is None:
        return []
    if isinstance(context, str):
        parts = _MARKER_RE.split(context)
        if len(parts) == 1:
            return [("other", context.strip())] if context.strip() else []
        out = []
        for tag, text in zip(parts[1::2], parts[2::2]):
            if text.strip():
                out.append((CORPUS_MARKERS[f"[{tag}]"], text.strip()))
        return out
    out = []
    for item in context:
        if isinstance(item, str):
            out += parse_context(item)
        elif isinstance(item, dict):
            out.append((normalise_role(item.get("role")), str(item.get("text", "")).strip()))
        else:
            role, text = item
            out.append((normalise_role(role), str(text).strip()))
    return out


def session_examples(sessions: Sequence[Session], context_size: int) -> list[Example]:
    """One example per utterance of ``sessions``, in order, with the previous utterances as context."""
    examples = []
    for session in sessions:
        history: list[tuple[str, str]] = []
        for u in session.utterances:
            role = normalise_role(u.role)
            ctx = history[-context_size:] if context_size > 0 else []
            examples.append(Example(u.text, role, list(ctx), (session.id, u.utterance_id)))
            history.append((role, u.text))
    return examples


def record_examples(records: Iterable[dict], context_size: int) -> list[Example]:
    """Examples from corpus records (``text``, ``role``, ``context``, ids), context cut to size."""
    examples = []
    for r in records:
        ctx = parse_context(r.get("context"))
        ctx = ctx[-context_size:] if context_size > 0 else []
        key = (str(r.get("transcript_id", "")), str(r.get("utterance_id", "")))
        examples.append(Example(str(r["text"]), normalise_role(r.get("role")), ctx, key))
    return examples


@dataclass
class Encoded:
    """Token ids of a list of examples (unpadded), with what batching needs."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]]
    roles: list[int]
    #: ``(index, tokens)`` of examples whose target utterance was cut to fit ``max_length``.
    truncated: list[tuple[int, int]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def lengths(self) -> list[int]:
        return [len(x) for x in self.input_ids]


def encode(tokenizer, examples: Sequence[Example], max_length: int) -> Encoded:
    """Token ids for ``examples`` (see the module docstring for the layout).

    Parameters
    ----------
    tokenizer : transformers tokenizer
        BERT-style, with ``cls_token_id`` and ``sep_token_id``.
    examples : sequence of Example
    max_length : int
        Longest input in tokens, special tokens included.
    """
    markers = {role: tokenizer(word, add_special_tokens=False)["input_ids"] for role, word in MARKER_WORDS.items()}
    texts: dict[str, int] = {}
    for ex in examples:
        texts.setdefault(ex.text, len(texts))
        for _, t in ex.context:
            texts.setdefault(t, len(texts))
    pieces = tokenizer(list(texts), add_special_tokens=False, verbose=False)["input_ids"] if texts else []
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    ids_out, types_out, roles, truncated = [], [], [], []
    for k, ex in enumerate(examples):
        target = markers[ex.role] + pieces[texts[ex.text]]
        if len(target) > max(1, max_length - 3):
            truncated.append((k, len(target)))
            target = target[: max(1, max_length - 3)]
        budget = max_length - 3 - len(target)
        ctx: list[int] = []
        for role, t in ex.context:
            ctx += markers[role] + pieces[texts[t]]
        ctx = ctx[len(ctx) - budget:] if budget > 0 and len(ctx) > budget else (ctx if budget > 0 else [])
        ids = [cls] + ctx + [sep] + target + [sep]
        ids_out.append(ids)
        types_out.append([0] * (len(ctx) + 2) + [1] * (len(target) + 1))
        roles.append(ROLE_IDS[ex.role])
    if truncated:
        _warn_truncated(examples, truncated, max_length)
    return Encoded(ids_out, types_out, roles, truncated)


def _warn_truncated(examples: Sequence[Example], truncated: list[tuple[int, int]], max_length: int) -> None:
    """One warning line naming the utterances coded from their first tokens only."""
    def name(k: int, n: int) -> str:
        key = examples[k].key
        where = f"session {key[0]} utterance {key[1]}" if len(key) >= 2 else f"example {k}"
        return f"{where} ({n} tokens)"

    listed = ", ".join(name(k, n) for k, n in truncated[:5])
    more = f" and {len(truncated) - 5} more" if len(truncated) > 5 else ""
    log.warning(f"warning: {len(truncated)} utterance(s) longer than the model's {max_length} tokens were coded "
                f"from their first {max(1, max_length - 3)} tokens only: {listed}{more}; split them (segmenting "
                "cuts long sentences at commas) to code all of their words")


def collate_arrays(encoded: Encoded, index: Sequence[int], pad_id: int = 0) -> dict[str, np.ndarray]:
    """A padded batch of the examples at ``index`` as int64 arrays: ids, attention, token types, roles."""
    width = max(len(encoded.input_ids[i]) for i in index)
    ids = np.full((len(index), width), pad_id, dtype=np.int64)
    types = np.zeros((len(index), width), dtype=np.int64)
    attention = np.zeros((len(index), width), dtype=np.int64)
    for row, i in enumerate(index):
        n = len(encoded.input_ids[i])
        ids[row, :n] = encoded.input_ids[i]
        types[row, :n] = encoded.token_type_ids[i]
        attention[row, :n] = 1
    roles = np.array([encoded.roles[i] for i in index], dtype=np.int64)
    return {"input_ids": ids, "attention_mask": attention, "token_type_ids": types, "roles": roles}


def collate(encoded: Encoded, index: Sequence[int], pad_id: int = 0) -> dict:
    """As :func:`collate_arrays`, as torch tensors (for the torch network)."""
    import torch

    return {k: torch.from_numpy(v) for k, v in collate_arrays(encoded, index, pad_id).items()}


def length_batches(lengths: Sequence[int], batch_size: int, *, shuffle: bool = False,
                   seed: int = 0, pool: int = 50) -> list[list[int]]:
    """Indices grouped into batches of similar length (less padding).

    Parameters
    ----------
    lengths : sequence of int
        Token length of each example.
    batch_size : int
    shuffle : bool
        Training order: shuffle, sort within pools of ``pool`` batches, shuffle the batches.
        False: all examples sorted by length (inference).
    seed : int
        Seed of the shuffle.
    """
    order = list(range(len(lengths)))
    if not shuffle:
        order.sort(key=lambda i: lengths[i])
        return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    rng = random.Random(seed)
    rng.shuffle(order)
    batches = []
    step = batch_size * pool
    for start in range(0, len(order), step):
        chunk = sorted(order[start:start + step], key=lambda i: lengths[i])
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches
