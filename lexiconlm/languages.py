"""The language catalog: every ISO 639-3 language, looked up by code, tag or name.

The catalog is data, not code. It is read from two files in ``resources/``:

* ``languages.tsv``: one row per ISO 639-3 code (plus a few varieties without
  one that the project's data uses), with name, family, genus, scripts,
  speakers, coordinates and alternate names;
* ``language_aliases.tsv``: extra keys (``alias -> iso639_3``) such as ISO
  639-2/B codes, retired codes, macrolanguage defaults and the non-standard
  codes of particular resources (``context``).

Both are written by ``scripts/build_language_catalog.py`` (see
``resources/PROVENANCE.md``); a new language or alias arrives as a row there,
never as a branch here.

Lookup accepts ISO 639-3 (``swh``), ISO 639-1 (``sw``), ISO 639-2/B (``ger``),
BCP-47 tags (``sw-KE``, ``zh-Hant-TW``, ``sr-Latn``, ``pt_BR``) and English
names, case-, space-, underscore- and apostrophe-insensitively (``Swahili``,
``ancient_greek``, ``abu__arapesh``)::

    >>> from lexiconlm.languages import get_catalog
    >>> cat = get_catalog()
    >>> cat.lookup("swa").iso639_3              # macrolanguage -> default language
    'swh'
    >>> cat.lookup("swa", resolve_macro=False).iso639_3
    'swa'
    >>> cat.lookup("jap").iso639_3              # retired ISO code of Jaruára, merged into Jamamadí ...
    'jaa'
    >>> cat.lookup("jap", context="sigmorphon2023").iso639_3   # ... but Japanese in SIGMORPHON 2023
    'jpn'

Unknown queries raise :class:`~lexiconlm.errors.UnknownLanguageError` with
close matches: ``Unknown language 'swahilli'. Did you mean: swh (Swahili), ...?``.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import unicodedata
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from lexiconlm.errors import DataFormatError, Problem, UnknownLanguageError
from lexiconlm.files import ProblemLog, read_lines
from lexiconlm.resources import resources_dir as _resources_dir
from lexiconlm.types import Language

__all__ = [
    "LANGUAGE_COLUMNS",
    "ALIAS_COLUMNS",
    "MACRO_CONTEXT",
    "RESOURCES_ENV",
    "LanguageCatalog",
    "get_catalog",
    "resources_dir",
    "name_key",
]

#: Columns of ``resources/languages.tsv`` in file order.
LANGUAGE_COLUMNS: tuple[str, ...] = (
    "iso639_3",
    "name",
    "iso639_1",
    "family",
    "genus",
    "scripts",
    "speakers",
    "endangerment",
    "macroarea",
    "latitude",
    "longitude",
    "glottocode",
    "macrolanguage",
    "scope",
    "type",
    "endonym",
    "alt_names",
    "sources",
)
#: Columns of ``resources/language_aliases.tsv``.
ALIAS_COLUMNS: tuple[str, ...] = ("alias", "iso639_3", "context", "note")
#: Alias context holding macrolanguage defaults (``swa -> swh``, ``ar-MA -> ary``);
#: applied when ``resolve_macro=True``.
MACRO_CONTEXT = "macrolanguage"
#: Environment variable naming a folder that holds ``languages.tsv`` (overrides the bundled one).
RESOURCES_ENV = "LEXICONLM_RESOURCES"

LANGUAGES_FILE = "languages.tsv"
ALIASES_FILE = "language_aliases.tsv"

_SCOPES = frozenset({"I", "M", "S", "C"})
_SCOPE_RANK = {"M": 0, "I": 1, "C": 2, "S": 3}
# Apostrophe-like characters are separators in names: Wiktionary's "abu__arapesh" is "Abu' Arapesh".
_APOSTROPHES = str.maketrans({c: " " for c in "'\u2019\u2018\u02bc\u02bb\u02bd\u00b4`\u02b9\u02ee"})
_NON_WORD = re.compile(r"[\W_]+")
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_RETIRED_REF = re.compile(r"\[([a-z]{3})\]")


def name_key(text: str) -> str:
    """Normalise a language name for matching: case-folded, NFC, every run of
    punctuation, spaces, underscores and apostrophes collapsed to one space.

    >>> name_key("Abu' Arapesh") == name_key("abu__arapesh") == "abu arapesh"
    True
    """
    t = unicodedata.normalize("NFC", text).casefold().translate(_APOSTROPHES)
    return _NON_WORD.sub(" ", t).strip()


def _folded_key(key: str) -> str:
    """Second-chance key: accents removed and spaces dropped (``Guébie`` ~ ``guebie``, ``lo toga`` ~ ``lotoga``)."""
    return _COMBINING.sub("", unicodedata.normalize("NFKD", key)).replace(" ", "")


def _code_key(text: str) -> str:
    return text.strip().lower().replace("_", "-")


def resources_dir() -> Path:
    """The folder holding ``languages.tsv`` (see :func:`lexiconlm.resources.resources_dir`).

    Not cached here, so that a changed ``$LEXICONLM_RESOURCES`` takes effect."""
    return _resources_dir()


def _parse_tsv(
    lines: Iterable[tuple[int, str]], columns: Sequence[str], path: str, problems: list[Problem]
) -> list[tuple[int, list[str]]]:
    """Split TSV lines (header first, no quoting) and check the header and field counts."""
    rows: list[tuple[int, list[str]]] = []
    it = iter(lines)
    header = next(it, None)
    if header is None:
        problems.append(Problem(path, None, "file is empty", "rebuild it with scripts/build_language_catalog.py"))
        return rows
    if header[1].split("\t") != list(columns):
        problems.append(
            Problem(
                path,
                header[0],
                f"header is {header[1].split(chr(9))!r}, expected {list(columns)!r}",
                "rebuild it with scripts/build_language_catalog.py",
            )
        )
        return rows
    n = len(columns)
    for line_no, text in it:
        if not text:
            continue
        fields = text.split("\t")
        if len(fields) != n:
            problems.append(Problem(path, line_no, f"expected {n} tab-separated fields, got {len(fields)}"))
            continue
        rows.append((line_no, fields))
    return rows


class LanguageCatalog:
    """Every language of ``languages.tsv`` with lookup by code, tag and name.

    Build one with :func:`get_catalog` (cached), :meth:`from_dir` or :meth:`from_text`.
    Iterating yields :class:`~lexiconlm.types.Language` records sorted by code.
    """

    def __init__(
        self,
        rows: Sequence[Sequence[str]],
        aliases: Sequence[Sequence[str]] = (),
        *,
        source: str = "languages.tsv",
    ):
        """Args:
        rows: field lists in :data:`LANGUAGE_COLUMNS` order (already validated).
        aliases: field lists in :data:`ALIAS_COLUMNS` order.
        source: where the rows came from (for messages).
        """
        self.source = source
        self._langs: dict[str, Language] = {}
        self._raw: dict[str, tuple[str, ...]] = {}
        self._iso1: dict[str, str] = {}
        self._members: dict[str, list[str]] = {}
        self._scripts: set[str] = set()
        for fields in rows:
            lang = _language_from_fields(fields)
            code = lang.iso639_3
            self._langs[code] = lang
            self._raw[code] = tuple(fields)
            if lang.iso639_1:
                self._iso1[lang.iso639_1] = code
            if lang.macrolanguage:
                self._members.setdefault(lang.macrolanguage, []).append(code)
            self._scripts.update(s.lower() for s in lang.scripts)
        # alias tables: context -> key -> (target, note); keys are code keys and name keys
        self._aliases: dict[str, dict[str, tuple[str, str]]] = {}
        self._alias_rows: list[tuple[str, str, str, str]] = []
        for alias, target, context, note in aliases:
            self._alias_rows.append((alias, target, context, note))
            table = self._aliases.setdefault(context, {})
            for key in {_code_key(alias), name_key(alias)}:
                if key:
                    table.setdefault(key, (target, note))
        self._names: dict[str, str] | None = None
        self._folded: dict[str, str] | None = None
        self._search_keys: list[tuple[str, str]] | None = None

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_dir(cls, directory: str | os.PathLike | None = None) -> "LanguageCatalog":
        """Load ``languages.tsv`` and ``language_aliases.tsv`` (optional) from a folder
        (default: :func:`resources_dir`).

        Raises:
            DataFormatError: listing every malformed line of both files.
        """
        d = Path(directory) if directory is not None else resources_dir()
        problems: list[Problem] = []
        files = {}
        for name in (LANGUAGES_FILE, ALIASES_FILE):
            p = d / name
            if name == ALIASES_FILE and not p.is_file():
                files[name] = (str(p), [])
                continue
            if name == LANGUAGES_FILE and not p.is_file():
                raise DataFormatError.single(
                    str(p),
                    None,
                    "language catalog not found",
                    f"set ${RESOURCES_ENV} to the folder holding {LANGUAGES_FILE}, or rebuild it with "
                    "python scripts/build_language_catalog.py",
                )
            raw = read_lines(p, nfc=False, log=ProblemLog(p))
            problems.extend(x for x in raw.log.items if x.severity == "error")
            files[name] = (str(p), raw.lines)
        return cls._from_lines(files[LANGUAGES_FILE], files[ALIASES_FILE], problems)

    @classmethod
    def from_text(cls, languages_tsv: str, aliases_tsv: str = "", *, source: str = "<text>") -> "LanguageCatalog":
        """Build a catalog from the text of the two TSV files (used by the builder and tests)."""
        lang_lines = list(enumerate(languages_tsv.rstrip("\n").split("\n"), start=1))
        alias_lines = list(enumerate(aliases_tsv.rstrip("\n").split("\n"), start=1)) if aliases_tsv else []
        return cls._from_lines((source, lang_lines), (source + ":aliases", alias_lines), [])

    @classmethod
    def _from_lines(cls, langs, aliases, problems: list[Problem]) -> "LanguageCatalog":
        lpath, llines = langs
        apath, alines = aliases
        rows = _parse_tsv(llines, LANGUAGE_COLUMNS, lpath, problems)
        seen: set[str] = set()
        good_rows = []
        for line_no, f in rows:
            msg = _check_language_fields(f)
            if not msg and f[0] in seen:
                msg = f"duplicate code {f[0]!r}"
            if msg:
                problems.append(Problem(lpath, line_no, msg))
                continue
            seen.add(f[0])
            good_rows.append(f)
        alias_rows = []
        if alines:
            for line_no, f in _parse_tsv(alines, ALIAS_COLUMNS, apath, problems):
                if not f[0]:
                    problems.append(Problem(apath, line_no, "empty alias"))
                elif f[1] and f[1] not in seen:
                    problems.append(
                        Problem(apath, line_no, f"alias {f[0]!r} points to {f[1]!r}, which is not in {LANGUAGES_FILE}")
                    )
                else:
                    alias_rows.append(f)
        if problems:
            raise DataFormatError(problems)
        return cls(good_rows, alias_rows, source=lpath)

    # ------------------------------------------------------------------ basic access
    def __len__(self) -> int:
        return len(self._langs)

    def __iter__(self) -> Iterator[Language]:
        return iter(self._langs.values())

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._langs

    def all(self) -> list[Language]:
        """Every language, sorted by code."""
        return list(self._langs.values())

    def get(self, iso639_3: str) -> Language:
        """The language with exactly this catalog code (no aliases, no names).

        Raises:
            UnknownLanguageError: with close codes as suggestions.
        """
        try:
            return self._langs[iso639_3]
        except KeyError:
            raise UnknownLanguageError(iso639_3, self._suggest(iso639_3)) from None

    def info(self, code: str) -> dict[str, str]:
        """The raw ``languages.tsv`` row of ``code`` as a dict (includes ``type``,
        ``alt_names`` and ``sources``, which :class:`Language` does not carry)."""
        self.get(code)
        return dict(zip(LANGUAGE_COLUMNS, self._raw[code]))

    def names(self, code: str) -> tuple[str, ...]:
        """Every name of ``code``: the catalog name, the alternate names, the endonym."""
        info = self.info(code)
        out = [info["name"], *(n for n in info["alt_names"].split("|") if n)]
        if info["endonym"]:
            out.append(info["endonym"])
        return tuple(dict.fromkeys(out))

    def members(self, macrolanguage: str) -> list[Language]:
        """The individual languages of a macrolanguage (empty for other codes)."""
        return [self._langs[c] for c in self._members.get(macrolanguage, ())]

    def macro_default(self, code: str) -> Language | None:
        """The individual language a macrolanguage stands for by default (``swa -> swh``), if any."""
        hit = self._aliases.get(MACRO_CONTEXT, {}).get(code)
        return self._langs.get(hit[0]) if hit and hit[0] else None

    def aliases(self, context: str | None = None) -> list[tuple[str, str, str, str]]:
        """Alias rows ``(alias, iso639_3, context, note)``, all or those of one context."""
        return [r for r in self._alias_rows if context is None or r[2] == context]

    @property
    def contexts(self) -> list[str]:
        """Alias contexts known to the catalog (``""`` is the global one)."""
        return sorted(self._aliases)

    # ------------------------------------------------------------------ lookup
    def lookup(
        self, query: str, *, context: str | None = None, resolve_macro: bool = True, names: bool = True
    ) -> Language:
        """Resolve a code, tag or name to one language.

        Order: aliases of ``context`` (and of its family, ``sigmorphon2023`` ->
        ``sigmorphon``); catalog codes, ISO 639-1 and global aliases (ISO 639-2/B,
        retired codes); BCP-47 tags; English names (then accent-folded names).
        A macrolanguage becomes its default individual language when
        ``resolve_macro`` is true and the catalog gives one (``swa -> swh``,
        ``zh -> cmn``, ``ar -> arb``); regional tags pick the member spoken
        there (``ar-MA -> ary``, ``fa-AF -> prs``).

        Args:
            query: ``swh``, ``sw``, ``sw-KE``, ``zh-Hant-TW``, ``swahili``, ``Ancient Greek``, ``ancient_greek`` ...
            context: the resource whose non-standard codes apply, e.g.
                ``"sigmorphon2023"`` (``jap`` = Japanese), ``"gatitos"``, ``"udhr"``,
                ``"wiktionary"`` (file names such as ``mon`` = Mon, not Mongolian).
            resolve_macro: map macrolanguages to their default individual language.
                ``resolve_macro=False`` with a resource ``context`` gives the keys of
                the staged data index (``languages_staged.tsv``).
            names: also match names (``False``: codes, aliases and tags only).

        Returns:
            The :class:`~lexiconlm.types.Language`.

        Raises:
            UnknownLanguageError: nothing matched; the message lists close codes and names.

        Example:
            >>> get_catalog().lookup("sw-KE").iso639_3
            'swh'
        """
        if not isinstance(query, str) or not query.strip():
            raise UnknownLanguageError(str(query), (), "Give an ISO 639 code, a BCP-47 tag or an English name.")
        code = self._resolve(query, context, names)
        return self._finish(code, resolve_macro)

    def find(
        self, query: str, *, context: str | None = None, resolve_macro: bool = True, names: bool = True
    ) -> Language | None:
        """Like :meth:`lookup` but returns ``None`` instead of raising."""
        try:
            return self.lookup(query, context=context, resolve_macro=resolve_macro, names=names)
        except UnknownLanguageError:
            return None

    def bcp47_to_iso(self, tag: str, *, resolve_macro: bool = True, context: str | None = None) -> str:
        """ISO 639-3 code for a BCP-47 tag (or any query :meth:`lookup` accepts): ``"ar-MA" -> "ary"``."""
        return self.lookup(tag, context=context, resolve_macro=resolve_macro).iso639_3

    def _contexts(self, context: str | None) -> list[str]:
        if not context:
            return []
        out = [context]
        base = context.rstrip("0123456789_-")
        if base and base != context:
            out.append(base)
        return out

    def _resolve(self, query: str, context: str | None, names: bool = True) -> tuple[str, str, str]:
        """Return ``(code, script, region)``; script and region (lower-cased) come from a BCP-47 tag."""
        ck = _code_key(query)
        nk = name_key(query)
        for ctx in self._contexts(context):
            table = self._aliases.get(ctx)
            if table:
                hit = table.get(ck) or table.get(nk)
                if hit:
                    return self._alias_target(query, hit), "", ""
        direct = self._code(ck)
        if direct is not None:
            return direct, "", ""
        code = None
        if "-" in ck:  # a hyphenated name ("Lo-Toga") before a tag of the same shape
            code = self._name_index().get(nk) if nk and names else None
            if code is None:
                tag = self._parse_tag(ck)
                if tag is not None:
                    return tag
        if code is None and nk and names:
            code = self._name_index().get(nk)
        if code is None and nk and names:
            code = self._folded_index().get(_folded_key(nk))
        if code is None:
            raise UnknownLanguageError(query, self._suggest(query), self._hint(context))
        return code, "", ""

    def _alias_target(self, query: str, hit: tuple[str, str]) -> str:
        target, note = hit
        if not target:
            refs = [c for c in _RETIRED_REF.findall(note) if c in self._langs]
            raise UnknownLanguageError(query, [self._fmt(c) for c in dict.fromkeys(refs)], note)
        return target

    def _code(self, ck: str) -> str | None:
        """Exact code: catalog code, ISO 639-1, then a global alias (639-2/B, retired, grandfathered tags)."""
        if ck in self._langs:
            return ck
        if ck in self._iso1:
            return self._iso1[ck]
        hit = self._aliases.get("", {}).get(ck)
        if hit is not None:
            return self._alias_target(ck, hit)
        return None

    def _parse_tag(self, ck: str) -> tuple[str, str, str] | None:
        """BCP-47 ``lang[-extlang][-Script][-REGION][-variant...][-x-...]`` -> (code, script, region)."""
        parts = ck.split("-")
        if len(parts) < 2 or not (2 <= len(parts[0]) <= 3) or not parts[0].isalpha():
            return None
        base = self._code(parts[0])
        if base is None:
            return None
        script = region = ""
        i = 1
        while i < len(parts) and len(parts[i]) == 3 and parts[i].isalpha() and i <= 3 and not script:
            # extlang (zh-yue, ar-arz): a member of the macrolanguage named before it
            ext = self._langs.get(parts[i])
            if ext is None or ext.macrolanguage != base:
                return None
            base = ext.iso639_3
            i += 1
        if i < len(parts) and len(parts[i]) == 4 and parts[i].isalpha():
            if parts[i] not in self._scripts and not re.fullmatch(r"q[a-b][a-z]{2}|z[xyz]{3}", parts[i]):
                return None
            script = parts[i]
            i += 1
        if i < len(parts) and (
            (len(parts[i]) == 2 and parts[i].isalpha()) or (len(parts[i]) == 3 and parts[i].isdigit())
        ):
            region = parts[i]
            i += 1
        while i < len(parts):
            p = parts[i]
            if len(p) == 1:  # extension or private use: the rest does not change the language
                break
            if not ((5 <= len(p) <= 8 and p.isalnum()) or (len(p) == 4 and p[0].isdigit() and p.isalnum())):
                return None
            i += 1
        return base, script, region

    def _finish(self, resolved: tuple[str, str, str], resolve_macro: bool) -> Language:
        code, script, region = resolved
        lang = self._langs[code]
        if not resolve_macro or lang.scope != "M":
            return lang
        macro = self._aliases.get(MACRO_CONTEXT, {})
        if script or region:
            for short in dict.fromkeys(s for s in (lang.iso639_1, lang.iso639_3) if s):
                keys = [f"{short}-{script}-{region}"] if script and region else []
                keys += [f"{short}-{x}" for x in (region, script) if x]
                for k in keys:
                    hit = macro.get(k)
                    if hit and hit[0]:
                        return self._langs[hit[0]]
        hit = macro.get(code)
        if hit and hit[0]:
            return self._langs[hit[0]]
        return lang

    # ------------------------------------------------------------------ names
    def _name_entries(self) -> Iterator[tuple[str, tuple, str]]:
        """Every (name, rank, code); lower rank wins when two languages share a name."""
        for code, raw in self._raw.items():
            lang = self._langs[code]
            common = (_SCOPE_RANK.get(lang.scope, 9), -(lang.speakers or 0), code)
            yield raw[1], (0, 0, *common), code
            for pos, alt in enumerate(raw[16].split("|")):
                if alt:
                    yield alt, (1, pos, *common), code
            if raw[15]:
                yield raw[15], (2, 0, *common), code

    def _name_index(self) -> dict[str, str]:
        if self._names is None:
            best: dict[str, tuple] = {}
            folded: dict[str, tuple] = {}
            search: list[tuple[str, str]] = []
            for name, rank, code in self._name_entries():
                key = name_key(name)
                if not key:
                    continue
                search.append((key, code))
                cur = best.get(key)
                if cur is None or rank < cur[0]:
                    best[key] = (rank, code)
                fk = _folded_key(key)
                cur = folded.get(fk)
                if cur is None or rank < cur[0]:
                    folded[fk] = (rank, code)
            self._names = {k: v[1] for k, v in best.items()}
            self._folded = {k: v[1] for k, v in folded.items()}
            self._search_keys = search
        return self._names

    def _folded_index(self) -> dict[str, str]:
        self._name_index()
        assert self._folded is not None
        return self._folded

    # ------------------------------------------------------------------ search & suggestions
    def _fmt(self, code: str) -> str:
        return f"{code} ({self._langs[code].name})"

    def _hint(self, context: str | None) -> str:
        if context and context not in self._aliases and self._contexts(context)[-1] not in self._aliases:
            known = [c for c in self.contexts if c and c != MACRO_CONTEXT]
            return f"(No aliases for context {context!r}; known contexts: {', '.join(known)}.)"
        return ""

    def _suggest(self, query: str, n: int = 5) -> list[str]:
        """Close codes (for code-like queries) and close names, most-spoken first among equals."""
        ck = _code_key(query)
        nk = name_key(query)
        scored: dict[str, float] = {}
        if 2 <= len(ck) <= 4 and ck.isalnum():
            for c in difflib.get_close_matches(ck, list(self._langs), n=40, cutoff=0.6):
                scored[c] = difflib.SequenceMatcher(None, ck, c).ratio()
        if nk and len(nk) > 3:
            index = self._name_index()
            for key in difflib.get_close_matches(nk, list(index), n=10, cutoff=0.75):
                c = index[key]
                scored[c] = max(scored.get(c, 0.0), difflib.SequenceMatcher(None, nk, key).ratio() + 0.01)
        ranked = sorted(scored, key=lambda c: (-round(scored[c], 2), -(self._langs[c].speakers or 0), c))
        return [self._fmt(c) for c in ranked[:n]]

    def search(self, text: str, limit: int = 20) -> list[Language]:
        """Languages whose code or a name matches ``text``: exact, prefix, word, substring,
        then fuzzy matches; most-spoken first within each group.

        >>> [l.iso639_3 for l in get_catalog().search("swahili", limit=3)][0]
        'swh'
        """
        nk = name_key(text)
        ck = _code_key(text)
        if not nk:
            return []
        self._name_index()
        assert self._search_keys is not None
        best: dict[str, int] = {}

        def add(code: str, score: int) -> None:
            if score < best.get(code, 99):
                best[code] = score

        hit = self.find(text)
        if hit is not None:
            add(hit.iso639_3, 0)
        if ck in self._langs:
            add(ck, 0)
        for key, code in self._search_keys:
            if nk not in key:
                continue
            if key == nk:
                add(code, 1)
            elif key.startswith(nk):
                add(code, 2)
            elif f" {nk}" in f" {key}":
                add(code, 3)
            else:
                add(code, 4)
        if len(best) < limit:
            keys = [k for k, _ in self._search_keys]
            for key in difflib.get_close_matches(nk, list(dict.fromkeys(keys)), n=limit, cutoff=0.7):
                add(self._names[key], 5)  # type: ignore[index]
        ranked = sorted(best, key=lambda c: (best[c], -(self._langs[c].speakers or 0), c))
        return [self._langs[c] for c in ranked[:limit]]

    def filter(
        self,
        *,
        family: str | None = None,
        genus: str | None = None,
        script: str | None = None,
        macroarea: str | None = None,
        scope: str | None = None,
    ) -> list[Language]:
        """Languages matching every given field (case-insensitive; ``script`` matches any listed script)."""
        fam = name_key(family) if family else None
        gen = name_key(genus) if genus else None
        area = name_key(macroarea) if macroarea else None
        scr = script.lower() if script else None
        out = []
        for lang in self._langs.values():
            if fam is not None and name_key(lang.family) != fam:
                continue
            if gen is not None and name_key(lang.genus) != gen:
                continue
            if area is not None and name_key(lang.macroarea) != area:
                continue
            if scr is not None and scr not in (s.lower() for s in lang.scripts):
                continue
            if scope is not None and lang.scope != scope:
                continue
            out.append(lang)
        return out


def _check_language_fields(f: Sequence[str]) -> str:
    """Why a languages.tsv row is invalid ('' when it is fine)."""
    if not f[0]:
        return "empty iso639_3"
    if not f[1]:
        return f"{f[0]}: empty name"
    if f[13] not in _SCOPES:
        return f"{f[0]}: scope {f[13]!r} is not one of {sorted(_SCOPES)}"
    if f[6] and not f[6].isdigit():
        return f"{f[0]}: speakers {f[6]!r} is not a whole number"
    for col in (9, 10):
        if f[col]:
            try:
                float(f[col])
            except ValueError:
                return f"{f[0]}: {LANGUAGE_COLUMNS[col]} {f[col]!r} is not a number"
    return ""


def _language_from_fields(f: Sequence[str]) -> Language:
    return Language(
        iso639_3=f[0],
        name=f[1],
        iso639_1=f[2],
        family=f[3],
        genus=f[4],
        scripts=tuple(f[5].split()),
        speakers=int(f[6]) if f[6] else None,
        endangerment=f[7],
        macroarea=f[8],
        latitude=float(f[9]) if f[9] else None,
        longitude=float(f[10]) if f[10] else None,
        glottocode=f[11],
        macrolanguage=f[12],
        scope=f[13],
        endonym=f[15],
    )


@functools.lru_cache(maxsize=None)
def get_catalog() -> LanguageCatalog:
    """The catalog from :func:`resources_dir`, loaded once per process.

    Call ``get_catalog.cache_clear()`` after changing ``$LEXICONLM_RESOURCES``.
    """
    return LanguageCatalog.from_dir()
