"""The Ray engine on a local Ray instance gives the same tables as the local engine (CI installs the [ray] extra)."""

from __future__ import annotations

import pytest

from coder.run import RunConfig, code_transcripts
from tests.run.conftest import tables

ray = pytest.importorskip("ray", reason="the [ray] extra is not installed")


@pytest.fixture
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.slow
def test_ray_engine_equals_local_engine(tmp_path, corpus, saved_model, baseline, local_ray):
    lines: list[str] = []
    result = code_transcripts([corpus], model=saved_model, out=tmp_path / "ray",
                              config=RunConfig(engine="ray", workers=2, threads=2, progress_every=0,
                                               on_progress=lines.append))
    assert result.n_coded == 12 and result.exit_code == 0
    assert tables(tmp_path / "ray") == tables(baseline)
    assert lines[-1].startswith("coded 168/168 utterances")
