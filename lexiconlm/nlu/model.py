"""Joint intent + slot model on any Hugging Face encoder (JointBERT-style heads).

The intent head reads the first token (``[CLS]``/``<s>``) or the mean of the
tokens (``pooling``); the slot head tags each word from its first subword, with
one BIO tag set (``O``, ``B-x``, ``I-x`` for every slot label). Loss: intent
cross-entropy + ``slot_weight`` * slot cross-entropy (other subwords ignored).

A saved model is a folder::

    encoder/            the encoder and its tokenizer (AutoModel / AutoTokenizer load it)
    heads.safetensors   intent and slot heads
    nlu.json            label maps, pooling, max_len, dropout, signature, training summary

Only :mod:`lexiconlm.nlu` imports torch; import this module only where torch is installed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from lexiconlm.errors import DataFormatError
from lexiconlm.files import atomic_write_text
from lexiconlm.models import POOLER_MODEL_TYPES, quiet_transformers
from lexiconlm.models import resolve_model as resolve_model_name  # noqa: F401 (nlu.train)

__all__ = ["LabelMaps", "JointModel", "encode_batch", "load_joint", "NLU_JSON", "HEADS_FILE"]

NLU_JSON = "nlu.json"
HEADS_FILE = "heads.safetensors"


@dataclass(frozen=True)
class LabelMaps:
    """Intent labels and slot labels; BIO tags are ``O`` then ``B-x``, ``I-x`` per slot label."""

    intents: tuple[str, ...]
    slots: tuple[str, ...]

    @property
    def tags(self) -> tuple[str, ...]:
        return ("O",) + tuple(t for s in self.slots for t in (f"B-{s}", f"I-{s}"))

    def intent_index(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.intents)}

    def tag_index(self) -> dict[str, int]:
        return {k: i for i, k in enumerate(self.tags)}

    def as_dict(self) -> dict:
        return {"intents": list(self.intents), "slots": list(self.slots)}


class JointModel(nn.Module):
    """Encoder + intent head + slot head.

    Args:
        encoder: a ``transformers`` encoder (``AutoModel``) returning ``last_hidden_state``.
        labels: the label maps.
        pooling: ``"first"`` (first token, as JointBERT / MASSIVE) or ``"mean"``.
        dropout: dropout before both heads.
    """

    def __init__(self, encoder: nn.Module, labels: LabelMaps, *, pooling: str = "first", dropout: float = 0.1):
        super().__init__()
        if pooling not in ("first", "mean"):
            raise ValueError(f"pooling must be 'first' or 'mean', got {pooling!r}")
        self.encoder = encoder
        self.labels = labels
        self.pooling = pooling
        hidden = int(encoder.config.hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.intent_head = nn.Linear(hidden, len(labels.intents))
        self.slot_head = nn.Linear(hidden, len(labels.tags))

    def forward(self, input_ids, attention_mask, word_index=None):
        """Returns ``(intent_logits [B, n_intents], slot_logits [B, T, n_tags])`` over subword positions."""
        h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        if self.pooling == "first":
            pooled = h[:, 0]
        else:
            m = attention_mask.unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(1) / m.sum(1).clamp_min(1.0)
        return self.intent_head(self.dropout(pooled)), self.slot_head(self.dropout(h))

    def heads_state(self) -> dict[str, torch.Tensor]:
        return {
            f"{name}.{k}": v.detach().float().cpu().contiguous()
            for name in ("intent_head", "slot_head")
            for k, v in getattr(self, name).state_dict().items()
        }

    def save(self, out_dir: Path, tokenizer, meta: dict) -> Path:
        """Write the HF-style folder (encoder + tokenizer + heads + nlu.json)."""
        from safetensors.torch import save_file

        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        with quiet_transformers():  # no "Writing model shards" bar at every checkpoint
            self.encoder.save_pretrained(out_dir / "encoder", safe_serialization=True)
            tokenizer.save_pretrained(out_dir / "encoder")
        tmp = out_dir / (HEADS_FILE + ".tmp")
        save_file(self.heads_state(), str(tmp))
        tmp.replace(out_dir / HEADS_FILE)
        info = {
            **meta,
            "labels": self.labels.as_dict(),
            "pooling": self.pooling,
            "dropout": self.dropout.p,
            "tags": list(self.labels.tags),
        }
        atomic_write_text(out_dir / NLU_JSON, json.dumps(info, indent=2, ensure_ascii=False) + "\n")
        return out_dir


def load_joint(model_dir: str | Path, device: str | torch.device = "cpu") -> tuple[JointModel, object, dict]:
    """Load a folder written by :meth:`JointModel.save`; returns ``(model, tokenizer, nlu.json dict)``.

    Raises:
        DataFormatError: the folder is not a saved joint model (names the missing file).
    """
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    d = Path(model_dir)
    missing = [n for n in (NLU_JSON, HEADS_FILE, "encoder/config.json") if not (d / n).exists()]
    if missing:
        raise DataFormatError.single(
            str(d),
            None,
            f"not a lexiconlm NLU model folder (missing {', '.join(missing)})",
            "pass the folder `lexiconlm nlu train` wrote (its model/ subfolder)",
        )
    info = json.loads((d / NLU_JSON).read_text(encoding="utf-8"))
    labels = LabelMaps(tuple(info["labels"]["intents"]), tuple(info["labels"]["slots"]))
    cfg = json.loads((d / "encoder" / "config.json").read_text(encoding="utf-8"))
    with quiet_transformers():
        encoder = AutoModel.from_pretrained(d / "encoder", **_encoder_kwargs(cfg.get("model_type", "")))
        tok = AutoTokenizer.from_pretrained(d / "encoder")
    model = JointModel(encoder, labels, pooling=info.get("pooling", "first"), dropout=float(info.get("dropout", 0.1)))
    state = load_file(str(d / HEADS_FILE))
    for name in ("intent_head", "slot_head"):
        getattr(model, name).load_state_dict(
            {k.split(".", 1)[1]: v for k, v in state.items() if k.startswith(name + ".")}
        )
    model.to(device).eval()
    return model, tok, info


def _encoder_kwargs(model_type: str) -> dict:
    """BERT-like encoders build a pooler the joint model never uses; leave it out."""
    return {"add_pooling_layer": False} if model_type in POOLER_MODEL_TYPES else {}


def encode_batch(tokenizer, words: Sequence[Sequence[str]], max_len: int) -> tuple[dict, list[list[int]]]:
    """Tokenise pre-split utterances, padded to the longest in the batch.

    Returns:
        ``(tensors, first)``: ``input_ids``/``attention_mask`` tensors, and for each
        utterance the subword position of each word's first subword (``-1`` for a word
        cut off by ``max_len`` or one that produced no subword).
    """
    enc = tokenizer(
        [list(w) for w in words],
        is_split_into_words=True,
        truncation=True,
        max_length=max_len,
        padding=True,
        return_tensors="pt",
    )
    firsts: list[list[int]] = []
    for b, ws in enumerate(words):
        pos = [-1] * len(ws)
        prev = None
        for j, wid in enumerate(enc.word_ids(b)):
            if wid is not None and wid != prev and pos[wid] < 0:
                pos[wid] = j
            prev = wid
        firsts.append(pos)
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}, firsts
