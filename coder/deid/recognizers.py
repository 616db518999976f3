"""Presidio recognizers the project adds: its regex patterns, and an e-mail check that stays offline.

Imported only when de-identification runs (Presidio and spaCy take about 2 s to load).
"""

from __future__ import annotations

import re
from functools import lru_cache

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import EmailRecognizer

from coder.deid.patterns import NOT_NAMES, PATTERNS

#: Presidio entity names the project's recognizers emit (mapped back to placeholder types).
ENTITY = {"NAME": "PERSON", "ADDRESS": "STREET_ADDRESS", "ID": "RECORD_ID", "AGE": "AGE_OVER_89",
          "DATE": "DATE_TIME", "LOCATION": "LOCATION", "PHONE": "PHONE_NUMBER"}


@lru_cache(maxsize=1)
def offline_tld_extractor():
    """A ``tldextract.TLDExtract`` that uses the snapshot shipped with the package.

    No suffix-list URLs (so no download) and no disk cache; ``tldextract.extract``, which
    Presidio's own e-mail recognizer calls, would try to fetch the public-suffix list.
    """
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer, validating the domain against the bundled suffix snapshot."""

    def validate_result(self, pattern_text: str):  # noqa: D102
        return offline_tld_extractor()(pattern_text).fqdn != ""


class PatternSetRecognizer(LocalRecognizer):
    """Emit Presidio results for :data:`coder.deid.patterns.PATTERNS` (group ``v`` when present)."""

    def __init__(self, patterns=PATTERNS):
        self.patterns = patterns
        super().__init__(supported_entities=sorted(set(ENTITY.values())), name="AllianceCoderPatterns",
                         supported_language="en")

    def load(self) -> None:  # noqa: D102
        pass

    def analyze(self, text, entities, nlp_artifacts=None):  # noqa: D102
        out = []
        for kind, regex, score in self.patterns:
            entity = ENTITY[kind]
            if entities and entity not in entities:
                continue
            for m in regex.finditer(text):
                group = next((g for g in ("v", "w") if g in regex.groupindex and m.group(g)), None)
                start, end = m.span(group) if group else m.span()
                value = text[start:end]
                if kind in ("NAME", "LOCATION"):
                    words = value.split()
                    if value.isupper() and len(value) > 1:
                        continue
                    if words[0] in NOT_NAMES:
                        continue
                    if len(words) > 1 and words[-1] in NOT_NAMES:
                        end = start + len(words[0])
                if not re.search(r"\w", value):
                    continue
                out.append(RecognizerResult(entity, start, end, score,
                                            recognition_metadata={"recognizer_name": self.name}))
        return out
