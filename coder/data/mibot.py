"""MIBot (Mahmood et al. 2025): real smokers talking to an MI chatbot, coded by the project.

The conversations are read from ``../shared/data/mibot/transcripts/*.json`` at build time; the
project stores only its own labels, keyed by ``(participant_id, utterance_number)``, in
``data/annotations/mibot/labels_*.csv`` with the columns
``participant_id, utterance_number, role, codes, annotator, guideline_version``. A
conversation counts only when every one of its utterances is labelled (empty codes = reviewed,
none applies). MIBot's own ``auto_misc_label`` (GPT-4o silver) is not used.

Licence of the conversations: CC BY-SA 4.0; a model trained on them lists them in its card.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from coder.data.constructed import mark
from coder.data.paths import ANNOTATIONS_DIR, csv_records, shared_data_dir
from coder.errors import InputError
from coder.scheme import TALK_TYPES, codes_for_role

MIBOT_LABELS_DIR = ANNOTATIONS_DIR / "mibot"
MIBOT_LABEL_COLUMNS = ["participant_id", "utterance_number", "role", "codes", "annotator", "guideline_version"]
MIBOT_LICENCE = "CC BY-SA 4.0"
ROLES = {"counsellor": "therapist", "client": "client"}


def default_mibot_dir() -> Path:
    """``../shared/data/mibot/transcripts``."""
    return shared_data_dir() / "mibot" / "transcripts"


def read_mibot_labels(path: str | Path | None = None) -> pd.DataFrame:
    """The project's MIBot labels (a file, or every ``labels_*.csv`` in a folder).

    Raises
    ------
    coder.errors.InputError
        On a missing column, an unknown or role-forbidden code, a client row without exactly
        one talk type, or an utterance labelled twice (file and line).
    """
    path = Path(path) if path is not None else MIBOT_LABELS_DIR
    files = sorted(path.glob("labels_*.csv")) if path.is_dir() else [path]
    rows, seen = [], set()
    for file in files:
        for line, r in csv_records(file, MIBOT_LABEL_COLUMNS):
            role = str(r["role"]).strip()
            codes = [c.strip() for c in str(r["codes"] or "").split(";") if c.strip()]
            allowed = set(codes_for_role(role))
            wrong = [c for c in codes if c not in allowed]
            if not allowed or wrong:
                what = f"role {role!r}" if not allowed else f"code {wrong[0]!r} for a {role}"
                raise InputError(file, f"unknown or not allowed: {what}", line=line)
            if role == "client" and sum(c in TALK_TYPES for c in codes) != 1:
                raise InputError(file, "a client utterance needs exactly one talk type", line=line)
            key = (str(r["participant_id"]).strip(), str(r["utterance_number"]).strip())
            if key in seen:
                raise InputError(file, f"utterance {key[0]}/{key[1]} labelled twice", line=line)
            seen.add(key)
            rows.append({"participant_id": key[0], "utterance_number": key[1], "role": role, "codes": codes,
                         "annotator": str(r["annotator"]).strip()})
    return pd.DataFrame(rows, columns=["participant_id", "utterance_number", "role", "codes", "annotator"])


def mibot_frame(labels: pd.DataFrame, *, transcripts: str | Path | None = None) -> pd.DataFrame:
    """Labelled MIBot utterances with their context, as train-only examples.

    Parameters
    ----------
    labels : pandas.DataFrame
        From :func:`read_mibot_labels`.
    transcripts : path-like, optional
        Folder of the conversation files (default :func:`default_mibot_dir`).

    Returns
    -------
    pandas.DataFrame
        ``example_id, transcript_id`` (``mibot:<participant_id>``), ``role, text, context``
        (list of every earlier utterance, marked), ``codes, source`` ("mibot"), ``licence``;
        only conversations whose every utterance is labelled.

    Raises
    ------
    coder.errors.InputError
        When a label's role differs from the conversation's speaker.
    """
    folder = Path(transcripts) if transcripts is not None else default_mibot_dir()
    by_key = {(p, u): (r, c) for p, u, r, c in zip(labels.participant_id, labels.utterance_number,
                                                     labels.role, labels.codes)}
    wanted = set(labels.participant_id)
    out = []
    for file in sorted(folder.glob("*.json")):
        conv = json.loads(file.read_text(encoding="utf-8"))
        pid = str(conv.get("participant_id"))
        if pid not in wanted:
            continue
        utts = conv.get("utterances", [])
        keys = [(pid, str(u.get("utterance_number"))) for u in utts]
        if not all(k in by_key for k in keys):
            continue  # a partly labelled conversation is left out whole
        history: list[str] = []
        for u, key in zip(utts, keys):
            role, codes = by_key[key]
            if ROLES.get(u.get("speaker")) != role:
                raise InputError(file, f"utterance {key[1]}: labelled {role}, spoken by {u.get('speaker')}")
            text = " ".join(str(u.get("text", "")).split())
            out.append({"example_id": f"mibot:{pid}:{key[1]}", "transcript_id": f"mibot:{pid}", "role": role,
                        "text": text, "context": list(history), "codes": list(codes), "source": "mibot",
                        "licence": MIBOT_LICENCE})
            history.append(mark(role, text))
    return pd.DataFrame(out)
