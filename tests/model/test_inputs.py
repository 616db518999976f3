"""Training (corpus records) and inference (sessions) build the same encoder inputs."""

from __future__ import annotations

from coder.model.inputs import (Example, encode, length_batches, parse_context, record_examples,
                                session_examples)
from coder.pipeline import load_transcripts
from tests.conftest import FIXTURES


def test_inputs_parse_context_markers():
    assert parse_context("[T] How are you?\n[C] Fine. [T] Good.") == [
        ("therapist", "How are you?"), ("client", "Fine."), ("therapist", "Good.")]
    assert parse_context("") == [] and parse_context(None) == []
    assert parse_context(["[C] a", ("therapist", "b")]) == [("client", "a"), ("therapist", "b")]


def test_inputs_sessions_and_records_give_identical_ids(tiny_encoder_dir):
    from coder.model.encoder import load_tokenizer

    tok = load_tokenizer(tiny_encoder_dir)
    session = load_transcripts([FIXTURES / "mini.txt"]).sessions[0]
    records, history = [], []
    for u in session.utterances:  # the corpus builder's context format
        records.append({"text": u.text, "role": u.role, "context": "\n".join(history[-2:])})
        history.append(("[T] " if u.role == "therapist" else "[C] ") + u.text)
    a = encode(tok, session_examples([session], 2), 64)
    b = encode(tok, record_examples(records, 2), 64)
    assert a.input_ids == b.input_ids and a.token_type_ids == b.token_type_ids and a.roles == b.roles


def test_inputs_context_cut_from_oldest_end_target_kept(tiny_encoder_dir):
    from coder.model.encoder import load_tokenizer

    tok = load_tokenizer(tiny_encoder_dir)
    ex = Example("yes", "client", [("therapist", "a b c d e f g h"), ("client", "i j")])
    enc = encode(tok, [ex], 12)
    ids, types = enc.input_ids[0], enc.token_type_ids[0]
    assert len(ids) == 12
    words = tok.convert_ids_to_tokens(ids)
    # [CLS] <context tail> [SEP] client : yes [SEP]
    assert words[0] == "[CLS]" and words[-4:] == ["client", ":", "yes", "[SEP]"]
    assert words[1:8] == ["g", "h", "client", ":", "i", "j", "[SEP]"]
    assert types == [0] * 8 + [1] * 4
    assert enc.roles == [1]


def test_inputs_length_batches_cover_every_index_once():
    lengths = [5, 1, 9, 3, 7, 2, 8]
    for shuffle in (False, True):
        batches = length_batches(lengths, 3, shuffle=shuffle, seed=1)
        assert sorted(i for b in batches for i in b) == list(range(7))
        assert all(len(b) <= 3 for b in batches)
    assert length_batches(lengths, 3)[0] == [1, 5, 3]
