"""Bilingual lexicons: GATITOS, Wiktionary (WECHSEL), MUSE, PanLex extractions, generic TSV.

All formats hold one translation pair per line. :func:`read_lexicon` reads one
file into a :class:`~lexiconlm.types.Lexicon`, :func:`read_lexicons` reads many
(a directory, or a list of files) in parallel, :func:`write_lexicon` writes one
atomically, and :func:`detect_lexicon_format` tells which format a file is in.

Formats (see ``docs/formats-lexicons-text.md`` for the full rules):

``gatitos``
    ``en_<bcp47>.tsv``: ``source<TAB>target``, no header. Source is English,
    the target language comes from the BCP-47 code in the file name (looked up
    with the catalog's ``"gatitos"`` context). Translator annotations such as
    ``"ayuda (verb)"`` stay in the text; a final ``(verb)``, ``(noun)``,
    ``(adj)``, ``(adverb)`` ... annotation also sets ``pos`` (``VERB``,
    ``NOUN``, ``ADJ``, ``ADV``).
``wiktionary``
    ``<english language name>.txt`` (``swahili.txt``, ``ancient_greek.txt``):
    ``english<TAB>target``, no header. Source is English, the target language
    comes from the name.
``muse``
    ``<src>-<tgt>.txt`` or ``<src>-<tgt>.<from>-<to>.txt`` (``en-de.0-5000.txt``):
    one pair per line separated by a space or a tab (a tab wins when there is
    one, so tab-separated pairs may hold multi-word entries).
``panlex``
    PanLex extractions: an optional header naming the columns (language-variety
    uids such as ``eng-000`` / ``swh-000``, or ``source`` / ``target`` names,
    plus an optional ``score`` / ``quality`` / ``trans_quality`` column read as
    ``weight``); without a header ``source<TAB>target[<TAB>weight]``. Languages
    come from the uids in the header or from file names such as
    ``eng-000_swh-000.tsv``, ``eng_swh_lexicon.txt`` or ``eng2swh.txt``.
``tsv``
    Generic: ``source<TAB>target[<TAB>pos[<TAB>weight]]`` with an optional header
    (``source``, ``target``, ``pos``, ``weight`` in any order; extra named
    columns are ignored with a warning). What :func:`write_lexicon` writes.

What every reader does (``errors="raise"`` collects everything, then raises one
:class:`~lexiconlm.errors.DataFormatError`; ``errors="collect"`` returns the
good entries with :attr:`Lexicon.problems`):

* lines go through :func:`lexiconlm.files.read_lines` (BOM, CRLF, NFC,
  invalid UTF-8 and binary files are handled there);
* each field is stripped of surrounding whitespace (one warning per file counts
  the lines); inner spaces, quotes, ``null`` and ``NA`` are kept as written;
* blank lines are skipped (one warning per file counts them);
* a wrong number of fields, an empty source or target, or a weight that is not
  a finite number is an *error* for that line, which is not read;
* exact duplicates are removed (``dedupe=True``) and counted in
  :attr:`Lexicon.n_duplicates`.

So for every file: entries + duplicates + blank lines + lines with an error
equals the number of lines (less the header line, if any).

Why one module of about 1090 lines: five lexicon formats (GATITOS, Wiktionary, MUSE, PanLex,
TSV) share one entry validator, one language resolution and one writer; each format is a short
section.
"""

from __future__ import annotations

import gc
import math
import multiprocessing as mp
import os
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from lexiconlm.errors import DataFormatError, LexiconLMError, Problem
from lexiconlm.files import (
    ErrorPolicy,
    ProblemLog,
    atomic_write_text,
    check_errors_policy,
    preview,
    read_head,
    read_lines,
)
from lexiconlm.io._base import LanguageSpec, check_round_trip, explicit_language, lookup_language
from lexiconlm.languages import get_catalog
from lexiconlm.types import Language, Lexicon, LexiconEntry, Provenance

__all__ = [
    "LEXICON_FORMATS",
    "WRITE_FORMATS",
    "LanguageSpec",
    "detect_lexicon_format",
    "gatitos_pos",
    "iter_lexicon_files",
    "merge_lexicons",
    "read_lexicon",
    "read_lexicons",
    "write_lexicon",
]

LEXICON_FORMATS = ("gatitos", "wiktionary", "muse", "panlex", "tsv")
WRITE_FORMATS = ("tsv", "muse")

# Who publishes each format and under which licence they state (Provenance.source / .license).
_PUBLISHER = {
    "gatitos": ("GATITOS", "CC-BY-4.0"),
    "wiktionary": ("Wiktionary", "CC-BY-SA-3.0"),
    "muse": ("MUSE", "CC-BY-NC-4.0"),
    "panlex": ("PanLex", "CC0-1.0"),
    "tsv": ("", ""),
}

# --------------------------------------------------------------------------- file names

_GATITOS_NAME = re.compile(r"^en_(?P<tgt>[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\.tsv$")
_MUSE_NAME = re.compile(r"^(?P<src>[a-z]{2,3})-(?P<tgt>[a-z]{2,3})(?:\.\d+-\d+)?\.txt$")
_PANLEX_NAMES = (
    # eng-000_swh-000.tsv, eng-000.swh-000.txt, eng-000-swh-000.tsv
    re.compile(r"^(?P<src>[a-z]{3})-\d{3}[_.\-](?P<tgt>[a-z]{3})-\d{3}(?:[._].*)?\.(?:tsv|txt)$"),
    # eng_swh_lexicon.txt (the PanLex extraction script of lexicon-based adaptation work)
    re.compile(r"^(?P<src>[a-z]{3})_(?P<tgt>[a-z]{3})_lexicon\.(?:tsv|txt)$"),
    # eng2swh.txt (PanLex API dictionary tools)
    re.compile(r"^(?P<src>[a-z]{3})2(?P<tgt>[a-z]{3})\.(?:tsv|txt)$"),
)
# Generic TSV named by its language pair: en_sw.tsv, eng-swh.tsv, en_sw.dict.tsv
_PAIR_NAME = re.compile(r"^(?P<src>[a-z]{2,3})[_\-](?P<tgt>[a-z]{2,3})(?:\..+)?\.(?:tsv|txt)$")
# Wiktionary (as staged): lower-case language name, words joined by "_", e.g. ancient_greek.txt
_WIKTIONARY_NAME = re.compile(r"^[^\W\d]+\.txt$")

_LANGVAR_UID = re.compile(r"^(?P<code>[a-z]{3})-\d{3}$")

# Files a directory may hold beside its lexicons; never read as lexicons by iter_lexicon_files.
_NOT_LEXICONS = {
    "languages.tsv",
    "index.tsv",
    "metadata.tsv",
    "metadata.csv",
    "staged_files.tsv",
    "readme.txt",
    "license.txt",
    "licence.txt",
    "provenance.txt",
    "notes.txt",
}

# --------------------------------------------------------------------------- headers

_SOURCE_COLUMNS = {
    "source",
    "src",
    "source_word",
    "src_word",
    "source_text",
    "src_text",
    "source_txt",
    "txt",
    "expr",
}
_TARGET_COLUMNS = {
    "target",
    "tgt",
    "trg",
    "target_word",
    "tgt_word",
    "trg_word",
    "target_text",
    "tgt_text",
    "target_txt",
    "trans_txt",
    "translation",
}
_POS_COLUMNS = {"pos", "part_of_speech", "upos"}
#: Columns this package writes beside the entries (``write_lexicon(columns=...)``): read
#: past without a warning.
ANNOTATION_COLUMNS = frozenset({"provenance", "links", "source_freq", "sources", "corpus"})
_WEIGHT_COLUMNS = {
    "weight",
    "score",
    "quality",
    "trans_quality",
    "trans_qual",
    "qual",
    "uq",
    "prob",
    "probability",
    "freq",
    "frequency",
    "count",
}
# Names that only PanLex exports use: a header with one of them is a PanLex file.
_PANLEX_ONLY = {
    "txt",
    "expr",
    "trans_txt",
    "trans_quality",
    "trans_qual",
    "uq",
    "langvar",
    "langvar_uid",
}


@dataclass(frozen=True)
class _Columns:
    """Where source, target, pos and weight are in the rows of a file with a header."""

    n_fields: int
    source: int
    target: int
    pos: int | None = None
    weight: int | None = None
    src_code: str = ""
    tgt_code: str = ""
    ignored: tuple[str, ...] = ()
    panlex: bool = False


def _parse_header(line: str) -> _Columns | None:
    """The column layout if ``line`` is a header row (names source and target columns)."""
    names = [f.strip().lower() for f in line.split("\t")]
    if len(names) < 2 or len(set(names)) != len(names):
        return None
    source = target = pos = weight = None
    src_code = tgt_code = ""
    ignored: list[str] = []
    panlex = False
    for i, name in enumerate(names):
        uid = _LANGVAR_UID.match(name)
        if uid:
            panlex = True
            if source is None:
                source, src_code = i, uid["code"]
            elif target is None:
                target, tgt_code = i, uid["code"]
            else:
                return None
        elif name in _SOURCE_COLUMNS and source is None:
            source = i
        elif name in _TARGET_COLUMNS and target is None:
            target = i
        elif name in _POS_COLUMNS and pos is None:
            pos = i
        elif name in _WEIGHT_COLUMNS and weight is None:
            weight = i
        elif name and re.fullmatch(r"[a-z][a-z0-9_ \-]*", name):
            ignored.append(line.split("\t")[i].strip())
        else:
            return None
        panlex = panlex or name in _PANLEX_ONLY
    if source is None or target is None:
        return None
    return _Columns(len(names), source, target, pos, weight, src_code, tgt_code, tuple(ignored), panlex)


# --------------------------------------------------------------------------- detection


def _name_format(name: str) -> str | None:
    """The format a file name alone implies (None when the name says nothing)."""
    if _GATITOS_NAME.match(name):
        return "gatitos"
    if _MUSE_NAME.match(name):
        return "muse"
    if any(p.match(name) for p in _PANLEX_NAMES):
        return "panlex"
    return None


def _sniff(path: Path, sample: Sequence[str]) -> str:
    """Decide the format from the file name and the first non-blank lines (see detect_lexicon_format)."""
    name = unicodedata.normalize("NFC", path.name)
    if not sample:
        return _name_format(name) or ("wiktionary" if _is_wiktionary_name(name) else "tsv")
    header = _parse_header(sample[0])
    if header is not None:
        return "panlex" if header.panlex or _name_format(name) == "panlex" else "tsv"
    tabs = [line.count("\t") for line in sample]
    most = max(set(tabs), key=lambda n: (tabs.count(n), n))  # a tie goes to more tabs
    by_name = _name_format(name)
    if most == 0:
        if all(len(line.split()) == 2 for line in sample[:5]) or by_name == "muse":
            return "muse"
        if by_name:
            return by_name  # a broken file with a telling name: each line will say what is wrong
        raise DataFormatError.single(
            str(path),
            1,
            "does not look like a lexicon: no tab-separated source and target",
            "a lexicon has one pair per line, `source<TAB>target`; pass format=... if it is one",
        )
    if most == 1:
        if by_name:
            return by_name
        return "wiktionary" if _is_wiktionary_name(name) else "tsv"
    if most <= 3:
        return "panlex" if by_name == "panlex" and most == 2 else "tsv"
    raise DataFormatError.single(
        str(path),
        1,
        f"does not look like a lexicon: the first lines have {most + 1} tab-separated fields "
        "and no header naming source and target columns",
        "expected `source<TAB>target[<TAB>pos[<TAB>weight]]`, or a header row such as `source<TAB>target<TAB>weight`",
    )


def _is_wiktionary_name(name: str) -> bool:
    return bool(_WIKTIONARY_NAME.match(name)) and name == name.lower()


def detect_lexicon_format(path: str | os.PathLike) -> str:
    """Tell which lexicon format a file is in, from its name and its first lines.

    Rules, in order:

    1. A first line that names a source and a target column is a header:
       ``panlex`` if it holds a language-variety uid (``eng-000``) or a PanLex
       column name (``txt``, ``trans_txt``, ``trans_quality``), or the file name is
       a PanLex name; ``tsv`` otherwise.
    2. Lines without any tab, split by spaces into two words: ``muse``.
    3. Lines with one tab: by file name: ``en_<bcp47>.tsv`` is ``gatitos``,
       ``<src>-<tgt>[.<from>-<to>].txt`` is ``muse``, ``eng-000_swh-000.tsv``,
       ``eng_swh_lexicon.txt`` and ``eng2swh.txt`` are ``panlex``, a lower-case
       language name ``<name>.txt`` (``swahili.txt``, ``ancient_greek.txt``) is
       ``wiktionary``; anything else is ``tsv``.
    4. Lines with two or three tabs: ``tsv`` (``panlex`` with a PanLex file name
       and three columns, the third read as a weight).

    Most of the first 50 non-blank lines decide the tab count, so one broken line
    near the top does not change the format.

    Args:
        path: the file.

    Returns:
        One of :data:`LEXICON_FORMATS`.

    Raises:
        DataFormatError: the file cannot be read, or does not look like a lexicon
            (no tab and not two words per line, or more than four columns without
            a header).

    Example:
        >>> detect_lexicon_format("data/lexicons/gatitos/en_ar-MA.tsv")  # doctest: +SKIP
        'gatitos'
    """
    p = Path(path)
    return _sniff(p, read_head(p, 50, dir_hint="use read_lexicons(DIR) for a directory"))


# --------------------------------------------------------------------------- languages


def _inferred_language(query: str, role: str, context: str | None, log: ProblemLog, origin: str) -> Language:
    """Resolve a code or name read from the file; unknown ones become Language.unknown + a warning."""
    lang, why = lookup_language(query, context)
    if lang is not None:
        return lang
    arg = "src" if role == "source" else "tgt"
    log.warning(
        None,
        f"{role} language {query!r} ({origin}) is not in the language catalog; "
        f"kept as an unknown language. {why}".rstrip(),
        f"pass the language explicitly, e.g. read_lexicon({log.path!r}, {arg}='<ISO 639-3 code>')",
    )
    return Language.unknown(query)


def _languages(
    path: Path,
    fmt: str,
    columns: _Columns | None,
    src: LanguageSpec,
    tgt: LanguageSpec,
    context: str | None,
    log: ProblemLog,
) -> tuple[Language, Language]:
    """Source and target languages: explicit ones win, else the header, the file name, English."""
    src_lang = explicit_language(src, context)
    tgt_lang = explicit_language(tgt, context)
    if src_lang is not None and tgt_lang is not None:
        return src_lang, tgt_lang
    name = unicodedata.normalize("NFC", path.name)
    src_q = tgt_q = ""
    origin = "from the file name"
    ctx = context
    # The implied English source is resolved without the resource's alias context: in a
    # context such as "wiktionary", "en" is the name of another language (En, enc).
    src_ctx: str | None = ctx
    if columns is not None and (columns.src_code or columns.tgt_code):
        src_q, tgt_q, origin = columns.src_code, columns.tgt_code, "from the header"
    elif fmt == "gatitos":
        m = _GATITOS_NAME.match(name)
        src_q, tgt_q, src_ctx = "eng", (m["tgt"] if m else ""), None
        ctx = context or "gatitos"
    elif fmt == "wiktionary":
        src_q, tgt_q, src_ctx = "eng", (name[:-4] if name.endswith(".txt") else path.stem), None
    else:
        for pattern in (_MUSE_NAME, *_PANLEX_NAMES):
            m = pattern.match(name)
            if m:
                src_q, tgt_q = m["src"], m["tgt"]
                break
        else:
            # A generic <src>_<tgt>.tsv name counts only when both parts are languages.
            m = _PAIR_NAME.match(name)
            if m and lookup_language(m["src"], ctx)[0] and lookup_language(m["tgt"], ctx)[0]:
                src_q, tgt_q = m["src"], m["tgt"]
        if not src_q and fmt == "muse":
            src_q, src_ctx = "eng", None
    if src_lang is None:
        if src_q:
            src_lang = _inferred_language(src_q, "source", src_ctx, log, origin)
        else:
            src_lang = Language.unknown("")
            _warn_unnamed(log, "source", "src")
    if tgt_lang is None:
        if tgt_q:
            tgt_lang = _inferred_language(tgt_q, "target", ctx, log, origin)
        else:
            tgt_lang = Language.unknown(path.stem)
            _warn_unnamed(log, "target", "tgt")
    return src_lang, tgt_lang


def _warn_unnamed(log: ProblemLog, role: str, arg: str) -> None:
    log.warning(
        None,
        f"the {role} language cannot be told from the file name or a header; kept as unknown",
        f"pass it explicitly, e.g. read_lexicon({log.path!r}, {arg}='<ISO 639-3 code>'), or name "
        "the file <src>_<tgt>.tsv",
    )


# --------------------------------------------------------------------------- GATITOS annotations

# A final parenthesised word that a translator added to say which sense is meant.
_GATITOS_POS_RE = re.compile(r"\s\((verb|noun|adj|adjective|adv|adverb)\)$", re.IGNORECASE)
_GATITOS_POS = {
    "verb": "VERB",
    "noun": "NOUN",
    "adj": "ADJ",
    "adjective": "ADJ",
    "adv": "ADV",
    "adverb": "ADV",
}


def gatitos_pos(target: str) -> str | None:
    """The UD part of speech a GATITOS translator annotation gives, if the target ends in one.

    Only a final ``(verb)``, ``(noun)``, ``(adj)``/``(adjective)`` or ``(adv)``/``(adverb)``
    after a space counts; other notes such as ``(masculine)`` or ``(e)`` give ``None``.

    >>> gatitos_pos("ayuda (verb)")
    'VERB'
    >>> gatitos_pos("abzorb(e)") is None
    True
    """
    if not target.endswith(")"):
        return None
    m = _GATITOS_POS_RE.search(target)
    return _GATITOS_POS[m.group(1).lower()] if m else None


# --------------------------------------------------------------------------- reading


def _parse_weight(text: str) -> float | None | str:
    """A finite float, None for an empty field, or the error message."""
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return f"weight {text!r} is not a number"
    if not math.isfinite(value):
        return f"weight {text!r} is not a finite number"
    return value


@dataclass
class _Parsed:
    """One file read, before its entries are built.

    Entries travel as two columns of text (joined with ``\\n``, which no field can
    hold) plus the few pos/weight values: between processes that pickles over ten
    times faster than the same number of :class:`LexiconEntry` objects.
    """

    src: Language
    tgt: Language
    provenance: Provenance
    problems: tuple[Problem, ...]
    n_duplicates: int
    n: int
    sources: list[str] | str
    targets: list[str] | str
    extras: dict[int, tuple[str | None, float | None]]

    @classmethod
    def unread(cls, provenance: Provenance, problems: Iterable[Problem]) -> _Parsed:
        """A file that is not a lexicon or cannot be read: no entries, only its problems."""
        empty = Language.unknown("")
        return cls(empty, empty, provenance, tuple(problems), 0, 0, [], [], {})

    def pack(self) -> _Parsed:
        if isinstance(self.sources, list):
            self.sources = "\n".join(self.sources)
            self.targets = "\n".join(self.targets)  # type: ignore[arg-type]
        return self

    def build(self) -> Lexicon:
        sources, targets = self.sources, self.targets
        if isinstance(sources, str):
            sources = sources.split("\n") if self.n else []
            targets = targets.split("\n") if self.n else []  # type: ignore[union-attr]
        Entry = LexiconEntry
        entries = list(map(Entry, sources, targets))
        for i, (pos, weight) in self.extras.items():
            entries[i] = Entry(sources[i], targets[i], pos, weight)
        return Lexicon(
            src=self.src,
            tgt=self.tgt,
            entries=tuple(entries),
            provenance=self.provenance,
            problems=self.problems,
            n_duplicates=self.n_duplicates,
        )


_Rows = tuple[list[str], list[str], dict[int, tuple[str | None, float | None]], int]


def _annotations(targets: Sequence[str]) -> dict[int, tuple[str | None, float | None]]:
    """pos of the GATITOS targets that end in a part-of-speech annotation."""
    out: dict[int, tuple[str | None, float | None]] = {}
    for i, t in enumerate(targets):
        if t[-1] == ")":
            pos = gatitos_pos(t)
            if pos:
                out[i] = (pos, None)
    return out


def _parse_fast(body: list[tuple[int, str]], muse: bool, annotate: bool, dedupe: bool) -> _Rows | None:
    """Whole-file checks for the common clean two-column file; None sends it to _parse_lines.

    Every line must split into exactly two non-empty fields without surrounding
    whitespace (so there is nothing to report); the checks run over whole columns
    in C, several times faster than testing line by line.
    """
    if not body:
        return None
    if muse:
        rows = [ln.split("\t") if "\t" in ln else ln.split() for _, ln in body]
    else:
        rows = [ln.split("\t") for _, ln in body]
    if max(map(len, rows)) != 2 or min(map(len, rows)) != 2:
        return None
    srcs, tgts = zip(*rows)
    if not (all(srcs) and all(tgts)):
        return None
    strip = str.strip
    if tuple(map(strip, srcs)) != srcs or tuple(map(strip, tgts)) != tgts:
        return None
    n_dup = 0
    if dedupe:
        unique = dict.fromkeys(zip(srcs, tgts))
        n_dup = len(srcs) - len(unique)
        if n_dup:
            srcs, tgts = zip(*unique)
    sources, targets = list(srcs), list(tgts)
    extras = _annotations(targets) if annotate else {}
    return sources, targets, extras, n_dup


_FIELD_HINT = (
    "put exactly one tab between the fields; a line with a single field is often "
    "a translation that was broken off the line above"
)


def _parse_lines(
    body: list[tuple[int, str]],
    fmt: str,
    columns: _Columns | None,
    annotate: bool,
    dedupe: bool,
    log: ProblemLog,
) -> tuple[_Rows, list[int], list[int]]:
    """Line-by-line reading that reports every problem; also returns blank and stripped lines."""
    sources: list[str] = []
    targets: list[str] = []
    extras: dict[int, tuple[str | None, float | None]] = {}
    seen: set = set()
    n_dup = 0
    blank: list[int] = []
    stripped: list[int] = []
    error = log.error
    n_fields = columns.n_fields if columns is not None else 0
    if columns is not None:
        ranges = f"{n_fields} tab-separated fields, as in the header"
    elif fmt == "tsv":
        ranges = "2 to 4 tab-separated fields (source, target[, pos[, weight]])"
    elif fmt == "panlex":
        ranges = "2 or 3 tab-separated fields (source, target[, weight])"
    elif fmt == "muse":
        ranges = "2 fields (source and target) separated by a space or a tab"
    else:
        ranges = "2 tab-separated fields (source, target)"
    simple = columns is None and fmt in ("gatitos", "wiktionary", "muse")

    for no, line in body:
        if not line or line.isspace():
            blank.append(no)
            continue
        if fmt == "muse" and "\t" not in line:
            parts = line.split()
        else:
            parts = line.split("\t")
        n = len(parts)
        pos = weight = None
        if simple:
            if n != 2:
                error(no, f"expected {ranges}, got {n}: {preview(line)}", _FIELD_HINT)
                continue
            s, t = parts
        elif columns is not None:
            if n != n_fields:
                error(no, f"expected {ranges}, got {n}: {preview(line)}", _FIELD_HINT)
                continue
            s, t = parts[columns.source], parts[columns.target]
            if columns.pos is not None:
                pos = parts[columns.pos].strip() or None
            if columns.weight is not None:
                weight = _parse_weight(parts[columns.weight].strip())
        elif fmt == "tsv":
            if not 2 <= n <= 4:
                error(no, f"expected {ranges}, got {n}: {preview(line)}", _FIELD_HINT)
                continue
            s, t = parts[0], parts[1]
            if n > 2:
                pos = parts[2].strip() or None
            if n > 3:
                weight = _parse_weight(parts[3].strip())
        else:  # panlex without a header
            if not 2 <= n <= 3:
                error(no, f"expected {ranges}, got {n}: {preview(line)}", _FIELD_HINT)
                continue
            s, t = parts[0], parts[1]
            if n > 2:
                weight = _parse_weight(parts[2].strip())
        if isinstance(weight, str):
            error(no, weight, "use a decimal number such as 0.75, or leave the field empty")
            continue
        ss = s.strip()
        ts = t.strip()
        if len(ss) != len(s) or len(ts) != len(t):
            stripped.append(no)
            s, t = ss, ts
        if not s or not t:
            what = "source and target" if not s and not t else ("source" if not s else "target")
            error(no, f"empty {what}: {preview(line)}", "fill in the missing word or delete the line")
            continue
        if annotate and t[-1] == ")":
            pos = gatitos_pos(t)
        if dedupe:
            key = (s, t, pos, weight)
            if key in seen:
                n_dup += 1
                continue
            seen.add(key)
        if pos is not None or weight is not None:
            extras[len(sources)] = (pos, weight)
        sources.append(s)
        targets.append(t)
    return (sources, targets, extras, n_dup), blank, stripped


def _check_format(fmt: str) -> None:
    if fmt != "auto" and fmt not in LEXICON_FORMATS:
        raise ValueError(f"unknown lexicon format {fmt!r}; choose one of {', '.join(LEXICON_FORMATS)} or 'auto'")


def _parse_file(
    path: Path,
    fmt: str,
    src: LanguageSpec,
    tgt: LanguageSpec,
    dedupe: bool,
    context: str | None,
) -> _Parsed:
    """Read one file, collecting every problem (the policy is applied by the caller)."""
    raw = read_lines(path)
    log = raw.log
    lines = raw.lines
    if fmt == "auto":
        sample = [ln for _, ln in lines[:200] if ln and not ln.isspace()][:50]
        try:
            fmt = _sniff(path, sample)
        except DataFormatError as exc:
            log.items.extend(exc.problems)
            return _Parsed.unread(raw.provenance("unknown"), log.items)
    else:
        _check_format(fmt)

    # Header: generic TSV and PanLex files may start with one.
    columns: _Columns | None = None
    start = 0
    blank: list[int] = []
    if fmt in ("tsv", "panlex"):
        first = next(((k, ln) for k, (_, ln) in enumerate(lines) if ln and not ln.isspace()), None)
        if first is not None:
            columns = _parse_header(first[1])
            if columns is not None:
                start = first[0] + 1
                blank = [no for no, _ in lines[: first[0]]]  # blank lines above the header
                unknown = [c for c in columns.ignored if c.lower() not in ANNOTATION_COLUMNS]
                if unknown:
                    log.warning(
                        lines[first[0]][0],
                        f"column(s) {', '.join(unknown)} are not read",
                        "only source, target, pos and weight columns are used",
                    )
    src_lang, tgt_lang = _languages(path, fmt, columns, src, tgt, context, log)

    body = lines[start:]
    annotate = fmt == "gatitos"
    parsed = _parse_fast(body, fmt == "muse", annotate, dedupe) if columns is None else None
    stripped: list[int] = []
    if parsed is None:
        parsed, more_blank, stripped = _parse_lines(body, fmt, columns, annotate, dedupe, log)
        blank += more_blank
    sources, targets, extras, n_dup = parsed

    if stripped:
        log.warning(
            stripped[0],
            f"{len(stripped)} line(s) had whitespace around a field; it was removed (first at line {stripped[0]})",
        )
    if blank:
        log.warning(blank[0], f"{len(blank)} blank line(s) skipped (first at line {blank[0]})")
    if not sources and not log.n_errors and raw.n_lines:
        log.warning(None, "no entries: the file holds no translation pairs")
    source, license = _PUBLISHER[fmt]
    return _Parsed(
        src_lang,
        tgt_lang,
        raw.provenance(fmt, source=source, license=license),
        tuple(log.items),
        n_dup,
        len(sources),
        sources,
        targets,
        extras,
    )


def read_lexicon(
    path: str | os.PathLike,
    *,
    format: str = "auto",
    src: LanguageSpec = None,
    tgt: LanguageSpec = None,
    errors: ErrorPolicy = "raise",
    dedupe: bool = True,
    context: str | None = None,
) -> Lexicon:
    """Read one bilingual lexicon file.

    Args:
        path: the file.
        format: ``"auto"`` (see :func:`detect_lexicon_format`) or one of
            :data:`LEXICON_FORMATS`.
        src: the source language (a :class:`Language` or a code/name the catalog
            knows); overrides what the file name or header says. Defaults to English
            for GATITOS, Wiktionary and MUSE files.
        tgt: the target language, likewise; by default from the file name
            (``en_sw.tsv`` -> Swahili, ``swahili.txt`` -> Swahili) or a PanLex header.
        errors: ``"raise"`` raises one :class:`DataFormatError` listing every
            problem if any line has an error; ``"collect"`` returns the good entries
            with all problems in :attr:`Lexicon.problems`.
        dedupe: drop exact duplicate entries (counted in :attr:`Lexicon.n_duplicates`).
        context: catalog context for code quirks (``"gatitos"`` is the default for
            GATITOS files).

    Returns:
        The :class:`Lexicon`, entries in file order.

    Raises:
        DataFormatError: the file is missing, empty, binary, not a lexicon, or (with
            ``errors="raise"``) has bad lines; every problem is listed as
            ``file:line: message (fix: ...)``.
        UnknownLanguageError: an explicit ``src``/``tgt`` string is not in the catalog.
        ValueError: an unknown ``format`` or ``errors`` value.

    Example:
        >>> lex = read_lexicon("data/lexicons/wiktionary/swahili.txt")  # doctest: +SKIP
        >>> lex.tgt.iso639_3, lex.translations("journey")  # doctest: +SKIP
        ('swh', ['safari'])
    """
    check_errors_policy(errors)
    with _gc_paused():
        lexicon = _parse_file(Path(path), format, src, tgt, dedupe, context).build()
    if errors == "raise" and any(p.severity == "error" for p in lexicon.problems):
        raise DataFormatError(lexicon.problems)
    return lexicon


# --------------------------------------------------------------------------- many files


def iter_lexicon_files(directory: str | os.PathLike) -> list[Path]:
    """The lexicon files of a directory (``*.tsv`` and ``*.txt``), sorted by name.

    Metadata files that lexicon folders hold beside the lexicons (``languages.tsv``,
    ``index.tsv``, ``README``, ``PROVENANCE.md``, hidden files) are left out.
    """
    d = Path(directory)
    if not d.is_dir():
        raise DataFormatError.single(str(d), None, "not a directory", "give a folder of lexicon files")
    out = []
    for p in d.iterdir():
        name = p.name
        if name.startswith(".") or name.lower() in _NOT_LEXICONS:
            continue
        if p.suffix.lower() in (".tsv", ".txt") and p.is_file():
            out.append(p)
    return sorted(out, key=lambda q: q.name)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of acyclic records are built.

    Entries, tuples and strings hold no reference cycles, but every allocation
    counts towards a collection, and each full collection walks everything read
    so far: reading 2.5 M lines takes ~2.5 times longer with the collector on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse_job(args: tuple) -> _Parsed:
    """Read one file of :func:`read_lexicons`; an unreadable file becomes its problems."""
    path, fmt, src, tgt, dedupe, context = args
    try:
        return _parse_file(path, fmt, src, tgt, dedupe, context)
    except DataFormatError as exc:
        return _Parsed.unread(Provenance(str(path), "unknown"), exc.problems)


def _parse_job_packed(args: tuple) -> _Parsed:
    """Worker entry point (top level so that process pools can pickle it)."""
    with _gc_paused():
        return _parse_job(args).pack()


def read_lexicons(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    format: str = "auto",
    src: LanguageSpec = None,
    tgt: LanguageSpec = None,
    errors: ErrorPolicy = "raise",
    dedupe: bool = True,
    context: str | None = None,
    workers: int | None = None,
) -> list[Lexicon]:
    """Read many lexicon files, in parallel when there is enough to read.

    Args:
        paths: a directory (its :func:`iter_lexicon_files`), a file, or a list of
            files and directories.
        format, src, tgt, dedupe, context: as for :func:`read_lexicon`, applied to
            every file (leave ``tgt`` unset to take each file's own language).
        errors: ``"raise"`` reads every file, then raises one
            :class:`DataFormatError` listing the problems of all files if any has an
            error; ``"collect"`` returns every lexicon with its problems.
        workers: processes that read and check files while this one builds the
            entries; ``0`` reads everything in this process. ``None`` reads
            in-process on machines with fewer than 4 cores (where workers did not
            pay off reliably), else uses ``min(os.cpu_count() - 1, 4)`` workers
            when more than 4 MB are to be read.

    Returns:
        One :class:`Lexicon` per file, in the order of ``paths`` (directories sorted).

    Example:
        >>> lexicons = read_lexicons("data/lexicons/wiktionary")  # doctest: +SKIP
        >>> sum(len(lex) for lex in lexicons)  # doctest: +SKIP
        1703592
    """
    check_errors_policy(errors)
    _check_format(format)
    files = _expand(paths)
    src_lang = explicit_language(src, context)
    tgt_lang = explicit_language(tgt, context)
    jobs = [(f, format, src_lang, tgt_lang, dedupe, context) for f in files]
    n_workers = _n_workers(workers, files)
    with _gc_paused():
        if n_workers == 0:
            results = [_parse_job(job).build() for job in jobs]
        else:
            results = _read_parallel(jobs, n_workers)
    if errors == "raise":
        problems = [p for lex in results for p in lex.problems]
        if any(p.severity == "error" for p in problems):
            raise DataFormatError(problems)
    return results


def _expand(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        files.extend(iter_lexicon_files(p) if p.is_dir() else [p])
    return files


_MIN_CPUS_FOR_WORKERS = 4
_MAX_AUTO_WORKERS = 4
_MIN_BYTES_FOR_WORKERS = 4 << 20


def _n_workers(workers: int | None, files: Sequence[Path]) -> int:
    """Reading processes besides this one (0: read here).

    The workers read and check files while this process builds the entries, which
    it must do itself (building a LexiconEntry costs about as much as unpickling
    one). On two cores, 2.46 M lines took 4.0-4.5 s in one process and 3.1-3.8 s
    with one worker on an idle machine, but 4.8-8 s with one worker when other
    jobs shared the cores; so machines with fewer than four cores read in-process.
    """
    if workers is not None:
        return max(0, min(int(workers), len(files)))
    cpus = os.cpu_count() or 1
    if cpus < _MIN_CPUS_FOR_WORKERS or len(files) < 2:
        return 0
    total = 0
    for f in files:
        try:
            total += f.stat().st_size
        except OSError:
            pass
    return min(cpus - 1, _MAX_AUTO_WORKERS, len(files)) if total > _MIN_BYTES_FOR_WORKERS else 0


def _read_parallel(jobs: list[tuple], n_workers: int) -> list[Lexicon]:
    """Big files first over a process pool; results are put back in input order."""

    def size(job: tuple) -> int:
        try:
            return job[0].stat().st_size
        except OSError:
            return 0

    if mp.current_process().daemon:  # a pool worker cannot start a pool of its own
        return [_parse_job(job).build() for job in jobs]
    order = sorted(range(len(jobs)), key=lambda i: -size(jobs[i]))
    try:  # load the catalog once, before forking, so workers inherit it
        get_catalog()
    except (LexiconLMError, OSError):  # pragma: no cover - each worker reports it per file
        pass
    # fork is fast and shares the loaded catalog, but is unsafe once threads run.
    single_threaded = threading.active_count() == 1
    method = "fork" if single_threaded and "fork" in mp.get_all_start_methods() else None
    ctx = mp.get_context(method)
    results: list[Lexicon | None] = [None] * len(jobs)
    with ctx.Pool(n_workers) as pool:
        parsed = pool.imap(_parse_job_packed, [jobs[i] for i in order], chunksize=4)
        for i, one in zip(order, parsed):
            results[i] = one.build()
    return results  # type: ignore[return-value]


# --------------------------------------------------------------------------- writing

EntryLike = LexiconEntry | Sequence


def _as_entries(data: Lexicon | Iterable[EntryLike]) -> list[LexiconEntry]:
    out = []
    for i, e in enumerate(data):
        if isinstance(e, LexiconEntry):
            out.append(e)
        elif isinstance(e, (tuple, list)) and 2 <= len(e) <= 4:
            out.append(LexiconEntry(*e))
        else:
            raise TypeError(
                f"entry {i}: expected a LexiconEntry or a (source, target[, pos[, weight]]) tuple, got {e!r}"
            )
    return out


def _check_field(value: object, what: str, i: int, *, first: bool, spaces: bool) -> str:
    """Refuse what the reader would change or split, so that write -> read is exact."""
    label = f"entry {i}: {what}"
    if not isinstance(value, str):
        raise TypeError(f"{label} must be a string, got {value!r}")
    if "\t" in value or "\n" in value or "\r" in value:
        raise ValueError(f"{label} {value!r} contains a tab or line break; it cannot be written one entry per line")
    if not value:
        raise ValueError(f"{label} is empty")
    value = check_round_trip(value, label, first=first)
    if not spaces and value != "".join(value.split()):
        raise ValueError(
            f"{label} {value!r} contains whitespace, which separates the "
            "fields of a MUSE file; write format='tsv' instead"
        )
    return value


def merge_lexicons(lexicons: Sequence[Lexicon], *, provenance: Provenance | None = None) -> Lexicon:
    """One lexicon from several of the same language pair: every (source, target) pair once, in
    the order of the lexicons and their entries; the problems of all of them; the first one's
    languages and (unless ``provenance`` is given) provenance.

    Raises:
        ValueError: no lexicon given.
    """
    if not lexicons:
        raise ValueError("merge_lexicons needs at least one lexicon")
    seen: set[tuple[str, str]] = set()
    entries = []
    for lex in lexicons:
        for e in lex.entries:
            if (e.source, e.target) not in seen:
                seen.add((e.source, e.target))
                entries.append(e)
    first = lexicons[0]
    return replace(
        first,
        entries=tuple(entries),
        problems=tuple(p for lx in lexicons for p in lx.problems),
        provenance=provenance or first.provenance,
    )


def write_lexicon(
    lexicon_or_entries: Lexicon | Iterable[EntryLike],
    path: str | os.PathLike,
    *,
    format: str = "tsv",
    header: bool = False,
    columns: Mapping[str, Sequence[object]] | None = None,
) -> Path:
    """Write a lexicon atomically (a temporary file, then a rename).

    ``tsv`` writes ``source<TAB>target``, plus a ``pos`` column when an entry has
    one and a ``weight`` column when an entry has one (``repr`` of the float, so it
    reads back exactly). ``muse`` writes ``source target`` and refuses whitespace
    inside a field, a ``pos`` or a ``weight``. Text is written in Unicode NFC, as
    the readers return it, so :func:`read_lexicon` gives back the same entries
    (an empty ``pos`` reads back as ``None``).

    Args:
        lexicon_or_entries: a :class:`Lexicon`, or :class:`LexiconEntry` objects, or
            ``(source, target[, pos[, weight]])`` tuples.
        path: where to write (parent folders are created).
        format: ``"tsv"`` or ``"muse"``.
        header: ``tsv`` only: write a header row (``source``, ``target``, ...). One
            is also written when the first entry would read as a header row
            (``source<TAB>target``), so that it reads back as an entry.
        columns: ``tsv`` only: extra columns after the others, ``name -> one value per
            entry`` (a header is written; readers skip columns they do not know, so
            ``provenance`` or ``count`` travel with the entries without changing them).
            Names are lower-case identifiers that are not source/target/pos/weight names.

    Returns:
        The path written.

    Raises:
        ValueError: a field is empty, has a tab or line break, has surrounding
            whitespace, or a weight is not finite; nothing is written then.

    Example:
        >>> write_lexicon([("journey", "safari")], tmp_path / "en_sw.tsv")  # doctest: +SKIP
    """
    if format not in WRITE_FORMATS:
        raise ValueError(f"cannot write lexicon format {format!r}; choose one of {', '.join(WRITE_FORMATS)}")
    entries = _as_entries(lexicon_or_entries)
    has_pos = any(e.pos for e in entries)
    has_weight = any(e.weight is not None for e in entries)
    muse = format == "muse"
    if muse and (has_pos or has_weight):
        raise ValueError("the MUSE format has no pos or weight column; write format='tsv' instead")
    if muse and header:
        raise ValueError("MUSE files have no header")
    extra = dict(columns or {})
    if extra and muse:
        raise ValueError("the MUSE format has no extra columns; write format='tsv' instead")
    for name, values in extra.items():
        known = _SOURCE_COLUMNS | _TARGET_COLUMNS | _POS_COLUMNS | _WEIGHT_COLUMNS
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name in known:
            raise ValueError(f"extra column name {name!r} must be a lower-case identifier other than {sorted(known)}")
        if len(values) != len(entries):
            raise ValueError(f"extra column {name!r} has {len(values)} values for {len(entries)} entries")
    header = header or bool(extra)
    rows = []
    if not muse and not header and entries:
        # A first entry that reads like a header row ("source<TAB>target", "eng-000<TAB>swh-000")
        # would be skipped by the reader: name the columns so that it reads back as an entry.
        e = entries[0]
        header = (
            isinstance(e.source, str)
            and isinstance(e.target, str)
            and (
                _parse_header(f"{e.source}\t{e.target}") is not None
                or (has_pos or has_weight)
                and _parse_header(f"{e.source}\t{e.target}\t{e.pos or ''}") is not None
            )
        )
    if header:
        names = ["source", "target"] + (["pos"] if has_pos or has_weight or extra else [])
        names += ["weight"] if has_weight or extra else []
        rows.append("\t".join(names + list(extra)))
    for i, e in enumerate(entries):
        first = i == 0 and not header
        fields = [
            _check_field(e.source, "source", i, first=first, spaces=not muse),
            _check_field(e.target, "target", i, first=False, spaces=not muse),
        ]
        if has_pos or has_weight or extra:
            fields.append(_check_field(e.pos, "pos", i, first=False, spaces=True) if e.pos else "")
        if has_weight or extra:
            w = e.weight
            if w is None:
                fields.append("")
            else:
                if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w):
                    raise ValueError(f"entry {i}: weight must be a finite number, got {w!r}")
                fields.append(repr(float(w)))
        for name, values in extra.items():
            text = "" if values[i] is None else str(values[i])
            fields.append(_check_field(text, name, i, first=False, spaces=True) if text else "")
        rows.append(("\t" if not muse else " ").join(fields))
    return atomic_write_text(path, "".join(row + "\n" for row in rows))
