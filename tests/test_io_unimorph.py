"""UniMorph tables: reading (repairs vs errors, file:line), writing, round trips, real data."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import (
    TSV_FIELD,
    assert_accounted,
    error_strings,
    feature_bundles,
    warning_strings,
    write_file,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from lexiconlm.errors import DataFormatError, UnknownLanguageError
from lexiconlm.io.unimorph import (
    feature_stats,
    language_code_from_name,
    paradigms,
    read_unimorph,
    tag_dimension,
    write_unimorph,
)
from lexiconlm.types import InflectionEntry


def _file(tmp_path: Path, text: str, name: str = "swh.tsv") -> Path:
    return write_file(tmp_path / name, text)


# --------------------------------------------------------------------------- good input


def test_reads_entries_and_keeps_layers_and_na_words(tmp_path):
    f = _file(
        tmp_path,
        "kula\tnilikula\tV;PST;1;SG\n"
        "null\tnull\tN;SG\n"
        "NA\tNA\tN;PL\n"
        "nan\tNone\tADJ\n"
        "#N/A\tnan\tN\n"
        "taka\ttakwa\tV;IMP;ACC(2,SG);NOM(INFM,2,SG)\n"
        "nyumba\tnyumba\tN;NOM(PL;PSS(1,PL))\n",
    )
    t = read_unimorph(f)
    assert [(e.lemma, e.form) for e in t][1:5] == [
        ("null", "null"),
        ("NA", "NA"),
        ("nan", "None"),
        ("#N/A", "nan"),
    ]
    assert t.entries[5].features == "V;IMP;ACC(2,SG);NOM(INFM,2,SG)"
    assert t.entries[6].tags == ("N", "NOM(PL;PSS(1,PL))")
    assert t.language.code == "swh" and t.problems == () and t.n_blank_lines == 0
    assert t.provenance.format == "unimorph" and t.provenance.n_lines == 7 and len(t.provenance.sha256) == 64


@pytest.mark.parametrize(
    "name, code",
    [
        ("amh.tsv", "amh"),
        ("ckb.arab.gold.tsv", "ckb"),
        ("kaz.noun.tsv", "kaz"),
        ("amh", "amh"),
        ("ckb-arab.tsv", "ckb"),
    ],
)
def test_language_from_file_name(tmp_path, name, code):
    assert language_code_from_name(name) == code
    t = read_unimorph(_file(tmp_path, "a\tb\tN\n", name))
    assert t.language.code == code


def test_language_argument_and_unknown_codes(tmp_path):
    f = _file(tmp_path, "a\tb\tN\n", "data.tsv")
    assert read_unimorph(f, language="Swahili").language.code == "swh"
    with pytest.raises(UnknownLanguageError, match="qqqzz"):
        read_unimorph(f, language="qqqzz")
    t = read_unimorph(_file(tmp_path, "a\tb\tN\n", "xzz.tsv"))
    assert t.language.iso639_3 == "" and t.language.name == "xzz"
    assert any("'xzz'" in w and "not in the language catalog" in w for w in warning_strings(t))


def test_blank_and_whitespace_lines_are_counted_not_errors(tmp_path):
    f = _file(tmp_path, "a\tb\tN;SG\n\na\tc\tN;PL\n \t \n\nb\td\tV\n\n")
    t = read_unimorph(f)
    assert len(t) == 3 and t.n_blank_lines == 4
    assert_accounted(t, f)
    assert any(":4: warning: lines with only spaces/tabs" in w for w in warning_strings(t))


def test_extra_columns_are_ignored_with_one_warning(tmp_path):
    f = _file(
        tmp_path,
        "walk\twalked\tV;PST\twalk|ed\nwalk\twalks\tV;PRS;3;SG\twalk|s\nwalk\twalk\tV;NFIN\n",
    )
    t = read_unimorph(f)
    assert [e.form for e in t] == ["walked", "walks", "walk"]
    [w] = warning_strings(t)
    assert f"{f}:1: warning: columns after the third" in w and "2 line(s)" in w


def test_paradigms_and_table_helpers(tmp_path):
    t = read_unimorph(_file(tmp_path, "a\ta1\tN;SG\nb\tb1\tV\n\na\ta2\tN;PL\n"))
    groups = paradigms(t)
    assert list(groups) == ["a", "b"] and [e.form for e in groups["a"]] == ["a1", "a2"]
    assert t.lemmas == ["a", "b"] and len(t.paradigm("a")) == 2


# --------------------------------------------------------------------------- repairs and errors


def test_glued_entries_are_an_error_with_the_split_point(tmp_path):
    f = _file(
        tmp_path,
        "a\tb\tN;SG\nkomênt\tkomêntekanî\tN;DEF;PL;LGSPEC1biřyar\tbiřyarî\tN;LGSPEC1\nc\td\tV\n",
    )
    with pytest.raises(DataFormatError) as exc:
        read_unimorph(f)
    msg = str(exc.value)
    assert f"{f}:2: error: 5 tab-separated fields: two entries seem glued together" in msg
    assert "between 'N;DEF;PL;LGSPEC1' and 'biřyar'" in msg
    t = read_unimorph(f, errors="collect")
    assert [e.lemma for e in t] == ["a", "c"]
    assert_accounted(t, f)


def test_doubled_feature_bundle_is_an_error(tmp_path):
    f = _file(tmp_path, "a\tb\tV;PRS;3;SGV;PRS;3;SG\t\n")
    t = read_unimorph(f, errors="collect")
    [e] = error_strings(t)
    assert e.startswith(f"{f}:1: error: the feature bundle is written twice") and "keep one copy: 'V;PRS;3;SG'" in e
    assert len(t) == 0
    assert_accounted(t, f)


@pytest.mark.parametrize(
    "line, hint",
    [("kula\tnilikula", "the features are missing"), ("kula\tV;PST", "the form is missing")],
)
def test_two_columns_is_an_error_naming_file_and_line(tmp_path, line, hint):
    f = _file(tmp_path, f"a\tb\tN\n{line}\nc\td\tV\n")
    with pytest.raises(DataFormatError) as exc:
        read_unimorph(f)
    [p] = exc.value.errors
    assert (p.path, p.line) == (str(f), 2)
    assert f"{f}:2: error: expected 3 tab-separated fields (lemma, form, features), got 2" in str(exc.value)
    assert hint in p.hint


def test_line_without_features_is_an_error(tmp_path):
    f = _file(tmp_path, "a\tb\t\nc\td\t  \ne\tf\tN\n")
    t = read_unimorph(f, errors="collect")
    assert [e.lemma for e in t] == ["e"]
    assert [p.line for p in t.problems if p.severity == "error"] == [1, 2]
    assert all("no features" in e for e in error_strings(t))


def test_empty_lemma_or_form_is_an_error(tmp_path):
    f = _file(tmp_path, "\tb\tN\na\t\tN\n")
    t = read_unimorph(f, errors="collect")
    assert error_strings(t) == [
        f"{f}:1: error: empty lemma (fix: fill in the lemma or remove the line)",
        f"{f}:2: error: empty form (fix: fill in the inflected form or remove the line)",
    ]
    assert_accounted(t, f)


def test_two_space_separator_is_repaired_when_unambiguous(tmp_path):
    f = _file(tmp_path, "кыв  кывъым\tV.PTCP;SG;FOC  \nx y  z\tN\nab cd\tN\n")
    t = read_unimorph(f, errors="collect")
    assert [(e.lemma, e.form, e.features) for e in t] == [
        ("кыв", "кывъым", "V.PTCP;SG;FOC"),
        ("x y", "z", "N"),
    ]
    ws = warning_strings(t)
    assert any(w.startswith(f"{f}:1: warning: lemma and form separated by spaces") for w in ws)
    assert any(w.startswith(f"{f}:1: warning: spaces around the feature bundle were stripped") for w in ws)
    # one space is ambiguous (multi-word forms exist): an error, not a guess
    assert [p.line for p in t.problems if p.severity == "error"] == [3]


def test_all_space_separated_line_is_repaired(tmp_path):
    t = read_unimorph(_file(tmp_path, "kula  nilikula  V;PST;1;SG\n"))
    assert t.entries == (InflectionEntry("kula", "nilikula", "V;PST;1;SG"),)
    assert "separated by spaces instead of tabs" in warning_strings(t)[0]


def test_sigmorphon_2023_layout_is_refused(tmp_path):
    f = _file(tmp_path, "".join(f"w{i}\tV;PST;{i % 3 + 1};SG\tw{i}d\n" for i in range(10)))
    with pytest.raises(DataFormatError, match="SIGMORPHON 2023 layout") as exc:
        read_unimorph(f)
    assert "read_sigmorphon(path, edition='2023')" in str(exc.value)


def test_bom_inside_the_file_is_removed(tmp_path):
    f = _file(tmp_path, "\ufeffkula\tnilikula\tV;PST\n\ufeffdam\t\ufeffdam\tN\n")
    t = read_unimorph(f)
    assert [(e.lemma, e.form) for e in t] == [("kula", "nilikula"), ("dam", "dam")]
    assert warning_strings(t) == [
        f"{f}:1: warning: UTF-8 byte-order mark (BOM) at the start of the file was removed",
        (f"{f}:2: warning: U+FEFF (byte-order mark) characters inside the line were removed on 1 line(s) (line 2)"),
    ]


def test_every_bad_line_is_reported(tmp_path):
    f = _file(tmp_path, "x\na\tb\tN\ny\nz\tq\n")
    with pytest.raises(DataFormatError) as exc:
        read_unimorph(f)
    assert [p.line for p in exc.value.errors] == [1, 3, 4]


def test_errors_policy_is_checked(tmp_path):
    with pytest.raises(ValueError, match="errors must be"):
        read_unimorph(_file(tmp_path, "a\tb\tN\n"), errors="ignore")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- writing


def test_write_round_trip_and_blank_lines(tmp_path):
    entries = [
        InflectionEntry("a", "a1", "N;SG"),
        InflectionEntry("a", "a2", "N;PL"),
        InflectionEntry("null", "NA", "V"),
    ]
    out = write_unimorph(entries, tmp_path / "out" / "swh.tsv", blank_between_paradigms=True)
    assert out.read_text(encoding="utf-8") == "a\ta1\tN;SG\na\ta2\tN;PL\n\nnull\tNA\tV\n"
    t = read_unimorph(out)
    assert list(t.entries) == entries and t.n_blank_lines == 1
    write_unimorph(t, tmp_path / "again.tsv")
    assert read_unimorph(tmp_path / "again.tsv", language="swh").entries == t.entries


@pytest.mark.parametrize(
    "entry",
    [
        InflectionEntry("a", None, "N"),
        InflectionEntry("a\tb", "c", "N"),
        InflectionEntry("a", "b\nc", "N"),
        InflectionEntry("", "b", "N"),
        InflectionEntry("a", "b", " N"),
        InflectionEntry("a", "\ufeffb", "N"),
        InflectionEntry("a", "b\x00", "N"),
    ],
)
def test_writer_refuses_what_cannot_round_trip_and_keeps_the_old_file(tmp_path, entry):
    target = _file(tmp_path, "old\tfile\tN\n")
    with pytest.raises(ValueError):
        write_unimorph([InflectionEntry("x", "y", "N"), entry], target)
    assert target.read_text(encoding="utf-8") == "old\tfile\tN\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["swh.tsv"]


ENTRY = st.builds(InflectionEntry, TSV_FIELD, TSV_FIELD, feature_bundles("non{NOM}"))


@settings(max_examples=150, deadline=None)
@given(st.lists(ENTRY, min_size=1, max_size=20), st.booleans())
def test_property_write_then_read_is_identity(entries, blanks):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "swh.tsv"
        write_unimorph(entries, path, blank_between_paradigms=blanks)
        t = read_unimorph(path)
        assert list(t.entries) == entries
        assert not error_strings(t)
        assert_accounted(t, path)


# --------------------------------------------------------------------------- feature statistics


def test_tag_dimensions_and_feature_stats():
    assert tag_dimension("PST") == "Tense" and tag_dimension("V.CVB") == "Part of speech"
    assert tag_dimension("ARGNO3S") == "Argument marking" and tag_dimension("ALL+ESS") == "Case"
    assert tag_dimension("NOM(INFM,2,SG)", pos="V") == "Argument marking"
    s = feature_stats(
        [
            InflectionEntry("a", "b", "V;PST;NOM(3,SG)"),
            InflectionEntry("a", "c", "V;PRS;NOM(3,PL)"),
            InflectionEntry("d", "e", "N;NOM(PL;PSS(1,PL))"),
            InflectionEntry("f", "g", "FOO;SG"),
        ]
    )
    assert (s.n_entries, s.n_lemmas, s.n_bundles) == (4, 3, 4)
    assert s.pos == {"V": 2, "N": 1, "?": 1}
    assert s.dimensions["Tense"] == 2 and s.dimensions["Argument marking"] == 2 and s.dimensions["Case"] == 1
    assert s.unknown_tags == ("FOO",) and s.mean_paradigm_size == pytest.approx(4 / 3)


def test_readers_do_not_import_torch():
    code = (
        "import sys, lexiconlm.io.unimorph, lexiconlm.io.sigmorphon, lexiconlm.io.massive; "
        "assert 'torch' not in sys.modules and 'pandas' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- real data

#: Lines of the staged UniMorph files that are defective at the source (kept verbatim there).
KNOWN_DEFECTS = {
    (
        "ckb.arab.gold.tsv",
        200,
    ): "two entries glued together (missing line break after V.PTCP;LGSPEC1)",
    (
        "ckb.arab.gold.tsv",
        299,
    ): "two entries glued together (missing line break after N;DEF;PL;LGSPEC1)",
    ("ckb.arab.gold.tsv", 950): "2 columns: lemma and form only, the features are missing",
    (
        "ckb.latn.gold.tsv",
        200,
    ): "two entries glued together (missing line break after V.PTCP;LGSPEC1)",
    (
        "ckb.latn.gold.tsv",
        299,
    ): "two entries glued together (missing line break after N;DEF;PL;LGSPEC1)",
    (
        "ckb.latn.gold.tsv",
        950,
    ): "feature bundle written twice without a separator, plus an empty 4th column",
}
#: Lines read after a repair (a warning names each).
KNOWN_REPAIRS = {("ckt.tsv", 67): "lemma and form separated by two spaces instead of a tab"}


def test_real_unimorph_files(shared_data):
    files = sorted(p for p in (shared_data / "unimorph").iterdir() if p.suffix == ".tsv")
    assert len(files) == 30  # 28 languages; ckb in two scripts, kaz twice
    found: dict[tuple[str, int], str] = {}
    for f in files:
        t = read_unimorph(f, errors="collect")
        assert_accounted(t, f)
        assert t.language.iso639_3, f
        for p in t.problems:
            if p.severity == "error":
                found[(f.name, p.line)] = p.message
        assert all(e.form and e.features and e.lemma for e in t.entries)
    assert set(found) == set(KNOWN_DEFECTS), found
    ckt = read_unimorph(shared_data / "unimorph" / "ckt.tsv")
    assert any(p.line == 67 and "separated by spaces" in p.message for p in ckt.problems)
    assert ckt.entries[66].features == "V.PTCP;SG;FOC"


def test_real_unimorph_counts_match_provenance(shared_data):
    # PROVENANCE.md gives kept non-blank lines per file; ckb has 3 defective lines each.
    expected = {
        "amh.tsv": 38754,
        "ben.tsv": 4443,
        "gle.tsv": 41646,
        "kaz.tsv": 357,
        "zul.tsv": 46326,
        "ckb.arab.gold.tsv": 998 - 3,
        "ckt.tsv": 243,
    }
    for name, n in expected.items():
        assert len(read_unimorph(shared_data / "unimorph" / name, errors="collect")) == n, name


def test_real_write_round_trip(shared_data, tmp_path):
    for name in (
        "amh.tsv",
        "heb.tsv",
        "khk.tsv",
    ):  # LF, NFC, no blank lines: byte-identical rewrite
        src = shared_data / "unimorph" / name
        t = read_unimorph(src)
        out = write_unimorph(t, tmp_path / name)
        assert out.read_bytes() == src.read_bytes(), name
    sme = read_unimorph(shared_data / "unimorph" / "sme.tsv")
    again = read_unimorph(write_unimorph(sme, tmp_path / "sme.tsv", blank_between_paradigms=True))
    assert again.entries == sme.entries and again.n_blank_lines == len(sme.lemmas) - 1


def test_find_unimorph_tables_by_catalog_language(tmp_path):
    from lexiconlm.io.unimorph import find_unimorph_tables

    for name in ("amh.tsv", "fas.tsv", "kaz.tsv", "kaz.noun.tsv", "PROVENANCE.md", ".hidden.tsv"):
        (tmp_path / name).write_text("a\tb\tN;SG\n", encoding="utf-8")
    assert [p.name for p in find_unimorph_tables("kk", [tmp_path])] == ["kaz.noun.tsv", "kaz.tsv"]
    assert [p.name for p in find_unimorph_tables("fa-IR", [tmp_path])] == ["fas.tsv"]  # macrolanguage code
    assert find_unimorph_tables("heb", [tmp_path]) == []
    assert find_unimorph_tables("Amharic", [tmp_path / "amh.tsv", tmp_path / "missing.tsv"]) == [tmp_path / "amh.tsv"]
