"""One row per catalog language: which resources exist for it and how much.

:func:`compute_coverage` lists the files of every configured resource (see
:mod:`lexiconlm.coverage.config`), reads each file once with the project's reader for
its kind and keeps its statistics (language, counts) in a cache keyed by
``(absolute path, size, mtime_ns)``: a second run stats the files, reads only those
that changed and rebuilds the table from the cached statistics. The result is a
:class:`CoverageTable` with one row for each of the ~7,900 catalog languages, whether
or not any resource has it, and ``sources``: for each resource the folders, the files
read and skipped, the problems found and the languages the catalog does not know
(``unresolved``), which are reported there and never dropped silently.

Row columns (:data:`COLUMNS`, plus ``lex_<source>_entries`` and
``text_<source>_segments`` for each configured source; ``docs/coverage.md`` describes
each one) and the resource tier of a row (:func:`tier_of`, from
``resources/tiers.tsv``).

Example:
    >>> table = compute_coverage("configs/coverage/demo.yaml")    # doctest: +SKIP
    >>> table.row("ind")["lex_total_entries"], table.row("ind")["tier_label"]  # doctest: +SKIP
    (5888, '+text')
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
import os
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lexiconlm import __version__
from lexiconlm.coverage.config import CoverageConfig, ResourceSpec, load_config
from lexiconlm.errors import DataFormatError, LexiconLMError, UnknownNameError
from lexiconlm.files import atomic_write_text
from lexiconlm.phonology import installed_maps

__all__ = [
    "COLUMNS",
    "CACHE_VERSION",
    "RESOURCES",
    "CoverageTable",
    "TierRule",
    "compute_coverage",
    "has_resource",
    "load_or_compute",
    "save_coverage",
    "load_tiers",
    "tier_of",
]

#: Where ``lexiconlm coverage compute`` writes by default (relative to the working folder).
DEFAULT_TABLE = Path("runs") / "coverage" / "coverage.csv"

#: Columns every coverage table has, in order. Per-source columns are inserted:
#: ``lex_<source>_entries`` before ``lex_total_entries`` and ``text_<source>_segments``
#: before ``text_segments`` (see :attr:`CoverageTable.columns`).
COLUMNS: tuple[str, ...] = (
    "iso639_3",
    "name",
    "family",
    "genus",
    "macroarea",
    "scripts",
    "latitude",
    "longitude",
    "speakers",
    "endangerment",
    "scope",
    "lex_total_entries",
    "lex_sources",
    "unimorph_lemmas",
    "unimorph_forms",
    "unimorph_dimensions",
    "unimorph_n_dimensions",
    "sigmorphon_editions",
    "sigmorphon_max_train",
    "nlu_sets",
    "nlu_examples",
    "text_segments",
    "text_tokens",
    "text_sources",
    "epitran",
    "resource_kinds",
    "tier",
    "tier_label",
)
#: Columns :func:`~lexiconlm.coverage.tokenizer.coverage_with_tokenizer` adds.
TOKENIZER_COLUMNS: tuple[str, ...] = (
    "tok_unk_rate",
    "tok_fertility",
    "tok_script_coverage",
    "tok_n_words",
    "tok_sample",
)
#: Version of the per-file statistics kept in the cache; bump when they change.
CACHE_VERSION = "coverage-cache.v3"  # v3: CoNLL files read (and validated) with read_conll
#: Version of the row definition (recorded in every table's signature).
TABLE_VERSION = "coverage.v1"

_INT_COLUMNS = {
    "speakers", "lex_total_entries", "unimorph_lemmas", "unimorph_forms", "unimorph_n_dimensions",
    "sigmorphon_max_train", "nlu_examples", "text_segments", "text_tokens", "tier", "tok_n_words",
}
_FLOAT_COLUMNS = {"latitude", "longitude", "tok_unk_rate", "tok_fertility", "tok_script_coverage"}
_DYNAMIC_INT = re.compile(r"^(lex_[a-z0-9_]+_entries|text_[a-z0-9_]+_segments)$")
_MAX_PROBLEMS = 200


# --------------------------------------------------------------------------- resources & tiers

def _has_lexicon(r: dict) -> bool:
    return (r.get("lex_total_entries") or 0) > 0


def _has_unimorph(r: dict) -> bool:
    return (r.get("unimorph_forms") or 0) > 0


def _has_sigmorphon(r: dict) -> bool:
    return bool(r.get("sigmorphon_editions"))


def _has_text(r: dict) -> bool:
    return (r.get("text_segments") or 0) > 0


#: Resource names that :func:`has_resource`, :meth:`CoverageTable.languages_with` and the
#: ``requires`` column of ``resources/tiers.tsv`` accept (besides ``<kind>:<source>`` and
#: ``<column>>=N``).
RESOURCES: dict[str, Callable[[dict], bool]] = {
    "lexicon": _has_lexicon,
    "unimorph": _has_unimorph,
    "sigmorphon": _has_sigmorphon,
    "morphology": lambda r: _has_unimorph(r) or _has_sigmorphon(r),
    "nlu": lambda r: bool(r.get("nlu_sets")),
    "text": _has_text,
    "epitran": lambda r: bool(r.get("epitran")),
    "tokenizer": lambda r: r.get("tok_unk_rate") not in (None, ""),
    "any": lambda r: bool(r.get("resource_kinds")),
}
#: The kinds summarised in ``resource_kinds`` (a language's data, not tools such as epitran).
_KIND_ORDER = ("lexicon", "morphology", "nlu", "text")
_COND = re.compile(r"^(?P<col>[a-z0-9_]+)\s*(?P<op>>=|>|==|<=|<)\s*(?P<num>-?\d+(?:\.\d+)?)$")


def has_resource(row: dict, resource: str) -> bool:
    """Whether ``row`` has ``resource``.

    ``resource`` is one of :data:`RESOURCES` (``lexicon``, ``morphology``, ``unimorph``,
    ``sigmorphon``, ``nlu``, ``text``, ``epitran``, ``tokenizer``, ``any``), a source
    (``lexicons:gatitos`` or ``gatitos``, ``text:bible``, ``nlu:massive``,
    ``sigmorphon:2020``), or a comparison on a numeric column (``lex_total_entries>=1000``).

    Raises:
        UnknownNameError: with close names as suggestions.

    >>> has_resource({"lex_total_entries": 5}, "lexicon")
    True
    """
    return _predicate(resource, tuple(row))(row)


@lru_cache(maxsize=512)
def _predicate_cached(resource: str, columns: tuple[str, ...]) -> Callable[[dict], bool]:
    return _build_predicate(resource, columns)


def _predicate(resource: str, columns: Iterable[str]) -> Callable[[dict], bool]:
    return _predicate_cached(resource.strip(), tuple(columns))


def _build_predicate(resource: str, columns: tuple[str, ...]) -> Callable[[dict], bool]:
    if resource in RESOURCES:
        return RESOURCES[resource]
    m = _COND.match(resource)
    if m and m["col"] in columns:
        col, op, num = m["col"], m["op"], float(m["num"])
        ops = {
            ">=": lambda v: v >= num, ">": lambda v: v > num, "==": lambda v: v == num,
            "<=": lambda v: v <= num, "<": lambda v: v < num,
        }[op]
        return lambda r: r.get(col) not in (None, "") and ops(float(r[col]))
    kind, _, name = resource.partition(":")
    if not name:
        kind, name = "", resource
    kinds = {"lexicons": "lex", "lexicon": "lex", "text": "text", "nlu": "nlu", "sigmorphon": "sig"}
    lex_col, text_col = f"lex_{name}_entries", f"text_{name}_segments"
    if kinds.get(kind, "lex") == "lex" and lex_col in columns:
        return lambda r: (r.get(lex_col) or 0) > 0
    if kinds.get(kind, "text") == "text" and text_col in columns:
        return lambda r: (r.get(text_col) or 0) > 0
    if kind == "nlu":
        pat = re.compile(rf"(^|;){re.escape(name)}:")
        return lambda r: bool(pat.search(r.get("nlu_sets") or ""))
    if kind == "sigmorphon":
        return lambda r: name in (r.get("sigmorphon_editions") or "").split(",")
    known = sorted(
        {*RESOURCES, *(f"lexicons:{c[4:-8]}" for c in columns if c.startswith("lex_") and c.endswith("_entries")
                       and c != "lex_total_entries"),
         *(f"text:{c[5:-9]}" for c in columns if c.startswith("text_") and c.endswith("_segments")
           and c != "text_segments")}
    )
    err = UnknownNameError(
        resource, difflib.get_close_matches(resource, known, n=3, cutoff=0.5),
        "Known: " + ", ".join(known) + ", nlu:<set>, sigmorphon:<edition>, or <column>>=N.",
    )
    err.kind = "resource"  # type: ignore[misc]
    raise err


@dataclass(frozen=True)
class TierRule:
    """One row of ``resources/tiers.tsv``: a tier number, its label and what it requires."""

    tier: int
    label: str
    requires: tuple[str, ...]
    description: str = ""


@lru_cache(maxsize=8)
def _tiers_from(path: str, mtime_ns: int) -> tuple[TierRule, ...]:
    rules: list[TierRule] = []
    problems: list[str] = []
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    header = None
    for no, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if header is None:
            header = fields
            if header[:3] != ["tier", "label", "requires"]:
                problems.append(f"{path}:{no}: header must start with tier, label, requires; got {header!r}")
                break
            continue
        if len(fields) != len(header):
            problems.append(f"{path}:{no}: expected {len(header)} tab-separated fields, got {len(fields)}")
            continue
        try:
            tier = int(fields[0])
        except ValueError:
            problems.append(f"{path}:{no}: tier {fields[0]!r} is not a whole number")
            continue
        requires = tuple(x.strip() for x in fields[2].split(",") if x.strip())
        rules.append(TierRule(tier, fields[1], requires, fields[3] if len(fields) > 3 else ""))
    tiers = [r.tier for r in rules]
    if tiers != sorted(tiers) or len(set(tiers)) != len(tiers):
        problems.append(f"{path}: tiers must be listed once each, in increasing order (got {tiers})")
    if rules and rules[0].requires:
        problems.append(f"{path}: the first tier must require nothing (it is the fallback)")
    if not rules:
        problems.append(f"{path}: no tiers defined")
    if problems:
        from lexiconlm.errors import Problem

        raise DataFormatError([Problem(path, None, p) for p in problems])
    return tuple(rules)


def load_tiers(path: str | os.PathLike | None = None) -> tuple[TierRule, ...]:
    """The tier definitions (default ``resources/tiers.tsv``), lowest first.

    The file has columns ``tier, label, requires, description``; ``requires`` is a
    comma-separated list of resources that :func:`has_resource` accepts. A language's
    tier is the highest one whose requirements it meets *and* that of every tier below
    it: the tiers form a ladder.
    """
    if path is None:
        from lexiconlm.resources import resource_path

        path = resource_path("tiers.tsv")
    p = Path(path)
    return _tiers_from(str(p), p.stat().st_mtime_ns)


def tier_of(row: dict, tiers: Sequence[TierRule] | None = None) -> tuple[int, str]:
    """The resource tier of a coverage row: ``(tier, label)``.

    Walks up the ladder of ``resources/tiers.tsv`` and stops at the first tier whose
    requirements the row does not meet.

    >>> tier_of({"lex_total_entries": 10, "unimorph_forms": 0, "sigmorphon_editions": ""})
    (1, 'lexicon')
    """
    rules = tiers if tiers is not None else load_tiers()
    best = rules[0]
    cols = tuple(row)
    for rule in rules[1:]:
        if all(_predicate(req, cols)(row) for req in rule.requires):
            best = rule
        else:
            break
    return best.tier, best.label


# --------------------------------------------------------------------------- the table


def _convert(col: str, value: str) -> Any:
    if value == "":
        return None if col in _FLOAT_COLUMNS or col in ("speakers", "tok_n_words") else (
            0 if col in _INT_COLUMNS or _DYNAMIC_INT.match(col) else ""
        )
    if col in _INT_COLUMNS or _DYNAMIC_INT.match(col):
        return int(value)
    if col in _FLOAT_COLUMNS:
        return float(value)
    return value


def _sidecar(path: Path) -> Path:
    return path.with_name(path.stem + ".sources.json")


@dataclass
class CoverageTable:
    """Coverage rows, one per catalog language, with what was read to make them.

    Attributes:
        rows: dicts whose keys are :attr:`columns` (:data:`COLUMNS` plus per-source columns).
        sources: per resource (``lexicons:gatitos``, ``unimorph``, ``sigmorphon:2020``,
            ``nlu:massive``, ``text:bible``, ``epitran``): ``kind``, ``name``, ``folders``,
            ``absent`` (configured paths that do not exist), ``files`` (data files),
            ``files_read`` (read in this run), ``files_cached``, ``skipped`` (file, reason),
            ``problems`` (error messages, ``file:line: ...``), ``n_problems``, ``warnings``,
            ``unresolved`` (``{"name", "file"}`` of languages the catalog does not know),
            ``languages`` (catalog languages with data), ``seconds`` (listing and reading).
        columns: the column order.
        signature: what produced the table, e.g. ``coverage.v1|tiers:1a2b3c4d|lexiconlm:0.1.0|lexicons:...``.
        seconds: wall time of the computation (0 when read from a file).
    """

    rows: list[dict]
    sources: dict = field(default_factory=dict)
    columns: tuple[str, ...] = COLUMNS
    signature: str = ""
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.rows and self.columns == COLUMNS and tuple(self.rows[0]) != COLUMNS:
            self.columns = tuple(self.rows[0])
        self._index: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.rows)

    def row(self, code: str) -> dict:
        """The row of a catalog code (``swh``); any code, tag or name the catalog resolves works too.

        Raises:
            UnknownLanguageError: the catalog does not know ``code`` (with suggestions).
        """
        if self._index is None:
            self._index = {r["iso639_3"]: i for i, r in enumerate(self.rows)}
        i = self._index.get(code)
        if i is None:
            from lexiconlm.languages import get_catalog

            i = self._index.get(get_catalog().lookup(code).iso639_3)
            if i is None:
                from lexiconlm.errors import UnknownLanguageError

                raise UnknownLanguageError(code, (), "The catalog knows it, but this table has no row for it.")
        return self.rows[i]

    def to_records(self) -> list[dict]:
        """Copies of the rows (safe to modify)."""
        return [dict(r) for r in self.rows]

    def to_pandas(self):
        """The rows as a :class:`pandas.DataFrame` (needs pandas: ``pip install 'lexiconlm[app]'``)."""
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - depends on the environment
            from lexiconlm.errors import MissingDependencyError

            raise MissingDependencyError("CoverageTable.to_pandas", "app", "pandas") from None
        return pd.DataFrame(self.rows, columns=list(self.columns))

    def languages_with(self, resource: str) -> list[dict]:
        """Rows that have ``resource`` (see :func:`has_resource` for the names accepted).

        Example:
            >>> [r["iso639_3"] for r in table.languages_with("unimorph")][:3]  # doctest: +SKIP
            ['ail', 'ame', 'amh']
        """
        pred = _predicate(resource, self.columns)
        return [r for r in self.rows if pred(r)]

    @property
    def source_names(self) -> dict[str, list[str]]:
        """Configured source names per kind, from the per-source columns: ``{"lexicons": [...], "text": [...]}``."""
        lex = [c[4:-8] for c in self.columns if c.startswith("lex_") and c.endswith("_entries") and c != "lex_total_entries"]
        text = [c[5:-9] for c in self.columns if c.startswith("text_") and c.endswith("_segments") and c != "text_segments"]
        return {"lexicons": lex, "text": text}

    def to_csv(self, path: str | os.PathLike) -> Path:
        """Write the rows as CSV (UTF-8, header = :attr:`columns`) and, beside it,
        ``<name>.sources.json`` with the sources and signature; both atomically."""
        p = Path(path)
        import io

        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.columns)
        for r in self.rows:
            writer.writerow(["" if r.get(c) is None else _fmt(r.get(c)) for c in self.columns])
        atomic_write_text(p, buf.getvalue())
        meta = {
            "signature": self.signature,
            "columns": list(self.columns),
            "seconds": round(self.seconds, 3),
            "sources": self.sources,
        }
        atomic_write_text(_sidecar(p), json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
        return p

    @classmethod
    def from_csv(cls, path: str | os.PathLike) -> "CoverageTable":
        """Read a table written by :meth:`to_csv` (numbers come back as int/float, empty
        numeric cells as ``None`` or 0); ``sources`` and ``signature`` come from the
        ``.sources.json`` beside it when present.

        Raises:
            DataFormatError: the file is missing or is not a coverage table.
        """
        p = Path(path)
        if not p.is_file():
            raise DataFormatError.single(
                str(p), None, "no such coverage table",
                "compute one with: lexiconlm coverage compute --config configs/coverage/shared.yaml "
                f"--out {p}",
            )
        with open(p, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header or header[0] != "iso639_3":
                raise DataFormatError.single(str(p), 1, "not a coverage table (the first column must be iso639_3)")
            rows = []
            for no, fields in enumerate(reader, start=2):
                if len(fields) != len(header):
                    raise DataFormatError.single(str(p), no, f"expected {len(header)} fields, got {len(fields)}")
                rows.append({c: _convert(c, v) for c, v in zip(header, fields, strict=True)})
        meta: dict = {}
        side = _sidecar(p)
        if side.is_file():
            try:
                meta = json.loads(side.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError):
                meta = {}
        return cls(rows, meta.get("sources", {}), tuple(header), meta.get("signature", ""))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float
    return str(value)


# --------------------------------------------------------------------------- the cache


def _catalog_fingerprint() -> str:
    """Size and mtime of the catalog files: resolved language codes depend on them."""
    from lexiconlm.resources import resources_dir

    parts = []
    for name in ("languages.tsv", "language_aliases.tsv"):
        try:
            st = (resources_dir() / name).stat()
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{name}:-")
    return "|".join(parts)


class _StatsCache:
    """Per-file statistics keyed by ``(kind key, absolute path)`` and valid while size and mtime_ns match."""

    def __init__(self, path: Path | None, enabled: bool):
        self.path = path
        self.enabled = enabled and path is not None
        self.fingerprint = f"{CACHE_VERSION}|lexiconlm:{__version__}|{_catalog_fingerprint()}"
        self.entries: dict[str, dict] = {}
        self.seen: set[str] = set()
        self.changed = False
        if self.enabled and path is not None and path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError, UnicodeDecodeError):
                data = {}
            if isinstance(data, dict) and data.get("fingerprint") == self.fingerprint:
                self.entries = data.get("files", {})
            else:
                self.changed = True  # stale or unreadable: rewritten at the end

    @staticmethod
    def key(kind_key: str, path: Path) -> str:
        return f"{kind_key}\t{path}"

    def get(self, kind_key: str, path: Path, st: os.stat_result) -> dict | None:
        key = self.key(kind_key, path)
        self.seen.add(key)
        e = self.entries.get(key)
        if e is not None and e.get("size") == st.st_size and e.get("mtime_ns") == st.st_mtime_ns:
            return e["stats"]
        return None

    def put(self, kind_key: str, path: Path, st: os.stat_result, stats: dict) -> None:
        self.entries[self.key(kind_key, path)] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "stats": stats}
        self.seen.add(self.key(kind_key, path))
        self.changed = True

    def save(self) -> None:
        if not self.enabled or self.path is None:
            return
        gone = [k for k in self.entries if k not in self.seen and not os.path.exists(k.split("\t", 1)[1])]
        for k in gone:  # files deleted since they were cached
            del self.entries[k]
        if not self.changed and not gone:
            return
        data = {"fingerprint": self.fingerprint, "files": self.entries}
        try:
            atomic_write_text(self.path, json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        except OSError as exc:  # a read-only cache folder must not make the table fail
            print(f"warning: cannot write the coverage cache {self.path}: {exc}", file=sys.stderr)


# --------------------------------------------------------------------------- listing files

# Names that are never data, whatever the folder (documentation, licences, hidden files).
_DOC_NAMES = {"readme", "license", "licence", "copying", "notice", "provenance", "changelog"}


def _walk(path: Path) -> list[Path]:
    """Every regular file under ``path`` (or ``path`` itself), hidden ones and documentation left out."""
    if path.is_file():
        return [path]
    out: list[Path] = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(files):
            if f.startswith(".") or f.split(".")[0].lower() in _DOC_NAMES:
                continue
            out.append(Path(root) / f)
    return out


def _lexicon_files(path: Path) -> list[Path]:
    """Lexicon files of a folder tree (:func:`iter_lexicon_files` for each folder), or the file itself."""
    from lexiconlm.io.lexicons import iter_lexicon_files

    if path.is_file():
        return [path]
    out: list[Path] = []
    for root, dirs, _files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(iter_lexicon_files(root))
    return out


# --------------------------------------------------------------------------- per-file statistics


def _context(name: str) -> str | None:
    """The catalog's alias context for a resource name (``gatitos``, ``udhr`` ...), if it has one."""
    from lexiconlm.languages import get_catalog

    return name if name in get_catalog().contexts else None


def _lang_fields(lang) -> dict:
    return {"lang": lang.iso639_3, "name": lang.name}


def _errors(problems) -> tuple[int, int, list[str]]:
    errs = [p for p in problems if p.severity == "error"]
    return len(errs), len(problems) - len(errs), [str(p) for p in errs[:5]]


def _lexicon_record(lex) -> dict:
    n_err, n_warn, msgs = _errors(lex.problems)
    return {
        **_lang_fields(lex.tgt), "src": lex.src.iso639_3, "entries": len(lex),
        "errors": n_err, "warnings": n_warn, "problems": msgs,
    }


def _lexicon_stats(files: list[Path], context: str | None) -> list[dict]:
    """Statistics of many lexicon files, read in batches with the parallel reader."""
    from lexiconlm.io.lexicons import read_lexicons

    out: list[dict] = []
    batch: list[Path] = []
    size = 0

    def flush() -> None:
        nonlocal batch, size
        if not batch:
            return
        try:
            lexicons = read_lexicons(batch, errors="collect", context=context)
        except (LexiconLMError, OSError, ValueError):
            lexicons = None
        if lexicons is None:  # one bad file must not hide the others: read them one by one
            for f in batch:
                try:
                    one = read_lexicons([f], errors="collect", context=context, workers=0)[0]
                except (LexiconLMError, OSError, ValueError) as exc:
                    out.append({"error": f"{f}: {exc}", "n_errors": 1})
                    continue
                out.append(_lexicon_record(one))
        else:
            out.extend(_lexicon_record(lex) for lex in lexicons)
        batch, size = [], 0

    for f in files:
        batch.append(f)
        try:
            size += f.stat().st_size
        except OSError:
            pass
        if size > (24 << 20):  # bounds the memory of the entries built at once
            flush()
    flush()
    return out


def _lemma_hashes(lemmas: Iterable[str]) -> list[int]:
    """64-bit digests of lemmas, so that tables of one language can be unioned from the cache."""
    return sorted({int.from_bytes(hashlib.blake2b(x.encode("utf-8"), digest_size=8).digest(), "big") >> 1
                   for x in lemmas})


def _unimorph_stats(path: Path, context: str | None) -> dict:
    from lexiconlm.io.detect import detect_format
    from lexiconlm.io.unimorph import feature_stats, read_unimorph

    guess = detect_format(path)
    if guess.kind == "not-data":
        return {"skip": guess.reason or "not data"}
    table = read_unimorph(path, errors="collect")
    stats = feature_stats(table)
    n_err, n_warn, msgs = _errors(table.problems)
    dims = sorted(d for d in stats.dimensions if d not in ("Unknown",))
    return {
        **_lang_fields(table.language), "forms": len(table), "lemmas": stats.n_lemmas,
        "lemma_hashes": _lemma_hashes(e.lemma for e in table.entries), "dimensions": dims,
        "errors": n_err, "warnings": n_warn, "problems": msgs,
    }


def _sigmorphon_stats(path: Path, edition: str | None) -> dict:
    from lexiconlm.io.detect import detect_format
    from lexiconlm.io.sigmorphon import EDITIONS, detect_sigmorphon
    from lexiconlm.languages import get_catalog

    guess = detect_format(path)
    if guess.kind == "not-data":
        return {"skip": guess.reason or "not data"}
    if guess.kind != "sigmorphon":
        return {"skip": f"not a SIGMORPHON file name (looks like {guess.kind})"}
    info = detect_sigmorphon(path, edition=edition if edition in EDITIONS else None)
    if info.prediction:
        return {"skip": "system output (predictions)"}
    data = path.read_bytes()
    n = sum(1 for line in data.split(b"\n") if line.strip())
    ed = info.edition
    cat = get_catalog()
    ctx = f"sigmorphon{ed}" if ed else "sigmorphon"
    lang = cat.find(info.code, context=ctx)
    if lang is None and "-" in info.code:  # 2017 names such as scottish-gaelic
        lang = cat.find(info.code.replace("-", " "), context=ctx)
    return {
        "lang": lang.iso639_3 if lang else "", "name": lang.name if lang else info.code,
        "code": info.code, "edition": ed, "split": info.split, "setting": info.setting,
        "covered": info.covered, "examples": n,
    }


_TAG = re.compile(r"^(O|[BIES]-\S+|[BIES]|[A-Z]+)$")
_NAME_CODE = re.compile(r"^([a-z]{2,3})(?=$|[._\-])")


def _looks_like_conll(path: Path) -> bool:
    """``token tag`` lines with a BIO tag last on (nearly) every sampled line."""
    lines = []
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw.decode("utf-8", errors="replace").strip()
            if line:
                lines.append(line)
                if len(lines) >= 50:
                    break
    if not lines:
        return False
    ok = sum(1 for ln in lines if len(ln.split()) >= 2 and _TAG.match(ln.split()[-1]) and "[" not in ln)
    return ok >= 0.9 * len(lines) and any(ln.split()[-1] == "O" for ln in lines)


_SPLITS = {"train": "train", "trn": "train", "dev": "dev", "valid": "dev", "validation": "dev",
           "test": "test", "tst": "test", "devtest": "test"}


def _split_of(path: Path) -> str:
    """``train``/``dev``/``test`` from any part of the file name (``amh.dev.txt``), else the folder (``test/``)."""
    for part in reversed(re.split(r"[._\-]+", path.name.lower())):
        if part in _SPLITS:
            return _SPLITS[part]
    return _SPLITS.get(path.parent.name.lower(), "unknown")


def _conll_stats(path: Path, context: str | None) -> dict:
    """Sentences of a CoNLL file (read and validated by :func:`lexiconlm.io.conll.read_conll`),
    its split and its language from the file name."""
    from lexiconlm.languages import get_catalog
    from lexiconlm.io.conll import read_conll

    ds = read_conll(path, errors="collect")
    n_sent = len(ds)
    m = _NAME_CODE.match(path.name)
    code = m.group(1) if m else path.name.split(".")[0]
    lang = get_catalog().find(code, context=context, names=False)
    split = _split_of(path)
    n_err, n_warn, msgs = _errors(ds.problems)
    return {
        "format": "conll", "lang": lang.iso639_3 if lang else "", "name": lang.name if lang else code,
        "partitions": {split: n_sent}, "examples": n_sent,
        "errors": n_err, "warnings": n_warn, "problems": msgs,
    }


def _nlu_stats(path: Path, context: str | None) -> dict:
    from lexiconlm.io.detect import detect_format
    from lexiconlm.io.massive import read_massive
    from lexiconlm.languages import get_catalog

    if _looks_like_conll(path):
        return _conll_stats(path, context)
    guess = detect_format(path)
    if guess.kind == "not-data":
        return {"skip": guess.reason or "not data"}
    if guess.kind != "massive":
        return {"error": f"{path}: not an NLU file: expected MASSIVE TSV/JSON lines or CoNLL `token tag` lines "
                         f"(detected as {guess.kind})"}
    ds = read_massive(path, errors="collect")
    n_err, n_warn, msgs = _errors(ds.problems)
    lang = ds.language
    if ds.locale:
        lang = get_catalog().find(ds.locale, context=context or "massive") or lang
    parts = Counter(u.partition or "unknown" for u in ds.utterances)
    return {
        "format": "massive", "lang": lang.iso639_3, "name": lang.name or ds.locale, "locale": ds.locale,
        "partitions": dict(parts), "examples": len(ds), "errors": n_err, "warnings": n_warn, "problems": msgs,
    }


def _text_stats(path: Path, context: str | None) -> dict:
    from lexiconlm.io.detect import detect_format
    from lexiconlm.io.text import read_text

    guess = detect_format(path)
    if guess.kind == "not-data":
        return {"skip": guess.reason or "not data"}
    corpus = read_text(path, errors="collect", context=context)
    n_err, n_warn, msgs = _errors(corpus.problems)
    return {
        **_lang_fields(corpus.language), "segments": len(corpus),
        "tokens": sum(len(s.text.split()) for s in corpus.segments),
        "errors": n_err, "warnings": n_warn, "problems": msgs,
    }


# --------------------------------------------------------------------------- epitran

_EPITRAN_CODE = re.compile(r"^(?P<lang>[a-z]{3})-(?P<script>[A-Za-z]{4})(?:[-_](?P<variant>.+))?$")


def _epitran_index(catalog) -> tuple[dict[str, list[str]], dict]:
    folder, codes = installed_maps()
    source: dict = {
        "kind": "epitran", "name": "epitran", "folders": [str(folder)] if folder else [], "absent": [],
        "files": len(codes), "files_read": 0, "files_cached": 0, "skipped": [], "problems": [],
        "n_problems": 0, "warnings": 0, "unresolved": [], "languages": 0,
    }
    if folder is None:
        source["absent"] = ["epitran is not installed: pip install 'lexiconlm[phon]'"]
    out: dict[str, list[str]] = defaultdict(list)
    for code in codes:
        m = _EPITRAN_CODE.match(code)
        lang = catalog.find(m["lang"], names=False) if m else None
        if lang is None:
            source["unresolved"].append({"name": code, "file": str(folder / f"{code}.csv") if folder else code})
            continue
        script = m["script"].capitalize()
        tag = f"{m['lang']}-{script}" + (f"-{m['variant']}" if m["variant"] else "")
        out[lang.iso639_3].append(tag)
    source["languages"] = sum(1 for c in out if c in catalog)
    return out, source


# --------------------------------------------------------------------------- computing


@dataclass
class _FileStat:
    """One data file's statistics, tagged with the resource it belongs to."""

    spec: ResourceSpec
    path: Path
    stats: dict


def _new_source(spec: ResourceSpec) -> dict:
    return {
        "kind": spec.kind, "name": spec.name, "folders": [str(p) for p in spec.paths], "absent": [],
        "files": 0, "files_read": 0, "files_cached": 0, "skipped": [], "problems": [], "n_problems": 0,
        "warnings": 0, "unresolved": [], "languages": 0,
    }


def _kind_key(spec: ResourceSpec) -> str:
    ctx = _context(spec.name) if spec.kind != "sigmorphon" else spec.name
    return f"{spec.kind}|{ctx or ''}"


def _collect(
    config: CoverageConfig, *, use_cache: bool, progress: bool
) -> tuple[list[_FileStat], dict[str, dict], _StatsCache]:
    """Stat every configured file; read those the cache does not hold. Returns the stats and sources."""
    cache = _StatsCache(config.cache_path, use_cache)
    stats: list[_FileStat] = []
    sources: dict[str, dict] = {}
    for spec in config.resources():
        t0 = time.perf_counter()
        src = sources[spec.key] = _new_source(spec)
        kind_key = _kind_key(spec)
        files: list[Path] = []
        for p in spec.paths:
            if not p.exists():
                src["absent"].append(str(p))
                continue
            p = p.resolve()  # once per folder: the files below are then absolute already
            try:
                files.extend(_lexicon_files(p) if spec.kind == "lexicons" else _walk(p))
            except DataFormatError as exc:
                src["problems"].extend(str(x) for x in exc.problems)
        files = list(dict.fromkeys(files))
        todo: list[tuple[Path, os.stat_result]] = []
        for f in files:
            try:
                st = f.stat()
            except OSError as exc:
                src["problems"].append(f"{f}: cannot stat: {exc.strerror}")
                continue
            hit = cache.get(kind_key, f, st) if cache.enabled else None
            if hit is not None:
                src["files_cached"] += 1
                stats.append(_FileStat(spec, f, hit))
            else:
                todo.append((f, st))
        if todo and progress:
            print(f"coverage: reading {len(todo)} of {len(files)} files of {spec.key}", file=sys.stderr, flush=True)
        for f, st, one in _read_files(spec, todo):
            src["files_read"] += 1
            cache.put(kind_key, f, st, one)
            stats.append(_FileStat(spec, f, one))
        src["seconds"] = round(time.perf_counter() - t0, 3)
    return stats, sources, cache


def _read_files(spec: ResourceSpec, todo: list[tuple[Path, os.stat_result]]) -> Iterator[tuple[Path, os.stat_result, dict]]:
    """Read the files the cache does not hold; an unreadable file yields its error instead of stopping the run."""
    if not todo:
        return
    ctx = _context(spec.name)
    if spec.kind == "lexicons":
        results = _lexicon_stats([f for f, _ in todo], ctx)
        for (f, st), one in zip(todo, results, strict=True):
            yield f, st, one
        return
    for f, st in todo:
        try:
            if spec.kind == "unimorph":
                one = _unimorph_stats(f, ctx)
            elif spec.kind == "sigmorphon":
                one = _sigmorphon_stats(f, spec.name)
            elif spec.kind == "nlu":
                one = _nlu_stats(f, ctx)
            else:
                one = _text_stats(f, ctx)
        except (DataFormatError, LexiconLMError) as exc:
            problems = getattr(exc, "problems", None)
            msgs = [str(p) for p in problems if getattr(p, "severity", "error") == "error"] if problems else [str(exc)]
            one = {"error": "; ".join(msgs[:3]) or str(exc), "n_errors": max(1, len(msgs))}
        yield f, st, one


def _per_source(row: dict, by_source: Mapping[str, Mapping[str, int]], code: str, column: str) -> tuple[int, list[str]]:
    """Set ``row[column.format(source)]`` to each source's count for ``code``; the total and the sources with any."""
    total = 0
    used = []
    for n, counts in by_source.items():
        v = counts.get(code, 0)
        row[column.format(n)] = v
        total += v
        if v:
            used.append(n)
    return total, used


def _empty_row(lang) -> dict:
    return {
        "iso639_3": lang.iso639_3, "name": lang.name, "family": lang.family, "genus": lang.genus,
        "macroarea": lang.macroarea, "scripts": " ".join(lang.scripts), "latitude": lang.latitude,
        "longitude": lang.longitude, "speakers": lang.speakers, "endangerment": lang.endangerment,
        "scope": lang.scope,
    }


def _columns_for(config: CoverageConfig) -> tuple[str, ...]:
    cols = list(COLUMNS)
    i = cols.index("lex_total_entries")
    cols[i:i] = [f"lex_{n}_entries" for n in config.lexicons]
    j = cols.index("text_segments")
    cols[j:j] = [f"text_{n}_segments" for n in config.text]
    return tuple(cols)


def _tiers_signature() -> str:
    from lexiconlm.resources import resource_path

    try:
        data = resource_path("tiers.tsv").read_bytes()
    except OSError:
        return "tiers:-"
    return "tiers:" + hashlib.sha256(data).hexdigest()[:8]


def compute_coverage(
    config: CoverageConfig | str | os.PathLike,
    *,
    catalog=None,
    use_cache: bool = True,
    progress: bool = False,
) -> CoverageTable:
    """Count every configured resource per catalog language.

    Args:
        config: a :class:`CoverageConfig` or the path of its YAML file.
        catalog: the :class:`~lexiconlm.languages.LanguageCatalog` whose languages get rows
            (default: :func:`~lexiconlm.languages.get_catalog`). Resource files are resolved
            to languages by the readers, with the bundled catalog.
        use_cache: reuse and update the per-file statistics cache (``config.cache_path``);
            ``False`` reads every file and leaves the cache file alone.
        progress: print one line per resource that has files to read (to stderr).

    Returns:
        :class:`CoverageTable` with one row per catalog language (in catalog order) and
        ``sources`` describing what was read, skipped, absent or not resolved.

    Raises:
        ConfigError: ``config`` is a path to an invalid YAML file.

    Example:
        >>> t = compute_coverage("configs/coverage/demo.yaml")   # doctest: +SKIP
        >>> [r["iso639_3"] for r in t.languages_with("unimorph")]  # doctest: +SKIP
        ['ind']
    """
    t0 = time.perf_counter()
    if not isinstance(config, CoverageConfig):
        config = load_config(config)
    if catalog is None:
        from lexiconlm.languages import get_catalog

        catalog = get_catalog()
    tiers = load_tiers()
    stats, sources, cache = _collect(config, use_cache=use_cache, progress=progress)
    for key, path in config.absent:
        if key in sources and path not in sources[key]["absent"]:
            sources[key]["absent"].append(path)

    lex: dict[str, Counter] = {n: Counter() for n in config.lexicons}
    text_seg: dict[str, Counter] = {n: Counter() for n in config.text}
    text_tok: Counter = Counter()
    um_forms: Counter = Counter()
    um_lemmas: dict[str, set] = defaultdict(set)
    um_dims: dict[str, set] = defaultdict(set)
    sig_eds: dict[str, set] = defaultdict(set)
    sig_train: Counter = Counter()
    nlu: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    nlu_n: Counter = Counter()
    langs_per_source: dict[str, set] = defaultdict(set)

    for fs in stats:
        spec, s = fs.spec, fs.stats
        src = sources[spec.key]
        if "skip" in s:
            src["skipped"].append([str(fs.path), s["skip"]])
            continue
        src["files"] += 1
        if "error" in s:
            src["n_problems"] += s.get("n_errors", 1)
            src["problems"].append(s["error"])
            continue
        src["n_problems"] += s.get("errors", 0)
        src["warnings"] += s.get("warnings", 0)
        src["problems"].extend(s.get("problems", ()))
        iso = s.get("lang", "")
        if not iso or iso not in catalog:
            src["unresolved"].append({"name": s.get("name") or fs.path.stem, "file": str(fs.path)})
            continue
        langs_per_source[spec.key].add(iso)
        if spec.kind == "lexicons":
            lex[spec.name][iso] += s["entries"]
        elif spec.kind == "unimorph":
            um_forms[iso] += s["forms"]
            um_lemmas[iso].update(s["lemma_hashes"])
            um_dims[iso].update(s["dimensions"])
        elif spec.kind == "sigmorphon":
            sig_eds[iso].add(spec.name)
            if s.get("split") == "train":
                sig_train[iso] = max(sig_train[iso], s["examples"])
        elif spec.kind == "nlu":
            for part in s["partitions"]:
                nlu[iso][spec.name].add(part)
            nlu_n[iso] += s["examples"]
        else:
            text_seg[spec.name][iso] += s["segments"]
            text_tok[iso] += s["tokens"]

    for key, src in sources.items():
        src["languages"] = len(langs_per_source.get(key, ()))
        if len(src["problems"]) > _MAX_PROBLEMS:
            extra = len(src["problems"]) - _MAX_PROBLEMS
            src["problems"] = src["problems"][:_MAX_PROBLEMS] + [f"... and {extra} more"]
        src["n_problems"] = max(src["n_problems"], min(len(src["problems"]), _MAX_PROBLEMS))

    epi, epi_source = _epitran_index(catalog)
    sources["epitran"] = epi_source
    cache.save()

    columns = _columns_for(config)
    order = {name: i for i, name in enumerate(config.sigmorphon)}
    nlu_order = {name: i for i, name in enumerate(config.nlu)}
    rows: list[dict] = []
    for lang in catalog:
        code = lang.iso639_3
        r = _empty_row(lang)
        total, used = _per_source(r, lex, code, "lex_{}_entries")
        r["lex_total_entries"] = total
        r["lex_sources"] = ";".join(used)
        dims = um_dims.get(code, ())
        r["unimorph_lemmas"] = len(um_lemmas.get(code, ()))
        r["unimorph_forms"] = um_forms.get(code, 0)
        r["unimorph_dimensions"] = ";".join(sorted(dims))
        r["unimorph_n_dimensions"] = len(dims)
        r["sigmorphon_editions"] = ",".join(sorted(sig_eds.get(code, ()), key=lambda e: order.get(e, 0)))
        r["sigmorphon_max_train"] = sig_train.get(code, 0)
        sets = nlu.get(code)
        r["nlu_sets"] = ";".join(
            f"{name}:{','.join(sorted(parts))}" for name, parts in sorted(sets.items(), key=lambda kv: nlu_order.get(kv[0], 0))
        ) if sets else ""
        r["nlu_examples"] = nlu_n.get(code, 0)
        seg_total, text_used = _per_source(r, text_seg, code, "text_{}_segments")
        r["text_segments"] = seg_total
        r["text_tokens"] = text_tok.get(code, 0)
        r["text_sources"] = ";".join(text_used)
        r["epitran"] = ";".join(sorted(epi.get(code, ())))
        r["resource_kinds"] = "+".join(k for k in _KIND_ORDER if RESOURCES[k](r))
        r["tier"], r["tier_label"] = tier_of(r, tiers)
        rows.append({c: r.get(c) for c in columns})

    signature = "|".join([TABLE_VERSION, _tiers_signature(), f"lexiconlm:{__version__}", config.signature()])
    return CoverageTable(rows, sources, columns, signature, time.perf_counter() - t0)


def file_statistics(config: CoverageConfig | str | os.PathLike, *, use_cache: bool = True) -> list[dict]:
    """The per-file statistics behind a table: ``{"resource", "kind", "name", "path", **stats}`` per file.

    Cheap after :func:`compute_coverage` has filled the cache; used to find the files of
    one language (``lexiconlm coverage show``, tokenizer samples).
    """
    if not isinstance(config, CoverageConfig):
        config = load_config(config)
    stats, _, cache = _collect(config, use_cache=use_cache, progress=False)
    cache.save()
    out = []
    for fs in stats:
        d = {"resource": fs.spec.key, "kind": fs.spec.kind, "source": fs.spec.name, "path": str(fs.path)}
        d.update({k: v for k, v in fs.stats.items() if k != "lemma_hashes"})
        out.append(d)
    return out


def load_or_compute(
    *,
    table: str | os.PathLike | None = None,
    config: CoverageConfig | str | os.PathLike | None = None,
    use_cache: bool = True,
) -> CoverageTable:
    """A coverage table: computed from ``config`` when one is given (fast with a warm cache),
    else read from ``table`` (default :data:`DEFAULT_TABLE`).

    Raises:
        DataFormatError: no config and no table file; the message gives the command that makes one.
    """
    if config is not None:
        return compute_coverage(config, use_cache=use_cache)
    return CoverageTable.from_csv(table if table is not None else DEFAULT_TABLE)


def save_coverage(table: CoverageTable, out: str | os.PathLike, *, top: int = 15) -> dict[str, Path]:
    """Write ``out`` (CSV), ``<stem>.sources.json`` and ``<stem>.summary.md`` (tiers, top
    families, scripts, macroareas), each atomically. Returns ``{"table", "sources", "summary"}``."""
    from lexiconlm.coverage.aggregate import summary_markdown

    p = Path(out)
    table.to_csv(p)
    summary = p.with_name(p.stem + ".summary.md")
    text = summary_markdown(table.rows, top=top, title=f"Coverage summary ({p.name})")
    text += f"\nSignature: `{table.signature}`\n"
    atomic_write_text(summary, text)
    return {"table": p, "sources": _sidecar(p), "summary": summary}
