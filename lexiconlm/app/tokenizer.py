"""The explorer's Tokenizer tab: local tokenizers to offer, loading one, and how it splits
sample sentences. Hub names are never offered, so nothing is downloaded.

Example:
    >>> tok = load_local_tokenizer("runs/adapt/tokenizer", ctx.allowed_roots)  # doctest: +SKIP
    >>> segment_sentences(tok, ["selamat pagi"])[0]["n_tokens"]                 # doctest: +SKIP
    2
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lexiconlm.app.context import AppContext
from lexiconlm.app.files import PathNotAllowedError, is_inside, resolve_inside
from lexiconlm.coverage.tokenizer import load_tokenizer

__all__ = ["find_tokenizers", "load_local_tokenizer", "segment_sentences"]

_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


def find_tokenizers(ctx: AppContext, *, max_depth: int = 4) -> dict[str, str]:
    """Local tokenizers the app can show: ``folder -> label``.

    The tokenizer given with ``lexiconlm app --tokenizer`` first, then every folder under
    the run folders holding ``tokenizer.json`` or ``tokenizer_config.json`` (adaptation runs
    save their extended tokenizer there); linked folders are not entered.
    """
    out: dict[str, str] = {}
    if ctx.tokenizer:
        t = Path(ctx.tokenizer)
        folder = t if t.is_dir() else t.parent
        out[str(folder)] = f"{folder.name} (given with --tokenizer)"
    for root in ctx.run_folders:
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            depth = len(here.relative_to(root).parts)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and depth < max_depth)
            if any(f in filenames for f in _TOKENIZER_FILES) and is_inside(here, [root]):
                out.setdefault(str(here), here.relative_to(root).as_posix() or root.name)
    return out


def load_local_tokenizer(folder: str | os.PathLike, roots: Sequence[str | os.PathLike]) -> Any:
    """Load a tokenizer folder (or the folder of a ``tokenizer.json``) after checking that it,
    and every file in it, lies inside ``roots`` (:attr:`AppContext.allowed_roots`).

    Raises:
        PathNotAllowedError: the folder, or a file in it (a link), is outside ``roots``.
        LexiconLMError: it cannot be loaded (see
            :func:`lexiconlm.coverage.tokenizer.load_tokenizer`).
    """
    path = resolve_inside(folder, roots)
    path = path if path.is_dir() else path.parent
    for child in sorted(path.iterdir()):
        if not is_inside(child, roots):
            raise PathNotAllowedError(
                f"{child.name} in the tokenizer folder {path} is a link that leads outside the "
                "folders this app may read, so the tokenizer is not loaded; copy the file into "
                "the folder instead"
            )
    return load_tokenizer(path)


def segment_sentences(tokenizer: Any, sentences: Sequence[str]) -> list[dict[str, Any]]:
    """How ``tokenizer`` splits each sentence: rows of sentence, tokens (joined with ``|``),
    their number, tokens per whitespace word and unknown tokens.

    Accepts a transformers tokenizer (``tokenize``, ``unk_token``) or a ``tokenizers.Tokenizer``
    (``encode(...).tokens``; its model's ``unk_token``).
    """
    unk = getattr(tokenizer, "unk_token", None)
    if unk is None:
        unk = getattr(getattr(tokenizer, "model", None), "unk_token", None)
    rows = []
    for s in sentences:
        if hasattr(tokenizer, "tokenize"):
            toks = list(tokenizer.tokenize(s))
        else:
            toks = list(tokenizer.encode(s, add_special_tokens=False).tokens)
        words = max(1, len(s.split()))
        rows.append(
            {
                "sentence": s,
                "tokens": " | ".join(toks),
                "n_tokens": len(toks),
                "tokens_per_word": round(len(toks) / words, 2),
                "unknown": sum(1 for t in toks if unk is not None and t == unk),
            }
        )
    return rows
