"""Target lemma + English features -> target form, from the target's UniMorph table.

:class:`TargetMorphology` indexes the target language's UniMorph table. English features are
mapped onto the target's (:meth:`TargetMorphology.map_features`): the bundle
is opened into tags (``NOM(3,SG)`` gives ``3`` and ``SG``); a tag the target
uses (in at least ``min_share`` of its entries of that part of speech) is
kept; a tag it lacks is replaced by its aspect counterpart where the target
has that (:data:`FEATURE_ALTERNATIVES`: ``PST`` -> ``PFV``, ``PRS`` -> ``IPFV``);
otherwise it is dropped. Every mapping used is reported
(:class:`FeatureMapping`). The target entry of the lemma's paradigm that best
matches is chosen: each wanted tag found adds its weight (verb form 3,
tense/aspect/mood 2, person/number/other 1; an accepted counterpart half),
a different tag of the same dimension or an incompatible one
(:data:`FEATURE_CONFLICTS`: past with progressive ...) subtracts it; ties go to fewer
possessor tags (``PSSD``, ``PSS3S`` ...: a possessed noun is never the plain plural), then more unmarked
defaults (:data:`DEFAULT_TAGS`: 3rd person, singular, masculine, indicative,
active), then fewer other tags, then file order. When every English tag was
dropped (the target does not mark them: Indonesian has no tense) nothing is
inflected. A lemma without a paradigm in the table is inflected by an inflector trained on
the table's entries of that part of speech (``inflector``: the
:class:`~lexiconlm.inflection.affix.AffixBaseline` by default, or the transducer, or ``auto``,
the better of the two on held-out lemmas: :func:`lexiconlm.inflection.choose.fit_inflector`),
with the best-matching bundle of the table —
provided the lemma ends like the table's lemmas of that part of speech (its
last two characters end at least two of them, and at least as many as of the
lemmas without that part of speech), so that a noun translation (Hindi ``विकल्प`` for
*option*) is not conjugated like a verb (``-ना``).

Used by :mod:`lexiconlm.synth.morph_augment` and :mod:`lexiconlm.synth.morph_expand`.

Example:
    >>> tgt = TargetMorphology(read_unimorph("heb.tsv"))                   # doctest: +SKIP
    >>> tgt.select("אבד", "V;PST").form                                    # doctest: +SKIP
    'אבד'
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lexiconlm.errors import ConfigError
from lexiconlm.inflection.choose import INFLECTOR_SYSTEMS, FittedInflector, fit_inflector
from lexiconlm.synth.morph_tags import open_tags, pos_of, tag_dim, word_key
from lexiconlm.types import InflectionEntry, InflectionTable

__all__ = [
    "DEFAULT_TAGS",
    "FEATURE_ALTERNATIVES",
    "FEATURE_CONFLICTS",
    "FeatureMapping",
    "MorphChoice",
    "Origin",
    "TargetMorphology",
]

#: A tag the target lacks -> counterparts tried in order (tense marked as aspect).
FEATURE_ALTERNATIVES: dict[str, tuple[str, ...]] = {
    "PST": ("PFV",),
    "PRS": ("IPFV",),
    "PFV": ("PST",),
    "IPFV": ("PRS",),
}
#: Tags an entry must not have when a tag is wanted (besides other values of the same dimension).
FEATURE_CONFLICTS: dict[str, frozenset[str]] = {
    "PST": frozenset({"PRS", "FUT", "PROG", "IPFV"}),
    "PRS": frozenset({"PST", "FUT", "PFV", "PRF"}),
    "PFV": frozenset({"IPFV", "PROG"}),
    "IPFV": frozenset({"PFV", "PRF"}),
}
#: Unmarked values preferred when the English form does not say (a ``called`` with no subject).
DEFAULT_TAGS = frozenset({"3", "SG", "MASC", "IND", "ACT", "DECL", "NOM"})
_WEIGHTS = {
    "Part of speech": 3.0,
    "Finiteness": 3.0,
    "Tense": 2.0,
    "Aspect": 2.0,
    "Mood": 2.0,
}

Origin = Literal["table", "inflector", "lemma"]


def _weight(tag: str) -> float:
    return _WEIGHTS.get(tag_dim(tag), 1.0)


@dataclass(frozen=True)
class FeatureMapping:
    """How an English bundle maps onto a target language's tags.

    ``kept``: English tags the target uses; ``substituted``: ``(english, target)`` pairs
    used instead of a tag the target lacks; ``dropped``: tags with no counterpart.
    """

    source: str
    pos: str
    kept: tuple[str, ...]
    substituted: tuple[tuple[str, str], ...]
    dropped: tuple[str, ...]

    @property
    def wanted(self) -> tuple[str, ...]:
        return self.kept + tuple(t for _, t in self.substituted)

    def describe(self) -> str:
        """E.g. ``V;PST -> PFV (PST->PFV); dropped: none``."""
        parts = [f"{self.source} -> {';'.join((self.pos, *self.wanted)) if self.wanted else '(nothing)'}"]
        if self.substituted:
            parts.append("(" + ", ".join(f"{a}->{b}" for a, b in self.substituted) + ")")
        parts.append("dropped: " + (", ".join(self.dropped) or "none"))
        return " ".join(parts[:-1]) + "; " + parts[-1]


@dataclass(frozen=True)
class MorphChoice:
    """A target form chosen for a target lemma and English features."""

    lemma: str
    form: str
    features: str
    origin: Origin
    mapping: FeatureMapping

    @property
    def inflection(self) -> InflectionEntry:
        return InflectionEntry(self.lemma, self.form, self.features)


class TargetMorphology:
    """A target UniMorph table indexed for choosing forms (see the module docstring).

    Args:
        table: the table (or its entries).
        min_share: a tag counts as used by the target when at least this share of the
            entries of that part of speech has it.
        use_inflector: inflect lemmas without a paradigm (False: leave them).
        inflector: which inflector: ``affix``, ``transducer`` or ``auto`` (the better on
            held-out lemmas of the table; see :mod:`lexiconlm.inflection.choose`).
        inflector_dir: where ``transducer``/``auto`` train their models (per part of speech;
            reused by the next run on the same table).
        inflector_config: transducer settings.
        device: the transducer's device.
    """

    def __init__(
        self,
        table: InflectionTable | Iterable[InflectionEntry],
        *,
        min_share: float = 0.01,
        use_inflector: bool = True,
        inflector: str = "affix",
        inflector_dir: str | os.PathLike | None = None,
        inflector_config: Mapping[str, Any] | None = None,
        device: str = "auto",
    ):
        if inflector not in INFLECTOR_SYSTEMS:
            raise ConfigError([f"inflector -> must be one of {', '.join(INFLECTOR_SYSTEMS)}, got {inflector!r}"])
        if inflector != "affix" and inflector_dir is None:
            raise ConfigError([f"inflector_dir -> the {inflector} inflector trains models: give a folder for them"])
        self.inflector_system = inflector
        self.inflector_dir = Path(inflector_dir) if inflector_dir is not None else None
        self.inflector_config = dict(inflector_config or {})
        self.device = device
        entries = [e for e in table if e.form]
        self.language = table.language if isinstance(table, InflectionTable) else None
        self.source = table.provenance.path if isinstance(table, InflectionTable) else ""
        #: the table reader's problems (bad lines skipped when it was read with ``errors="collect"``)
        self.problems = tuple(table.problems) if isinstance(table, InflectionTable) else ()
        self.min_share = min_share
        self.use_inflector = use_inflector
        self._paradigms: dict[str, list[tuple[InflectionEntry, tuple[str, ...]]]] = {}
        self._pos_count: Counter = Counter()
        self._tag_count: dict[str, Counter] = {}
        self._bundles: dict[str, Counter] = {}
        self._entries_by_pos: dict[str, list[InflectionEntry]] = {}
        lemma_pos: dict[str, set[str]] = {}
        for e in entries:
            tags = open_tags(e.features)
            pos = pos_of(tags)
            self._paradigms.setdefault(word_key(e.lemma), []).append((e, tags))
            self._pos_count[pos] += 1
            self._tag_count.setdefault(pos, Counter()).update(set(tags))
            self._bundles.setdefault(pos, Counter())[e.features] += 1
            self._entries_by_pos.setdefault(pos, []).append(e)
            lemma_pos.setdefault(word_key(e.lemma), set()).add(pos)
        # ending -> (lemmas with each part of speech, all lemmas), for plausible_lemma
        self._endings: dict[str, Counter] = {}
        self._ending_all: Counter = Counter()
        for lemma, poses in lemma_pos.items():
            self._ending_all[lemma[-2:]] += 1
            for pos in poses:
                self._endings.setdefault(pos, Counter())[lemma[-2:]] += 1
        self._mappings: dict[tuple[str, str], FeatureMapping] = {}
        self._inflectors: dict[str, FittedInflector] = {}

    def __len__(self) -> int:
        return sum(self._pos_count.values())

    @property
    def is_empty(self) -> bool:
        """No entries: nothing to inflect from (a language without a table)."""
        return not self._paradigms

    def has_paradigm(self, lemma: str, pos: str | None = None) -> bool:
        par = self._paradigms.get(word_key(lemma))
        return bool(par) and (pos is None or any(pos_of(t) == pos for _, t in par))

    def paradigm(self, lemma: str) -> list[InflectionEntry]:
        return [e for e, _ in self._paradigms.get(word_key(lemma), ())]

    def available(self, pos: str) -> frozenset[str]:
        """Tags the target uses with ``pos`` (in at least ``min_share`` of those entries)."""
        n = self._pos_count.get(pos, 0)
        if not n:
            return frozenset()
        return frozenset(t for t, k in self._tag_count[pos].items() if k / n >= self.min_share)

    def map_features(self, features: str, pos: str | None = None) -> FeatureMapping:
        """Map an English bundle onto the target's tags (see the module docstring)."""
        tags = open_tags(features)
        pos = pos or pos_of(tags)
        key = (features, pos)
        hit = self._mappings.get(key)
        if hit is not None:
            return hit
        avail = self.available(pos)
        kept: list[str] = []
        subst: list[tuple[str, str]] = []
        dropped: list[str] = []
        for t in tags:
            if t == pos:
                continue
            if t in avail:
                kept.append(t)
                continue
            alt = next((a for a in FEATURE_ALTERNATIVES.get(t, ()) if a in avail), None)
            if alt is not None:
                subst.append((t, alt))
            else:
                dropped.append(t)
        m = FeatureMapping(features, pos, tuple(kept), tuple(subst), tuple(dropped))
        self._mappings[key] = m
        return m

    @staticmethod
    def _score(tags: Sequence[str], mapping: FeatureMapping) -> tuple[float, int, int, int]:
        have = set(tags)
        score = 0.0
        for t in mapping.wanted:
            w = _weight(t)
            if t in have:
                score += w
            elif any(a in have for a in FEATURE_ALTERNATIVES.get(t, ())):
                score += w / 2
            elif any(
                (tag_dim(h) == tag_dim(t) and h != mapping.pos) or h in FEATURE_CONFLICTS.get(t, ()) for h in have
            ):
                score -= w
        wanted = set(mapping.wanted) | {mapping.pos}
        extras = [t for t in tags if t not in wanted]
        # a possessed form (Hebrew "his lights") is never the plain form English asks for
        possessed = sum(1 for t in extras if t.startswith("PSS"))
        defaults = sum(1 for t in extras if t in DEFAULT_TAGS)
        return score, -possessed, defaults, -(len(extras) - defaults)

    def select(self, lemma: str, features: str) -> MorphChoice | None:
        """The entry of ``lemma``'s paradigm that best matches the English ``features``, or None.

        None when the paradigm has no entry of that part of speech, when every English
        tag was dropped, or when no entry matches any wanted tag.
        """
        mapping = self.map_features(features)
        if not mapping.wanted:
            return None
        best = None
        best_key = None
        for k, (e, tags) in enumerate(self._paradigms.get(word_key(lemma), ())):
            if pos_of(tags) != mapping.pos:
                continue
            s = self._score(tags, mapping)
            if s[0] <= 0:
                continue
            key = (*s, -k)
            if best_key is None or key > best_key:
                best, best_key = e, key
        if best is None:
            return None
        return MorphChoice(best.lemma, best.form or "", best.features, "table", mapping)

    def best_bundle(self, features: str) -> tuple[str, FeatureMapping] | None:
        """The table's bundle (of the English part of speech) that best matches ``features``."""
        mapping = self.map_features(features)
        if not mapping.wanted:
            return None
        best = None
        best_key = None
        for k, (bundle, count) in enumerate(self._bundles.get(mapping.pos, Counter()).items()):
            s = self._score(open_tags(bundle), mapping)
            if s[0] <= 0:
                continue
            key = (*s, count, -k)
            if best_key is None or key > best_key:
                best, best_key = bundle, key
        return (best, mapping) if best is not None else None

    def plausible_lemma(self, lemma: str, pos: str) -> bool:
        """Whether ``lemma`` ends like the table's ``pos`` lemmas (see the module docstring)."""
        end = word_key(lemma)[-2:]
        n_pos = self._endings.get(pos, Counter())[end]
        return n_pos >= 2 and n_pos >= self._ending_all[end] - n_pos

    def inflector(self, pos: str) -> FittedInflector:
        """The inflector of the table's ``pos`` entries (trained on first use)."""
        model = self._inflectors.get(pos)
        if model is None:
            folder = None if self.inflector_dir is None else self.inflector_dir / (pos or "other")
            model = fit_inflector(
                self._entries_by_pos.get(pos, []),
                self.inflector_system,
                out_dir=folder,
                config=self.inflector_config,
                device=self.device,
            )
            self._inflectors[pos] = model
        return model

    def inflector_choices(self) -> dict[str, dict]:
        """Per part of speech trained so far: the system used and its held-out accuracies."""
        return {pos: {"system": m.system, "dev": dict(m.dev)} for pos, m in self._inflectors.items()}

    def inflect(self, lemma: str, features: str) -> MorphChoice | None:
        """The target form of ``lemma`` for English ``features``: from the table, else the inflector.

        Returns None when the paradigm exists but has no match, when it is of another
        part of speech, when no tag maps, when the lemma does not end like the table's
        lemmas of that part of speech, or when the model leaves the lemma unchanged.
        """
        if word_key(lemma) in self._paradigms:
            return self.select(lemma, features)
        if not self.use_inflector:
            return None
        hit = self.best_bundle(features)
        if hit is None:
            return None
        bundle, mapping = hit
        if not self.plausible_lemma(lemma, mapping.pos):
            return None
        form = self.inflector(mapping.pos).inflect(word_key(lemma), bundle)
        if not form or form == word_key(lemma):
            return None
        return MorphChoice(word_key(lemma), form, bundle, "inflector", mapping)

    def mappings(self) -> list[FeatureMapping]:
        """Every feature mapping used so far."""
        return list(self._mappings.values())
