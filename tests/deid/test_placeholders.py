"""Placeholders: the same value → the same label within a session; types never share a label."""

from __future__ import annotations

import pytest

from coder.deid.placeholders import PlaceholderMap, normalise


def test_placeholders_same_value_same_label():
    m = PlaceholderMap()
    assert m.label("DATE", "March 3rd") == "[DATE_1]"
    assert m.label("DATE", "march 3") == "[DATE_1]"
    assert m.label("DATE", "June 12") == "[DATE_2]"
    assert m.label("PHONE", "(617) 555-0199") == m.label("PHONE", "617.555.0199") == "[PHONE_1]"


def test_placeholders_differ_across_types():
    m = PlaceholderMap()
    assert m.label("NAME", "May") == "[NAME_1]"
    assert m.label("DATE", "May") == "[DATE_1]"


@pytest.mark.parametrize("first, second", [
    ("Dr. Maya Rivera", "Maya"),
    ("Maya Rivera", "Dr. Rivera"),
    ("Maya", "Maya Rivera"),
])
def test_placeholders_link_parts_of_one_name(first, second):
    m = PlaceholderMap()
    assert m.label("NAME", first) == m.label("NAME", second) == "[NAME_1]"


def test_placeholders_shared_surname_stays_ambiguous():
    m = PlaceholderMap()
    a, b = m.label("NAME", "Maya Rivera"), m.label("NAME", "Tom Rivera")
    assert a != b
    assert m.label("NAME", "Rivera") not in (a, b)  # two people share it: a new label, not a guess


def test_placeholders_scrub_replaces_known_values():
    m = PlaceholderMap()
    m.label("NAME", "Maya Rivera")
    assert m.scrub("guessed Maya Rivera as therapist") == "guessed [NAME_1] as therapist"


def test_normalise_phone_keeps_last_ten_digits():
    assert normalise("PHONE", "+1 617 555 0199") == normalise("PHONE", "617-555-0199")
