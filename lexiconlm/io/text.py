"""Plain-text corpora: one sentence per line, or ``id<TAB>text`` (Bible verses, UDHR blocks).

:func:`read_text` reads a file into a :class:`~lexiconlm.types.Corpus`,
:func:`write_text` writes one atomically, :func:`detect_text_format` tells the
two layouts apart.

``lines``
    One segment per line (FLORES ``*.dev``, any ``*.txt``); a segment's id is its
    1-based line number, so ids stay aligned across parallel files even when a
    file has blank lines.
``id_tsv``
    ``id<TAB>text`` with exactly two fields per line (Bible ``b.MAR.1.1``, UDHR
    ``article1.text1``); ids must be unique.

The language comes from ``language=`` when given, else from an index file beside
the corpus (``index.tsv`` / ``staged_files.tsv`` / ``metadata.tsv`` with an
``iso639_3`` column and a ``code`` or file-name column, as the staged UDHR and
Bible folders have), else from the code that starts the file name (``amh_Ethi.dev``,
``acu_Achuar-NT.MAR.tsv``, ``eng.tsv``, ``acu_1.tsv``). A language that cannot be
resolved becomes :meth:`Language.unknown` with a warning saying how to pass it.

Every line goes through :func:`lexiconlm.files.read_lines` (BOM, CRLF, NFC,
invalid UTF-8, binary). Text and ids are stripped of surrounding whitespace (one
warning per file), blank lines are skipped and counted in
:attr:`Corpus.n_blank_lines`.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from lexiconlm.errors import DataFormatError
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
from lexiconlm.types import Corpus, Language, TextSegment

__all__ = ["TEXT_FORMATS", "detect_text_format", "read_text", "text_language", "write_text"]

TEXT_FORMATS = ("lines", "id_tsv")

# Extensions that are always one sentence per line (FLORES splits).
_LINE_EXTENSIONS = (".dev", ".devtest")
# An id: ASCII, no spaces, with a digit somewhere (b.MAR.1.1, article3.text1, title.heading1).
_ID_RE = re.compile(r"^(?=[^\d]*\d)[A-Za-z0-9][A-Za-z0-9_.:/#\-]{0,99}$")
# The code that starts a corpus file name: amh_Ethi.dev, acu_Achuar-NT.MAR.tsv, eng.tsv, fuv2.tsv.
_NAME_CODE_RE = re.compile(r"^(?P<code>[a-z]{2,3})(?=$|[_.\-\d])")
# Index files beside corpora that map a file (or its code) to its language.
_INDEX_FILES = ("index.tsv", "staged_files.tsv", "metadata.tsv")
_INDEX_FILE_KEYS = ("staged_file", "file", "filename", "file_name")
_INDEX_NAME_KEYS = ("name", "language", "language_name")


# --------------------------------------------------------------------------- detection


def _sniff(path: Path, sample: Sequence[str]) -> str:
    """``lines`` or ``id_tsv`` from the name and the first non-blank lines (see detect_text_format)."""
    if path.suffix.lower() in _LINE_EXTENSIONS or not sample:
        return "lines"
    tabs = [line.count("\t") for line in sample]
    id_like = sum(1 for line, n in zip(sample, tabs) if n == 1 and _ID_RE.match(line.split("\t", 1)[0].strip()))
    if id_like * 2 > len(sample):  # most lines, so that a few bad ones are reported, not misread
        return "id_tsv"
    if sum(n >= 2 for n in tabs) * 2 > len(tabs):
        most = max(set(tabs), key=tabs.count)
        raise DataFormatError.single(
            str(path),
            1,
            f"does not look like a text corpus: the first lines have {most + 1} tab-separated fields",
            "a corpus has one text per line, or `id<TAB>text`; is this a metadata table?",
        )
    return "lines"


def detect_text_format(path: str | os.PathLike) -> str:
    """Tell whether a corpus file is ``lines`` or ``id_tsv``.

    Rules: ``*.dev`` / ``*.devtest`` files are ``lines``. Otherwise, when most of
    the first 20 non-blank lines have exactly one tab after an id (ASCII, no
    spaces, at least one digit: ``b.MAR.1.1``, ``article1.text1``), the file is
    ``id_tsv`` (the other lines are then reported as errors, not misread); when
    most of them have two or more tabs it is not a corpus (a metadata table such
    as UDHR's ``index.tsv``) and :class:`DataFormatError` is raised; anything
    else is ``lines``.

    Example:
        >>> detect_text_format("data/text/bible/acu_Achuar-NT.MAR.tsv")  # doctest: +SKIP
        'id_tsv'
    """
    p = Path(path)
    return _sniff(p, read_head(p, 20))


# --------------------------------------------------------------------------- languages


@lru_cache(maxsize=64)
def _index(directory: str, mtime_key: tuple) -> dict[str, tuple[str, str, str]]:
    """``file name or code -> (iso639_3, name, index file)`` from the index files of a directory."""
    out: dict[str, tuple[str, str, str]] = {}
    for fname in _INDEX_FILES:
        p = Path(directory) / fname
        if not p.is_file():
            continue
        raw = read_lines(p, allow_empty=True)
        if not raw.lines:
            continue
        header = [h.strip().lower() for h in raw.lines[0][1].split("\t")]
        if "iso639_3" not in header:
            continue
        iso = header.index("iso639_3")
        keys = [header.index(k) for k in (*_INDEX_FILE_KEYS, "code") if k in header]
        name_col = next((header.index(k) for k in _INDEX_NAME_KEYS if k in header), None)
        for _, line in raw.lines[1:]:
            f = line.split("\t")
            if len(f) != len(header):
                continue
            value = (f[iso].strip(), f[name_col].strip() if name_col is not None else "", fname)
            for k in keys:
                out.setdefault(f[k].strip(), value)
    return out


def _index_entry(path: Path) -> tuple[str, str, str] | None:
    """(iso639_3, name, index file) for ``path`` from an index beside it, if one lists it."""
    d = path.parent
    present = tuple((n, (d / n).stat().st_mtime_ns) for n in _INDEX_FILES if (d / n).is_file())
    if not present:
        return None
    table = _index(str(d), present)
    stem = path.name.split(".", 1)[0]
    for key in (path.name, stem):
        if key in table:
            return table[key]
    return None


def text_language(path: str | os.PathLike, *, context: str | None = None, log: ProblemLog | None = None) -> Language:
    """The language of a corpus file, from an index beside it or from its name.

    Returns :meth:`Language.unknown` (and adds a warning to ``log``) when neither
    tells a language the catalog knows.

    >>> text_language("flores200_dev/amh_Ethi.dev").iso639_3  # doctest: +SKIP
    'amh'
    """
    p = Path(path)
    name = unicodedata.normalize("NFC", p.name)
    hint = f"pass it explicitly, e.g. read_text({str(p)!r}, language='<ISO 639-3 code>')"
    entry = _index_entry(p) if p.parent.is_dir() else None
    if entry is not None:
        iso, lname, index_name = entry
        lang = lookup_language(iso, context)[0] if iso and iso != "und" else None
        if lang is not None:
            return lang
        if log is not None:
            log.warning(
                None,
                f"{index_name} gives language {iso or '(none)'!r} (named {lname!r}) "
                "for this file, which the catalog does not identify; kept as unknown",
                hint,
            )
        return Language.unknown(lname or p.stem)
    m = _NAME_CODE_RE.match(name)
    why = "the file name does not start with a language code"
    if m:
        lang, why = lookup_language(m["code"], context)
        if lang is not None:
            return lang
    if log is not None:
        log.warning(
            None,
            f"the language of this corpus cannot be told from its name; kept as unknown. {why}".rstrip(),
            hint,
        )
    return Language.unknown(name.split(".", 1)[0])


# --------------------------------------------------------------------------- reading


def read_text(
    path: str | os.PathLike,
    *,
    format: str = "auto",
    language: LanguageSpec = None,
    errors: ErrorPolicy = "raise",
    context: str | None = None,
) -> Corpus:
    """Read a plain-text corpus.

    Args:
        path: the file.
        format: ``"auto"`` (see :func:`detect_text_format`), ``"lines"`` or ``"id_tsv"``.
        language: the corpus language (a :class:`Language` or a code/name); by
            default from an index beside the file or from its name.
        errors: ``"raise"`` raises one :class:`DataFormatError` listing every
            problem when a line has an error; ``"collect"`` returns the good
            segments with the problems in :attr:`Corpus.problems`.
        context: catalog context for code quirks.

    Returns:
        The :class:`Corpus`; segment ids are line numbers (``lines``) or the file's
        ids (``id_tsv``).

    Raises:
        DataFormatError: missing, empty or binary file, a metadata table, or (with
            ``errors="raise"``) bad lines: wrong field count, empty id or text,
            duplicate id, invalid UTF-8, each as ``file:line: message (fix: ...)``.
        UnknownLanguageError: an explicit ``language`` string is not in the catalog.

    Example:
        >>> corpus = read_text("data/text/flores200_dev/amh_Ethi.dev")  # doctest: +SKIP
        >>> corpus.language.iso639_3, len(corpus), corpus.segments[0].id  # doctest: +SKIP
        ('amh', 997, '1')
    """
    check_errors_policy(errors)
    if format not in ("auto", *TEXT_FORMATS):
        raise ValueError(f"unknown text format {format!r}; choose 'auto', 'lines' or 'id_tsv'")
    p = Path(path)
    raw = read_lines(p)
    log = raw.log
    lines = raw.lines
    lang = explicit_language(language, context)
    fmt = format
    if fmt == "auto":
        sample = [ln for _, ln in lines[:100] if ln and not ln.isspace()][:20]
        try:
            fmt = _sniff(p, sample)
        except DataFormatError as exc:
            log.items.extend(exc.problems)
            log.finish(errors)
            return Corpus(lang or Language.unknown(p.stem), (), raw.provenance("unknown"), tuple(log.items), 0)
    if lang is None:
        lang = text_language(p, context=context, log=log)

    segments: list[TextSegment] = []
    n_blank = 0
    stripped: list[int] = []
    if fmt == "lines":
        for no, line in lines:
            text = line.strip()
            if not text:
                n_blank += 1
                continue
            if len(text) != len(line):
                stripped.append(no)
            segments.append(TextSegment(str(no), text))
    else:
        first_seen: dict[str, int] = {}
        for no, line in lines:
            if not line or line.isspace():
                n_blank += 1
                continue
            parts = line.split("\t")
            if len(parts) != 2:
                log.error(
                    no,
                    f"expected 2 tab-separated fields (id, text), got {len(parts)}: {preview(line)}",
                    "a tab inside the text? replace it with a space",
                )
                continue
            seg_id, text = parts[0].strip(), parts[1].strip()
            if len(seg_id) != len(parts[0]) or len(text) != len(parts[1]):
                stripped.append(no)
            if not seg_id or not text:
                what = "id and text" if not seg_id and not text else ("id" if not seg_id else "text")
                log.error(no, f"empty {what}: {preview(line)}", "fill it in or delete the line")
                continue
            if seg_id in first_seen:
                log.error(
                    no,
                    f"duplicate id {seg_id!r} (first at line {first_seen[seg_id]})",
                    "ids must be unique; renumber or delete the repeated line",
                )
                continue
            first_seen[seg_id] = no
            segments.append(TextSegment(seg_id, text))
    if stripped:
        log.warning(
            stripped[0],
            f"{len(stripped)} line(s) had whitespace around the text or id; "
            f"it was removed (first at line {stripped[0]})",
        )
    if not segments and not log.n_errors and raw.n_lines:
        log.warning(None, "no text: every line is blank")
    problems = log.finish(errors)
    return Corpus(lang, tuple(segments), raw.provenance(fmt), problems, n_blank)


# --------------------------------------------------------------------------- writing


def _check(value: object, what: str, i: int, *, first: bool) -> str:
    """Refuse what read_text would change or split, so that write -> read is exact."""
    label = f"{what} {i}"
    if not isinstance(value, str):
        raise TypeError(f"{label} must be a string, got {value!r}")
    if "\n" in value or "\r" in value:
        raise ValueError(f"{label} {value!r} contains a line break; write one text per line")
    if "\t" in value:
        raise ValueError(f"{label} {value!r} contains a tab, which separates id and text; replace it with a space")
    if not value.strip():
        raise ValueError(f"{label} is empty or blank; it would be read back as a skipped blank line")
    return check_round_trip(value, label, first=first)


def write_text(
    corpus_or_texts: Corpus | Iterable[str] | Iterable[TextSegment],
    path: str | os.PathLike,
    *,
    format: str = "auto",
) -> Path:
    """Write a corpus atomically, one segment per line.

    Args:
        corpus_or_texts: a :class:`Corpus`, :class:`TextSegment` objects, or strings.
        path: where to write (parent folders are created).
        format: ``"lines"`` (texts only), ``"id_tsv"`` (``id<TAB>text``), or
            ``"auto"``: a corpus keeps the layout it was read in, segments are
            written as ``id_tsv``, strings as ``lines``.

    Returns:
        The path written. Text is written in Unicode NFC, so :func:`read_text`
        gives back the same texts (and ids, for ``id_tsv``).

    Raises:
        ValueError: a text or id is blank, has a tab or line break, or has
            surrounding whitespace; or ids repeat. Nothing is written then.

    Example:
        >>> write_text(["Habari ya asubuhi.", "Asante sana."], tmp_path / "swh.txt")  # doctest: +SKIP
    """
    if format not in ("auto", *TEXT_FORMATS):
        raise ValueError(f"unknown text format {format!r}; choose 'auto', 'lines' or 'id_tsv'")
    if isinstance(corpus_or_texts, str):
        raise TypeError("write_text takes a corpus or an iterable of texts, not one string")
    items = list(corpus_or_texts.segments if isinstance(corpus_or_texts, Corpus) else corpus_or_texts)
    fmt = format
    if fmt == "auto":
        if isinstance(corpus_or_texts, Corpus) and corpus_or_texts.provenance.format in TEXT_FORMATS:
            fmt = corpus_or_texts.provenance.format
        else:
            fmt = "id_tsv" if items and isinstance(items[0], TextSegment) else "lines"
    rows: list[str] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        if isinstance(item, TextSegment):
            seg_id, text = item.id, item.text
        elif isinstance(item, str):
            if fmt == "id_tsv":
                raise ValueError(f"text {i}: the id_tsv layout needs TextSegment(id, text) items")
            seg_id, text = "", item
        else:
            raise TypeError(f"item {i}: expected a string or a TextSegment, got {item!r}")
        if fmt == "id_tsv":
            seg_id = _check(seg_id, "id", i, first=i == 0)
            if seg_id in seen:
                raise ValueError(f"id {i} {seg_id!r} is repeated; ids must be unique")
            seen.add(seg_id)
            rows.append(seg_id + "\t" + _check(text, "text", i, first=False))
        else:
            rows.append(_check(text, "text", i, first=i == 0))
    return atomic_write_text(path, "".join(row + "\n" for row in rows))
