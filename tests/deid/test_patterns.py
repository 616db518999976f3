"""The project's regex patterns alone (no Presidio needed)."""

from __future__ import annotations

import pytest

from coder.deid.patterns import PATTERNS


def _found(text: str) -> set[tuple[str, str]]:
    out = set()
    for kind, regex, _score in PATTERNS:
        for m in regex.finditer(text):
            group = next((g for g in ("v", "w") if g in regex.groupindex and m.group(g)), None)
            out.add((kind, m.group(group) if group else m.group(0)))
    return out


@pytest.mark.parametrize("text, kind, value", [
    ("I saw Dr. Okonkwo on Friday.", "NAME", "Okonkwo"),
    ("my sister Adaeze came over", "NAME", "Adaeze"),
    ("my cousin Lucía called", "NAME", "Lucía"),
    ("We live at 42 Willow Lane, Apt 3B now.", "ADDRESS", "42 Willow Lane, Apt 3B"),
    ("the pharmacy on Elm Street", "ADDRESS", "Elm Street"),
    ("write to PO Box 7731", "ADDRESS", "PO Box 7731"),
    ("My MRN is 00482913.", "ID", "00482913"),
    ("member ID: XJH448120391", "ID", "XJH448120391"),
    ("She's 94 and lives alone.", "AGE", "94"),
    ("he is ninety-two years old", "AGE", "ninety-two"),
    ("born on 3/14/1951", "DATE", "3/14/1951"),
    ("on the 5th of June", "DATE", "the 5th of June"),
    ("We came from Aleppo with nothing.", "LOCATION", "Aleppo"),
])
def test_patterns_find_identifier(text, kind, value):
    assert (kind, value) in _found(text)


@pytest.mark.parametrize("text", [
    "I'm 34 and tired.",                      # ages up to 89 stay
    "He's 89 now.",
    "The rent is 95 dollars more.",
    "I may go if I hope hard enough.",
    "Will you come? May I ask something?",
    "It happened last week, every Tuesday.",
    "I take 20 mg twice a day.",
])
def test_patterns_leave_ordinary_text(text):
    assert _found(text) == set()
