"""Pseudo-labelled data: translate labelled utterances through a lexicon and carry the labels over.

MASSIVE-style utterances (intent + ``[slot : value]`` spans) and CoNLL token-label
sentences (BIO tags) are translated **segment by segment**: each slot value (each
entity) and each stretch outside slots is translated on its own, so no multi-word
lexicon entry crosses a slot boundary and every label lands on exactly the words
its own words became — one source word giving several target words (one-to-many)
and a multi-word entry giving one target word (many-to-one) alike. The output is
then re-rendered from the translated segments, so the projection is exact by
construction; :func:`check_projection` verifies it on every utterance anyway.

What is kept and what changes (MASSIVE):

* ``id``, ``intent`` and ``partition`` are kept; ``locale`` becomes the target locale;
* the slot labels are the source labels in the same order; each value is the
  translation of the source value, and ``text[start:end] == value``;
* a slot whose words are all dropped (``oov="drop"``) keeps its source words,
  so the label counts of source and output always match (counted in
  :attr:`ProjectionStats.n_slots_restored`);
* a segment whose translation contains ``[`` or ``]`` (which an annotation cannot
  hold) keeps its source words (:attr:`ProjectionStats.n_segments_restored`);
* for scripts written without spaces (Thai, Japanese, Chinese ...) the text joins
  words with the script's rule (:func:`lexiconlm.synth.tokenize.detokenize`) and the
  annotation puts a space around each bracket, as MASSIVE's ja-JP/zh-CN files do;
  the offsets always refer to the text (written as ``utt`` when it differs from the
  annotation's text);
* the source's extra fields (``worker_id``, ``judgments`` ... of the official files)
  describe the source annotation and are not copied; two extra fields give each
  utterance's figures: ``lex_words`` = ``replaced/words`` (word tokens translated
  through the lexicon) and ``lex_slots`` = ``translated/slots`` (slot values whose
  every word was translated);
* the settings are recorded in a ``<output>.signature`` file beside the output:
  the translator's signature plus ``proj:segments.v1``.

Randomness: each utterance gets its own generator seeded with the translator's
seed and a hash of the utterance id, so an utterance's translation does not depend
on which other utterances are translated, or in which order.

CoNLL: segments are the maximal spans of one entity (``B-X I-X ...``) and the
stretches of other tags; the output tags are re-derived (the first target token
of an entity ``B-X``, the rest ``I-X``, everything else keeps its tag — ``O``
for NER). Middle columns (POS/chunk tags of CoNLL-2003) cannot be projected and
are left out of the output.

Example:
    >>> from lexiconlm.io.massive import utterance_from_annotation
    >>> u = utterance_from_annotation("wake me up at [time : nine am]", id="1", intent="alarm_set")
    >>> out = project_utterance(u, translator)                   # doctest: +SKIP
    >>> out.utterance.annot_utt, out.stats.token_ratio            # doctest: +SKIP
    ('bangunkan saya pada [time : sembilan pagi]', 1.0)

Why one module of about 810 lines: label projection for MASSIVE and CoNLL shares the span
alignment and the leakage filtering.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from lexiconlm.errors import LexiconLMError
from lexiconlm.files import atomic_write_text
from lexiconlm.io.conll import ConllDataset, TaggedSentence, bio_spans, read_conll, write_conll
from lexiconlm.io.lexicons import read_lexicon
from lexiconlm.io.massive import (
    annotation_text,
    parse_annotation,
    read_massive,
    utterance_from_annotation,
    write_massive_jsonl,
    write_massive_tsv,
)
from lexiconlm.signature import Signature
from lexiconlm.synth.hygiene import HygieneConfig
from lexiconlm.synth.tokenize import detokenize, is_word, tokenize
from lexiconlm.synth.translate import LexiconTranslator, apply_case, case_pattern
from lexiconlm.types import Lexicon, SlotSpan, Utterance

if TYPE_CHECKING:  # pragma: no cover
    from lexiconlm.synth.translate import LexiconTranslator, Translation

__all__ = [
    "PROJECTION",
    "ProjectedUtterance",
    "ProjectionError",
    "ProjectionResult",
    "ProjectionStats",
    "TokenInflector",
    "check_projection",
    "detect_labelled_format",
    "label_file",
    "make_translator",
    "project_conll_file",
    "project_massive_file",
    "project_sentence",
    "project_sentences",
    "project_utterance",
    "project_utterances",
    "utterance_rng",
]

#: Name and version of the projection method, recorded in every output's signature.
PROJECTION = "segments.v1"
_FORBIDDEN = frozenset("[]\t\n\r")


class ProjectionError(LexiconLMError, RuntimeError):
    """A projected utterance failed the exactness check (a bug: please report it with the input)."""


class TokenInflector(Protocol):
    """What :mod:`lexiconlm.synth.morph_augment` plugs in: a target form for a source token, or None.

    ``tokens`` are all source tokens of the utterance and ``i`` the token asked about,
    so the inflector can look at the context (e.g. the previous word).
    """

    def __call__(self, tokens: Sequence[str], i: int) -> str | None:
        """The target form for ``tokens[i]``; ``None`` for tokens the lexicon translates as they are."""
        ...


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class ProjectionStats:
    """Counts for one utterance (or, summed with ``+``, for a whole file).

    Attributes:
        n_words: source word tokens (tokens with a letter; numbers and punctuation excluded).
        n_replaced: of those, translated through the lexicon (or inflected by the morphology hook).
        n_slots: slot values (entities).
        n_slots_translated: slot values whose every word was translated.
        n_slots_partial: slot values with at least one word translated.
        n_slots_restored: slot values whose words were all dropped, so the source words were kept.
        n_segments_restored: segments whose translation held ``[``/``]`` and kept the source words.
        n_morph: tokens given a target form by the morphology hook (an inflected form, or
            the translated lemma where no inflected form exists).
        n_utterances: utterances (sentences) counted.
    """

    n_words: int = 0
    n_replaced: int = 0
    n_slots: int = 0
    n_slots_translated: int = 0
    n_slots_partial: int = 0
    n_slots_restored: int = 0
    n_segments_restored: int = 0
    n_morph: int = 0
    n_utterances: int = 1

    def __add__(self, other: ProjectionStats) -> ProjectionStats:
        return ProjectionStats(*(a + b for a, b in zip(_astuple(self), _astuple(other))))

    @classmethod
    def zero(cls) -> ProjectionStats:
        return cls(n_utterances=0)

    @property
    def token_ratio(self) -> float:
        """Share of source word tokens translated (0.0 without words)."""
        return self.n_replaced / self.n_words if self.n_words else 0.0

    @property
    def slot_ratio(self) -> float:
        """Share of slot values with every word translated (0.0 without slots)."""
        return self.n_slots_translated / self.n_slots if self.n_slots else 0.0

    @property
    def slot_partial_ratio(self) -> float:
        """Share of slot values with at least one word translated."""
        return self.n_slots_partial / self.n_slots if self.n_slots else 0.0


def _astuple(s: ProjectionStats) -> tuple[int, ...]:
    return (
        s.n_words,
        s.n_replaced,
        s.n_slots,
        s.n_slots_translated,
        s.n_slots_partial,
        s.n_slots_restored,
        s.n_segments_restored,
        s.n_morph,
        s.n_utterances,
    )


@dataclass(frozen=True)
class ProjectedUtterance:
    """A translated utterance with its counts."""

    utterance: Utterance
    stats: ProjectionStats


@dataclass(frozen=True)
class ProjectionResult:
    """Every projected item of one input, the summed counts and the signature of the settings."""

    items: tuple
    stats: ProjectionStats
    signature: str
    problems: tuple[str, ...] = ()
    output: Path | None = None

    def __len__(self) -> int:
        return len(self.items)


def utterance_rng(seed: int, key: str):
    """The generator used for one utterance: seeded with ``(seed, crc32(key))``, independent of order."""
    return np.random.default_rng((int(seed), zlib.crc32(key.encode("utf-8"))))


def _signature(translator: LexiconTranslator, extra: Sequence[tuple[str, object]] = ()) -> str:
    pairs = [(k, v) for k, v in Signature.parse(translator.signature).items() if k != "lexiconlm"]
    pairs += [("proj", PROJECTION), *extra]
    return str(Signature.from_pairs(pairs))


# --------------------------------------------------------------------------- segment translation


@dataclass
class _Seg:
    """One source segment: a slot value (label set) or a stretch outside slots."""

    label: str | None
    tokens: list[str]
    space_after: list[bool]
    first: int  # index of the first token in the utterance's token list


@dataclass
class _Out:
    """Translated segment: target tokens with the space flag after each, and counts."""

    tokens: list[str] = field(default_factory=list)
    spaces: list[bool] = field(default_factory=list)
    n_words: int = 0
    n_replaced: int = 0
    n_morph: int = 0
    restored: bool = False
    segment_restored: bool = False


def _clean_tokens(tokens: Iterable[str]) -> list[str]:
    """Target tokens split on inner whitespace, empty ones removed.

    A CoNLL line or an annotation edge cannot hold them.
    """
    out: list[str] = []
    for t in tokens:
        out.extend(t.split())
    return out


def _translate_segment(
    seg: _Seg,
    translator: LexiconTranslator,
    rng,
    inflect: TokenInflector | None,
    all_tokens: Sequence[str],
) -> _Out:
    out = _Out()
    if not seg.tokens:
        return out
    tr: Translation = translator.translate_tokens(seg.tokens, rng=rng)
    out.n_words = tr.n_words
    out.n_replaced = tr.n_replaced
    for s0, s1, t0, t1 in tr.alignment:
        group = list(tr.tokens[t0:t1])
        if inflect is not None and s1 - s0 == 1 and is_word(seg.tokens[s0]):
            form = inflect(all_tokens, seg.first + s0)
            if form:
                # the hook answers only for tokens the lexicon does not translate as they are
                group = [apply_case(form, case_pattern(seg.tokens[s0]))]
                out.n_morph += 1
                out.n_replaced += 1
        group = _clean_tokens(group)
        if group:
            out.tokens.extend(group)
            out.spaces.extend([True] * (len(group) - 1) + [seg.space_after[s1 - 1]])
        elif out.spaces:
            # a dropped unit: the word before it takes the spacing that followed the dropped one
            out.spaces[-1] = seg.space_after[s1 - 1]
    if any(ch in _FORBIDDEN for t in out.tokens for ch in t):
        out = _Out(list(seg.tokens), list(seg.space_after), tr.n_words, 0, 0, False, True)
    elif seg.label is not None and not out.tokens:
        out = _Out(list(seg.tokens), list(seg.space_after), tr.n_words, 0, 0, True, False)
    return out


def _separator(a: str, b: str, space: bool, script: str | None) -> str:
    """What goes between target tokens ``a`` and ``b``: the script's joining rule applied to the pair."""
    joined = detokenize([a, b], spaces=[space, False], script=script)
    return joined[len(a) : len(joined) - len(b)]


def _segments(text: str, spans: Sequence[tuple[str, int, int]]) -> tuple[list[_Seg], list[str]]:
    """Cut ``text`` into slot and outside segments, tokenised with the space flag after each token."""
    segs: list[_Seg] = []
    bounds: list[tuple[str | None, int, int]] = []
    pos = 0
    for label, start, end in spans:
        if start > pos:
            bounds.append((None, pos, start))
        bounds.append((label, start, end))
        pos = end
    if pos < len(text):
        bounds.append((None, pos, len(text)))
    all_tokens: list[str] = []
    for label, start, end in bounds:
        seg_toks = tokenize(text[start:end])
        if label is not None and not seg_toks:
            raise ProjectionError(f"slot {label!r} at {start}:{end} of {text!r} has no token")
        tok_texts = [t.text for t in seg_toks]
        spaces = []
        for t in seg_toks:
            a = start + t.end
            spaces.append(a < len(text) and text[a].isspace())
        segs.append(_Seg(label, tok_texts, spaces, len(all_tokens)))
        all_tokens.extend(tok_texts)
    return segs, all_tokens


def _render(outs: Sequence[_Out], labels: Sequence[str | None], script: str | None) -> tuple[str, str]:
    """(text, annot_utt) from translated segments.

    Slot brackets get a space around them where the script joins words.
    """
    flat: list[tuple[str, bool, int]] = []  # (token, space after, segment index)
    for k, o in enumerate(outs):
        for t, s in zip(o.tokens, o.spaces):
            flat.append((t, s, k))
    text_parts: list[str] = []
    annot_parts: list[str] = []
    open_seg = -1
    for i, (tok, space, k) in enumerate(flat):
        label = labels[k]
        if label is not None and open_seg != k:
            annot_parts.append(f"[{label} : ")
            open_seg = k
        text_parts.append(tok)
        annot_parts.append(tok)
        nxt = flat[i + 1] if i + 1 < len(flat) else None
        closes = label is not None and (nxt is None or nxt[2] != k)
        if closes:
            annot_parts.append("]")
            open_seg = -1
        if nxt is None:
            break
        sep = _separator(tok, nxt[0], space, script)
        text_parts.append(sep)
        boundary = nxt[2] != k and (label is not None or labels[nxt[2]] is not None)
        if boundary and space and not any(c.isspace() for c in sep):
            annot_parts.append(sep + " ")
        else:
            annot_parts.append(sep)
    return "".join(text_parts), "".join(annot_parts)


def _segment_stats(outs: Sequence[_Out], labels: Sequence[str | None]) -> ProjectionStats:
    """The counts of one utterance / sentence from its translated segments and their labels (None: outside)."""
    slot_outs = [o for o, label in zip(outs, labels) if label is not None]
    return ProjectionStats(
        n_words=sum(o.n_words for o in outs),
        n_replaced=sum(o.n_replaced for o in outs),
        n_slots=len(slot_outs),
        n_slots_translated=sum(1 for o in slot_outs if o.n_words and o.n_replaced >= o.n_words),
        n_slots_partial=sum(1 for o in slot_outs if o.n_replaced > 0),
        n_slots_restored=sum(1 for o in slot_outs if o.restored),
        n_segments_restored=sum(1 for o in outs if o.segment_restored),
        n_morph=sum(o.n_morph for o in outs),
    )


def _segment_rng(translator: LexiconTranslator, key: str, rng):
    if rng is not None:
        return rng
    return utterance_rng(getattr(translator, "seed", 13), key)


def project_utterance(
    utterance: Utterance,
    translator: LexiconTranslator,
    *,
    locale: str | None = None,
    rng=None,
    inflect: TokenInflector | None = None,
    script: str | None = None,
) -> ProjectedUtterance:
    """Translate one MASSIVE-style utterance and project its slots (see the module docstring).

    Args:
        utterance: the source utterance (its ``annot_utt`` is used when set, else ``text`` and ``slots``).
        translator: a :class:`~lexiconlm.synth.translate.LexiconTranslator`.
        locale: the output locale (default: the source's).
        rng: a numpy generator or seed; default :func:`utterance_rng` of the translator's seed and the id.
        inflect: optional hook giving an inflected target form for a source token
            (:class:`TokenInflector`); used for single-token units.
        script: script of the output, for joining words (default: the translator's target
            script); ``""`` joins every word with a space (MASSIVE th-TH and km-KH put spaces
            between words although Thai and Khmer are written without them).

    Returns:
        :class:`ProjectedUtterance` with the new :class:`Utterance` and its counts.

    Raises:
        ProjectionError: the result failed the exactness check (should not happen).
        AnnotationError: the source ``annot_utt`` is malformed.

    Example:
        >>> project_utterance(u, translator).utterance.annot_utt   # doctest: +SKIP
        'pasang alarm jam [time : sembilan pagi]'
    """
    if utterance.annot_utt:
        text, _, slots = parse_annotation(utterance.annot_utt)
    else:
        text, slots = utterance.text, utterance.slots
        bad = [s for s in slots if s.start < 0 or text[s.start : s.end] != s.value]
        if bad:
            raise ValueError(
                f"utterance {utterance.id!r}: slot {bad[0].label!r} has no valid offsets in its text; "
                "give the utterance its annot_utt"
            )
    spans = [(s.label, s.start, s.end) for s in sorted(slots, key=lambda s: s.start)]
    segs, all_tokens = _segments(text, spans)
    gen = _segment_rng(translator, utterance.id, rng)
    script = script if script is not None else getattr(translator, "target_script", None)
    outs = [_translate_segment(s, translator, gen, inflect, all_tokens) for s in segs]
    labels = [s.label for s in segs]
    out_text, annot = _render(outs, labels, script)

    utt = out_text if annotation_text(annot) != out_text else None
    stats = _segment_stats(outs, labels)
    extra = (
        ("lex_words", f'"{stats.n_replaced}/{stats.n_words}"'),
        ("lex_slots", f'"{stats.n_slots_translated}/{stats.n_slots}"'),
    )
    out = utterance_from_annotation(
        annot,
        id=utterance.id,
        intent=utterance.intent,
        utt=utt,
        locale=utterance.locale if locale is None else locale,
        partition=utterance.partition,
        extra=extra,
    )
    problems = check_projection(utterance, out, source_slots=slots)
    if problems:
        raise ProjectionError(f"utterance {utterance.id!r}: " + "; ".join(problems))
    return ProjectedUtterance(out, stats)


def check_projection(
    source: Utterance, projected: Utterance, *, source_slots: Sequence[SlotSpan] | None = None
) -> list[str]:
    """What is wrong with a projected utterance (empty when the projection is exact).

    Checks: the output ``annot_utt`` parses back (with ``text`` as ``utt``) to the
    output's slots; the labels are the source labels in the same order; every slot
    value equals ``text[start:end]`` and is non-empty; intent and id are kept.
    """
    problems: list[str] = []
    src = list(source_slots if source_slots is not None else source.slots)
    try:
        text, _, slots = parse_annotation(projected.annot_utt, projected.text)
    except LexiconLMError as exc:
        return [f"annotation does not parse: {exc}"]
    if text != projected.text:
        problems.append(f"annotation text {text!r} differs from text {projected.text!r}")
    if slots != projected.slots:
        problems.append("slots parsed from the annotation differ from the utterance's slots")
    if [s.label for s in slots] != [s.label for s in sorted(src, key=lambda s: s.start)]:
        problems.append(f"labels {[s.label for s in slots]} differ from the source's {[s.label for s in src]}")
    for s in slots:
        if s.start < 0 or not s.value or projected.text[s.start : s.end] != s.value:
            problems.append(f"slot {s.label!r} value {s.value!r} is not text[{s.start}:{s.end}]")
    if projected.intent != source.intent or projected.id != source.id:
        problems.append("id or intent changed")
    return problems


def project_utterances(
    utterances: Iterable[Utterance],
    translator: LexiconTranslator,
    *,
    locale: str | None = None,
    inflect: TokenInflector | None = None,
    signature_extra: Sequence[tuple[str, object]] = (),
    progress: Callable[[int], None] | None = None,
    script: str | None = None,
) -> ProjectionResult:
    """Project many utterances (see :func:`project_utterance`); returns them with summed counts.

    Args:
        utterances: source utterances (e.g. a :class:`~lexiconlm.types.NLUDataset`).
        translator: the lexicon translator.
        locale: the output locale, e.g. ``"jv-ID"``.
        inflect: optional morphology hook (:mod:`lexiconlm.synth.morph_augment`).
        signature_extra: more ``(key, value)`` pairs for the signature (e.g. the morphology settings).
        progress: called with the number of utterances done every 1,000.
        script: see :func:`project_utterance` (``""``: join words with spaces).

    Returns:
        :class:`ProjectionResult` whose ``items`` are :class:`ProjectedUtterance`.
    """
    items = []
    total = ProjectionStats.zero()
    for k, u in enumerate(utterances, 1):
        p = project_utterance(u, translator, locale=locale, inflect=inflect, script=script)
        items.append(p)
        total = total + p.stats
        if progress is not None and k % 1000 == 0:
            progress(k)
    return ProjectionResult(tuple(items), total, _signature(translator, signature_extra))


# --------------------------------------------------------------------------- CoNLL


def project_sentence(
    sentence: TaggedSentence,
    translator: LexiconTranslator,
    *,
    rng=None,
    key: str = "",
    inflect: TokenInflector | None = None,
) -> tuple[TaggedSentence, ProjectionStats]:
    """Translate one BIO-tagged sentence and re-derive its tags (see the module docstring).

    Args:
        sentence: the source sentence.
        translator: the lexicon translator.
        rng: a numpy generator or seed; default :func:`utterance_rng` of the translator's
            seed and ``key`` (or the sentence's tokens when ``key`` is empty).
        key: a stable name for the sentence (file line), for the default generator.
        inflect: optional morphology hook.

    Returns:
        ``(projected sentence, counts)``; the projected sentence has no middle columns
        and keeps ``docstart``.
    """
    spans = bio_spans(sentence.tags)
    segs: list[_Seg] = []
    labels: list[str | None] = []
    other_tags: list[str | None] = []
    pos = 0
    n = len(sentence.tokens)
    toks = list(sentence.tokens)

    def outside(a: int, b: int) -> None:
        # a stretch outside entities: runs of one tag (O, or POS tags) are segments of their own
        i = a
        while i < b:
            j = i
            while j < b and sentence.tags[j] == sentence.tags[i]:
                j += 1
            segs.append(_Seg(None, toks[i:j], [True] * (j - i), i))
            labels.append(None)
            other_tags.append(sentence.tags[i])
            i = j

    for label, start, end in spans:
        outside(pos, start)
        segs.append(_Seg(label, toks[start:end], [True] * (end - start), start))
        labels.append(label)
        other_tags.append(None)
        pos = end
    outside(pos, n)
    gen = _segment_rng(translator, key or " ".join(toks), rng)
    outs = [_translate_segment(s, translator, gen, inflect, toks) for s in segs]
    out_tokens: list[str] = []
    out_tags: list[str] = []
    for o, label, tag in zip(outs, labels, other_tags):
        if label is not None:
            out_tags.extend(["B-" + label] + ["I-" + label] * (len(o.tokens) - 1))
        else:
            out_tags.extend([tag or "O"] * len(o.tokens))
        out_tokens.extend(o.tokens)
    stats = _segment_stats(outs, labels)
    if not out_tokens:  # every word dropped: keep the source sentence rather than an empty one
        out_tokens, out_tags = toks, list(sentence.tags)
    out = TaggedSentence(tuple(out_tokens), tuple(out_tags), 0, (), sentence.docstart)
    if [lab for lab, _, _ in out.entities] != [lab for lab, _, _ in spans]:
        raise ProjectionError(f"sentence at line {sentence.line}: entity labels changed")
    return out, stats


def project_sentences(
    sentences: Iterable[TaggedSentence],
    translator: LexiconTranslator,
    *,
    inflect: TokenInflector | None = None,
    signature_extra: Sequence[tuple[str, object]] = (),
) -> ProjectionResult:
    """Project many CoNLL sentences; ``items`` are ``(TaggedSentence, ProjectionStats)`` pairs."""
    items = []
    total = ProjectionStats.zero()
    for k, s in enumerate(sentences):
        out, st = project_sentence(s, translator, key=f"{s.line}:{k}", inflect=inflect)
        items.append((out, st))
        total = total + st
    return ProjectionResult(tuple(items), total, _signature(translator, signature_extra))


# --------------------------------------------------------------------------- files


def _write_signature(output: Path, signature: str) -> Path:
    sig = output.with_name(output.name + ".signature")
    atomic_write_text(sig, signature + "\n")
    return sig


def _output_format(output: Path, format: str | None) -> str:
    fmt = format or ("jsonl" if output.suffix.lower() in (".jsonl", ".json", ".ndjson") else "tsv")
    if fmt not in ("tsv", "jsonl"):
        raise ValueError(f"MASSIVE output format must be 'tsv' or 'jsonl', got {fmt!r}")
    return fmt


def _first(items: Iterable, limit: int | None) -> list:
    """``items`` as a list, only the first ``limit`` of them unless ``limit`` is None."""
    items = list(items)
    return items[:limit] if limit is not None else items


def _write_massive_output(utterances: Sequence, output: Path, fmt: str, signature: str) -> None:
    """Write MASSIVE ``utterances`` to ``output`` (``fmt``: ``tsv``/``jsonl``) and its ``.signature``."""
    (write_massive_jsonl if fmt == "jsonl" else write_massive_tsv)(utterances, output)
    _write_signature(output, signature)


def project_massive_file(
    input: str | os.PathLike,
    output: str | os.PathLike,
    translator: LexiconTranslator,
    *,
    locale: str,
    format: str | None = None,
    limit: int | None = None,
    inflect: TokenInflector | None = None,
    signature_extra: Sequence[tuple[str, object]] = (),
    guard=None,
    script: str | None = None,
) -> ProjectionResult:
    """Read a MASSIVE file, project every utterance into ``locale``, write the result atomically.

    The whole input is read and checked first (a malformed annotation anywhere is a
    :class:`~lexiconlm.errors.DataFormatError` naming ``file:line``), every utterance
    is projected and checked, and only then the output and its ``.signature`` file are
    written — an error leaves no output behind.

    Args:
        input: MASSIVE TSV or JSON lines (e.g. ``en-US/train.tsv``).
        output: ``*.tsv`` (compact TSV) or ``*.jsonl`` (official layout); :func:`read_massive` reads both.
        translator: the lexicon translator.
        locale: the output locale, e.g. ``"jv-ID"``.
        format: ``"tsv"`` or ``"jsonl"`` (default: from the output suffix).
        limit: project only the first ``limit`` utterances.
        inflect: optional morphology hook.
        signature_extra: more pairs for the signature.
        guard: an optional :class:`~lexiconlm.leakage.LeakageGuard`; leaked utterances
            (evaluation ids or texts) stop the run before anything is written.
        script: how words are joined (see :func:`project_utterance`; ``""``: with spaces).

    Returns:
        :class:`ProjectionResult` with ``output`` set.

    Raises:
        DataFormatError: the input has bad lines (all listed).
        LeakageError: the guard found evaluation items.
    """
    out_path = Path(output)
    fmt = _output_format(out_path, format)
    ds = read_massive(input)
    utterances = _first(ds.utterances, limit)
    if script == "":
        signature_extra = [*signature_extra, ("join", "spaces")]
    result = project_utterances(
        utterances,
        translator,
        locale=locale,
        inflect=inflect,
        signature_extra=signature_extra,
        script=script,
    )
    projected = [p.utterance for p in result.items]
    if guard is not None:
        guard.check(projected, what="pseudo-labelled")
    _write_massive_output(projected, out_path, fmt, result.signature)
    return replace(result, output=out_path)


def project_conll_file(
    input: str | os.PathLike,
    output: str | os.PathLike,
    translator: LexiconTranslator,
    *,
    scheme: str = "bio",
    limit: int | None = None,
    inflect: TokenInflector | None = None,
    signature_extra: Sequence[tuple[str, object]] = (),
) -> ProjectionResult:
    """Read a CoNLL file, project every sentence, write the result (and ``.signature``) atomically.

    Raises:
        DataFormatError: the input has bad lines (all listed, each ``file:line``); nothing is written.
    """
    out_path = Path(output)
    ds: ConllDataset = read_conll(input, scheme=scheme)  # type: ignore[arg-type]
    sentences = _first(ds.sentences, limit)
    result = project_sentences(sentences, translator, inflect=inflect, signature_extra=signature_extra)
    write_conll([s for s, _ in result.items], out_path, separator=ds.separator)
    _write_signature(out_path, result.signature)
    return replace(result, output=out_path)


# --------------------------------------------------------------------------- one call


def detect_labelled_format(path: str | os.PathLike) -> str:
    """``"massive"`` for JSON lines or a TSV whose header names ``annot_utt``; else ``"conll"``."""
    p = Path(path)
    if p.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        return "massive"
    try:
        with open(p, encoding="utf-8", errors="replace") as fh:
            first = fh.readline().lstrip("\ufeff").rstrip("\r\n")
    except OSError:
        return "conll"  # the reader reports the missing file with its path
    return "massive" if "annot_utt" in first.split("\t") or first.lstrip().startswith("{") else "conll"


def make_translator(
    lexicon,
    *,
    sense: str = "random",
    oov: str = "keep",
    seed: int = 13,
    hygiene: str | None = "script.v1",
    target_script: str | None = None,
) -> LexiconTranslator:
    """A :class:`~lexiconlm.synth.translate.LexiconTranslator` from a lexicon or a lexicon file.

    ``hygiene`` is a policy name (``script.v1``, ``script-any.v1``) or ``None``/``"none"``.
    """
    if not isinstance(lexicon, Lexicon):
        lexicon = read_lexicon(lexicon, errors="collect")
    config = None
    if (hygiene and hygiene != "none") or target_script:
        config = HygieneConfig(hygiene if hygiene and hygiene != "none" else "script.v1", target_script)
    return LexiconTranslator(lexicon, sense=sense, oov=oov, seed=seed, hygiene=config)


def label_file(
    input: str | os.PathLike,
    output: str | os.PathLike,
    *,
    lexicon,
    locale: str | None = None,
    input_format: str = "auto",
    sense: str = "random",
    oov: str = "keep",
    seed: int = 13,
    hygiene: str | None = "script.v1",
    target_script: str | None = None,
    limit: int | None = None,
    guard=None,
    join: str = "script",
) -> ProjectionResult:
    """Project a MASSIVE or CoNLL file through a lexicon (what ``lexiconlm synth label`` runs).

    Args:
        input: MASSIVE TSV/JSON lines, or a CoNLL file.
        output: where to write (MASSIVE: ``.tsv`` or ``.jsonl``; CoNLL: any name);
            ``<output>.signature`` is written beside it.
        lexicon: a :class:`~lexiconlm.types.Lexicon` or a lexicon file.
        locale: MASSIVE output locale (default: the lexicon's target language code).
        input_format: ``"auto"`` (:func:`detect_labelled_format`), ``"massive"`` or ``"conll"``.
        sense, oov, seed, hygiene, target_script: translator settings (:func:`make_translator`).
        limit: only the first ``limit`` utterances / sentences.
        guard: optional :class:`~lexiconlm.leakage.LeakageGuard` (MASSIVE outputs).
        join: ``"script"`` (words of scripts written without spaces are joined, as in
            MASSIVE ja-JP/zh-CN) or ``"spaces"`` (always a space, as in MASSIVE th-TH/km-KH).

    Returns:
        :class:`ProjectionResult` with ``output`` set.

    Raises:
        DataFormatError: the input has bad lines (each ``file:line``); nothing is written.
        LeakageError: the guard found evaluation utterances; nothing is written.
    """
    fmt = detect_labelled_format(input) if input_format == "auto" else input_format
    if fmt not in ("massive", "conll"):
        raise ValueError(f"input_format must be 'auto', 'massive' or 'conll', got {input_format!r}")
    tr = make_translator(lexicon, sense=sense, oov=oov, seed=seed, hygiene=hygiene, target_script=target_script)
    if fmt == "conll":
        return project_conll_file(input, output, tr, limit=limit)
    loc = locale or tr.lexicon.tgt.iso639_1 or tr.lexicon.tgt.code
    if join not in ("script", "spaces"):
        raise ValueError(f"join must be 'script' or 'spaces', got {join!r}")
    return project_massive_file(
        input, output, tr, locale=loc, limit=limit, guard=guard, script="" if join == "spaces" else None
    )
