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
