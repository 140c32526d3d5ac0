"""How well a model's tokenizer covers a language: UNK rate, fertility and script coverage.

Definitions (:func:`tokenizer_coverage`), over the sample texts of a language:

``unk_rate``
    unknown-token pieces / all pieces (special tokens such as ``[CLS]`` are not added).
    0 for tokenizers without an unknown token (byte-level BPE, byte fallback).
``fertility``
    pieces per whitespace-separated word. For scripts written without spaces (Thai,
    Chinese, Japanese ...) a "word" is a whole run of text, so the figure is high.
``script_coverage``
    the fraction of the text's non-space characters that the tokenizer maps to a
    non-UNK piece when given the character alone (each distinct character is tried
    once). It tells whether the vocabulary knows the *characters* of a script; a
    WordPiece tokenizer may still turn a whole word into ``[UNK]`` because of one
    unknown character, which ``unk_rate`` measures.

:func:`coverage_with_tokenizer` adds these for every language of a coverage table that
has sample text: its text corpora first (the first configured corpus that has the
language, first ``max_segments`` segments), else the target words of its lexicons.
:func:`load_tokenizer` is :func:`lexiconlm.models.load_tokenizer` (aliases such as
``e5-small`` resolve as everywhere else).

transformers and tokenizers are imported only inside the functions that need them, so
importing :mod:`lexiconlm.coverage` stays light (and never imports torch).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from lexiconlm.coverage.compute import file_statistics
from lexiconlm.coverage.config import CoverageConfig, load_config
from lexiconlm.coverage.table import TOKENIZER_COLUMNS, CoverageTable
from lexiconlm.io.lexicons import read_lexicon
from lexiconlm.io.text import read_text
from lexiconlm.models import load_tokenizer

__all__ = ["tokenizer_coverage", "load_tokenizer", "coverage_with_tokenizer", "sample_texts"]


def _unk_id(tokenizer: Any) -> int | None:
    unk = getattr(tokenizer, "unk_token_id", None)
    if unk is None and getattr(tokenizer, "unk_token", None) is not None:
        unk = tokenizer.convert_tokens_to_ids(tokenizer.unk_token)
    return unk


def _encode(tokenizer: Any, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of each text without special tokens, in batches (fast tokenizers run them in Rust)."""
    out: list[list[int]] = []
    for i in range(0, len(texts), 512):
        chunk = list(texts[i : i + 512])
        enc = tokenizer(chunk, add_special_tokens=False)
        out.extend(enc["input_ids"])
    return out


def tokenizer_coverage(tokenizer: Any, texts: Sequence[str], *, char_cache: dict[str, bool] | None = None) -> dict:
    """UNK rate, fertility and script coverage of ``tokenizer`` on ``texts`` (see the module docstring).

    Args:
        tokenizer: a Hugging Face tokenizer (``PreTrainedTokenizerFast``/``AutoTokenizer``
            result, or anything with ``__call__``, ``tokenize`` and ``unk_token_id``).
        texts: sample sentences (or words) of one language.
        char_cache: ``character -> covered`` answers to reuse across calls with the same
            tokenizer (each distinct character is tokenized once).

    Returns:
        ``{"unk_rate", "fertility", "script_coverage", "n_words", "n_tokens", "n_unk",
        "n_chars", "uncovered_chars"}``; ``uncovered_chars`` holds up to 20 characters the
        tokenizer maps to UNK, most frequent first. Rates are ``None`` when the texts hold
        no words.

    Example:
        >>> tokenizer_coverage(tok, ["habari ya asubuhi", "ሰላም"])  # doctest: +SKIP
        {'unk_rate': 0.25, 'fertility': 1.0, 'script_coverage': 0.7857, 'n_words': 4, ...}
    """
    texts = [t for t in texts if t and not t.isspace()]
    n_words = sum(len(t.split()) for t in texts)
    result = {
        "unk_rate": None,
        "fertility": None,
        "script_coverage": None,
        "n_words": n_words,
        "n_tokens": 0,
        "n_unk": 0,
        "n_chars": 0,
        "uncovered_chars": "",
    }
    if not n_words:
        return result
    unk = _unk_id(tokenizer)
    ids = _encode(tokenizer, texts)
    n_tokens = sum(len(x) for x in ids)
    n_unk = sum(x.count(unk) for x in ids) if unk is not None else 0
    chars = Counter(ch for t in texts for ch in t if not ch.isspace())
    n_chars = sum(chars.values())
    uncovered: Counter = Counter()
    unk_token = getattr(tokenizer, "unk_token", None)
    known = char_cache if char_cache is not None else {}
    for ch, n in chars.items():
        covered = known.get(ch)
        if covered is None:
            pieces = tokenizer.tokenize(ch)
            covered = known[ch] = bool(pieces) and not (unk_token is not None and unk_token in pieces)
        if not covered:
            uncovered[ch] = n
    result.update(
        unk_rate=round(n_unk / n_tokens, 6) if n_tokens else 0.0,
        fertility=round(n_tokens / n_words, 6),
        script_coverage=round(1 - sum(uncovered.values()) / n_chars, 6) if n_chars else None,
        n_tokens=n_tokens,
        n_unk=n_unk,
        n_chars=n_chars,
        uncovered_chars="".join(ch for ch, _ in uncovered.most_common(20)),
    )
    return result


def sample_texts(
    files: Sequence[dict], config: CoverageConfig, *, max_segments: int = 200, max_words: int = 2000
) -> dict[str, tuple[str, list[str]]]:
    """Sample text per language: ``iso639_3 -> (origin, texts)``.

    ``files`` are :func:`~lexiconlm.coverage.compute.file_statistics` records. Text corpora
    come first (the first configured corpus with the language; ``origin`` is ``text:<name>``);
    languages without text get up to ``max_words`` distinct target words of their lexicons
    (``lexicons:<name>``).
    """
    by_lang: dict[str, dict[str, list[str]]] = {}
    for f in files:
        iso = f.get("lang")
        if not iso or "skip" in f or "error" in f:
            continue
        if f["kind"] == "text" and f.get("segments"):
            by_lang.setdefault(iso, {}).setdefault(f"text:{f['source']}", []).append(f["path"])
        elif f["kind"] == "lexicons" and f.get("entries"):
            by_lang.setdefault(iso, {}).setdefault(f"lexicons:{f['source']}", []).append(f["path"])
    order = [f"text:{n}" for n in config.text] + [f"lexicons:{n}" for n in config.lexicons]
    out: dict[str, tuple[str, list[str]]] = {}
    for iso, origins in by_lang.items():
        origin = next(o for o in order if o in origins)
        texts: list[str] = []
        for path in sorted(origins[origin]):
            if origin.startswith("text:"):
                corpus = read_text(path, errors="collect", context=origin[5:])
                texts.extend(s.text for s in corpus.segments[: max_segments - len(texts)])
                if len(texts) >= max_segments:
                    break
            else:
                lex = read_lexicon(path, errors="collect")
                seen = dict.fromkeys(texts)
                for e in lex.entries:
                    if len(seen) >= max_words:
                        break
                    seen.setdefault(e.target, None)
                texts = list(seen)
                if len(texts) >= max_words:
                    break
        out[iso] = (origin, texts)
    return out


def coverage_with_tokenizer(
    table: CoverageTable,
    tokenizer: Any,
    config: CoverageConfig | str | os.PathLike,
    *,
    languages: Sequence[str] | None = None,
    max_segments: int = 200,
    max_words: int = 2000,
    progress: bool = False,
) -> CoverageTable:
    """A copy of ``table`` with ``tok_unk_rate``, ``tok_fertility``, ``tok_script_coverage``,
    ``tok_n_words`` and ``tok_sample`` (where the sample came from) for every language that has
    sample text (see :func:`sample_texts`); the other rows get empty values.

    Args:
        table: a coverage table computed from ``config``.
        tokenizer: a loaded tokenizer (:func:`load_tokenizer`) or a name/path to load.
        config: the configuration the table was computed from (to find the sample files).
        languages: only these ISO 639-3 codes (default: every language with sample text).
        max_segments: text segments per language.
        max_words: lexicon target words per language when it has no text.
        progress: print a line per 100 languages (to stderr).

    Example:
        >>> tok = load_tokenizer("runs/tiny-tokenizer")               # doctest: +SKIP
        >>> t2 = coverage_with_tokenizer(table, tok, "configs/coverage/demo.yaml")  # doctest: +SKIP
        >>> t2.row("ind")["tok_unk_rate"]                           # doctest: +SKIP
        0.0
    """
    if isinstance(tokenizer, (str, os.PathLike)):
        tokenizer = load_tokenizer(tokenizer)
    if not isinstance(config, CoverageConfig):
        config = load_config(config)
    files = file_statistics(config)
    if languages is not None:
        wanted = set(languages)
        files = [f for f in files if f.get("lang") in wanted]
    samples = sample_texts(files, config, max_segments=max_segments, max_words=max_words)
    results: dict[str, dict] = {}
    char_cache: dict[str, bool] = {}
    for i, (iso, (origin, texts)) in enumerate(sorted(samples.items()), start=1):
        res = tokenizer_coverage(tokenizer, texts, char_cache=char_cache)
        res["origin"] = origin
        results[iso] = res
        if progress and i % 100 == 0:
            print(f"coverage: tokenizer on {i}/{len(samples)} languages", file=sys.stderr, flush=True)
    columns = tuple(c for c in table.columns if c not in TOKENIZER_COLUMNS) + TOKENIZER_COLUMNS
    rows = []
    for r in table.rows:
        new = {c: r.get(c) for c in columns}
        res = results.get(r["iso639_3"])
        new["tok_unk_rate"] = res["unk_rate"] if res else None
        new["tok_fertility"] = res["fertility"] if res else None
        new["tok_script_coverage"] = res["script_coverage"] if res else None
        new["tok_n_words"] = res["n_words"] if res else None
        new["tok_sample"] = res["origin"] if res else ""
        rows.append(new)
    name = getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__
    sources = dict(table.sources)
    sources["tokenizer"] = {
        "kind": "tokenizer",
        "name": str(name),
        "languages": len(results),
        "max_segments": max_segments,
        "max_words": max_words,
        "uncovered_chars": {iso: r["uncovered_chars"] for iso, r in results.items() if r["uncovered_chars"]},
    }
    return replace(
        table,
        rows=rows,
        sources=sources,
        columns=columns,
        signature=f"{table.signature}|tokenizer:{name}|segments:{max_segments}|words:{max_words}",
    )
