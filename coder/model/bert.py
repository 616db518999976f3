"""A BERT encoder and WordPiece tokenizer that start fast: plain torch and ``tokenizers``.

Why not ``transformers``' ``BertModel``: importing it pulls in ``transformers.modeling_utils``
(and with it scipy, sympy, the hub client and the loss zoo), about 2 s before the first
utterance is coded, more than the whole forward pass of a 50-minute session. The network here
is the same computation, op for op, as ``transformers``' ``BertModel`` with SDPA attention
(embeddings summed in the same order, LayerNorm after each residual, erf GELU, a boolean
padding mask, no mask when nothing is padded), with the same parameter names, so checkpoints
load either way; ``tests/model/test_bert.py`` checks it against ``transformers`` on a tiny
random BERT and on the packaged MiniLM.

The model is built on the ``meta`` device (no random initialisation) and its weights are then
assigned from the checkpoint (``load_state_dict(assign=True)``), so start-up reads each weight
once and initialises nothing. The tokenizer is ``tokenizers.Tokenizer`` read from
``tokenizer.json``, with the small part of the ``transformers`` tokenizer API the project uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from coder.model.tokenizer import WordPieceTokenizer  # noqa: F401  (re-exported: its old home)

#: ``hidden_act`` values this module computes (anything else loads through ``transformers``).
ACTIVATIONS = {"gelu": F.gelu, "relu": F.relu,
               "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
               "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh")}


class _NoMetaInit:
    """Skips the random initialisation of parameters created on the ``meta`` device.

    ``nn.init`` on meta tensors goes through ``torch._refs``, whose first use imports
    ``torch._dynamo`` and sympy (about a second); meta parameters are overwritten anyway.
    """

    def reset_parameters(self) -> None:
        if not self.weight.is_meta:
            super().reset_parameters()


class Linear(_NoMetaInit, nn.Linear):
    pass


class Embedding(_NoMetaInit, nn.Embedding):
    pass


class LayerNorm(_NoMetaInit, nn.LayerNorm):
    pass


@dataclass
class BertConfig:
    """The architecture fields of a Hugging Face ``config.json`` (the rest is kept in ``raw``).

    Attributes
    ----------
    vocab_size, hidden_size, num_hidden_layers, num_attention_heads, intermediate_size : int
        Sizes.
    max_position_embeddings, type_vocab_size : int
        Rows of the position and token-type embeddings.
    layer_norm_eps : float
    hidden_dropout_prob, attention_probs_dropout_prob : float
        Dropout while training.
    hidden_act : str
        A key of :data:`ACTIVATIONS`.
    pad_token_id : int
    raw : dict
        The whole ``config.json``, written back unchanged by :meth:`save_pretrained`.
    """

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    hidden_act: str = "gelu"
    pad_token_id: int = 0
    raw: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: dict) -> "BertConfig":
        names = {f for f in cls.__dataclass_fields__ if f != "raw"}
        values = {k: v for k, v in data.items() if k in names and v is not None}
        return cls(**values, raw=dict(data))

    @classmethod
    def from_folder(cls, folder: str | Path) -> "BertConfig":
        """The config of a model folder (``config.json``)."""
        return cls.from_dict(json.loads((Path(folder) / "config.json").read_text(encoding="utf-8")))

    @staticmethod
    def supports(data: dict) -> bool:
        """True when a ``config.json`` describes an encoder this module computes exactly."""
        return (data.get("model_type") == "bert" and data.get("hidden_act", "gelu") in ACTIVATIONS
                and data.get("position_embedding_type", "absolute") == "absolute" and not data.get("is_decoder"))

    def save_pretrained(self, folder: str | Path) -> None:
        """Write ``config.json`` (the original fields, with the architecture fields updated)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        data = {**self.raw, **{k: getattr(self, k) for k in self.__dataclass_fields__ if k != "raw"}}
        data.setdefault("model_type", "bert")
        data.setdefault("architectures", ["BertModel"])
        (folder / "config.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


class _Embeddings(nn.Module):
    def __init__(self, cfg: BertConfig, device=None):
        super().__init__()
        self.word_embeddings = Embedding(cfg.vocab_size, cfg.hidden_size, padding_idx=cfg.pad_token_id, device=device)
        self.position_embeddings = Embedding(cfg.max_position_embeddings, cfg.hidden_size, device=device)
        self.token_type_embeddings = Embedding(cfg.type_vocab_size, cfg.hidden_size, device=device)
        self.LayerNorm = LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps, device=device)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(positions)
        return self.dropout(self.LayerNorm(x))


class _SelfAttention(nn.Module):
    def __init__(self, cfg: BertConfig, device=None):
        super().__init__()
        self.heads, self.head_size = cfg.num_attention_heads, cfg.hidden_size // cfg.num_attention_heads
        self.query = Linear(cfg.hidden_size, cfg.hidden_size, device=device)
        self.key = Linear(cfg.hidden_size, cfg.hidden_size, device=device)
        self.value = Linear(cfg.hidden_size, cfg.hidden_size, device=device)
        self.dropout_p = cfg.attention_probs_dropout_prob

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        shape = (*x.shape[:-1], -1, self.head_size)
        q = self.query(x).view(shape).transpose(1, 2)
        k = self.key(x).view(shape).transpose(1, 2)
        v = self.value(x).view(shape).transpose(1, 2)
        dropout = self.dropout_p if self.training else 0.0
        if torch.jit.is_tracing():  # ONNX export: plain ops; ``mask`` is an additive (batch, 1, 1, tokens) bias
            scores = (q @ k.transpose(-1, -2)) * self.head_size ** -0.5
            out = (scores + mask).softmax(-1) @ v
        else:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout,
                                                 scale=self.head_size ** -0.5)
        return out.transpose(1, 2).contiguous().reshape(*x.shape[:-1], -1).contiguous()


class _DenseNorm(nn.Module):
    """``LayerNorm(dropout(dense(x)) + residual)``: BERT's attention-output and output blocks."""

    def __init__(self, cfg: BertConfig, width: int, device=None):
        super().__init__()
        self.dense = Linear(width, cfg.hidden_size, device=device)
        self.LayerNorm = LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps, device=device)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class _Attention(nn.Module):
    def __init__(self, cfg: BertConfig, device=None):
        super().__init__()
        self.self = _SelfAttention(cfg, device)
        self.output = _DenseNorm(cfg, cfg.hidden_size, device)


class _Intermediate(nn.Module):
    def __init__(self, cfg: BertConfig, device=None):
        super().__init__()
        self.dense = Linear(cfg.hidden_size, cfg.intermediate_size, device=device)


class _Layer(nn.Module):
    def __init__(self, cfg: BertConfig, device=None):
        super().__init__()
        self.attention = _Attention(cfg, device)
        self.intermediate = _Intermediate(cfg, device)
        self.output = _DenseNorm(cfg, cfg.intermediate_size, device)
        self.act = ACTIVATIONS[cfg.hidden_act]

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = self.attention.output(self.attention.self(x, mask), x)
        return self.output(self.act(self.intermediate.dense(x)), x)


class _Stack(nn.Module):
    def __init__(self, cfg: BertConfig, device=None):
        super().__init__()
        self.layer = nn.ModuleList(_Layer(cfg, device) for _ in range(cfg.num_hidden_layers))


class _Pooler(nn.Module):  # kept so that checkpoints keep their keys; never computed here
    def __init__(self, cfg: BertConfig, device=None):
        super().__init__()
        self.dense = Linear(cfg.hidden_size, cfg.hidden_size, device=device)


class BertEncoder(nn.Module):
    """BERT returning the last hidden states (batch, tokens, hidden); parameter names as ``transformers``.

    Parameters
    ----------
    config : BertConfig
    device : torch.device or str, optional
        Where the parameters are created (``"meta"``: no memory, see :func:`empty_bert`).
    """

    def __init__(self, config: BertConfig, device=None):
        super().__init__()
        self.config = config
        self.embeddings = _Embeddings(config, device)
        self.encoder = _Stack(config, device)
        self.pooler = _Pooler(config, device)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.embeddings(input_ids, token_type_ids)
        mask = None
        if torch.jit.is_tracing():  # export: one bias for every layer, head and query (no per-layer mask ops)
            if attention_mask is None:
                attention_mask = torch.ones_like(input_ids)
            mask = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        elif attention_mask is not None and not bool(attention_mask.all()):
            n = input_ids.shape[1]
            mask = attention_mask.bool()[:, None, None, :].expand(-1, 1, n, n)
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return x

    def save_pretrained(self, folder: str | Path) -> None:
        """Write ``config.json`` and ``model.safetensors`` (fp32), for :func:`load_bert` or ``transformers``."""
        from safetensors.torch import save_file

        folder = Path(folder)
        self.config.save_pretrained(folder)
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(folder / "model.safetensors"),
                  metadata={"format": "pt"})


def empty_bert(config: BertConfig) -> BertEncoder:
    """The architecture on the ``meta`` device: no memory, no initialisation (assign weights next).

    The device is passed to every layer rather than set with ``with torch.device("meta")``, and
    the layers skip initialising meta tensors: both would import ``torch._dynamo`` and sympy
    (about a second of start-up).
    """
    return BertEncoder(config, device="meta")


def random_bert(config: BertConfig, seed: int | None = None) -> BertEncoder:
    """The architecture with BERT's initialisation (normal(0, 0.02), LayerNorm 1/0, zero biases)."""
    if seed is not None:
        torch.manual_seed(seed)
    model = BertEncoder(config)
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if isinstance(module, nn.Embedding) and module.padding_idx is not None:
            with torch.no_grad():
                module.weight[module.padding_idx].zero_()
        if isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    return model


def strip_prefix(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Checkpoint keys without a ``bert.`` prefix (``BertFor…`` checkpoints)."""
    if any(k.startswith("bert.") for k in state):
        return {k[len("bert."):]: v for k, v in state.items() if k.startswith("bert.")}
    return state


def load_bert(folder: str | Path) -> BertEncoder:
    """A pretrained BERT from ``folder`` (``config.json`` and ``model.safetensors``), fp32, eval mode.

    Raises
    ------
    KeyError
        When the checkpoint lacks a parameter of the architecture.
    """
    from safetensors.torch import load_file

    folder = Path(folder)
    model = empty_bert(BertConfig.from_folder(folder))
    state = strip_prefix(load_file(str(folder / "model.safetensors")))
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    if missing:
        raise KeyError(missing[0])
    model.load_state_dict({k: state[k].to(torch.float32) for k in own}, assign=True)
    return model.eval()


def flops_per_token(config, length: float) -> float:
    """Forward FLOPs per token of a BERT encoder over inputs of ``length`` tokens (matmuls only)."""
    h, i, n = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    return n * (2 * (4 * h * h + 2 * h * i) + 4 * h * length)


__all__ = ["ACTIVATIONS", "BertConfig", "BertEncoder", "WordPieceTokenizer", "empty_bert", "flops_per_token",
           "load_bert", "random_bert"]
