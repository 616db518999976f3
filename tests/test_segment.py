"""Segmentation: sentence-level utterances, back-channels kept, abbreviations whole, times shared."""

from __future__ import annotations

import pytest

from coder.pipeline import load_transcripts
from coder.segment import SegmenterConfig, segment_session, split_sentences
from coder.session import Session, Utterance


def _split(text, **kw):
    return [text[a:b] for a, b in split_sentences(text, **kw)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mm-hmm. Yeah. I think so.", ["Mm-hmm.", "Yeah.", "I think so."]),
        ("I saw Dr. Smith on Monday. She said it's fine.", ["I saw Dr. Smith on Monday.", "She said it's fine."]),
        ("Some things help, e.g. walking. Others don't.", ["Some things help, e.g. walking.", "Others don't."]),
        ("So. What would you like to talk about?", ["So. What would you like to talk about?"]),
        ("No. I don't want to.", ["No.", "I don't want to."]),
        ("It's hard -- really hard... I don't know.", ["It's hard -- really hard...", "I don't know."]),
        ("Uh-huh.", ["Uh-huh."]),
        ("We went to the U.S. in 2019? And then what?", ["We went to the U.S. in 2019?", "And then what?"]),
    ],
)
def test_segment_sentences(text, expected):
    assert _split(text) == expected


def test_segment_cuts_run_on_speech_at_commas():
    text = ", ".join(["and then I went to the shop and bought some bread"] * 8) + "."
    parts = _split(text, max_words=30)
    assert len(parts) > 1
    assert all(len(p.split()) <= 30 for p in parts)
    assert " ".join(parts) == text


def _session(units, presegmented=False):
    utts = [Utterance("s", uid, -1, spk, None, st, en, txt) for uid, spk, st, en, txt in units]
    return Session("s", utts, meta={"presegmented": presegmented})


def test_segment_keeps_presegmented_units_and_ids():
    s = _session([("10", "T", 0.0, 4.0, "Hi. How are you?"), ("11", "C", 4.0, 6.0, "Fine. Thanks.")], True)
    out = segment_session(s)
    assert [(u.utterance_id, u.text) for u in out.utterances] == [("10", "Hi. How are you?"), ("11", "Fine. Thanks.")]


def test_segment_resegment_splits_with_derived_ids():
    s = _session([("10", "T", 0.0, 4.0, "Hi. How are you?"), ("11", "C", 4.0, 6.0, "Fine.")], True)
    out = segment_session(s, SegmenterConfig(resegment=True))
    assert [(u.utterance_id, u.text) for u in out.utterances] == [("10.1", "Hi."), ("10.2", "How are you?"),
                                                                   ("11", "Fine.")]


def test_segment_no_segment_keeps_turns_whole():
    s = _session([(None, "T", 0.0, 2.0, "Hi."), (None, "T", 2.0, 4.0, "How are you?"), (None, "C", 4.0, 6.0, "Ok.")])
    out = segment_session(s, SegmenterConfig(segment=False))
    assert [(u.utterance_id, u.turn_id, u.text, u.start, u.end) for u in out.utterances] == [
        ("0", 0, "Hi. How are you?", 0.0, 4.0), ("1", 1, "Ok.", 4.0, 6.0)]


def test_segment_turn_time_shared_in_proportion():
    s = _session([(None, "T", 10.0, 20.0, "Yes. Well " + "word " * 8 + "end."), (None, "C", 20.0, 21.0, "Ok.")])
    first, second, _ = segment_session(s).utterances
    assert first.start == 10.0 and second.end == 20.0
    assert (first.end - first.start) < (second.end - second.start) / 5


def test_segment_fills_missing_ends_from_next_start():
    s = _session([(None, "T", 1.0, None, "Hi."), (None, "C", 3.0, None, "Hello there, how are you.")])
    out = segment_session(s).utterances
    assert out[0].end == 3.0
    assert out[1].end == pytest.approx(3.0 + 5 / 2.5)


def test_segment_without_times_leaves_none():
    s = _session([(None, "T", None, None, "Hi. Bye."), (None, "C", None, None, "Ok.")])
    assert all(u.start is None and u.end is None for u in segment_session(s).utterances)


def test_segment_cli_flags(tmp_path, fixtures):
    report = load_transcripts([fixtures / "mini.txt"], segmenter=SegmenterConfig(segment=False))
    assert [u.turn_id for u in report.sessions[0].utterances] == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("ok.Next sentence here. And more", ["ok.Next sentence here.", "And more"]),
     ("☃☃ ...", ["☃☃ ..."]),
     ("\u200d \u0301", ["\u200d \u0301"])],
)
def test_segment_keeps_text_the_splitter_leaves_out(text, expected):
    assert _split(text) == expected


def test_segment_every_word_kept_whole_property():
    """Sentence spans cover every word of a turn, and never cut a whitespace-free run in two."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    chars = st.characters(codec="utf-8", exclude_categories=("Cs", "Co", "Cn"))

    @given(st.text(chars, max_size=80), st.integers(3, 60))
    @settings(max_examples=200, deadline=None, derandomize=True, database=None)
    def check(text, max_words):
        assert " ".join(_split(text, max_words=max_words)).split() == text.split()

    check()
