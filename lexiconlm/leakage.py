"""Keep evaluation items out of augmentation data.

A :class:`LeakageGuard` is built from evaluation data and checks synthesized items
before anything is written:

* **inflection items** (SIGMORPHON dev/test, any :class:`InflectionEntry`): an
  augmentation entry leaks when it has the same lemma and feature bundle as an
  evaluation entry — compared exactly and after normalisation (Unicode NFC, lemma
  case-folded, the bundle as a set of tags with layered tags opened, so the 2023
  ``V;PRS;NOM(3,SG)`` equals UniMorph's ``V;3;SG;PRS``) — or, when both have forms,
  the same lemma and form (the answer of the evaluation item, whatever its tags say);
* **utterances** (MASSIVE or any evaluation text): an augmentation utterance leaks
  when its ``id`` is an evaluation id (MASSIVE ids are parallel across locales, so a
  translated en-US test utterance keeps its test id) or its text equals an
  evaluation text after NFC, case folding and whitespace collapsing.

Items may be :class:`~lexiconlm.types.InflectionEntry`, :class:`~lexiconlm.types.Utterance`,
plain strings (texts), or any object with an ``inflection`` attribute holding an
:class:`InflectionEntry` (the paradigm-expansion records of
:mod:`lexiconlm.synth.morph_augment`).

:meth:`LeakageGuard.check` raises :class:`LeakageError` listing every leaked item;
:meth:`LeakageGuard.filter` returns the clean items and the leaks instead.

Example:
    >>> from lexiconlm.types import InflectionEntry as E
    >>> guard = LeakageGuard().add_inflections([E("walk", "walked", "V;PST")], source="eng.tst")
    >>> guard.check([E("talk", "talked", "V;PST")])          # clean: returns None
    >>> guard.check([E("walk", "walked", "V;PST")])          # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lexiconlm.leakage.LeakageError: 1 augmentation item(s) leak evaluation data:
      - inflection ('walk', 'V;PST') is in eng.tst ...
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lexiconlm.errors import LexiconLMError
from lexiconlm.io.massive import read_massive
from lexiconlm.io.sigmorphon import iter_sigmorphon_dir, read_sigmorphon
from lexiconlm.languages import get_catalog
from lexiconlm.types import InflectionEntry, Utterance, split_features

__all__ = ["Leak", "LeakageError", "LeakageGuard", "normalise_features", "normalise_text"]


@dataclass(frozen=True)
class Leak:
    """One leaked item: what it is, why it leaks and the evaluation source it matches."""

    index: int
    item: str
    reason: str
    source: str

    def __str__(self) -> str:
        return f"{self.item} {self.reason} {self.source} (item {self.index})"


class LeakageError(LexiconLMError, ValueError):
    """Augmentation data contains evaluation items; ``leaks`` lists every one."""

    max_shown = 20

    def __init__(self, leaks: Sequence[Leak], what: str = "augmentation"):
        self.leaks = tuple(leaks)
        self.what = what
        shown = [f"  - {leak}" for leak in self.leaks[: self.max_shown]]
        if len(self.leaks) > self.max_shown:
            shown.append(f"  ... and {len(self.leaks) - self.max_shown} more")
        super().__init__(
            f"{len(self.leaks)} {what} item(s) leak evaluation data:\n"
            + "\n".join(shown)
            + "\nnothing was written; remove these items (LeakageGuard.filter / --on-leak drop) "
            "or use a table without the evaluation entries"
        )

    def __reduce__(self):  # pickled (process pools) with its own arguments, not its message
        return (type(self), (self.leaks, self.what))


_WS = re.compile(r"\s+")
_ATOM = re.compile(r"[^;,()\[\]{}\s]+")


def normalise_features(features: str) -> frozenset[str]:
    """A feature bundle as a set of tags, layered tags opened (``NOM(3,SG)`` gives ``3``, ``SG``).

    >>> sorted(normalise_features("V;PRS;NOM(3,SG)")) == sorted(normalise_features("V;3;SG;PRS"))
    True
    """
    out: set[str] = set()
    for tag in split_features(unicodedata.normalize("NFC", features.strip())):
        if "(" in tag:
            inner = tag[tag.index("(") + 1 :]
            out.update(a for a in _ATOM.findall(inner))
        else:
            out.add(tag)
    return frozenset(out)


def normalise_text(text: str) -> str:
    """NFC, case-folded, whitespace collapsed: how evaluation texts are compared."""
    return _WS.sub(" ", unicodedata.normalize("NFC", text).casefold()).strip()


def _lemma_key(lemma: str) -> str:
    return unicodedata.normalize("NFC", lemma).casefold().strip()


class LeakageGuard:
    """Evaluation keys (inflection items, utterance ids and texts) to check augmentation data against.

    Build it with :meth:`add_inflections`, :meth:`add_utterances`, :meth:`add_texts`, or the
    file helpers :meth:`add_sigmorphon` / :meth:`add_massive`; each returns the guard so
    calls chain. An empty guard finds nothing (``len(guard) == 0``).
    """

    def __init__(self) -> None:
        self._exact: dict[tuple[str, str], str] = {}
        self._norm: dict[tuple[str, frozenset[str]], str] = {}
        self._forms: dict[tuple[str, str], str] = {}
        self._ids: dict[str, str] = {}
        self._texts: dict[str, str] = {}
        self.sources: list[str] = []

    def __len__(self) -> int:
        return len(self._exact) + len(self._ids) + len(self._texts)

    def __repr__(self) -> str:
        return (
            f"LeakageGuard({len(self._exact)} inflection keys, {len(self._ids)} utterance ids, "
            f"{len(self._texts)} texts from {len(self.sources)} source(s))"
        )

    # ------------------------------------------------------------------ building
    def add_inflections(self, entries: Iterable[InflectionEntry], *, source: str) -> LeakageGuard:
        """Add evaluation inflection items (``form`` may be ``None`` for covered test files)."""
        for e in entries:
            self._exact.setdefault((e.lemma, e.features), source)
            self._norm.setdefault((_lemma_key(e.lemma), normalise_features(e.features)), source)
            if e.form:
                self._forms.setdefault((_lemma_key(e.lemma), _lemma_key(e.form)), source)
        self._note(source)
        return self

    def add_utterances(self, utterances: Iterable[Utterance], *, source: str) -> LeakageGuard:
        """Add evaluation utterances: their ids and their texts."""
        for u in utterances:
            if u.id:
                self._ids.setdefault(u.id, source)
            if u.text.strip():
                self._texts.setdefault(normalise_text(u.text), source)
        self._note(source)
        return self

    def add_texts(self, texts: Iterable[str], *, source: str) -> LeakageGuard:
        """Add evaluation texts (any corpus the augmentation must not contain)."""
        for t in texts:
            if t.strip():
                self._texts.setdefault(normalise_text(t), source)
        self._note(source)
        return self

    def add_sigmorphon(self, paths: Iterable[str | os.PathLike], *, language: str | None = None) -> LeakageGuard:
        """Add SIGMORPHON files, or every dev/test file of folders (optionally of one language code).

        Args:
            paths: files (any split: what you give is what is guarded) or folders (their
                ``dev`` and ``test`` files, every edition, are added).
            language: with folders, only files of this language (a code or name the catalog
                resolves; file codes are resolved with the edition's aliases, ``heb_unvoc``
                counts as ``heb``, 2023's ``jap`` as Japanese).

        Raises:
            DataFormatError: a file cannot be read.
        """
        catalog = get_catalog()
        want = None
        if language:
            found = catalog.find(language)
            want = found.iso639_3 if found is not None else language
        for p in map(Path, paths):
            if p.is_dir():
                for info in iter_sigmorphon_dir(p, errors="collect"):
                    if info.split not in ("dev", "test") or info.prediction:
                        continue
                    if want:
                        code = info.code.split("_")[0]
                        lang = catalog.find(code, context=f"sigmorphon{info.edition}" if info.edition else None)
                        if (lang.iso639_3 if lang is not None else code) != want:
                            continue
                    ds = read_sigmorphon(info.path, edition=info.edition or None, errors="collect")
                    self.add_inflections(ds.entries, source=str(info.path))
            else:
                ds = read_sigmorphon(p, errors="collect")
                self.add_inflections(ds.entries, source=str(p))
        return self

    def add_massive(self, paths: Iterable[str | os.PathLike]) -> LeakageGuard:
        """Add MASSIVE evaluation files (TSV or JSON lines): ids and texts."""
        for p in paths:
            ds = read_massive(p, errors="collect")
            self.add_utterances(ds.utterances, source=str(p))
        return self

    def _note(self, source: str) -> None:
        if source not in self.sources:
            self.sources.append(source)

    # ------------------------------------------------------------------ checking
    def _leak(self, index: int, item: Any) -> Leak | None:
        inflection = item if isinstance(item, InflectionEntry) else getattr(item, "inflection", None)
        if isinstance(inflection, InflectionEntry):
            e = inflection
            desc = f"inflection {(e.lemma, e.features)!r}"
            hit = self._exact.get((e.lemma, e.features))
            if hit:
                return Leak(index, desc, "is in", hit)
            hit = self._norm.get((_lemma_key(e.lemma), normalise_features(e.features)))
            if hit:
                return Leak(index, desc, "matches (same lemma and tags) an item of", hit)
            if e.form:
                hit = self._forms.get((_lemma_key(e.lemma), _lemma_key(e.form)))
                if hit:
                    return Leak(index, f"{desc} -> {e.form!r}", "gives the answer (lemma and form) of an item of", hit)
            return None
        if isinstance(item, Utterance):
            hit = self._ids.get(item.id) if item.id else None
            if hit:
                return Leak(index, f"utterance id {item.id!r}", "is an evaluation id in", hit)
            text = item.text
        elif isinstance(item, str):
            text = item
        else:
            raise TypeError(
                f"cannot check a {type(item).__name__} for leakage; give InflectionEntry, "
                "Utterance, str or objects with an `inflection` attribute"
            )
        hit = self._texts.get(normalise_text(text)) if text.strip() else None
        if hit:
            return Leak(index, f"text {text!r}", "is an evaluation text in", hit)
        return None

    def find(self, items: Iterable[Any]) -> list[Leak]:
        """Every leaked item, in order (empty when the guard is empty)."""
        if not len(self):
            return []
        return [leak for i, item in enumerate(items) if (leak := self._leak(i, item)) is not None]

    def check(self, items: Iterable[Any], *, what: str = "augmentation") -> None:
        """Raise :class:`LeakageError` listing every leaked item; return ``None`` when clean."""
        leaks = self.find(items)
        if leaks:
            raise LeakageError(leaks, what)

    def filter(self, items: Iterable[Any]) -> tuple[list[Any], list[Leak]]:
        """``(clean items, leaks)``: the items without the leaked ones, and what was removed."""
        items = list(items)
        leaks = self.find(items)
        bad = {leak.index for leak in leaks}
        return [x for i, x in enumerate(items) if i not in bad], leaks
