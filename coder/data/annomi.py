"""AnnoMI (Wu et al. 2022, 2023) loaded and mapped to the coding scheme.

One row per (transcript_id, utterance_id). Four transcripts (7, 27, 55, 130) were coded by
ten annotators; their label fields are reduced to one value per utterance by majority vote
(see :func:`majority_vote`). The text is read from the shared CSV at build time only.

Mapping (``shared/coding-scheme.md``, "Mapping from AnnoMI"):

======================================  =====================================================
AnnoMI field = value                    scheme code
======================================  =====================================================
question_subtype = open / closed        ``question_open`` / ``question_closed``
reflection_subtype = simple / complex   ``reflection_simple`` / ``reflection_complex``
therapist_input_subtype = information   ``information``
therapist_input_subtype = options       ``collaboration`` (automatic)
therapist_input_subtype = negotiation   ``collaboration`` (automatic)
therapist_input_subtype = advice        none here: a *candidate* for ``directing``, which the
                                        project annotator decides (guidelines' advice rule)
client_talk_type = change / sustain /   ``change_talk`` / ``sustain_talk`` / ``neutral_talk``
neutral
======================================  =====================================================

``mi_quality`` and ``topic`` are transcript metadata for stratifying splits and for
evaluation only; they are never model inputs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from coder.data.paths import default_annomi_path
from coder.errors import InputError
from coder.scheme import ALL_CODES, TALK_TYPES

ANNOMI_LICENCE = "Public Domain"
KEYS = ["transcript_id", "utterance_id"]
#: AnnoMI's label fields, voted on one by one for the multi-annotator transcripts.
VOTED_FIELDS = (
    "therapist_input_subtype",
    "reflection_subtype",
    "question_subtype",
    "main_therapist_behaviour",
    "client_talk_type",
)
REQUIRED_COLUMNS = (
    "transcript_id", "mi_quality", "topic", "utterance_id", "interlocutor", "utterance_text",
    "annotator_id", *VOTED_FIELDS,
)
#: (field, value) → scheme code.
FIELD_MAP: dict[tuple[str, str], str] = {
    ("question_subtype", "open"): "question_open",
    ("question_subtype", "closed"): "question_closed",
    ("reflection_subtype", "simple"): "reflection_simple",
    ("reflection_subtype", "complex"): "reflection_complex",
    ("therapist_input_subtype", "information"): "information",
    ("therapist_input_subtype", "options"): "collaboration",
    ("therapist_input_subtype", "negotiation"): "collaboration",
    ("client_talk_type", "change"): "change_talk",
    ("client_talk_type", "sustain"): "sustain_talk",
    ("client_talk_type", "neutral"): "neutral_talk",
}
#: Codes AnnoMI's experts decide on every utterance of a role ("reviewed" = present or absent).
ANNOMI_DENSE_CODES = {
    "therapist": ("question_open", "question_closed", "reflection_simple", "reflection_complex", "information"),
    "client": TALK_TYPES,
}
#: The AnnoMI value that makes an utterance a candidate for ``directing``.
ADVICE = ("therapist_input_subtype", "advice")
#: AnnoMI values that add ``collaboration`` automatically.
AUTO_COLLABORATION = {("therapist_input_subtype", "options"), ("therapist_input_subtype", "negotiation")}


def sort_codes(codes) -> list[str]:
    """Unique codes in scheme order (``coder.scheme.ALL_CODES``), unknown codes last."""
    order = {c: i for i, c in enumerate(ALL_CODES)}
    return sorted(set(codes), key=lambda c: (order.get(c, len(order)), c))


def map_fields(fields: dict) -> tuple[list[str], bool, bool]:
    """Map one utterance's AnnoMI label fields to scheme codes.

    Parameters
    ----------
    fields : dict
        AnnoMI field name → value (``"n/a"`` or missing where a field does not apply).

    Returns
    -------
    codes : list of str
        AnnoMI-derived scheme codes, in scheme order.
    advice_candidate : bool
        True when AnnoMI marked the utterance as ``advice``: a candidate for ``directing``,
        which only the project annotator's code confirms.
    auto_collaboration : bool
        True when ``collaboration`` came from AnnoMI's ``options`` or ``negotiation``.
    """
    codes = []
    auto = False
    for field in ("question_subtype", "reflection_subtype", "therapist_input_subtype", "client_talk_type"):
        value = str(fields.get(field, "n/a")).strip().lower()
        code = FIELD_MAP.get((field, value))
        if code:
            codes.append(code)
        auto = auto or (field, value) in AUTO_COLLABORATION
    advice = str(fields.get(ADVICE[0], "")).strip().lower() == ADVICE[1]
    return sort_codes(codes), advice, auto


def read_annomi_csv(path: str | Path | None = None) -> pd.DataFrame:
    """The raw AnnoMI CSV, every column as a string, one row per annotator × utterance.

    Parameters
    ----------
    path : path-like, optional
        Defaults to ``../shared/data/annomi/AnnoMI-full.csv`` next to the repository.

    Raises
    ------
    coder.errors.InputError
        When the file is missing or lacks a required column.
    """
    path = Path(path) if path is not None else default_annomi_path()
    if not path.is_file():
        raise InputError(path, "AnnoMI CSV not found; pass its path or set ALLIANCE_CODER_SHARED_DATA")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(path, f"not an AnnoMI file: missing column(s) {', '.join(missing)}")
    for col in ("transcript_id", "utterance_id", "annotator_id"):
        frame[col] = frame[col].str.strip()
    return frame


def majority_vote(frame: pd.DataFrame, fields=VOTED_FIELDS, *, annotator: str = "annotator_id") -> pd.DataFrame:
    """One row per (transcript_id, utterance_id): each label field's most frequent value.

    Every field is voted on separately, ``"n/a"`` counting as a value. A tie goes to the
    value given by the lowest-numbered annotator among the tied values, so a transcript
    coded once keeps its labels unchanged. Non-label columns are taken from the first row.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows as in AnnoMI: the keys, ``annotator``, and ``fields``.
    fields : sequence of str
        The label fields to vote on.
    annotator : str
        The column naming the annotator.

    Returns
    -------
    pandas.DataFrame
        One row per key, in order of first appearance, with ``n_annotators`` added.
    """
    frame = frame.copy()
    rank = pd.to_numeric(frame[annotator], errors="coerce")
    frame["_rank"] = rank if rank.notna().all() else frame[annotator].rank(method="dense")
    frame["_pos"] = range(len(frame))
    out = frame.sort_values("_pos").drop_duplicates(KEYS, keep="first").set_index(KEYS)
    out["n_annotators"] = frame.groupby(KEYS)[annotator].nunique()
    for field in fields:
        tally = frame.groupby([*KEYS, field]).agg(n=("_pos", "size"), first=("_rank", "min")).reset_index()
        tally = tally.sort_values([*KEYS, "n", "first"], ascending=[True, True, False, True])
        winner = tally.drop_duplicates(KEYS, keep="first").set_index(KEYS)[field]
        out[field] = winner.reindex(out.index)
    out = out.sort_values("_pos").reset_index()
    return out.drop(columns=["_rank", "_pos"])


def load_annomi(path: str | Path | None = None) -> pd.DataFrame:
    """AnnoMI as one row per utterance with its scheme codes.

    Parameters
    ----------
    path : path-like, optional
        The AnnoMI CSV; defaults to ``../shared/data/annomi/AnnoMI-full.csv``.

    Returns
    -------
    pandas.DataFrame
        Columns ``transcript_id, utterance_id`` (strings, as in the file), ``order`` (int
        position in the transcript), ``role``, ``text``, ``mi_quality``, ``topic``,
        ``n_annotators``, the voted AnnoMI fields, ``annomi_codes`` (list),
        ``advice_candidate`` and ``auto_collaboration`` (bool); sorted by transcript and order.
    """
    raw = read_annomi_csv(path)
    voted = majority_vote(raw)
    mapped = [map_fields(row) for row in voted[list(VOTED_FIELDS)].to_dict("records")]
    voted["annomi_codes"] = [m[0] for m in mapped]
    voted["advice_candidate"] = [m[1] for m in mapped]
    voted["auto_collaboration"] = [m[2] for m in mapped]
    voted["role"] = voted["interlocutor"].str.strip().str.lower()
    voted["text"] = voted["utterance_text"]
    voted["order"] = pd.to_numeric(voted["utterance_id"]).astype(int)
    voted["_t"] = pd.to_numeric(voted["transcript_id"]).astype(int)
    voted = voted.sort_values(["_t", "order"]).reset_index(drop=True)
    columns = ["transcript_id", "utterance_id", "order", "role", "text", "mi_quality", "topic",
               "n_annotators", *VOTED_FIELDS, "annomi_codes", "advice_candidate", "auto_collaboration"]
    return voted[columns]


def transcript_metadata(annomi: pd.DataFrame | str | Path | None = None) -> pd.DataFrame:
    """Transcript-level metadata for stratification and evaluation (never a model input).

    Parameters
    ----------
    annomi : pandas.DataFrame or path-like, optional
        The output of :func:`load_annomi`, or a path to load it from.

    Returns
    -------
    pandas.DataFrame
        ``transcript_id, mi_quality, topic, n_utterances``, one row per transcript.
    """
    frame = annomi if isinstance(annomi, pd.DataFrame) else load_annomi(annomi)
    meta = frame.groupby("transcript_id", sort=False).agg(
        mi_quality=("mi_quality", "first"), topic=("topic", "first"), n_utterances=("utterance_id", "size"))
    return meta.reset_index()
