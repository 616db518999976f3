"""Corrections to and from Label Studio's JSON and plain CSV.

Label Studio
------------
:func:`export_tasks` writes one task per therapist or client utterance::

    {"data": {"text", "context", "session_id", "utterance_id", "speaker", "role",
              "model_codes", "model_scores": {code: p}},
     "predictions": [{"model_version": "model:<v>", "score": s,
                      "result": [{"from_name": "codes", "to_name": "text", "type": "choices",
                                  "value": {"choices": [...]}, "score": s}]}],
     "annotations": [...]}          # each annotator's current labels, when asked for

with :func:`label_config` as the project's labelling interface (one multiple ``Choices`` over
the scheme's codes, each with its definition as hint). ``data.text_hash`` is the text's
fingerprint. Annotations are the corrections attached to the table under review; the orphaned
ones (their text is no longer in the table) are written beside the tasks to
``<stem>.orphaned.csv`` instead, never put on a task by id. The prediction score is the model's
mean confidence in its decisions, mean of max(p, 1 - p); the per-code probabilities travel in
``data.model_scores``. :func:`import_annotations` reads Label Studio's JSON export of
completed annotations (``choices`` or ``taxonomy`` results; cancelled annotations skipped)
and its JSON-MIN export, and appends each annotation to the store as a correction
(``source="labelstudio"``); importing the same export twice adds nothing. A task whose text
is not the text now at its keys is kept as an orphaned correction, not attached.

CSV
---
:func:`export_corrections_csv` writes current labels, attached then orphaned (column
``status``), or the whole audit trail; :func:`import_corrections_csv` reads ``session_id,
utterance_id, codes`` (``;``-joined) with optional ``annotator``, ``guideline_version``,
``note`` and ``text_hash``/``text``/``role`` columns: a row whose text is known and differs
from the text now at its keys is kept as an orphaned correction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pandas as pd

from coder.review.definitions import DEFINITIONS
from coder.review.store import REVIEWABLE_ROLES, ReviewError, Store, annotator_name, split_codes
from coder.scheme import ALL_CODES

ROLE_MARKERS = {"therapist": "[T]", "client": "[C]"}


@dataclass
class LabelStudioConfig:
    """Names used in the Label Studio tasks and labelling interface.

    Attributes
    ----------
    from_name, to_name : str
        The ``Choices`` control and the ``Text`` object it labels.
    context_size : int
        Previous utterances shown above the target (``data.context``).
    users : dict
        Label Studio user id (int) → annotator name, for exports that give ids only.
    """

    from_name: str = "codes"
    to_name: str = "text"
    context_size: int = 3
    users: dict[int, str] = field(default_factory=dict)


def label_config(config: LabelStudioConfig | None = None) -> str:
    """The Label Studio labelling interface (XML) for the scheme's codes."""
    cfg = config or LabelStudioConfig()
    choices = "\n".join(f"    <Choice value={quoteattr(c)} hint={quoteattr(DEFINITIONS[c])}/>" for c in ALL_CODES)
    return (
        "<View>\n"
        '  <Header value="$speaker ($role), session $session_id, utterance $utterance_id"/>\n'
        '  <Text name="context" value="$context"/>\n'
        f'  <Text name={quoteattr(cfg.to_name)} value="$text"/>\n'
        f"  <Choices name={quoteattr(cfg.from_name)} toName={quoteattr(cfg.to_name)} choice=\"multiple\" "
        'showInline="true">\n'
        f"{choices}\n  </Choices>\n</View>\n")


def _confidence(proba: dict[str, float]) -> float:
    return round(sum(max(p, 1 - p) for p in proba.values()) / len(proba), 4) if proba else 0.0


def _result(codes: list[str], cfg: LabelStudioConfig, score: float | None = None) -> list[dict]:
    item = {"from_name": cfg.from_name, "to_name": cfg.to_name, "type": "choices", "value": {"choices": codes}}
    if score is not None:
        item["score"] = score
    return [item]


def export_tasks(store: Store, path: str | Path | None = None, *, annotations: bool = True,
                 config: LabelStudioConfig | None = None) -> list[dict]:
    """Label Studio tasks with the model's predictions (and everyone's current labels).

    Parameters
    ----------
    store : Store
    path : path-like, optional
        Write the tasks here as JSON, and the labelling interface beside it
        (``<stem>.label_config.xml``).
    annotations : bool
        Include each annotator's current labels as completed annotations.
    config : LabelStudioConfig, optional

    Returns
    -------
    list of dict
    """
    cfg = config or LabelStudioConfig()
    model = store.meta().get("model_coder_id", "model")
    current = store.current_labels()
    by_key: dict[tuple, list] = {}
    for r in current.itertuples(index=False):
        by_key.setdefault((r.session_id, r.utterance_id), []).append(r)
    tasks, history = [], {}
    for u in store.utterances().itertuples(index=False):
        lines = history.setdefault(u.session_id, [])
        if u.role in REVIEWABLE_ROLES:
            score = _confidence(u.proba)
            task: dict[str, Any] = {
                "id": len(tasks) + 1,
                "data": {"text": u.text, "context": "\n".join(lines[-cfg.context_size:]) if cfg.context_size else "",
                         "session_id": u.session_id, "utterance_id": u.utterance_id, "speaker": u.speaker,
                         "role": u.role, "text_hash": u.text_hash, "model_codes": ";".join(u.model_codes),
                         "model_scores": {c: round(p, 4) for c, p in u.proba.items()}},
                "predictions": [{"model_version": model, "score": score,
                                 "result": _result(list(u.model_codes), cfg, score)}],
            }
            if annotations:
                task["annotations"] = [
                    {"id": int(r.id), "completed_by": {"email": r.annotator}, "result": _result(list(r.codes), cfg),
                     "was_cancelled": False, "created_at": r.created_at, "updated_at": r.created_at,
                     "guideline_version": r.guideline_version}
                    for r in by_key.get((u.session_id, u.utterance_id), [])]
            tasks.append(task)
        lines.append(f"{ROLE_MARKERS.get(u.role, '[O]')} {u.speaker}: {u.text}")
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(tasks, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        path.with_name(path.stem + ".label_config.xml").write_text(label_config(cfg), encoding="utf-8")
        _orphan_frame(store).to_csv(orphans_path(path), index=False)
    return tasks


def orphans_path(tasks_path: str | Path) -> Path:
    """``<stem>.orphaned.csv`` beside a tasks file: the corrections no task carries."""
    tasks_path = Path(tasks_path)
    return tasks_path.with_name(tasks_path.stem + ".orphaned.csv")


#: Columns of the label CSV (current labels) and of the orphans file.
LABEL_CSV_COLUMNS = ["annotator", "session_id", "utterance_id", "codes", "created_at", "guideline_version", "source",
                     "status", "verified", "role", "text_hash", "same_text_at", "text"]


def _orphan_frame(store: Store) -> pd.DataFrame:
    frame = store.orphans().drop(columns="codes").rename(columns={"new_codes": "codes"})
    return frame.reindex(columns=LABEL_CSV_COLUMNS)


def _annotator(annotation: dict, cfg: LabelStudioConfig, override: str | None) -> str:
    if override:
        return annotator_name(override)
    who = annotation.get("completed_by", annotation.get("annotator"))
    if isinstance(who, dict):
        if who.get("id") in cfg.users:
            return annotator_name(cfg.users[who["id"]])
        name = who.get("username") or who.get("email") or " ".join(
            filter(None, (who.get("first_name"), who.get("last_name")))) or who.get("id")
        return annotator_name(str(name))
    if isinstance(who, int) or (isinstance(who, str) and who.isdigit()):
        return annotator_name(cfg.users.get(int(who), f"labelstudio-{who}"))
    if isinstance(who, str) and who:
        return annotator_name(who)
    raise ReviewError(None, "a Label Studio annotation names no annotator; pass --annotator NAME")


def codes_from_result(result: list[dict], cfg: LabelStudioConfig | None = None) -> list[str]:
    """The codes chosen in a Label Studio ``result`` list (``choices``, or ``taxonomy`` leaves)."""
    codes: list[str] = []
    for item in result or []:
        value = item.get("value", {})
        if "choices" in value:
            codes += [str(c) for c in value["choices"]]
        for path in value.get("taxonomy", []):
            codes.append(str(path[-1]) if isinstance(path, list) else str(path))
    return codes


def _min_codes(value) -> list[str]:
    if isinstance(value, dict):
        value = value.get("choices", [])
    if isinstance(value, str):
        return split_codes(value.replace(",", ";"))
    return [str(v) for v in value or []]


def import_annotations(store: Store, source: str | Path | list, *, annotator: str | None = None,
                       config: LabelStudioConfig | None = None) -> int:
    """Append the completed annotations of a Label Studio export to the store.

    Parameters
    ----------
    store : Store
    source : path-like or list
        The JSON export (full, or JSON-MIN) or its parsed list of tasks.
    annotator : str, optional
        Record every annotation under this name (else from ``completed_by``).
    config : LabelStudioConfig, optional

    Returns
    -------
    int
        Corrections appended (annotations already imported are skipped).

    Raises
    ------
    ReviewError
        For a task that names no known utterance or a code its role may not carry; nothing
        is saved then.
    """
    cfg = config or LabelStudioConfig()
    where = source if isinstance(source, (str, Path)) else None
    tasks = json.loads(Path(source).read_text(encoding="utf-8")) if where else source
    if isinstance(tasks, dict):
        tasks = [tasks]
    seen = {(r.annotator, r.session_id, r.utterance_id, r.note)
            for r in store.audit_trail().itertuples(index=False) if r.source == "labelstudio"}
    items = []
    for n, task in enumerate(tasks, 1):
        data = task.get("data", task)
        if "session_id" not in data or "utterance_id" not in data:
            raise ReviewError(where, f"task {task.get('id', n)} has no session_id/utterance_id in its data")
        sid, uid = str(data["session_id"]), str(data["utterance_id"])
        if "data" not in task:  # JSON-MIN: one row per annotation, the control's value under its name
            annotations = [{"completed_by": task.get("annotator"), "codes": _min_codes(task.get(cfg.from_name)),
                            "id": task.get("annotation_id", task.get("id")),
                            "updated_at": task.get("updated_at", "")}]
        else:
            annotations = [dict(a, codes=codes_from_result(a.get("result", []), cfg))
                           for a in task.get("annotations") or [] if not a.get("was_cancelled")]
        for a in annotations:
            name = _annotator(a, cfg, annotator)
            note = f"labelstudio task {task.get('id', n)} annotation {a.get('id', '')} " \
                   f"updated {a.get('updated_at') or a.get('created_at') or ''}".strip()
            if (name, sid, uid, note) in seen:
                continue
            seen.add((name, sid, uid, note))
            items.append({"annotator": name, "session_id": sid, "utterance_id": uid, "codes": a["codes"],
                          "guideline_version": a.get("guideline_version"), "note": note,
                          "text_hash": str(data["text_hash"]) if data.get("text_hash") else None,
                          "text": data.get("text") if isinstance(data.get("text"), str) else None,
                          "role": data.get("role") or None})
    try:
        return len(store.save_corrections(items, source="labelstudio", mismatch="orphan"))
    except ReviewError as err:
        raise ReviewError(where, err.message) from None


def export_corrections_csv(store: Store, path: str | Path | None = None, *, audit: bool = False) -> pd.DataFrame:
    """Current labels or, with ``audit``, every correction; written to ``path`` when given.

    Current labels (:data:`LABEL_CSV_COLUMNS`): the attached ones in transcript order, then the
    orphaned ones (``status``), each with the role, fingerprint and text it was made on; for an
    orphan, ``same_text_at`` names the one utterance of its session that now has its text, if
    exactly one does (a hint; nothing is re-attached). The audit trail has ``status`` too.
    """
    if audit:
        frame = store.audit_trail()
    else:
        attached = store.current_labels().drop(columns="codes").rename(columns={"new_codes": "codes"})
        attached = attached.reindex(columns=LABEL_CSV_COLUMNS)
        parts = [f for f in (attached, _orphan_frame(store)) if len(f)]
        frame = pd.concat(parts, ignore_index=True) if parts else attached
        frame["same_text_at"] = frame["same_text_at"].astype(object).where(frame["same_text_at"].notna(), "")
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(path, index=False)
    return frame


def import_corrections_csv(store: Store, path: str | Path, *, annotator: str | None = None) -> int:
    """Append the corrections of a CSV (``session_id, utterance_id, codes`` or ``new_codes``;
    optional ``annotator``, ``guideline_version``, ``note``, ``text_hash``, ``text``, ``role``).

    A row whose ``text_hash`` (or ``text``) is not the text now at its keys is kept as an
    orphaned correction. Returns how many were saved.
    """
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    codes_col = "codes" if "codes" in frame.columns else "new_codes" if "new_codes" in frame.columns else None
    missing = [c for c in ("session_id", "utterance_id") if c not in frame.columns] + ([] if codes_col else ["codes"])
    if missing:
        raise ReviewError(path, f"missing column(s): {', '.join(missing)}")
    if annotator is None and "annotator" not in frame.columns:
        raise ReviewError(path, "no annotator column; pass --annotator NAME")
    items = [{"annotator": annotator or r["annotator"], "session_id": r["session_id"],
              "utterance_id": r["utterance_id"], "codes": split_codes(r[codes_col]),
              "guideline_version": r.get("guideline_version") or None, "note": r.get("note", ""),
              "text_hash": r.get("text_hash") or None, "text": r.get("text") or None,
              "role": r.get("role") or None, "verified": r.get("verified", "1")}
             for r in frame.to_dict("records")]
    try:
        return len(store.save_corrections(items, source="csv", mismatch="orphan"))
    except ReviewError as err:
        raise ReviewError(path, err.message) from None
