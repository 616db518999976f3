"""Welivita & Pu labels → scheme, and the loaded training-only frame."""

from __future__ import annotations

import pytest

from coder.data.welivita import (LABEL_MAP, OBSERVED_CODES, WELIVITA_LABELS, WELIVITA_LICENCE, map_label,
                                 normalise_text)
from coder.scheme import THERAPIST_CODES
from tests.data.conftest import HAVE_WELIVITA


@pytest.mark.parametrize("label, codes", [
    ("Closed Question", ("question_closed",)),
    ("Open Question", ("question_open",)),
    ("Simple Reflection", ("reflection_simple",)),
    ("Complex Reflection", ("reflection_complex",)),
    ("Give Information", ("information",)),
    ("Advise with Permission", ("collaboration",)),
    ("Affirm", ("affirmation",)),
    ("Emphasize Autonomy", ("collaboration",)),
    ("Support", ("empathic_validation",)),
    ("Advise without Permission", ("directing",)),
    ("Confront", ("confront_criticize",)),
    ("Direct", ("directing",)),
    ("Warn", ("directing",)),
    ("Self-Disclose", None),
    ("Other", ()),
    ("  warn ", ("directing",)),
])
def test_welivita_label_maps_to_scheme(label, codes):
    assert map_label(label) == codes


def test_welivita_mapping_covers_all_fifteen_labels_with_therapist_codes():
    assert len(WELIVITA_LABELS) == 15
    for label in WELIVITA_LABELS:
        codes = map_label(label)
        assert codes is None or all(c in THERAPIST_CODES and c in OBSERVED_CODES for c in codes)
    assert set(LABEL_MAP) | {"Self-Disclose"} == set(WELIVITA_LABELS)


def test_welivita_unknown_label_raises():
    with pytest.raises(KeyError):
        map_label("Reframe")


def test_welivita_normalise_text_collapses_case_space_and_quotes():
    assert normalise_text("  You\u2019re  NOT\nalone. ") == normalise_text("you're not alone.")


@pytest.mark.skipif(not HAVE_WELIVITA, reason="Welivita data not found under ../shared/data")
def test_welivita_load_is_deduplicated_flagged_and_mapped():
    from coder.data.welivita import load_welivita
    frame = load_welivita()
    assert len(frame) > 4000
    assert not frame.text.map(normalise_text).duplicated().any()
    assert set(frame.origin) == {"subset", "gold_test"}
    assert (frame.source == "welivita").all() and (frame.licence == WELIVITA_LICENCE).all()
    assert (frame.role == "therapist").all()
    assert "Self-Disclose" not in set(frame.welivita_label)
    assert all(tuple(cs) == LABEL_MAP[lab] for cs, lab in zip(frame.codes, frame.welivita_label))
    assert frame[frame.origin == "subset"].context.map(len).gt(0).mean() > 0.9
    assert all(item.startswith(("[T] ", "[C] ")) for ctx in frame.context for item in ctx)
