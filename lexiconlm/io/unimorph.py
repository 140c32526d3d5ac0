"""UniMorph inflection tables: ``lemma <TAB> form <TAB> features``, one entry per line.

Reading (:func:`read_unimorph`) keeps every line accounted for: each line of the
file is an entry, a blank line (counted in ``InflectionTable.n_blank_lines``) or
an error, so ``len(table) + table.n_blank_lines + error lines == file lines``.

What is accepted, repaired (a warning says so) or refused (an error, the line is
skipped) is listed in ``docs/formats-morphology-nlu.md``. In short:

* blank lines separate paradigms in many UniMorph repositories: counted, never errors;
* ``null``, ``NA``, ``nan``, ``None``, ``#N/A`` are words and stay strings;
* layered features (``V;IMP;ACC(2,SG);NOM(INFM,2,SG)``) are kept exactly as written;
* columns after the third (UniMorph 4 allows optional extra columns) are ignored,
  with one warning for the file;
* a lemma and form separated by a run of spaces instead of a tab are split when
  the split is unambiguous (warning); spaces around the feature bundle are stripped (warning);
* two entries glued together by a missing line break, a feature bundle written twice,
  a line without features, an empty lemma or form: errors naming ``file:line``.

Example:
    >>> table = read_unimorph("amh.tsv")                      # doctest: +SKIP
    >>> table.language.code, len(table), table.n_blank_lines  # doctest: +SKIP
    ('amh', 38754, 0)

Why one module of about 750 lines: the reader, writer and table finder of one format, with the
feature-column detection they share.
"""

from __future__ import annotations

import functools
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lexiconlm.files import (
    ErrorPolicy,
    ProblemLog,
    atomic_write_text,
    check_errors_policy,
    data_files,
    read_lines,
)
from lexiconlm.io._base import RepairTally, remove_inner_boms, resolve_language, unwritable
from lexiconlm.languages import get_catalog
from lexiconlm.types import InflectionEntry, InflectionTable, Language, split_features

_FEATURE_CHARS = re.compile(r"^[A-Za-z0-9;,.+()\[\]{}/_\-]+$")
_NEGATION = re.compile(r"(?<![A-Za-z])non(?=\{)")


def _looks_like_features(s: str) -> bool:
    """True for a UniMorph feature bundle such as ``V;PST;3;SG``, ``N;NOM(PL;PSS(1,PL))`` or
    ``V;3;SG;non{PST}`` (the schema's lower-case negation ``non{...}`` is not counted as
    lower-case text)."""
    if not s or not _FEATURE_CHARS.match(s):
        return False
    letters = [c for c in _NEGATION.sub("", s) if c.isalpha()]
    if not letters:
        return False
    upper = sum(1 for c in letters if c.isupper())
    return upper / len(letters) >= 0.6


# Feature bundles repeat thousands of times in a file: check each distinct string once.
looks_like_features = functools.lru_cache(maxsize=1 << 16)(_looks_like_features)

_BUNDLE_CHARS = re.compile(r"^[A-Z0-9;,.+()\[\]{}/_\- ]*$")


def clearly_not_features(s: str) -> bool:
    """True for text no feature bundle looks like: lower-case words, other scripts (``ging``,
    ``დაწერე``). Short upper-case or numeric strings (``1``, ``BAN``) are not flagged,
    nor bundles with the schema's negation (``non{PST}``)."""
    return bool(s) and not looks_like_features(s) and not _BUNDLE_CHARS.match(s.replace("non{", "{"))


__all__ = [
    "read_unimorph",
    "write_unimorph",
    "paradigms",
    "language_code_from_name",
    "find_unimorph_tables",
    "remove_inner_boms",
    "looks_like_features",
    "clearly_not_features",
    "tag_dimension",
    "FeatureStats",
    "feature_stats",
    "FeatureColumn",
    "features_column",
    "reorder_hint",
    "UNIMORPH_DIMENSIONS",
]


# --------------------------------------------------------------------------- languages

_CODE_IN_NAME = re.compile(r"^([A-Za-z]{2,3})(?=$|[._\-])")


def language_code_from_name(path: str | os.PathLike) -> str:
    """The language code a UniMorph file name starts with.

    >>> [language_code_from_name(p) for p in ["amh.tsv", "ckb.arab.gold.tsv", "kaz.noun.tsv", "amh", "ckb-arab.tsv"]]
    ['amh', 'ckb', 'kaz', 'amh', 'ckb']
    """
    name = Path(path).name
    m = _CODE_IN_NAME.match(name)
    return m.group(1).lower() if m else name.split(".")[0]


def find_unimorph_tables(language: Language | str, paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The UniMorph tables of ``language`` among ``paths`` (files, or folders of them: :func:`data_files`).

    A table belongs to the language when the code its name starts with
    (:func:`language_code_from_name`) resolves in the catalog to the same language: ``amh.tsv``
    for Amharic, ``fas.tsv`` for Iranian Persian (the catalog resolves the macrolanguage code).

    Raises:
        UnknownLanguageError: the catalog does not know ``language`` (a code, tag or name).
    """
    cat = get_catalog()
    lang = cat.lookup(language) if isinstance(language, str) else language
    out = []
    for p in data_files(paths):
        code = language_code_from_name(p)
        found = cat.find(code) if code else None
        if found is not None and found.iso639_3 == lang.iso639_3:
            out.append(p)
    return out


# --------------------------------------------------------------------------- line parsing


_FEATURE_PREFIX = re.compile(r"^[A-Z0-9;,.+()\[\]{}/_\-]*")


def _glued_hint(features: str) -> str:
    """Where a feature bundle seems to run into the next entry's lemma (for the error's remedy)."""
    prefix = _FEATURE_PREFIX.match(features).group(0)  # type: ignore[union-attr]
    rest = features[len(prefix) :]
    if prefix and rest and looks_like_features(prefix.rstrip(";")):
        return f"insert a line break between {prefix!r} and {rest!r}"
    return "insert the missing line break between the two entries"


def _doubled_bundle(features: str) -> bool:
    """``X;YX;Y``: the same bundle written twice without a separator (a copy-paste defect)."""
    n = len(features)
    if n < 6 or n % 2:
        return False
    half = features[: n // 2]
    return half == features[n // 2 :] and ";" in half


def check_features(features: str, line: int, log: ProblemLog, tally: RepairTally) -> str | None:
    """Validate one feature bundle; returns it (edge spaces stripped) or ``None`` after logging an error."""
    stripped = features.strip()
    if not stripped:
        log.error(
            line,
            "no features (the feature column is empty)",
            "every entry needs a UniMorph feature bundle",
        )
        return None
    if stripped != features:
        tally.add(
            "feature-spaces",
            line,
            "spaces around the feature bundle were stripped",
            "remove the spaces before/after the features",
        )
    if _doubled_bundle(stripped):
        half = stripped[: len(stripped) // 2]
        log.error(
            line,
            f"the feature bundle is written twice without a separator: {stripped!r}",
            f"keep one copy: {half!r}",
        )
        return None
    return stripped


def _split_spaced(text: str, parts: int) -> list[str] | None:
    """Split ``text`` at runs of 2+ spaces into exactly ``parts`` pieces, or ``None`` if that is ambiguous."""
    pieces = re.split(r" {2,}", text.strip(" "))
    if len(pieces) == parts and all(p.strip() for p in pieces):
        return pieces
    return None


def parse_unimorph_line(line: str, no: int, log: ProblemLog, tally: RepairTally) -> InflectionEntry | None:
    """One non-blank line of a UniMorph table → an entry, or ``None`` after logging its error(s)."""
    fields = line.split("\t")
    n = len(fields)
    if n >= 3:
        lemma, form, features = fields[0], fields[1], fields[2]
        if n > 3:
            if n >= 5 and looks_like_features(fields[-1].strip()):
                log.error(
                    no,
                    f"{n} tab-separated fields: two entries seem glued together (missing line break); "
                    f"third field is {features!r}",
                    _glued_hint(features),
                )
                return None
            if not looks_like_features(features.strip()):
                log.error(
                    no,
                    f"{n} tab-separated fields and the third ({features!r}) is not a feature bundle",
                    "expected lemma<TAB>form<TAB>features[<TAB>extra columns]",
                )
                return None
    elif n == 2:
        pair = _split_spaced(fields[0], 2)
        if pair is not None and looks_like_features(fields[1].strip()):
            lemma, form, features = pair[0], pair[1], fields[1]
            log.warning(
                no,
                f"lemma and form separated by spaces instead of a tab ({fields[0]!r}); split at the spaces",
                "use a tab between lemma and form",
            )
        else:
            what = "the form is missing" if looks_like_features(fields[1].strip()) else "the features are missing"
            log.error(
                no,
                f"expected 3 tab-separated fields (lemma, form, features), got 2: {line!r}",
                f"{what}; a line needs lemma<TAB>form<TAB>features",
            )
            return None
    else:
        triple = _split_spaced(line, 3)
        if triple is not None and looks_like_features(triple[2]):
            lemma, form, features = triple
            log.warning(
                no,
                "fields separated by spaces instead of tabs; split at the runs of spaces",
                "use tabs between lemma, form and features",
            )
        else:
            log.error(
                no,
                f"expected 3 tab-separated fields (lemma, form, features), got 1: {line!r}",
                "a line needs lemma<TAB>form<TAB>features",
            )
            return None
    if clearly_not_features(features.strip()):
        for name, value in (("first", lemma), ("second", form)):
            if looks_like_features(value.strip()):
                log.error(
                    no,
                    f"columns out of order: the third column {features.strip()!r} is not a feature "
                    f"bundle, while the {name} column {value.strip()!r} is",
                    "a UniMorph line is lemma<TAB>form<TAB>features: reorder the columns",
                )
                return None
    ok = True
    if not lemma.strip():
        log.error(no, "empty lemma", "fill in the lemma or remove the line")
        ok = False
    if not form.strip():
        log.error(no, "empty form", "fill in the inflected form or remove the line")
        ok = False
    checked = check_features(features, no, log, tally)
    if checked is None or not ok:
        return None
    if n > 3:
        tally.add(
            "extra-columns",
            no,
            "columns after the third (lemma, form, features) were ignored",
            "UniMorph 4 extra columns (e.g. segmentation) are not read; remove stray tabs otherwise",
        )
    return InflectionEntry(lemma, form, checked)


@dataclass(frozen=True)
class FeatureColumn:
    """Which of the first three tab-separated columns holds the feature bundles, by content.

    Attributes:
        column: 0, 1 or 2 (0-based), or ``None`` when the sample does not tell.
        votes: per column, the sampled lines where that column, and no other, is a bundle.
        sampled: the lines with 3+ fields that were looked at.
        first_line: the first line that voted for ``column`` (for ``file:line`` errors).
    """

    column: int | None
    votes: tuple[int, int, int]
    sampled: int
    first_line: int | None = None


def features_column(lines: Iterable[tuple[int, str]], limit: int = 1000) -> FeatureColumn:
    """Find the feature column of a table on a sample of its lines (up to ``limit``).

    A line votes for a column when that column looks like a UniMorph bundle (``V;PST;3;SG``:
    upper-case tags and ``;``) and the other two clearly do not (lower-case words, another
    script). The column with the most votes wins when it has at least 3 (or every sampled
    line, in a file of 1-2 lines) and more than every other column.

    >>> features_column([(1, "V;PST\twalked\twalk"), (2, "N;PL\tdogs\tdog")]).column
    0
    """
    votes = [0, 0, 0]
    first: list[int | None] = [None, None, None]
    sampled = 0
    for no, line in lines:
        f = line.split("\t")
        if len(f) < 3 or not line.strip():
            continue
        sampled += 1
        if sampled > limit:
            sampled = limit
            break
        cells = [c.strip() for c in f[:3]]
        for i in range(3):
            if looks_like_features(cells[i]) and all(clearly_not_features(cells[j]) for j in range(3) if j != i):
                votes[i] += 1
                if first[i] is None:
                    first[i] = no
    best = max(range(3), key=lambda i: votes[i])
    others = max(votes[i] for i in range(3) if i != best)
    enough = votes[best] >= 3 or (0 < sampled < 3 and votes[best] == sampled)
    column = best if enough and votes[best] > others else None
    return FeatureColumn(column, (votes[0], votes[1], votes[2]), sampled, first[best] if column is not None else None)


_ORDINAL = ("first", "second", "third")


def reorder_hint(found: FeatureColumn, lines: Sequence[tuple[int, str]], want: Sequence[str]) -> str:
    """An ``awk`` command that puts a table's columns in the order ``want`` (for error remedies).

    The feature column is ``found.column``; of the other two, the one whose values repeat more
    is taken for the lemma (a paradigm repeats its lemma). ``want`` names the target order,
    e.g. ``("lemma", "form", "features")``.
    """
    rest = [i for i in range(3) if i != found.column]
    distinct = [len({f[i] for f in (line.split("\t") for _, line in lines[:1000]) if len(f) >= 3}) for i in rest]
    lemma, form = (rest[0], rest[1]) if distinct[0] <= distinct[1] else (rest[1], rest[0])
    where = {"lemma": lemma, "form": form, "features": found.column}
    cols = ", ".join(f"${where[w] + 1}" for w in want)
    return (
        f"reorder the columns to {'<TAB>'.join(want)}, e.g. awk -F'\\t' -v OFS='\\t' "
        f"'{{print {cols}}}' FILE > FIXED (column {lemma + 1} looks like the lemma: its values "
        "repeat more; check before using it)"
    )


def _check_orientation(lines: Sequence[tuple[int, str]], log: ProblemLog) -> None:
    """Features not in the third column: say so once, with the fix (each line is an error too).

    The second column is the SIGMORPHON 2023 layout (lemma, features, form); the first is
    a table written features first.
    """
    found = features_column(lines)
    if found.column is None or found.column == 2:
        return
    n = found.votes[found.column]
    if found.column == 1:
        log.error(
            found.first_line,
            "the features are in the second column (lemma, features, form) on "
            f"{n} of {found.sampled} lines sampled: this is the SIGMORPHON 2023 layout, "
            "not a UniMorph table",
            "read it with lexiconlm.io.sigmorphon.read_sigmorphon(path, edition='2023')",
        )
        return
    log.error(
        found.first_line,
        f"the features are in the first column on {n} of {found.sampled} lines sampled: "
        "columns out of order (a UniMorph table is lemma, form, features)",
        reorder_hint(found, lines, ("lemma", "form", "features")),
    )


# --------------------------------------------------------------------------- reader / writer


def read_unimorph(
    path: str | os.PathLike,
    *,
    language: str | Language | None = None,
    errors: ErrorPolicy = "raise",
) -> InflectionTable:
    """Read a UniMorph table (``lemma<TAB>form<TAB>features`` per line).

    Args:
        path: the file (``amh``, ``amh.tsv``, ``ckb.arab.gold.tsv``, ``kaz.noun.tsv`` ...).
        language: ISO 639-3 code, name or :class:`Language`; by default the code the
            file name starts with (an unknown code gives ``Language.unknown`` and a warning).
        errors: ``"raise"`` raises one :class:`DataFormatError` listing every bad line;
            ``"collect"`` returns the good entries with all problems in ``table.problems``.

    Returns:
        :class:`InflectionTable` with every entry in file order (duplicates kept) and
        ``n_blank_lines``; ``len(table) + n_blank_lines + error lines`` equals the file's line count.

    Raises:
        DataFormatError: with ``errors="raise"``, if any line is an error (all are listed).
        UnknownLanguageError: ``language`` was given and is not in the catalog.

    Example:
        >>> t = read_unimorph("ckb.arab.gold.tsv", errors="collect")   # doctest: +SKIP
        >>> [str(p) for p in t.problems if p.severity == "error"][:1]  # doctest: +SKIP
        ['ckb.arab.gold.tsv:200: error: 5 tab-separated fields: two entries seem glued together ...']
    """
    check_errors_policy(errors)
    raw = read_lines(path)
    log = raw.log
    lang = resolve_language(language, language_code_from_name(path), context=None, log=log)
    tally = RepairTally()
    entries: list[InflectionEntry] = []
    n_blank = 0
    lines = remove_inner_boms(raw.lines, log)
    _check_orientation([x for x in lines if x[1].strip()], log)
    for no, line in lines:
        if not line.strip():
            n_blank += 1
            if line:
                tally.add("ws-line", no, "lines with only spaces/tabs were treated as blank lines")
            continue
        entry = parse_unimorph_line(line, no, log, tally)
        if entry is not None:
            entries.append(entry)
    tally.flush(log)
    problems = log.finish(errors)
    return InflectionTable(
        language=lang,
        entries=tuple(entries),
        provenance=raw.provenance("unimorph"),
        problems=problems,
        n_blank_lines=n_blank,
    )


def _check_entry_writable(e: InflectionEntry, what: str = "entry") -> None:
    for name, value in (("lemma", e.lemma), ("form", e.form), ("features", e.features)):
        if value is None:
            raise ValueError(f"{what} {e!r}: {name} is None; UniMorph tables need lemma, form and features")
        why = unwritable(value)
        if why:
            raise ValueError(f"{what} {e!r}: {name} {why}; it cannot be written as TSV")
        if not value.strip():
            raise ValueError(f"{what} {e!r}: {name} is empty")
    if e.features != e.features.strip():
        raise ValueError(f"{what} {e!r}: features have leading/trailing spaces")


def write_unimorph(
    entries: InflectionTable | Iterable[InflectionEntry],
    path: str | os.PathLike,
    *,
    blank_between_paradigms: bool = False,
) -> Path:
    """Write entries as a UniMorph table, atomically (``lemma<TAB>form<TAB>features``, LF line ends).

    :func:`read_unimorph` gives the same entries back. With ``blank_between_paradigms``
    a blank line is written whenever the lemma changes (as many UniMorph repositories do).

    Raises:
        ValueError: an entry has no form, an empty field, or a tab/line break inside a field
            (nothing is written).
    """
    items = list(entries)
    for e in items:
        _check_entry_writable(e)
    parts: list[str] = []
    prev: str | None = None
    for e in items:
        if blank_between_paradigms and prev is not None and e.lemma != prev:
            parts.append("\n")
        parts.append(f"{e.lemma}\t{e.form}\t{e.features}\n")
        prev = e.lemma
    return atomic_write_text(path, "".join(parts))


def paradigms(
    entries: InflectionTable | Iterable[InflectionEntry],
) -> dict[str, list[InflectionEntry]]:
    """Entries grouped by lemma (lemmas in order of first appearance, entries in file order)."""
    out: dict[str, list[InflectionEntry]] = {}
    for e in entries:
        out.setdefault(e.lemma, []).append(e)
    return out


# --------------------------------------------------------------------------- feature statistics

#: The UniMorph schema's dimensions and their features (Sylak-Glassman 2016, UniMorph 4 additions).
#: Tags that start with ``LGSPEC``, ``ARG``, ``PSS``, ``BANTU`` or ``NAKH`` are matched by prefix.
UNIMORPH_DIMENSIONS: Mapping[str, tuple[str, ...]] = {
    "Part of speech": (
        "N",
        "PROPN",
        "ADJ",
        "PRO",
        "CLF",
        "ART",
        "DET",
        "V",
        "ADV",
        "AUX",
        "V.PTCP",
        "V.MSDR",
        "V.CVB",
        "ADP",
        "COMP",
        "CONJ",
        "NUM",
        "PART",
        "INTJ",
    ),
    "Aktionsart": ("ACCMP", "ACH", "ACTY", "ATEL", "DUR", "DYN", "PCT", "SEMEL", "STAT", "TEL"),
    "Animacy": ("ANIM", "HUM", "INAN", "NHUM"),
    "Aspect": ("HAB", "IPFV", "ITER", "PFV", "PRF", "PROG", "PROSP"),
    "Case": (
        "NOM",
        "ACC",
        "ERG",
        "ABS",
        "NOMS",
        "DAT",
        "BEN",
        "PRP",
        "GEN",
        "REL",
        "PRT",
        "INS",
        "COM",
        "VOC",
        "COMPV",
        "EQTV",
        "PRIV",
        "PROPR",
        "AVR",
        "FRML",
        "TRANS",
        "BYWAY",
        "INTER",
        "AT",
        "POST",
        "IN",
        "CIRC",
        "ANTE",
        "APUD",
        "ON",
        "ONHR",
        "ONVR",
        "SUB",
        "REM",
        "PROXM",
        "ESS",
        "ALL",
        "ABL",
        "APPRX",
        "TERM",
        "LOC",
        "OBL",
    ),
    "Comparison": ("AB", "CMPR", "EQT", "RL", "SPRL"),
    "Definiteness": ("DEF", "INDF", "NDEF", "SPEC", "NSPEC"),
    "Deixis": (
        "PROX",
        "MED",
        "REMT",
        "REF1",
        "REF2",
        "NOREF",
        "PHOR",
        "VIS",
        "NVIS",
        "ABV",
        "EVEN",
        "BEL",
    ),
    "Evidentiality": (
        "FH",
        "DRCT",
        "SEN",
        "VISU",
        "NVSEN",
        "AUD",
        "NFH",
        "QUOT",
        "RPRT",
        "HRSY",
        "INFER",
        "ASSUM",
    ),
    "Finiteness": ("FIN", "NFIN"),
    "Gender": ("MASC", "FEM", "NEUT"),
    "Information structure": ("TOP", "FOC"),
    "Interrogativity": ("DECL", "INT"),
    "Mood": (
        "IND",
        "SBJV",
        "REAL",
        "IRR",
        "AUPRP",
        "AUNPRP",
        "IMP",
        "COND",
        "PURP",
        "INTEN",
        "POT",
        "LKLY",
        "ADM",
        "OBLIG",
        "DEB",
        "PERM",
        "DED",
        "SIM",
        "OPT",
    ),
    "Number": ("SG", "PL", "GRPL", "DU", "TRI", "PAUC", "GRPAUC", "INVN"),
    "Person": ("0", "1", "2", "3", "4", "INCL", "EXCL", "PRX", "OBV"),
    "Polarity": ("POS", "NEG"),
    "Politeness": (
        "INFM",
        "FORM",
        "ELEV",
        "HUMB",
        "POL",
        "AVOID",
        "LOW",
        "HIGH",
        "STELEV",
        "STSUPR",
        "LIT",
        "FOREG",
        "COL",
    ),
    "Possession": ("ALN", "NALN"),
    "Switch-reference": ("SS", "SSADV", "DS", "DSADV", "OR", "SIMMA", "SEQMA", "LOG"),
    "Tense": ("PRS", "PST", "FUT", "IMMED", "HOD", "1DAY", "RCT", "RMT"),
    "Valency": ("IMPRS", "INTR", "TR", "DITR", "REFL", "RECP", "CAUS", "APPL"),
    "Voice": (
        "ACT",
        "MID",
        "PASS",
        "ANTIP",
        "DIR",
        "INV",
        "AGFOC",
        "PFOC",
        "LFOC",
        "BFOC",
        "ACFOC",
        "IFOC",
        "CFOC",
    ),
}
_TAG_TO_DIM = {t: d for d, tags in UNIMORPH_DIMENSIONS.items() for t in tags}
_PREFIX_DIMS = (
    ("LGSPEC", "Language-specific"),
    ("ARG", "Argument marking"),
    ("PSS", "Possession"),
    ("BANTU", "Gender"),
    ("NAKH", "Gender"),
)


def tag_dimension(tag: str, pos: str | None = None) -> str:
    """The UniMorph dimension of one top-level tag, ``"Unknown"`` if the schema does not list it.

    Layered tags take the dimension of their head: ``PSS(1,PL)`` is Possession. A case head
    with layers is Case on nominals (``N;NOM(PL;PSS(1,PL))``) but agreement with that argument
    on verbs (``V;IMP;NOM(INFM,2,SG)``): pass the bundle's part of speech as ``pos`` to tell them
    apart. ``non{NOM}``, ``ALL+ESS`` and ``PRS/FUT`` take the dimension of their first feature.

    >>> [tag_dimension(t) for t in ["V", "PL", "NOM(3,SG)", "PSS1S", "LGSPEC8(3S)", "non{NOM}", "XYZ"]]
    ['Part of speech', 'Number', 'Case', 'Possession', 'Language-specific', 'Case', 'Unknown']
    >>> tag_dimension("NOM(3,SG)", pos="V")
    'Argument marking'
    """
    t = tag.strip()
    m = re.match(r"^non\{(.*)\}$", t)
    if m:
        t = m.group(1)
    head, sep, _ = t.partition("(")
    if sep and pos and pos.startswith("V") and _TAG_TO_DIM.get(head) == "Case":
        return "Argument marking"
    head = re.split(r"[+/]", head)[0]
    if head in _TAG_TO_DIM:
        return _TAG_TO_DIM[head]
    for prefix, dim in _PREFIX_DIMS:
        if head.startswith(prefix):
            return dim
    return "Unknown"


@dataclass(frozen=True)
class FeatureStats:
    """Counts over a table's feature bundles (what a coverage report summarises).

    ``pos`` counts the part-of-speech tag of each entry (``"?"`` when a bundle has none),
    ``tags`` every top-level tag, ``dimensions`` the entries that mark each dimension
    (an entry counts once per dimension), ``unknown_tags`` the tags outside the schema.
    """

    n_entries: int = 0
    n_lemmas: int = 0
    n_bundles: int = 0
    pos: Mapping[str, int] = field(default_factory=dict)
    tags: Mapping[str, int] = field(default_factory=dict)
    dimensions: Mapping[str, int] = field(default_factory=dict)
    unknown_tags: tuple[str, ...] = ()
    mean_paradigm_size: float = 0.0


def feature_stats(entries: InflectionTable | Iterable[InflectionEntry]) -> FeatureStats:
    """Summarise the feature bundles of ``entries`` (see :class:`FeatureStats`).

    >>> s = feature_stats([InflectionEntry("a", "b", "N;PL"), InflectionEntry("a", "c", "N;SG")])
    >>> s.n_lemmas, s.pos["N"], s.dimensions["Number"]
    (1, 2, 2)
    """
    items = list(entries)
    pos: Counter = Counter()
    tags: Counter = Counter()
    dims: Counter = Counter()
    bundle_dims: dict[str, tuple[tuple[str, ...], str, frozenset[str]]] = {}
    for e in items:
        cached = bundle_dims.get(e.features)
        if cached is None:
            ts = split_features(e.features)
            p = next((t for t in ts if tag_dimension(t) == "Part of speech"), "?")
            ds = frozenset(tag_dimension(t, p) for t in ts)
            cached = bundle_dims[e.features] = (ts, p, ds)
        ts, p, ds = cached
        tags.update(ts)
        pos[p] += 1
        dims.update(ds)
    lemmas = {e.lemma for e in items}
    unknown = tuple(sorted(t for t in tags if tag_dimension(t) == "Unknown"))
    return FeatureStats(
        n_entries=len(items),
        n_lemmas=len(lemmas),
        n_bundles=len(bundle_dims),
        pos=dict(pos.most_common()),
        tags=dict(tags.most_common()),
        dimensions=dict(dims.most_common()),
        unknown_tags=unknown,
        mean_paradigm_size=(len(items) / len(lemmas)) if lemmas else 0.0,
    )
