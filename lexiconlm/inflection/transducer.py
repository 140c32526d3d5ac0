"""A hard-attention transducer over edit actions: a small, CPU-efficient neural inflector.

The model belongs to the family of Aharoni & Goldberg (2017), "Morphological Inflection
Generation with Hard Monotonic Attention", and Makarov & Clematide (2018), "Neural
Transition-based String Transduction for Limited-Resource Setting in Morphology". It does
not write the form character by character from scratch: it walks a pointer over the lemma,
left to right, and at each step chooses one edit action:

=============  ==========================================  ============
action         effect                                      pointer
=============  ==========================================  ============
``COPY``       write the lemma character under the pointer  moves on
``DEL``        skip the lemma character under the pointer   moves on
``INS(c)``     write the character ``c``                    stays
``END``        stop (only once the pointer is past the end)
=============  ==========================================  ============

A substitution is ``INS(c)`` followed by ``DEL``. Copying makes the model indifferent to
characters it never saw (a new kanji in a Japanese lemma is copied like any other), and
the monotonic pointer is the inductive bias that lets it learn from a few hundred pairs.

Model
    an encoder BiLSTM over the lemma's characters and an end-of-lemma marker; the feature
    bundle as a set of embeddings (one per top-level UniMorph feature, layered features
    such as ``NOM(3,SG)`` kept whole), summed (``features: sum``) or, in addition, attended
    to from the decoder state at every step (``features: attention``); a decoder LSTM whose
    input at step *t* is the previous action, the encoder state under the pointer and the
    summed features; a one-hidden-layer scorer over ``[decoder state; encoder state under the
    pointer; features]``. Actions that are impossible at the pointer's position are masked
    (``END`` before the end, ``COPY``/``DEL`` at the end).

Training
    teacher forcing on an *oracle* action sequence: the minimal edit alignment of lemma and
    form (copy costs 0, insertion and deletion 1, so a substitution costs 2), preferring a
    copy, then an insertion, then a deletion at each step from the left (:func:`oracle`).
    The oracle also fixes where the pointer is at every step, so a whole batch is one
    encoder call, one decoder call and one loss, sequences padded. Adam, dropout, one dev
    evaluation (greedy, exact match) per epoch, the best epoch's weights kept, early stopping
    after ``patience`` epochs without improvement. fp32 on CPU, bf16 autocast on CUDA.

Decoding
    greedy, batched: each example's pointer moves with its own actions. Insertions are
    capped (``max_inserts`` per word, from the training data), so decoding ends after at most
    ``len(lemma) + max_inserts + 1`` steps whatever the weights are. ``seeds > 1`` trains
    that many models (seeds ``seed``, ``seed + 1`` ...) and decodes with the sum of their
    log-probabilities, step by step.

Run folder (``out_dir``)::

    run.json              signature, config, data fingerprint (a resume must match)
    vocab.json            characters, inserted characters, features, max_inserts
    seed-<k>/checkpoint/  lexiconlm.training checkpoint, written after every epoch
    seed-<k>/best/        the best epoch's weights (safetensors + JSON)
    seed-<k>/result.json  written when that seed's training ends
    result.json           every seed's result and the ensemble's dev accuracy

A killed run resumes from the last finished epoch and, on CPU, ends with the weights of an
uninterrupted run (shuffling is seeded per epoch, the RNG state is in the checkpoint).

Example:
    >>> from lexiconlm.types import InflectionEntry as E
    >>> oracle("sing", "sang")
    [('copy', ''), ('ins', 'a'), ('del', ''), ('copy', ''), ('copy', ''), ('end', '')]
    >>> apply_actions("sing", oracle("sing", "sang"))
    'sang'
    >>> train = [E("walk", "walked", "V;PST")] * 8                  # doctest: +SKIP
    >>> result = train_transducer(TransducerConfig.tiny(), train, (), "runs/t")  # doctest: +SKIP
    >>> TransducerInflector.load("runs/t").predict([E("talk", None, "V;PST")])  # doctest: +SKIP

Why one module of about 950 lines: the model, its oracle, batching, training loop and decoding
are one system; the machinery is in lexiconlm.training.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from lexiconlm.config import check_choice, check_int, check_number, load, raise_problems
from lexiconlm.devices import resolve_device
from lexiconlm.errors import ConfigError
from lexiconlm.files import atomic_write_text
from lexiconlm.training import (
    autocast,
    capture_rng,
    checkpoint_exists,
    load_checkpoint,
    remove_checkpoint,
    restore_rng,
    save_checkpoint,
)
from lexiconlm.types import InflectionEntry, split_features

__all__ = [
    "SIGNATURE_VERSION",
    "Action",
    "TransducerConfig",
    "TransducerInflector",
    "TransducerResult",
    "TransducerVocab",
    "apply_actions",
    "load_config",
    "oracle",
    "train_transducer",
]

SIGNATURE_VERSION = "hard-attention-transducer.v1"

#: One edit action: ``("copy", "")``, ``("del", "")``, ``("ins", c)`` or ``("end", "")``.
Action = tuple[str, str]

# Action ids: PAD (padding, never predicted), BOS (the decoder's first input), then the actions.
A_PAD, A_BOS, A_END, A_COPY, A_DEL, A_INS = 0, 1, 2, 3, 4, 5
# Character ids of the encoder: PAD, UNK (a character not seen in training), EOW (end of lemma).
C_PAD, C_UNK, C_EOW, C_FIRST = 0, 1, 2, 3
# Feature ids: PAD, NULL (a slot every bundle has, so an unseen bundle is never empty).
F_PAD, F_NULL, F_FIRST = 0, 1, 2
# Room left above the most insertions any training pair needs, for the decoding cap.
INSERT_SLACK = 10


# --------------------------------------------------------------------------- oracle


def oracle(lemma: str, form: str) -> list[Action]:
    """The oracle action sequence that turns ``lemma`` into ``form``, ending with ``end``.

    A minimal edit alignment where a copy (equal characters) costs 0 and an insertion or a
    deletion 1 (a substitution is an insertion and a deletion, cost 2). Of the minimal ones,
    the sequence taking, at each step from the left, a copy if one is on a minimal path,
    else an insertion, else a deletion: inserted characters are written while the pointer
    is still on the character they replace, so the model sees it.

    Args:
        lemma: the input string (may be empty, contain spaces or combining marks).
        form: the output string.

    Returns:
        The actions; :func:`apply_actions` on ``lemma`` gives ``form`` back.

    Example:
        >>> oracle("ab", "xb")
        [('ins', 'x'), ('del', ''), ('copy', ''), ('end', '')]
    """
    n, m = len(lemma), len(form)
    # rest[i][j]: the cheapest edit of lemma[i:] into form[j:].
    rest = [[0] * (m + 1) for _ in range(n + 1)]
    for j in range(m - 1, -1, -1):
        rest[n][j] = rest[n][j + 1] + 1
    for i in range(n - 1, -1, -1):
        row, below = rest[i], rest[i + 1]
        row[m] = below[m] + 1
        a = lemma[i]
        for j in range(m - 1, -1, -1):
            best = min(row[j + 1], below[j]) + 1
            if a == form[j] and below[j + 1] < best:
                best = below[j + 1]
            row[j] = best
    out: list[Action] = []
    i = j = 0
    while i < n or j < m:
        here = rest[i][j]
        if i < n and j < m and lemma[i] == form[j] and rest[i + 1][j + 1] == here:
            out.append(("copy", ""))
            i += 1
            j += 1
        elif j < m and rest[i][j + 1] + 1 == here:
            out.append(("ins", form[j]))
            j += 1
        else:
            out.append(("del", ""))
            i += 1
    out.append(("end", ""))
    return out


def apply_actions(lemma: str, actions: Iterable[Action]) -> str:
    """The string that ``actions`` write over ``lemma`` (up to ``end`` or the last action).

    Raises:
        ValueError: a ``copy``/``del`` past the end of the lemma, or an unknown action.
    """
    out: list[str] = []
    p = 0
    for kind, ch in actions:
        if kind == "end":
            break
        if kind == "ins":
            out.append(ch)
        elif kind in ("copy", "del"):
            if p >= len(lemma):
                raise ValueError(f"{kind} past the end of {lemma!r}")
            if kind == "copy":
                out.append(lemma[p])
            p += 1
        else:
            raise ValueError(f"unknown action {kind!r}")
    return "".join(out)


def _pointers(actions: Sequence[Action]) -> list[int]:
    """The pointer position before each action."""
    out, p = [], 0
    for kind, _ in actions:
        out.append(p)
        if kind in ("copy", "del"):
            p += 1
    return out


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class TransducerConfig:
    """Sizes, training and decoding settings of the transducer.

    Attributes:
        char_dim, action_dim, feat_dim: embedding sizes of lemma characters, actions and
            features.
        enc_hidden: encoder LSTM size per direction (the encoder state is twice this).
        dec_hidden: decoder LSTM size (and the scorer's hidden layer).
        dropout: on embeddings and LSTM outputs.
        features: ``sum`` (the bundle as the sum of its feature embeddings) or ``attention``
            (also attended to from the decoder state at every step).
        batch_size, lr, clip_norm: Adam training.
        lr_decay, lr_patience: the learning rate is multiplied by ``lr_decay`` after every
            ``lr_patience`` epochs without dev improvement (``lr_decay: 1.0``: constant).
        max_epochs: upper bound on epochs over the training data.
        patience: epochs without dev improvement before stopping (0: never stop early).
        seeds: models trained and ensembled (seeds ``seed`` .. ``seed + seeds - 1``).
        hallucinate: hallucinated pairs added to the training data (the runner adds them,
            see :mod:`lexiconlm.inflection.hallucinate`).
        hallucinate_below: add them only when the training file has fewer pairs than this
            (0: always); e.g. 2000 hallucinates for the 700-pair 2022 small settings only.
        eval_max: dev items used for early stopping (0: all).
        seed: the first seed.
    """

    char_dim: int = 100
    action_dim: int = 100
    feat_dim: int = 100
    enc_hidden: int = 100
    dec_hidden: int = 200
    dropout: float = 0.3
    features: str = "sum"
    batch_size: int = 32
    lr: float = 1e-3
    clip_norm: float = 5.0
    lr_decay: float = 1.0
    lr_patience: int = 2
    max_epochs: int = 40
    patience: int = 8
    seeds: int = 1
    hallucinate: int = 0
    hallucinate_below: int = 0
    eval_max: int = 0
    seed: int = 13

    @classmethod
    def tiny(cls, **overrides: Any) -> TransducerConfig:
        """A model of a few thousand parameters, for tests."""
        base = {
            "char_dim": 8,
            "action_dim": 8,
            "feat_dim": 8,
            "enc_hidden": 12,
            "dec_hidden": 24,
            "dropout": 0.0,
            "batch_size": 8,
            "lr": 1e-2,
            "max_epochs": 30,
            "patience": 0,
        }
        return cls(**{**base, **overrides})

    def problems(self) -> list[str]:
        """Every invalid setting, as ``key -> message``."""
        out: list[str] = []
        for k in (
            "char_dim",
            "action_dim",
            "feat_dim",
            "enc_hidden",
            "dec_hidden",
            "batch_size",
            "max_epochs",
            "seeds",
            "lr_patience",
        ):
            check_int(getattr(self, k), k, out, minimum=1)
        for k in ("patience", "hallucinate", "hallucinate_below", "eval_max", "seed"):
            check_int(getattr(self, k), k, out, minimum=0)
        check_number(self.dropout, "dropout", out, low=0.0, high=1.0, high_open=True)
        check_number(self.lr, "lr", out, low=0.0, low_open=True)
        check_number(self.lr_decay, "lr_decay", out, low=0.0, high=1.0, low_open=True)
        check_number(self.clip_norm, "clip_norm", out, low=0.0, low_open=True)
        check_choice(self.features, "features", ("sum", "attention"), out)
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def hallucinates(self, n_train: int) -> int:
        """How many hallucinated pairs a training file of ``n_train`` pairs gets."""
        if self.hallucinate_below and n_train >= self.hallucinate_below:
            return 0
        return self.hallucinate

    @property
    def signature(self) -> str:
        """``hard-attention-transducer.v1|config:<hash>``: what the runner stores with results."""
        d = self.to_dict()
        if not d["hallucinate_below"]:  # added later: configs without it keep their signature
            d.pop("hallucinate_below")
        text = json.dumps(d, sort_keys=True)
        digest = hashlib.sha256(text.encode()).hexdigest()[:10]
        return f"{SIGNATURE_VERSION}|config:{digest}"


def load_config(
    config: TransducerConfig | Mapping | str | os.PathLike | None = None,
    *,
    overrides: Iterable[str] = (),
    **values: Any,
) -> TransducerConfig:
    """A :class:`TransducerConfig` from a YAML file or a mapping (a ``transducer:`` section is
    used when present), ``key=value`` overrides and keyword values; ``preset: tiny`` starts
    from :meth:`TransducerConfig.tiny`.

    Raises:
        ConfigError: an unreadable file, and every unknown key and invalid value at once.

    Example:
        >>> load_config({"dec_hidden": 64}, overrides=["seeds=2"]).seeds
        2
    """
    if isinstance(config, TransducerConfig):
        cfg = TransducerConfig(**{**config.to_dict(), **values})
        raise_problems(cfg.problems())
        return cfg
    hint = "transducer configs live in configs/sigmorphon/"
    first = load(config, None, overrides=overrides, section="transducer", hint=hint)
    preset = {**first.values, **values}.get("preset", "default")
    problems: list[str] = []
    if not check_choice(preset, "preset", ("default", "tiny"), problems):
        preset = "default"
    base = TransducerConfig.tiny() if preset == "tiny" else TransducerConfig()
    raw = load(config, {"preset": "default", **base.to_dict()}, overrides=overrides, section="transducer", hint=hint)
    given = {**raw.values, **values}
    given.pop("preset", None)
    raw.problems.extend(problems)
    try:
        cfg = TransducerConfig(**given)
    except TypeError as exc:  # an unknown keyword value
        raw.problems.append(str(exc))
        raw.raise_problems()
    raw.problems.extend(cfg.problems())
    raw.raise_problems()
    return cfg


# --------------------------------------------------------------------------- vocabulary


@dataclass
class TransducerVocab:
    """Lemma characters, insertable characters and features of a training set.

    Attributes:
        chars: encoder characters (ids from :data:`C_FIRST`).
        inserts: characters the decoder may insert (action ids from :data:`A_INS`).
        features: feature tokens (ids from :data:`F_FIRST`).
        max_inserts: the decoding cap on insertions per word.
    """

    chars: list[str]
    inserts: list[str]
    features: list[str]
    max_inserts: int

    def __post_init__(self) -> None:
        self.char_index = {c: i + C_FIRST for i, c in enumerate(self.chars)}
        self.insert_index = {c: i + A_INS for i, c in enumerate(self.inserts)}
        self.feature_index = {f: i + F_FIRST for i, f in enumerate(self.features)}

    @property
    def n_actions(self) -> int:
        return A_INS + len(self.inserts)

    @classmethod
    def build(cls, entries: Sequence[InflectionEntry], oracles: Sequence[list[Action]]) -> TransducerVocab:
        """From training entries and their oracle action sequences."""
        chars: set[str] = set()
        inserts: set[str] = set()
        feats: set[str] = set()
        most = 0
        for e, acts in zip(entries, oracles):
            chars.update(e.lemma)
            feats.update(split_features(e.features))
            ins = [c for k, c in acts if k == "ins"]
            inserts.update(ins)
            most = max(most, len(ins))
        return cls(sorted(chars), sorted(inserts), sorted(feats), most + INSERT_SLACK)

    def to_dict(self) -> dict[str, Any]:
        return {
            "chars": self.chars,
            "inserts": self.inserts,
            "features": self.features,
            "max_inserts": self.max_inserts,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TransducerVocab:
        return cls(list(d["chars"]), list(d["inserts"]), list(d["features"]), int(d["max_inserts"]))

    def encode_lemma(self, lemma: str) -> list[int]:
        """Character ids of the lemma followed by the end-of-lemma marker."""
        return [self.char_index.get(c, C_UNK) for c in lemma] + [C_EOW]

    def encode_features(self, features: str) -> list[int]:
        """The NULL slot and the ids of the bundle's known features (unknown ones dropped)."""
        index = self.feature_index
        return [F_NULL] + [index[f] for f in split_features(features) if f in index]

    def encode_actions(self, actions: Sequence[Action]) -> list[int] | None:
        """Action ids (``None`` when an insertion uses a character outside the vocabulary)."""
        out = []
        for kind, ch in actions:
            if kind == "ins":
                if ch not in self.insert_index:
                    return None
                out.append(self.insert_index[ch])
            else:
                out.append({"copy": A_COPY, "del": A_DEL, "end": A_END}[kind])
        return out


# --------------------------------------------------------------------------- model


class _Transducer(nn.Module):
    """Encoder BiLSTM, feature embeddings, decoder LSTM over actions, action scorer."""

    def __init__(self, cfg: TransducerConfig, vocab: TransducerVocab) -> None:
        super().__init__()
        self.attend = cfg.features == "attention"
        enc = 2 * cfg.enc_hidden
        self.char_embed = nn.Embedding(C_FIRST + len(vocab.chars), cfg.char_dim, padding_idx=C_PAD)
        self.feat_embed = nn.Embedding(F_FIRST + len(vocab.features), cfg.feat_dim, padding_idx=F_PAD)
        self.action_embed = nn.Embedding(vocab.n_actions, cfg.action_dim, padding_idx=A_PAD)
        self.encoder = nn.LSTM(cfg.char_dim, cfg.enc_hidden, batch_first=True, bidirectional=True)
        self.decoder = nn.LSTM(cfg.action_dim + enc + cfg.feat_dim, cfg.dec_hidden, batch_first=True)
        self.query = nn.Linear(cfg.dec_hidden, cfg.feat_dim) if self.attend else None
        scorer_in = cfg.dec_hidden + enc + cfg.feat_dim * (2 if self.attend else 1)
        self.hidden = nn.Linear(scorer_in, cfg.dec_hidden)
        self.out = nn.Linear(cfg.dec_hidden, vocab.n_actions)
        self.drop = nn.Dropout(cfg.dropout)

    def encode(self, chars: torch.Tensor, lengths: torch.Tensor, feats: torch.Tensor):
        """Encoder states (B, N, 2H), feature embeddings (B, F, D) and their sum (B, D)."""
        x = self.drop(self.char_embed(chars))
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        h, _ = self.encoder(packed)
        h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=chars.size(1))
        f = self.feat_embed(feats)
        return self.drop(h), f, f.sum(1)

    def score(
        self, s: torch.Tensor, h_p: torch.Tensor, f: torch.Tensor, f_sum: torch.Tensor, f_mask: torch.Tensor
    ) -> torch.Tensor:
        """Action logits from decoder states (B, T, Hd) and encoder states under the pointer."""
        parts = [s, h_p, f_sum.unsqueeze(1).expand(-1, s.size(1), -1)]
        if self.attend:
            q = self.query(s)  # (B, T, D)
            att = torch.einsum("btd,bfd->btf", q, f)
            att = att.masked_fill(~f_mask.unsqueeze(1), float("-inf"))
            parts.append(torch.einsum("btf,bfd->btd", att.softmax(-1), f))
        return self.out(self.drop(torch.tanh(self.hidden(torch.cat(parts, -1)))))

    def forward(self, chars, lengths, feats, actions_in, pointers):
        """Teacher-forced logits (B, T, n_actions) for known pointer positions (B, T)."""
        h, f, f_sum = self.encode(chars, lengths, feats)
        h_p = h.gather(1, pointers.unsqueeze(-1).expand(-1, -1, h.size(-1)))
        t = actions_in.size(1)
        x = torch.cat([self.drop(self.action_embed(actions_in)), h_p, f_sum.unsqueeze(1).expand(-1, t, -1)], -1)
        s, _ = self.decoder(x)
        return self.score(self.drop(s), h_p, f, f_sum, feats.ne(F_PAD))


def _valid(logits: torch.Tensor, at_end: torch.Tensor, ins_full: torch.Tensor | None = None) -> torch.Tensor:
    """Logits with impossible actions at -inf: END before the end, COPY/DEL at the end, PAD/BOS
    always, insertions once the cap is reached (``ins_full``)."""
    neg = torch.finfo(logits.dtype).min
    logits = logits.clone()
    logits[..., A_PAD] = neg
    logits[..., A_BOS] = neg
    logits[..., A_END] = logits[..., A_END].masked_fill(~at_end, neg)
    logits[..., A_COPY] = logits[..., A_COPY].masked_fill(at_end, neg)
    logits[..., A_DEL] = logits[..., A_DEL].masked_fill(at_end, neg)
    if ins_full is not None:
        logits[..., A_INS:] = logits[..., A_INS:].masked_fill(ins_full.unsqueeze(-1), neg)
    return logits


# --------------------------------------------------------------------------- batches


def _pad(rows: Sequence[Sequence[int]], value: int = 0) -> torch.Tensor:
    width = max((len(r) for r in rows), default=1) or 1
    out = torch.full((len(rows), width), value, dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            out[i, : len(r)] = torch.tensor(r, dtype=torch.long)
    return out


@dataclass(frozen=True)
class _Example:
    chars: list[int]
    feats: list[int]
    actions: list[int]
    pointers: list[int]


def _examples(
    vocab: TransducerVocab, entries: Sequence[InflectionEntry], oracles: Sequence[list[Action]]
) -> list[_Example]:
    out = []
    for e, acts in zip(entries, oracles):
        ids = vocab.encode_actions(acts)
        if ids is None:  # pragma: no cover - the vocabulary is built from these very pairs
            continue
        out.append(_Example(vocab.encode_lemma(e.lemma), vocab.encode_features(e.features), ids, _pointers(acts)))
    return out


def _train_batch(batch: Sequence[_Example], device: str):
    chars = _pad([x.chars for x in batch], C_PAD).to(device)
    lengths = torch.tensor([len(x.chars) for x in batch], dtype=torch.long)
    feats = _pad([x.feats for x in batch], F_PAD).to(device)
    targets = _pad([x.actions for x in batch], A_PAD).to(device)
    actions_in = _pad([[A_BOS] + x.actions[:-1] for x in batch], A_PAD).to(device)
    pointers = _pad([x.pointers for x in batch], 0).to(device)
    at_end = pointers.eq((lengths.to(device) - 1).unsqueeze(1))
    return chars, lengths, feats, actions_in, pointers, targets, at_end


def _batches(n: int, size: int, generator: torch.Generator, lengths: Sequence[int]) -> list[list[int]]:
    """Shuffled batches of similar lengths: shuffle, sort chunks of 20 batches by length, cut,
    shuffle the batches (less padding, same randomness every run)."""
    perm = torch.randperm(n, generator=generator).tolist()
    chunk = size * 20
    out: list[list[int]] = []
    for start in range(0, n, chunk):
        part = sorted(perm[start : start + chunk], key=lambda i: lengths[i])
        out += [part[k : k + size] for k in range(0, len(part), size)]
    order = torch.randperm(len(out), generator=generator).tolist()
    return [out[i] for i in order]


# --------------------------------------------------------------------------- decoding


@torch.no_grad()
def _greedy(
    models: Sequence[_Transducer],
    vocab: TransducerVocab,
    entries: Sequence[InflectionEntry],
    device: str,
    batch_size: int = 256,
) -> list[str]:
    """Greedy decoding with the summed log-probabilities of ``models``, batched by lemma length."""
    for m in models:
        m.eval()
    order = sorted(range(len(entries)), key=lambda i: len(entries[i].lemma))
    out = [""] * len(entries)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        lemmas = [entries[i].lemma for i in idx]
        chars = _pad([vocab.encode_lemma(w) for w in lemmas], C_PAD).to(device)
        lengths = torch.tensor([len(w) + 1 for w in lemmas], dtype=torch.long)
        feats = _pad([vocab.encode_features(entries[i].features) for i in idx], F_PAD).to(device)
        f_mask = feats.ne(F_PAD)
        b = len(idx)
        with autocast(device):  # bf16 on CUDA; the states kept in fp32 between steps
            enc = [tuple(t.float() for t in m.encode(chars, lengths, feats)) for m in models]
        last = (lengths - 1).to(device)
        rows = torch.arange(b, device=device)
        p = torch.zeros(b, dtype=torch.long, device=device)
        n_ins = torch.zeros(b, dtype=torch.long, device=device)
        done = torch.zeros(b, dtype=torch.bool, device=device)
        prev = torch.full((b,), A_BOS, dtype=torch.long, device=device)
        states: list[Any] = [None] * len(models)
        steps: list[torch.Tensor] = []
        for _ in range(int(last.max().item()) + vocab.max_inserts + 1):
            at_end = p.ge(last)
            ins_full = n_ins.ge(vocab.max_inserts)
            total = None
            for k, (m, (h, f, f_sum)) in enumerate(zip(models, enc)):
                h_p = h[rows, p].unsqueeze(1)
                x = torch.cat([m.action_embed(prev).unsqueeze(1), h_p, f_sum.unsqueeze(1)], -1)
                with autocast(device):
                    s, states[k] = m.decoder(x, states[k])
                    logits = m.score(s, h_p, f, f_sum, f_mask)[:, 0].float()
                logp = _valid(logits, at_end, ins_full).log_softmax(-1)
                total = logp if total is None else total + logp
            act = total.argmax(-1)
            act = torch.where(done, torch.full_like(act, A_PAD), act)
            steps.append(act)
            p = p + (act.eq(A_COPY) | act.eq(A_DEL)).long()
            n_ins = n_ins + act.ge(A_INS).long()
            done = done | act.eq(A_END)
            prev = act
            if bool(done.all()):
                break
        table = torch.stack(steps, 1).tolist() if steps else [[] for _ in idx]
        for i, w, acts in zip(idx, lemmas, table):
            out[i] = _spell(w, acts, vocab)
    return out


def _spell(lemma: str, action_ids: Sequence[int], vocab: TransducerVocab) -> str:
    out: list[str] = []
    p = 0
    for a in action_ids:
        if a in (A_END, A_PAD):
            break
        if a == A_COPY:
            out.append(lemma[p])
            p += 1
        elif a == A_DEL:
            p += 1
        elif a >= A_INS:
            out.append(vocab.inserts[a - A_INS])
    return "".join(out)


# --------------------------------------------------------------------------- training


@dataclass(frozen=True)
class TransducerResult:
    """What :func:`train_transducer` did, per seed and for the ensemble."""

    out_dir: str
    seeds: list[dict[str, Any]]
    dev_accuracy: float | None
    seconds: float
    cpu_seconds: float
    device: str
    n_params: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fingerprint(train: Sequence[InflectionEntry], dev: Sequence[InflectionEntry]) -> str:
    h = hashlib.sha256()
    for split in (train, dev):
        h.update(b"\x01")
        for e in split:
            h.update(f"{e.lemma}\t{e.form}\t{e.features}\n".encode())
    return h.hexdigest()[:16]


def _accuracy(preds: Sequence[str], gold: Sequence[InflectionEntry]) -> float:
    return 100.0 * sum(p == (e.form or "") for p, e in zip(preds, gold)) / max(1, len(gold))


def _train_one(
    cfg: TransducerConfig,
    vocab: TransducerVocab,
    examples: list[_Example],
    dev: Sequence[InflectionEntry],
    folder: Path,
    seed: int,
    device: str,
    resume: bool,
    progress: bool,
    desc: str,
    stop_after: int | None = None,
) -> dict[str, Any]:
    """Train one seed in ``folder``; returns its result (also written to ``result.json`` unless
    ``stop_after`` epochs interrupted it, as a kill would)."""
    result_file, ckpt, best_dir = folder / "result.json", folder / "checkpoint", folder / "best"
    if resume and result_file.is_file() and (best_dir / "state.json").is_file():
        return json.loads(result_file.read_text(encoding="utf-8"))
    torch.manual_seed(seed)
    model = _Transducer(cfg, vocab).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    state: dict[str, Any] = {
        "epoch": 0,
        "best": -1.0,
        "best_epoch": 0,
        "bad": 0,
        "history": [],
        "seconds": 0.0,
        "cpu_seconds": 0.0,
        "steps": 0,
    }
    hint = "rerun with --no-resume (resume=False) to start over"
    if resume and checkpoint_exists(ckpt):
        ck = load_checkpoint(ckpt, restart_hint=hint)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        state.update(ck["state"])
        restore_rng(ck["rng"])
    elif not resume:
        remove_checkpoint(ckpt)
        remove_checkpoint(best_dir)
        result_file.unlink(missing_ok=True)
    dev = list(dev)[: cfg.eval_max or None]
    lengths = [len(x.actions) for x in examples]
    loss_fn = nn.CrossEntropyLoss(ignore_index=A_PAD)
    bar = None
    if progress:
        bar = tqdm(
            total=cfg.max_epochs, initial=state["epoch"], desc=desc, unit="epoch", leave=False, dynamic_ncols=True
        )
    stopped = "max_epochs"
    while state["epoch"] < cfg.max_epochs:
        if cfg.patience and dev and state["bad"] >= cfg.patience:
            stopped = "early_stopping"
            break
        t0, c0 = time.perf_counter(), time.process_time()
        model.train()
        g = torch.Generator().manual_seed(seed * 1_000_003 + state["epoch"])
        total, count = 0.0, 0
        for idx in _batches(len(examples), cfg.batch_size, g, lengths):
            batch = [examples[i] for i in idx]
            chars, lens, feats, a_in, ptr, tgt, at_end = _train_batch(batch, device)
            with autocast(device):
                logits = model(chars, lens, feats, a_in, ptr)
            logits = _valid(logits.float(), at_end)
            loss = loss_fn(logits.reshape(-1, logits.size(-1)), tgt.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_norm)
            opt.step()
            total += float(loss.item()) * len(idx)
            count += len(idx)
            state["steps"] += 1
        state["epoch"] += 1
        score = _accuracy(_greedy([model], vocab, dev, device), dev) if dev else None
        entry = {"epoch": state["epoch"], "loss": round(total / max(1, count), 5), "dev": score}
        state["history"].append(entry)
        if score is None or score > state["best"]:
            best = score if score is not None else -1.0
            state.update(best=best, best_epoch=state["epoch"], bad=0)
            save_checkpoint(best_dir, {"model": model.state_dict(), "epoch": state["epoch"]})
        else:
            state["bad"] += 1
            if cfg.lr_decay < 1.0 and state["bad"] % cfg.lr_patience == 0:
                for group in opt.param_groups:  # in the optimizer's state: resumed exactly
                    group["lr"] *= cfg.lr_decay
        state["seconds"] += time.perf_counter() - t0
        state["cpu_seconds"] += time.process_time() - c0
        save_checkpoint(
            ckpt, {"model": model.state_dict(), "optimizer": opt.state_dict(), "state": state, "rng": capture_rng()}
        )
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{entry['loss']:.3f}", dev=f"{state['best']:.1f}", refresh=False)
        if stop_after is not None and state["epoch"] >= stop_after:
            stopped = "interrupted"
            break
    if bar is not None:
        bar.close()
    result = {
        "seed": seed,
        "epochs": state["epoch"],
        "steps": state["steps"],
        "best_epoch": state["best_epoch"],
        "best_dev": state["best"] if dev else None,
        "stopped": stopped,
        "seconds": round(state["seconds"], 2),
        "cpu_seconds": round(state["cpu_seconds"], 2),
        "history": state["history"],
    }
    if stopped != "interrupted":
        atomic_write_text(result_file, json.dumps(result, indent=1) + "\n")
    return result


def train_transducer(
    config: TransducerConfig,
    train: Sequence[InflectionEntry],
    dev: Sequence[InflectionEntry],
    out_dir: str | os.PathLike,
    *,
    device: str = "auto",
    resume: bool = True,
    progress: bool = False,
    desc: str = "transducer",
    stop_after_epochs: int | None = None,
) -> TransducerResult:
    """Train ``config.seeds`` transducers on ``train``, selecting each one's best epoch on ``dev``.

    Args:
        config: the settings (validated first; every problem listed).
        train: training entries (every form set); hallucinated pairs, if any, already added.
        dev: dev entries with forms for early stopping and the best epoch (may be empty: then
            every epoch runs and the last weights are kept).
        out_dir: the run folder (see the module docstring).
        device: ``auto``, ``cpu`` or ``cuda[:N]`` (bf16 autocast on CUDA).
        resume: continue from the checkpoints there (refused when config or data changed);
            False starts over.
        progress: progress bars.
        desc: their label.
        stop_after_epochs: stop each seed (as a kill would: checkpoint kept, no result written)
            once it has trained this many epochs in total; for tests and for slicing long runs.

    Returns:
        :class:`TransducerResult` (also written to ``out_dir/result.json``).

    Raises:
        ConfigError: invalid config, no training data, training entries without forms, or a
            resume whose config or data differ (named).
    """
    raise_problems(config.problems())
    problems = []
    if not train:
        problems.append("train -> no training entries")
    if any(e.form is None for e in train):
        problems.append("train -> entries without a form (a covered file?)")
    raise_problems(problems)
    dev = [e for e in dev if e.form is not None]
    dev_name = resolve_device(device)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    record = {"signature": SIGNATURE_VERSION, "config": config.to_dict(), "data": _fingerprint(train, dev)}
    run_file = out / "run.json"
    if resume and run_file.is_file():
        _check_resume(run_file, record)
    atomic_write_text(run_file, json.dumps(record, indent=1) + "\n")
    oracles = [oracle(e.lemma, e.form or "") for e in train]
    vocab = TransducerVocab.build(train, oracles)
    atomic_write_text(out / "vocab.json", json.dumps(vocab.to_dict(), ensure_ascii=False) + "\n")
    examples = _examples(vocab, train, oracles)
    seeds = []
    for k in range(config.seeds):
        seed = config.seed + k
        seeds.append(
            _train_one(
                config,
                vocab,
                examples,
                dev,
                out / f"seed-{seed}",
                seed,
                dev_name,
                resume,
                progress,
                f"{desc} seed {seed}",
                stop_after_epochs,
            )
        )
    n_params = sum(p.numel() for p in _Transducer(config, vocab).parameters())
    cpu = round(sum(s["cpu_seconds"] for s in seeds), 2)
    wall = round(sum(s["seconds"] for s in seeds), 2)
    if any(s["stopped"] == "interrupted" for s in seeds):
        return TransducerResult(str(out), seeds, None, wall, cpu, dev_name, n_params)
    ens = None
    if dev:
        model = TransducerInflector.load(out, device=dev_name)
        ens = round(_accuracy(model.predict(dev), dev), 3)
    result = TransducerResult(str(out), seeds, ens, wall, cpu, dev_name, n_params)
    atomic_write_text(out / "result.json", json.dumps(result.to_dict(), indent=1) + "\n")
    return result


def _check_resume(run_file: Path, expected: dict[str, Any]) -> None:
    """Refuse to resume a run folder trained with another config or other data."""
    try:
        previous = json.loads(run_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        problem = f"{run_file} -> cannot read the previous run's record ({exc})"
        raise ConfigError([problem]) from None
    problems = []
    old, new = previous.get("config", {}), expected["config"]
    for k in sorted(set(old) | set(new)):
        if k != "seeds" and old.get(k) != new.get(k):
            problems.append(f"config.{k} -> was {old.get(k)!r} in the run folder, now {new.get(k)!r}")
    if previous.get("data") != expected["data"]:
        problems.append(
            f"data -> the training or dev entries differ from the run folder's "
            f"({previous.get('data')} vs {expected['data']})"
        )
    if problems:
        problems.append(
            f"fix: use the original settings, another folder, or resume=False "
            f"(--no-resume) to start {run_file.parent} over"
        )
        raise ConfigError(problems, f"(resuming {run_file.parent})")


# --------------------------------------------------------------------------- prediction


class TransducerInflector:
    """A trained transducer folder (one or several seeds), ready to inflect.

    Example:
        >>> path = "runs/sigmorphon/2022/transducer/models/hun_small"
        >>> m = TransducerInflector.load(path)  # doctest: +SKIP
        >>> m.predict([InflectionEntry("kala", None, "N;PL")])  # doctest: +SKIP
    """

    def __init__(
        self, models: list[_Transducer], config: TransducerConfig, vocab: TransducerVocab, device: str, path: str = ""
    ) -> None:
        self.models = models
        self.config = config
        self.vocab = vocab
        self.device = device
        self.path = path

    @classmethod
    def load(cls, path: str | os.PathLike, *, device: str = "auto") -> TransducerInflector:
        """Load ``run.json``, ``vocab.json`` and every ``seed-*/best`` of a run folder.

        Raises:
            ConfigError: not a transducer folder (the missing file named).
        """
        p = Path(path)
        missing = [f"{p / f} -> missing" for f in ("run.json", "vocab.json") if not (p / f).is_file()]
        cfg = None
        if not missing:
            cfg = load_config(json.loads((p / "run.json").read_text(encoding="utf-8"))["config"])
            bests = [p / f"seed-{cfg.seed + k}" / "best" for k in range(cfg.seeds)]
            missing += [f"{b} -> no trained weights" for b in bests if not (b / "state.json").is_file()]
        if missing or cfg is None:
            fix = (
                "fix: give a folder written by `lexiconlm sigmorphon run --system transducer` "
                "(models/<setting>), after its training ended"
            )
            raise ConfigError(missing + [fix], str(p))
        vocab_file = p / "vocab.json"
        vocab = TransducerVocab.from_dict(json.loads(vocab_file.read_text(encoding="utf-8")))
        dev = resolve_device(device)
        models = []
        for k in range(cfg.seeds):
            m = _Transducer(cfg, vocab)
            m.load_state_dict(load_checkpoint(p / f"seed-{cfg.seed + k}" / "best")["model"])
            models.append(m.to(dev).eval())
        return cls(models, cfg, vocab, dev, str(p))

    def predict(self, entries: Sequence[InflectionEntry], *, batch_size: int = 256) -> list[str]:
        """Predicted forms, one per entry in input order (greedy; the seeds ensembled)."""
        entries = list(entries)
        if not entries:
            return []
        return _greedy(self.models, self.vocab, entries, self.device, batch_size)
