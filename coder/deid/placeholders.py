"""Typed placeholders that stay consistent within a session: the same value → the same ``[TYPE_n]``."""

from __future__ import annotations

import re
from collections import Counter

_TITLES = frozenset("dr doctor mr mrs ms miss mx prof professor pastor father rabbi imam reverend rev nurse coach "
                    "officer detective det sergeant sgt captain lieutenant deacon judge aunt auntie uncle grandma "
                    "grandpa nana granny sister brother".split())


def name_tokens(value: str) -> list[str]:
    """Lower-cased words of a name without titles or possessives (``Dr. Maya Rivera's`` → maya, rivera)."""
    words = re.findall(r"[^\W\d_][\w'’\-]*", value.lower())
    words = [re.sub(r"['’]s$", "", w) for w in words]
    return [w for w in words if w.rstrip(".") not in _TITLES and w]


def normalise(kind: str, value: str) -> str:
    """The key under which two spellings of one value count as the same value."""
    if kind == "NAME":
        return " ".join(name_tokens(value))
    if kind == "PHONE":
        digits = re.sub(r"\D", "", value)
        return digits[-10:] if len(digits) >= 10 else digits
    if kind == "DATE":
        v = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", value.lower())
        v = re.sub(r"\b(the|of|on)\b|[,.]", " ", v)
        return " ".join(v.split())
    if kind in ("ID", "ADDRESS"):
        return re.sub(r"[\s\-.,#]", "", value.lower())
    return " ".join(re.sub(r"[^\w@.\s\-]", "", value.lower()).split())


class PlaceholderMap:
    """Hands out ``[TYPE_n]`` labels for one session and remembers what it handed out.

    Names link by their words: once ``Maya Rivera`` is ``[NAME_1]``, ``Maya``, ``Rivera`` and
    ``Dr. Rivera`` are ``[NAME_1]`` too (when no other known name shares that word), and a
    name seen alone first keeps its label when it later appears in full.
    """

    def __init__(self) -> None:
        self._labels: dict[tuple[str, str], str] = {}
        self._n: Counter = Counter()
        self._token_labels: dict[str, set[str]] = {}
        self.values: dict[str, str] = {}  # raw value → label, for scrubbing metadata; never written out

    def _new(self, kind: str) -> str:
        self._n[kind] += 1
        return f"[{kind}_{self._n[kind]}]"

    def label(self, kind: str, value: str) -> str:
        """The placeholder for ``value`` of type ``kind`` (a new one when the value is new)."""
        key = normalise(kind, value) or value.lower()
        if (kind, key) in self._labels:
            label = self._labels[(kind, key)]
        elif kind == "NAME":
            label = self._name_label(key)
        else:
            label = self._new(kind)
        self._labels[(kind, key)] = label
        self.values.setdefault(value, label)
        return label

    def _name_label(self, key: str) -> str:
        tokens = key.split()
        found = None
        if len(tokens) == 1:
            owners = self._token_labels.get(tokens[0], set())
            found = next(iter(owners)) if len(owners) == 1 else None
        else:
            for t in tokens:  # a name seen alone before ("Maya", then "Maya Rivera")
                if ("NAME", t) in self._labels and len(self._token_labels.get(t, set())) <= 1:
                    found = self._labels[("NAME", t)]
                    break
        label = found or self._new("NAME")
        for t in tokens:
            self._token_labels.setdefault(t, set()).add(label)
        return label

    @property
    def n_distinct(self) -> int:
        """Distinct placeholders handed out."""
        return sum(self._n.values())

    def scrub(self, text: str) -> str:
        """Replace every value this map has seen in ``text`` (longest first), e.g. in warnings."""
        for value in sorted(self.values, key=len, reverse=True):
            if len(value) >= 2:
                text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", self.values[value], text)
        return text
