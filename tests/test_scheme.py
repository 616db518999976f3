"""The code names in coder.scheme are exactly those of the shared coding scheme."""

from __future__ import annotations

import re

import pytest

from coder import scheme
from tests.conftest import SHARED


def test_scheme_matches_shared_document():
    doc = SHARED / "coding-scheme.md"
    if not doc.exists():
        pytest.skip("../shared/coding-scheme.md is not beside the repository")
    named = set(re.findall(r"`([a-z_]+)`", doc.read_text()))
    ours = set(scheme.ALL_CODES)
    assert ours <= named
    table_codes = set(re.findall(r"^\| `([a-z_]+)` \|", doc.read_text(), re.M))
    assert table_codes <= ours
    assert set(scheme.TALK_TYPES) == {"change_talk", "sustain_talk", "neutral_talk"}


@pytest.mark.parametrize(("code", "family"), [("directing", "harmful"), ("w_denial", "withdrawal"),
                                              ("c_defend_self", "confrontation"), ("information", "neutral")])
def test_scheme_family(code, family):
    assert scheme.family(code) == family


def test_scheme_role_rules():
    assert scheme.validate_codes(["question_open", "w_denial"], "therapist") == ["w_denial"]
    assert scheme.codes_for_role("other") == ()
    assert len(scheme.ALL_CODES) == len(set(scheme.ALL_CODES)) == 32


def test_scheme_families_partition_the_codes():
    members = [c for codes in scheme.FAMILIES.values() for c in codes]
    assert sorted(members) == sorted(scheme.ALL_CODES)
    assert all(scheme.family(c) == name for name, codes in scheme.FAMILIES.items() for c in codes)
    assert set(scheme.FAMILY_LABELS) <= set(scheme.FAMILIES)
    with pytest.raises(KeyError):
        scheme.family("nope")


def test_scheme_families_are_the_only_definition():
    from coder.model.layout import FAMILIES as model_families
    from coder.report.assets import FAMILY_COLOURS
    from coder.review.coded import FAMILY_LABELS as review_labels

    assert model_families is scheme.FAMILY_LABELS and review_labels is scheme.FAMILY_LABELS
    assert list(FAMILY_COLOURS) == list(scheme.FAMILIES)
