"""Detect a data file's format and summarise it (what ``lexiconlm inspect`` prints).

Detection looks at the file name first, then at the first non-blank lines:

=================  =============================================================
kind               recognised by
=================  =============================================================
``massive``        ``.jsonl`` whose first object has ``annot_utt``; TSV whose
                   header has an ``annot_utt`` column
``sigmorphon``     SIGMORPHON file names: ``xxx.trn/.dev/.tst`` (2020, 2023),
                   ``xxx.train/.dev/.test/.test.gold`` (2021), ``xxx_small.train``,
                   ``xxx_large.train``, ``xxx.gold`` (2022), ``lang-train-low``,
                   ``lang-dev``, ``lang-covered-test`` (2017), ``*.pred``
``unimorph``       3+ tab-separated columns whose third looks like a UniMorph
                   feature bundle (``N;DEF;PL``)
``text``           one column per line, or ``id<TAB>text`` where the first column
                   is an identifier (``b.MAR.1.1``, ``article1.text2``)
``lexicon``        2 columns (tab, or whitespace in MUSE files): GATITOS
                   ``en_xx.tsv``, Wiktionary ``<name>.txt``, generic TSV, PanLex
``not-data``       ``PROVENANCE.md``, ``README``, licences, HTML, JSON
=================  =============================================================

Pass ``kind=`` (and ``format=``) to skip detection.
"""

from __future__ import annotations

import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from lexiconlm.errors import DataFormatError, Problem, UnknownNameError
from lexiconlm.files import read_head
from lexiconlm.io.lexicons import detect_lexicon_format, read_lexicon
from lexiconlm.io.massive import read_massive
from lexiconlm.io.sigmorphon import read_sigmorphon
from lexiconlm.io.text import read_text
from lexiconlm.io.unimorph import looks_like_features, read_unimorph
from lexiconlm.types import Corpus, InflectionDataset, InflectionTable, Lexicon, NLUDataset
from lexiconlm.unicode_scripts import script_counts

__all__ = [
    "FormatGuess",
    "InspectReport",
    "KINDS",
    "detect_format",
    "read_any",
    "inspect_path",
    "iter_data_files",
    "special_file_kind",
    "list_data_files",
    "looks_like_features",
]

KINDS = ("lexicon", "unimorph", "sigmorphon", "massive", "text")

_NOT_DATA_SUFFIXES = {".md", ".html", ".htm", ".json", ".py", ".yaml", ".yml", ".pdf", ".png", ".csv"}
_NOT_DATA_NAMES = {"readme", "license", "licence", "copying", "notice", "provenance"}
# Index/metadata tables that ship beside data files (they are TSV but not records of a kind).
_METADATA_NAMES = {
    "languages.tsv",
    "index.tsv",
    "intents.tsv",
    "slots.tsv",
    "staged_files.tsv",
    "languages_from_readme.tsv",
    "baseline_accuracy_computed.tsv",
    "languages_staged.tsv",
}

# Result and score tables (official baseline figures, team scores): numbers, not records.
_RESULTS_NAME = re.compile(r"(^|[_.\-])(results?|scores?|accuracy|baseline_accuracy)([_.\-]|$)|\.res(\.txt)?$")

_SIGMORPHON_NAME = re.compile(
    r"""(
        \.(trn|dev|tst|train|test|gold|pred|out)$          # 2020/2021/2022/2023 splits, predictions
      | \.test\.gold$
      | _(small|large|hall|aug)\.train$
      | -(train-(low|medium|high)|dev|test|covered-test|uncovered-test)$   # 2017
    )""",
    re.X,
)
_ID_LIKE = re.compile(r"^[\w.:\-]*\d[\w.:\-]*$")
_MUSE_NAME = re.compile(r"^[a-z]{2,3}-[a-z]{2,3}(\.\d+-\d+)?\.txt$")
# Detection looks at the first 50 non-blank lines within this many bytes.
_HEAD_BYTES = 1 << 20


@dataclass(frozen=True)
class FormatGuess:
    """Result of :func:`detect_format`: ``kind`` picks the reader, ``format`` its variant."""

    kind: str
    format: str = "auto"
    reason: str = ""


def detect_format(path: str | os.PathLike) -> FormatGuess:
    """Guess which reader fits ``path`` (see the module docstring for the rules).

    Raises:
        DataFormatError: the file is missing, binary, empty or matches no known format.
    """
    p = Path(path)
    name = p.name
    lower = name.lower()
    if not p.is_file():
        if not p.exists():
            raise DataFormatError.single(str(p), None, "file not found", "check the path")
        if p.is_dir():
            raise DataFormatError.single(str(p), None, "is a folder, not a file", "give a file, or inspect the folder")
        raise DataFormatError.single(
            str(p),
            None,
            f"not a regular file: a {special_file_kind(p)}; not read",
            "save the content to a regular file first, e.g. head -c 10M DEVICE > sample.txt",
        )
    suffix = p.suffix.lower()
    if suffix in _NOT_DATA_SUFFIXES or lower.split(".")[0] in _NOT_DATA_NAMES:
        return FormatGuess("not-data", "", f"{suffix or name} files are documentation or metadata")
    if lower in _METADATA_NAMES:
        return FormatGuess("not-data", "", "an index/metadata table, not records")
    if _RESULTS_NAME.search(lower) or p.parent.name.lower() in ("baseline_results", "results"):
        return FormatGuess("not-data", "", "a table of results or scores, not records")
    with open(p, "rb") as fh:
        sample = fh.read(8192)
    if not sample:
        raise DataFormatError.single(str(p), None, "file is empty", "check that the file was written completely")
    if b"\x00" in sample:
        raise DataFormatError.single(
            str(p),
            1,
            "binary data (NUL bytes); this is not a UTF-8 text file",
            "decompress or convert the file to UTF-8 text first",
        )
    head = read_head(p, 50, n_bytes=_HEAD_BYTES)
    if not head:
        if p.stat().st_size < _HEAD_BYTES:
            raise DataFormatError.single(str(p), None, "file has only blank lines")
        raise DataFormatError.single(
            str(p),
            None,
            "no complete non-blank line in the first MiB (one huge line, or no line breaks)",
            "a data file has one record per line: check that the file is text with \\n line "
            "breaks, or pass --kind (and --format) to read it without detection",
        )
    first = head[0]

    if suffix == ".jsonl" or first.lstrip().startswith("{"):
        if "annot_utt" in first:
            return FormatGuess("massive", "jsonl", "JSON lines with an annot_utt field")
        raise DataFormatError.single(
            str(p),
            1,
            "JSON lines without an 'annot_utt' field: not a MASSIVE file",
            "MASSIVE jsonl records need id, intent, annot_utt (and utt, locale, partition)",
        )
    header = first.split("\t")
    if "annot_utt" in header:
        return FormatGuess("massive", "tsv", "TSV header with an annot_utt column")

    widths = Counter(len(line.split("\t")) for line in head)
    width = widths.most_common(1)[0][0]
    cols = [line.split("\t") for line in head]

    if _SIGMORPHON_NAME.search(lower):
        return FormatGuess("sigmorphon", "auto", "SIGMORPHON file name")
    if width >= 3:
        if sum(looks_like_features(c[2]) for c in cols if len(c) >= 3) >= 0.8 * len(cols):
            return FormatGuess("unimorph", "unimorph", "3 columns, the third a UniMorph feature bundle")
        if sum(looks_like_features(c[1]) for c in cols if len(c) >= 3) >= 0.8 * len(cols):
            return FormatGuess("sigmorphon", "2023", "lemma, features, form columns (SIGMORPHON 2023 order)")
        if sum(looks_like_features(c[0]) for c in cols if len(c) >= 3) >= 0.8 * len(cols):
            # read as UniMorph, whose reader refuses the order with the command that fixes it
            return FormatGuess("unimorph", "unimorph", "3 columns, the first a UniMorph feature bundle (out of order)")
    if width == 1:
        if _MUSE_NAME.match(lower) and all(len(line.split()) == 2 for line in head):
            return FormatGuess("lexicon", "muse", "space-separated word pairs (MUSE)")
        return FormatGuess("text", "lines", "one column: a sentence per line")
    if width == 2:
        ids = [c[0] for c in cols if len(c) == 2]
        if ids and sum(bool(_ID_LIKE.match(i)) for i in ids) >= 0.9 * len(ids) and len(set(ids)) == len(ids):
            return FormatGuess("text", "id_tsv", "id<TAB>text lines")
        return FormatGuess("lexicon", detect_lexicon_format(p), "two tab-separated columns")
    if width >= 3:
        return FormatGuess("lexicon", detect_lexicon_format(p), f"{width} tab-separated columns")
    raise DataFormatError.single(
        str(p), 1, "format not recognised", "pass --kind (lexicon, unimorph, sigmorphon, massive, text)"
    )


def read_any(path: str | os.PathLike, *, kind: str | None = None, format: str | None = None, errors: str = "raise"):
    """Read ``path`` with the reader of its (detected or given) kind; returns that reader's record set."""
    guess = FormatGuess(kind, format or "auto") if kind else detect_format(path)
    fmt = format or guess.format
    if guess.kind == "lexicon":
        return read_lexicon(path, format=fmt or "auto", errors=errors)
    if guess.kind == "unimorph":
        return read_unimorph(path, errors=errors)
    if guess.kind == "sigmorphon":
        edition = fmt if fmt and fmt[:1].isdigit() else None
        return read_sigmorphon(path, edition=edition, errors=errors)
    if guess.kind == "massive":
        return read_massive(path, errors=errors)
    if guess.kind == "text":
        return read_text(path, format=fmt if fmt in ("lines", "id_tsv") else "auto", errors=errors)
    if guess.kind == "not-data":
        raise DataFormatError.single(str(path), None, f"not a data file ({guess.reason})")
    raise UnknownNameError(guess.kind, [k for k in KINDS], "Valid kinds: " + ", ".join(KINDS))


@dataclass
class InspectReport:
    """Summary of one file: what it is, how many records, which languages and scripts, what is wrong."""

    path: str
    kind: str
    format: str
    n_records: int = 0
    n_lines: int = 0
    languages: list[str] = field(default_factory=list)
    scripts: dict[str, float] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def n_errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def n_warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity == "warning")

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "format": self.format,
            "records": self.n_records,
            "lines": self.n_lines,
            "languages": self.languages,
            "scripts": {k: round(v, 4) for k, v in self.scripts.items()},
            "stats": self.stats,
            "errors": self.n_errors,
            "warnings": self.n_warnings,
            "problems": [str(p) for p in self.problems],
        }


def _shares(texts: Iterable[str], limit: int = 5000) -> dict[str, float]:
    counts: Counter = Counter()
    for i, t in enumerate(texts):
        if i >= limit:
            break
        counts.update(script_counts(t))
    total = sum(counts.values())
    return {s: n / total for s, n in counts.most_common()} if total else {}


def _summarise(obj: Any, report: InspectReport) -> None:
    report.problems = list(getattr(obj, "problems", ()))
    prov = getattr(obj, "provenance", None)
    if prov is not None:
        report.n_lines = prov.n_lines
        report.format = prov.format or report.format
    if isinstance(obj, Lexicon):
        report.n_records = len(obj)
        report.languages = [obj.src.code, obj.tgt.code]
        report.scripts = _shares(e.target for e in obj.entries)
        report.stats = {
            "source words": len({e.source for e in obj.entries}),
            "multi-word entries": sum(1 for e in obj.entries if e.is_multiword),
            "duplicates removed": obj.n_duplicates,
        }
    elif isinstance(obj, InflectionTable):
        report.n_records = len(obj)
        report.languages = [obj.language.code]
        report.scripts = _shares(e.form or "" for e in obj.entries)
        report.stats = {
            "lemmas": len({e.lemma for e in obj.entries}),
            "feature bundles": len({e.features for e in obj.entries}),
            "blank lines": obj.n_blank_lines,
        }
    elif isinstance(obj, InflectionDataset):
        report.n_records = len(obj)
        report.languages = [obj.language.code]
        report.scripts = _shares(e.lemma + (e.form or "") for e in obj.entries)
        report.stats = {
            "edition": obj.edition,
            "split": obj.split + (f" ({obj.setting})" if obj.setting else ""),
            "covered": obj.covered,
            "lemmas": len({e.lemma for e in obj.entries}),
            "feature bundles": len({e.features for e in obj.entries}),
            "blank lines": obj.n_blank_lines,
        }
    elif isinstance(obj, NLUDataset):
        report.n_records = len(obj)
        report.languages = [f"{obj.language.code} ({obj.locale})" if obj.locale else obj.language.code]
        report.scripts = _shares(u.text for u in obj.utterances)
        report.stats = {
            "intents": len({u.intent for u in obj.utterances}),
            "slot types": len({s.label for u in obj.utterances for s in u.slots}),
            "slots": sum(len(u.slots) for u in obj.utterances),
            "partitions": ",".join(sorted({u.partition for u in obj.utterances if u.partition})) or "-",
            "blank lines": obj.n_blank_lines,
        }
    elif isinstance(obj, Corpus):
        report.n_records = len(obj)
        report.languages = [obj.language.code]
        report.scripts = _shares(s.text for s in obj.segments)
        report.stats = {
            "tokens (whitespace)": sum(len(s.text.split()) for s in obj.segments),
            "blank lines": obj.n_blank_lines,
        }


def inspect_path(path: str | os.PathLike, *, kind: str | None = None, format: str | None = None) -> InspectReport:
    """Detect, read (collecting every problem) and summarise one file. Never raises for bad data:
    a file that cannot be read at all gives a report whose problems say why."""
    p = Path(path)
    try:
        guess = FormatGuess(kind, format or "auto", "given") if kind else detect_format(p)
    except DataFormatError as exc:
        return InspectReport(str(p), "unknown", "", problems=list(exc.problems))
    report = InspectReport(str(p), guess.kind, guess.format)
    if guess.kind == "not-data":
        report.stats = {"reason": guess.reason}
        return report
    try:
        obj = read_any(p, kind=guess.kind, format=format or guess.format, errors="collect")
    except DataFormatError as exc:
        report.problems = list(exc.problems)
        return report
    _summarise(obj, report)
    return report


def iter_data_files(root: str | os.PathLike) -> list[Path]:
    """Every regular file under ``root`` (sorted, hidden files skipped); ``root`` itself if a file.

    :func:`list_data_files` also says what was left out and why.
    """
    return list_data_files(root)[0]


def special_file_kind(path: str | os.PathLike) -> str:
    """What a path that is not a regular file or folder is, in words (``"FIFO (named pipe)"``)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"cannot stat: {exc.strerror}"
    for test, name in (
        (stat.S_ISFIFO, "FIFO (named pipe)"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISSOCK, "socket"),
    ):
        if test(mode):
            return name
    return "special file"


def list_data_files(root: str | os.PathLike) -> tuple[list[Path], list[tuple[str, str]]]:
    """The regular files under ``root`` and what was left out, with why.

    Args:
        root: a file or a folder (read recursively).

    Returns:
        ``(files, skipped)``: the regular files (sorted; ``[root]`` when it is one) and
        ``(path, reason)`` for each entry left out: hidden files and folders (one entry
        each, not their content), FIFOs, devices and sockets (which reading would block
        on or never finish), and ``root`` itself when it is not a regular file or folder.
    """
    r = Path(root)
    if r.is_file():
        return [r], []
    if not r.is_dir():
        return [], [(str(r), f"not a regular file or folder: a {special_file_kind(r)}")]
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(r, followlinks=True):
        hidden = sorted(d for d in dirnames if d.startswith("."))
        skipped.extend((os.path.join(dirpath, d), "hidden folder") for d in hidden)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            f = Path(dirpath, name)
            if name.startswith("."):
                skipped.append((str(f), "hidden file"))
            elif f.is_file():
                files.append(f)
            elif not f.exists():
                skipped.append((str(f), "broken symbolic link"))
            else:
                skipped.append((str(f), f"not a regular file: a {special_file_kind(f)}"))
    return sorted(files), skipped
