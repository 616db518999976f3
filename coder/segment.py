"""Turns → utterances: one complete thought each, with times shared out inside the turn.

Sentences come from syntok (offline, keeps "Dr." and "e.g." whole, splits "Mm-hmm. Yeah." into
two back-channels). Then: pieces with no letters join the previous sentence; a one-word
sentence that is no stand-alone response ("So.", "Well.") joins the next; a sentence longer
than ``max_words`` is cut at commas. Times: where the source timed pieces of a turn (cues,
segments), a sentence's start and end are interpolated by character position inside those
pieces; where only turn times are known they are shared out in proportion to length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from syntok.segmenter import analyze

from coder.session import Session, Utterance

#: Short replies that stand on their own as utterances (back-channels and one-word answers).
STANDALONE = {
    "mm-hmm", "mhm", "mm", "hmm", "uh-huh", "um-hum", "yeah", "yes", "yep", "yup", "no", "nope", "nah", "okay",
    "ok", "right", "sure", "true", "exactly", "absolutely", "definitely", "really", "oh", "ah", "wow", "thanks",
    "fine", "maybe", "perhaps", "totally", "correct", "alright", "great", "good", "cool", "whatever", "nothing",
    "never", "sometimes", "probably", "agreed", "indeed", "huh", "uh", "um", "hi", "hello", "bye",
}
_WORD = re.compile(r"[^\W_]", re.U)


@dataclass
class SegmenterConfig:
    """How transcripts become utterances.

    Attributes
    ----------
    segment : bool
        Split turns into sentence-level utterances; False keeps every turn whole (``--no-segment``).
    resegment : bool
        Also split input that is already one row per utterance (``--resegment``); by default such
        input keeps its units and ids.
    max_words : int
        Sentences longer than this are cut at commas (unpunctuated ASR output runs on).
    words_per_second : float
        Speaking rate used to estimate the end of a final turn that has only a start time.
    """

    segment: bool = True
    resegment: bool = False
    max_words: int = 60
    words_per_second: float = 2.5


def split_sentences(text: str, *, max_words: int = 60) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of the utterances in ``text``.

    The spans cover all of ``text`` but the whitespace between them: every character the
    sentence splitter leaves out of its tokens (symbols, odd Unicode) stays in a span, so
    segmenting never drops a word.
    """
    spans = []
    for paragraph in analyze(text):
        for sentence in paragraph:
            if sentence:
                first = sentence[0]
                last = sentence[-1]
                spans.append([first.offset, last.offset + len(last.value)])
    spans = _merge_fragments(text, _cover(text, spans))
    out: list[tuple[int, int]] = []
    for a, b in spans:
        out += _cut_long(text, a, b, max_words)
    return [(a, b) for a, b in (_trim(text, a, b) for a, b in out) if a < b]


def _cover(text: str, spans: list[list[int]]) -> list[list[int]]:
    """Spans widened to meet each other and the ends of ``text``, cut only where there is whitespace."""
    cuts = [0]
    for a, _b in spans[1:]:
        while 0 < a < len(text) and not (text[a - 1].isspace() or text[a].isspace()):
            a -= 1  # a sentence boundary inside a run of non-space characters ("ok.Next"): no cut there
        if a > cuts[-1]:
            cuts.append(a)
    cuts.append(len(text))
    return [[a, b] for a, b in zip(cuts, cuts[1:]) if text[a:b].strip()]


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _merge_fragments(text: str, spans: list[list[int]]) -> list[list[int]]:
    merged: list[list[int]] = []
    carry: int | None = None
    for a, b in spans:
        if carry is not None:
            a, carry = carry, None
        piece = text[a:b]
        if not _WORD.search(piece) and merged:
            merged[-1][1] = b
            continue
        words = piece.split()
        if len(words) == 1 and words[0].strip(".,!?;:-—…\"'()").lower() not in STANDALONE:
            carry = a
            continue
        merged.append([a, b])
    if carry is not None:
        if merged:
            merged[-1][1] = len(text.rstrip())
        else:
            merged.append([carry, len(text.rstrip())])
    return merged


def _cut_long(text: str, a: int, b: int, max_words: int) -> list[tuple[int, int]]:
    piece = text[a:b]
    if len(piece.split()) <= max_words:
        return [(a, b)]
    commas = [m.end() for m in re.finditer(r",\s", piece)]
    if not commas:
        return [(a, b)]
    middle = len(piece) / 2
    cut = min(commas, key=lambda c: abs(c - middle))
    left_end = a + cut
    while left_end > a and text[left_end - 1].isspace():
        left_end -= 1
    return _cut_long(text, a, left_end, max_words) + _cut_long(text, a + cut, b, max_words)


def fill_ends(session: Session, config: SegmenterConfig) -> None:
    """Give utterances that only have a start the next start as end (the last: a speaking-rate guess)."""
    utts = session.utterances
    for i, u in enumerate(utts):
        if u.start is None or u.end is not None:
            continue
        nxt = next((v.start for v in utts[i + 1:] if v.start is not None), None)
        if nxt is not None and nxt >= u.start:
            u.end = nxt
        else:
            u.end = round(u.start + max(1, len(u.text.split())) / config.words_per_second, 3)
            u.meta["end_estimated"] = True


def assign_turns(session: Session) -> None:
    """Number turns from 0: a new turn whenever the speaker changes (kept when the source gave them)."""
    if all(u.turn_id >= 0 for u in session.utterances):
        return
    turn, last = -1, object()
    for u in session.utterances:
        if u.speaker != last:
            turn += 1
            last = u.speaker
        u.turn_id = turn


def segment_session(session: Session, config: SegmenterConfig | None = None) -> Session:
    """A new session whose utterances are sentence-level units (see the module docstring)."""
    config = config or SegmenterConfig()
    units = [replace(u, meta=dict(u.meta), codes=list(u.codes)) for u in session.utterances]
    work = Session(id=session.id, utterances=units, meta=dict(session.meta), speakers=dict(session.speakers))
    fill_ends(work, config)
    assign_turns(work)
    preseg = bool(session.meta.get("presegmented"))
    if preseg and not config.resegment and config.segment:
        return work
    if preseg and config.segment:
        out = []
        for u in units:
            out += _split_group([u], config, keep_id=u.utterance_id)
    else:
        out = []
        group: list[Utterance] = []
        for u in units:
            if group and u.turn_id != group[-1].turn_id:
                out += _split_group(group, config)
                group = []
            group.append(u)
        if group:
            out += _split_group(group, config)
        for i, u in enumerate(out):
            u.utterance_id = str(i)
    work.utterances = out
    work.meta["presegmented"] = False
    return work


def _split_group(group: list[Utterance], config: SegmenterConfig, keep_id: str | None = None) -> list[Utterance]:
    pieces = []  # (char_start, char_end, t_start, t_end)
    text = ""
    for u in group:
        if text:
            text += " "
        pieces.append((len(text), len(text) + len(u.text), u.start, u.end))
        text += u.text
    spans = split_sentences(text, max_words=config.max_words) if config.segment else [(0, len(text))]
    first = group[0]
    out = []
    for k, (a, b) in enumerate(spans, start=1):
        uid = keep_id if keep_id is None or len(spans) == 1 else f"{keep_id}.{k}"
        out.append(Utterance(
            session_id=first.session_id, utterance_id=uid or "", turn_id=first.turn_id, speaker=first.speaker,
            role=first.role, start=_time_at(pieces, a, start=True), end=_time_at(pieces, b, start=False),
            text=text[a:b].strip(), codes=list(first.codes) if len(spans) == 1 and len(group) == 1 else [],
            meta={k2: v for k2, v in first.meta.items() if k2 == "line"},
        ))
    return out


def _time_at(pieces: list[tuple[int, int, float | None, float | None]], pos: int, *, start: bool) -> float | None:
    for a, b, t0, t1 in pieces:
        inside = a <= pos < b if start else a < pos <= b
        if inside:
            if t0 is None or t1 is None:
                return None
            frac = (pos - a) / max(1, b - a)
            return round(t0 + frac * (t1 - t0), 3)
    return None
