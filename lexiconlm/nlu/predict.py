"""Intent and slots of new utterances from a trained joint model: the product API.

:func:`load_nlu` opens either a saved NLU model folder (what
:func:`lexiconlm.nlu.train.train_joint` writes, ``.../model``) or a ``lexiconlm expand`` run
folder, where ``which="expanded"`` is the model its ``train`` step trained (named by
``<run>/steps/train.json``) and ``which="base"`` the source-only model of its ``train_base``
step (``<run>/steps/train_base.json``: the base encoder fine-tuned on the English source with
the same seed and number of steps, the "before" of the comparison).
:meth:`NLUPredictor.predict` returns one :class:`Parse` per utterance.

Words are what MASSIVE and the evaluation use (:mod:`lexiconlm.io.massive`,
:func:`lexiconlm.nlu.evaluate.tags_to_utterance`): the whitespace-separated tokens of the
text, one BIO tag each (read from its first subword by
:func:`~lexiconlm.nlu.evaluate.predict_tags`). Scripts written without spaces (Japanese,
Chinese, Thai ...) are not segmented further: MASSIVE separates their slot values by spaces
(``[date : 這週] [time : 早上五點] 叫醒我``), so give such an utterance with a space around
each phrase that may be a slot; an utterance without spaces is one word and holds at most
one slot.

An expand run evaluated with translate-test (``evaluate.translate_test``, the default) is
loaded with it: the predictor also reads each utterance into English through the run's lexicon
(``<run>/data/lexicon.tsv`` read backwards, senses by the run's English training utterances) and
averages both readings with the run's shares, as the run's figures were measured
(``translate_test=False`` loads the model alone).

Example:
    >>> nlu = load_nlu("runs/expand/ind-demo")  # doctest: +SKIP
    >>> p = nlu.predict(["bangunkan aku jam tujuh pagi besok"])[0]  # doctest: +SKIP
    >>> p.intent, round(p.intent_score, 2), [(s.slot, s.text) for s in p.slots]  # doctest: +SKIP
    ('alarm_set', 0.93, [('time', 'jam tujuh pagi'), ('date', 'besok')])
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lexiconlm.config import read_yaml
from lexiconlm.devices import resolve_device
from lexiconlm.errors import LexiconLMError
from lexiconlm.io.lexicons import read_lexicon
from lexiconlm.io.massive import read_massive
from lexiconlm.nlu.evaluate import decode, predict_probs, predict_tags
from lexiconlm.nlu.metrics import OUTSIDE, bio_spans
from lexiconlm.nlu.translate_test import combine, read_back
from lexiconlm.synth.reverse import ReverseTranslator
from lexiconlm.synth.translate import count_words
from lexiconlm.types import Utterance

__all__ = ["SlotSpan", "Parse", "NLUPredictor", "load_nlu", "resolve_nlu_model", "run_translate_test", "WHICH"]

#: The models of an expand run folder: the expanded one (``train``) and the source-only one (``train_base``).
WHICH = {"expanded": "train", "base": "train_base"}

_WORD = re.compile(r"\S+")  # MASSIVE's tokens: the whitespace-separated words of the text
_MODEL_FILES = ("nlu.json", "heads.safetensors", "encoder/config.json")
_EXPECTED = (
    "an NLU model folder (nlu.json, heads.safetensors, encoder/: the model/ folder `lexiconlm nlu train` "
    "writes) or a `lexiconlm expand` run folder (steps/train.json)"
)


@dataclass(frozen=True)
class SlotSpan:
    """A predicted slot: ``text`` is the utterance's words ``[start, end)`` (token indices) as written."""

    slot: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Parse:
    """The model's reading of one utterance.

    ``tokens`` are the whitespace-separated words, ``tags`` one BIO tag per token,
    ``slots`` the spans those tags spell (read as the MASSIVE metrics read them), and
    ``intent_score`` the softmax probability of ``intent``.
    """

    text: str
    tokens: tuple[str, ...]
    intent: str
    intent_score: float
    tags: tuple[str, ...]
    slots: tuple[SlotSpan, ...]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (lists for tuples; slots as dicts)."""
        return {
            "text": self.text,
            "tokens": list(self.tokens),
            "intent": self.intent,
            "intent_score": self.intent_score,
            "tags": list(self.tags),
            "slots": [{"slot": s.slot, "text": s.text, "start": s.start, "end": s.end} for s in self.slots],
        }


class NLUPredictor:
    """A loaded joint model that parses utterances (made by :func:`load_nlu`).

    Attributes:
        model_dir: the model folder loaded.
        meta: its ``nlu.json`` (labels, max_len, signature, training summary ...).
        labels: its :class:`~lexiconlm.nlu.model.LabelMaps` (intents, slot labels, BIO tags).
        device: the device it runs on.
        reader: translate-test's :class:`~lexiconlm.synth.reverse.ReverseTranslator` (``None``: the
            text as written only); ``weight`` and ``slot_weight`` are the original reading's shares.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        meta: dict,
        model_dir: Path,
        device: str,
        *,
        reader: ReverseTranslator | None = None,
        weight: float = 0.6,
        slot_weight: float = 0.7,
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.meta = meta
        self.model_dir = Path(model_dir)
        self.labels = model.labels
        self.device = device
        self.max_len = int(meta.get("max_len", 64))
        self.reader = reader
        self.weight = float(weight)
        self.slot_weight = float(slot_weight)

    def __repr__(self) -> str:
        return f"NLUPredictor({str(self.model_dir)!r}, {len(self.labels.intents)} intents, device={self.device!r})"

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[Parse]:
        """One :class:`Parse` per text, in order.

        Args:
            texts: utterances (a single string is refused: wrap it in a list).
            batch_size: utterances per forward pass.

        Raises:
            TypeError: ``texts`` is a string.
        """
        if isinstance(texts, str):
            raise TypeError("predict() takes a sequence of utterances; wrap a single one in a list")
        texts = [str(t) for t in texts]
        spans = [[m.span() for m in _WORD.finditer(t)] for t in texts]
        utts = [
            Utterance(id=str(i), text=t, intent="", tokens=tuple(t[a:b] for a, b in sp))
            for i, (t, sp) in enumerate(zip(texts, spans))
        ]
        if not utts:
            return []
        if self.reader is None:
            intents, tags, scores = predict_tags(
                self.model,
                self.tokenizer,
                utts,
                max_len=self.max_len,
                batch_size=batch_size,
                device=self.device,
                scores=True,
            )
        else:  # translate-test: the text and its English reading, averaged
            words = [list(u.tokens) or [u.text or "."] for u in utts]
            kw = {"max_len": self.max_len, "batch_size": batch_size, "device": self.device}
            ip, tp = predict_probs(self.model, self.tokenizer, words, **kw)
            readings, rip, rtp = read_back(self.model, self.tokenizer, words, self.reader, **kw)
            cip, ctp = combine(ip, tp, rip, rtp, readings, weight=self.weight, slot_weight=self.slot_weight)
            intents, tags, scores = decode(self.labels, cip, ctp)
            tags = [t[: len(u.tokens)] for t, u in zip(tags, utts)]
        return [
            _parse(u, sp, intent, score, tg) for u, sp, intent, score, tg in zip(utts, spans, intents, scores, tags)
        ]


def _parse(u: Utterance, spans: Sequence[tuple[int, int]], intent: str, score: float, tags: Sequence[str]) -> Parse:
    """The slots the tags spell, each with the utterance's own text between its first and last word."""
    slots = tuple(
        SlotSpan(label, u.text[spans[a][0] : spans[b - 1][1]], a, b) for label, a, b in bio_spans(tags, outside=OUTSIDE)
    )
    return Parse(u.text, u.tokens, intent, round(float(score), 6), tuple(tags), slots)


def resolve_nlu_model(path: str | os.PathLike, which: Literal["expanded", "base"] = "expanded") -> Path:
    """The model folder ``path`` means: itself, or the one an expand run's step record names.

    Raises:
        LexiconLMError: ``path`` is neither kind of folder, the run has no such model (an older
            run without ``steps/train_base.json``, a skipped step, a step not run yet), or the
            record names a folder that is not there; each message names the path and what is
            expected.
    """
    if which not in WHICH:
        raise LexiconLMError(f"which must be one of {', '.join(WHICH)}, got {which!r}")
    p = Path(path).expanduser()
    if not p.exists():
        raise LexiconLMError(f"{p}: no such file or folder; expected {_EXPECTED}")
    if p.is_dir() and (p / "nlu.json").is_file():
        if which != "expanded":
            raise LexiconLMError(
                f"{p} is one NLU model folder; which={which!r} needs a `lexiconlm expand` run folder "
                "(it holds the expanded and the base model)"
            )
        return p
    steps = p / "steps"
    if not (p.is_dir() and steps.is_dir()):
        raise LexiconLMError(f"{p} is not {_EXPECTED}")
    step = WHICH[which]
    record = steps / f"{step}.json"
    if not record.is_file():
        if which == "base":
            raise LexiconLMError(
                f"the run {p} has no base NLU model ({record} is missing: the run was made before "
                "lexiconlm trained one); rerun `lexiconlm expand` on it with the current version"
            )
        raise LexiconLMError(
            f"the run {p} has no trained NLU model yet ({record} is missing); run `lexiconlm expand` "
            "through its train step"
        )
    try:
        outputs = json.loads(record.read_text(encoding="utf-8"))["outputs"]
        model_dir = outputs.get("model_dir")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LexiconLMError(
            f"{record}: not a step record of `lexiconlm expand` (expected JSON with outputs.model_dir): {exc}"
        ) from None
    if outputs.get("skipped") or not model_dir:
        what = "base" if which == "base" else "expanded"
        raise LexiconLMError(
            f"the run {p} has no {what} NLU model: its {step} step was skipped ({record}); "
            "rerun `lexiconlm expand` with a config that trains it"
        )
    d = Path(model_dir).expanduser()
    d = d if d.is_absolute() else p / d
    missing = [n for n in _MODEL_FILES if not (d / n).exists()]
    if missing:
        raise LexiconLMError(
            f"{record} names the model folder {d}, which is not a complete NLU model (missing "
            f"{', '.join(missing)}); rerun `lexiconlm expand` on {p} to train it again"
        )
    return d


def run_translate_test(run: Path) -> tuple[ReverseTranslator, float, float] | None:
    """Translate-test as an expand run folder evaluated with it: ``(reader, weight, slot_weight)``,
    or ``None`` when the run has it off or has no lexicon. Senses come from the run's English
    training utterances (``data.massive_train`` of its ``config.yaml``) when that file is still
    there, else from the lexicon's file order.

    Raises:
        ConfigError: the run's ``config.yaml`` is not valid YAML (file and line named).
    """
    cfg_path, lex_path = run / "config.yaml", run / "data" / "lexicon.tsv"
    if not (cfg_path.is_file() and lex_path.is_file()):
        return None
    cfg = read_yaml(cfg_path)  # a broken config.yaml is a ConfigError naming the file and line
    try:
        tt = cfg["evaluate"]["translate_test"]
    except (KeyError, TypeError):
        return None  # a run made before translate-test existed
    if not tt.get("enabled"):
        return None
    train = (cfg.get("data") or {}).get("massive_train")
    english = [u.text for u in read_massive(train)] if train and Path(train).is_file() else []
    reader = ReverseTranslator(
        read_lexicon(lex_path, errors="collect"),
        english_counts=count_words(english),
        hygiene=(cfg.get("synth") or {}).get("hygiene", "script.v1"),
    )
    return reader, float(tt.get("weight", 0.6)), float(tt.get("slot_weight", 0.7))


def load_nlu(
    path: str | os.PathLike,
    *,
    which: Literal["expanded", "base"] = "expanded",
    device: str = "cpu",
    translate_test: bool = True,
) -> NLUPredictor:
    """Load a joint intent + slot model for :meth:`NLUPredictor.predict`.

    Args:
        path: an NLU model folder (``<out>/model`` of ``lexiconlm nlu train``) or a
            ``lexiconlm expand`` run folder.
        which: in a run folder, ``"expanded"`` (the model trained on the expanded data) or
            ``"base"`` (the source-only model trained with the same seed and steps).
        device: ``cpu``, ``cuda``, ``auto`` ... (:func:`lexiconlm.devices.resolve_device`).
        translate_test: for the expanded model of a run evaluated with translate-test, read each
            utterance through the run's lexicon too (:func:`run_translate_test`); ``False``: the
            model alone.

    Returns:
        The predictor; ``.model_dir``, ``.meta`` (``nlu.json``) and ``.labels`` describe the model.

    Raises:
        LexiconLMError: ``path`` is not a model or run folder, or the run lacks the model asked
            for (see :func:`resolve_nlu_model`); ``DataFormatError`` (a kind of it) when the
            model folder is incomplete.

    Example:
        >>> nlu = load_nlu("runs/expand/ind-demo", which="base")  # doctest: +SKIP
        >>> nlu.predict(["setel alarm jam tujuh"])[0].intent  # doctest: +SKIP
        'alarm_set'
    """
    from lexiconlm.nlu.model import load_joint

    model_dir = resolve_nlu_model(path, which)
    dev = resolve_device(device)
    model, tok, meta = load_joint(model_dir, dev)
    tt = None
    run = Path(path).expanduser()
    if translate_test and which == "expanded" and (run / "steps").is_dir():
        tt = run_translate_test(run)
    if tt is None:
        return NLUPredictor(model, tok, meta, model_dir, dev)
    reader, weight, slot_weight = tt
    return NLUPredictor(model, tok, meta, model_dir, dev, reader=reader, weight=weight, slot_weight=slot_weight)
