"""Shared machinery of the readers and writers (the format-independent file handling
is :mod:`lexiconlm.files`).

:class:`RepairTally` and :func:`remove_inner_boms` (repairs reported once per
file), the language of a file (:func:`explicit_language`, :func:`lookup_language`,
:func:`resolve_language`) and what writers refuse (:func:`unwritable`,
:func:`check_round_trip`).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Sequence

from lexiconlm.errors import UnknownLanguageError
from lexiconlm.files import ProblemLog
from lexiconlm.languages import get_catalog
from lexiconlm.types import Language

LanguageSpec = Language | str | None

__all__ = [
    "LanguageSpec",
    "RepairTally",
    "remove_inner_boms",
    "explicit_language",
    "lookup_language",
    "resolve_language",
    "unwritable",
    "check_round_trip",
]


class RepairTally:
    """Collects a repeated repair or oddity and reports it as one warning per kind (not one per line)."""

    def __init__(self) -> None:
        self._lines: dict[str, list[int]] = {}
        self._text: dict[str, tuple[str, str]] = {}

    def add(self, key: str, line: int, message: str, hint: str = "") -> None:
        self._lines.setdefault(key, []).append(line)
        self._text.setdefault(key, (message, hint))

    def flush(self, log: ProblemLog) -> None:
        for key, lines in self._lines.items():
            message, hint = self._text[key]
            shown = ", ".join(str(n) for n in lines[:5]) + (", ..." if len(lines) > 5 else "")
            log.warning(lines[0], f"{message} on {len(lines)} line(s) (line {shown})", hint)
        self._lines.clear()
        self._text.clear()


def remove_inner_boms(lines: Sequence[tuple[int, str]], log: ProblemLog) -> list[tuple[int, str]]:
    """Drop U+FEFF (a byte-order mark) found *inside* lines, e.g. where files were concatenated.

    :func:`read_lines` removes the BOM at the start of a file; one in the middle
    (SIGMORPHON's Magahi files have them at the start of lemmas) is invisible junk
    that would make ``<U+FEFF>दाम`` and ``दाम`` different words. One warning lists the lines.
    """
    tally = RepairTally()
    out: list[tuple[int, str]] = []
    for no, line in lines:
        if "\ufeff" in line:
            line = line.replace("\ufeff", "")
            tally.add("bom", no, "U+FEFF (byte-order mark) characters inside the line were removed")
        out.append((no, line))
    tally.flush(log)
    return out


# --------------------------------------------------------------------------- languages


def explicit_language(spec: LanguageSpec, context: str | None) -> Language | None:
    """A language the caller gave: a Language as is, a code or name looked up (raising if unknown)."""
    if spec is None or isinstance(spec, Language):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"a language must be a Language or a code string, got {type(spec).__name__}")
    return get_catalog().lookup(spec, context=context)  # UnknownLanguageError lists close matches


def lookup_language(query: str, context: str | None) -> tuple[Language | None, str]:
    """Catalog lookup, cached per process; returns (language, why-not message)."""
    return _lookup_in(get_catalog(), query, context)


@lru_cache(maxsize=4096)
def _lookup_in(catalog: object, query: str, context: str | None) -> tuple[Language | None, str]:
    # Keyed by the catalog too, so that a catalog loaded from elsewhere is not answered from cache.
    try:
        return catalog.lookup(query, context=context), ""  # type: ignore[attr-defined]
    except UnknownLanguageError as exc:
        return None, str(exc)


def resolve_language(
    language: LanguageSpec,
    code: str,
    *,
    context: str | None,
    log: ProblemLog,
    what: str = "file name",
) -> Language:
    """The :class:`Language` of a file: ``language`` if given, else ``code`` (from ``what``).

    An explicit ``language`` must be known to the catalog (a typo raises
    :class:`~lexiconlm.errors.UnknownLanguageError` with suggestions); a code taken
    from the file name that the catalog does not know becomes
    ``Language.unknown(code)`` with a warning, so unusual data still reads.
    """
    explicit = explicit_language(language, context)
    if explicit is not None:
        return explicit
    if not code:
        log.warning(
            None,
            f"no language code in the {what}; language left unknown",
            "pass language=<ISO 639-3 code>",
        )
        return Language.unknown("")
    found = lookup_language(code, context)[0]
    if found is None and "-" in code:  # 2017-style names such as "scottish-gaelic"
        found = lookup_language(code.replace("-", " "), context)[0]
    if found is None:
        log.warning(
            None,
            f"language {code!r} (from the {what}) is not in the language catalog; kept as an unknown language",
            "pass language=<ISO 639-3 code>, or add the language to resources/languages.tsv",
        )
        return Language.unknown(code)
    return found


# --------------------------------------------------------------------------- writing


def unwritable(value: str) -> str:
    """Why ``value`` cannot be a TSV field that reads back unchanged (``""`` when it can).

    For readers that also remove U+FEFF inside lines (:func:`remove_inner_boms`).
    """
    if "\t" in value or "\n" in value or "\r" in value:
        return "contains a tab or line break"
    if "\x00" in value:
        return "contains a NUL character (readers take the file for binary)"
    if "\ufeff" in value:
        return "contains U+FEFF, which readers remove"
    return ""


def check_round_trip(value: str, label: str, *, first: bool) -> str:
    """Refuse a field that :func:`read_lines` or a reader's stripping would change.

    Returns the field in Unicode NFC, as the readers give it back. Callers check
    their own separators and emptiness first. ``label`` starts the message (``"entry 3: source"``);
    ``first`` marks the first field of the file, where a leading U+FEFF would be taken for a
    byte-order mark.
    """
    if "\x00" in value:
        raise ValueError(f"{label} {value!r} contains a NUL character, which makes the file read as binary")
    if value != value.strip():
        raise ValueError(
            f"{label} {value!r} has whitespace at its start or end, which the reader strips; strip it first"
        )
    if first and value.startswith("\ufeff"):
        raise ValueError(f"{label} starts with U+FEFF, which the reader takes for a byte-order mark")
    return unicodedata.normalize("NFC", value)
