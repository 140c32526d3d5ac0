"""Lexicon translate-test: a joint model reads each test utterance twice, as written and in English.

For a locale with a lexicon, every test utterance is also read into English word by word
(:class:`~lexiconlm.synth.reverse.ReverseTranslator`: the English -> X lexicon read backwards,
the English sense most frequent in the English training utterances, stems and segmentation for
the words the lexicon lacks as written). The model predicts on both readings; the two intent
distributions are averaged (``weight`` on the original reading), and so is each word's tag
distribution with the one of the first English word it became. A word with no English word of its
own (inside a multi-word entry) keeps its original distribution. Slots stay on the original words,
so the scores are comparable with the plain evaluation.

A model trained on English reads English best: the second reading helps where the base model
knows the language least and the lexicon covers its words, and it costs one more forward pass
per utterance. A mismatched lexicon (the experiment's control) reads almost nothing of the text,
so its second reading is close to the first: what translate-test adds over the control is what the
lexicon knows about the language.

Example:
    >>> readers = {"cy-GB": ReverseTranslator(read_lexicon("wiktionary/welsh.txt"), english_counts=counts)}
    >>> plain, both = evaluate_translate_test(model_dir, tests, readers)  # doctest: +SKIP
    >>> both["cy-GB"]["intent_accuracy"] - plain["cy-GB"]["intent_accuracy"]  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from lexiconlm.nlu.evaluate import decode, load_checked, predict_probs
from lexiconlm.nlu.metrics import score_tags
from lexiconlm.synth.reverse import Reading, ReverseTranslator
from lexiconlm.types import NLUDataset

__all__ = ["combine", "read_back", "evaluate_translate_test"]


def combine(
    intent_probs: np.ndarray,
    tag_probs: Sequence[np.ndarray],
    read_intent_probs: np.ndarray,
    read_tag_probs: Sequence[np.ndarray],
    readings: Sequence[Reading],
    *,
    weight: float = 0.5,
    slot_weight: float | None = None,
    by_ratio: bool = False,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The averaged distributions of the original and the English reading (``weight`` on the
    original's intent distribution, ``slot_weight`` on its tag distributions; default ``weight``).

    With ``by_ratio``, the reading's share of an utterance's intent distribution is scaled by the
    share of its words the lexicon read (an utterance read half gets half the share).
    """
    sw = weight if slot_weight is None else slot_weight
    share = np.full((len(readings), 1), 1.0 - weight, dtype=np.float32)
    if by_ratio:
        share *= np.array([[r.ratio] for r in readings], dtype=np.float32).reshape(-1, 1)
    ip = (1.0 - share) * intent_probs + share * read_intent_probs
    tp: list[np.ndarray] = []
    for rows, read_rows, r in zip(tag_probs, read_tag_probs, readings):
        out = rows.copy()
        for i, j in enumerate(r.first[: len(rows)]):
            if 0 <= j < len(read_rows):
                out[i] = sw * rows[i] + (1.0 - sw) * read_rows[j]
        tp.append(out)
    return ip, tp


def read_back(
    model,
    tokenizer,
    words: Sequence[Sequence[str]],
    reader: ReverseTranslator,
    *,
    max_len: int,
    batch_size: int = 128,
    device: str = "cpu",
    progress: bool = False,
    desc: str = "read",
) -> tuple[list[Reading], np.ndarray, list[np.ndarray]]:
    """The English reading of each utterance and the model's distributions on it:
    ``(readings, intent_probs, tag_probs)`` (:func:`~lexiconlm.nlu.evaluate.predict_probs` on the
    readings), ready for :func:`combine`."""
    readings = [reader.read(w) for w in words]
    ip, tp = predict_probs(
        model,
        tokenizer,
        [list(r.tokens) or ["."] for r in readings],
        max_len=max_len,
        batch_size=batch_size,
        device=device,
        progress=progress,
        desc=desc,
    )
    return readings, ip, tp


def evaluate_translate_test(
    model_dir: str | Path,
    datasets: Sequence[NLUDataset],
    readers: Mapping[str, ReverseTranslator | None],
    *,
    weight: float = 0.5,
    slot_weight: float | None = None,
    device: str = "auto",
    batch_size: int = 64,
    progress: bool = True,
) -> tuple[dict[str, dict], dict[str, dict]]:
    """Score a saved joint model on each dataset as written, and with translate-test.

    Args:
        model_dir: a saved joint model folder.
        datasets: evaluation files (one locale each).
        readers: the reverse translator of each locale; a locale without one (the training
            locale, a locale with no lexicon) gets the plain figures in both results.
        weight: the original reading's share of the averaged intent distributions.
        slot_weight: its share of the averaged tag distributions (default ``weight``; 1: the
            slots of the original reading alone).

    Returns:
        ``(plain, translate_test)``: ``{locale: {"intent_accuracy", "slot_f1", "exact_match", "n",
        "seconds"}}`` each; the translate-test figures add ``read_ratio`` (share of the words read
        through the lexicon, percent).

    Raises:
        DataFormatError: a file has an intent the model does not know (every line listed).
    """
    for name, w in (("weight", weight), ("slot_weight", slot_weight)):
        if w is not None and not 0.0 <= w <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {w}")
    model, tok, info, dev = load_checked(model_dir, datasets, device)
    max_len = int(info.get("max_len", 64))
    plain: dict[str, dict] = {}
    both: dict[str, dict] = {}
    for ds in datasets:
        loc = ds.locale or Path(ds.provenance.path).stem
        t0 = time.perf_counter()
        utts = list(ds)
        words = [list(u.tokens) or [u.text or "."] for u in utts]
        ip, tp = predict_probs(
            model, tok, words, max_len=max_len, batch_size=batch_size, device=dev, progress=progress, desc=loc
        )
        gold_i, gold_t = [u.intent for u in utts], [u.bio for u in utts]
        pi, pt, _ = decode(model.labels, ip, tp)
        plain[loc] = score_tags(gold_i, pi, gold_t, [t[: len(u.tokens)] for t, u in zip(pt, utts)])
        plain[loc]["seconds"] = round(time.perf_counter() - t0, 2)
        reader = readers.get(loc)
        if reader is None:
            both[loc] = dict(plain[loc])
            continue
        t1 = time.perf_counter()
        readings, rip, rtp = read_back(
            model,
            tok,
            words,
            reader,
            max_len=max_len,
            batch_size=batch_size,
            device=dev,
            progress=progress,
            desc=f"{loc} (read)",
        )
        cip, ctp = combine(ip, tp, rip, rtp, readings, weight=weight, slot_weight=slot_weight)
        ci, ct, _ = decode(model.labels, cip, ctp)
        both[loc] = score_tags(gold_i, ci, gold_t, [t[: len(u.tokens)] for t, u in zip(ct, utts)])
        n_words = sum(r.n_words for r in readings)
        both[loc]["read_ratio"] = round(100.0 * sum(r.n_read for r in readings) / n_words, 2) if n_words else 0.0
        both[loc]["seconds"] = round(plain[loc]["seconds"] + time.perf_counter() - t1, 2)
    return plain, both
