"""Shared fixtures for the corpus tests: real data is read from ../shared/data, else skipped."""

from __future__ import annotations

import pytest

from coder.data.paths import default_annomi_path, default_welivita_dir

HAVE_ANNOMI = default_annomi_path().is_file()
HAVE_WELIVITA = (default_welivita_dir() / "MI_Dataset_subset.csv").is_file()
needs_annomi = pytest.mark.skipif(not HAVE_ANNOMI, reason=f"AnnoMI not found at {default_annomi_path()}")
needs_shared = pytest.mark.skipif(not (HAVE_ANNOMI and HAVE_WELIVITA),
                                  reason="shared data (AnnoMI and Welivita) not found under ../shared/data")


@pytest.fixture(scope="session")
def annomi():
    if not HAVE_ANNOMI:
        pytest.skip(f"AnnoMI not found at {default_annomi_path()}")
    from coder.data.annomi import load_annomi
    return load_annomi()


@pytest.fixture(scope="session")
def first_pass(annomi):
    from coder.data.labels import load_labels
    return load_labels(annomi=annomi)


@pytest.fixture(scope="session")
def second_pass(annomi):
    from coder.data.labels import load_labels
    from coder.data.paths import ANNOTATIONS_DIR
    return load_labels(ANNOTATIONS_DIR / "second_pass", annomi=annomi, complete=False)


@pytest.fixture(scope="session")
def joined(annomi, first_pass):
    from coder.data.labels import join_labels
    return join_labels(annomi, first_pass)


@pytest.fixture(scope="session")
def dataset():
    """The full dataset, built once for the whole suite."""
    if not (HAVE_ANNOMI and HAVE_WELIVITA):
        pytest.skip("shared data (AnnoMI and Welivita) not found under ../shared/data")
    from coder.data.build import build_dataset
    return build_dataset()
