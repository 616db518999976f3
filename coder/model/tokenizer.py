"""The WordPiece tokenizer in ``tokenizers`` with the small ``transformers`` API the project uses.

Kept apart from :mod:`coder.model.bert` so that the ONNX runtime path (``coder.model.runtime``)
tokenises without importing torch.
"""

from __future__ import annotations

import json
from pathlib import Path


class WordPieceTokenizer:
    """A ``tokenizers.Tokenizer`` with the part of the ``transformers`` tokenizer API the project uses.

    Parameters
    ----------
    tokenizer : tokenizers.Tokenizer
        Read from ``tokenizer.json``; truncation and padding are switched off (as
        ``transformers`` does for an unpadded, untruncated call).
    config : dict
        ``tokenizer_config.json`` (special tokens; written back by :meth:`save_pretrained`).
    extra_files : dict of str to str
        Other small files of the folder to write back (``special_tokens_map.json``, ``vocab.txt``).
    """

    def __init__(self, tokenizer, config: dict | None = None, extra_files: dict[str, str] | None = None):
        self._tok = tokenizer
        self._tok.no_truncation()
        self._tok.no_padding()
        self.config = dict(config or {})
        self.extra_files = dict(extra_files or {})

    @classmethod
    def from_folder(cls, folder: str | Path) -> "WordPieceTokenizer":
        from tokenizers import Tokenizer

        folder = Path(folder)
        config_path = folder / "tokenizer_config.json"
        config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
        extra = {name: (folder / name).read_text(encoding="utf-8")
                 for name in ("special_tokens_map.json", "vocab.txt") if (folder / name).is_file()}
        return cls(Tokenizer.from_file(str(folder / "tokenizer.json")), config, extra)

    def _special(self, name: str, default: str) -> int | None:
        token = self.config.get(name, default)
        if isinstance(token, dict):
            token = token.get("content", default)
        return self._tok.token_to_id(token)

    @property
    def cls_token_id(self) -> int | None:
        return self._special("cls_token", "[CLS]")

    @property
    def sep_token_id(self) -> int | None:
        return self._special("sep_token", "[SEP]")

    @property
    def pad_token_id(self) -> int | None:
        return self._special("pad_token", "[PAD]")

    def convert_tokens_to_ids(self, token: str) -> int | None:
        return self._tok.token_to_id(token)

    def convert_ids_to_tokens(self, ids):
        """The token of an id, or the tokens of a list of ids."""
        if isinstance(ids, int):
            return self._tok.id_to_token(ids)
        return [self._tok.id_to_token(int(i)) for i in ids]

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        return self._tok.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def __call__(self, text, add_special_tokens: bool = True, **_) -> dict:
        """``{"input_ids": ...}`` for a string (list of ids) or a list of strings (list of lists)."""
        if isinstance(text, str):
            return {"input_ids": self._tok.encode(text, add_special_tokens=add_special_tokens).ids}
        encodings = self._tok.encode_batch(list(text), add_special_tokens=add_special_tokens)
        return {"input_ids": [e.ids for e in encodings]}

    def save_pretrained(self, folder: str | Path) -> None:
        """Write ``tokenizer.json``, ``tokenizer_config.json`` and the extra files to ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self._tok.save(str(folder / "tokenizer.json"))
        (folder / "tokenizer_config.json").write_text(json.dumps(self.config, indent=2) + "\n", encoding="utf-8")
        for name, text in self.extra_files.items():
            (folder / name).write_text(text, encoding="utf-8")
