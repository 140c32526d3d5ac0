"""Find the English-to-X lexicon files of a language in lexicon folders, through the language catalog.

Lexicon collections name their files differently: Wiktionary by the language's
English name (``javanese.txt``, ``norwegian_bokmål.txt``), GATITOS by a BCP-47 tag
(``en_sw.tsv``, ``en_ms-Arab.tsv``), MUSE by ISO 639-1 codes (``en-sw.txt``).
:func:`find_lexicons` resolves every file name of the given folders with the
catalog (the ``wiktionary`` and ``gatitos`` alias contexts apply, so ``mon.txt`` is
Mon, not Mongolian) and keeps the files whose language is the wanted one.

A file matches when its language is the wanted language, or the macrolanguage
the wanted language belongs to when the file name names the macrolanguage itself
(``norwegian.txt`` for Norwegian Bokmål). A file whose tag names a script
(``en_ms-Arab.tsv``) matches only when that script is the one wanted (by default
the language's first script), so Malay in Latin script does not pick up Jawi.

Example:
    >>> [p.name for p in find_lexicons("sw-KE", ["lexicons/wiktionary", "lexicons/gatitos"])]  # doctest: +SKIP
    ['swahili.txt', 'en_sw.tsv']
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from lexiconlm.io.lexicons import iter_lexicon_files
from lexiconlm.languages import get_catalog
from lexiconlm.types import Language

__all__ = ["LexiconFile", "find_lexicons", "lexicon_source", "scan_lexicon_dir"]

_GATITOS = re.compile(r"^en_(?P<tag>[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\.tsv$")
_MUSE = re.compile(r"^en-(?P<tag>[a-z]{2,3})(?:\.\d+-\d+)?\.txt$")
_WIKTIONARY = re.compile(r"^[^\W\d]+\.txt$")
_SCRIPT_SUBTAG = re.compile(r"^[A-Z][a-z]{3}$")


class LexiconFile:
    """A lexicon file with the source collection and language its name says."""

    __slots__ = ("language", "path", "script", "source")

    def __init__(self, path: Path, source: str, language: Language, script: str):
        self.path = path
        self.source = source
        self.language = language
        self.script = script

    def __repr__(self) -> str:
        return (
            f"LexiconFile({self.path.name!r}, {self.source}, "
            f"{self.language.code}{'-' + self.script if self.script else ''})"
        )


def lexicon_source(path: str | os.PathLike) -> str:
    """The collection a lexicon file name belongs to: ``gatitos``, ``muse``, ``wiktionary`` or ``""``."""
    name = Path(path).name
    if _GATITOS.match(name):
        return "gatitos"
    if _MUSE.match(name):
        return "muse"
    if _WIKTIONARY.match(name) and name == name.lower():
        return "wiktionary"
    return ""


def _resolve(name: str) -> tuple[str, str, str] | None:
    """File name -> (source, catalog code, script subtag) or None when the name tells no language."""
    catalog = get_catalog()
    source = lexicon_source(name)
    if source == "gatitos":
        tag = _GATITOS.match(name)["tag"]  # type: ignore[index]
        script = next((p for p in tag.split("-")[1:] if _SCRIPT_SUBTAG.match(p)), "")
        lang = catalog.find(tag, context="gatitos")
    elif source == "muse":
        tag = _MUSE.match(name)["tag"]  # type: ignore[index]
        script = ""
        lang = catalog.find(tag)
    elif source == "wiktionary":
        script = ""
        lang = catalog.find(name[:-4].replace("_", " "), context="wiktionary")
    else:
        return None
    return (source, lang.iso639_3, script) if lang is not None else None


@lru_cache(maxsize=64)
def _scan(directory: str, mtime_ns: int) -> tuple[tuple[str, str, str, str], ...]:
    """(file name, source, code, script) of every lexicon file of a folder; cached per folder state."""
    out = []
    for p in iter_lexicon_files(directory):
        hit = _resolve(p.name)
        if hit is not None:
            out.append((p.name, *hit))
    return tuple(out)


def scan_lexicon_dir(directory: str | os.PathLike) -> list[LexiconFile]:
    """Every lexicon file of a folder whose name tells its language, sorted by name.

    Raises:
        DataFormatError: ``directory`` is not a folder.
    """
    d = Path(directory)

    iter_lexicon_files(d)  # raises a clear error for a missing folder
    catalog = get_catalog()
    return [
        LexiconFile(d / name, source, catalog.get(code), script)
        for name, source, code, script in _scan(str(d.resolve()), d.stat().st_mtime_ns)
    ]


def find_lexicons(
    language: str | Language,
    dirs: Iterable[str | os.PathLike],
    *,
    script: str | None = None,
) -> list[Path]:
    """The English-to-``language`` lexicon files in ``dirs``.

    Args:
        language: a :class:`Language`, or anything the catalog resolves (``sw-KE``,
            ``swh``, ``Swahili``, ``jv-ID``).
        dirs: lexicon folders, searched in the order given (a folder that does not exist
            is an error; give only folders you have).
        script: the ISO 15924 script wanted (default: the language's first script);
            files whose name names another script are left out.

    Returns:
        Matching files, folder by folder in the order of ``dirs``, by name within a folder.

    Raises:
        UnknownLanguageError: ``language`` is not in the catalog (close names are suggested).
        DataFormatError: a folder does not exist.

    Example:
        >>> find_lexicons("jv-ID", ["../shared/data/lexicons/wiktionary"])  # doctest: +SKIP
        [PosixPath('../shared/data/lexicons/wiktionary/javanese.txt')]
    """
    lang = language if isinstance(language, Language) else get_catalog().lookup(language)
    want_script = script if script is not None else (lang.scripts[0] if lang.scripts else "")
    codes = {lang.iso639_3}
    if lang.macrolanguage:
        codes.add(lang.macrolanguage)
    out: list[Path] = []
    for d in dirs:
        for f in scan_lexicon_dir(d):
            if f.language.iso639_3 not in codes:
                continue
            if f.script and want_script and f.script != want_script:
                continue
            out.append(f.path)
    return out
