"""A corpus of bad inputs, run through every reader and through `lexiconlm inspect`.

Each case is a small file made here (never committed binary junk): the reader must
either read it correctly (valid input with a repairable quirk: BOM, CRLF, NFD,
stray quotes, a form spelled ``null``) or report an error naming the file and line.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import assert_accounted, warning_strings, write_file

from lexiconlm.errors import DataFormatError
from lexiconlm.io.detect import inspect_path


@dataclass(frozen=True)
class Kind:
    name: str
    filename: str
    header: str
    good: tuple[str, ...]  # valid lines (each with the right columns)
    short_line: str | None  # a line with too few columns

    def read(self, path: Path, errors: str = "raise"):
        if self.name == "lexicon":
            from lexiconlm.io.lexicons import read_lexicon

            return read_lexicon(path, format="tsv", src="eng", tgt="swh", errors=errors)
        if self.name == "unimorph":
            from lexiconlm.io.unimorph import read_unimorph

            return read_unimorph(path, language="swh", errors=errors)
        if self.name.startswith("sigmorphon"):
            from lexiconlm.io.sigmorphon import read_sigmorphon

            return read_sigmorphon(path, edition=self.name[-4:], errors=errors)
        if self.name == "massive":
            from lexiconlm.io.massive import read_massive

            return read_massive(path, locale="sw-KE", errors=errors)
        if self.name == "text":
            from lexiconlm.io.text import read_text

            return read_text(path, format="lines", language="swh", errors=errors)
        raise AssertionError(self.name)

    @staticmethod
    def values(obj) -> list[tuple]:
        """The records as plain tuples of strings (to compare across kinds)."""
        from lexiconlm.types import Corpus, InflectionDataset, InflectionTable, Lexicon, NLUDataset

        if isinstance(obj, Lexicon):
            return [(e.source, e.target) for e in obj.entries]
        if isinstance(obj, (InflectionTable, InflectionDataset)):
            return [(e.lemma, e.form, e.features) for e in obj.entries]
        if isinstance(obj, NLUDataset):
            return [(u.id, u.intent, u.text) for u in obj.utterances]
        if isinstance(obj, Corpus):
            return [(s.text,) for s in obj.segments]
        raise AssertionError(type(obj))


KINDS = [
    Kind("lexicon", "lex.tsv", "", ("water\tmaji", "café\tmkahawa", "null\tnull"), "onlyonecolumn"),
    Kind(
        "unimorph",
        "swh.tsv",
        "",
        ("kula\tnilikula\tV;PST;1;SG", "café\tcafé\tN;SG", "null\tnull\tN;SG"),
        "kula\tnilikula",
    ),
    Kind(
        "sigmorphon2022", "swh.dev", "", ("kula\tnilikula\tV;PST;1;SG", "café\tcafé\tN;SG", "null\tnull\tN;SG"), "kula"
    ),
    Kind(
        "sigmorphon2023", "swh.dev", "", ("kula\tV;PST;1;SG\tnilikula", "café\tN;SG\tcafé", "null\tN;SG\tnull"), "kula"
    ),
    Kind(
        "massive",
        "sw-KE.tsv",
        "id\tintent\tannot_utt",
        ("1\talarm_set\tniamshe saa [time : tatu]", "2\tweather_query\tcafé null", "3\tqa_factoid\tnull"),
        "4\talarm_set",
    ),
    Kind("text", "swh.txt", "", ("Habari ya asubuhi.", "café ya null", "null"), None),
]


def _body(kind: Kind, lines: list[str]) -> list[str]:
    """The file's lines: the kind's header (if any), then ``lines``."""
    return ([kind.header] if kind.header else []) + lines


def _write(tmp: Path, kind: Kind, lines: list[str], *, raw: bytes | None = None, name: str | None = None) -> Path:
    content = raw if raw is not None else "".join(line + "\n" for line in _body(kind, lines))
    return write_file(tmp / kind.name / (name or kind.filename), content)


def _line_no(kind: Kind, i: int) -> int:
    """1-based file line of the i-th (0-based) data line."""
    return i + 1 + (1 if kind.header else 0)


@pytest.fixture(params=KINDS, ids=lambda k: k.name)
def kind(request) -> Kind:
    return request.param


def test_good_file_reads_exactly(tmp_path, kind):
    f = _write(tmp_path, kind, list(kind.good))
    obj = kind.read(f)
    vals = kind.values(obj)
    assert len(vals) == len(kind.good)
    # "null" is a word, never a missing value
    assert any("null" in v for v in vals)
    assert not [p for p in obj.problems if p.severity == "error"]


def test_wrong_column_count_names_file_and_line(tmp_path, kind):
    if kind.short_line is None:
        pytest.skip("plain text has no columns")
    lines = [kind.good[0], kind.short_line, kind.good[1]]
    f = _write(tmp_path, kind, lines)
    with pytest.raises(DataFormatError) as exc:
        kind.read(f)
    assert f"{f}:{_line_no(kind, 1)}:" in str(exc.value)
    # collect mode keeps the good lines
    obj = kind.read(f, errors="collect")
    assert len(kind.values(obj)) == 2
    [err] = [p for p in obj.problems if p.severity == "error"]
    assert err.line == _line_no(kind, 1) and err.path == str(f)
    assert_accounted(obj, f, header_lines=len(_body(kind, [])))


def test_bom_and_crlf_are_repaired(tmp_path, kind):
    body = _body(kind, list(kind.good))
    raw = b"\xef\xbb\xbf" + "".join(line + "\r\n" for line in body).encode("utf-8")
    f = _write(tmp_path, kind, [], raw=raw)
    obj = kind.read(f)
    assert len(kind.values(obj)) == len(kind.good)
    for v in kind.values(obj):
        assert all(x is None or ("\r" not in x and "\ufeff" not in x) for x in v)
    ws = warning_strings(obj)
    assert f"{f}:1: warning: UTF-8 byte-order mark (BOM) at the start of the file was removed" in ws
    crlf = f"{len(body)} line(s) end with CRLF (Windows line endings); read as LF"
    assert f"{f}:1: warning: {crlf}" in ws


def test_nfd_text_is_normalised(tmp_path, kind):
    lines = [unicodedata.normalize("NFD", line) for line in kind.good]
    f = _write(tmp_path, kind, lines)
    obj = kind.read(f)
    flat = [x for v in kind.values(obj) for x in v if x]
    assert any("café" in x for x in flat)
    assert all(unicodedata.is_normalized("NFC", x) for x in flat)
    nfc = "1 line(s) were not in Unicode NFC (e.g. decomposed accents) and were normalised to NFC"
    assert f"{f}:{_line_no(kind, 1)}: warning: {nfc}" in warning_strings(obj)


def test_stray_quotes_are_kept_literally(tmp_path, kind):
    lines = [line.replace("café", '"café') for line in kind.good]
    f = _write(tmp_path, kind, lines)
    obj = kind.read(f)
    flat = [x for v in kind.values(obj) for x in v if x]
    assert any('"café' in x for x in flat)
    assert len(kind.values(obj)) == len(kind.good)


def test_missing_file_and_directory_are_clear_errors(tmp_path, kind):
    with pytest.raises(DataFormatError, match="file not found"):
        kind.read(tmp_path / kind.filename)
    with pytest.raises(DataFormatError, match="is a directory"):
        kind.read(tmp_path)


def test_empty_file_is_a_clear_error(tmp_path, kind):
    f = _write(tmp_path, kind, [], raw=b"")
    with pytest.raises(DataFormatError) as exc:
        kind.read(f)
    [err] = exc.value.errors
    assert (
        str(exc.value) == str(err) == (f"{f}: error: file is empty (fix: check that the file was written completely)")
    )


def test_binary_junk_is_a_clear_error(tmp_path, kind):
    body = _body(kind, [kind.good[0]])
    text = "".join(line + "\n" for line in body).encode("utf-8")
    junk = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03junk\x00\x01"
    f = _write(tmp_path, kind, [], raw=text + junk)
    with pytest.raises(DataFormatError) as exc:
        kind.read(f)
    [err] = exc.value.errors
    assert str(err).startswith(f"{f}:{len(body) + 1}: error: binary data (NUL byte at offset {len(text) + 3})")


def test_invalid_utf8_line_is_reported_and_others_kept(tmp_path, kind):
    enc = [line.encode("utf-8") for line in _body(kind, list(kind.good))]
    bad_index = len(enc) - 2  # the "café" line
    enc[bad_index] = enc[bad_index].replace("é".encode("utf-8"), b"\xe9")
    f = _write(tmp_path, kind, [], raw=b"".join(e + b"\n" for e in enc))
    with pytest.raises(DataFormatError) as exc:
        kind.read(f)
    offset = sum(len(e) + 1 for e in enc[:bad_index]) + enc[bad_index].index(b"\xe9")
    [err] = exc.value.errors
    assert str(err).startswith(f"{f}:{bad_index + 1}: error: invalid UTF-8 at byte {offset} (byte 0xe9)")
    obj = kind.read(f, errors="collect")
    assert len(kind.values(obj)) == len(kind.good) - 1
    assert_accounted(obj, f, header_lines=len(_body(kind, [])))


def test_every_bad_line_is_reported_not_only_the_first(tmp_path, kind):
    if kind.short_line is None:
        pytest.skip("plain text has no columns")
    lines = [kind.short_line, kind.good[0], kind.short_line, kind.short_line]
    f = _write(tmp_path, kind, lines)
    with pytest.raises(DataFormatError) as exc:
        kind.read(f)
    lines_reported = sorted(p.line for p in exc.value.errors)
    assert lines_reported == [_line_no(kind, 0), _line_no(kind, 2), _line_no(kind, 3)]


def test_inspect_reports_instead_of_raising(tmp_path, kind):
    good = _write(tmp_path, kind, list(kind.good))
    rep = inspect_path(
        good,
        kind=kind.name.rstrip("0123456789") if kind.name.startswith("sigmorphon") else kind.name,
        format=kind.name[-4:] if kind.name.startswith("sigmorphon") else None,
    )
    assert rep.n_errors == 0 and rep.n_records == len(kind.good)
    junk = _write(tmp_path, kind, [], raw=b"\x00\x00binary", name="junk" + Path(kind.filename).suffix)
    rep = inspect_path(junk)
    assert rep.n_errors == 1 and "binary" in rep.problems[0].message


def test_inspect_cli_exit_status_and_json(tmp_path, capsys):
    from lexiconlm.cli.main import main

    lex = tmp_path / "lex.tsv"
    lex.write_text("water\tmaji\nbroken line\n", encoding="utf-8")
    assert main(["inspect", str(lex), "--kind", "lexicon", "--json"]) == 1
    out = capsys.readouterr().out
    rec = json.loads(out.strip().splitlines()[0])
    assert rec["errors"] == 1 and rec["records"] == 1
    assert any(f"{lex}:2:" in p for p in rec["problems"])
