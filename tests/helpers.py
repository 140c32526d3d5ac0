"""Helpers shared by the reader tests: write a file, list problems, account for every line."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from hypothesis import strategies as st


def write_file(path: Path, content: str | bytes) -> Path:
    """Write ``content`` byte for byte (a string as UTF-8, no newline translation); makes folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def error_strings(obj) -> list[str]:
    """The errors of a record set or a DataFormatError, as ``file:line: error: ...`` strings."""
    return [str(p) for p in obj.problems if p.severity == "error"]


def warning_strings(obj) -> list[str]:
    """The warnings of a record set, as ``file:line: warning: ...`` strings."""
    return [str(p) for p in obj.problems if p.severity == "warning"]


def file_lines(path: Path) -> tuple[int, int]:
    """(blank lines, lines) of a file, counted independently of the readers."""
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    if not text:
        return 0, 0
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return sum(1 for line in lines if not line.strip()), len(lines)


def assert_accounted(records, path: Path | None = None, *, header_lines: int = 0) -> None:
    """Every line is a record, a removed duplicate, a blank line or a line with an error.

    Blank lines are the record set's ``n_blank_lines``; with ``path`` they are also
    counted in the file (the only count a :class:`~lexiconlm.types.Lexicon` has),
    and the provenance's line count is checked against the file.
    """
    error_lines = {p.line for p in records.problems if p.severity == "error" and p.line is not None}
    n_lines = records.provenance.n_lines
    blank = getattr(records, "n_blank_lines", None)
    if path is not None:
        file_blank, file_total = file_lines(path)
        assert n_lines == file_total, f"{path}: provenance says {n_lines} lines, the file has {file_total}"
        assert blank in (None, file_blank), f"{path}: n_blank_lines {blank}, the file has {file_blank}"
        blank = file_blank
    assert blank is not None, "pass the path: this record set does not count its blank lines"
    duplicates = getattr(records, "n_duplicates", 0)
    assert len(records) + duplicates + blank + len(error_lines) == n_lines - header_lines, (
        f"{len(records)} records + {duplicates} duplicates + {blank} blank + "
        f"{len(error_lines)} error lines != {n_lines} lines - {header_lines} header"
    )


#: A field that any TSV writer can write and read back unchanged.
TSV_FIELD = (
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\n\r\ufeff\x00"),
        min_size=1,
        max_size=12,
    )
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(lambda s: s.strip() != "")
)
_TAGS = (
    "N",
    "V",
    "ADJ",
    "V.PTCP",
    "SG",
    "PL",
    "1",
    "3",
    "PST",
    "NOM(3,SG)",
    "PSS(1,PL)",
    "LGSPEC1",
)


def feature_bundles(*more_tags: str) -> st.SearchStrategy[str]:
    """UniMorph feature bundles of 1 to 5 tags (layered ones included), plus ``more_tags``."""
    return st.lists(st.sampled_from(_TAGS + more_tags), min_size=1, max_size=5).map(";".join)
