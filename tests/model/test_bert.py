"""The torch BERT and the ``tokenizers`` tokenizer match ``transformers``, and loading a model does not import it."""

from __future__ import annotations

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from coder.model.bert import BertConfig, WordPieceTokenizer, empty_bert, load_bert  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

SENTENCES = ["therapist: hello, how do you feel?", "client: I don't want to STOP... (sleep)", "Café naïve — x2!",
             "", "yes", "what did you work ## on?"]


def _batch(n_pad: int):
    torch.manual_seed(1)
    ids = torch.randint(5, 60, (3, 12))
    mask = torch.ones_like(ids)
    if n_pad:
        mask[1, -n_pad:] = 0
        ids[1, -n_pad:] = 0
    types = torch.zeros_like(ids)
    types[:, 6:] = 1
    return ids, mask, types


@pytest.mark.parametrize("n_pad", [0, 5])
def test_bert_matches_transformers_bertmodel(tiny_encoder_dir, n_pad):
    theirs = transformers.BertModel.from_pretrained(str(tiny_encoder_dir), attn_implementation="sdpa").eval()
    ours = load_bert(tiny_encoder_dir)
    ids, mask, types = _batch(n_pad)
    with torch.inference_mode():
        expected = theirs(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
        got = ours(ids, mask, types)
    keep = mask.bool()
    torch.testing.assert_close(got[keep], expected[keep], rtol=0, atol=1e-6)


def test_bert_empty_builds_on_meta_and_assign_loads(tiny_encoder_dir):
    model = empty_bert(BertConfig.from_folder(tiny_encoder_dir))
    assert all(p.is_meta for p in model.parameters())
    loaded = load_bert(tiny_encoder_dir)
    assert not any(p.is_meta for p in loaded.parameters()) and not loaded.training


def test_bert_save_pretrained_loads_in_transformers(tiny_encoder_dir, tmp_path):
    ours = load_bert(tiny_encoder_dir)
    ours.save_pretrained(tmp_path)
    theirs = transformers.BertModel.from_pretrained(str(tmp_path), attn_implementation="sdpa").eval()
    ids, mask, types = _batch(3)
    with torch.inference_mode():
        torch.testing.assert_close(ours(ids, mask, types)[mask.bool()],
                                   theirs(input_ids=ids, attention_mask=mask,
                                          token_type_ids=types).last_hidden_state[mask.bool()], rtol=0, atol=1e-6)


def _tokenizer_folders(tiny_encoder_dir):
    folders = [tiny_encoder_dir]
    try:
        from coder.model.encoder import packaged_encoder_dir

        folders.append(packaged_encoder_dir())
    except Exception:  # the packaged encoder is optional here
        pass
    return folders


@pytest.mark.parametrize("special", [False, True])
def test_bert_tokenizer_matches_transformers(tiny_encoder_dir, special):
    for folder in _tokenizer_folders(tiny_encoder_dir):
        ours = WordPieceTokenizer.from_folder(folder)
        theirs = transformers.AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        assert ours(SENTENCES, add_special_tokens=special)["input_ids"] == \
            theirs(SENTENCES, add_special_tokens=special)["input_ids"]
        assert ours(SENTENCES[0], add_special_tokens=special)["input_ids"] == \
            theirs(SENTENCES[0], add_special_tokens=special)["input_ids"]
        assert (ours.cls_token_id, ours.sep_token_id, ours.pad_token_id) == \
            (theirs.cls_token_id, theirs.sep_token_id, theirs.pad_token_id)


def test_bert_tokenizer_save_round_trip(tiny_encoder_dir, tmp_path):
    tok = WordPieceTokenizer.from_folder(tiny_encoder_dir)
    tok.save_pretrained(tmp_path)
    again = WordPieceTokenizer.from_folder(tmp_path)
    assert again(SENTENCES, add_special_tokens=False) == tok(SENTENCES, add_special_tokens=False)
    assert transformers.AutoTokenizer.from_pretrained(str(tmp_path))(SENTENCES[1])["input_ids"] == \
        tok(SENTENCES[1])["input_ids"]


def test_bert_loading_a_model_never_imports_transformers(saved_model):
    code = ("import sys, coder.model; from coder.session import Session, Utterance; "
            f"m = coder.model.load({str(saved_model)!r}); "
            "m.code([Session(id='s', utterances=[Utterance(session_id='s', utterance_id='1', speaker='T', "
            "role='therapist', text='how do you feel?', turn_id=0, start=None, end=None)])]); "
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('transformers', 'scipy', 'sympy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
