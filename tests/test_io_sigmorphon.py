"""SIGMORPHON files of every edition: detection, reading, predictions, writing, folders, real data."""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
from helpers import TSV_FIELD, assert_accounted, error_strings, feature_bundles, write_file
from hypothesis import given, settings
from hypothesis import strategies as st

from lexiconlm.errors import DataFormatError, UnknownNameError
from lexiconlm.io.sigmorphon import (
    LFM,
    LMF,
    detect_sigmorphon,
    iter_sigmorphon_dir,
    read_predictions,
    read_sigmorphon,
    scan_sigmorphon_dir,
    write_sigmorphon,
)
from lexiconlm.types import InflectionEntry

LFM_LINES = "kula\tnilikula\tV;PST;1;SG\ncheza\talicheza\tV;PST;3;SG\nnull\tnull\tN;SG\n"
LMF_LINES = "kula\tV;PST;1;SG\tnilikula\ncheza\tV;PST;3;SG\talicheza\nnull\tN;SG\tnull\n"
COVERED = "kula\tV;PST;1;SG\ncheza\tV;PST;3;SG\n"


# --------------------------------------------------------------------------- detection from names


@pytest.mark.parametrize(
    "folder, name, text, edition, split, code, setting, covered",
    [
        ("data", "english-train-high", LFM_LINES, "2017", "train", "english", "high", False),
        (
            "data",
            "scottish-gaelic-train-low",
            LFM_LINES,
            "2017",
            "train",
            "scottish-gaelic",
            "low",
            False,
        ),
        ("data", "english-dev", LFM_LINES, "2017", "dev", "english", "", False),
        ("data", "english-covered-test", COVERED, "2017", "test", "english", "", True),
        ("data", "english-test", LFM_LINES, "2017", "test", "english", "", False),
        ("data", "english-uncovered-test", LFM_LINES, "2017", "test", "english", "", False),
        ("2020_task0", "aka.trn", LFM_LINES, "2020", "train", "aka", "", False),
        ("2020_task0", "aka.tst", COVERED, "2020", "test", "aka", "", True),
        ("data", "aka.trn", LFM_LINES, "2020", "train", "aka", "", False),
        ("data", "ail.train", LFM_LINES, "2021", "train", "ail", "", False),
        ("data", "ail.test.gold", LFM_LINES, "2021", "test", "ail", "", False),
        ("2021Task0", "ail.test", COVERED, "2021", "test", "ail", "", True),
        ("data", "ang_small.train", LFM_LINES, "2022", "train", "ang", "small", False),
        ("data", "ang_large.train", LFM_LINES, "2022", "train", "ang", "large", False),
        ("data", "ang.gold", LFM_LINES, "2022", "test", "ang", "", False),
        ("2022InflectionST", "ang.test", COVERED, "2022", "test", "ang", "", True),
        ("2022_part1", "poma.dev", LFM_LINES, "2022", "dev", "poma", "", False),
        ("data", "amh.trn", LMF_LINES, "2023", "train", "amh", "", False),
        ("data", "heb_unvoc.dev", LMF_LINES, "2023", "dev", "heb_unvoc", "", False),
        ("2023_part1", "amh.tst", COVERED, "2023", "test", "amh", "", True),
        ("data", "amh.covered.tst", COVERED, "2023", "test", "amh", "", True),
    ],
)
def test_detect_from_name_folder_and_content(tmp_path, folder, name, text, edition, split, code, setting, covered):
    f = write_file(tmp_path / folder / name, text)
    info = detect_sigmorphon(f)
    assert (info.edition, info.split, info.code, info.setting, info.covered) == (
        edition,
        split,
        code,
        setting,
        covered,
    )
    assert info.layout == (LMF if edition == "2023" else LFM)
    assert info.path == str(f)


def test_same_name_different_editions_are_told_apart_by_columns(tmp_path):
    a = detect_sigmorphon(write_file(tmp_path / "x" / "aka.trn", LFM_LINES))
    b = detect_sigmorphon(write_file(tmp_path / "y" / "aka.trn", LMF_LINES))
    assert (a.edition, b.edition) == ("2020", "2023")
    assert b.reason == "file name and column order"


def test_undecidable_edition_is_read_with_a_warning(tmp_path):
    f = write_file(tmp_path / "data" / "hun.dev", LFM_LINES)
    ds = read_sigmorphon(f)
    assert ds.edition == "" and [e.form for e in ds] == ["nilikula", "alicheza", "null"]
    [w] = [str(p) for p in ds.problems]
    assert w.startswith(f"{f}: warning: edition not determined: 'hun.dev' fits 2020, 2021, 2022")
    assert read_sigmorphon(f, edition="2021").edition == "2021"


def test_explicit_edition_contradicted_by_columns_is_an_error_naming_the_right_one(tmp_path):
    f = write_file(tmp_path / "data" / "amh.trn", LMF_LINES)
    with pytest.raises(DataFormatError) as exc:
        read_sigmorphon(f, edition="2020")
    msg = str(exc.value)
    assert msg.startswith(f"{f}: error: the features are in column 2 (columns lemma, features, form), but edition 2020")
    assert "pass edition='2023'" in msg
    with pytest.raises(DataFormatError, match="pass edition='2022'"):
        detect_sigmorphon(write_file(tmp_path / "data" / "ang.dev", LFM_LINES), edition=2023)


def test_folder_year_contradicted_by_columns_is_an_error(tmp_path):
    f = write_file(tmp_path / "2020_task0" / "amh.trn", LMF_LINES)
    with pytest.raises(
        DataFormatError,
        match=r"edition 2020 \(file name and folder \(2020_task0\)\).*pass edition='2023'",
    ):
        detect_sigmorphon(f)


def test_name_beats_folder_with_a_warning(tmp_path):
    f = write_file(tmp_path / "2021_task0" / "ang_small.train", LFM_LINES)
    ds = read_sigmorphon(f)
    assert ds.edition == "2022" and ds.setting == "small"
    assert any("folder name says 2021" in p.message for p in ds.problems)


def test_unknown_edition_suggests(tmp_path):
    f = write_file(tmp_path / "amh.trn", LMF_LINES)
    with pytest.raises(UnknownNameError, match="Unknown SIGMORPHON edition '2019'"):
        read_sigmorphon(f, edition="2019")


# --------------------------------------------------------------------------- reading


def test_2023_reads_features_from_the_middle_and_keeps_layers(tmp_path):
    f = write_file(
        tmp_path / "2023_part1" / "kat.trn",
        "წერა\tV;IMP;ACC(2,SG);NOM(INFM,2,SG)\tდაწერე\nსახლი\tN;NOM(PL;PSS(1,PL))\tსახლები\n",
    )
    ds = read_sigmorphon(f)
    assert ds.entries[0] == InflectionEntry("წერა", "დაწერე", "V;IMP;ACC(2,SG);NOM(INFM,2,SG)")
    assert ds.entries[1].tags == ("N", "NOM(PL;PSS(1,PL))")
    assert (ds.edition, ds.split, ds.code, ds.language.code, ds.covered) == (
        "2023",
        "train",
        "kat",
        "kat",
        False,
    )
    assert ds.provenance.format == "sigmorphon2023"


@pytest.mark.parametrize("code, iso", [("jap", "jpn"), ("heb_unvoc", "heb"), ("swa", "swh")])
def test_2023_codes_use_the_task_aliases(tmp_path, code, iso):
    ds = read_sigmorphon(write_file(tmp_path / "2023_part1" / f"{code}.dev", LMF_LINES))
    assert ds.code == code and ds.language.iso639_3 == iso


def test_jap_lemma_in_capitals_does_not_confuse_detection(tmp_path):
    f = write_file(tmp_path / "d" / "jap.trn", "BAN\tV.PTCP;IRR\tBANすれ\nBAN\tV.PTCP;LGSPEC01\tBANし\n")
    ds = read_sigmorphon(f)
    assert ds.edition == "2023" and ds.entries[0].form == "BANすれ"


def test_covered_files_have_no_forms(tmp_path):
    ds = read_sigmorphon(write_file(tmp_path / "2022_part1" / "ang.test", COVERED))
    assert ds.covered and all(e.form is None for e in ds) and ds.entries[0].key == ("kula", "V;PST;1;SG")


def test_wrong_column_counts_name_file_and_line(tmp_path):
    f = write_file(tmp_path / "2022_part1" / "ang.dev", LFM_LINES + "kula\tV;PST\nx\ny\tz\tN\tQ\n")
    with pytest.raises(DataFormatError) as exc:
        read_sigmorphon(f)
    msg = str(exc.value)
    assert f"{f}:4: error: expected 3 tab-separated fields (lemma, form, features), got 2 (a form or" in msg
    assert f"{f}:5: error: expected 3 tab-separated fields" in msg and f"{f}:6: error:" in msg
    ds = read_sigmorphon(f, errors="collect")
    assert len(ds) == 3
    assert_accounted(ds, f)

    g = write_file(tmp_path / "2022_part1" / "ang.test", COVERED + "a\tb\tN\n")
    with pytest.raises(
        DataFormatError,
        match=re.escape(f"{g}:3: error: expected 2 tab-separated fields (lemma, features), got 3"),
    ):
        read_sigmorphon(g)


def test_swapped_columns_on_one_line_is_an_error(tmp_path):
    f = write_file(tmp_path / "2022_part1" / "ang.dev", LFM_LINES + "gehen\tV;PST\tging\n")
    ds = read_sigmorphon(f, errors="collect")
    [e] = error_strings(ds)
    assert e.startswith(f"{f}:4: error: the features column holds 'ging'") and "columns out of order" in e


def test_empty_form_is_kept_and_empty_features_is_an_error(tmp_path):
    # An empty form is a paradigm cell with no written form (2020 gsw has four); the official
    # scoring includes such lines, so they are read as form "" with a counted warning.
    f = write_file(tmp_path / "2020_task0" / "gsw.trn", "gsee\t\tV;IMP;SG;2\nx\ty\t\n" + LFM_LINES)
    ds = read_sigmorphon(f, errors="collect")
    assert error_strings(ds) == [
        f"{f}:2: error: no features (the feature column is empty) (fix: every entry needs a UniMorph feature bundle)",
    ]
    assert ds.entries[0] == InflectionEntry("gsee", "", "V;IMP;SG;2")
    assert any("empty forms" in p.message and p.severity == "warning" for p in ds.problems)


def test_blank_lines_are_skipped_and_counted(tmp_path):
    f = write_file(tmp_path / "2021_task0" / "ail.dev", "\n" + LFM_LINES + "\n\n")
    ds = read_sigmorphon(f)
    assert len(ds) == 3 and ds.n_blank_lines == 3
    assert_accounted(ds, f)
    assert [str(p) for p in ds.problems] == [f"{f}:1: warning: 3 blank line(s) skipped"]


def test_bom_inside_the_file_is_removed(tmp_path):
    f = write_file(tmp_path / "2021_task0" / "mag.dev", "a\tb\tN\n\ufeffदाम\t\ufeffदाम\tN;3\n")
    ds = read_sigmorphon(f)
    assert ds.entries[1] == InflectionEntry("दाम", "दाम", "N;3")
    assert str(ds.problems[0]).startswith(f"{f}:2: warning: U+FEFF (byte-order mark) characters inside the line")


# --------------------------------------------------------------------------- predictions


def test_predictions_keep_empty_forms_and_system_name(tmp_path):
    d = tmp_path / "2021_task0" / "baseline_predictions"
    f = write_file(
        d / "ail.wuetal-transformer-augment.test.pred",
        "kula\tnilikula\tV;PST;1;SG\ncheza\t\tV;PST;3;SG\n",
    )
    info = detect_sigmorphon(f)
    assert (info.edition, info.split, info.code, info.prediction, info.system) == (
        "2021",
        "test",
        "ail",
        True,
        "wuetal-transformer-augment",
    )
    ds = read_predictions(f)
    assert [e.form for e in ds] == [
        "nilikula",
        "",
    ] and ds.provenance.format == "sigmorphon2021-predictions"
    assert any(p.line == 2 and "empty predicted forms" in p.message for p in ds.problems)
    gold = read_sigmorphon(f)  # as gold, an empty form is a cell with no written form: kept, warned
    assert gold.entries[1].form == "" and any("empty forms" in p.message for p in gold.problems)


def test_predictions_with_any_name_and_2023_layout(tmp_path):
    f = write_file(tmp_path / "system_output.txt", LMF_LINES)
    ds = read_predictions(f, edition="2023", language="swh")
    assert ds.entries[0] == InflectionEntry("kula", "nilikula", "V;PST;1;SG") and ds.split == "test"


# --------------------------------------------------------------------------- writing


@pytest.mark.parametrize("edition", ["2017", "2020", "2021", "2022", "2023"])
def test_write_uses_the_edition_layout(tmp_path, edition):
    entries = [
        InflectionEntry("kula", "nilikula", "V;PST;1;SG"),
        InflectionEntry("null", "NA", "N;SG"),
    ]
    out = write_sigmorphon(entries, tmp_path / "o" / "swh.dev", edition=edition)
    first = out.read_text(encoding="utf-8").splitlines()[0]
    assert first == ("kula\tV;PST;1;SG\tnilikula" if edition == "2023" else "kula\tnilikula\tV;PST;1;SG")
    assert list(read_sigmorphon(out, edition=edition)) == entries


def test_write_covered_and_refusals(tmp_path):
    covered = [InflectionEntry("kula", None, "V;PST"), InflectionEntry("cheza", None, "V")]
    out = write_sigmorphon(covered, tmp_path / "swh.tst", edition="2023")
    assert out.read_text(encoding="utf-8") == "kula\tV;PST\ncheza\tV\n"
    ds = read_sigmorphon(out, edition="2023")
    assert ds.covered and list(ds) == covered
    with pytest.raises(ValueError, match="not a mix"):
        write_sigmorphon(covered + [InflectionEntry("a", "b", "N")], tmp_path / "x.dev", edition="2022")
    with pytest.raises(ValueError, match="needs edition"):
        write_sigmorphon(covered, tmp_path / "x.dev")
    with pytest.raises(ValueError, match="tab or line break"):
        write_sigmorphon([InflectionEntry("a\tb", "c", "N")], tmp_path / "x.dev", edition="2022")
    assert not (tmp_path / "x.dev").exists()
    # a dataset carries its edition
    write_sigmorphon(ds, tmp_path / "again.tst")
    assert read_sigmorphon(tmp_path / "again.tst", edition="2023").entries == ds.entries


@settings(max_examples=120, deadline=None)
@given(
    st.sampled_from(["2017", "2020", "2021", "2022", "2023"]),
    st.lists(st.tuples(TSV_FIELD, TSV_FIELD, feature_bundles()), min_size=1, max_size=15),
    st.booleans(),
)
def test_property_write_then_read_is_identity(edition, rows, covered):
    entries = [InflectionEntry(lemma, None if covered else form, feats) for lemma, form, feats in rows]
    with tempfile.TemporaryDirectory() as d:
        path = write_sigmorphon(entries, Path(d) / "swh.dev", edition=edition)
        ds = read_sigmorphon(path, edition=edition)
        assert list(ds) == entries and ds.covered == covered and not error_strings(ds)


# --------------------------------------------------------------------------- folders


def test_scan_and_iter_dir(tmp_path):
    d = tmp_path / "2022_part1"
    write_file(d / "ang_small.train", LFM_LINES)
    write_file(d / "ang.dev", LFM_LINES)
    write_file(d / "ang.test", COVERED)
    write_file(d / "PROVENANCE.md", "# notes\n")
    write_file(d / "baseline_results/part1_neural_dev.txt", "Lang\tacc\n")
    write_file(d / "languages_from_readme.tsv", "code\tlanguage\n")
    infos = list(iter_sigmorphon_dir(d))
    assert [(Path(i.path).name, i.split, i.covered) for i in infos] == [
        ("ang.dev", "dev", False),
        ("ang.test", "test", True),
        ("ang_small.train", "train", False),
    ]
    scan = scan_sigmorphon_dir(d)
    assert sorted(Path(p).name for p, _ in scan.skipped) == [
        "PROVENANCE.md",
        "languages_from_readme.tsv",
        "part1_neural_dev.txt",
    ]
    # data-looking files that fail, and unknown files, are reported, never dropped silently
    bad = write_file(d / "heb.dev", LMF_LINES)
    odd = write_file(d / "notes", "something\n")
    with pytest.raises(DataFormatError) as exc:
        list(iter_sigmorphon_dir(d))
    msg = str(exc.value)
    assert (
        f"{bad}: error: the features are in column 2" in msg and f"{odd}: error: not a SIGMORPHON data file name" in msg
    )
    assert len(list(iter_sigmorphon_dir(d, errors="collect"))) == 3


# --------------------------------------------------------------------------- real data

EDITION_DIRS = {
    "2020_task0": "2020",
    "2021_task0": "2021",
    "2022_part1": "2022",
    "2023_part1": "2023",
}
#: Source lines that are defective (kept verbatim in the staged copies).
KNOWN_DEFECTS: dict = {}
#: Paradigm cells with an empty form (kept as "" and warned about, as the official scoring reads them).
EMPTY_FORMS = {
    ("2020_task0/gsw.trn", 481),
    ("2020_task0/gsw.trn", 992),
    ("2020_task0/gsw.trn", 1103),
    ("2020_task0/gsw.tst", 133),
}
FILE_COUNTS = {"2020_task0": 189, "2021_task0": 68, "2022_part1": 119, "2023_part1": 81}


def test_real_every_file_detected_and_read(shared_data):
    root = shared_data / "sigmorphon"
    found: dict[tuple[str, int], str] = {}
    for folder, edition in EDITION_DIRS.items():
        scan = scan_sigmorphon_dir(root / folder)
        assert scan.problems == (), scan.problems
        assert len(scan.files) == FILE_COUNTS[folder]
        for info in scan.files:
            path = Path(info.path)
            assert info.edition == edition, path
            assert info.layout == (LMF if edition == "2023" else LFM)
            assert info.covered == (folder in ("2022_part1", "2023_part1") and info.split == "test"), path
            reader = read_predictions if info.prediction else read_sigmorphon
            ds = reader(path, errors="collect")
            assert_accounted(ds, path)
            assert ds.language.iso639_3, path
            assert ds.edition == edition and ds.split == info.split
            for p in ds.problems:
                if p.severity == "error":
                    found[(f"{folder}/{path.name}", p.line)] = p.message
                assert "language" not in p.message, p
    assert set(found) == set(KNOWN_DEFECTS), found


def test_real_empty_forms_are_kept(shared_data):
    root = shared_data / "sigmorphon"
    for rel in {r for r, _ in EMPTY_FORMS}:
        ds = read_sigmorphon(root / rel)
        expected = sum(1 for r, _ in EMPTY_FORMS if r == rel)
        assert sum(1 for e in ds.entries if e.form == "") == expected, rel


def test_real_detection_without_folder_hint(shared_data, tmp_path):
    """Copies in a folder without a year: names plus column order still decide."""
    root = shared_data / "sigmorphon"
    cases = {
        "2020_task0/aka.trn": "2020",
        "2020_task0/cre.tst": "2020",
        "2021_task0/mag.test.gold": "2021",
        "2021_task0/ckb.train": "2021",
        "2022_part1/poma_large.train": "2022",
        "2022_part1/ara.test": "",  # covered .test: 2021 or 2022
        "2023_part1/jap.trn": "2023",
        "2023_part1/heb_unvoc.dev": "2023",
        "2023_part1/amh.tst": "",
        "2022_part1/kaz.dev": "",
        "2023_part1/kat.dev": "2023",
    }
    for k, (rel, edition) in enumerate(cases.items()):
        dst = tmp_path / f"copy{k}"
        dst.mkdir()
        shutil.copy(root / rel, dst / Path(rel).name)
        info = detect_sigmorphon(dst / Path(rel).name)
        assert info.edition == edition, (rel, info)


def test_real_language_aliases(shared_data):
    root = shared_data / "sigmorphon"
    assert read_sigmorphon(root / "2023_part1" / "jap.dev").language.iso639_3 == "jpn"
    assert read_sigmorphon(root / "2023_part1" / "heb_unvoc.dev").language.iso639_3 == "heb"
    assert read_sigmorphon(root / "2022_part1" / "poma.dev").language.iso639_3 == "poma"
    assert read_sigmorphon(root / "2020_task0" / "swa.dev").language.iso639_3 == "swh"


def test_real_magahi_inner_boms_and_round_trip(shared_data, tmp_path):
    src = shared_data / "sigmorphon" / "2021_task0" / "mag.train"
    ds = read_sigmorphon(src)
    assert not any("\ufeff" in e.lemma + (e.form or "") for e in ds)
    assert any(p.line == 152 and "U+FEFF" in p.message for p in ds.problems)
    for rel in ("2023_part1/amh.trn", "2022_part1/ang.test", "2021_task0/ail.test.gold"):
        src = shared_data / "sigmorphon" / rel
        d = read_sigmorphon(src)
        out = write_sigmorphon(d, tmp_path / rel)
        assert out.read_bytes() == src.read_bytes(), rel
