"""The coverage table: its columns, :class:`CoverageTable`, and reading and writing it as CSV.

A table is one row per catalog language (:data:`COLUMNS`, plus ``lex_<source>_entries``
and ``text_<source>_segments`` for each configured source; ``docs/coverage.md`` describes
each column), written as CSV with a ``<name>.sources.json`` beside it that records what
was read to make it and its signature. :mod:`lexiconlm.coverage.compute` builds tables.

Example:
    >>> t = CoverageTable.from_csv("runs/coverage/coverage.csv")   # doctest: +SKIP
    >>> [r["iso639_3"] for r in t.languages_with("unimorph")][:3]  # doctest: +SKIP
    ['ail', 'ame', 'amh']
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lexiconlm.coverage.tiers import resource_predicate
from lexiconlm.errors import DataFormatError, MissingDependencyError, UnknownLanguageError
from lexiconlm.files import atomic_write_text
from lexiconlm.languages import get_catalog

__all__ = ["COLUMNS", "TOKENIZER_COLUMNS", "CoverageTable", "sources_path"]

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

_INT_COLUMNS = {
    "speakers",
    "lex_total_entries",
    "unimorph_lemmas",
    "unimorph_forms",
    "unimorph_n_dimensions",
    "sigmorphon_max_train",
    "nlu_examples",
    "text_segments",
    "text_tokens",
    "tier",
    "tok_n_words",
}
_FLOAT_COLUMNS = {"latitude", "longitude", "tok_unk_rate", "tok_fertility", "tok_script_coverage"}
_DYNAMIC_INT = re.compile(r"^(lex_[a-z0-9_]+_entries|text_[a-z0-9_]+_segments)$")


def _convert(col: str, value: str) -> Any:
    if value == "":
        return (
            None
            if col in _FLOAT_COLUMNS or col in ("speakers", "tok_n_words")
            else (0 if col in _INT_COLUMNS or _DYNAMIC_INT.match(col) else "")
        )
    if col in _INT_COLUMNS or _DYNAMIC_INT.match(col):
        return int(value)
    if col in _FLOAT_COLUMNS:
        return float(value)
    return value


def sources_path(path: str | os.PathLike) -> Path:
    """The ``<name>.sources.json`` written beside the table ``path``."""
    path = Path(path)
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
            i = self._index.get(get_catalog().lookup(code).iso639_3)
            if i is None:
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
            raise MissingDependencyError("CoverageTable.to_pandas", "app", "pandas") from None
        return pd.DataFrame(self.rows, columns=list(self.columns))

    def languages_with(self, resource: str) -> list[dict]:
        """Rows that have ``resource`` (see :func:`has_resource` for the names accepted).

        Example:
            >>> [r["iso639_3"] for r in table.languages_with("unimorph")][:3]  # doctest: +SKIP
            ['ail', 'ame', 'amh']
        """
        pred = resource_predicate(resource, self.columns)
        return [r for r in self.rows if pred(r)]

    @property
    def source_names(self) -> dict[str, list[str]]:
        """Configured source names per kind, from the per-source columns: ``{"lexicons": [...], "text": [...]}``."""
        lex = [
            c[4:-8]
            for c in self.columns
            if c.startswith("lex_") and c.endswith("_entries") and c != "lex_total_entries"
        ]
        text = [
            c[5:-9] for c in self.columns if c.startswith("text_") and c.endswith("_segments") and c != "text_segments"
        ]
        return {"lexicons": lex, "text": text}

    def to_csv(self, path: str | os.PathLike) -> Path:
        """Write the rows as CSV (UTF-8, header = :attr:`columns`) and, beside it,
        ``<name>.sources.json`` with the sources and signature; both atomically."""
        p = Path(path)
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
        atomic_write_text(sources_path(p), json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
        return p

    @classmethod
    def from_csv(cls, path: str | os.PathLike) -> CoverageTable:
        """Read a table written by :meth:`to_csv` (numbers come back as int/float, empty
        numeric cells as ``None`` or 0); ``sources`` and ``signature`` come from the
        ``.sources.json`` beside it when present.

        Raises:
            DataFormatError: the file is missing or is not a coverage table.
        """
        p = Path(path)
        if not p.is_file():
            raise DataFormatError.single(
                str(p),
                None,
                "no such coverage table",
                f"compute one with: lexiconlm coverage compute --config configs/coverage/shared.yaml --out {p}",
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
        side = sources_path(p)
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
