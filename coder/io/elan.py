"""ELAN ``.eaf``: one tier per speaker (the tier's PARTICIPANT attribute, else its name).

Dependent tiers (translations, codes) and empty annotations are skipped and counted.
"""

from __future__ import annotations

from pathlib import Path

from coder.errors import InputError
from coder.io._common import build_session, read_bytes
from coder.session import Session


def read_eaf(path: str | Path, *, session_id: str | None = None) -> list[Session]:
    """Read an ELAN annotation file into one session, annotations ordered by start time."""
    import xml.etree.ElementTree as ET

    import pympi

    path = Path(path)
    data = read_bytes(path)
    try:
        ET.fromstring(data)
    except ET.ParseError as err:
        raise InputError(path, f"malformed ELAN XML: {err.msg if hasattr(err, 'msg') else err}",
                         line=err.position[0]) from None
    try:
        eaf = pympi.Elan.Eaf(str(path))
    except Exception as err:  # pympi raises bare exceptions on schema problems
        raise InputError(path, f"not a readable ELAN file ({type(err).__name__}: {err})") from None
    units, skipped = [], []
    for tier, (_aligned, _ref, attrs, _) in eaf.tiers.items():
        if attrs.get("PARENT_REF"):
            skipped.append((None, f"dependent tier {tier!r}"))
            continue
        speaker = attrs.get("PARTICIPANT") or tier
        for start, end, value in eaf.get_annotation_data_for_tier(tier):
            if not value.strip():
                skipped.append((None, f"empty annotation in tier {tier!r}"))
                continue
            units.append({"speaker": speaker, "start": start / 1000, "end": end / 1000, "text": value,
                          "line": None, "tier": tier})
    units.sort(key=lambda u: (u["start"], u["end"]))
    if not units:
        raise InputError(path, "no annotations with text in any speaker tier")
    return [build_session(session_id or path.stem, units, meta={"skipped": skipped}, path=path)]


def write_eaf(sessions: list[Session], path: str | Path) -> None:
    """Write one session as ELAN, one tier per speaker (needs times on every utterance)."""
    import pympi

    if len(sessions) != 1:
        raise ValueError("an ELAN file holds one session")
    eaf = pympi.Elan.Eaf()
    eaf.remove_tier("default")
    for u in sessions[0].utterances:
        if u.start is None or u.end is None:
            raise ValueError("ELAN needs start and end times on every utterance")
        if u.speaker not in eaf.tiers:
            eaf.add_tier(u.speaker, part=u.speaker)
        eaf.add_annotation(u.speaker, round(u.start * 1000), round(u.end * 1000), u.text)
    eaf.to_file(str(path))
