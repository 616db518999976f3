"""Who is the therapist and who the client: user-given roles, explicit labels, then a heuristic.

Order: a roles file (``--roles``), then names given with ``--therapist``, then role words in
the labels or a role column (``Therapist``, ``C``, ``Patient 2``); with ``--therapist`` the
remaining speakers are clients. Otherwise the heuristic scores the two most talkative unlabelled
speakers — named ones (``Ana``) or diarisation labels (``SPEAKER_00``, ``Speaker 1``) — on what
therapists do more: ask questions, reflect ("so you…", "it sounds like…"), open the session,
and say less than the client. It names its guess in a warning; when the scores are too close
the session is refused with a ``RoleError`` rather than coded with roles that may be swapped.
When therapist and client are settled, further speakers (a partner, an interpreter) are
``other``, with a warning.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from coder.errors import InputError, RoleError
from coder.session import Session

_THERAPIST_WORDS = {
    "t", "th", "ther", "therapist", "counselor", "counsellor", "clinician", "interviewer", "psychologist",
    "psychotherapist", "provider", "practitioner", "doctor", "dr", "analyst", "coach", "helper", "listener",
}
_CLIENT_WORDS = {"c", "cl", "client", "patient", "p", "pt", "interviewee", "seeker", "consultee"}
#: Labels diarisation writes (pyannote/WhisperX ``SPEAKER_00``, ``Speaker 1``, ``spk2``, ``Speaker A``):
#: they say nothing about the role, so such speakers go to the heuristic.
_GENERIC = re.compile(r"^(?:unknown[\s_\-]*)?(?:speaker|spk|spkr|voice|person)(?:[\s_\-]*(?:\d+|[a-z]))?$", re.I)
_REFLECTION = re.compile(
    r"^(so,? )?(it )?(sounds|seems|feels) (like|as if)|^so,? you('re| are| feel| think| want)|^you('re| are) (feeling|saying)"
    r"|^what i('m| am) hearing|^you feel|^it's like you",
    re.I,
)


@dataclass
class RoleConfig:
    """How to tell therapist from client.

    Attributes
    ----------
    therapist : list of str
        Speaker names to take as therapist (``--therapist``); every other speaker whose label
        names no role (``Therapist``, ``Client``…) is a client.
    roles : dict
        ``{(session_id or None, speaker): role}`` from a roles file; ``None`` matches any session.
    min_margin : float
        Smallest heuristic score gap accepted as a guess; below it the session is refused.
    """

    therapist: list[str] = field(default_factory=list)
    roles: dict[tuple[str | None, str], str] = field(default_factory=dict)
    min_margin: float = 0.15


def role_from_label(label: str | None) -> str | None:
    """``therapist``/``client`` for role words (``T``, ``Counselor``, ``Patient 1``), else None."""
    if not label:
        return None
    word = re.sub(r"[\s_\-]*\d+$", "", str(label).strip().lower()).rstrip(".")
    if word in _THERAPIST_WORDS:
        return "therapist"
    if word in _CLIENT_WORDS:
        return "client"
    if word == "other":
        return "other"
    return None


def is_generic_label(label: str | None) -> bool:
    """True for diarisation labels such as ``SPEAKER_00``, ``Speaker 1``, ``spk_2`` or ``Speaker B``."""
    return bool(label) and bool(_GENERIC.match(str(label).strip()))


def read_roles_file(path: str | Path) -> dict[tuple[str | None, str], str]:
    """Read a CSV of ``speaker,role`` (optionally ``session_id``) rows into a role map."""
    path = Path(path)
    out: dict[tuple[str | None, str], str] = {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or not {"speaker", "role"} <= set(reader.fieldnames):
                raise InputError(path, "a roles file needs the columns speaker,role (and optionally session_id)", line=1)
            for no, row in enumerate(reader, start=2):
                role = role_from_label(row["role"])
                if role is None:
                    raise InputError(path, f"unknown role {row['role']!r} (use therapist, client or other)", line=no)
                out[(row.get("session_id") or None, row["speaker"].strip())] = role
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    return out


def identify_roles(session: Session, config: RoleConfig | None = None) -> list[str]:
    """Set ``role`` on every utterance of ``session`` in place; return warnings about guesses.

    Raises
    ------
    RoleError
        One speaker only, or therapist and client cannot be told apart.
    """
    config = config or RoleConfig()
    source = session.meta.get("source")
    speakers = list(dict.fromkeys(u.speaker for u in session.utterances))
    if len(speakers) < 2:
        raise RoleError(source, f"session {session.id}: only one speaker ({speakers[0]!r}); "
                        "cannot tell therapist from client")
    given = {u.speaker: u.role for u in session.utterances if u.role}
    therapist_names = {_norm(n) for n in config.therapist}
    roles_map = {(sid, _norm(s)): r for (sid, s), r in config.roles.items()}
    roles: dict[str, str | None] = {}
    for s in speakers:
        roles[s] = (
            roles_map.get((session.id, s))
            or roles_map.get((None, s))
            or ("therapist" if s in therapist_names else None)
            or role_from_label(given.get(s))
            or role_from_label(s)
        )
    warnings: list[str] = []
    if therapist_names:  # --therapist: every other unlabelled speaker is a client
        rest = [s for s in speakers if roles[s] is None]
        for s in rest:
            roles[s] = "client"
        if len(rest) > 1:
            warnings.append(f"session {session.id}: speakers {', '.join(rest)} all taken as client (--therapist); "
                            "use --roles to make a third speaker 'other'")
    unknown = [s for s in speakers if roles[s] is None]
    if unknown:
        warnings += _guess(session, roles, unknown, config)
    present = set(roles.values())
    if not {"therapist", "client"} <= present:
        raise RoleError(source, f"session {session.id}: no {'therapist' if 'therapist' not in present else 'client'} "
                        f"among speakers {', '.join(speakers)}; pass --therapist NAME or --roles FILE")
    for u in session.utterances:
        u.role = roles[u.speaker]
    session.speakers = {s: roles[s] for s in speakers}
    return warnings


def _guess(session: Session, roles: dict, unknown: list[str], config: RoleConfig) -> list[str]:
    known = {r for r in roles.values() if r in ("therapist", "client")}
    words = {s: sum(len(u.text.split()) for u in session.utterances if u.speaker == s) for s in unknown}
    by_words = sorted(unknown, key=lambda s: -words[s])
    if len(known) == 1:  # one role given: the most talkative unlabelled speaker has the other
        missing = "client" if "therapist" in known else "therapist"
        roles[by_words[0]] = missing
        out = []
        if len(unknown) > 1:
            out.append(f"session {session.id}: speaker {by_words[0]!r} taken as {missing} (most words of the "
                       f"unlabelled speakers); {', '.join(repr(s) for s in by_words[1:])} taken as 'other'; check, "
                       "or pass --roles")
        for s in by_words[1:]:
            roles[s] = "other"
        return out
    if known:  # both roles given: the rest are extra speakers
        for s in unknown:
            roles[s] = "other"
        return [f"session {session.id}: speakers {', '.join(unknown)} have no role; taken as 'other'"]
    main = sorted(unknown, key=lambda s: -words[s])[:2]
    scores = {s: _therapist_score(session, s, main) for s in main}
    a, b = sorted(main, key=lambda s: -scores[s])
    if scores[a] - scores[b] < config.min_margin:
        raise RoleError(session.meta.get("source"), f"session {session.id}: cannot tell therapist from client "
                        f"between {a!r} and {b!r}; pass --therapist NAME or --roles FILE")
    roles[a], roles[b] = "therapist", "client"
    out = [f"session {session.id}: guessed roles therapist={a!r}, client={b!r} from questions, reflections, "
           f"who spoke first and talk share (score {scores[a]:.2f} vs {scores[b]:.2f}); check, or pass --therapist"]
    for s in unknown:
        if s not in main:
            roles[s] = "other"
            out.append(f"session {session.id}: speaker {s!r} taken as 'other'")
    return out


def _therapist_score(session: Session, speaker: str, main: list[str]) -> float:
    utts = [u for u in session.utterances if u.speaker == speaker]
    total_words = sum(len(u.text.split()) for u in session.utterances if u.speaker in main) or 1
    share = sum(len(u.text.split()) for u in utts) / total_words
    questions = sum("?" in u.text for u in utts) / len(utts)
    reflections = sum(bool(_REFLECTION.search(u.text.strip())) for u in utts) / len(utts)
    first = 1.0 if session.utterances[0].speaker == speaker else 0.0
    return questions + reflections + 0.1 * first + 0.5 * (0.5 - share)


def _norm(name: str) -> str:
    """A speaker name as the readers store it (NFC, no zero-width characters, single spaces)."""
    from coder.io._common import clean

    return " ".join(clean(str(name)).split())
