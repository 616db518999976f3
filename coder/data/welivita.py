"""Welivita & Pu (COLING 2022) peer-support listener sentences mapped to the scheme.

Extra **training-only** data for therapist codes that MI demonstrations rarely show
(``directing``, ``confront_criticize``, ``affirmation``, ``empathic_validation``). It is
written forum text, not transcribed speech, and is never used for evaluation. Licence:
**CC BY-NC-SA 3.0** (non-commercial, share-alike): a model trained on it inherits those
terms and its model card must say so.

Mapping (one MITI-derived label per listener sentence → scheme codes):

==========================  ==============================  =======================================
Welivita label              scheme code(s)                  note
==========================  ==============================  =======================================
Closed Question             ``question_closed``
Open Question               ``question_open``
Simple Reflection           ``reflection_simple``
Complex Reflection          ``reflection_complex``
Give Information            ``information``
Advise with Permission      ``collaboration``               advice after permission is not
                                                            ``directing`` (guidelines' advice rule)
Emphasize Autonomy          ``collaboration``               "stresses the client's choice"
Affirm                      ``affirmation``
Support                     ``empathic_validation``         see limits below
Advise without Permission   ``directing``
Direct                      ``directing``
Warn                        ``directing``                   the scheme's ``directing`` "warns"
Confront                    ``confront_criticize``
Self-Disclose               — (sentence dropped)            see below
Other                       none (all-zero label)           greetings, thanks, sign-offs
==========================  ==============================  =======================================

Limits. *Support* (MITI/MISC "sympathetic, compassionate or understanding comments")
overlaps ``empathic_validation`` but is wider: it includes sympathy and well-wishing ("I'm
so sorry", "Sending hugs") that do not say the feeling is understandable; expect it to
teach a looser boundary than the guidelines draw. *Self-Disclose* is dropped: the forum
label does not say whether the disclosure moves the focus off the client, which is what
``self_disclosure_unhelpful`` requires, and in peer support most disclosures are offered as
solidarity; mapping them would teach "any disclosure is harmful". Sentences with no agreed
label (``-``) are dropped.

Because each sentence carries exactly one Welivita label, a sentence is a known negative
only for codes that Welivita's labels can express (:data:`OBSERVED_CODES`); the other
therapist codes (``affect_exploration``, ``metacommunication``, ``dismiss_invalidate``,
``rigid_structure``) are masked out in training.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd

from coder.data.paths import default_welivita_dir
from coder.errors import InputError

WELIVITA_LICENCE = "CC BY-NC-SA 3.0"
WELIVITA_LABELS = (
    "Closed Question", "Open Question", "Simple Reflection", "Complex Reflection", "Give Information",
    "Advise with Permission", "Affirm", "Emphasize Autonomy", "Support", "Advise without Permission",
    "Confront", "Direct", "Warn", "Self-Disclose", "Other",
)
#: Welivita label → scheme codes (labels absent here are dropped).
LABEL_MAP: dict[str, tuple[str, ...]] = {
    "Closed Question": ("question_closed",),
    "Open Question": ("question_open",),
    "Simple Reflection": ("reflection_simple",),
    "Complex Reflection": ("reflection_complex",),
    "Give Information": ("information",),
    "Advise with Permission": ("collaboration",),
    "Emphasize Autonomy": ("collaboration",),
    "Affirm": ("affirmation",),
    "Support": ("empathic_validation",),
    "Advise without Permission": ("directing",),
    "Direct": ("directing",),
    "Warn": ("directing",),
    "Confront": ("confront_criticize",),
    "Other": (),
}
DROPPED_LABELS = frozenset({"Self-Disclose"})
#: Therapist codes a Welivita label can assert or deny (the ``label_mask`` for these rows).
OBSERVED_CODES = (
    "question_open", "reflection_simple", "reflection_complex", "affirmation", "empathic_validation",
    "collaboration", "question_closed", "information", "directing", "confront_criticize",
    "self_disclosure_unhelpful",
)
#: How many previous forum utterances are kept as context.
MAX_CONTEXT = 4


def map_label(label: str) -> tuple[str, ...] | None:
    """Scheme codes for one Welivita label, or None when the sentence is dropped.

    Parameters
    ----------
    label : str
        One of :data:`WELIVITA_LABELS` (case and surrounding space ignored).

    Raises
    ------
    KeyError
        For a label outside the 15.
    """
    name = {w.lower(): w for w in WELIVITA_LABELS}.get(str(label).strip().lower())
    if name is None:
        raise KeyError(f"unknown Welivita label {label!r}")
    return None if name in DROPPED_LABELS else LABEL_MAP[name]


def normalise_text(text: str) -> str:
    """The de-duplication key: NFKC, lower case, curly quotes straightened, spaces collapsed."""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip()


def _subset_rows(path: Path) -> list[dict]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    need = {"dialog_id", "turn", "author", "text", "final agreed label"}
    if not need <= set(frame.columns):
        raise InputError(path, f"missing column(s) {', '.join(sorted(need - set(frame.columns)))}")
    rows, history, last_dialog = [], [], None
    for i, r in enumerate(frame.to_dict("records")):
        dialog, author, text = r["dialog_id"], r["author"].strip().lower(), str(r["text"]).strip()
        if dialog != last_dialog:
            history, last_dialog = [], dialog
        role = "therapist" if author == "listener" else "client"
        label = r["final agreed label"].strip()
        if role == "therapist" and text and label and label != "-":
            rows.append({"example_id": f"welivita:subset:{i}", "dialog_id": dialog, "text": text,
                         "context": list(history[-MAX_CONTEXT:]), "welivita_label": label, "origin": "subset"})
        if text:
            history.append(("[T] " if role == "therapist" else "[C] ") + " ".join(text.split()))
    return rows


def _gold_rows(path: Path) -> list[dict]:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if not {"Text", "Ground truth"} <= set(frame.columns):
        raise InputError(path, "missing column Text or Ground truth")
    return [{"example_id": f"welivita:gold_test:{i}", "dialog_id": "", "text": str(t).strip(), "context": [],
             "welivita_label": str(g).strip(), "origin": "gold_test"}
            for i, (t, g) in enumerate(zip(frame["Text"], frame["Ground truth"])) if str(t).strip()]


def load_welivita(directory: str | Path | None = None) -> pd.DataFrame:
    """The Welivita subset and gold-test sentences, mapped, de-duplicated and flagged.

    Parameters
    ----------
    directory : path-like, optional
        Holds ``MI_Dataset_subset.csv`` and ``MI_gold_test.csv``; defaults to
        ``../shared/data/welivita-mi``.

    Returns
    -------
    pandas.DataFrame
        ``example_id, dialog_id, origin (subset|gold_test), role (therapist), text, context``
        (list of previous forum utterances with ``[T]``/``[C]`` markers; empty for the gold
        file), ``welivita_label, codes`` (list), ``source`` ("welivita"), ``licence``.
        Sentences whose normalised text occurs more than once are kept once (subset first,
        so the copy with context wins); a text whose copies carry different labels is
        dropped altogether; dropped labels (Self-Disclose, "-") are removed.
    """
    directory = Path(directory) if directory is not None else default_welivita_dir()
    subset, gold = directory / "MI_Dataset_subset.csv", directory / "MI_gold_test.csv"
    for p in (subset, gold):
        if not p.is_file():
            raise InputError(p, "Welivita file not found; pass its folder or set ALLIANCE_CODER_SHARED_DATA")
    frame = pd.DataFrame(_subset_rows(subset) + _gold_rows(gold))
    frame["key"] = frame.text.map(normalise_text)
    conflicting = frame.groupby("key").welivita_label.transform("nunique") > 1
    frame = frame[~conflicting].drop_duplicates("key", keep="first")
    frame["codes"] = frame.welivita_label.map(map_label)
    frame = frame[frame.codes.notna()].copy()
    frame["codes"] = frame.codes.map(list)
    frame["role"] = "therapist"
    frame["source"] = "welivita"
    frame["licence"] = WELIVITA_LICENCE
    columns = ["example_id", "dialog_id", "origin", "role", "text", "context", "welivita_label", "codes",
               "source", "licence"]
    return frame[columns].reset_index(drop=True)
