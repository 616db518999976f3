"""AnnoMI loading, the scheme mapping and the majority vote."""

from __future__ import annotations

import pandas as pd
import pytest

from coder.data.annomi import map_fields, majority_vote
from tests.data.conftest import needs_annomi


@pytest.mark.parametrize("fields, codes, advice, auto", [
    ({"question_subtype": "open"}, ["question_open"], False, False),
    ({"question_subtype": "closed"}, ["question_closed"], False, False),
    ({"reflection_subtype": "simple"}, ["reflection_simple"], False, False),
    ({"reflection_subtype": "complex"}, ["reflection_complex"], False, False),
    ({"therapist_input_subtype": "information"}, ["information"], False, False),
    ({"therapist_input_subtype": "options"}, ["collaboration"], False, True),
    ({"therapist_input_subtype": "negotiation"}, ["collaboration"], False, True),
    ({"therapist_input_subtype": "advice"}, [], True, False),
    ({"therapist_input_subtype": "advice", "question_subtype": "open"}, ["question_open"], True, False),
    ({"reflection_subtype": "complex", "question_subtype": "closed"}, ["reflection_complex", "question_closed"], False, False),
    ({"client_talk_type": "change"}, ["change_talk"], False, False),
    ({"client_talk_type": "sustain"}, ["sustain_talk"], False, False),
    ({"client_talk_type": "neutral"}, ["neutral_talk"], False, False),
    ({"question_subtype": "n/a", "reflection_subtype": "n/a", "therapist_input_subtype": "n/a"}, [], False, False),
    ({"question_subtype": " Open "}, ["question_open"], False, False),
])
def test_annomi_map_fields_gives_scheme_codes(fields, codes, advice, auto):
    assert map_fields(fields) == (codes, advice, auto)


def _votes(rows):
    return pd.DataFrame(rows, columns=["transcript_id", "utterance_id", "annotator_id", "question_subtype",
                                       "client_talk_type"])


def test_annomi_majority_vote_takes_most_frequent_value_per_field():
    frame = _votes([
        ("7", "0", "0", "open", "n/a"), ("7", "0", "1", "closed", "n/a"), ("7", "0", "2", "closed", "n/a"),
        ("7", "1", "0", "n/a", "change"), ("7", "1", "1", "n/a", "neutral"), ("7", "1", "2", "n/a", "neutral"),
    ])
    voted = majority_vote(frame, ["question_subtype", "client_talk_type"])
    assert list(voted.utterance_id) == ["0", "1"]
    assert list(voted.question_subtype) == ["closed", "n/a"]
    assert list(voted.client_talk_type) == ["n/a", "neutral"]
    assert list(voted.n_annotators) == [3, 3]


def test_annomi_majority_vote_breaks_ties_by_lowest_annotator():
    frame = _votes([
        ("7", "0", "3", "open", "n/a"), ("7", "0", "1", "closed", "n/a"),
        ("7", "0", "2", "open", "n/a"), ("7", "0", "0", "closed", "n/a"),
    ])
    assert majority_vote(frame, ["question_subtype"]).question_subtype.item() == "closed"


def test_annomi_majority_vote_leaves_single_annotator_rows_unchanged():
    frame = _votes([("1", "0", "0", "open", "n/a"), ("1", "1", "0", "n/a", "sustain")])
    voted = majority_vote(frame, ["question_subtype", "client_talk_type"])
    assert voted[["question_subtype", "client_talk_type"]].values.tolist() == [["open", "n/a"], ["n/a", "sustain"]]


@needs_annomi
def test_annomi_load_has_one_row_per_utterance(annomi):
    assert len(annomi) == 7758
    assert annomi.transcript_id.nunique() == 105
    assert not annomi.duplicated(["transcript_id", "utterance_id"]).any()
    multi = annomi.groupby("transcript_id").n_annotators.max()
    assert sorted(multi[multi > 1].index, key=int) == ["7", "27", "55", "130"]
    assert set(annomi.role) == {"therapist", "client"}


@needs_annomi
def test_annomi_client_rows_carry_exactly_one_talk_type(annomi):
    from coder.scheme import TALK_TYPES
    clients = annomi[annomi.role == "client"]
    assert clients.annomi_codes.map(lambda cs: sum(c in TALK_TYPES for c in cs)).eq(1).all()
    therapists = annomi[annomi.role == "therapist"]
    assert not therapists.annomi_codes.map(lambda cs: any(c in TALK_TYPES for c in cs)).any()


@needs_annomi
def test_annomi_advice_never_maps_to_directing(annomi):
    assert not annomi.annomi_codes.map(lambda cs: "directing" in cs).any()
    assert annomi.advice_candidate.sum() > 0


@needs_annomi
def test_annomi_transcript_metadata_is_per_transcript(annomi):
    from coder.data.annomi import transcript_metadata
    meta = transcript_metadata(annomi)
    assert len(meta) == 105 and set(meta.mi_quality) == {"high", "low"}
    assert meta.n_utterances.sum() == len(annomi)
