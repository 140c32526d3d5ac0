"""Phonology: epitran's grapheme-to-IPA maps and panphon's phonological features, in one place.

Used by synthesis (OOV transliteration, :class:`Transliterator`), embedding
initialisation (``phonology.v1`` in :mod:`lexiconlm.adapt.init`), coverage (which
languages have a map) and the app (IPA previews). epitran and panphon are optional
(``pip install 'lexiconlm[phon]'``) and slow to import: the map folder is found without
importing epitran (:func:`map_dir`), and both are imported only when used, with a
:class:`~lexiconlm.errors.MissingDependencyError` naming the extra when absent.
"""

from __future__ import annotations

import csv
import importlib.util
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any

from lexiconlm.errors import LexiconLMError, MissingDependencyError

__all__ = [
    "map_dir",
    "require_map_dir",
    "installed_maps",
    "map_tag",
    "read_map",
    "reverse_map",
    "panphon_tables",
    "epitran_instance",
    "supports_transliteration",
    "transliteration_languages",
    "Transliterator",
]


def map_dir() -> Path | None:
    """epitran's installed ``data/map`` folder (``<iso639-3>-<Script>.csv`` maps), found without
    importing epitran (slow to import); ``None`` when epitran is not installed."""
    try:
        spec = importlib.util.find_spec("epitran")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "data" / "map"


def installed_maps() -> tuple[Path | None, list[str]]:
    """epitran's map folder and the map codes in it (``amh-Ethi``, ``amh-Ethi-pp`` ...).

    ``(None, [])`` when epitran is not installed; ``(folder, [])`` when the folder is missing.
    """
    folder = map_dir()
    if folder is None:
        return None, []
    if not folder.is_dir():
        return folder, []
    return folder, sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".csv"))


def map_tag(language: str, script: str, *, feature: str, role: str = "language") -> str:
    """The epitran map for ``<language>-<script>``; Latin script without its own map uses
    ``generic-Latn``.

    Raises:
        MissingDependencyError: epitran is not installed.
        LexiconLMError: epitran has no map for it (the message lists the maps for the same
            language or script).
    """
    folder = require_map_dir(feature)
    tag = f"{language}-{script}"
    if (folder / f"{tag}.csv").is_file():
        return tag
    if script == "Latn":
        return "generic-Latn"
    same = sorted(p.stem for p in folder.glob(f"{language}-*.csv")) or sorted(
        p.stem for p in folder.glob(f"*-{script}.csv")
    )
    raise LexiconLMError(
        f"{feature} needs an epitran map for the {role} {tag!r}, and epitran has none"
        + (f" (maps for this language or script: {', '.join(same[:12])})" if same else "")
        + "; set `script:` to one epitran writes, or choose another method"
    )


def require_map_dir(feature: str = "OOV transliteration") -> Path:
    """epitran's map folder, or :class:`MissingDependencyError` naming ``feature`` and the extra."""
    folder = map_dir()
    if folder is None:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(feature, "phon", "epitran")
    return folder


@lru_cache(maxsize=None)
def read_map(tag: str) -> tuple[tuple[str, str], ...]:
    """(grapheme, IPA) rows of epitran's ``<tag>.csv`` map."""
    path = require_map_dir() / f"{tag}.csv"
    with open(path, encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return tuple((r[0], r[1]) for r in rows[1:] if len(r) >= 2 and r[0])


# The IPA segments a Latin-script source word turns into (epitran's generic-Latn map);
# a target map is usable in reverse when it can write every one of them (or a close phone).
_BASIC_SEGMENTS = ("a", "b", "d", "e", "f", "ɡ", "h", "i", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "v", "z")
# Largest panphon feature edit distance (share of differing features) at which a missing
# phone is written with the nearest one the target map has (a -> ɑ 0.02, h -> x 0.08,
# f -> pʰ 0.13; h -> l, 0.23, is too far).
_MAX_PHONE_DISTANCE = 0.15


@lru_cache(maxsize=1)
def panphon_tables(feature: str = "OOV transliteration") -> tuple[Any, Any]:
    """panphon's ``FeatureTable`` and ``Distance`` (built once per process).

    Raises:
        MissingDependencyError: panphon is not installed (names ``feature`` and the extra).
    """
    try:
        import panphon
        import panphon.distance
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(feature, "phon", "panphon") from None
    return panphon.FeatureTable(), panphon.distance.Distance()


@lru_cache(maxsize=None)
def reverse_map(tag: str) -> dict[str, str]:
    """IPA -> grapheme from a target map: the shortest grapheme for each IPA string."""

    def cost(g: str) -> tuple[int, int]:
        # shorter first, then without diacritics (Russian o is о, not ё)
        return len(g), len(unicodedata.normalize("NFD", g))

    rev: dict[str, str] = {}
    for g, ipa in read_map(tag):
        g = "".join(c for c in g if unicodedata.category(c) != "Cf")  # bidi controls in some maps
        if not ipa or not any(c.isalpha() for c in g):
            continue
        if ipa not in rev or cost(g) < cost(rev[ipa]):
            rev[ipa] = g
    return rev


# Scripts a letter-by-letter writer cannot write: abugidas (vowels are signs attached to
# consonants, which carry an inherent vowel) and Hangul (letters composed into syllable blocks).
_NOT_LETTER_BY_LETTER = frozenset(
    "Hang Deva Beng Guru Gujr Orya Taml Telu Knda Mlym Sinh Thai Laoo Tibt Mymr Khmr "
    "Java Bali Sund Bugi Batk Tglg Lana Cham Ethi Cans Thaa".split()
)


def _writable_letter_by_letter(tag: str) -> bool:
    return tag.split("-")[1] not in _NOT_LETTER_BY_LETTER


@lru_cache(maxsize=None)
def _single_phones(tag: str) -> tuple[str, ...]:
    """The IPA keys of a target map that are one phone (consonant+vowel syllables are not)."""
    ft, _ = panphon_tables()
    return tuple(k for k in reverse_map(tag) if len(ft.segs_safe(k)) == 1)


@lru_cache(maxsize=None)
def _nearest(tag: str, phone: str) -> str | None:
    """Grapheme for ``phone``: its own, else that of the nearest phone the map writes (or None)."""
    rev = reverse_map(tag)
    if phone in rev:
        return rev[phone]
    _, dist = panphon_tables()
    scored = [
        # closest in features; among equals, a phone written with this one as its base (k -> kʰ before ɡ)
        (dist.feature_edit_distance(phone, k), not k.startswith(phone), i, k)
        for i, k in enumerate(_single_phones(tag))
    ]
    scored = [x for x in scored if x[0] <= _MAX_PHONE_DISTANCE]
    return rev[min(scored)[3]] if scored else None


@lru_cache(maxsize=1)
def transliteration_languages() -> tuple[str, ...]:
    """epitran tags (``rus-Cyrl``, ``kat-Geor`` ...) of non-Latin maps usable in reverse offline.

    A map qualifies when every basic phone of a Latin-script word (:data:`_BASIC_SEGMENTS`)
    has a grapheme in it, exactly or through a close phone.
    """
    return tuple(p.stem for p in sorted(require_map_dir().glob("*-*.csv")) if supports_transliteration(p.stem))


@lru_cache(maxsize=None)
def supports_transliteration(tag: str) -> bool:
    """Whether OOV words can be transliterated into ``tag`` (``rus-Cyrl``) offline."""
    parts = tag.split("-")
    if (
        len(parts) != 2
        or parts[1] == "Latn"
        or not re.fullmatch(r"[a-z]{3}", parts[0])
        or not re.fullmatch(r"[A-Z][a-z]{3}", parts[1])
    ):
        return False
    if not (require_map_dir() / f"{tag}.csv").is_file() or not _writable_letter_by_letter(tag):
        return False
    try:
        return all(_nearest(tag, seg) is not None for seg in _BASIC_SEGMENTS)
    except (OSError, UnicodeDecodeError, IndexError, ValueError):
        return False


@lru_cache(maxsize=8)
def epitran_instance(tag: str, feature: str = "IPA transliteration") -> Any:
    """One ``epitran.Epitran`` per map tag (``amh-Ethi``), cached: loading one takes seconds.

    Raises:
        MissingDependencyError: epitran is not installed.
    """
    try:
        import epitran
    except ImportError:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(feature, "phon", "epitran") from None
    return epitran.Epitran(tag)


class Transliterator:
    """Writes a source word in the target script through IPA.

    The source word goes to IPA with epitran (its map for the source language
    and script, else epitran's ``generic-Latn`` for Latin script); the IPA is
    split into phones (panphon) and written with epitran's map for the target
    language read in reverse: the longest run of phones the map has a grapheme
    for, else the grapheme of the nearest phone it writes (panphon feature
    edit distance at most 0.15). Supported targets (:func:`transliteration_languages`)
    are alphabets and abjads whose map can write every basic phone; abugidas
    (vowels written as combining signs) and Hangul (letters composed into
    syllable blocks) are not. A phone nothing is close to is left out.
    """

    def __init__(self, src_tag: str, tgt_tag: str):
        if not supports_transliteration(tgt_tag):
            supported = transliteration_languages()
            raise LexiconLMError(
                f"OOV transliteration into {tgt_tag} is not supported offline; epitran maps "
                f"usable in reverse: {', '.join(supported)}. Use oov='keep' or 'drop'."
            )
        src_map = src_tag if (require_map_dir() / f"{src_tag}.csv").is_file() else "generic-Latn"
        if src_map == "generic-Latn" and not src_tag.endswith("-Latn"):
            raise LexiconLMError(
                f"OOV transliteration from {src_tag} needs an epitran map for it; "
                "only Latin-script sources fall back to generic-Latn"
            )
        self.src_tag, self.tgt_tag = src_map, tgt_tag
        self._epi = epitran_instance(src_map)
        self._rev = reverse_map(tgt_tag)
        self._cache: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        out = self._cache.get(word)
        if out is None:
            out = self._cache[word] = self._write(word)
        return out

    def _write(self, word: str) -> str:
        ft, _ = panphon_tables()
        ipa = self._epi.transliterate(word.lower())
        phones = ft.segs_safe(ipa)
        out = []
        i = 0
        while i < len(phones):
            for n in range(min(3, len(phones) - i), 0, -1):
                g = self._rev.get("".join(phones[i : i + n]))
                if g is not None:
                    out.append(g)
                    i += n
                    break
            else:
                g = _nearest(self.tgt_tag, phones[i])
                if g is not None:
                    out.append(g)
                i += 1
        return "".join(out) or word
