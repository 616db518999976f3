"""A tiny random BERT and a constructed corpus for fast model tests (no downloads)."""

from __future__ import annotations

import string
from pathlib import Path

from coder.scheme import ALL_CODES, codes_for_role
from coder.session import Session, Utterance

WORDS = ("therapist client speaker what how do did you it sounds like i want to change don't stop "
         "feel tired work sleep is are the a and yes no hello").split()

#: (role, text, codes): a therapist/client exchange repeated to make transcripts.
TEMPLATES = [
    ("therapist", "what do you want to change?", ("question_open",)),
    ("therapist", "how do you feel about work?", ("question_open",)),
    ("therapist", "did you sleep?", ("question_closed",)),
    ("therapist", "do you work?", ("question_closed",)),
    ("therapist", "it sounds like you feel tired.", ("reflection_complex",)),
    ("therapist", "it sounds like work is hard.", ("reflection_complex",)),
    ("client", "i want to change.", ("change_talk",)),
    ("client", "i want to stop and sleep.", ("change_talk",)),
    ("client", "i don't want to change.", ("sustain_talk", "c_reject_intervention")),
    ("client", "i don't want to stop.", ("sustain_talk", "c_reject_intervention")),
    ("client", "yes.", ("neutral_talk", "w_minimal_response")),
    ("client", "the work is the work.", ("neutral_talk",)),
]


def tiny_encoder(folder: Path, seed: int = 0) -> Path:
    """Write a randomly initialised 1-layer BERT (hidden 32) and a WordPiece tokenizer to ``folder``."""
    import torch
    import transformers

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list(string.punctuation) + WORDS
    vocab += list(string.ascii_lowercase + string.digits) + ["##" + c for c in string.ascii_lowercase + string.digits]
    vocab = list(dict.fromkeys(vocab))
    tokenizer = transformers.BertTokenizer(vocab={w: i for i, w in enumerate(vocab)})
    torch.manual_seed(seed)
    config = transformers.BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=64, vocab_size=len(vocab), max_position_embeddings=128)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(str(folder))
    transformers.utils.logging.disable_progress_bar()
    transformers.BertModel(config).save_pretrained(str(folder))
    return folder


def record(text: str, role: str, codes, transcript: str = "t1", uid: int = 0, context: str = "") -> dict:
    """A corpus example shaped like ``coder.data.build``'s (labels and mask over ALL_CODES)."""
    allowed = set(codes_for_role(role))
    return {"transcript_id": transcript, "utterance_id": str(uid), "role": role, "text": text,
            "context": context, "labels": [1.0 if c in codes else 0.0 for c in ALL_CODES],
            "label_mask": [1.0 if c in allowed else 0.0 for c in ALL_CODES], "source": "annomi"}


def corpus(n_transcripts: int, prefix: str = "t") -> list[dict]:
    """``n_transcripts`` copies of :data:`TEMPLATES`, each with ``[T]``/``[C]`` context lines."""
    out = []
    for r in range(n_transcripts):
        history: list[str] = []
        for uid, (role, text, codes) in enumerate(TEMPLATES):
            out.append(record(text, role, codes, f"{prefix}{r}", uid, "\n".join(history[-2:])))
            history.append(("[T] " if role == "therapist" else "[C] ") + text)
    return out


def sessions(n: int = 2) -> list[Session]:
    """``n`` constructed sessions of 14 utterances, each the templates in another rotation."""
    out = []
    for k in range(n):
        rows = [TEMPLATES[(k * 5 + j * 7) % len(TEMPLATES)] for j in range(14)]
        out.append(Session(id=f"s{k}", utterances=[
            Utterance(session_id=f"s{k}", utterance_id=str(j), turn_id=j, speaker=role.title(), role=role,
                      start=None, end=None, text=text) for j, (role, text, _) in enumerate(rows)]))
    return out
