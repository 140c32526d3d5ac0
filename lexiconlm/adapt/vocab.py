"""Vocabulary extension: train new subwords on target-language text and add them to a tokenizer.

The new pieces are trained with the ``tokenizers`` library, using the base tokenizer's own
normaliser and pre-tokeniser so that they split text the same way, and are added the way
the base model type expects (:func:`extend_tokenizer`):

``Unigram`` (SentencePiece: XLM-R, e5)
    ``[piece, score]`` rows appended to the model's vocabulary, as Glot500 merges a
    SentencePiece model trained on new languages into XLM-R's: the scores are the
    log-probabilities the new model learnt, so Viterbi segmentation picks a new piece
    where it is likelier than the old pieces it replaces.
``WordPiece`` (BERT)
    entries appended to the vocabulary (``##`` continuation pieces included); WordPiece
    takes the longest match, so a longer new piece wins at once.
``BPE``
    a token is added together with the merge that builds it (appended after the base
    merges, so old merges keep priority); a merge is added only when both parts exist.

Characters of the target text that the base vocabulary lacks are always added first
(:func:`train_new_pieces`), so a script the base does not know stops turning into
``<unk>``. Old token ids never change: new tokens get the ids after the last old one.

Reproducible: the same base, text and settings give a byte-identical ``tokenizer.json`` in
every process. The ``tokenizers`` trainers alone do not: they iterate hash maps seeded per
process (huggingface/tokenizers#1794), which reorders WordPiece pieces and even changes which
merges win a tie, spreads the Unigram scores of rare characters in a random order and sums
Unigram scores in a varying order. So WordPiece pieces are learnt by a plain BPE trainer on
words marked at their start (:func:`_wordpiece_candidates`, no lazily numbered ``##`` symbols),
Unigram scores are re-estimated from whole counts (:func:`_unigram_candidates`), and every
list is sorted by score, then by the piece itself. (BPE bases whose model has a
``continuing_subword_prefix`` or ``end_of_word_suffix`` are still trained with those
options, which the trainer numbers in hash order; plain and byte-level BPE are reproducible.)

Example:
    >>> pieces = train_new_pieces(base_tok, texts, n_new=2000)  # doctest: +SKIP
    >>> new_tok = extend_tokenizer(base_tok, pieces)  # doctest: +SKIP
    >>> len(new_tok) - len(base_tok)  # doctest: +SKIP
    2000
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lexiconlm.devices import sequential_tokenizers
from lexiconlm.errors import LexiconLMError, MissingDependencyError

__all__ = [
    "EXTENDABLE_KINDS",
    "NewPiece",
    "UnsupportedTokenizerError",
    "tokenizer_kind",
    "train_new_pieces",
    "extend_tokenizer",
    "piece_surface",
    "surface_fn",
    "normalizer_crashes",
    "extended_json",
]

#: Tokenizer model types (``tokenizer.json`` ``model.type``) this module can extend.
EXTENDABLE_KINDS = ("Unigram", "WordPiece", "BPE")


class UnsupportedTokenizerError(LexiconLMError):
    """The tokenizer cannot be extended (not a fast tokenizer, or a model type without subwords)."""


@dataclass(frozen=True)
class NewPiece:
    """A piece to add: its text as the tokenizer model stores it (``▁word``, ``##ing``),
    a score (Unigram log-probability; rank order for WordPiece/BPE) and, for BPE, the merge
    ``(left, right)`` that builds it."""

    piece: str
    score: float = 0.0
    merge: tuple[str, str] | None = None

    def to_json(self) -> list:
        return [self.piece, self.score] if self.merge is None else [self.piece, self.score, list(self.merge)]

    @classmethod
    def from_json(cls, row: Sequence) -> "NewPiece":
        merge = tuple(row[2]) if len(row) > 2 and row[2] is not None else None
        return cls(str(row[0]), float(row[1]), merge)  # type: ignore[arg-type]


def normalizer_crashes(tokenizer: Any, texts: Iterable[str]) -> list[str]:
    """Characters of ``texts`` on which the tokenizer's normaliser crashes inside the ``tokenizers``
    library (a Rust panic, e.g. a malformed SentencePiece ``precompiled_charsmap``); empty when none."""
    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    norm = getattr(backend, "normalizer", None)
    if norm is None:
        return []
    bad = []
    for ch in sorted(set("".join(texts))):
        try:
            norm.normalize_str(ch)
        except BaseException as exc:  # pyo3's PanicException derives from BaseException
            if type(exc).__name__ != "PanicException":
                raise
            bad.append(ch)
    return bad


def _backend_json(tokenizer: Any) -> dict:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        name = type(tokenizer).__name__
        raise UnsupportedTokenizerError(
            f"cannot extend {name}: only fast tokenizers (backed by the `tokenizers` library, with a "
            "tokenizer.json) can be extended; load it with AutoTokenizer.from_pretrained(..., use_fast=True) "
            "or convert it to a fast tokenizer first"
        )
    return json.loads(backend.to_str())


def tokenizer_kind(tokenizer: Any) -> str:
    """The model type of a fast tokenizer: ``"Unigram"``, ``"WordPiece"`` or ``"BPE"``.

    Raises:
        UnsupportedTokenizerError: a slow tokenizer or another model type (``WordLevel``),
            with what to do instead.
    """
    kind = _backend_json(tokenizer)["model"].get("type", "")
    if kind not in EXTENDABLE_KINDS:
        raise UnsupportedTokenizerError(
            f"cannot extend a {kind or 'typeless'} tokenizer: vocabulary extension supports "
            f"{', '.join(EXTENDABLE_KINDS)} models (a {kind} model has no subword pieces to add); "
            "set tokenizer.new_tokens: 0 to adapt the embeddings without extending the vocabulary"
        )
    return kind


def _vocab_strings(model: dict) -> set[str]:
    vocab = model["vocab"]
    return {row[0] for row in vocab} if isinstance(vocab, list) else set(vocab)


def piece_surface(piece: str, kind: str, model: dict | None = None, byte_level: bool = False) -> tuple[str, bool]:
    """``(text, word_initial)`` of a vocabulary piece: ``▁word`` -> ``("word", True)``,
    ``##ing`` -> ``("ing", False)``; byte-level BPE pieces are decoded from their byte alphabet."""
    if kind == "WordPiece":
        prefix = (model or {}).get("continuing_subword_prefix", "##") or "##"
        return (piece[len(prefix) :], False) if piece.startswith(prefix) and piece != prefix else (piece, True)
    if kind == "BPE" and byte_level:
        text = _bytes_to_text(piece)
        return (text[1:], True) if text.startswith(" ") else (text, False)
    if piece.startswith("▁"):
        return piece[1:], True
    if kind == "BPE":
        suffix = (model or {}).get("end_of_word_suffix") or ""
        prefix = (model or {}).get("continuing_subword_prefix") or ""
        if prefix and piece.startswith(prefix):
            return piece[len(prefix) :], False
        if suffix and piece.endswith(suffix):
            return piece[: -len(suffix)], False
    return piece, False


def _bytes_to_text(piece: str) -> str:
    """Decode a byte-level BPE piece (GPT-2's printable byte alphabet) to text."""
    inverse = _byte_decoder()
    if not all(c in inverse for c in piece):
        return piece
    return bytes(inverse[c] for c in piece).decode("utf-8", errors="replace")


def _byte_decoder() -> dict[str, int]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def _trainer_tokenizer(base: dict, kind: str) -> Any:
    """A fresh tokenizer with the base's normaliser and pre-tokeniser, so new pieces split text as the base does."""
    from tokenizers import Tokenizer, models

    model_json = base["model"]
    if kind == "Unigram":
        tok = Tokenizer(models.Unigram())
    elif kind == "WordPiece":
        tok = Tokenizer(
            models.WordPiece(
                unk_token=model_json.get("unk_token", "[UNK]"),
                continuing_subword_prefix=model_json.get("continuing_subword_prefix") or "##",
            )
        )
    else:
        kwargs = {k: model_json[k] for k in ("continuing_subword_prefix", "end_of_word_suffix") if model_json.get(k)}
        tok = Tokenizer(models.BPE(**kwargs))
    shell = json.loads(tok.to_str())
    shell["normalizer"] = base.get("normalizer")
    shell["pre_tokenizer"] = base.get("pre_tokenizer")
    return Tokenizer.from_str(json.dumps(shell))


def surface_fn(tokenizer: Any):
    """``piece -> (text, word_initial)`` for the pieces of ``tokenizer`` (see :func:`piece_surface`)."""
    data = _backend_json(tokenizer)
    kind, model, byte_level = data["model"].get("type", ""), data["model"], _byte_level(data)
    return lambda piece: piece_surface(piece, kind, model, byte_level)


def _byte_level(base: dict) -> bool:
    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            if node.get("type") == "ByteLevel":
                return True
            return any(walk(v) for v in node.values())
        if isinstance(node, list):
            return any(walk(v) for v in node)
        return False

    return walk(base.get("pre_tokenizer"))


def train_new_pieces(
    tokenizer: Any,
    texts: Iterable[str],
    n_new: int,
    *,
    trainer_vocab_size: int | None = None,
    min_frequency: int = 2,
    max_piece_length: int = 16,
    progress: bool = False,
) -> list[NewPiece]:
    """Train subwords on ``texts`` and return up to ``n_new`` pieces the base vocabulary lacks.

    A tokenizer of the base's type (same normaliser and pre-tokeniser) is trained with
    ``trainer_vocab_size`` entries (default ``2 * n_new + 1000``). Characters it holds that the
    base lacks come first; then the best new pieces: by score for Unigram (log relative
    frequency in the trained model's segmentation of ``texts``), in merge order for WordPiece
    and BPE; ties by the piece itself. For BPE only pieces whose merge can be built from the
    base vocabulary plus earlier new pieces are kept. Nothing depends on hash order or on
    ``PYTHONHASHSEED`` (see the module docstring).

    Args:
        tokenizer: the base fast tokenizer (``transformers`` or ``tokenizers.Tokenizer``).
        texts: target-language text, one segment per item.
        n_new: most pieces to return.
        trainer_vocab_size: vocabulary size of the trained tokenizer.
        min_frequency: WordPiece/BPE trainers ignore pairs seen fewer times.
        max_piece_length: longest Unigram piece, in characters.

    Returns:
        The new pieces, best first (deterministic for a given input).

    Raises:
        UnsupportedTokenizerError: the tokenizer type cannot be extended.
        ValueError: ``n_new`` is negative or ``texts`` is empty.
    """
    try:
        from tokenizers import trainers
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("vocabulary extension", "gpu", "tokenizers") from None
    if n_new < 0:
        raise ValueError(f"n_new must be >= 0, got {n_new}")
    texts = [t for t in texts if t and not t.isspace()]
    if not texts:
        raise ValueError("no target-language text to train new pieces on")
    kind = tokenizer_kind(tokenizer)
    if n_new == 0:
        return []
    base = _backend_json(tokenizer)
    model_json = base["model"]
    known = _vocab_strings(model_json)
    known |= {t["content"] for t in base.get("added_tokens") or []}
    size = trainer_vocab_size or (2 * n_new + 1000)
    if kind == "Unigram" and not trainer_vocab_size:
        # the Unigram trainer keeps every character: a script with thousands of them (Han) needs room
        size = max(size, len({c for t in texts for c in t}) + 2 * n_new)
    trainer_tok = _trainer_tokenizer(base, kind)
    byte_level = kind == "BPE" and _byte_level(base)
    if kind == "Unigram":
        unk = "<unk>"
        trainer = trainers.UnigramTrainer(
            vocab_size=size,
            special_tokens=[unk],
            unk_token=unk,
            max_piece_length=max_piece_length,
            show_progress=progress,
        )
    elif kind == "WordPiece":
        trainer = None  # a plain BPE trainer on marked words: see _wordpiece_candidates
    else:
        kwargs: dict[str, Any] = dict(
            vocab_size=size, min_frequency=min_frequency, show_progress=progress, special_tokens=[]
        )
        if byte_level:
            from tokenizers import pre_tokenizers

            kwargs["initial_alphabet"] = pre_tokenizers.ByteLevel.alphabet()
        if model_json.get("continuing_subword_prefix"):
            kwargs["continuing_subword_prefix"] = model_json["continuing_subword_prefix"]
        if model_json.get("end_of_word_suffix"):
            kwargs["end_of_word_suffix"] = model_json["end_of_word_suffix"]
        trainer = trainers.BpeTrainer(**kwargs)
    try:
        if trainer is None:
            return _wordpiece_candidates(
                base, texts, known, n_new, size=size, min_frequency=min_frequency, progress=progress
            )
        with sequential_tokenizers():
            trainer_tok.train_from_iterator(texts, trainer)
    except BaseException as exc:  # a Rust panic in the tokenizers library is a BaseException
        if type(exc).__name__ != "PanicException":
            raise
        bad = normalizer_crashes(tokenizer, texts)
        raise LexiconLMError(
            f"the base tokenizer's pipeline crashed inside the tokenizers library while reading the target "
            f"text ({exc})"
            + (
                f"; its normaliser crashes on {''.join(bad[:20])!r} "
                f"(U+{', U+'.join(f'{ord(c):04X}' for c in bad[:20])}):"
                " repair the tokenizer's normaliser or remove these characters from the text"
                if bad
                else ""
            )
        ) from None
    trained = json.loads(trainer_tok.to_str())["model"]
    if kind == "Unigram":
        return _unigram_candidates(trainer_tok, trained, texts, known, n_new)
    # BPE: the alphabet first (not for byte-level models, whose 256 bytes already cover everything)
    out: list[NewPiece] = []
    have = set(known)
    if not byte_level:
        for p, _ in sorted(trained["vocab"].items(), key=lambda kv: kv[1]):
            if len(out) >= n_new:
                break
            if p not in have and len(piece_surface(p, "BPE", model_json)[0]) <= 1:
                out.append(NewPiece(p, -float(len(out))))
                have.add(p)
    for merge in trained.get("merges", []):
        if len(out) >= n_new:
            break
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        token = left + right
        if token in have or left not in have or right not in have:
            continue
        out.append(NewPiece(token, -float(len(out)), (left, right)))
        have.add(token)
    return out


def _unigram_candidates(
    trainer_tok: Any, trained: dict, texts: Sequence[str], known: set[str], n_new: int
) -> list[NewPiece]:
    """The new pieces of a trained Unigram model, with scores that are the same in every run.

    The trainer's own scores are not: its EM sums run over sentences in hash order (the last
    digits differ) and the characters it must keep get ``min + k * 1e-4`` with ``k`` in
    hash-set order. The scores are therefore re-estimated from whole numbers: each piece's
    count in the trained model's Viterbi segmentation of ``texts``, as
    ``log((count + 0.5) / (total + 0.5 * pieces))`` (pieces never used share the lowest score).
    New single characters come first, then the other pieces; each group by score, then piece.
    """
    pieces = [p for p, _ in trained["vocab"] if p != "<unk>"]
    counts = dict.fromkeys(pieces, 0)
    for enc in trainer_tok.encode_batch(list(texts), add_special_tokens=False):
        for t in enc.tokens:
            if t in counts:
                counts[t] += 1
    total = sum(counts.values()) + 0.5 * len(counts)
    score = {p: math.log((c + 0.5) / total) for p, c in counts.items()}
    new = [p for p in pieces if p not in known]
    chars = [p for p in new if len(p.lstrip("▁")) <= 1 and p != "▁"]
    chars.sort(key=lambda p: (len(p) != 1, -score[p], p))  # bare characters, then ▁x
    in_chars = set(chars)
    rest = sorted((p for p in new if p not in in_chars), key=lambda p: (-score[p], p))
    return [NewPiece(p, score[p]) for p in (chars + rest)[:n_new]]


def _wordpiece_candidates(
    base: dict,
    texts: Sequence[str],
    known: set[str],
    n_new: int,
    *,
    size: int,
    min_frequency: int,
    progress: bool,
) -> list[NewPiece]:
    """New WordPiece pieces, learnt so that every run gives the same list.

    The ``tokenizers`` WordPiece trainer numbers its ``##`` symbols in hash-map order, and the
    numbers break ties between merges (huggingface/tokenizers#1794): runs differ in order and
    in the pieces themselves. Instead the words (cut by the base's own normaliser and
    pre-tokeniser) are given, each behind a marker character, to a plain BPE trainer, whose
    symbols are numbered in sorted order. A learnt piece that starts with the marker is a
    word-initial piece, any other a ``##`` continuation. First come the characters the base
    lacks, word-initial and ``##`` (most frequent first), then the pieces in merge order.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    prefix = base["model"].get("continuing_subword_prefix") or "##"
    splitter = _trainer_tokenizer(base, "WordPiece")
    norm, pre = splitter.normalizer, splitter.pre_tokenizer
    sentences: list[list[str]] = []
    for t in texts:
        text = norm.normalize_str(t) if norm is not None else t
        words = [w for w, _ in pre.pre_tokenize_str(text)] if pre is not None else text.split()
        sentences.append([w for w in words if w and not w.isspace()])
    used = {c for ws in sentences for w in ws for c in w}
    marker = next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in used)  # private use

    freq: dict[str, int] = {}
    for ws in sentences:
        for w in ws:
            first = w[0]
            freq[first] = freq.get(first, 0) + 1
            for c in w[1:]:
                freq[prefix + c] = freq.get(prefix + c, 0) + 1
    singles = sorted((p for p in freq if p not in known), key=lambda p: (-freq[p], p))

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.BpeTrainer(
        vocab_size=size, min_frequency=min_frequency, show_progress=progress, special_tokens=[]
    )
    with sequential_tokenizers():
        bpe.train_from_iterator((" ".join(marker + w for w in ws) for ws in sentences if ws), trainer)
    out = list(singles[:n_new])
    have = set(known) | set(out)
    for merge in json.loads(bpe.to_str())["model"].get("merges", []):
        if len(out) >= n_new:
            break
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        token = left + right
        piece = token[1:] if token.startswith(marker) else prefix + token
        if piece in (prefix, "") or marker in piece[1:] or piece in have:
            continue
        out.append(piece)
        have.add(piece)
    return [NewPiece(p, -float(i)) for i, p in enumerate(out)]


def _added_ids(base: dict) -> dict[int, str]:
    return {int(t["id"]): t["content"] for t in base.get("added_tokens") or []}


def extended_json(tokenizer: Any, pieces: Sequence[NewPiece]) -> tuple[dict, list[tuple[int, str]]]:
    """The base ``tokenizer.json`` with ``pieces`` added, and ``(id, piece)`` of each new token.

    Pieces the base already has are skipped. Raises :class:`UnsupportedTokenizerError` for a
    type that cannot be extended, or a BPE piece whose merge parts are missing.
    """
    kind = tokenizer_kind(tokenizer)
    data = _backend_json(tokenizer)
    model = data["model"]
    added = _added_ids(data)
    new_ids: list[tuple[int, str]] = []
    if kind == "Unigram":
        vocab = model["vocab"]
        # special tokens kept outside the model's list (ids past its end) must be materialised
        # first, or appended pieces would take their ids
        for tid in sorted(i for i in added if i >= len(vocab)):
            if tid != len(vocab):
                raise UnsupportedTokenizerError(
                    f"cannot extend this Unigram tokenizer: added token {added[tid]!r} has id {tid} but the "
                    f"model vocabulary ends at {len(vocab) - 1} (ids are not contiguous)"
                )
            vocab.append([added[tid], 0.0])
        present = {row[0] for row in vocab}
        for p in pieces:
            if p.piece in present:
                continue
            new_ids.append((len(vocab), p.piece))
            vocab.append([p.piece, float(p.score)])
            present.add(p.piece)
        return data, new_ids
    vocab = model["vocab"]
    next_id = max([*vocab.values(), *added.keys(), -1]) + 1
    if kind == "WordPiece":
        for p in pieces:
            if p.piece in vocab:
                continue
            vocab[p.piece] = next_id
            new_ids.append((next_id, p.piece))
            next_id += 1
        return data, new_ids
    merges = model.get("merges") or []
    as_strings = bool(merges) and isinstance(merges[0], str)
    missing: list[str] = []
    for p in pieces:
        if p.piece in vocab:
            continue
        if p.merge is not None:
            left, right = p.merge
            if left not in vocab or right not in vocab:
                missing.append(f"{p.piece!r} = {left!r} + {right!r}")
                continue
            merges.append(f"{left} {right}" if as_strings else [left, right])
        vocab[p.piece] = next_id
        new_ids.append((next_id, p.piece))
        next_id += 1
    if missing:
        raise UnsupportedTokenizerError(
            "BPE pieces whose merge parts are not in the vocabulary: "
            + ", ".join(missing[:10])
            + (f" ... and {len(missing) - 10} more" if len(missing) > 10 else "")
        )
    model["merges"] = merges
    return data, new_ids


def extend_tokenizer(tokenizer: Any, pieces: Sequence[NewPiece]) -> Any:
    """A new ``transformers`` fast tokenizer: ``tokenizer`` plus ``pieces`` (ids after the old ones).

    The special tokens, maximum length and the whole pipeline (normaliser, pre-tokeniser,
    post-processor, decoder) are kept; old ids are unchanged. ``save_pretrained`` writes a
    ``tokenizer.json`` that ``AutoTokenizer.from_pretrained`` loads back as is.

    Raises:
        UnsupportedTokenizerError: the tokenizer type cannot be extended.
    """
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    data, _ = extended_json(tokenizer, pieces)
    backend = Tokenizer.from_str(json.dumps(data))
    special = dict(getattr(tokenizer, "special_tokens_map", {}) or {})
    special.pop("additional_special_tokens", None)
    extra = [t for t in getattr(tokenizer, "additional_special_tokens", None) or []]
    kwargs: dict[str, Any] = {k: v for k, v in special.items() if isinstance(v, str)}
    if extra:
        kwargs["additional_special_tokens"] = extra
    max_len = getattr(tokenizer, "model_max_length", None)
    if max_len is not None:
        kwargs["model_max_length"] = max_len
    return PreTrainedTokenizerFast(tokenizer_object=backend, **kwargs)
