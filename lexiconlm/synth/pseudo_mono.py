"""Pseudo-monolingual corpora: source text translated word by word into a target language.

The fast path behind ``lexiconlm synth mono`` and batch mode. A source corpus is
tokenised once into integer ids (:func:`encode_corpus`, shared by every
language of a batch); per language, the lexicon maps *types* (not tokens) to
candidate groups, multi-word entries are matched only where one can start,
senses are drawn for the whole corpus with one call of a seeded
:class:`numpy.random.Generator`, and the output is built with one ``join``.

The output equals what :meth:`LexiconTranslator.translate` gives sentence by
sentence with a fresh translator of the same settings (same draws, same order).

Example:
    >>> corpus = encode_corpus(["The dog barks.", "A cat."])  # doctest: +SKIP
    >>> result = translate_corpus(LexiconTranslator(lexicon), corpus, min_replaced=1)  # doctest: +SKIP
    >>> result.lines, result.stats.coverage  # doctest: +SKIP

Why one module of about 720 lines: the fast path keeps the corpus encoding, the vectorised
translation and the filters that read it in one place, so that they stay byte-identical to the
sentence-by-sentence translator.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lexiconlm.errors import LexiconLMError
from lexiconlm.files import atomic_write, atomic_write_text
from lexiconlm.io.text import read_text
from lexiconlm.synth.tokenize import (
    _ASCII_PATTERN,
    _edge_scripts,
    detokenize,
    is_word,
    token_pattern,
)
from lexiconlm.synth.translate import LexiconTranslator, apply_case, case_pattern

__all__ = [
    "EncodedCorpus",
    "encode_corpus",
    "read_source",
    "check_filters",
    "MonoStats",
    "MonoResult",
    "translate_corpus",
    "synthesize",
    "synthesize_file",
]


# --------------------------------------------------------------------------- encoding


@dataclass
class EncodedCorpus:
    """A tokenised corpus: token type ids, spacing and sentence boundaries.

    ``ids[offsets[s]:offsets[s+1]]`` are the tokens of sentence ``s``;
    ``space[i]`` tells whether whitespace followed token ``i`` in the source.
    """

    types: list[str]
    ids: np.ndarray  # int32, one per token
    space: np.ndarray  # bool, one per token
    offsets: np.ndarray  # int64, n_sentences + 1
    name: str = ""
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def n_tokens(self) -> int:
        return int(self.ids.shape[0])

    @property
    def n_sentences(self) -> int:
        return int(self.offsets.shape[0] - 1)

    def prepare(self) -> "EncodedCorpus":
        """Compute every derived table now (before worker processes share the corpus)."""
        for name in (
            "is_word",
            "lowered",
            "lower_index",
            "type_index",
            "case",
            "lower_ids",
            "ids_list",
            "lower_ids_list",
            "sentence_of",
            "words_per_sentence",
        ):
            getattr(self, name)
        return self

    def _get(self, key, build):
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    @property
    def is_word(self) -> np.ndarray:
        """Per type: holds a letter."""
        return self._get("is_word", lambda: np.fromiter((is_word(t) for t in self.types), bool, len(self.types)))

    @property
    def lowered(self) -> list[str]:
        return self._get("lowered", lambda: [t.lower() for t in self.types])

    @property
    def lower_index(self) -> dict[str, list[int]]:
        """lowercased form -> type ids with that form."""

        def build():
            out: dict[str, list[int]] = {}
            for i, t in enumerate(self.lowered):
                out.setdefault(t, []).append(i)
            return out

        return self._get("lower_index", build)

    @property
    def lower_ids(self) -> np.ndarray:
        """Per token: the id of its lowercased form (ids of :attr:`lower_ids_index`)."""

        def build():
            idx = self.lower_ids_index
            per_type = np.fromiter((idx[w] for w in self.lowered), np.int64, len(self.types))
            return per_type[self.ids] if self.n_tokens else np.zeros(0, np.int64)

        return self._get("lower_ids", build)

    @property
    def lower_ids_index(self) -> dict[str, int]:
        """lowercased form -> its id."""

        def build():
            out: dict[str, int] = {}
            for w in self.lowered:
                if w not in out:
                    out[w] = len(out)
            return out

        return self._get("lower_ids_index", build)

    @property
    def lower_ids_list(self) -> list[int]:
        return self._get("lower_ids_list", lambda: self.lower_ids.tolist())

    @property
    def type_index(self) -> dict[str, int]:
        return self._get("type_index", lambda: {t: i for i, t in enumerate(self.types)})

    @property
    def case(self) -> np.ndarray:
        """Per type: :func:`case_pattern` (0 as is, 1 Title, 2 UPPER)."""
        return self._get("case", lambda: np.fromiter((case_pattern(t) for t in self.types), np.int8, len(self.types)))

    @property
    def ids_list(self) -> list[int]:
        return self._get("ids_list", lambda: self.ids.tolist())

    @property
    def sentence_of(self) -> np.ndarray:
        """Per token: its sentence index."""

        def build():
            return np.repeat(np.arange(self.n_sentences, dtype=np.int64), np.diff(self.offsets))

        return self._get("sentence_of", build)

    @property
    def words_per_sentence(self) -> np.ndarray:
        def build():
            w = self.is_word[self.ids].astype(np.int64)
            return np.add.reduceat(w, self.offsets[:-1]) if self.n_sentences else np.zeros(0, np.int64)

        return self._get("words_per_sentence", build)


def encode_corpus(texts: Iterable[str], *, name: str = "") -> EncodedCorpus:
    """Tokenise sentences once into integer ids.

    Args:
        texts: one sentence (or line) per item; each must hold a token (blank
            texts are refused, since they would shift line alignment).
        name: a label kept with the corpus (e.g. the file it came from).

    Returns:
        An :class:`EncodedCorpus`.

    Raises:
        ValueError: a text is blank or contains a line break.

    Example:
        >>> c = encode_corpus(["Hello, world!", "Bye."])
        >>> c.n_sentences, c.n_tokens, c.types[:3]
        (2, 6, ['Hello', ',', 'world'])
    """
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"text {i} must be a string, got {type(t).__name__}")
        if "\n" in t or "\r" in t:
            raise ValueError(f"text {i} contains a line break; give one sentence per item")
        if not t.strip():
            raise ValueError(f"text {i} is blank; remove blank lines first")
    if not texts:
        return EncodedCorpus([], np.zeros(0, np.int32), np.zeros(0, bool), np.zeros(1, np.int64), name)
    pairs: list[tuple[str, str]] = []
    lengths = np.empty(len(texts), dtype=np.int64)
    extend = pairs.extend
    full = token_pattern()
    for i, t in enumerate(texts):
        found = (_ASCII_PATTERN if t.isascii() else full).findall(t)
        lengths[i] = len(found)
        extend(found)
    vocab: dict[str, int] = {}
    get = vocab.setdefault
    ids = np.fromiter((get(p[0], len(vocab)) for p in pairs), np.int32, len(pairs))
    space = np.fromiter((p[1] != "" for p in pairs), bool, len(pairs))
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    space[offsets[1:] - 1] = False  # nothing follows the last token of a sentence
    return EncodedCorpus(list(vocab), ids, space, offsets, name)


def read_source(path: str | os.PathLike, *, limit: int | None = None) -> list[str]:
    """Source sentences of a text file read with :func:`lexiconlm.io.text.read_text` (ids dropped).

    Args:
        path: the text file (one sentence per line, or ``id<TAB>text``).
        limit: only the first ``limit`` sentences (``None``: all).

    Returns:
        The non-blank sentences, in file order.

    Raises:
        ValueError: ``limit`` is below 1 (``0`` used to mean "all" and ``-5`` "all but 5").
        DataFormatError: the file cannot be read as text.
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1 (or None for every sentence), got {limit}")
    corpus = read_text(path)
    texts = [s.text for s in corpus.segments if s.text.strip()]
    return texts[:limit] if limit is not None else texts


def check_filters(min_replaced: int, min_ratio: float) -> None:
    """Refuse sentence filters that cannot mean anything (they used to give an empty corpus).

    Args:
        min_replaced: words replaced per sentence at least; must be ``>= 0``.
        min_ratio: replacement ratio per sentence at least; must be in ``[0, 1]``.

    Raises:
        ValueError: a value is out of range (the message names it and the range).
    """
    if not isinstance(min_replaced, (int, np.integer)) or min_replaced < 0:
        raise ValueError(f"min_replaced must be a whole number >= 0, got {min_replaced!r}")
    if not 0.0 <= float(min_ratio) <= 1.0:
        raise ValueError(f"min_ratio must be between 0 and 1 (a share of the words replaced), got {min_ratio!r}")


# --------------------------------------------------------------------------- translation


@dataclass(frozen=True)
class MonoStats:
    """What one language's synthesis did."""

    n_sentences: int
    n_kept: int
    n_tokens: int
    n_words: int
    n_replaced: int
    entries_used: int
    mean_ratio: float  # mean per-sentence replacement ratio over all sentences
    mean_ratio_kept: float  # the same over the sentences kept
    seconds: float = 0.0

    @property
    def coverage(self) -> float:
        """Share of source word tokens translated through the lexicon."""
        return self.n_replaced / self.n_words if self.n_words else 0.0

    def as_dict(self) -> dict:
        d = asdict(self)
        d["coverage"] = round(self.coverage, 6)
        return d


@dataclass
class MonoResult:
    """Translated text (kept sentences, ``\\n``-terminated lines), which sentences were kept, stats."""

    text: str
    kept: np.ndarray  # indices of the kept source sentences
    ratios: np.ndarray  # per source sentence
    stats: MonoStats
    signature: str

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")[:-1] if self.text else []


_SEPS = ("", " ", "\n", None)  # None: the script's joiner


def _type_groups(tr: LexiconTranslator, corpus: EncodedCorpus) -> tuple[np.ndarray, np.ndarray]:
    """Per type: the single-token group (-1 none) and whether it matched exactly."""
    t = tr._table
    n = len(corpus.types)
    groups = np.full(n, -1, dtype=np.int64)
    exact = np.zeros(n, dtype=bool)
    singles_e = t.single_exact
    if tr.lowercase_lookup:
        singles_l = t.single_lower
        if len(singles_l) < n:
            li = corpus.lower_index
            for w, g in singles_l:
                for tid in li.get(w, ()):
                    groups[tid] = g
        else:
            lower = t.lower
            for tid, w in enumerate(corpus.lowered):
                g = lower.get((w,))
                if g is not None:
                    groups[tid] = g
    if len(singles_e) < n:
        ti = corpus.type_index
        for w, g in singles_e:
            tid = ti.get(w)
            if tid is not None:
                groups[tid] = g
                exact[tid] = True
    else:
        ex = t.exact
        for tid, w in enumerate(corpus.types):
            g = ex.get((w,))
            if g is not None:
                groups[tid] = g
                exact[tid] = True
    groups[~corpus.is_word] = -1  # numbers and punctuation are never translated
    exact[~corpus.is_word] = False
    return groups, exact


def _multi_keys(tr: LexiconTranslator, corpus: EncodedCorpus) -> tuple[dict, dict, set, set]:
    """Multi-word keys as tuples of corpus type ids (exact) and lowered-form ids; and their first bigrams.

    Keys with a token the corpus does not have cannot match and are left out.
    """
    t = tr._table
    ti = corpus.type_index
    exact: dict[tuple, int] = {}
    for k, g in t.multi_exact:
        ks = tuple(ti.get(w, -1) for w in k)
        if -1 not in ks:
            exact[ks] = g
    lower: dict[tuple, int] = {}
    if tr.lowercase_lookup:
        lid = corpus.lower_ids_index
        for k, g in t.multi_lower:
            ks = tuple(lid.get(w, -1) for w in k)
            if -1 not in ks:
                lower[ks] = g
    return exact, lower, {k[:2] for k in exact}, {k[:2] for k in lower}


_MASK = (1 << 64) - 1
_MULT = 0x9E3779B97F4A7C15  # odd 64-bit multiplier of the rolling hash


def _hash_powers(n: int) -> list[int]:
    out = [1]
    for _ in range(n):
        out.append((out[-1] * _MULT) & _MASK)
    return out


def _longest_match(keys: dict[tuple, int], seq: np.ndarray, positions: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Per position: the length of the longest key that *may* start there (0: none).

    Rolling 64-bit hashes of the token ids are compared with the hashes of the keys
    and of their prefixes, one length at a time, keeping only positions whose
    prefix can still grow into a key. A key always matches its own hash, so no
    match is missed; a hash collision can only overstate a length, which the
    caller's exact lookup catches.
    """
    max_len = max(len(k) for k in keys)
    powers = _hash_powers(max_len)
    full: dict[int, set] = {}
    prefix: dict[int, set] = {}
    for k in keys:
        h = 0
        for i, tok in enumerate(k):
            h = (h + tok * powers[i]) & _MASK
            if i >= 1:  # the key itself, or one of its proper prefixes
                (full if i == len(k) - 1 else prefix).setdefault(i + 1, set()).add(h)
    best = np.zeros(positions.size, dtype=np.int64)
    seq64 = seq.astype(np.uint64)
    idx = np.flatnonzero(positions + 2 <= ends)
    with np.errstate(over="ignore"):
        h = seq64[positions[idx]] + seq64[positions[idx] + 1] * np.uint64(powers[1])
        for n in range(2, max_len + 1):
            if n > 2:
                ok = positions[idx] + n <= ends[idx]
                idx, h = idx[ok], h[ok]
                h = h + seq64[positions[idx] + n - 1] * np.uint64(powers[n - 1])
            if idx.size == 0:
                break
            f = full.get(n)
            if f:
                hit = np.isin(h, np.fromiter(f, np.uint64, len(f)))
                best[idx[hit]] = n
            pre = prefix.get(n)
            if not pre:
                break
            alive = np.isin(h, np.fromiter(pre, np.uint64, len(pre)))
            idx, h = idx[alive], h[alive]
    return best


def _multiword(
    tr: LexiconTranslator,
    corpus: EncodedCorpus,
    tok_group: np.ndarray,
    tok_exact: np.ndarray,
    unit_end: np.ndarray,
    inner: np.ndarray,
) -> None:
    """Longest-match pass over ids, only where a multi-word entry can start (in place).

    Candidate positions are found vectorised (the token and the next one start some
    multi-word key), the longest possible match at each is found with rolling hashes
    (:func:`_longest_match`), and only positions with a match are walked in Python,
    left to right, to verify the match exactly and skip overlaps.
    """
    t = tr._table
    if not t.has_multi or t.max_n < 2 or corpus.n_tokens < 2:
        return
    exact, lower, bi_e, bi_l = _multi_keys(tr, corpus)
    if not exact and not lower:
        return
    ids = corpus.ids.astype(np.int64)
    T = len(corpus.types)
    found: list[np.ndarray] = []
    for keys_bi, seq, width in (
        (bi_e, ids, T),
        (bi_l, corpus.lower_ids if bi_l else None, None),
    ):
        if not keys_bi:
            continue
        width = width or int(seq.max()) + 1
        first = np.zeros(width, dtype=bool)
        first[[a for a, _ in keys_bi]] = True
        pos = np.flatnonzero(first[seq[:-1]])
        if pos.size:
            codes = np.fromiter((a * width + b for a, b in keys_bi), np.int64, len(keys_bi))
            found.append(pos[np.isin(seq[pos] * width + seq[pos + 1], codes)])
    if not found:
        return
    positions = np.unique(np.concatenate(found)) if len(found) > 1 else found[0]
    if positions.size == 0:
        return
    ends = corpus.offsets[corpus.sentence_of[positions] + 1]
    n_e = _longest_match(exact, ids, positions, ends) if exact else np.zeros(positions.size, np.int64)
    n_l = _longest_match(lower, corpus.lower_ids, positions, ends) if lower else np.zeros(positions.size, np.int64)
    has = np.flatnonzero((n_e > 0) | (n_l > 0))
    if has.size == 0:
        return
    id_list = corpus.ids_list
    lid_list = corpus.lower_ids_list if lower else id_list
    covered = -1
    for p, ne, nl in zip(positions[has].tolist(), n_e[has].tolist(), n_l[has].tolist()):
        if p < covered:
            continue
        # as LexiconTranslator._lookup: longest first, exact before lowercased at each length
        for n in range(max(ne, nl), 1, -1):
            g = exact.get(tuple(id_list[p : p + n])) if n <= ne else None
            ex = True
            if g is None and n <= nl:
                g = lower.get(tuple(lid_list[p : p + n]))
                ex = False
            if g is not None:
                tok_group[p] = g
                tok_exact[p] = ex
                unit_end[p] = p + n
                inner[p + 1 : p + n] = True
                tok_group[p + 1 : p + n] = -1
                covered = p + n
                break


def translate_corpus(
    translator: LexiconTranslator,
    corpus: EncodedCorpus,
    *,
    rng=None,
    min_replaced: int = 0,
    min_ratio: float = 0.0,
) -> MonoResult:
    """Translate every sentence of an encoded corpus.

    Args:
        translator: the :class:`LexiconTranslator` (its tables, sense and OOV policy).
        corpus: from :func:`encode_corpus`.
        rng: a Generator or seed; default the translator's own generator.
        min_replaced: keep only sentences with at least this many words translated
            through the lexicon (Wang et al. 2022 use 3).
        min_ratio: keep only sentences whose replacement ratio is at least this.

    Returns:
        :class:`MonoResult` with the kept sentences' text, their indices and stats.

    Raises:
        ValueError: ``min_replaced < 0`` or ``min_ratio`` outside ``[0, 1]``.

    Example:
        >>> res = translate_corpus(translator, encode_corpus(lines), min_replaced=3)  # doctest: +SKIP
    """
    check_filters(min_replaced, min_ratio)
    t0 = time.perf_counter()
    tr = translator
    table = tr._table
    n = corpus.n_tokens
    T = len(corpus.types)
    ids = corpus.ids
    if n == 0:
        stats = MonoStats(0, 0, 0, 0, 0, 0, 0.0, 0.0, time.perf_counter() - t0)
        return MonoResult("", np.zeros(0, np.int64), np.zeros(0), stats, tr.signature)
    type_group, type_exact = _type_groups(tr, corpus)
    tok_group = type_group[ids]
    tok_exact = type_exact[ids]
    unit_end = np.arange(1, n + 1, dtype=np.int64)
    inner = np.zeros(n, dtype=bool)
    _multiword(tr, corpus, tok_group, tok_exact, unit_end, inner)

    # senses: one uniform draw per translated unit, in text order
    matched = np.flatnonzero(tok_group >= 0)
    gen = tr._as_rng(rng)
    u = gen.random(matched.size)
    cand = table.choose_index(tok_group[matched], u)
    tids = table.cand_target[cand]
    pats = np.where(tok_exact[matched], 0, corpus.case[ids[matched]]).astype(np.int64)

    # replaced words: every word token inside a translated unit
    in_unit = np.zeros(n + 1, dtype=np.int64)
    np.add.at(in_unit, matched, 1)
    np.add.at(in_unit, unit_end[matched], -1)
    covered = np.cumsum(in_unit[:-1]) > 0
    word_tok = corpus.is_word[ids]
    repl_tok = covered & word_tok
    starts = corpus.offsets[:-1]
    repl_sent = np.add.reduceat(repl_tok.astype(np.int64), starts)
    words_sent = corpus.words_per_sentence
    ratios = np.divide(repl_sent, words_sent, out=np.zeros(len(starts)), where=words_sent > 0)
    keep_sent = (repl_sent >= min_replaced) & (ratios >= min_ratio)

    # text codes: [0, T) source types (OOV policy applied), [T, T + 3 * n_targets) targets
    # in a casing pattern, EMPTY for dropped words and the inner tokens of multi-word units
    n_targets = len(table.targets)
    EMPTY = T + 3 * n_targets
    code = ids.astype(np.int64)
    code[matched] = T + tids * 3 + pats
    code[inner] = EMPTY
    oov_drop = tr.oov == "drop"
    if oov_drop:
        code[(~covered) & word_tok] = EMPTY

    # only sentences kept are rendered
    tok_keep = keep_sent[corpus.sentence_of]
    ne = (code != EMPTY) & tok_keep
    # each kept sentence ends with a newline on its last rendered token (an empty
    # sentence keeps its first token as an empty line)
    pos_or_neg = np.where(ne, np.arange(n), -1)
    last_ne = np.maximum.reduceat(pos_or_neg, starts)
    empty_sent = keep_sent & (last_ne < starts)
    last_ne = np.where(empty_sent, starts, last_ne)
    ne[starts[empty_sent]] = True
    code[starts[empty_sent]] = EMPTY
    is_last = np.zeros(n, dtype=bool)
    is_last[last_ne[keep_sent]] = True
    pos = np.flatnonzero(ne)
    codes_c = code[pos]
    # the separator after a rendered token is the source space before the next rendered
    # token: the space after a multi-word unit's last token, or after a dropped word
    nxt = np.empty_like(pos)
    nxt[:-1] = pos[1:]
    nxt[-1:] = n
    sep_c = np.where(is_last[pos], 2, corpus.space[nxt - 1].astype(np.int64))

    # strings only for the codes used
    used = np.zeros(EMPTY + 1, dtype=bool)
    used[codes_c] = True
    used_codes = np.flatnonzero(used).tolist()
    texts: dict[int, str] = {}
    types = corpus.types
    is_w = corpus.is_word
    script = tr.target_script
    for c in used_codes:
        if c == EMPTY:
            texts[c] = ""
        elif c < T:
            w = types[c]
            texts[c] = w if (tr.oov == "keep" or not is_w[c]) else "".join(tr._oov(w))
        else:
            k, pat = divmod(c - T, 3)
            target = table.targets[k]
            if pat == 2:
                target = tuple(x.upper() for x in target)
            elif pat == 1 and target:
                target = (apply_case(target[0], 1),) + target[1:]
            texts[c] = target[0] if len(target) == 1 else detokenize(target, spaces=[True] * len(target), script=script)

    rule = tr._join
    if rule is not None and pos.size > 1:
        first_in = np.zeros(EMPTY + 1, dtype=bool)
        last_in = np.zeros(EMPTY + 1, dtype=bool)
        ends_j = np.zeros(EMPTY + 1, dtype=bool)
        for c in used_codes:
            a, b = _edge_scripts(texts[c]) if texts[c] else (None, None)
            first_in[c] = a in rule.chars
            last_in[c] = b in rule.chars
            ends_j[c] = bool(rule.joiner) and texts[c].endswith(rule.joiner)
        join = (sep_c[:-1] == 1) & last_in[codes_c[:-1]] & first_in[codes_c[1:]]
        sep_c[:-1][join] = np.where(ends_j[codes_c[:-1][join]] | (rule.joiner == ""), 0, 3)

    final = codes_c * 4 + sep_c
    used_f = np.zeros((EMPTY + 1) * 4, dtype=bool)
    used_f[final] = True
    fcodes = np.flatnonzero(used_f)
    remap = np.zeros((EMPTY + 1) * 4, dtype=np.int64)
    remap[fcodes] = np.arange(fcodes.size)
    joiner = rule.joiner if rule is not None else " "
    pieces = np.array(
        [texts[c >> 2] + (_SEPS[c & 3] if (c & 3) != 3 else joiner) for c in fcodes.tolist()] + [""],
        dtype=object,
    )[:-1]
    out = "".join(pieces[remap[final]].tolist())
    if oov_drop:
        out = out.replace(" \n", "\n")

    kept = np.flatnonzero(keep_sent)
    used_c = np.zeros(table.bounds.size + 1, dtype=bool)
    used_c[cand] = True
    entries_used = int(used_c.sum())
    stats = MonoStats(
        n_sentences=corpus.n_sentences,
        n_kept=int(kept.size),
        n_tokens=n,
        n_words=int(word_tok.sum()),
        n_replaced=int(repl_tok.sum()),
        entries_used=entries_used,
        mean_ratio=float(ratios.mean()) if ratios.size else 0.0,
        mean_ratio_kept=float(ratios[kept].mean()) if kept.size else 0.0,
        seconds=time.perf_counter() - t0,
    )
    return MonoResult(out, kept, ratios, stats, tr.signature)


def synthesize(
    translator: LexiconTranslator,
    texts: Sequence[str],
    *,
    min_replaced: int = 0,
    min_ratio: float = 0.0,
) -> MonoResult:
    """Encode ``texts`` and translate them (:func:`encode_corpus` + :func:`translate_corpus`)."""
    return translate_corpus(translator, encode_corpus(texts), min_replaced=min_replaced, min_ratio=min_ratio)


def write_result(result: MonoResult, out: str | os.PathLike, *, extra: dict | None = None) -> tuple[Path, Path]:
    """Write the text and, beside it, ``<out>.json`` (signature, stats, kept sentence indices).

    Both are written atomically; the JSON is written last, so its presence with the
    right signature means the text is complete.
    """
    out = Path(out)
    with atomic_write(out) as fh:
        fh.write(result.text)
    meta = {"signature": result.signature, **result.stats.as_dict(), **(extra or {})}
    meta["kept"] = result.kept.tolist()
    side = out.with_name(out.name + ".json")
    atomic_write_text(side, json.dumps(meta, ensure_ascii=False) + "\n")
    return out, side


def synthesize_file(
    translator: LexiconTranslator,
    source: str | os.PathLike,
    out: str | os.PathLike,
    *,
    min_replaced: int = 0,
    min_ratio: float = 0.0,
    limit: int | None = None,
) -> MonoResult:
    """Translate a source text file into a pseudo target-language file.

    Writes ``out`` (one translated sentence per line, sentences failing the
    filters left out) and ``out.json`` (signature, stats, the indices of the kept
    source lines), both atomically.

    Raises:
        LexiconLMError: the source has no text; nothing is written.

    Example:
        >>> synthesize_file(tr, "flores200_dev/eng_Latn.dev", "runs/ind.txt", min_replaced=3)  # doctest: +SKIP
    """
    texts = read_source(source, limit=limit)
    if not texts:
        raise LexiconLMError(f"{source}: no text to translate")
    result = translate_corpus(
        translator, encode_corpus(texts, name=str(source)), min_replaced=min_replaced, min_ratio=min_ratio
    )
    write_result(result, out, extra={"source": str(source), "min_replaced": min_replaced, "min_ratio": min_ratio})
    return result
