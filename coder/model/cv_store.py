"""A cross-validation's folds on disk, so that a killed ``evaluate --cv`` resumes where it stopped.

Files in the output folder:

``cv_recipe.json``
    What the folds depend on (:func:`cv_recipe`): coder and scheme versions, the training
    config (less :data:`RUNTIME_ONLY`), the data options, seed, validation share, every fold's
    transcripts and a SHA-256 of the examples. Written before the first fold trains; a resumed
    run must have the same recipe, or it stops (one line): folds of two recipes never mix.
``cv_fold{k}_per_code.csv``, ``cv_fold{k}_confusion.csv``, ``cv_fold{k}_predictions.csv``, ``cv_fold{k}_summary.json``
    Fold ``k``'s :class:`~coder.model.evaluate.Evaluation`, each file written atomically (a
    temporary file, then a rename) as soon as the fold is scored. A fold counts as done only
    when all four exist and its summary names this recipe's hash.
:data:`TABLES`
    The cross-validation tables, written at the end.
``.checkpoints/fold{k}.pt``
    The training state of a fold still training, after each finished epoch
    (``coder.model.checkpoint``), so a kill loses at most one epoch; removed once the fold is
    kept. Not for version control (``.gitignore``).

A stored fold reads back exactly (floats in their shortest round-trip form, ids as text), and
the tables always come from :func:`coder.model.evaluate.combine_folds`, so a run assembled from
stored folds writes the same tables as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from coder import __version__
from coder.errors import InputError
from coder.model.evaluate import CrossValidation, Evaluation, family_macro
from coder.scheme import SCHEME_VERSION
from coder.tables_io import atomic_writer, write_text

RECIPE_FILE = "cv_recipe.json"
#: The folder, inside a cross-validation's, of per-epoch checkpoints of folds still training.
CHECKPOINTS = ".checkpoints"
#: The files of one fold, after ``cv_fold{k}_``.
FOLD_PARTS = ("per_code.csv", "confusion.csv", "predictions.csv", "summary.json")
#: The final tables.
TABLES = ("cv_per_fold.csv", "cv_per_code.csv", "cv_summary.csv", "cv_talk_confusion.csv", "cv_predictions.csv")
#: Training settings that do not change what a fold learns: not part of the recipe.
RUNTIME_ONLY = ("threads",)
#: Example fields the recipe's digest covers.
DIGEST_FIELDS = ("example_id", "transcript_id", "utterance_id", "role", "text", "context", "labels", "label_mask",
                 "train_labels", "train_mask", "source")
#: pandas 3 parses floats exactly by default (and deprecates the option); pandas 2 needs asking.
_ROUND_TRIP = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
_TEXT_COLUMNS = ("transcript_id", "utterance_id", "role", "codes")
_CV_FILE = re.compile(r"^\.?cv_(recipe\.json|fold\d+_.*|per_fold\.csv|per_code\.csv|summary\.csv|"
                      r"talk_confusion\.csv|predictions\.csv)(\..*\.tmp)?$")


def examples_digest(examples: Iterable[dict]) -> str:
    """SHA-256 over the :data:`DIGEST_FIELDS` of ``examples``, in order (text is hashed, never stored)."""
    h = hashlib.sha256()
    for r in examples:
        h.update(json.dumps([r.get(k) for k in DIGEST_FIELDS], default=str).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def cv_recipe(train_config: dict, data: dict, folds: Sequence[tuple[Sequence[str], Sequence[str]]],
              records: Sequence[dict], extra: Sequence[dict], *, cv_all: bool, validation_share: float,
              seed: int) -> dict:
    """Everything the folds' results depend on, as JSON-ready data.

    Parameters
    ----------
    train_config : dict
        ``dataclasses.asdict(TrainConfig)``; :data:`RUNTIME_ONLY` keys are left out.
    data : dict
        The corpus options (``coder.data.build.build_dataset`` keyword arguments).
    folds : sequence of (fit ids, held-out ids)
    records, extra : sequence of dict
        The evaluation-grade and the train-only examples (digested, see :func:`examples_digest`).
    cv_all : bool
        Whether the test transcripts are folded too.
    validation_share : float
    seed : int
        Seed of the folds and of each fold's validation draw.
    """
    recipe = {"coder_version": __version__, "scheme_version": SCHEME_VERSION, "k": len(folds), "cv_all": cv_all,
              "seed": seed, "validation_share": validation_share,
              "train_config": {k: v for k, v in train_config.items() if k not in RUNTIME_ONLY},
              "data": dict(data), "folds": [{"fit": list(f), "held_out": list(h)} for f, h in folds],
              "examples": {"evaluated": len(records), "train_only": len(extra),
                           "sha256": examples_digest([*records, *extra])}}
    return json.loads(json.dumps(recipe, default=str))


def recipe_differences(old: dict, new: dict, prefix: str = "") -> list[str]:
    """Keys (dotted one level down) whose values differ between two recipes."""
    out = []
    for key in [*new, *(k for k in old if k not in new)]:
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict) and not prefix:
            out += recipe_differences(a, b, f"{key}.")
        elif a != b:
            out.append(prefix + key)
    return out


def cv_files(folder: str | Path) -> list[Path]:
    """The cross-validation files in ``folder`` (recipe, folds, tables, leftover temporary files)."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and _CV_FILE.match(p.name)) if folder.is_dir() else []


def prepare_folder(folder: str | Path, *, resume: bool, overwrite: bool) -> bool:
    """Decide, before any work, whether a cross-validation may write into ``folder``.

    Returns
    -------
    bool
        True when ``folder`` holds an earlier cross-validation to resume (its recipe is checked
        later, by :meth:`FoldStore.start`).

    Raises
    ------
    coder.errors.InputError
        ``--resume`` with ``--overwrite``; an earlier cross-validation without ``--resume`` or
        ``--overwrite``; fold files without a recipe (a run from before recipes) on ``--resume``.
    """
    folder = Path(folder)
    if resume and overwrite:
        raise InputError(folder, "--resume and --overwrite exclude each other")
    files = cv_files(folder)
    if overwrite:
        for path in files:
            path.unlink()
        shutil.rmtree(folder / CHECKPOINTS, ignore_errors=True)
        return False
    if not files:
        return False
    if not resume:
        raise InputError(folder, "holds an earlier cross-validation; --resume continues it, --overwrite replaces it")
    if not (folder / RECIPE_FILE).is_file():
        raise InputError(folder, f"holds cross-validation files but no {RECIPE_FILE}, so its recipe is unknown; "
                                 "--overwrite replaces them, or give another folder")
    return True


class FoldStore:
    """The folds of one cross-validation recipe in ``folder`` (see the module docstring).

    Parameters
    ----------
    folder : path-like
    recipe : dict
        From :func:`cv_recipe`.
    """

    def __init__(self, folder: str | Path, recipe: dict):
        self.folder = Path(folder)
        self.recipe = json.loads(json.dumps(recipe, default=str))
        self.digest = hashlib.sha256(json.dumps(self.recipe, sort_keys=True).encode("utf-8")).hexdigest()

    def start(self) -> None:
        """Write the recipe, or check it against the one already there.

        Raises
        ------
        coder.errors.InputError
            When the folder's recipe differs (names what differs): its folds are never mixed in.
        """
        path = self.folder / RECIPE_FILE
        if path.is_file():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                raise InputError(path, "is not valid JSON; --overwrite replaces the cross-validation") from None
            changed = recipe_differences(old, self.recipe)
            if changed:
                raise InputError(path, f"was written for another recipe ({', '.join(changed)} differ); folds of two "
                                       "recipes are never mixed: give another folder, or --overwrite")
            return
        write_text(json.dumps(self.recipe, indent=2) + "\n", path)

    @property
    def checkpoints(self) -> Path:
        """The folder of per-epoch checkpoints of folds still training (:data:`CHECKPOINTS`)."""
        return self.folder / CHECKPOINTS

    def paths(self, fold: int) -> dict[str, Path]:
        """Fold ``fold``'s files, by part (:data:`FOLD_PARTS`)."""
        return {part: self.folder / f"cv_fold{fold}_{part}" for part in FOLD_PARTS}

    def save(self, fold: int, result: Evaluation) -> None:
        """Write fold ``fold``'s evaluation, file by file atomically; the summary names the recipe."""
        paths = self.paths(fold)
        with atomic_writer(paths["per_code.csv"]) as fh:
            result.per_code.to_csv(fh, index_label="code")
        with atomic_writer(paths["confusion.csv"]) as fh:
            result.confusion.to_csv(fh)
        with atomic_writer(paths["predictions.csv"]) as fh:
            if result.predictions is not None:
                result.predictions.assign(fold=fold).to_csv(fh, index=False)
        held = self.recipe["folds"][fold]["held_out"] if fold < len(self.recipe.get("folds", [])) else []
        meta = {"fold": fold, "recipe_sha256": self.digest, "held_out": held,
                "summary": {k: float(v) for k, v in result.summary.items()}}
        write_text(json.dumps(meta, indent=2) + "\n", paths["summary.json"])

    def load(self, fold: int) -> Evaluation | None:
        """Fold ``fold``'s evaluation as :meth:`save` wrote it, or None unless it is complete and of this recipe."""
        paths = self.paths(fold)
        if not all(p.is_file() for p in paths.values()):
            return None
        try:
            meta = json.loads(paths["summary.json"].read_text(encoding="utf-8"))
        except ValueError:
            return None
        if meta.get("recipe_sha256") != self.digest:
            return None
        read = {"keep_default_na": False, **_ROUND_TRIP}
        per_code = pd.read_csv(paths["per_code.csv"], index_col="code", na_values=[""], **read)
        per_code.index.name = None
        confusion = pd.read_csv(paths["confusion.csv"], index_col=0, **read)
        confusion.columns.name = "model"
        predictions = None
        if paths["predictions.csv"].stat().st_size:
            header = pd.read_csv(paths["predictions.csv"], nrows=0).columns
            predictions = pd.read_csv(paths["predictions.csv"], dtype={c: str for c in _TEXT_COLUMNS if c in header},
                                      na_values={c: [""] for c in header if c not in _TEXT_COLUMNS}, **read)
            predictions = predictions.drop(columns="fold")
        return Evaluation(per_code, family_macro(per_code), confusion, dict(meta["summary"]), predictions)

    def completed(self) -> dict[int, Evaluation]:
        """The recipe's folds that are done, by number."""
        found = {k: self.load(k) for k in range(len(self.recipe.get("folds", [])))}
        return {k: v for k, v in found.items() if v is not None}

    def write_tables(self, result: CrossValidation) -> list[Path]:
        """Write the cross-validation tables (:data:`TABLES`), each atomically; returns their paths."""
        frames = [(result.per_fold, {"index": False}), (result.per_code, {"index_label": "code"}),
                  (result.summary, {}), (result.confusion, {}), (result.predictions, {"index": False})]
        written = []
        for name, (frame, options) in zip(TABLES, frames):
            if frame is None:
                continue
            with atomic_writer(self.folder / name) as fh:
                frame.to_csv(fh, **options)
            written.append(self.folder / name)
        return written
