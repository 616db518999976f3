"""Cross-validation folds on disk: exact read-back, completeness, and the recipe guard."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from coder.errors import InputError
from coder.model.cv_store import RECIPE_FILE, FoldStore, cv_recipe, prepare_folder, recipe_differences
from coder.model.evaluate import combine_folds, evaluate
from tests.model.tiny import corpus

FOLDS = [(["t0", "t1"], ["t2"]), (["t1", "t2"], ["t0"])]


def _recipe(**changes):
    options = {"train_config": {"epochs": 2, "threads": 1}, "data": {"include_rewrites": True}, "folds": FOLDS,
               "records": corpus(3, "t"), "extra": [], "cv_all": False, "validation_share": 0.15, "seed": 13}
    options.update(changes)
    return cv_recipe(options.pop("train_config"), options.pop("data"), options.pop("folds"), options.pop("records"),
                     options.pop("extra"), **options)


@pytest.fixture(scope="module")
def scored(fitted):
    return evaluate(fitted, corpus(2, "x"))


def _assert_same(a, b):
    pd.testing.assert_frame_equal(a.per_code, b.per_code, check_exact=True)
    pd.testing.assert_frame_equal(a.families, b.families, check_exact=True)
    pd.testing.assert_frame_equal(a.confusion, b.confusion, check_exact=True)
    pd.testing.assert_frame_equal(a.predictions, b.predictions, check_exact=True)
    assert json.dumps(a.summary) == json.dumps(b.summary)


def test_cv_store_fold_reads_back_exactly(scored, tmp_path):
    store = FoldStore(tmp_path, _recipe())
    store.start()
    store.save(1, scored)
    assert set(store.completed()) == {1}
    back = store.load(1)
    _assert_same(back, scored)
    # the tables from a read-back fold equal those from the fold in memory
    fresh, again = combine_folds([scored, scored]), combine_folds([scored, back])
    for name in ("per_fold", "per_code", "summary", "confusion", "predictions"):
        pd.testing.assert_frame_equal(getattr(fresh, name), getattr(again, name), check_exact=True)
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_cv_store_fold_counts_only_when_complete_and_of_this_recipe(scored, tmp_path):
    store = FoldStore(tmp_path, _recipe())
    store.save(0, scored)
    (tmp_path / "cv_fold0_confusion.csv").unlink()
    assert store.completed() == {}
    store.save(0, scored)
    assert set(store.completed()) == {0}
    other = FoldStore(tmp_path, _recipe(seed=14))
    assert other.completed() == {}  # the fold's summary names another recipe's hash


def test_cv_store_recipe_ignores_threads_and_names_what_differs(tmp_path):
    FoldStore(tmp_path, _recipe()).start()
    FoldStore(tmp_path, _recipe(train_config={"epochs": 2, "threads": 8})).start()  # threads: runtime only
    changed = _recipe(train_config={"epochs": 3}, data={"include_rewrites": False})
    with pytest.raises(InputError) as info:
        FoldStore(tmp_path, changed).start()
    message = str(info.value)
    assert RECIPE_FILE in message and "\n" not in message
    assert "train_config.epochs" in message and "data.include_rewrites" in message
    relabelled = corpus(3, "t")
    relabelled[0]["labels"] = [1.0 - v for v in relabelled[0]["labels"]]
    assert recipe_differences(_recipe(), _recipe(records=relabelled)) == ["examples.sha256"]


def test_cv_store_prepare_folder_protects_an_earlier_run(tmp_path):
    assert prepare_folder(tmp_path / "new", resume=False, overwrite=False) is False
    (tmp_path / "cv_fold0_per_code.csv").write_text("code\n")
    (tmp_path / "per_code.csv").write_text("not ours\n")
    (tmp_path / ".checkpoints").mkdir()
    (tmp_path / ".checkpoints" / "fold1.pt").write_bytes(b"state")
    with pytest.raises(InputError, match="--resume continues it"):
        prepare_folder(tmp_path, resume=False, overwrite=False)
    with pytest.raises(InputError, match="no cv_recipe.json"):
        prepare_folder(tmp_path, resume=True, overwrite=False)
    with pytest.raises(InputError, match="exclude each other"):
        prepare_folder(tmp_path, resume=True, overwrite=True)
    assert prepare_folder(tmp_path, resume=False, overwrite=True) is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["per_code.csv"]  # only the CV's files go
    FoldStore(tmp_path, _recipe()).start()
    assert FoldStore(tmp_path, _recipe()).checkpoints == tmp_path / ".checkpoints"
    assert prepare_folder(tmp_path, resume=True, overwrite=False) is True
