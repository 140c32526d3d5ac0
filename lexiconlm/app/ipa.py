"""IPA of sample words on the explorer's IPA tab, with epitran's maps.

A language without a map, a map that needs a tool epitran does not ship, or epitran not
being installed become a message (:attr:`IpaResult.message`), never an error.

Example:
    >>> transcribe(get_catalog().get("ind"), ["selamat"]).code       # doctest: +SKIP
    'ind-Latn'
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from lexiconlm.phonology import epitran_instance, installed_maps
from lexiconlm.types import Language

__all__ = ["IpaResult", "epitran_code", "epitran_maps", "transcribe"]


@dataclass(frozen=True)
class IpaResult:
    """IPA of sample words: ``code`` is the epitran map used (``ind-Latn``), ``rows``
    ``(word, ipa)`` pairs, ``message`` why there are none (empty when there are)."""

    code: str
    rows: tuple[tuple[str, str], ...] = ()
    message: str = ""


# Maps that need a tool or dictionary epitran does not ship (it returns '' or raises without them).
_EXTERNAL = {
    "eng-Latn": "flite's lex_lookup",
    "cmn-Hans": "a CC-CEDICT file",
    "cmn-Hant": "a CC-CEDICT file",
    "yue-Hant": "a CC-CEDICT file",
    "jpn-Hira": "a Japanese dictionary",
    "jpn-Kana": "a Japanese dictionary",
    "jpn-Ktkn": "a Japanese dictionary",
}


@functools.lru_cache(maxsize=1)
def epitran_maps() -> frozenset[str]:
    """The ``<iso639-3>-<Script>`` maps epitran ships (empty when epitran is not installed)."""
    return frozenset(installed_maps()[1])


def epitran_code(lang: Language) -> str | None:
    """The epitran map for ``lang``: ``<iso>-<script>`` for its scripts in order, if epitran
    has one (a CSV map, or one of the few codes it handles with an external tool)."""
    maps = epitran_maps()
    for script in lang.scripts or ("Latn",):
        code = f"{lang.iso639_3}-{script}"
        if code in maps or code in _EXTERNAL:
            return code
    return None


def transcribe(lang: Language, words: Sequence[str]) -> IpaResult:
    """IPA of ``words`` with epitran's map for ``lang``.

    Returns:
        :class:`IpaResult`; when there is no map, epitran is not installed, or the map
        needs an external tool, ``rows`` is empty and ``message`` says why and what to do.
    """
    if not epitran_maps():
        return IpaResult("", (), "IPA needs epitran: pip install 'lexiconlm[phon]'")
    code = epitran_code(lang)
    tag = lang.tag()
    if code is None:
        similar = sorted(m for m in epitran_maps() if m.startswith(f"{lang.iso639_3}-"))
        extra = f" (it has {', '.join(similar)})" if similar else ""
        return IpaResult(
            "",
            (),
            f"epitran has no map for {lang.name} ({tag}){extra}, so no IPA is shown. "
            "A map is a CSV of grapheme-to-phoneme rules "
            "(epitran's data/map/<iso639-3>-<Script>.csv).",
        )
    if code in _EXTERNAL:
        return IpaResult(code, (), f"epitran's {code} map needs {_EXTERNAL[code]}, which is not installed.")
    words = [w for w in dict.fromkeys(w.strip() for w in words) if w][:20]
    if not words:
        return IpaResult(code, (), f"No sample words of {lang.name} to transcribe.")
    try:
        epi = epitran_instance(code)
        rows = tuple((w, epi.transliterate(w)) for w in words)
    except Exception as exc:  # noqa: BLE001 - epitran raises KeyError, IndexError or its own errors
        return IpaResult(code, (), f"epitran failed on {code}: {exc.__class__.__name__}: {exc}")
    return IpaResult(code, rows, "")
