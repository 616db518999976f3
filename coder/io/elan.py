"""ELAN ``.eaf``: one tier per speaker (the tier's PARTICIPANT attribute, else its name).

Read with the standard library's XML parser, so files without the ``xsi`` schema attribute, or
with time slots that have no time (unaligned annotations), read too. Annotations are ordered
by time (by time-slot order when some slots have no time). Dependent tiers (translations,
codes) and empty annotations are skipped and counted with their words; an annotation that
refers to an undefined time slot is an error naming it and its line.
"""

from __future__ import annotations

import re
from pathlib import Path

from coder.errors import InputError
from coder.io._common import MAX_SECONDS, build_session, read_bytes, skip
from coder.session import Session


def _annotation_lines(data: bytes) -> dict[str, int]:
    """Line of each ``ANNOTATION_ID`` in the file, for error messages and skip records."""
    text = data.decode("utf-8", "replace")
    out: dict[str, int] = {}
    line, pos = 1, 0
    for m in re.finditer(r'ANNOTATION_ID\s*=\s*["\']([^"\']*)["\']', text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        out.setdefault(m.group(1), line)
    return out


def read_eaf(path: str | Path, *, session_id: str | None = None) -> list[Session]:
    """Read an ELAN annotation file into one session, annotations ordered by start time."""
    import xml.etree.ElementTree as ET

    path = Path(path)
    data = read_bytes(path)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise InputError(path, f"malformed ELAN XML: {err.msg if hasattr(err, 'msg') else err}",
                         line=err.position[0]) from None
    if root.tag != "ANNOTATION_DOCUMENT":
        raise InputError(path, f"not an ELAN file: the root element is <{str(root.tag)[:40]}>, "
                         "not <ANNOTATION_DOCUMENT>", line=1)
    lines = _annotation_lines(data)
    slots: dict[str, tuple[int, float | None]] = {}
    for k, slot in enumerate(root.iter("TIME_SLOT")):
        sid, value = slot.get("TIME_SLOT_ID"), slot.get("TIME_VALUE")
        if not sid:
            raise InputError(path, f"time slot {k} has no TIME_SLOT_ID")
        ms = value.strip() if value is not None else None
        if ms is not None and not (ms.isascii() and ms.isdigit() and int(ms) <= MAX_SECONDS * 1000):
            raise InputError(path, f"time slot {sid!r} has TIME_VALUE {value[:20]!r}, not milliseconds "
                             "from 0 to 24 hours")
        slots[sid] = (k, int(ms) / 1000 if ms is not None else None)
    units, skipped = [], []
    for t, tier in enumerate(root.iter("TIER")):
        name = tier.get("TIER_ID") or f"tier {t}"
        speaker = (tier.get("PARTICIPANT") or "").strip() or name
        for ann in tier.iter("ANNOTATION"):
            for child in ann:
                value = child.findtext("ANNOTATION_VALUE") or ""
                aid = child.get("ANNOTATION_ID")
                if tier.get("PARENT_REF") or child.tag != "ALIGNABLE_ANNOTATION":
                    skipped.append(skip(lines.get(aid), "dependent tier", value))
                    continue
                refs = [child.get("TIME_SLOT_REF1"), child.get("TIME_SLOT_REF2")]
                for ref in refs:
                    if ref not in slots:
                        raise InputError(path, f"annotation {aid!r} in tier {name!r} refers to time slot {ref!r}, "
                                         "which the TIME_ORDER does not define", line=lines.get(aid))
                if not value.strip():
                    skipped.append(skip(lines.get(aid), "empty annotation"))
                    continue
                (k1, start), (k2, end) = slots[refs[0]], slots[refs[1]]
                units.append({"speaker": speaker, "start": start, "end": end, "text": value,
                              "line": lines.get(aid), "tier": name, "_order": (k1, k2)})
    if not units:
        raise InputError(path, "no annotations with text in any speaker tier")
    if all(u["start"] is not None and u["end"] is not None for u in units):
        units.sort(key=lambda u: (u["start"], u["end"]))
    else:
        units.sort(key=lambda u: u["_order"])
    for u in units:
        del u["_order"]
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
