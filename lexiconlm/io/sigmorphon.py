"""SIGMORPHON inflection shared-task files (2017, 2020, 2021, 2022, 2023) and system outputs.

Every edition stores one example per line, tab-separated, but the editions differ in
file names and in column order:

========  ======================================================  =====================
edition   file names                                              columns
========  ======================================================  =====================
2017      ``<name>-train-{low,medium,high}``, ``<name>-dev``,     lemma, form, features
          ``<name>-covered-test``, ``<name>-test``
          (``<name>-uncovered-test``); ``<name>`` is a language
          name such as ``scottish-gaelic``
2020      ``xxx.trn``, ``xxx.dev``, ``xxx.tst``                   lemma, form, features
2021      ``xxx.train``, ``xxx.dev``, ``xxx.test``,               lemma, form, features
          ``xxx.test.gold``
2022      ``xxx_small.train``, ``xxx_large.train``, ``xxx.dev``,  lemma, form, features
          ``xxx.test`` (covered), ``xxx.gold``
2023      ``xxx.trn``, ``xxx.dev``, ``xxx.tst``,                  lemma, **features**, form
          ``xxx.covered.{dev,tst}``
========  ======================================================  =====================

Covered test files have two columns, ``lemma<TAB>features``; their entries have
``form=None`` and the dataset has ``covered=True``. System outputs
(:func:`read_predictions`, e.g. ``ail.wuetal-transformer-augment.test.pred``) use
their edition's three-column layout.

How the edition is decided (:func:`detect_sigmorphon`):

1. ``edition=`` when given;
2. otherwise the file name's candidates (``.trn`` → 2020 or 2023, ``_small.train`` → 2022 ...),
   narrowed by a year in the folder name (``2020_task0/``, ``2022InflectionST/``);
3. the content is always checked: the column that looks like a UniMorph feature bundle
   (upper-case tags separated by ``;``) must be where the edition puts it. A disagreement
   is an error that names the edition(s) the content fits; when the name leaves several
   candidates the content picks among them.

Why one module of about 730 lines: one reader and writer for every edition's columns
(2017-2023), with the edition detection the readers share; per-edition modules would repeat the
validation.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lexiconlm.errors import DataFormatError, Problem, UnknownNameError
from lexiconlm.files import (
    ErrorPolicy,
    ProblemLog,
    RawFile,
    atomic_write_text,
    check_errors_policy,
    read_lines,
)
from lexiconlm.io._base import RepairTally, remove_inner_boms, resolve_language, unwritable
from lexiconlm.io.unimorph import (
    FeatureColumn,
    check_features,
    clearly_not_features,
    features_column,
    looks_like_features,
    reorder_hint,
)
from lexiconlm.types import InflectionDataset, InflectionEntry, Language

__all__ = [
    "EDITIONS",
    "LFM",
    "LMF",
    "SigmorphonFileInfo",
    "SigmorphonScan",
    "detect_sigmorphon",
    "read_sigmorphon",
    "read_predictions",
    "write_sigmorphon",
    "scan_sigmorphon_dir",
    "iter_sigmorphon_dir",
    "layout_of",
    "code_in_name",
]

EDITIONS: tuple[str, ...] = ("2017", "2020", "2021", "2022", "2023")
#: Column orders: lemma, form, features (2017–2022) and lemma, features, form (2023).
Layout = Literal["lemma-form-features", "lemma-features-form"]
LFM: Layout = "lemma-form-features"
LMF: Layout = "lemma-features-form"


def layout_of(edition: str) -> Layout:
    """The column order of an edition's three-column files."""
    return LMF if str(edition) == "2023" else LFM


def _layout_words(layout: str) -> str:
    return layout.replace("-", ", ")


@dataclass(frozen=True)
class SigmorphonFileInfo:
    """What a SIGMORPHON file is, from its name and content (see :func:`detect_sigmorphon`).

    Attributes:
        edition: ``"2017"`` ... ``"2023"``; ``""`` when neither the name, the folder nor the
            content decides between editions with the same layout (a warning says so).
        split: ``"train"``, ``"dev"``, ``"test"`` or ``"unknown"``.
        code: the language as the file name writes it (``amh``, ``heb_unvoc``, ``poma``,
            ``scottish-gaelic`` in 2017).
        setting: ``"small"``/``"large"`` (2022 training), ``"low"``/``"medium"``/``"high"`` (2017).
        covered: two columns (``lemma, features``): a test input without forms.
        path: the file.
        layout: :data:`LFM` or :data:`LMF`, the column order used to read it.
        prediction: a system output (``*.pred``).
        system: the system name a prediction file carries (``wuetal-transformer-augment``).
        reason: how the edition was decided.
    """

    edition: str
    split: str
    code: str
    setting: str = ""
    covered: bool = False
    path: str = ""
    layout: Layout = LFM
    prediction: bool = False
    system: str = ""
    reason: str = ""


# --------------------------------------------------------------------------- names

_PRED_SUFFIX = re.compile(r"\.(pred|prediction|predictions|out|output|hyp)$", re.I)


@dataclass(frozen=True)
class _NameInfo:
    code: str
    split: str
    candidates: tuple[str, ...]
    setting: str = ""
    covered: bool | None = None
    system: str = ""
    matched: bool = True


_SPLIT_WORD = {
    "trn": "train",
    "train": "train",
    "dev": "dev",
    "tst": "test",
    "test": "test",
    "gold": "test",
}
_NAME_RULES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"^(?P<code>.+?)-(?P<split>train)-(?P<setting>low|medium|high)$"), ("2017",)),
    (re.compile(r"^(?P<code>.+?)-(?P<split>dev)$"), ("2017",)),
    (
        re.compile(r"^(?P<code>.+?)-(?P<covered>covered-)?(?:uncovered-)?(?P<split>test)$"),
        ("2017",),
    ),
    (re.compile(r"^(?P<code>[^.]+)\.(?P<covered>covered)\.(?P<split>dev|tst)$"), ("2023",)),
    (re.compile(r"^(?P<code>[^.]+)_(?P<setting>small|large)\.(?P<split>train)$"), ("2022",)),
    (re.compile(r"^(?P<code>[^.]+)\.test\.(?P<split>gold)$"), ("2021",)),
    (re.compile(r"^(?P<code>[^.]+)\.(?P<split>gold)$"), ("2022",)),
    (re.compile(r"^(?P<code>[^.]+)\.(?P<split>trn|tst)$"), ("2020", "2023")),
    (re.compile(r"^(?P<code>[^.]+)\.(?P<split>train)$"), ("2021",)),
    (re.compile(r"^(?P<code>[^.]+)\.(?P<split>test)$"), ("2021", "2022")),
    (re.compile(r"^(?P<code>[^.]+)\.(?P<split>dev)$"), ("2020", "2021", "2022", "2023")),
)
# System outputs named after the test file they answer, with the system in the middle:
# ``ail.wuetal-transformer-augment.test`` (after the ``.pred`` suffix is removed).
_SYSTEM_RULE = re.compile(r"^(?P<code>[^.]+)\.(?P<system>.+)\.(?P<split>trn|dev|tst|train|test|gold)$")


def _parse_name(name: str) -> tuple[_NameInfo, bool]:
    """File name → (what it says, whether it is a prediction file)."""
    stem = _PRED_SUFFIX.sub("", name)
    prediction = stem != name
    for rule, candidates in _NAME_RULES:
        m = rule.match(stem)
        if m:
            g = m.groupdict()
            return (
                _NameInfo(
                    code=g["code"],
                    split=_SPLIT_WORD[g["split"]],
                    candidates=candidates,
                    setting=g.get("setting") or "",
                    covered=True if g.get("covered") else None,
                ),
                prediction,
            )
    m = _SYSTEM_RULE.match(stem)
    if m and prediction:
        split = m.group("split")
        cands = {
            "trn": ("2020", "2023"),
            "tst": ("2020", "2023"),
            "train": ("2021", "2022"),
            "test": ("2021", "2022"),
            "gold": ("2021", "2022"),
            "dev": EDITIONS[1:],
        }[split]
        return _NameInfo(m.group("code"), _SPLIT_WORD[split], cands, system=m.group("system")), prediction
    code = re.split(r"[._\-]", stem)[0]
    return _NameInfo(code, "test" if prediction else "unknown", EDITIONS, matched=False), prediction


_YEAR = re.compile(r"(?<!\d)(2017|2018|2019|2020|2021|2022|2023)(?!\d)")


def _folder_year(path: Path) -> str:
    """A year in the folder (or its parent) name, e.g. ``2020_task0``, ``baseline_predictions`` under ``2021_task0``."""
    for part in (path.parent.name, path.parent.parent.name):
        m = _YEAR.search(part)
        if m:
            return m.group(1)
    return ""


def code_in_name(path: str | os.PathLike) -> str:
    """The language code of a file named by a SIGMORPHON scheme (``""`` for any other name).

    >>> code_in_name("2022_part1/hun_small.train"), code_in_name("ail.wuetal-transformer.test.pred")
    ('hun', 'ail')
    >>> code_in_name("out.pred")
    ''
    """
    info, _ = _parse_name(Path(path).name)
    return info.code if info.matched or info.system else ""


def looks_like_sigmorphon_name(path: str | os.PathLike) -> bool:
    """True when the file name follows one of the SIGMORPHON naming schemes above."""
    info, prediction = _parse_name(Path(path).name)
    return info.matched or prediction


# --------------------------------------------------------------------------- content


def _content_shape(lines: Sequence[tuple[int, str]], limit: int = 1000) -> tuple[str | None, bool, int, FeatureColumn]:
    """(layout the content shows or None, covered?, lines sampled, where the features are)
    from the first ``limit`` data lines.

    The layout compares the second and third columns only (a lemma such as ``1`` or ``USA``
    does not stop a line from counting); :func:`features_column` also looks at the first.
    """
    n2 = n3 = 0
    lmf = lfm = 0
    sampled = 0
    sample: list[tuple[int, str]] = []
    for no, line in lines:
        if not line.strip():
            continue
        sampled += 1
        if sampled > limit:
            sampled = limit
            break
        f = line.split("\t")
        if len(f) == 2:
            n2 += 1
        elif len(f) == 3:
            n3 += 1
            sample.append((no, line))
            a, b = f[1].strip(), f[2].strip()
            lmf += looks_like_features(a) and clearly_not_features(b)
            lfm += looks_like_features(b) and clearly_not_features(a)
    layout = LMF if lmf > lfm else LFM if lfm > lmf else None
    return layout, n2 > n3, sampled, features_column(sample)


def _edition_from(
    path: Path, name: _NameInfo, explicit: str | None, layout: str | None, log: ProblemLog
) -> tuple[str, str]:
    """Decide the edition (see the module docstring); returns (edition or "", reason). Logs mismatches."""
    fits = [e for e in EDITIONS if layout is None or layout_of(e) == layout]
    if explicit is not None:
        edition, reason = explicit, "edition= given"
    else:
        year = _folder_year(path)
        if year and year in name.candidates:
            edition, reason = year, f"file name and folder ({path.parent.name})"
        elif len(name.candidates) == 1:
            edition, reason = name.candidates[0], "file name"
            if year and year != edition:
                log.warning(
                    None,
                    f"the folder name says {year} but the file name {path.name!r} follows the {edition} naming; "
                    f"read as {edition}",
                    f"pass edition='{year}' if the file really is from {year}",
                )
        else:
            narrowed = [e for e in name.candidates if e in fits]
            if len(narrowed) == 1:
                return narrowed[0], "file name and column order"
            if not narrowed:
                log.error(
                    None,
                    f"the columns are {_layout_words(layout or LFM)}, which no edition named like "
                    f"{path.name!r} ({', '.join(name.candidates)}) uses",
                    f"pass edition= explicitly (editions with this column order: {', '.join(fits)})",
                )
                return "", "no edition fits"
            log.warning(
                None,
                f"edition not determined: {path.name!r} fits {', '.join(narrowed)}"
                + ("" if layout is None else f" (all with columns {_layout_words(layout)})"),
                "pass edition= (or keep the files in a folder named after the year)",
            )
            return "", "ambiguous"
    if layout is not None and layout_of(edition) != layout:
        suggest = [e for e in name.candidates if e in fits] or fits
        log.error(
            None,
            f"the features are in column {2 if layout == LMF else 3} (columns {_layout_words(layout)}), "
            f"but edition {edition} ({reason}) puts them in column {2 if layout_of(edition) == LMF else 3} "
            f"(columns {_layout_words(layout_of(edition))})",
            f"pass edition='{suggest[-1]}'" + (f" (fits: {', '.join(suggest)})" if len(suggest) > 1 else ""),
        )
    return edition, reason


def _normalise_edition(edition: str | int | None) -> str | None:
    if edition is None:
        return None
    e = str(edition).strip()
    if e not in EDITIONS:
        err = UnknownNameError(
            e,
            [x for x in EDITIONS if x[-1] == e[-1:]] or list(EDITIONS),
            "Supported SIGMORPHON editions: " + ", ".join(EDITIONS) + ".",
        )
        err.kind = "SIGMORPHON edition"  # type: ignore[misc]
        raise err
    return e


def _detect(
    raw: RawFile, edition: str | None, log: ProblemLog, *, prediction: bool | None = None
) -> SigmorphonFileInfo:
    path = raw.path
    name, is_pred = _parse_name(path.name)
    layout, covered, sampled, found = _content_shape(raw.lines)
    if not sampled:
        layout = None
    if found.column == 0 and not covered:
        log.error(
            found.first_line,
            f"the features are in the first column on {found.votes[0]} of {found.sampled} lines "
            "sampled: columns out of order; no SIGMORPHON edition puts them there (2017-2022: "
            "lemma, form, features; 2023: lemma, features, form)",
            reorder_hint(found, [x for x in raw.lines if x[1].count("\t") == 2], ("lemma", "form", "features"))
            + "; or pass the edition whose order the fixed file follows",
        )
    ed, reason = _edition_from(path, name, edition, layout, log)
    if name.covered and not covered and sampled:
        log.warning(None, "the file name says covered but the lines have forms (3 columns); read with forms")
    is_pred = is_pred if prediction is None else prediction
    return SigmorphonFileInfo(
        edition=ed,
        split="test" if is_pred and name.split == "unknown" else name.split,
        code=name.code,
        setting=name.setting,
        covered=covered,
        path=str(path),
        layout=layout or layout_of(ed or "2022"),
        prediction=is_pred,
        system=name.system,
        reason=reason,
    )


def detect_sigmorphon(path: str | os.PathLike, *, edition: str | int | None = None) -> SigmorphonFileInfo:
    """Tell edition, split, language code, setting and coverage of a SIGMORPHON file.

    The name gives candidates, the folder name a year, and the content the column order
    (see the module docstring); ``edition=`` overrides name and folder but must agree
    with the content.

    Raises:
        DataFormatError: the content contradicts the edition (the message names the edition
            the columns fit), no edition fits, or the file is empty/binary/missing.

    Example:
        >>> detect_sigmorphon("2023_part1/amh.trn")  # doctest: +SKIP
        SigmorphonFileInfo(edition='2023', split='train', code='amh', setting='', covered=False, ...)
    """
    ed = _normalise_edition(edition)
    raw = read_lines(path)
    if not any(line.strip() for _, line in raw.lines):
        errs = [p for p in raw.log.items if p.severity == "error"]
        raise DataFormatError(errs or [Problem(str(path), None, "no data lines (only blank lines)")])
    log = ProblemLog(path)
    info = _detect(raw, ed, log)
    if log.n_errors:
        raise DataFormatError(log.items)
    return info


# --------------------------------------------------------------------------- reading


def _read(
    path: str | os.PathLike,
    *,
    edition: str | int | None,
    language: str | Language | None,
    errors: ErrorPolicy,
    prediction: bool,
) -> InflectionDataset:
    check_errors_policy(errors)
    ed = _normalise_edition(edition)
    raw = read_lines(path)
    log = raw.log
    info = _detect(raw, ed, log, prediction=prediction or None)
    context = "sigmorphon2023" if info.edition == "2023" else "sigmorphon"
    lang = resolve_language(language, info.code, context=context, log=log)
    tally = RepairTally()
    width = 2 if info.covered else 3
    cols = "lemma, features" if info.covered else _layout_words(info.layout)
    entries: list[InflectionEntry] = []
    n_blank = 0
    first_blank = 0
    for no, line in remove_inner_boms(raw.lines, log):
        if not line.strip():  # a line of U+FEFF alone is blank once they are removed
            n_blank += 1
            first_blank = first_blank or no
            continue
        f = line.split("\t")
        if len(f) != width:
            extra = ""
            if info.covered and len(f) == 3:
                extra = " (this covered file has 2 columns elsewhere)"
            elif not info.covered and len(f) == 2:
                extra = " (a form or the features are missing)"
            log.error(
                no,
                f"expected {width} tab-separated fields ({cols}), got {len(f)}{extra}: {line!r}",
                f"each line needs {cols.replace(', ', '<TAB>')}",
            )
            continue
        if info.covered:
            lemma, form, features = f[0], None, f[1]
        elif info.layout == LMF:
            lemma, features, form = f
        else:
            lemma, form, features = f
        # the first of the other columns that looks like a bundle (checked when features do not)
        other = next(
            (c for c in (form, lemma) if c is not None and looks_like_features(c.strip())),
            form if form is not None else lemma,
        )
        ok = True
        if not lemma.strip():
            log.error(no, "empty lemma", "fill in the lemma or remove the line")
            ok = False
        if form is not None and not form.strip():
            if prediction:
                tally.add("empty-prediction", no, "empty predicted forms (kept as empty strings)")
            else:
                # A paradigm cell with no written form (e.g. a defective imperative). The official
                # scripts score such lines too, so the entry is kept with form "" and counted.
                tally.add(
                    "empty-form",
                    no,
                    "empty forms (paradigm cells with no written form; kept as empty strings, "
                    "as the official scoring does)",
                )
        if ok and clearly_not_features(features.strip()) and looks_like_features(other.strip()):
            log.error(
                no,
                f"the features column holds {features!r}, which is not a feature bundle, while {other!r} is: "
                f"columns out of order (expected {cols})",
                "fix the column order of this line" + ("" if info.covered else " or pass the right edition="),
            )
            continue
        checked = check_features(features, no, log, tally)
        if checked is None or not ok:
            continue
        entries.append(InflectionEntry(lemma, form, checked))
    if n_blank:  # (found by fuzzing: looking for it in raw.lines raised StopIteration)
        log.warning(first_blank, f"{n_blank} blank line(s) skipped")
    tally.flush(log)
    problems = log.finish(errors)
    fmt = f"sigmorphon{info.edition}" if info.edition else "sigmorphon"
    if prediction:
        fmt += "-predictions"
    return InflectionDataset(
        language=lang,
        code=info.code,
        edition=info.edition,
        split=info.split,
        entries=tuple(entries),
        provenance=raw.provenance(fmt),
        setting=info.setting,
        covered=info.covered,
        problems=problems,
        n_blank_lines=n_blank,
    )


def read_sigmorphon(
    path: str | os.PathLike,
    *,
    edition: str | int | None = None,
    language: str | Language | None = None,
    errors: ErrorPolicy = "raise",
) -> InflectionDataset:
    """Read one SIGMORPHON shared-task file of any supported edition.

    Args:
        path: e.g. ``2020_task0/aka.trn``, ``2021_task0/ail.test.gold``, ``2022_part1/ang_small.train``,
            ``2023_part1/amh.tst`` or ``english-train-high``.
        edition: ``"2017"``, ``"2020"``, ``"2021"``, ``"2022"`` or ``"2023"``; detected when omitted
            (see :func:`detect_sigmorphon`).
        language: ISO 639-3 code, name or :class:`Language`; by default the code in the file name,
            looked up with the task's aliases (``jap`` → jpn and ``heb_unvoc`` → heb in 2023,
            ``poma`` ... in the other editions). An unknown code gives ``Language.unknown`` and a warning.
        errors: ``"raise"`` (one :class:`DataFormatError` listing every bad line) or ``"collect"``.

    Returns:
        :class:`InflectionDataset`; in a covered file every ``entry.form`` is ``None`` and
        ``covered`` is true. Blank lines are skipped, counted in ``n_blank_lines`` and in one
        warning.

    Raises:
        DataFormatError: bad lines (each ``file:line``), or columns that contradict the edition.
        UnknownLanguageError: ``language`` was given and is not in the catalog.

    Example:
        >>> ds = read_sigmorphon("2023_part1/amh.trn")   # doctest: +SKIP
        >>> ds.edition, ds.split, ds.entries[0].features  # doctest: +SKIP
        ('2023', 'train', 'V;PRS;NOM(1,SG)')
    """
    return _read(path, edition=edition, language=language, errors=errors, prediction=False)


def read_predictions(
    path: str | os.PathLike,
    *,
    edition: str | int | None = None,
    language: str | Language | None = None,
    errors: ErrorPolicy = "raise",
) -> InflectionDataset:
    """Read a system's output file: the edition's three columns with the predicted form.

    Same rules as :func:`read_sigmorphon`, except that an empty predicted form is kept
    (as ``""``, with a warning) instead of being an error, and any file name is accepted
    (the split defaults to ``"test"``; pass ``edition=`` and ``language=`` when the name
    does not say them). Match predictions to gold with ``entry.key`` (lemma, features).
    """
    return _read(path, edition=edition, language=language, errors=errors, prediction=True)


# --------------------------------------------------------------------------- writing


def write_sigmorphon(
    entries: InflectionDataset | Iterable[InflectionEntry],
    path: str | os.PathLike,
    *,
    edition: str | int | None = None,
) -> Path:
    """Write entries in an edition's layout, atomically; covered (2 columns) when every form is None.

    Args:
        entries: the entries (or a dataset, whose edition is used when ``edition`` is omitted).
        path: the output file.
        edition: decides the column order (2023: lemma, features, form; others: lemma, form, features).

    Raises:
        ValueError: no edition, a mix of covered and uncovered entries, an empty lemma or
            features, or a tab/line break inside a field (nothing is written).
    """
    if edition is None and isinstance(entries, InflectionDataset) and entries.edition:
        edition = entries.edition
    if edition is None:
        raise ValueError("write_sigmorphon needs edition= (the column order depends on it)")
    ed = _normalise_edition(edition)
    assert ed is not None
    items = list(entries)
    n_covered = sum(1 for e in items if e.form is None)
    if 0 < n_covered < len(items):
        raise ValueError(
            f"{n_covered} of {len(items)} entries have no form: write covered (all forms None) "
            "or uncovered files, not a mix"
        )
    covered = bool(items) and n_covered == len(items)
    lines: list[str] = []
    for e in items:
        values = [("lemma", e.lemma), ("features", e.features)] + ([] if covered else [("form", e.form or "")])
        for name, value in values:
            why = unwritable(value)
            if why:
                raise ValueError(f"{e!r}: {name} {why}; it cannot be written as TSV")
        if not e.lemma.strip():
            raise ValueError(f"{e!r}: empty lemma")
        if not e.features.strip() or e.features != e.features.strip():
            raise ValueError(f"{e!r}: features are empty or have leading/trailing spaces")
        if covered:
            lines.append(f"{e.lemma}\t{e.features}\n")
        elif layout_of(ed) == LMF:
            lines.append(f"{e.lemma}\t{e.features}\t{e.form}\n")
        else:
            lines.append(f"{e.lemma}\t{e.form}\t{e.features}\n")
    return atomic_write_text(path, "".join(lines))


# --------------------------------------------------------------------------- folders

#: Files beside the data that are documentation, score tables or metadata (never read as data).
_AUX_SUFFIXES = {
    ".md",
    ".txt",
    ".tsv",
    ".csv",
    ".json",
    ".jsonl",
    ".py",
    ".sh",
    ".yaml",
    ".yml",
    ".html",
    ".htm",
    ".pdf",
    ".png",
    ".res",
    ".zip",
    ".gz",
    ".tar",
    ".ipynb",
    ".cfg",
    ".toml",
}
_AUX_NAMES = {
    "readme",
    "license",
    "licence",
    "copying",
    "notice",
    "provenance",
    "makefile",
    "changelog",
}


@dataclass(frozen=True)
class SigmorphonScan:
    """Result of :func:`scan_sigmorphon_dir`: data files, skipped auxiliary files (with why) and problems."""

    files: tuple[SigmorphonFileInfo, ...]
    skipped: tuple[tuple[str, str], ...]
    problems: tuple[Problem, ...]


def _aux_reason(rel: Path) -> str:
    name = rel.name
    if any(part.startswith(".") for part in rel.parts):
        return "hidden file"
    if name.split(".")[0].lower() in _AUX_NAMES:
        return "documentation"
    suffixes = [s.lower() for s in Path(name).suffixes]
    if suffixes and suffixes[-1] in _AUX_SUFFIXES:
        return f"{suffixes[-1]} file (documentation, score table or metadata)"
    return ""


def scan_sigmorphon_dir(folder: str | os.PathLike, edition: str | int | None = None) -> SigmorphonScan:
    """Classify every file under ``folder`` (recursively): SIGMORPHON data, auxiliary, or a problem.

    Auxiliary files (``PROVENANCE.md``, ``*.txt`` score tables, ``*.tsv`` metadata such as
    ``languages_from_readme.tsv``, hidden files) are skipped and listed in ``skipped``.
    Every other file must be a SIGMORPHON data file that :func:`detect_sigmorphon` accepts;
    a file with an unrecognised name, or whose content contradicts its edition, becomes a
    problem (never silently dropped).
    """
    root = Path(folder)
    if not root.is_dir():
        raise DataFormatError.single(str(root), None, "not a folder", "give the folder of one edition")
    ed = _normalise_edition(edition)
    files: list[SigmorphonFileInfo] = []
    skipped: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = f.relative_to(root)
        reason = _aux_reason(rel)
        if reason:
            skipped.append((str(f), reason))
            continue
        if not looks_like_sigmorphon_name(f):
            problems.append(
                Problem(
                    str(f),
                    None,
                    "not a SIGMORPHON data file name and not a known auxiliary file; not read",
                    "rename it (e.g. xxx.trn, xxx_small.train, xxx-dev) or move it out of the folder",
                )
            )
            continue
        try:
            files.append(detect_sigmorphon(f, edition=ed))
        except DataFormatError as exc:
            problems.extend(exc.problems)
    return SigmorphonScan(tuple(files), tuple(skipped), tuple(problems))


def iter_sigmorphon_dir(
    folder: str | os.PathLike,
    edition: str | int | None = None,
    *,
    errors: ErrorPolicy = "raise",
) -> Iterator[SigmorphonFileInfo]:
    """Every SIGMORPHON data file under ``folder`` with its info, in path order.

    Raises:
        DataFormatError: (before yielding anything, with ``errors="raise"``) when some file
            looks like data but cannot be identified or contradicts its edition; every such
            file is listed. With ``errors="collect"`` those files are left out; call
            :func:`scan_sigmorphon_dir` to see them.

    Example:
        >>> for info in iter_sigmorphon_dir("sigmorphon/2022_part1"):   # doctest: +SKIP
        ...     ds = read_sigmorphon(info.path, edition=info.edition)
    """
    check_errors_policy(errors)
    scan = scan_sigmorphon_dir(folder, edition)
    if errors == "raise" and any(p.severity == "error" for p in scan.problems):
        raise DataFormatError([p for p in scan.problems if p.severity == "error"])
    return iter(scan.files)
