"""Evaluate a saved joint model on MASSIVE-style files: per locale, averaged, by script and family.

Every file in a test folder (``*.tsv``, ``*.jsonl``) is read with
:func:`lexiconlm.io.massive.read_massive` (a malformed ``[slot : value]`` anywhere is a
:class:`DataFormatError` naming each line) and checked against the model's label set
(:func:`check_labels`: unknown intents or slot labels are errors naming each line).
Utterances are predicted in length-sorted batches (less padding) and scored with
:mod:`lexiconlm.nlu.metrics`.

Example:
    >>> res = evaluate(  # doctest: +SKIP
    ...     Path("runs/nlu/zero-shot/model"), read_test_dir("../shared/data/nlu/massive/test")
    ... )
    >>> res["sw-KE"]  # doctest: +SKIP
    {'intent_accuracy': 51.2, 'slot_f1': 30.4, 'exact_match': 18.9, 'n': 2974}
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from lexiconlm.devices import resolve_device
from lexiconlm.errors import DataFormatError, Problem
from lexiconlm.io.massive import read_massive, write_massive_tsv
from lexiconlm.nlu.metrics import OUTSIDE, bio_spans, score_tags
from lexiconlm.types import NLUDataset, SlotSpan, Utterance

__all__ = [
    "read_test_dir",
    "line_numbers",
    "check_labels",
    "load_checked",
    "predict_probs",
    "decode",
    "predict_tags",
    "tags_to_utterance",
    "predict",
    "evaluate",
]

_SUFFIXES = (".tsv", ".jsonl")


def read_test_dir(path: str | Path, *, locales: Iterable[str] | None = None) -> list[NLUDataset]:
    """Every MASSIVE file in a folder (or one file), sorted by name; ``locales`` keeps only those.

    Raises:
        DataFormatError: no MASSIVE file in the folder, or a file with malformed lines (all listed,
            every file checked before raising).
    """
    p = Path(path)
    files = (
        [p]
        if p.is_file()
        else sorted(f for f in p.iterdir() if f.suffix in _SUFFIXES and f.is_file())
        if p.is_dir()
        else []
    )
    if not files:
        raise DataFormatError.single(
            str(p),
            None,
            "no MASSIVE .tsv/.jsonl file here",
            "give the test folder, e.g. ../shared/data/nlu/massive/test",
        )
    keep = set(locales) if locales is not None else None
    out: list[NLUDataset] = []
    problems: list[Problem] = []
    for f in files:
        try:
            ds = read_massive(f)
        except DataFormatError as exc:
            problems.extend(exc.problems)
            continue
        if keep is None or ds.locale in keep:
            out.append(ds)
    if problems:
        raise DataFormatError(problems)
    return out


def line_numbers(path: str | Path) -> dict[str, int]:
    """``{utterance id: 1-based line}`` of a MASSIVE TSV (header naming ``id``) or JSON lines file."""
    p = Path(path)
    out: dict[str, int] = {}
    try:
        lines = p.read_text(encoding="utf-8-sig").splitlines()
    except OSError:
        return out
    if p.suffix == ".jsonl" or (lines and lines[0].lstrip().startswith("{")):
        for i, line in enumerate(lines, 1):
            try:
                out.setdefault(str(json.loads(line).get("id")), i)
            except (ValueError, AttributeError):
                continue
        return out
    header = lines[0].split("\t") if lines else []
    col = header.index("id") if "id" in header else 0
    for i, line in enumerate(lines[1:], 2):
        f = line.split("\t")
        if len(f) > col:
            out.setdefault(f[col], i)
    return out


def check_labels(
    datasets: Iterable[NLUDataset], intents: Iterable[str], slots: Iterable[str], *, strict_slots: bool = False
) -> list[Problem]:
    """Raise one :class:`DataFormatError` naming every line whose intent the model does not know.

    A slot label the model does not know cannot be predicted (its spans count as misses); it is
    returned as a warning, or is an error too with ``strict_slots``.

    Args:
        datasets: the evaluation files.
        intents, slots: the model's labels (the training labels plus intents.tsv / slots.tsv).

    Returns:
        The warnings (unknown slot labels, one per line).
    """
    known_i, known_s = set(intents), set(slots)
    problems: list[Problem] = []
    for ds in datasets:
        lines: dict[str, int] | None = None
        for u in ds:
            bad_s = sorted({s.label for s in u.slots} - known_s)
            if u.intent in known_i and not bad_s:
                continue
            if lines is None:
                lines = line_numbers(ds.provenance.path)
            line = lines.get(u.id)
            if u.intent not in known_i:
                problems.append(
                    Problem(
                        ds.provenance.path,
                        line,
                        f"unknown intent {u.intent!r} (id {u.id})",
                        f"the model knows {len(known_i)} intents (en-US training set / intents.tsv); fix the label",
                    )
                )
            if bad_s:
                problems.append(
                    Problem(
                        ds.provenance.path,
                        line,
                        f"unknown slot label(s) {bad_s} (id {u.id})",
                        "the model knows the slot labels of its training data / slots.tsv; these spans count as missed",
                        "error" if strict_slots else "warning",
                    )
                )
    if any(p.severity == "error" for p in problems):
        raise DataFormatError(problems)
    return problems


def predict_probs(
    model,
    tokenizer,
    words: Sequence[Sequence[str]],
    *,
    max_len: int,
    batch_size: int = 128,
    device: str = "cpu",
    progress: bool = False,
    desc: str = "predict",
):
    """Softmax distributions of pre-split utterances, in input order.

    Returns:
        ``(intent_probs, tag_probs)``: an ``[N, n_intents]`` float32 array, and per utterance an
        ``[n_words, n_tags]`` array read at each word's first subword (a word cut off by ``max_len``
        gets all its mass on ``O``). Utterances are batched by length (sorted), which cuts padding.
    """
    import torch

    from lexiconlm.nlu.model import encode_batch

    labels = model.labels
    n_tags = len(labels.tags)
    order = sorted(range(len(words)), key=lambda i: (len(words[i]), sum(len(w) for w in words[i])))
    intent_probs = np.zeros((len(words), len(labels.intents)), dtype=np.float32)
    tag_probs: list = [None] * len(words)
    was_training = model.training
    model.eval()
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if str(device).startswith("cuda")
        else torch.autocast("cpu", enabled=False)
    )
    with torch.inference_mode(), autocast:
        for b in tqdm(range(0, len(order), batch_size), disable=not progress, desc=desc, unit="batch"):
            idx = order[b : b + batch_size]
            enc, firsts = encode_batch(tokenizer, [list(words[i]) or ["."] for i in idx], max_len)
            il, sl = model(**{k: v.to(device) for k, v in enc.items()})
            intent_probs[idx] = il.float().softmax(-1).cpu().numpy()
            sp = sl.float().softmax(-1).cpu().numpy()
            for r, i in enumerate(idx):
                rows = np.zeros((len(words[i]), n_tags), dtype=np.float32)
                rows[:, 0] = 1.0  # O, for a word with no subword position
                for w, pos in enumerate(firsts[r][: len(words[i])]):
                    if pos >= 0:
                        rows[w] = sp[r, pos]
                tag_probs[i] = rows
    model.train(was_training)
    return intent_probs, tag_probs


def decode(labels, intent_probs, tag_probs) -> tuple[list[str], list[list[str]], list[float]]:
    """``(intents, per-word BIO tags, intent probabilities)``: the argmax of :func:`predict_probs` output."""
    tags = labels.tags
    best = intent_probs.argmax(-1)
    intents = [labels.intents[int(k)] for k in best]
    probs = [float(intent_probs[i, k]) for i, k in enumerate(best)]
    out_tags = [[tags[int(k)] for k in rows.argmax(-1)] if len(rows) else [] for rows in tag_probs]
    return intents, out_tags, probs


def predict_tags(
    model,
    tokenizer,
    utterances: Sequence[Utterance],
    *,
    max_len: int,
    batch_size: int = 128,
    device: str = "cpu",
    progress: bool = False,
    desc: str = "predict",
    scores: bool = False,
) -> tuple[list[str], list[list[str]]] | tuple[list[str], list[list[str]], list[float]]:
    """Predicted intents and per-word BIO tags, in input order (words past ``max_len`` get ``O``).

    With ``scores``, a third list gives each predicted intent's softmax probability (what
    :mod:`lexiconlm.nlu.predict` reports).
    """
    words = [list(u.tokens) or [u.text or "."] for u in utterances]
    ip, tp = predict_probs(
        model, tokenizer, words, max_len=max_len, batch_size=batch_size, device=device, progress=progress, desc=desc
    )
    intents, tags, probs = decode(model.labels, ip, tp)
    tags = [t[: len(u.tokens)] for t, u in zip(tags, utterances)]
    return (intents, tags, probs) if scores else (intents, tags)


def tags_to_utterance(gold: Utterance, intent: str, tags: Sequence[str]) -> Utterance:
    """A predicted :class:`Utterance` on the gold tokens: ``intent`` and the slots the tags spell.

    Character offsets are the token offsets in ``gold.text`` when its whitespace tokens are the
    gold tokens (``-1`` otherwise, e.g. ja/zh whose text has no spaces).
    """
    spans = [m.span() for m in re.finditer(r"\S+", gold.text)]
    aligned = len(spans) == len(gold.tokens)
    slots = []
    for label, a, b in bio_spans(tags, outside=OUTSIDE):
        value = " ".join(gold.tokens[a:b])
        start, end = (spans[a][0], spans[b - 1][1]) if aligned else (-1, -1)
        slots.append(SlotSpan(label, value, start, end, a, b))
    return Utterance(
        id=gold.id,
        text=gold.text,
        intent=intent,
        slots=tuple(slots),
        locale=gold.locale,
        partition=gold.partition,
        tokens=gold.tokens,
    )


def predict(
    model_dir: str | Path, dataset: NLUDataset | Sequence[Utterance], *, device: str = "auto", batch_size: int = 128
) -> list[Utterance]:
    """Predicted utterances (intent + slots on the gold tokens) from a saved model folder."""
    from lexiconlm.nlu.model import load_joint

    dev = resolve_device(device)
    model, tok, info = load_joint(model_dir, dev)
    utts = list(dataset)
    pi, pt = predict_tags(model, tok, utts, max_len=int(info.get("max_len", 64)), batch_size=batch_size, device=dev)
    return [tags_to_utterance(u, i, t) for u, i, t in zip(utts, pi, pt)]


def load_checked(model_dir: str | Path, datasets: Sequence[NLUDataset], device: str = "auto"):
    """``(model, tokenizer, nlu.json dict, device)`` of a saved model, with ``datasets`` checked
    against its labels first (an unknown intent is an error naming every line; an unknown slot label
    is logged as a warning, its spans count as missed)."""
    from lexiconlm.nlu.model import load_joint

    dev = resolve_device(device)
    model, tok, info = load_joint(model_dir, dev)
    warnings = check_labels(datasets, model.labels.intents, model.labels.slots)
    if warnings:
        logging.getLogger(__name__).warning(
            "%d utterance(s) with slot labels the model does not know (first: %s)", len(warnings), warnings[0]
        )
    return model, tok, info, dev


def evaluate(
    model_dir: str | Path,
    datasets: Sequence[NLUDataset],
    *,
    device: str = "auto",
    batch_size: int = 64,
    progress: bool = True,
    predictions_dir: str | Path | None = None,
) -> dict[str, dict]:
    """Score a saved joint model on each dataset.

    Args:
        model_dir: folder written by :func:`lexiconlm.nlu.train.train_joint` (``.../model``).
        datasets: evaluation files (one locale each).
        device: ``auto``, ``cpu`` or ``cuda``.
        batch_size: utterances per forward pass.
        progress: show a progress bar per file.
        predictions_dir: also write each file's predictions there (``<locale>.tsv``, MASSIVE TSV).

    Returns:
        ``{locale: {"intent_accuracy", "slot_f1", "exact_match", "n", "seconds"}}`` (percentages).

    Raises:
        DataFormatError: a file has an intent or slot label the model does not know (every line listed).
    """
    model, tok, info, dev = load_checked(model_dir, datasets, device)
    out: dict[str, dict] = {}
    for ds in datasets:
        t0 = time.perf_counter()
        utts = list(ds)
        pi, pt = predict_tags(
            model,
            tok,
            utts,
            max_len=int(info.get("max_len", 64)),
            batch_size=batch_size,
            device=dev,
            progress=progress,
            desc=ds.locale,
        )
        res = score_tags([u.intent for u in utts], pi, [u.bio for u in utts], pt)
        res["seconds"] = round(time.perf_counter() - t0, 2)
        out[ds.locale or Path(ds.provenance.path).stem] = res
        if predictions_dir is not None:
            preds = [tags_to_utterance(u, i, t) for u, i, t in zip(utts, pi, pt)]
            write_massive_tsv([_for_writing(p) for p in preds], Path(predictions_dir) / f"{ds.locale}.tsv")
    return out


def _for_writing(u: Utterance) -> Utterance:
    """Predictions are written on the whitespace tokens (text rebuilt from them) so the annotation always renders."""
    text = " ".join(u.tokens)
    starts, pos = [], 0
    for t in u.tokens:
        starts.append(pos)
        pos += len(t) + 1
    slots = tuple(
        replace(s, start=starts[s.tok_start], end=starts[s.tok_end - 1] + len(u.tokens[s.tok_end - 1])) for s in u.slots
    )
    return replace(u, text=text, slots=slots, annot_utt="")
