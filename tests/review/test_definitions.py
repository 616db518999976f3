"""Code definitions shown on hover, toggle keys and the guideline version."""

from __future__ import annotations

from coder.review.app import SHORTCUTS
from coder.review.definitions import DEFINITIONS, GUIDELINE_VERSION, TOGGLE_KEYS, code_table, guideline_version, key_map
from coder.scheme import ALL_CODES, CLIENT_CODES, THERAPIST_CODES


def test_definitions_cover_every_code_in_one_line():
    assert list(DEFINITIONS) == list(ALL_CODES)
    assert all(0 < len(d) <= 160 and "\n" not in d for d in DEFINITIONS.values())
    assert [r["code"] for r in code_table()] == list(ALL_CODES)


def test_definitions_keys_cover_roles_and_leave_shortcuts_free():
    assert len(TOGGLE_KEYS) == len(set(TOGGLE_KEYS)) >= max(len(THERAPIST_CODES), len(CLIENT_CODES))
    assert not set("ajknpu?") & set(TOGGLE_KEYS)
    assert list(key_map("therapist").values()) == list(THERAPIST_CODES)
    assert list(key_map("client").values()) == list(CLIENT_CODES)
    assert key_map("other") == {}
    assert any("Enter" in k for k, _ in SHORTCUTS)


def test_definitions_guideline_version_matches_quick_reference():
    assert guideline_version() == GUIDELINE_VERSION
