"""Fertility (subwords per word) and UNK rate of a base tokenizer against its extension,
measured on held-out text the extension was not trained on.

:func:`compare_fertility` trains the extension on ``train`` segments
(:func:`lexiconlm.adapt.vocab.train_new_pieces`) and measures both tokenizers on the disjoint
``heldout`` segments with :func:`lexiconlm.coverage.tokenizer.tokenizer_coverage` (the same
definitions the coverage tables use: pieces per whitespace word, ``<unk>`` pieces over all
pieces).

Example:
    >>> row = compare_fertility(tok, train, heldout, n_new=4000)  # doctest: +SKIP
    >>> row["fertility_base"], row["fertility_extended"], row["reduction"]  # doctest: +SKIP
    (4.12, 2.01, 0.512)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lexiconlm.adapt.run import split_heldout
from lexiconlm.adapt.vocab import extend_tokenizer, train_new_pieces
from lexiconlm.coverage.tokenizer import tokenizer_coverage

__all__ = ["compare_fertility", "split_segments"]


def split_segments(texts: Sequence[str], heldout_fraction: float = 0.2) -> tuple[list[str], list[str]]:
    """``(train, heldout)``: the last ``heldout_fraction`` of the segments is held out (a contiguous
    tail, so neighbouring verses or sentences of one article stay on one side)."""
    return split_heldout(texts, heldout_fraction)


def compare_fertility(
    tokenizer: Any,
    train: Sequence[str],
    heldout: Sequence[str],
    *,
    n_new: int = 4000,
    trainer_vocab_size: int | None = None,
    min_frequency: int = 2,
    extended: Any = None,
) -> dict:
    """Fertility and UNK rate of ``tokenizer`` and of its extension on ``heldout``.

    Args:
        tokenizer: the base fast tokenizer.
        train: segments the new pieces are trained on.
        heldout: segments both tokenizers are measured on (disjoint from ``train``).
        n_new: pieces to add.
        extended: an already extended tokenizer (then ``train`` is not used).

    Returns:
        ``{"n_new", "words", "fertility_base", "fertility_extended", "reduction",
        "unk_rate_base", "unk_rate_extended", "overlap_segments"}``; ``reduction`` is
        ``1 - extended / base`` (0.30 = 30% fewer pieces per word); ``overlap_segments`` counts
        held-out segments that also occur in ``train`` (should be 0). ``fertility_known_*`` count only
        the held-out words the base spells without ``<unk>`` (``known_words`` of them): where the base
        does not know a script, a whole run of its letters is one ``<unk>`` piece, so the overall
        base fertility is low and meaningless.

    Raises:
        UnsupportedTokenizerError: the tokenizer cannot be extended.
    """
    if extended is None:
        pieces = train_new_pieces(
            tokenizer, train, n_new, trainer_vocab_size=trainer_vocab_size, min_frequency=min_frequency
        )
        extended = extend_tokenizer(tokenizer, pieces)
    base = tokenizer_coverage(tokenizer, list(heldout))
    ext = tokenizer_coverage(extended, list(heldout))
    fb, fe = base["fertility"], ext["fertility"]
    train_set = set(train)
    known_b, known_e, n_known = _known_word_pieces(tokenizer, extended, heldout)
    return {
        "n_new": len(extended) - len(tokenizer),
        "train_segments": len(train),
        "heldout_segments": len(heldout),
        "words": base["n_words"],
        "fertility_base": fb,
        "fertility_extended": fe,
        "reduction": round(1 - fe / fb, 4) if fb else None,
        "unk_rate_base": base["unk_rate"],
        "unk_rate_extended": ext["unk_rate"],
        "overlap_segments": sum(1 for t in heldout if t in train_set),
        "known_words": n_known,
        "fertility_known_base": round(known_b / n_known, 6) if n_known else None,
        "fertility_known_extended": round(known_e / n_known, 6) if n_known else None,
    }


def _known_word_pieces(base: Any, extended: Any, texts: Sequence[str]) -> tuple[int, int, int]:
    """Pieces of the words (running words, not types) that the base spells without ``<unk>``:
    a run of unknown characters is one ``<unk>`` piece, which makes the base's overall fertility
    look low for a script it does not know."""
    words = [w for t in texts for w in t.split()]
    if not words:
        return 0, 0, 0
    unk = getattr(base, "unk_token_id", None)
    b = base(words, add_special_tokens=False)["input_ids"]
    e = extended(words, add_special_tokens=False)["input_ids"]
    nb = ne = n = 0
    for ib, ie in zip(b, e):
        if unk is not None and unk in ib:
            continue
        nb += len(ib)
        ne += len(ie)
        n += 1
    return nb, ne, n
