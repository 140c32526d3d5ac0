"""A character-level transformer inflector (lemma + feature tags -> form), in PyTorch.

The model follows Wu, Cotterell & Hulden (2021), "Applying the Transformer to
Character-level Transduction": an encoder-decoder transformer with pre-layer
normalisation over characters, the feature tags as extra input tokens, and
(``invariant=True``) the *input-invariant* encoding: every tag gets position 0
and a type embedding of its own, so the encoding of the lemma does not depend on
how many tags precede it or in what order. A language tag token (``<lang:hun_small>``)
lets one model serve several languages or settings (``multilingual``), which is
how many small languages are trained efficiently in one process on one GPU:
one batch mixes languages, so the GPU is kept busy by one large model instead of
dozens of tiny ones.

Training (:func:`train`)
    batched, shuffled with a seeded generator per epoch; Adam with an inverse
    square-root schedule after a linear warmup; label-smoothed cross entropy;
    bf16 autocast on CUDA, fp32 on CPU; greedy dev accuracy every
    ``eval_every`` steps, early stopping after ``patience`` evaluations without
    improvement; the best weights are kept.

Checkpoints
    ``out_dir/checkpoint/`` holds model, optimizer, scheduler, step, epoch and
    position in the epoch, early-stopping state and every random generator
    state (Python, NumPy, torch CPU, CUDA), written atomically every ``save_every``
    steps and at every evaluation (``state.json`` + ``tensors.safetensors``, no
    pickle: :mod:`lexiconlm.training`; a ``checkpoint.pt`` of earlier versions is
    refused, never opened). A killed run resumes from it and, on CPU,
    ends with exactly the weights an uninterrupted run gives. ``out_dir/run.json``
    records the resolved config and a hash of the training data; resuming with a
    different config or different data raises :class:`~lexiconlm.errors.ConfigError`
    naming what changed.

Prediction
    :class:`NeuralInflector` loads ``out_dir`` (``model.json``, ``vocab.json``,
    ``best.pt``) and decodes greedily or with beam search.

Example:
    >>> from lexiconlm.types import InflectionEntry as E
    >>> cfg = NeuralConfig.tiny(max_steps=20)                       # doctest: +SKIP
    >>> data = [LanguageData("xx", train=[E("walk", "walked", "V;PST")] * 8)]  # doctest: +SKIP
    >>> result = train(cfg, data, out_dir="runs/tiny")              # doctest: +SKIP
    >>> NeuralInflector.load("runs/tiny").predict([E("walk", None, "V;PST")])  # doctest: +SKIP
    ['walked']

Why one module of about 980 lines: the model, data packing, training loop and decoding are one
system; the machinery is in lexiconlm.training.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from lexiconlm.config import read_config, unknown_key
from lexiconlm.devices import resolve_device
from lexiconlm.errors import ConfigError, MissingDependencyError
from lexiconlm.files import atomic_write, atomic_write_text
from lexiconlm.types import InflectionEntry, split_features

__all__ = [
    "LanguageData",
    "NeuralConfig",
    "NeuralInflector",
    "TrainResult",
    "Vocab",
    "load_config",
    "resolve_device",
    "train",
]

SIGNATURE_VERSION = "char-transformer.v1"
PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")
CHAR, TAG, LANG = 0, 1, 2  # token types


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the installation
        raise MissingDependencyError("The neural inflector", "gpu", "torch") from None
    return torch


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class NeuralConfig:
    """Hyper-parameters of the transformer inflector and its training.

    The defaults are those of Wu et al. (2021) for small data (4+4 layers,
    d_model 256, 4 heads, feed-forward 1024, dropout 0.3, batch 400, warmup 4000,
    label smoothing 0.1). :meth:`cpu` is a smaller model for CPU-only machines,
    :meth:`tiny` a few-thousand-parameter model for tests.

    Attributes (training):
        max_steps: upper bound on optimizer steps.
        eval_every: steps between dev evaluations (greedy exact match).
        patience: evaluations without improvement before stopping (0: never stop early).
        eval_max_per_lang: dev items per language used for early stopping (0: all).
        save_every: steps between checkpoints (besides the one at every evaluation).
        min_train_per_lang: in multilingual training, a language's training items are
            repeated until it has at least this many (0: no repetition).
        hallucinate: hallucinated training pairs added per language (see
            :mod:`lexiconlm.inflection.hallucinate`; the runner adds them).
    """

    d_model: int = 256
    n_heads: int = 4
    n_enc_layers: int = 4
    n_dec_layers: int = 4
    d_ff: int = 1024
    dropout: float = 0.3
    invariant: bool = True
    multilingual: bool = True
    batch_size: int = 400
    lr: float = 1e-3
    warmup_steps: int = 4000
    max_steps: int = 20000
    eval_every: int = 1000
    patience: int = 10
    eval_max_per_lang: int = 0
    save_every: int = 1000
    label_smoothing: float = 0.1
    clip_norm: float = 1.0
    beam: int = 1
    min_train_per_lang: int = 0
    hallucinate: int = 0
    seed: int = 13

    @classmethod
    def cpu(cls, **overrides: Any) -> NeuralConfig:
        """A smaller model that trains in minutes per small language on one CPU thread."""
        base = {
            "d_model": 128,
            "n_heads": 4,
            "n_enc_layers": 2,
            "n_dec_layers": 2,
            "d_ff": 512,
            "dropout": 0.3,
            "batch_size": 128,
            "lr": 1e-3,
            "warmup_steps": 400,
            "max_steps": 4000,
            "eval_every": 250,
            "patience": 6,
            "save_every": 250,
        }
        return cls(**{**base, **overrides})

    @classmethod
    def tiny(cls, **overrides: Any) -> NeuralConfig:
        """A few-thousand-parameter model for tests."""
        base = {
            "d_model": 16,
            "n_heads": 2,
            "n_enc_layers": 1,
            "n_dec_layers": 1,
            "d_ff": 32,
            "dropout": 0.0,
            "batch_size": 8,
            "lr": 3e-3,
            "warmup_steps": 10,
            "max_steps": 40,
            "eval_every": 10,
            "patience": 0,
            "save_every": 10,
        }
        return cls(**{**base, **overrides})

    def problems(self) -> list[str]:
        """Every invalid setting, as ``key -> message``."""
        out = []
        positive = (
            "d_model",
            "n_heads",
            "n_enc_layers",
            "n_dec_layers",
            "d_ff",
            "batch_size",
            "max_steps",
            "eval_every",
            "save_every",
            "beam",
        )
        for k in positive:
            v = getattr(self, k)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                out.append(f"{k} -> must be a positive integer, got {v!r}")
        for k in ("warmup_steps", "patience", "eval_max_per_lang", "min_train_per_lang", "hallucinate", "seed"):
            v = getattr(self, k)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                out.append(f"{k} -> must be an integer >= 0, got {v!r}")
        for k, lo, hi in (("dropout", 0.0, 0.99), ("label_smoothing", 0.0, 0.99)):
            v = getattr(self, k)
            if not isinstance(v, (int, float)) or not lo <= v <= hi:
                out.append(f"{k} -> must be a number in [{lo}, {hi}], got {v!r}")
        for k in ("lr", "clip_norm"):
            v = getattr(self, k)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not v > 0:
                out.append(f"{k} -> must be a positive number, got {v!r}")
        for k in ("invariant", "multilingual"):
            if not isinstance(getattr(self, k), bool):
                out.append(f"{k} -> must be true or false, got {getattr(self, k)!r}")
        if (
            isinstance(self.d_model, int)
            and isinstance(self.n_heads, int)
            and self.n_heads > 0
            and self.d_model % self.n_heads
        ):
            out.append(f"d_model -> {self.d_model} is not divisible by n_heads={self.n_heads}")
        return out

    def validate(self, source: str = "") -> NeuralConfig:
        """Return ``self``, or raise :class:`ConfigError` listing every problem."""
        problems = self.problems()
        if problems:
            raise ConfigError(problems, source)
        return self

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "") -> NeuralConfig:
        """Build from a mapping (``preset: cpu|tiny|default`` picks the base); every unknown
        key and invalid value is reported in one :class:`ConfigError`."""
        values = dict(values)
        preset = values.pop("preset", "default")
        known = [f.name for f in fields(cls)]
        problems = [unknown_key(str(k), k, ["preset", *known]) for k in values if k not in known]
        if preset not in ("default", "cpu", "tiny"):
            problems.append(f"preset -> must be default, cpu or tiny, got {preset!r}")
            preset = "default"
        clean = {k: v for k, v in values.items() if k in known}
        try:
            cfg = {"default": cls, "cpu": cls.cpu, "tiny": cls.tiny}[preset](**clean)
        except TypeError as exc:  # pragma: no cover - unknown keys are filtered above
            raise ConfigError([str(exc)], source) from None
        problems += cfg.problems()
        if problems:
            raise ConfigError(problems, source)
        return cfg

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def training_view(self) -> dict[str, Any]:
        """The settings a resumed run must share with the first (``beam`` only affects decoding)."""
        d = asdict(self)
        d.pop("beam")
        return d


def load_config(path: str | os.PathLike | None, **overrides: Any) -> NeuralConfig:
    """Read a YAML config (the ``neural:`` section if present, read with
    :func:`lexiconlm.config.read_config`), apply overrides (``None`` ones are ignored), validate.

    Raises:
        ConfigError: a missing or unreadable file, or every invalid key/value.
    """
    raw = read_config(path, section="neural", hint="neural inflector configs live in configs/sigmorphon/")
    values, source = raw.values, raw.source
    values.update({k: v for k, v in overrides.items() if v is not None})
    return NeuralConfig.from_dict(values, source)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class LanguageData:
    """One language (or setting) of a training run: its tag, training and dev entries."""

    tag: str
    train: Sequence[InflectionEntry]
    dev: Sequence[InflectionEntry] = ()


def _lang_token(tag: str) -> str:
    return f"<lang:{tag}>"


def _tag_token(tag: str) -> str:
    return f"[{tag}]"


@dataclass
class Vocab:
    """Token list shared by source and target: specials, characters, ``[TAG]`` tokens, ``<lang:x>`` tokens."""

    tokens: list[str] = field(default_factory=lambda: list(SPECIALS))

    def __post_init__(self) -> None:
        self.index = {t: i for i, t in enumerate(self.tokens)}

    def add(self, token: str) -> None:
        if token not in self.index:
            self.index[token] = len(self.tokens)
            self.tokens.append(token)

    def __len__(self) -> int:
        return len(self.tokens)

    @classmethod
    def build(cls, data: Sequence[LanguageData]) -> Vocab:
        chars: set[str] = set()
        tags: set[str] = set()
        for d in data:
            for e in d.train:
                chars.update(e.lemma)
                chars.update(e.form or "")
                tags.update(split_features(e.features))
        v = cls()
        for c in sorted(chars):
            v.add(c)
        for t in sorted(tags):
            v.add(_tag_token(t))
        for d in data:
            v.add(_lang_token(d.tag))
        return v

    def encode_source(
        self, entry: InflectionEntry, tag: str | None, invariant: bool
    ) -> tuple[list[int], list[int], list[int]]:
        """(token ids, positions, types) of ``[<lang>] [TAG]... c h a r s``."""
        ids: list[int] = []
        types: list[int] = []
        if tag is not None:
            ids.append(self.index.get(_lang_token(tag), UNK))
            types.append(LANG)
        for t in split_features(entry.features):
            ids.append(self.index.get(_tag_token(t), UNK))
            types.append(TAG)
        n_prefix = len(ids)
        for c in entry.lemma:
            ids.append(self.index.get(c, UNK))
            types.append(CHAR)
        if invariant:
            pos = [0] * n_prefix + list(range(1, len(entry.lemma) + 1))
        else:
            pos = list(range(len(ids)))
            types = [CHAR] * len(ids)
        return ids, pos, types

    def encode_target(self, form: str) -> list[int]:
        return [self.index.get(c, UNK) for c in form] + [EOS]

    def decode(self, ids: Iterable[int]) -> str:
        out = []
        for i in ids:
            if i == EOS:
                break
            if i < len(SPECIALS):
                continue
            out.append(self.tokens[i])
        return "".join(out)

    def output_mask(self) -> list[bool]:
        """Tokens the decoder may emit: characters and EOS (never specials, tags or language tokens)."""
        return [
            i == EOS
            or (
                i >= len(SPECIALS)
                and not (t.startswith("[") and t.endswith("]") and len(t) > 2)
                and not t.startswith("<lang:")
            )
            for i, t in enumerate(self.tokens)
        ]


def data_fingerprint(data: Sequence[LanguageData]) -> str:
    """A hash of every training and dev entry (and tag): a resumed run must see the same data."""
    h = hashlib.sha256()
    for d in data:
        h.update(f"\x00{d.tag}\x00".encode())
        for split in (d.train, d.dev):
            h.update(b"\x01")
            for e in split:
                h.update(f"{e.lemma}\t{e.form}\t{e.features}\n".encode())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- model


def _build_model(cfg: NeuralConfig, vocab_size: int):
    torch = _torch()
    nn = torch.nn

    class CharTransformer(nn.Module):
        """Pre-norm encoder-decoder transformer with tied embeddings and token-type embeddings."""

        def __init__(self) -> None:
            super().__init__()
            d = cfg.d_model
            self.d = d
            self.embed = nn.Embedding(vocab_size, d, padding_idx=PAD)
            nn.init.normal_(self.embed.weight, mean=0.0, std=d**-0.5)
            with torch.no_grad():
                self.embed.weight[PAD].zero_()
            self.type_embed = nn.Embedding(3, d)
            nn.init.normal_(self.type_embed.weight, mean=0.0, std=d**-0.5)
            max_pos = 1024
            pe = torch.zeros(max_pos, d)
            position = torch.arange(max_pos, dtype=torch.float).unsqueeze(1)
            div = torch.exp(torch.arange(0, d, 2, dtype=torch.float) * (-math.log(10000.0) / d))
            pe[:, 0::2] = torch.sin(position * div)
            pe[:, 1::2] = torch.cos(position * div[: d // 2])
            self.register_buffer("pe", pe, persistent=False)
            self.drop = nn.Dropout(cfg.dropout)
            enc_layer = nn.TransformerEncoderLayer(
                d, cfg.n_heads, cfg.d_ff, cfg.dropout, batch_first=True, norm_first=True
            )
            dec_layer = nn.TransformerDecoderLayer(
                d, cfg.n_heads, cfg.d_ff, cfg.dropout, batch_first=True, norm_first=True
            )
            self.encoder = nn.TransformerEncoder(
                enc_layer, cfg.n_enc_layers, norm=nn.LayerNorm(d), enable_nested_tensor=False
            )
            self.decoder = nn.TransformerDecoder(dec_layer, cfg.n_dec_layers, norm=nn.LayerNorm(d))

        def encode(self, src, pos, types):
            x = self.embed(src) * math.sqrt(self.d) + self.pe[pos] + self.type_embed(types)
            mask = src.eq(PAD)
            return self.encoder(self.drop(x), src_key_padding_mask=mask), mask

        def decode(self, tgt_in, memory, memory_mask):
            t = tgt_in.size(1)
            pos = torch.arange(t, device=tgt_in.device)
            y = self.embed(tgt_in) * math.sqrt(self.d) + self.pe[pos].unsqueeze(0)
            causal = torch.triu(torch.ones(t, t, dtype=torch.bool, device=tgt_in.device), diagonal=1)
            h = self.decoder(
                self.drop(y),
                memory,
                tgt_mask=causal,
                tgt_key_padding_mask=tgt_in.eq(PAD),
                memory_key_padding_mask=memory_mask,
            )
            return h @ self.embed.weight.t()  # tied output projection

        def forward(self, src, pos, types, tgt_in):
            memory, mask = self.encode(src, pos, types)
            return self.decode(tgt_in, memory, mask)

    return CharTransformer()


def _pad(rows: Sequence[Sequence[int]], value: int = PAD):
    torch = _torch()
    width = max((len(r) for r in rows), default=1) or 1
    out = torch.full((len(rows), width), value, dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            out[i, : len(r)] = torch.tensor(r, dtype=torch.long)
    return out


def _source_batch(encoded: Sequence[tuple[list[int], list[int], list[int]]], device: str):
    src = _pad([e[0] for e in encoded]).to(device)
    pos = _pad([e[1] for e in encoded], 0).to(device)
    types = _pad([e[2] for e in encoded], 0).to(device)
    return src, pos, types


def _autocast(device: str):
    """bf16 autocast on CUDA, none on CPU (:func:`lexiconlm.training.autocast`)."""
    from lexiconlm.training import autocast  # imports torch

    return autocast(device)


def _greedy(model, src, pos, types, max_len: int, allowed, device: str) -> list[list[int]]:
    torch = _torch()
    with torch.no_grad(), _autocast(device):
        memory, mask = model.encode(src, pos, types)
        b = src.size(0)
        ys = torch.full((b, 1), BOS, dtype=torch.long, device=src.device)
        done = torch.zeros(b, dtype=torch.bool, device=src.device)
        for _ in range(max_len):
            logits = model.decode(ys, memory, mask)[:, -1].float()
            logits = logits.masked_fill(~allowed, float("-inf"))
            nxt = logits.argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, PAD), nxt)
            ys = torch.cat([ys, nxt.unsqueeze(1)], dim=1)
            done |= nxt.eq(EOS)
            if bool(done.all()):
                break
    return ys[:, 1:].tolist()


def _beam(model, src, pos, types, max_len: int, allowed, device: str, k: int) -> list[list[int]]:
    """Batched beam search; scores are summed log-probabilities of finished hypotheses."""
    torch = _torch()
    with torch.no_grad(), _autocast(device):
        memory, mask = model.encode(src, pos, types)
        b = src.size(0)
        memory = memory.repeat_interleave(k, dim=0)
        mask = mask.repeat_interleave(k, dim=0)
        ys = torch.full((b * k, 1), BOS, dtype=torch.long, device=src.device)
        scores = torch.full((b, k), float("-inf"), device=src.device)
        scores[:, 0] = 0.0
        finished = torch.zeros(b * k, dtype=torch.bool, device=src.device)
        for _ in range(max_len):
            logp = model.decode(ys, memory, mask)[:, -1].float().log_softmax(-1)
            logp = logp.masked_fill(~allowed, float("-inf"))
            v = logp.size(-1)
            # a finished hypothesis continues only with PAD at no cost
            fin = torch.full_like(logp, float("-inf"))
            fin[:, PAD] = 0.0
            logp = torch.where(finished.unsqueeze(1), fin, logp)
            cand = (scores.view(-1, 1) + logp).view(b, k * v)
            top, idx = cand.topk(k, dim=-1)
            beam_idx = idx // v
            tok = idx % v
            base = (torch.arange(b, device=src.device) * k).unsqueeze(1)
            rows = (base + beam_idx).view(-1)
            ys = torch.cat([ys[rows], tok.view(-1, 1)], dim=1)
            finished = finished[rows] | tok.view(-1).eq(EOS)
            scores = top
            if bool(finished.all()):
                break
        best = scores.argmax(-1)
        rows = torch.arange(b, device=src.device) * k + best
    return ys[rows, 1:].tolist()


# --------------------------------------------------------------------------- training


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` did: steps, best dev score and where, per-language dev accuracy, timing."""

    out_dir: str
    steps: int
    best_step: int
    best_dev: float
    dev_accuracy: dict[str, float]
    seconds: float
    device: str
    n_params: int
    stopped: str
    resumed_from: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _save(torch, obj: Any, path: Path) -> None:
    """``best.pt``: the model's weights alone, read back with ``torch.load(weights_only=True)``."""
    with atomic_write(path, "wb") as fh:
        torch.save(obj, fh)


_RESTART = "rerun with --no-resume (resume=False) to start the run over"


def _check_resume(run_file: Path, expected: dict[str, Any]) -> None:
    """Refuse to resume a run whose config or data differ from this call's."""
    try:
        previous = json.loads(run_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError([f"{run_file} -> cannot read the previous run's record ({exc})"]) from None
    problems = []
    old_cfg, new_cfg = previous.get("config", {}), expected["config"]
    for k in sorted(set(old_cfg) | set(new_cfg)):
        if old_cfg.get(k) != new_cfg.get(k):
            problems.append(f"config.{k} -> was {old_cfg.get(k)!r} in the checkpoint, now {new_cfg.get(k)!r}")
    if previous.get("tags") != expected["tags"]:
        problems.append(f"tags -> the checkpoint was trained on {previous.get('tags')}, now {expected['tags']}")
    if previous.get("data") != expected["data"]:
        problems.append(
            "data -> the training or dev entries differ from the checkpoint's (fingerprint "
            f"{previous.get('data')} vs {expected['data']})"
        )
    if problems:
        problems.append(
            f"fix: resume with the original settings, use a new output folder, or pass resume=False "
            f"(--no-resume) to start {run_file.parent} over"
        )
        raise ConfigError(problems, f"(resuming {run_file.parent})")


def _examples(
    cfg: NeuralConfig, vocab: Vocab, data: Sequence[LanguageData]
) -> list[tuple[list[int], list[int], list[int], list[int]]]:
    out = []
    for d in data:
        tag = d.tag if cfg.multilingual else None
        items = list(d.train)
        if cfg.min_train_per_lang and items and len(items) < cfg.min_train_per_lang:
            reps = math.ceil(cfg.min_train_per_lang / len(items))
            items = (items * reps)[: max(cfg.min_train_per_lang, len(d.train))]
        for e in items:
            ids, pos, types = vocab.encode_source(e, tag, cfg.invariant)
            out.append((ids, pos, types, vocab.encode_target(e.form or "")))
    return out


def _evaluate_dev(model, cfg, vocab, data, device, allowed, limit: int) -> dict[str, float]:
    accs = {}
    for d in data:
        dev = list(d.dev)[: limit or None]
        if not dev:
            continue
        preds = _predict(model, cfg, vocab, dev, d.tag if cfg.multilingual else None, device, allowed, beam=1)
        accs[d.tag] = 100.0 * sum(p == (e.form or "") for p, e in zip(preds, dev)) / len(dev)
    return accs


def _predict(model, cfg, vocab, entries, tag, device, allowed, beam: int = 1, batch_size: int = 512) -> list[str]:
    torch = _torch()
    was_training = model.training
    model.eval()
    encoded = [vocab.encode_source(e, tag, cfg.invariant) for e in entries]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
    out: list[str] = [""] * len(encoded)
    bs = max(1, batch_size // beam)
    for start in range(0, len(order), bs):
        idx = order[start : start + bs]
        src, pos, types = _source_batch([encoded[i] for i in idx], device)
        n_chars = max(len(entries[i].lemma) for i in idx)
        max_len = min(1000, 2 * n_chars + 20)
        if beam > 1:
            rows = _beam(model, src, pos, types, max_len, allowed, device, beam)
        else:
            rows = _greedy(model, src, pos, types, max_len, allowed, device)
        for i, r in zip(idx, rows):
            out[i] = vocab.decode(r)
    if was_training:
        model.train()
    del torch
    return out


def train(
    config: NeuralConfig,
    data: Sequence[LanguageData],
    out_dir: str | os.PathLike,
    *,
    device: str = "auto",
    resume: bool = True,
    progress: bool = True,
    stop_after_steps: int | None = None,
    time_budget_s: float | None = None,
    desc: str = "train",
) -> TrainResult:
    """Train one model on one or several languages; resumable, with early stopping on dev.

    Args:
        config: the hyper-parameters (validated first; every problem listed).
        data: one :class:`LanguageData` per language / setting (tags must be unique);
            dev entries drive early stopping (mean of per-language accuracies).
        out_dir: run folder: ``run.json``, ``checkpoint/``, ``best.pt``,
            ``vocab.json``, ``model.json``, ``result.json``.
        device: ``auto``, ``cpu`` or ``cuda[:N]`` (bf16 autocast on CUDA).
        resume: continue from ``checkpoint/`` if present (refused with
            :class:`ConfigError` when config or data changed); False starts over.
        progress: show a progress bar.
        stop_after_steps: stop (as a kill would) after this many steps in total,
            leaving the checkpoint; for tests and for slicing long runs.
        time_budget_s: end training (evaluate, keep the best weights, write the result)
            once the run's accumulated training time, resumed parts included, reaches
            this many seconds. Not part of the config: a resumed run may set another.
        desc: the progress bar's label.

    Returns:
        :class:`TrainResult` (also written to ``out_dir/result.json`` when training ends).

    Raises:
        ConfigError: invalid config, duplicate tags, no training data, or a resume with
            a changed config/data.
        CheckpointError: a truncated or damaged checkpoint, or an old pickle
            ``checkpoint.pt`` (never opened); the message names the file and the fix.
    """
    torch = _torch()
    from lexiconlm import training  # imports torch

    config.validate()
    tags = [d.tag for d in data]
    problems = []
    if not data:
        problems.append("data -> no languages given")
    if len(set(tags)) != len(tags):
        problems.append(f"data -> duplicate language tags: {sorted({t for t in tags if tags.count(t) > 1})}")
    for d in data:
        if not d.train:
            problems.append(f"data.{d.tag} -> no training entries")
        if any(e.form is None for e in d.train):
            problems.append(f"data.{d.tag} -> training entries without a form (a covered file?)")
    if len(data) > 1 and not config.multilingual:
        problems.append("multilingual -> several languages need multilingual: true (the language tag token)")
    if problems:
        raise ConfigError(problems)
    dev_name = resolve_device(device)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "signature": SIGNATURE_VERSION,
        "config": config.training_view(),
        "tags": tags,
        "data": data_fingerprint(data),
    }
    run_file, ckpt_dir, result_file = out / "run.json", out / "checkpoint", out / "result.json"
    legacy = [out / "checkpoint.pt"]  # the pickle checkpoint of earlier versions: never opened
    if resume and run_file.exists():
        _check_resume(run_file, record)
        if result_file.exists():
            return TrainResult(**json.loads(result_file.read_text(encoding="utf-8")))
    else:
        training.remove_checkpoint(ckpt_dir, legacy=legacy)
        for f in (result_file, out / "best.pt"):
            if f.exists():
                f.unlink()
    atomic_write_text(run_file, json.dumps(record, indent=1, ensure_ascii=False) + "\n")

    training.seed_all(config.seed)
    vocab = Vocab.build(data)
    atomic_write_text(out / "vocab.json", json.dumps(vocab.tokens, ensure_ascii=False) + "\n")
    atomic_write_text(
        out / "model.json",
        json.dumps({"signature": SIGNATURE_VERSION, "config": config.to_dict(), "tags": tags}, indent=1) + "\n",
    )
    model = _build_model(config, len(vocab)).to(dev_name)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, betas=(0.9, 0.98))
    warm = max(1, config.warmup_steps)

    def schedule(step: int) -> float:  # linear warmup, then inverse square root
        s = step + 1
        return min(s / warm, math.sqrt(warm / s)) if config.warmup_steps else 1.0

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    allowed = torch.tensor(vocab.output_mask(), device=dev_name)
    examples = _examples(config, vocab, data)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=config.label_smoothing)

    state = {
        "step": 0,
        "epoch": 0,
        "batch": 0,
        "best": -1.0,
        "best_step": 0,
        "bad": 0,
        "history": [],
        "dev": {},
        "seconds": 0.0,
    }
    resumed_from = 0
    if resume and training.checkpoint_exists(ckpt_dir, legacy=legacy):
        # tensors come back on the CPU; load_state_dict moves weights and optimizer state to
        # the device
        ck = training.load_checkpoint(ckpt_dir, restart_hint=_RESTART, legacy=legacy)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        state.update(ck["state"])
        training.restore_rng(ck["rng"])
        resumed_from = state["step"]

    def checkpoint() -> None:
        training.save_checkpoint(
            ckpt_dir,
            {
                "model": model.state_dict(),
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "state": state,
                "rng": training.capture_rng(),
            },
        )

    n = len(examples)
    n_batches = math.ceil(n / config.batch_size)
    stopped = "max_steps"
    bar = None
    if progress:
        bar = tqdm(
            total=config.max_steps, initial=state["step"], desc=desc, unit="step", leave=False, dynamic_ncols=True
        )
    t0 = time.perf_counter()
    seconds0 = state["seconds"]
    model.train()
    finished = False
    if time_budget_s is not None and seconds0 >= time_budget_s and state["step"] > 0:
        accs = _evaluate_dev(model, config, vocab, data, dev_name, allowed, config.eval_max_per_lang)
        score = sum(accs.values()) / len(accs) if accs else state["best"]
        if score > state["best"]:
            state.update(best=score, best_step=state["step"], bad=0, dev=accs)
            _save(torch, model.state_dict(), out / "best.pt")
        stopped, finished = "time_budget", True
    while not finished:
        g = torch.Generator().manual_seed(config.seed * 100003 + state["epoch"])
        perm = torch.randperm(n, generator=g).tolist()
        while state["batch"] < n_batches:
            if state["step"] >= config.max_steps:
                finished = True
                break
            if stop_after_steps is not None and state["step"] >= stop_after_steps:
                state["seconds"] = seconds0 + time.perf_counter() - t0
                checkpoint()
                if bar is not None:
                    bar.close()
                return TrainResult(
                    str(out),
                    state["step"],
                    state["best_step"],
                    state["best"],
                    state["dev"],
                    state["seconds"],
                    dev_name,
                    n_params,
                    "interrupted",
                    resumed_from,
                )
            b = state["batch"]
            batch = [examples[i] for i in perm[b * config.batch_size : (b + 1) * config.batch_size]]
            src, pos, types = _source_batch([x[:3] for x in batch], dev_name)
            tgt = _pad([[BOS] + x[3] for x in batch]).to(dev_name)
            tgt_in, tgt_out = tgt[:, :-1], tgt[:, 1:]
            with _autocast(dev_name):
                logits = model(src, pos, types, tgt_in)
            loss = loss_fn(logits.float().reshape(-1, logits.size(-1)), tgt_out.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
            opt.step()
            sched.step()
            state["step"] += 1
            state["batch"] += 1
            step = state["step"]
            over_budget = time_budget_s is not None and seconds0 + time.perf_counter() - t0 >= time_budget_s
            if bar is not None:
                bar.update(1)
                if step % 25 == 0:  # .item() waits for the GPU: not on every step
                    bar.set_postfix(loss=f"{loss.item():.3f}", dev=f"{state['best']:.1f}", refresh=False)
            if step % config.eval_every == 0 or step == config.max_steps or over_budget:
                accs = _evaluate_dev(model, config, vocab, data, dev_name, allowed, config.eval_max_per_lang)
                score = sum(accs.values()) / len(accs) if accs else -float(loss.item())
                state["history"].append({"step": step, "loss": float(loss.item()), "dev": score})
                if score > state["best"]:
                    state.update(best=score, best_step=step, bad=0, dev=accs)
                    _save(torch, model.state_dict(), out / "best.pt")
                else:
                    state["bad"] += 1
                state["seconds"] = seconds0 + time.perf_counter() - t0
                checkpoint()
                if config.patience and state["bad"] >= config.patience:
                    stopped = "early_stopping"
                    finished = True
                    break
                if over_budget:
                    stopped = "time_budget"
                    finished = True
                    break
            elif step % config.save_every == 0:
                state["seconds"] = seconds0 + time.perf_counter() - t0
                checkpoint()
        else:
            state["epoch"] += 1
            state["batch"] = 0
    if bar is not None:
        bar.close()
    if not (out / "best.pt").exists():
        _save(torch, model.state_dict(), out / "best.pt")
    state["seconds"] = seconds0 + time.perf_counter() - t0
    checkpoint()
    result = TrainResult(
        str(out),
        state["step"],
        state["best_step"],
        state["best"],
        state["dev"],
        state["seconds"],
        dev_name,
        n_params,
        stopped,
        resumed_from,
    )
    atomic_write_text(result_file, json.dumps(result.to_dict(), indent=1) + "\n")
    return result


# --------------------------------------------------------------------------- prediction


class NeuralInflector:
    """A trained model folder, ready to inflect (see :func:`train`).

    Example:
        >>> m = NeuralInflector.load("runs/sigmorphon/2022/neural/models/small")  # doctest: +SKIP
        >>> m.predict([InflectionEntry("kala", None, "N;PL")], tag="hun_small")  # doctest: +SKIP
    """

    def __init__(self, model, config: NeuralConfig, vocab: Vocab, tags: list[str], device: str, path: str = ""):
        self.model = model
        self.config = config
        self.vocab = vocab
        self.tags = tags
        self.device = device
        self.path = path
        torch = _torch()
        self._allowed = torch.tensor(vocab.output_mask(), device=device)

    @classmethod
    def load(cls, path: str | os.PathLike, *, device: str = "auto") -> NeuralInflector:
        """Load ``model.json``, ``vocab.json`` and ``best.pt`` from a run folder.

        Raises:
            ConfigError: the folder is not a trained model folder (says which file is missing).
        """
        torch = _torch()
        p = Path(path)
        missing = [f for f in ("model.json", "vocab.json", "best.pt") if not (p / f).is_file()]
        if missing:
            raise ConfigError(
                [f"{p / f} -> missing" for f in missing]
                + ["fix: give the folder written by `lexiconlm sigmorphon run --system neural` (models/<group>)"],
                str(p),
            )
        meta = json.loads((p / "model.json").read_text(encoding="utf-8"))
        cfg = NeuralConfig.from_dict(meta["config"], str(p / "model.json"))
        vocab = Vocab(json.loads((p / "vocab.json").read_text(encoding="utf-8")))
        dev = resolve_device(device)
        model = _build_model(cfg, len(vocab)).to(dev)
        model.load_state_dict(torch.load(p / "best.pt", map_location=dev, weights_only=True))
        model.eval()
        return cls(model, cfg, vocab, list(meta["tags"]), dev, str(p))

    def predict(
        self,
        entries: Sequence[InflectionEntry],
        *,
        tag: str | None = None,
        beam: int | None = None,
        batch_size: int = 512,
    ) -> list[str]:
        """Predicted forms, one per entry in input order.

        Args:
            entries: lemma and features (``form`` ignored).
            tag: the language tag the model was trained with; may be omitted when it has one.
            beam: beam width (default: the config's ``beam``; 1 is greedy).

        Raises:
            ConfigError: an unknown tag, or no tag for a multilingual model with several.
        """
        if self.config.multilingual:
            if tag is None:
                if len(self.tags) != 1:
                    raise ConfigError([f"tag -> this model serves {len(self.tags)} languages; pick one of {self.tags}"])
                tag = self.tags[0]
            if tag not in self.tags:
                close = difflib.get_close_matches(tag, self.tags, n=3)
                raise ConfigError(
                    [
                        f"tag -> {tag!r} is not a language of this model"
                        + (f"; did you mean {', '.join(close)}?" if close else f" ({self.tags})")
                    ]
                )
        else:
            tag = None
        k = beam or self.config.beam
        if not entries:
            return []
        return _predict(
            self.model,
            self.config,
            self.vocab,
            list(entries),
            tag,
            self.device,
            self._allowed,
            beam=k,
            batch_size=batch_size,
        )
