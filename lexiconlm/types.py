"""Frozen, typed records that flow between lexiconlm's modules.

Readers in :mod:`lexiconlm.io` produce them; synthesis, inflection, adaptation,
NLU and coverage consume them. Nothing here imports a third-party library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Literal, Optional

from lexiconlm.errors import Problem

__all__ = [
    "Language",
    "Provenance",
    "LexiconEntry",
    "Lexicon",
    "InflectionEntry",
    "InflectionTable",
    "SigmorphonEdition",
    "SplitName",
    "InflectionDataset",
    "SlotSpan",
    "Utterance",
    "NLUDataset",
    "TextSegment",
    "Corpus",
    "split_features",
]


@dataclass(frozen=True)
class Language:
    """A language from the catalog (``resources/languages.tsv``).

    ``iso639_3`` is the key. ``scripts`` are ISO 15924 codes, most used first.
    A language unknown to the catalog can still be represented with an empty
    ``iso639_3`` and the name the resource used (see :meth:`unknown`).
    """

    iso639_3: str
    name: str
    family: str = ""
    genus: str = ""
    scripts: tuple[str, ...] = ()
    speakers: Optional[int] = None
    endangerment: str = ""
    macroarea: str = ""
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    glottocode: str = ""
    iso639_1: str = ""
    macrolanguage: str = ""
    scope: str = "I"
    endonym: str = ""

    @property
    def code(self) -> str:
        return self.iso639_3 or "und"

    def tag(self, script: str | None = None) -> str:
        """``<iso639-3>-<ISO 15924>`` as epitran names its maps, e.g. ``amh-Ethi``."""
        script = script or (self.scripts[0] if self.scripts else "")
        return f"{self.code}-{script}" if script else self.code

    @classmethod
    def unknown(cls, name: str) -> "Language":
        """A language the catalog does not know, kept under the name a resource used."""
        return cls(iso639_3="", name=name)

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


@dataclass(frozen=True)
class Provenance:
    """Where a set of records came from: file, detected format and its fingerprint."""

    path: str
    format: str
    sha256: str = ""
    n_lines: int = 0
    source: str = ""
    license: str = ""


@dataclass(frozen=True)
class LexiconEntry:
    """One translation pair. ``weight`` is a frequency or score where the source gives one."""

    source: str
    target: str
    pos: Optional[str] = None
    weight: Optional[float] = None

    @property
    def is_multiword(self) -> bool:
        return " " in self.source or " " in self.target


@dataclass(frozen=True)
class Lexicon:
    """A bilingual lexicon from ``src`` to ``tgt`` (entries de-duplicated, in file order)."""

    src: Language
    tgt: Language
    entries: tuple[LexiconEntry, ...]
    provenance: Provenance
    problems: tuple[Problem, ...] = ()
    n_duplicates: int = 0

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[LexiconEntry]:
        return iter(self.entries)

    def translations(self, source: str) -> list[str]:
        """Target words for ``source`` in file order (exact match)."""
        return [e.target for e in self.entries if e.source == source]

    def as_dict(self) -> dict[str, list[LexiconEntry]]:
        """Entries grouped by source word, in file order."""
        out: dict[str, list[LexiconEntry]] = {}
        for e in self.entries:
            out.setdefault(e.source, []).append(e)
        return out


def split_features(features: str) -> tuple[str, ...]:
    """Split a UniMorph bundle on top-level ``;`` only, keeping layers intact.

    >>> split_features("V;IMP;ACC(2,SG);NOM(INFM,2,SG)")
    ('V', 'IMP', 'ACC(2,SG)', 'NOM(INFM,2,SG)')
    >>> split_features("N;NOM(PL;PSS(1,PL))")
    ('N', 'NOM(PL;PSS(1,PL))')
    """
    out: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(features):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == ";" and depth == 0:
            out.append(features[start:i])
            start = i + 1
    out.append(features[start:])
    return tuple(t for t in out if t)


@dataclass(frozen=True)
class InflectionEntry:
    """``lemma`` inflected with ``features`` gives ``form``.

    ``form`` is ``None`` in covered test files (the form is what a system predicts).
    ``features`` is the bundle exactly as written (layered features intact);
    :attr:`tags` splits it on top-level ``;``.
    """

    lemma: str
    form: Optional[str]
    features: str

    @property
    def tags(self) -> tuple[str, ...]:
        return split_features(self.features)

    @property
    def key(self) -> tuple[str, str]:
        """``(lemma, features)``: how the official SIGMORPHON scripts match predictions to gold."""
        return (self.lemma, self.features)


@dataclass(frozen=True)
class InflectionTable:
    """A UniMorph table for one language (every ``lemma, form, features`` row)."""

    language: Language
    entries: tuple[InflectionEntry, ...]
    provenance: Provenance
    problems: tuple[Problem, ...] = ()
    n_blank_lines: int = 0

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[InflectionEntry]:
        return iter(self.entries)

    @property
    def lemmas(self) -> list[str]:
        return list(dict.fromkeys(e.lemma for e in self.entries))

    def paradigm(self, lemma: str) -> list[InflectionEntry]:
        return [e for e in self.entries if e.lemma == lemma]


SigmorphonEdition = Literal["2017", "2020", "2021", "2022", "2023"]
SplitName = Literal["train", "dev", "test", "unknown"]


@dataclass(frozen=True)
class InflectionDataset:
    """One SIGMORPHON file: a language's train, dev or test split of one edition.

    ``covered`` is true for test inputs without forms (every ``entry.form`` is None).
    ``setting`` is e.g. ``"small"``/``"large"`` for 2022 training files, else ``""``.
    """

    language: Language
    code: str
    edition: str
    split: str
    entries: tuple[InflectionEntry, ...]
    provenance: Provenance
    setting: str = ""
    covered: bool = False
    problems: tuple[Problem, ...] = ()
    n_blank_lines: int = 0

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[InflectionEntry]:
        return iter(self.entries)


@dataclass(frozen=True)
class SlotSpan:
    """A labelled slot: ``text[start:end]`` of the utterance is ``value``; tokens ``[tok_start, tok_end)``."""

    label: str
    value: str
    start: int
    end: int
    tok_start: int = -1
    tok_end: int = -1


@dataclass(frozen=True)
class Utterance:
    """A MASSIVE-style labelled utterance.

    ``annot_utt`` keeps the original ``[slot : value]`` annotation; ``text`` is the
    plain utterance; ``tokens`` are whitespace tokens of the annotation with the
    brackets removed (MASSIVE's tokenisation for slot tagging), and
    :attr:`bio` gives one BIO tag per token (``O`` outside slots).
    """

    id: str
    text: str
    intent: str
    slots: tuple[SlotSpan, ...] = ()
    annot_utt: str = ""
    locale: str = ""
    partition: str = ""
    tokens: tuple[str, ...] = ()
    extra: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def scenario(self) -> str:
        return self.intent.split("_", 1)[0] if self.intent else ""

    @property
    def bio(self) -> tuple[str, ...]:
        tags = ["O"] * len(self.tokens)
        for s in self.slots:
            for i in range(s.tok_start, s.tok_end):
                tags[i] = ("B-" if i == s.tok_start else "I-") + s.label
        return tuple(tags)


@dataclass(frozen=True)
class NLUDataset:
    """All utterances of one MASSIVE file (one locale, one or several partitions)."""

    locale: str
    language: Language
    utterances: tuple[Utterance, ...]
    provenance: Provenance
    problems: tuple[Problem, ...] = ()
    n_blank_lines: int = 0

    def __len__(self) -> int:
        return len(self.utterances)

    def __iter__(self) -> Iterator[Utterance]:
        return iter(self.utterances)


@dataclass(frozen=True)
class TextSegment:
    """One sentence / verse / block of a corpus; ``id`` is the line number or the file's own id."""

    id: str
    text: str


@dataclass(frozen=True)
class Corpus:
    """Plain text in one language: one segment per line (optionally ``id<TAB>text``)."""

    language: Language
    segments: tuple[TextSegment, ...]
    provenance: Provenance
    problems: tuple[Problem, ...] = ()
    n_blank_lines: int = 0

    def __len__(self) -> int:
        return len(self.segments)

    def __iter__(self) -> Iterator[TextSegment]:
        return iter(self.segments)

    @property
    def texts(self) -> list[str]:
        return [s.text for s in self.segments]
