"""The constructed examples: flagged, valid, enough per rare code."""

from __future__ import annotations

from collections import Counter

import pytest

from coder.data.constructed import CONSTRUCTED_COLUMNS, load_constructed, split_context
from coder.errors import InputError
from coder.scheme import RUPTURE_MARKERS, THERAPIST_HARMFUL, codes_for_role

RARE = RUPTURE_MARKERS + THERAPIST_HARMFUL + ("metacommunication", "affect_exploration")


def test_constructed_has_at_least_eight_positives_per_rare_code():
    frame = load_constructed()
    positives = Counter(frame[~frame.target_code.str.startswith("near_miss:")].target_code)
    assert {code: positives[code] for code in RARE if positives[code] < 8} == {}
    assert frame.example_id.is_unique and (frame.source == "constructed").all()
    assert all(c in codes_for_role(r) for cs, r in zip(frame.codes, frame.role) for c in cs)
    assert frame.context.map(len).between(1, 3).all()


def test_constructed_split_context_keeps_markers():
    assert split_context("[C] I'm fine. [T] Are you? [C] Yes.") == ["[C] I'm fine.", "[T] Are you?", "[C] Yes."]
    assert split_context("") == []


@pytest.mark.parametrize("row, message", [
    ("x:1,w_denial,client,[T] Hi.,No.,w_denial,false,me", "constructed=true"),
    ("x:1,w_denial,client,[T] Hi.,No.,w_denial,true,me", "exactly one talk type"),
    ("x:1,w_denial,therapist,[T] Hi.,No.,w_denial,true,me", "not allowed"),
    ("x:1,w_denial,client,[T] Hi.,No.,neutral_talk,true,me", "target w_denial"),
])
def test_constructed_corrupted_row_raises(tmp_path, row, message):
    path = tmp_path / "constructed.csv"
    path.write_text(",".join(CONSTRUCTED_COLUMNS) + "\n" + row + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"constructed.csv:2: .*{message}"):
        load_constructed(path)
