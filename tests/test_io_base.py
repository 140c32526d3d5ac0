"""The shared line reader: every malformed byte sequence is reported with file and line, valid text is read exactly."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lexiconlm.errors import DataFormatError, Problem
from lexiconlm.files import ProblemLog, atomic_write, atomic_write_text, read_head, read_lines
from lexiconlm.io._base import RepairTally


def test_plain_lines_numbered_and_blank_lines_kept(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes(b"one\n\ntwo\n")
    raw = read_lines(f)
    assert raw.lines == [(1, "one"), (2, ""), (3, "two")]
    assert raw.n_lines == 3
    assert raw.log.items == []


def test_last_line_without_newline_counts(tmp_path):
    f = tmp_path / "a.txt"
    f.write_bytes(b"one\ntwo")
    assert read_lines(f).lines == [(1, "one"), (2, "two")]


def test_bom_removed_with_warning(tmp_path):
    f = tmp_path / "bom.tsv"
    f.write_bytes("\ufeffword\tmot\n".encode("utf-8"))
    raw = read_lines(f)
    assert raw.lines == [(1, "word\tmot")]
    [w] = raw.log.items
    assert w.severity == "warning" and w.line == 1 and "BOM" in w.message


def test_crlf_read_as_lf_with_one_warning(tmp_path):
    f = tmp_path / "crlf.tsv"
    f.write_bytes(b"a\tb\r\nc\td\r\n")
    raw = read_lines(f)
    assert raw.lines == [(1, "a\tb"), (2, "c\td")]
    [w] = raw.log.items
    assert w.severity == "warning" and "2 line(s) end with CRLF" in w.message


def test_nfd_normalised_to_nfc(tmp_path):
    f = tmp_path / "nfd.txt"
    nfd = unicodedata.normalize("NFD", "café\tkahawa")
    f.write_text("ok\n" + nfd + "\n", encoding="utf-8")
    raw = read_lines(f)
    assert raw.lines[1] == (2, "café\tkahawa")
    [w] = raw.log.items
    assert w.line == 2 and "NFC" in w.message


def test_invalid_utf8_reports_each_line_and_byte(tmp_path):
    f = tmp_path / "latin1.tsv"
    f.write_bytes(b"good\tline\ncaf\xe9\tx\nfine\tok\n\xff\tbad\n")
    raw = read_lines(f)
    assert [n for n, _ in raw.lines] == [1, 3]
    errors = [p for p in raw.log.items if p.severity == "error"]
    assert [p.line for p in errors] == [2, 4]
    assert "byte 13" in errors[0].message and "0xe9" in errors[0].message
    assert "iconv" in errors[0].hint
    with pytest.raises(DataFormatError) as exc:
        raw.log.finish("raise")
    assert f"{f}:2:" in str(exc.value) and f"{f}:4:" in str(exc.value)


def test_binary_junk_is_one_clear_error(tmp_path):
    f = tmp_path / "junk.tsv"
    f.write_bytes(b"ok\n\x00\x01\x02\x89PNG")
    raw = read_lines(f)
    assert raw.lines == []
    [e] = raw.log.items
    assert e.severity == "error" and e.line == 2 and "binary" in e.message


def test_empty_file_is_an_error_unless_allowed(tmp_path):
    f = tmp_path / "empty.tsv"
    f.write_bytes(b"")
    assert read_lines(f).log.n_errors == 1
    assert read_lines(f, allow_empty=True).log.items == []


def test_missing_file_and_directory_raise(tmp_path):
    with pytest.raises(DataFormatError, match="file not found"):
        read_lines(tmp_path / "nope.tsv")
    with pytest.raises(DataFormatError, match="is a directory"):
        read_lines(tmp_path)


def test_read_head_gives_the_first_non_blank_lines_without_failing(tmp_path):
    f = tmp_path / "h.tsv"
    f.write_bytes(b"\xef\xbb\xbfa\tb\r\n\n  \nc\xe9\td\ne\n")
    assert read_head(f) == ["a\tb", "c\ufffd\td", "e"]
    assert read_head(f, 2) == ["a\tb", "c\ufffd\td"]
    # a line cut off by the byte limit is left out
    assert read_head(f, n_bytes=14) == ["a\tb"]


def test_read_head_of_a_missing_file_or_a_directory(tmp_path):
    with pytest.raises(DataFormatError, match="file not found"):
        read_head(tmp_path / "nope.tsv")
    with pytest.raises(DataFormatError) as exc:
        read_head(tmp_path, dir_hint="read the folder with read_all(DIR)")
    assert str(exc.value) == (
        f"{tmp_path}: error: is a directory, not a file (fix: read the folder with read_all(DIR))"
    )


def test_repair_tally_reports_one_warning_per_kind(tmp_path):
    log = ProblemLog(tmp_path / "x")
    tally = RepairTally()
    for line in range(3, 10):
        tally.add("spaces", line, "spaces stripped", "remove them")
    tally.add("bom", 2, "U+FEFF removed")
    tally.flush(log)
    x = tmp_path / "x"
    assert [str(p) for p in log.items] == [
        f"{x}:3: warning: spaces stripped on 7 line(s) (line 3, 4, 5, 6, 7, ...) (fix: remove them)",
        f"{x}:2: warning: U+FEFF removed on 1 line(s) (line 2)",
    ]


def test_only_newline_splits_lines(tmp_path):
    # \x0b, \x1c, \u2028 and \x85 are line breaks for str.splitlines but data here.
    text = "a\x0bb\tc\x1cd\n\u2028e\x85\tf\n"
    f = tmp_path / "odd.tsv"
    f.write_text(text, encoding="utf-8")
    assert read_lines(f).lines == [(1, "a\x0bb\tc\x1cd"), (2, "\u2028e\x85\tf")]


def test_stray_quotes_and_null_are_data(tmp_path):
    f = tmp_path / "q.tsv"
    f.write_text('"quoted\tnull\nNA\t"\n', encoding="utf-8")
    assert read_lines(f).lines == [(1, '"quoted\tnull'), (2, 'NA\t"')]


def test_problem_str_has_location_and_fix():
    p = Problem("hun.dev", 214, "expected 3 tab-separated fields, got 2", "add the missing column")
    assert str(p) == "hun.dev:214: error: expected 3 tab-separated fields, got 2 (fix: add the missing column)"


def test_problem_log_collects_all_then_raises_once(tmp_path):
    log = ProblemLog(tmp_path / "x")
    for i in range(30):
        log.error(i + 1, "bad")
    log.warning(None, "just a note")
    with pytest.raises(DataFormatError) as exc:
        log.finish("raise")
    assert len(exc.value.problems) == 31
    assert "and 10 more" in str(exc.value)
    assert len(log.finish("collect")) == 31
    with pytest.raises(ValueError):
        log.finish("ignore")  # type: ignore[arg-type]


def test_atomic_write_leaves_old_file_on_crash(tmp_path):
    f = tmp_path / "out.tsv"
    atomic_write_text(f, "old\n")
    with pytest.raises(RuntimeError):
        with atomic_write(f) as fh:
            fh.write("new partial")
            raise RuntimeError("killed")
    assert f.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.tsv"]


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\ufeff\x00"), max_size=40
).map(lambda s: unicodedata.normalize("NFC", s))


@settings(max_examples=60, deadline=None)
@given(st.lists(_text, min_size=1, max_size=20))
def test_roundtrip_any_nfc_text(tmp_path_factory, lines):
    f = tmp_path_factory.mktemp("rt") / "rt.txt"
    atomic_write_text(f, "".join(line + "\n" for line in lines))
    raw = read_lines(f)
    assert [t for _, t in raw.lines] == lines
    assert raw.log.n_errors == 0


def test_core_imports_do_not_import_torch():
    import subprocess

    code = (
        "import sys, lexiconlm, lexiconlm.io, lexiconlm.io.detect, lexiconlm.unicode_scripts, lexiconlm.types;"
        "import lexiconlm.cli.main;"
        "bad = [m for m in ('torch', 'transformers', 'pandas') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_atomic_write_gives_usual_permissions(tmp_path):
    import os
    import stat

    umask = os.umask(0o022)
    try:
        f = atomic_write_text(tmp_path / "perm.tsv", "x\n")
        assert stat.S_IMODE(f.stat().st_mode) == 0o644
    finally:
        os.umask(umask)
