"""Word-by-word translation of source text through a bilingual lexicon.

:class:`LexiconTranslator` replaces each source word (or the longest multi-word
source entry starting at it) by a target word chosen from the lexicon, the way
Wang, Ruder & Neubig (2022) synthesize pseudo-monolingual and pseudo-labelled
data for languages without parallel text. Everything is deterministic given
the seed, and :attr:`LexiconTranslator.signature` names every setting.

Matching
    Lexicon sources are split on whitespace into keys of one or more tokens
    (sources with punctuation are also indexed as :func:`~lexiconlm.synth.tokenize.tokenize`
    splits them). At each position the longest key that matches wins
    (``max_ngram`` caps its length). With ``lowercase_lookup`` a token is looked
    up as written first, then lowercased; a lowercased match gets the casing
    pattern of the source restored (``Title``, ``UPPER``) where the target
    script has case. Multi-word targets become several output tokens.
Senses (:data:`SENSES`, versioned names; ``random``/``first``/``frequency``/
``prefer-consensus`` mean the latest version)
    ``random.v1``: uniform over the translations of a word. ``first.v1``: the
    first in file order. ``frequency.v1``: proportional to ``weight``; entries
    without a weight count as the smallest weight given; a lexicon without any
    weight falls back to uniform (``random.v1``). ``prefer-consensus.v1``: see
    :func:`sense_prefer_consensus`. ``corpus-frequency.v1`` (needs target-language
    text, ``target_text=``): see :func:`sense_corpus_frequency`.
Out-of-lexicon words (:data:`OOV_POLICIES`)
    ``keep`` (copy the source word), ``drop``, ``transliterate`` (through IPA
    into the target script with epitran's maps, where they exist; see
    :class:`lexiconlm.phonology.Transliterator`). Numbers and punctuation are always kept.
Randomness
    One uniform draw per translated unit, in text order, from a
    :class:`numpy.random.Generator` (the translator's own, seeded with ``seed``,
    unless ``rng`` is given), so translating sentence by sentence and
    translating a whole corpus at once (:mod:`lexiconlm.synth.pseudo_mono`)
    give the same output.

Example:
    >>> from lexiconlm.types import Language, Lexicon, LexiconEntry, Provenance
    >>> lex = Lexicon(Language("eng", "English", scripts=("Latn",)), Language("ind", "Indonesian", scripts=("Latn",)),
    ...               (LexiconEntry("dog", "anjing"), LexiconEntry("the", "itu")), Provenance("demo/en-id.tsv", "tsv"))
    >>> text, tr = LexiconTranslator(lex, sense="first").translate("The dog barks.")
    >>> text, tr.n_replaced, tr.n_words
    ('Itu anjing barks.', 2, 3)

Why one module of about 760 lines: the translator and its sense strategies work on the same
compiled lexicon tables; the transliterator lives in lexiconlm.phonology.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Optional

import numpy as np

from lexiconlm.errors import LexiconLMError, UnknownNameError
from lexiconlm.phonology import Transliterator
from lexiconlm.registry import Registry
from lexiconlm.resources import resource_path
from lexiconlm.signature import Signature, lexicon_id
from lexiconlm.synth.hygiene import char_scripts_of, choose_script, entry_script, filter_lexicon, require_entries
from lexiconlm.synth.tokenize import _edge_scripts, detokenize, is_word, join_rule, split_tokens
from lexiconlm.types import Lexicon, LexiconEntry

if TYPE_CHECKING:  # pragma: no cover
    from lexiconlm.synth.hygiene import HygieneConfig, HygieneReport

__all__ = [
    "Translation",
    "LexiconTranslator",
    "SENSES",
    "OOV_POLICIES",
    "SenseContext",
    "count_words",
    "register_sense",
    "resolve_sense",
    "sense_random",
    "sense_first",
    "sense_frequency",
    "sense_prefer_consensus",
    "sense_corpus_frequency",
    "is_whole_word",
    "case_pattern",
    "apply_case",
]

# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Translation:
    """The result of translating one token sequence.

    ``alignment`` holds one ``(src_start, src_end, tgt_start, tgt_end)`` span per
    source unit (a token, or the tokens of a multi-word entry), covering every
    source token in order; a dropped source token has ``tgt_start == tgt_end``.
    """

    tokens: tuple[str, ...]
    alignment: tuple[tuple[int, int, int, int], ...]
    n_words: int
    n_replaced: int

    @property
    def ratio(self) -> float:
        """Share of source word tokens translated through the lexicon (0.0 without words)."""
        return self.n_replaced / self.n_words if self.n_words else 0.0


# --------------------------------------------------------------------------- casing


def case_pattern(token: str) -> int:
    """0: leave as is, 1: Title (first letter upper), 2: UPPER (two or more letters, all upper)."""
    if not token or not token[0].isupper():
        return 0
    if len(token) > 1 and token.isupper():
        return 2
    return 1


def apply_case(text: str, pattern: int) -> str:
    """Give ``text`` the casing pattern of a source token (only letters that have case change)."""
    if pattern == 0 or not text:
        return text
    if pattern == 2:
        return text.upper()
    # titlecase, not uppercase: Georgian Mkhedruli letters keep their form (their
    # uppercase is Mtavruli, used only for all-caps text)
    return text[0].title() + text[1:]


# --------------------------------------------------------------------------- senses


@dataclass
class SenseContext:
    """Lexicon-wide facts a sense strategy may use (computed lazily, once per translator)."""

    entries: Sequence[LexiconEntry]
    target_scripts: frozenset  # character-level scripts of the target language ('' when unknown)
    _target_counts: Optional[dict] = None
    _multiword_targets: Optional[dict] = None
    _multiword_counts: Optional[dict] = None
    text_counts: Optional[Mapping[str, int]] = None  # word frequencies of real target-language text (see count_words)
    used_text: bool = False  # set when a strategy read corpus_counts (the signature then names the text)

    @property
    def corpus_counts(self) -> Mapping[str, int]:
        """Word frequencies of the target-language text (keys NFC + casefolded).

        Raises:
            LexiconLMError: no target-language text was given to the translator.
        """
        if self.text_counts is None:
            raise LexiconLMError(
                "this sense strategy needs target-language text: pass target_text=... to "
                "LexiconTranslator (CLI: --target-text PATH)"
            )
        self.used_text = True
        return self.text_counts

    @property
    def target_counts(self) -> dict:
        """How many entries (distinct sources) have each target: a target many words share is a safe choice."""
        if self._target_counts is None:
            counts: dict[str, int] = {}
            for e in self.entries:
                counts[e.target] = counts.get(e.target, 0) + 1
            self._target_counts = counts
        return self._target_counts

    @property
    def multiword_targets(self) -> dict:
        """target -> lowercased words of the multi-word sources that have it."""
        if self._multiword_targets is None:
            out: dict[str, set] = {}
            for e in self.entries:
                if " " in e.source:
                    out.setdefault(e.target, set()).update(e.source.lower().split())
            self._multiword_targets = out
        return self._multiword_targets

    @property
    def multiword_counts(self) -> dict:
        """target -> number of entries with a multi-word source that have it."""
        if self._multiword_counts is None:
            counts: dict[str, int] = {}
            for e in self.entries:
                if " " in e.source:
                    counts[e.target] = counts.get(e.target, 0) + 1
            self._multiword_counts = counts
        return self._multiword_counts


SenseFn = Callable[[Sequence[LexiconEntry], SenseContext], Optional[Sequence[float]]]


def sense_random(cands: Sequence[LexiconEntry], ctx: SenseContext) -> list[float]:
    """``random.v1``: every translation equally likely."""
    return [1.0] * len(cands)


def sense_first(cands: Sequence[LexiconEntry], ctx: SenseContext) -> list[float]:
    """``first.v1``: always the first translation in file order."""
    return [1.0] + [0.0] * (len(cands) - 1)


def sense_frequency(cands: Sequence[LexiconEntry], ctx: SenseContext) -> list[float]:
    """``frequency.v1``: proportional to ``weight``; missing weights count as the smallest
    weight given; without any weight, uniform (as ``random.v1``)."""
    weights = [e.weight for e in cands if e.weight is not None and e.weight > 0]
    if not weights:
        return [1.0] * len(cands)
    floor = min(weights)
    return [e.weight if (e.weight is not None and e.weight > 0) else floor for e in cands]


def _script_ok(text: str, ctx: SenseContext) -> bool:
    if not ctx.target_scripts:
        return True
    s = entry_script(text)
    return s is None or s in ctx.target_scripts


def sense_prefer_consensus(cands: Sequence[LexiconEntry], ctx: SenseContext) -> Optional[list[float]]:
    """``prefer-consensus.v1``: a deterministic choice that avoids the common traps.

    Candidates are ranked by, in order:

    0. the target is a whole word: not an affix (``-dha``, ``እ-``) and not a
       pattern with a placeholder (``op ... af``), which dictionaries list
       under English prepositions;
    1. the target is written in the target language's script (a Georgian entry
       in Armenian script loses);
    2. the target is *not* a fragment of a multi-word source: Wiktionary lists
       the Georgian word for the @ sign under "at" because it translates
       "at sign"; a target that another entry gives for a multi-word source
       containing this word, while no single-word source but this one has it, is
       such a fragment;
    3. the target is the translation of more entries in the lexicon (consensus);
    4. the entry has a weight, then a larger weight;
    5. file order.

    The best candidate gets all the probability. A word whose only candidates
    are affixes or patterns (rule 0), fragments (rule 2) or in a foreign script
    (rule 1) is rejected and handled by the out-of-lexicon policy.
    """
    scored = []
    for i, e in enumerate(cands):
        script_ok = _script_ok(e.target, ctx) and is_whole_word(e.target)
        mw = ctx.multiword_targets.get(e.target)
        src_words = e.source.lower().split()
        fragment = (
            len(src_words) == 1
            and mw is not None
            and src_words[0] in mw
            and ctx.target_counts.get(e.target, 0) <= 1 + _n_multiword_with(e.target, ctx)
        )
        key = (
            script_ok,
            not fragment,
            ctx.target_counts.get(e.target, 0),
            e.weight is not None,
            e.weight or 0.0,
            -i,
        )
        scored.append((key, i, script_ok and not fragment))
    if not any(ok for _, _, ok in scored):
        return None
    best = max((s for s in scored if s[2]), key=lambda s: s[0])[1]
    return [1.0 if i == best else 0.0 for i in range(len(cands))]


def normalize_word(word: str) -> str:
    """The form words are counted and compared in: NFC, casefolded."""
    return unicodedata.normalize("NFC", word).casefold()


def count_words(texts: Iterable[str]) -> dict[str, int]:
    """Word frequencies of ``texts`` (tokenised with :func:`~lexiconlm.synth.tokenize.split_tokens`;
    words only, NFC + casefolded), for ``LexiconTranslator(target_text=...)``.

    Example:
        >>> count_words(["The dog, the cat."])
        {'the': 2, 'dog': 1, 'cat': 1}
    """
    counts: dict[str, int] = {}
    for text in texts:
        for tok in split_tokens(text)[0]:
            if is_word(tok):
                w = normalize_word(tok)
                counts[w] = counts.get(w, 0) + 1
    return counts


@lru_cache(maxsize=1)
def english_function_words() -> frozenset:
    """The English function words of ``resources/english_function_words.txt`` (lowercase)."""
    with open(resource_path("english_function_words.txt"), encoding="utf-8") as f:
        return frozenset(w for w in (line.strip().casefold() for line in f) if w and not w.startswith("#"))


def _text_frequency(target: str, counts: Mapping[str, int]) -> int:
    words = [t for t in split_tokens(" ".join(target_tokens(target)))[0] if is_word(t)]
    if not words:
        return 0
    return min(counts.get(normalize_word(w), 0) for w in words)


def sense_corpus_frequency(cands: Sequence[LexiconEntry], ctx: SenseContext) -> Optional[list[float]]:
    """``corpus-frequency.v1``: proportional to how often the target occurs in real
    target-language text (``LexiconTranslator(target_text=...)``).

    A multi-word target counts as its rarest word; words are compared NFC +
    casefolded. Targets never seen in the text are dropped when another candidate
    is seen. When none is seen, an English function word
    (``resources/english_function_words.txt``) is treated as out of lexicon, since
    a common word whose every translation is absent from real text is most likely
    mistranslated (Georgian "at" → ძაღლუკა, the name of the @ sign); any other
    word falls back to ``prefer-consensus.v1``.

    Raises:
        LexiconLMError: the translator was given no target-language text.
    """
    counts = ctx.corpus_counts
    freqs = [float(_text_frequency(e.target, counts)) for e in cands]
    if any(f > 0 for f in freqs):
        return freqs
    if all(normalize_word(e.source) in english_function_words() for e in cands):
        return None
    return sense_prefer_consensus(cands, ctx)


def is_whole_word(target: str) -> bool:
    """False for affixes (``-dha``, ``un-``) and patterns with placeholders (``op ... af``)."""
    t = target.strip()
    if not t or t[0] in "-‐" or t[-1] in "-‐":
        return False
    return "..." not in t and "…" not in t


def _n_multiword_with(target: str, ctx: SenseContext) -> int:
    """Number of multi-word-source entries with this target."""
    return ctx.multiword_counts.get(target, 0)


#: Versioned name -> ``module:function`` (imported on first use) or a registered function.
SENSES = Registry(
    "sense strategy",
    entries={
        "random.v1": "lexiconlm.synth.translate:sense_random",
        "first.v1": "lexiconlm.synth.translate:sense_first",
        "frequency.v1": "lexiconlm.synth.translate:sense_frequency",
        "prefer-consensus.v1": "lexiconlm.synth.translate:sense_prefer_consensus",
        "corpus-frequency.v1": "lexiconlm.synth.translate:sense_corpus_frequency",
    },
)


def register_sense(name: str, fn: SenseFn | str) -> None:
    """Add a sense strategy under a versioned name such as ``"mine.v1"`` (an existing name is
    replaced).

    ``fn(candidates, context)`` returns one non-negative weight per candidate
    (they need not sum to 1), or ``None`` to treat the word as out of lexicon; ``fn`` may
    also be a lazy ``"module:function"`` reference.

    Raises:
        ValueError: the name has no version (``.vN``).
    """
    SENSES.register(name, fn, overwrite=True)


def resolve_sense(name: str) -> tuple[str, SenseFn]:
    """``(versioned name, function)`` for a sense strategy name (short names mean the latest version).

    Raises:
        UnknownNameError: not registered (the message lists close names).
    """
    return SENSES.resolve(name)


OOV_POLICIES = ("keep", "drop", "transliterate")


# --------------------------------------------------------------------------- the translator


_ANNOTATION = re.compile(r"\s+\([^()]*\)$")


def target_tokens(target: str) -> tuple[str, ...]:
    """Output tokens of a lexicon target: split on whitespace, a final translator note such
    as ``(verb)`` or ``(masculine)`` removed (GATITOS writes senses that way)."""
    if target.endswith(")"):
        stripped = _ANNOTATION.sub("", target)
        if stripped.strip():
            target = stripped
    return tuple(target.split())


def _keys(source: str) -> list[tuple[str, ...]]:
    """Token keys a lexicon source is indexed under: whitespace split, and the tokenizer's split if different."""
    ws = tuple(source.split())
    if not ws:
        return []
    if all(w.isalnum() for w in ws):
        return [ws]
    toks = tuple(split_tokens(source)[0])
    return [ws] if toks == ws or not toks else [ws, toks]


class _Compiled:
    """Lexicon lookup tables: key -> group of candidate targets with cumulative bounds."""

    def __init__(
        self,
        entries: Sequence[LexiconEntry],
        sense_fn: SenseFn,
        ctx: SenseContext,
        lowercase: bool,
        max_ngram: int | None,
    ):
        exact: dict[tuple, list[int]] = {}
        lower: dict[tuple, list[int]] = {}
        for i, e in enumerate(entries):
            for key in _keys(e.source):
                if (max_ngram is not None and len(key) > max_ngram) or not any(map(is_word, key)):
                    continue  # numbers and punctuation are never translated
                exact.setdefault(key, []).append(i)
                if lowercase:
                    lower.setdefault(tuple(t.lower() for t in key), []).append(i)
        target_ids: dict[str, int] = {}
        self.targets: list[tuple[str, ...]] = []  # target id -> tokens
        cand_target: list[int] = []
        bounds: list[float] = []
        group_start: list[int] = [0]

        finite = math.isfinite

        def add_group(idx: list[int]) -> int:
            # identical targets from different entries (e.g. "May"/"may") are one candidate
            seen: set[str] = set()
            uniq: list[LexiconEntry] = []
            for j in idx:
                c = entries[j]
                if c.target not in seen:
                    seen.add(c.target)
                    uniq.append(c)
            weights = sense_fn(uniq, ctx)
            if weights is None:
                return -1
            if len(weights) != len(uniq) or not all(finite(w) and w >= 0 for w in weights) or sum(weights) <= 0:
                raise ValueError(f"sense strategy returned bad weights {weights!r} for {len(uniq)} candidates")
            g = len(group_start) - 1
            total = float(sum(weights))
            run = 0.0
            last = len(uniq) - 1
            for k, (c, w) in enumerate(zip(uniq, weights)):
                tid = target_ids.get(c.target)
                if tid is None:
                    tid = target_ids[c.target] = len(self.targets)
                    self.targets.append(target_tokens(c.target))
                cand_target.append(tid)
                run += w
                bounds.append(g + (1.0 if k == last else run / total))
            group_start.append(len(cand_target))
            return g

        self.exact = {}
        for k, v in exact.items():
            g = add_group(v)
            if g >= 0:
                self.exact[k] = g
        self.lower = {}
        for k, v in lower.items():
            # a lowercase key whose entries are exactly those of the same exact key shares its group
            same = exact.get(k)
            if same is not None and same == v:
                g = self.exact.get(k, -1)
            else:
                g = add_group(v)
            if g >= 0:
                self.lower[k] = g
        self.cand_target = np.asarray(cand_target, dtype=np.int64)
        self.bounds = np.asarray(bounds, dtype=np.float64)
        self.group_start = np.asarray(group_start, dtype=np.int64)
        self.group_size = np.diff(self.group_start)
        self.n_groups = len(group_start) - 1
        self.max_n = max((len(k) for k in self.exact), default=1)
        # per key length: single-token keys, and multi-word keys holding a word
        self.single_exact = [(k[0], g) for k, g in self.exact.items() if len(k) == 1]
        self.single_lower = [(k[0], g) for k, g in self.lower.items() if len(k) == 1]
        self.multi_exact = [(k, g) for k, g in self.exact.items() if len(k) > 1 and any(map(is_word, k))]
        self.multi_lower = [(k, g) for k, g in self.lower.items() if len(k) > 1 and any(map(is_word, k))]
        self.starters_exact = frozenset(k[0] for k in self.exact if len(k) > 1)
        self.starters_lower = frozenset(k[0] for k in self.lower if len(k) > 1)
        self.has_multi = bool(self.starters_exact or self.starters_lower)

    def choose_index(self, groups: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Candidate indices for groups given uniform draws (vectorised inverse-CDF sampling).

        Groups with one candidate need no search; the others are found with one
        ``searchsorted`` over the global bounds (group ``g``'s bounds lie in ``(g, g + 1]``).
        """
        idx = self.group_start[groups]
        multi = np.flatnonzero(self.group_size[groups] > 1)
        if multi.size:
            idx[multi] = np.searchsorted(self.bounds, groups[multi] + u[multi], side="right")
        return idx

    def choose(self, groups: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Target ids for groups given uniform draws."""
        return self.cand_target[self.choose_index(groups, u)]


class LexiconTranslator:
    """Translate source text word by word through a :class:`~lexiconlm.types.Lexicon`.

    Args:
        lexicon: source -> target lexicon.
        sense: sense strategy (:data:`SENSES`): ``random``, ``first``, ``frequency``,
            ``prefer-consensus`` or a versioned name such as ``random.v1``.
        oov: out-of-lexicon words: ``keep``, ``drop`` or ``transliterate``.
        seed: seed of the translator's random generator.
        lowercase_lookup: look tokens up as written, then lowercased (restoring case).
        max_ngram: longest multi-word source entry to match (default: the longest in the lexicon).
        hygiene: a :class:`~lexiconlm.synth.hygiene.HygieneConfig` applied to the
            lexicon first (``None``: no filtering).
        target_text: real target-language text (an iterable of lines), or word
            counts from :func:`count_words`, for strategies that use word
            frequencies (``corpus-frequency``); the signature then names its hash.

    Raises:
        EmptyLexiconError: the lexicon has no entries (or none after hygiene).
        UnknownNameError: an unknown sense strategy or OOV policy.
        LexiconLMError: ``oov="transliterate"`` for a target epitran cannot write, or
            a strategy that needs ``target_text`` without it.

    Example:
        >>> tr = LexiconTranslator(lexicon, sense="random", seed=13)  # doctest: +SKIP
        >>> text, t = tr.translate("Wake me up at nine.")  # doctest: +SKIP
        >>> t.ratio, tr.signature  # doctest: +SKIP
    """

    def __init__(
        self,
        lexicon: Lexicon,
        *,
        sense: str = "random",
        oov: str = "keep",
        seed: int = 13,
        lowercase_lookup: bool = True,
        max_ngram: int | None = None,
        hygiene: "HygieneConfig | None" = None,
        target_text: "Iterable[str] | Mapping[str, int] | None" = None,
    ):
        require_entries(lexicon)
        if oov not in OOV_POLICIES:
            raise UnknownNameError(
                oov, difflib.get_close_matches(oov, OOV_POLICIES, 3, 0.3) or OOV_POLICIES, "Unknown OOV policy."
            )
        if max_ngram is not None and max_ngram < 1:
            raise ValueError(f"max_ngram must be at least 1, got {max_ngram}")
        self.lexicon = lexicon
        self.hygiene = hygiene
        self.hygiene_report: "HygieneReport | None" = None
        if hygiene is not None:
            lexicon, self.hygiene_report = filter_lexicon(lexicon, hygiene)
        self.entries = lexicon.entries
        self.sense, sense_fn = resolve_sense(sense)
        self.oov = oov
        self.seed = int(seed)
        self.lowercase_lookup = lowercase_lookup
        self.max_ngram = max_ngram
        self.rng = np.random.default_rng(self.seed)
        # the script output is written in: hygiene's choice, else the one it would choose
        script = self.hygiene_report.target_script if self.hygiene_report else choose_script(lexicon)[0]
        self.target_script = script or None
        chars: set[str] = set()
        if self.hygiene_report and self.hygiene_report.allowed_scripts:
            for s in self.hygiene_report.allowed_scripts:
                chars |= char_scripts_of(s)
        elif script:
            chars |= char_scripts_of(script)
        self.target_chars = frozenset(chars)
        text_counts = None
        self.text_id: str | None = None
        if target_text is not None:
            if isinstance(target_text, Mapping):
                text_counts: dict | None = {}
                for w, c in target_text.items():
                    k = normalize_word(w)
                    text_counts[k] = text_counts.get(k, 0) + int(c)
            else:
                text_counts = count_words([target_text] if isinstance(target_text, str) else target_text)
            digest = hashlib.sha256()
            for w, c in sorted(text_counts.items()):
                digest.update(f"{w}\t{c}\n".encode())
            self.text_id = digest.hexdigest()[:8]
        ctx = SenseContext(self.entries, self.target_chars, text_counts=text_counts)
        self._table = _Compiled(self.entries, sense_fn, ctx, lowercase_lookup, max_ngram)
        self._uses_text = ctx.used_text
        self._join = join_rule(self.target_script)
        self._translit: Transliterator | None = None
        if oov == "transliterate":
            src = lexicon.src
            src_tag = src.tag("Latn" if "Latn" in src.scripts or not src.scripts else src.scripts[0])
            tgt_tag = lexicon.tgt.tag(self.target_script)
            self._translit = Transliterator(src_tag, tgt_tag)

    # ------------------------------------------------------------------ signature
    @property
    def signature(self) -> str:
        """The settings as one line.

        E.g. ``lex:wiktionary/indonesian.txt|sense:random.v1|oov:keep|seed:13|hyg:script.v1|lexiconlm:0.1.0``.
        """
        pairs: list[tuple[str, object]] = [
            ("lex", lexicon_id(self.lexicon.provenance.path)),
            ("sense", f"{self.sense}+text:{self.text_id}" if self._uses_text else self.sense),
            ("oov", self.oov),
            ("seed", self.seed),
            ("hyg", self.hygiene.name if self.hygiene is not None else "none"),
        ]
        if not self.lowercase_lookup:
            pairs.append(("case", "exact"))
        if self.max_ngram is not None:
            pairs.append(("ngram", self.max_ngram))
        return str(Signature.from_pairs(pairs))

    # ------------------------------------------------------------------ lookup
    def _lookup(self, toks: Sequence[str], i: int, lowered: Sequence[str]) -> tuple[int, int, bool]:
        """(group, length, exact) of the longest match at ``i``; group -1 when none."""
        t = self._table
        n_max = min(t.max_n, len(toks) - i)
        if n_max > 1 and t.has_multi and (toks[i] in t.starters_exact or lowered[i] in t.starters_lower):
            for n in range(n_max, 1, -1):
                key = tuple(toks[i : i + n])
                g = t.exact.get(key)
                if g is not None:
                    return g, n, True
                if self.lowercase_lookup:
                    g = t.lower.get(tuple(lowered[i : i + n]))
                    if g is not None:
                        return g, n, False
        g = t.exact.get((toks[i],))
        if g is not None:
            return g, 1, True
        if self.lowercase_lookup:
            g = t.lower.get((lowered[i],))
            if g is not None:
                return g, 1, False
        return -1, 1, False

    def _oov(self, token: str) -> tuple[str, ...]:
        if self.oov == "keep":
            return (token,)
        if self.oov == "drop":
            return ()
        assert self._translit is not None
        s = _edge_scripts(token)[0]
        if s is not None and s in self.target_chars:
            return (token,)
        return (apply_case(self._translit(token), case_pattern(token)),)

    def _as_rng(self, rng) -> np.random.Generator:
        if rng is None:
            return self.rng
        if isinstance(rng, np.random.Generator):
            return rng
        return np.random.default_rng(rng)

    # ------------------------------------------------------------------ translation
    def translate_tokens(self, tokens: Sequence[str], *, rng=None) -> Translation:
        """Translate a sequence of source tokens.

        Args:
            tokens: source tokens, e.g. whitespace tokens of a MASSIVE utterance or
                :func:`~lexiconlm.synth.tokenize.tokenize` output texts.
            rng: a :class:`numpy.random.Generator` or a seed; default the
                translator's own generator (advanced by every call).

        Returns:
            A :class:`Translation` whose alignment covers every source token.

        Example:
            >>> t = translator.translate_tokens(["wake", "me", "up"])  # doctest: +SKIP
            >>> t.tokens, t.alignment  # doctest: +SKIP
        """
        toks = list(tokens)
        lowered = [t.lower() for t in toks] if self.lowercase_lookup else toks
        units: list[tuple[int, int, int, bool]] = []  # (start, end, group, exact)
        i = 0
        while i < len(toks):
            g, n, exact = self._lookup(toks, i, lowered)
            if g >= 0 and not any(is_word(t) for t in toks[i : i + n]):
                g = -1  # numbers and punctuation are never translated
            units.append((i, i + n if g >= 0 else i + 1, g, exact))
            i = units[-1][1]
        matched = [u for u in units if u[2] >= 0]
        chosen: list[int] = []
        if matched:
            gen = self._as_rng(rng)
            u = gen.random(len(matched))
            chosen = self._table.choose(np.fromiter((m[2] for m in matched), np.int64, len(matched)), u).tolist()
        out: list[str] = []
        align: list[tuple[int, int, int, int]] = []
        n_words = sum(1 for t in toks if is_word(t))
        n_repl = 0
        k = 0
        for start, end, g, exact in units:
            t0 = len(out)
            if g >= 0:
                target = self._table.targets[chosen[k]]
                k += 1
                pat = 0 if exact else case_pattern(toks[start])
                if pat and target:
                    if pat == 2:
                        target = tuple(x.upper() for x in target)
                    else:
                        target = (apply_case(target[0], 1),) + target[1:]
                out.extend(target)
                n_repl += sum(1 for t in toks[start:end] if is_word(t))
            elif is_word(toks[start]):
                out.extend(self._oov(toks[start]))
            else:
                out.append(toks[start])
            align.append((start, end, t0, len(out)))
        return Translation(tuple(out), tuple(align), n_words, n_repl)

    def translate(self, text: str, *, rng=None) -> tuple[str, Translation]:
        """Tokenize ``text``, translate, and join with the target script's rule.

        Returns:
            ``(translated text, Translation)``; the source spacing is kept between
            units, words of scripts written without spaces are joined.

        Example:
            >>> translator.translate("Set an alarm for 7 am.")  # doctest: +SKIP
        """
        toks, spaces = split_tokens(text)
        tr = self.translate_tokens(toks, rng=rng)
        out_spaces: list[bool] = []
        for _, s1, t0, t1 in tr.alignment:
            if t1 > t0:
                out_spaces.extend([True] * (t1 - t0 - 1))
                out_spaces.append(spaces[s1 - 1])
            elif out_spaces:
                # a dropped word passes its following space to the word before it: "Itu cat, x" -> "Itu, x"
                out_spaces[-1] = spaces[s1 - 1]
        return detokenize(tr.tokens, spaces=out_spaces, script=self.target_script), tr
