"""A non-editable install (a wheel in a fresh virtual environment) finds the shipped model from any folder."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from coder.model import DEFAULT_MODEL_NAME
from tests.conftest import FIXTURES, ROOT

MODEL = ROOT / "models" / DEFAULT_MODEL_NAME


@pytest.mark.slow
@pytest.mark.skipif(not (MODEL / "model.safetensors").is_file(), reason="the shipped model is not in models/")
def test_install_wheel_then_code_from_any_folder(tmp_path):
    source = tmp_path / "src"  # build from a copy, so the checkout gets no build/ or egg-info
    shutil.copytree(ROOT / "coder", source / "coder", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(MODEL, source / "models" / DEFAULT_MODEL_NAME, ignore=shutil.ignore_patterns("evaluation"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    isolation = [] if importlib.util.find_spec("setuptools") is None else ["--no-build-isolation"]
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(tmp_path / "dist"),
                    *isolation], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("alliance_coder-*.whl")
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
    site = subprocess.run([str(env / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # The dependencies (torch…) come from this environment, after the new one's own packages;
    # a plain path line does not run this environment's editable-install hook.
    Path(site, "_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([str(env / "bin" / "python"), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True,
                   capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([str(env / "bin" / "python"), "-c", "import coder; print(coder.__file__)"], cwd=elsewhere,
                           check=True, capture_output=True, text=True).stdout
    assert where.startswith(str(env)), where
    done = subprocess.run([str(env / "bin" / "alliance-coder"), "code", str(FIXTURES / "mini.txt"), "-o", "out",
                           "--no-report"], cwd=elsewhere, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"with model:{DEFAULT_MODEL_NAME}" in done.stderr
    assert (elsewhere / "out" / "utterances.csv").read_text().count("\n") == 11
