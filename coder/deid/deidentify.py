"""De-identify sessions: identifiers in text and speaker labels → consistent typed placeholders."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from coder.deid.config import PLACEHOLDER_TYPES, DeidConfig
from coder.deid.patterns import NOT_NAMES
from coder.deid.placeholders import PlaceholderMap, name_tokens
from coder.roles import role_from_label
from coder.session import Session

_GENERIC_LABEL = re.compile(
    r"^(?:speaker|spk|person|participant|unknown|interviewer|interviewee|voice|caller|moderator|narrator|intake"
    r"|receptionist|staff|scheduler|other"
    r"|family member|mother|father|mom|mum|dad|parent|partner|guardian|child|teen|adolescent|couple|group)?"
    r"[\s_\-#.:]*(?:\d+|[A-Za-z])?$", re.I)
#: Names that are also ordinary words: spread through a session only where not sentence-initial.
WORD_NAMES = frozenset("will may hope grace joy faith mark bill rose art summer dawn june april august sunny "
                        "frank pat sue jack amber ivy lily iris daisy rich guy max drew chase sky river brook "
                        "glen dean victor angel patience charity honor earl king rusty bob penny ruby".split())


def is_name_label(label: str) -> bool:
    """Whether a speaker label looks like a person's name rather than a role or generic label."""
    label = (label or "").strip()
    if not label or role_from_label(label) is not None or _GENERIC_LABEL.match(label):
        return False
    return bool(re.search(r"[^\W\d_]{2,}", label))


class Deidentifier:
    """Replace identifiers in sessions with typed placeholders consistent within each session.

    Nothing to fit: construct and call. The Presidio engine loads on the first call (about
    2 s) and is shared by every ``Deidentifier`` in the process.

    Parameters
    ----------
    config : DeidConfig, optional
        What to remove and how.
    """

    def __init__(self, config: DeidConfig | None = None):
        self.config = config or DeidConfig()

    def find(self, text: str):
        """Identifier spans in one text (see :func:`coder.deid.engine.find_spans`)."""
        from coder.deid.engine import find_spans

        return find_spans(text, types=self.config.types, min_score=self.config.min_score,
                          keep=frozenset(k.lower() for k in self.config.keep))

    def session_spans(self, texts: list[str], *, speakers: list[str] | None = None):
        """Identifier spans of each text of one session, after propagation of known values.

        Returns
        -------
        (list of list of Span, int)
            Spans per text and how many were found only by propagation.
        """
        from coder.deid.engine import resolve

        cfg = self.config
        known: dict[str, str] = {}  # value → type, for propagation
        for label in speakers or []:
            if "NAME" in cfg.types and cfg.speaker_labels and is_name_label(label):
                _remember_name(known, label.strip())
        found = [self.find(t) for t in texts]
        for text, spans in zip(texts, found):
            for s in spans:
                value = text[s.start:s.end]
                if s.type == "NAME":
                    _remember_name(known, value)
                elif s.type in ("LOCATION", "ORG", "EMAIL", "PHONE", "ID", "ADDRESS", "URL") and len(value) >= 3:
                    known.setdefault(value, s.type)
        if not (cfg.propagate and known):
            return found, 0
        out, n_extra = [], 0
        for text, spans in zip(texts, found):
            extra = [sp for sp in _occurrences(text, known)
                     if not any(sp.start < o.end and o.start < sp.end for o in spans)]
            n_extra += len(extra)
            out.append(resolve(text, list(spans) + extra) if extra else spans)
        return out, n_extra

    def deidentify_texts(self, texts: list[str], *, speakers: list[str] | None = None,
                         mapping: PlaceholderMap | None = None) -> tuple[list[str], Counter, PlaceholderMap]:
        """De-identify the texts of one session together (shared placeholders).

        Parameters
        ----------
        texts : list of str
            The session's texts, in order.
        speakers : list of str, optional
            Speaker labels whose names should be linked to (and removed from) the texts.
        mapping : PlaceholderMap, optional
            Continue an existing session's placeholders (e.g. context strings after utterances).

        Returns
        -------
        (texts, counts, mapping)
            De-identified texts, replacements per type (``propagated`` counts the ones found only
            by spreading a known value), and the session's placeholder map.
        """
        mapping = mapping or PlaceholderMap()
        for label in speakers or []:  # speakers first: "Dr. Maya Rivera" is [NAME_1] before any mention
            if "NAME" in self.config.types and self.config.speaker_labels and is_name_label(label):
                mapping.label("NAME", label.strip())
        found, n_extra = self.session_spans(texts, speakers=speakers)
        counts: Counter = Counter({"propagated": n_extra})
        out = []
        for text, spans in zip(texts, found):
            pieces, last = [], 0
            for s in spans:
                pieces += [text[last:s.start], mapping.label(s.type, text[s.start:s.end])]
                counts[s.type] += 1
                last = s.end
            out.append("".join(pieces) + text[last:])
        return out, counts, mapping

    def deidentify_session(self, session: Session) -> tuple[Session, dict]:
        """A de-identified copy of ``session`` and its audit.

        Returns
        -------
        (Session, dict)
            The new session (texts and name-like speaker labels replaced, roles, times, codes
            and ids kept; strings in metadata, such as warnings, scrubbed of the values found) and
            the audit: ``session_id``, ``n_utterances``,
            one count of replacements per placeholder type, ``speaker_labels`` (labels
            replaced), ``propagated`` and ``n_distinct`` (distinct placeholders). Counts only,
            never a removed value.
        """
        labels = list(dict.fromkeys(u.speaker for u in session.utterances))
        texts, counts, mapping = self.deidentify_texts([u.text for u in session.utterances], speakers=labels)
        new_label = {}
        for label in labels:
            if self.config.speaker_labels and "NAME" in self.config.types and is_name_label(label):
                new_label[label] = mapping.label("NAME", label.strip())
            else:
                new_label[label] = label
        utterances = [replace(u, text=t, speaker=new_label[u.speaker], codes=list(u.codes),
                              meta=_scrub_meta(u.meta, mapping)) for u, t in zip(session.utterances, texts)]
        meta = _scrub_meta(session.meta, mapping)
        meta["deidentified"] = True
        speakers = {new_label.get(k, k): v for k, v in session.speakers.items()}
        new = Session(id=session.id, utterances=utterances, meta=meta, speakers=speakers)
        audit = {"session_id": session.id, "n_utterances": len(session.utterances)}
        audit.update({t: counts.get(t, 0) for t in PLACEHOLDER_TYPES})
        audit["speaker_labels"] = sum(1 for k, v in new_label.items() if k != v)
        audit["propagated"] = counts.get("propagated", 0)
        audit["n_distinct"] = mapping.n_distinct
        return new, audit


def _scrub_meta(meta: dict, mapping: PlaceholderMap) -> dict:
    """A copy of ``meta`` whose strings (and lists of strings, e.g. warnings) have known values replaced.

    Extra columns a reader kept (a notes column, the source path) are not analysed on their
    own; only values found in the session's text and speaker labels are replaced in them.
    """
    out = {}
    for key, value in meta.items():
        if isinstance(value, str):
            value = mapping.scrub(value)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = [mapping.scrub(v) for v in value]
        out[key] = value
    return out


def _remember_name(known: dict[str, str], value: str) -> None:
    """Record a name and its words (three letters or more, not role words) for propagation."""
    value = value.strip()
    known.setdefault(value, "NAME")
    words = re.findall(r"[^\W\d_][\w'’\-]*", value)
    lowered = set(name_tokens(value))
    for w in words:
        w = re.sub(r"['’]s$", "", w)
        if len(w) >= 3 and w.lower() in lowered and w not in NOT_NAMES:
            known.setdefault(w[0].upper() + w[1:] if w.isupper() or w.islower() else w, "NAME")


def _occurrences(text: str, known: dict[str, str]):
    """Spans of known values in ``text``: names case-sensitively, others ignoring case."""
    from coder.deid.engine import Span

    for value, kind in known.items():
        flags = 0 if kind in ("NAME", "LOCATION", "ORG") else re.I
        for m in re.finditer(rf"(?<![\w@.]){re.escape(value)}(?![\w@])", text, flags):
            if kind == "NAME" and value.lower() in WORD_NAMES:
                before = text[:m.start()].rstrip()
                if not before or before[-1] in ".!?\"“":
                    continue
            yield Span(m.start(), m.end(), kind, 0.8)


def deidentify_sessions(sessions: list[Session], *, config: DeidConfig | None = None):
    """De-identify every session; placeholders are consistent within, not across, sessions.

    Returns
    -------
    (list of Session, pandas.DataFrame)
        The new sessions, and the audit table with one row per session (see
        :meth:`Deidentifier.deidentify_session`).
    """
    from coder.deid.audit import audit_frame

    deid = Deidentifier(config)
    out, rows = [], []
    for session in sessions:
        new, audit = deid.deidentify_session(session)
        out.append(new)
        rows.append(audit)
    return out, audit_frame(rows)
