"""Lexicon readers and writers: every format, every repair and error, round trips, real data."""

from __future__ import annotations

import math
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from helpers import assert_accounted, error_strings, warning_strings, write_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lexiconlm.errors import DataFormatError, UnknownLanguageError
from lexiconlm.io.lexicons import (
    detect_lexicon_format,
    gatitos_pos,
    iter_lexicon_files,
    read_lexicon,
    read_lexicons,
    write_lexicon,
)
from lexiconlm.types import Language, Lexicon, LexiconEntry


def _pairs(lex: Lexicon) -> list[tuple[str, str]]:
    return [(e.source, e.target) for e in lex.entries]


# --------------------------------------------------------------------------- formats


def test_gatitos_file_languages_and_entries(tmp_path):
    f = write_file(tmp_path / "en_sw.tsv", "journey\tsafari\nprice\tbei\nprice\tthamani\n")
    lex = read_lexicon(f)
    assert lex.provenance.format == "gatitos"
    assert lex.provenance.source == "GATITOS"
    assert (lex.src.iso639_3, lex.tgt.iso639_3) == ("eng", "swh")
    assert _pairs(lex) == [("journey", "safari"), ("price", "bei"), ("price", "thamani")]
    assert lex.translations("price") == ["bei", "thamani"]
    assert lex.problems == ()


def test_gatitos_region_and_script_codes_use_the_gatitos_context(tmp_path):
    assert read_lexicon(write_file(tmp_path / "en_ar-MA.tsv", "die\tmat\n")).tgt.iso639_3 == "ary"
    assert read_lexicon(write_file(tmp_path / "en_fa-AF.tsv", "die\tmurdan\n")).tgt.iso639_3 == "prs"
    lex = read_lexicon(write_file(tmp_path / "en_bm-Nkoo.tsv", "die\tߛߊ߬\n"))
    assert lex.tgt.iso639_3 == "bam" and lex.provenance.format == "gatitos"


def test_gatitos_annotations_kept_in_text_and_give_pos(tmp_path):
    f = write_file(
        tmp_path / "en_ch.tsv",
        "aid\tayuda (verb)\naid\tayudu (noun)\nabsorb\tabzorb(e)\nhe\tgui' (masculine)\n",
    )
    lex = read_lexicon(f)
    assert [(e.target, e.pos) for e in lex] == [
        ("ayuda (verb)", "VERB"),
        ("ayudu (noun)", "NOUN"),
        ("abzorb(e)", None),
        ("gui' (masculine)", None),
    ]
    assert gatitos_pos("big (adj)") == "ADJ" and gatitos_pos("(verb)") is None


def test_wiktionary_name_gives_target_language(tmp_path):
    lex = read_lexicon(write_file(tmp_path / "swahili.txt", "die\tfa\npaternal uncle\tami\n"))
    assert lex.provenance.format == "wiktionary"
    assert (lex.src.iso639_3, lex.tgt.iso639_3) == ("eng", "swh")
    assert _pairs(lex)[1] == ("paternal uncle", "ami")  # multi-word entries kept intact
    assert lex.entries[1].is_multiword
    lex = read_lexicon(write_file(tmp_path / "ancient_greek.txt", "word\tλόγος\n"))
    assert lex.tgt.iso639_3 == "grc"


def test_muse_space_and_tab_separated(tmp_path):
    f = write_file(tmp_path / "en-de.txt", "the die\nthe der\nhouse  Haus\n")
    lex = read_lexicon(f)
    assert lex.provenance.format == "muse"
    assert (lex.src.iso639_3, lex.tgt.iso639_3) == ("eng", "deu")
    assert _pairs(lex) == [("the", "die"), ("the", "der"), ("house", "Haus")]
    g = write_file(tmp_path / "de-en.0-5000.txt", "Haus\thouse\nguten Tag\tgood day\n")
    lex = read_lexicon(g)
    assert lex.provenance.format == "muse"
    assert (lex.src.iso639_3, lex.tgt.iso639_3) == ("deu", "eng")
    assert _pairs(lex)[1] == ("guten Tag", "good day")


def test_muse_three_words_without_tab_is_an_error(tmp_path):
    f = write_file(tmp_path / "en-fr.txt", "cat chat\nice cream glace\n")
    with pytest.raises(DataFormatError) as exc:
        read_lexicon(f)
    assert error_strings(exc.value) == [
        (
            f"{f}:2: error: expected 2 fields (source and target) separated by a space or a tab, "
            "got 3: 'ice cream glace' (fix: put exactly one tab between the fields; a line with a "
            "single field is often a translation that was broken off the line above)"
        )
    ]


def test_panlex_header_with_variety_uids_and_quality(tmp_path):
    f = write_file(
        tmp_path / "panlex_export.tsv",
        "eng-000\tswh-000\ttrans_quality\nwater\tmaji\t9\nwater\tmaaji\t2\nfire\tmoto\t\n",
    )
    assert detect_lexicon_format(f) == "panlex"
    lex = read_lexicon(f)
    assert lex.provenance.format == "panlex"
    assert (lex.src.iso639_3, lex.tgt.iso639_3) == ("eng", "swh")
    assert [(e.source, e.target, e.weight) for e in lex] == [
        ("water", "maji", 9.0),
        ("water", "maaji", 2.0),
        ("fire", "moto", None),
    ]
    assert_accounted(lex, f, header_lines=1)


def test_blank_lines_above_a_header_are_counted(tmp_path):
    f = write_file(tmp_path / "lex.tsv", "\n\nsource\ttarget\nwater\tmaji\n\n")
    lex = read_lexicon(f, src="eng", tgt="swh")
    assert _pairs(lex) == [("water", "maji")]
    assert warning_strings(lex) == [f"{f}:1: warning: 3 blank line(s) skipped (first at line 1)"]
    assert_accounted(lex, f, header_lines=1)


def test_panlex_named_columns_in_any_order_extra_columns_ignored(tmp_path):
    f = write_file(tmp_path / "eng-000_swh-000.tsv", "trans_txt\tmeaning\ttxt\tscore\nmaji\t12\twater\t0.5\n")
    lex = read_lexicon(f)
    assert lex.provenance.format == "panlex"
    assert (lex.src.iso639_3, lex.tgt.iso639_3) == ("eng", "swh")
    assert [(e.source, e.target, e.weight) for e in lex] == [("water", "maji", 0.5)]
    assert warning_strings(lex) == [
        (f"{f}:1: warning: column(s) meaning are not read (fix: only source, target, pos and weight columns are used)")
    ]


def test_panlex_extraction_names_without_header(tmp_path):
    lex = read_lexicon(write_file(tmp_path / "tat_eng_lexicon.txt", "су\twater\n"))
    assert lex.provenance.format == "panlex"
    assert (lex.src.iso639_3, lex.tgt.iso639_3) == ("tat", "eng")
    lex = read_lexicon(write_file(tmp_path / "eng2deu.txt", "house\tHaus\n"))
    assert (lex.provenance.format, lex.src.iso639_3, lex.tgt.iso639_3) == ("panlex", "eng", "deu")
    lex = read_lexicon(write_file(tmp_path / "eng-000_deu-000.tsv", "house\tHaus\t7\n"))
    assert [(e.target, e.weight) for e in lex] == [("Haus", 7.0)]


def test_generic_tsv_with_pos_and_weight_and_header(tmp_path):
    f = write_file(
        tmp_path / "my_lexicon.tsv",
        "source\ttarget\tpos\tweight\nrun\tkimbia\tVERB\t0.9\nrun\tmbio\tNOUN\t\nhouse\tnyumba\t\t1\n",
    )
    lex = read_lexicon(f, src="eng", tgt="swh")
    assert lex.provenance.format == "tsv"
    assert list(lex) == [
        LexiconEntry("run", "kimbia", "VERB", 0.9),
        LexiconEntry("run", "mbio", "NOUN", None),
        LexiconEntry("house", "nyumba", None, 1.0),
    ]
    g = write_file(tmp_path / "plain.tsv", "run\tkimbia\tVERB\nhouse\tnyumba\n")
    assert list(read_lexicon(g, src="eng", tgt="swh")) == [
        LexiconEntry("run", "kimbia", "VERB"),
        LexiconEntry("house", "nyumba"),
    ]


def test_generic_tsv_pair_name_gives_languages(tmp_path):
    lex = read_lexicon(write_file(tmp_path / "eng-swh.tsv", "water\tmaji\tNOUN\n"))
    assert (lex.src.iso639_3, lex.tgt.iso639_3) == ("eng", "swh")


def test_bad_weight_is_an_error_with_line(tmp_path):
    f = write_file(tmp_path / "w.tsv", "a\tb\tN\t0.5\nc\td\tN\thigh\ne\tf\tN\tinf\n")
    lex = read_lexicon(f, src="eng", tgt="swh", errors="collect")
    assert _pairs(lex) == [("a", "b")]
    assert error_strings(lex) == [
        (
            f"{f}:2: error: weight 'high' is not a number (fix: use a decimal number such as 0.75, "
            "or leave the field empty)"
        ),
        (
            f"{f}:3: error: weight 'inf' is not a finite number (fix: use a decimal number such as "
            "0.75, or leave the field empty)"
        ),
    ]


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    "name, text, expected",
    [
        ("en_sw.tsv", "journey\tsafari\n", "gatitos"),
        ("en_ber-Latn.tsv", "journey\tafeğğel\n", "gatitos"),
        ("swahili.txt", "journey\tsafari\n", "wiktionary"),
        ("norwegian_bokmål.txt", "house\thus\n", "wiktionary"),
        ("en-de.txt", "house Haus\n", "muse"),
        ("en-de.0-5000.txt", "house\tHaus\n", "muse"),
        ("words.txt", "house Haus\nthe der\n", "muse"),
        ("eng_swh_lexicon.txt", "water\tmaji\n", "panlex"),
        ("anything.tsv", "eng-000\tswh-000\nwater\tmaji\n", "panlex"),
        ("anything.tsv", "source\ttarget\nwater\tmaji\n", "tsv"),
        ("lex.tsv", "water\tmaji\n", "tsv"),
        ("lex.tsv", "water\tmaji\tNOUN\t0.5\n", "tsv"),
        ("Lex.txt", "water\tmaji\n", "tsv"),
    ],
)
def test_detect_lexicon_format(tmp_path, name, text, expected):
    assert detect_lexicon_format(write_file(tmp_path / name, text)) == expected


def test_one_broken_line_near_the_top_does_not_change_the_format(tmp_path):
    f = write_file(tmp_path / "en_sw.tsv", "broken\n" + "a\tb\n" * 10)
    assert detect_lexicon_format(f) == "gatitos"


def test_metadata_table_is_not_a_lexicon(tmp_path):
    f = write_file(
        tmp_path / "languages.tsv",
        "bcp47\tname\tendonym\talternate_names\tscript\tn_lines\tn_unique_english\n"
        "aa\tAfar\tQafar\t\tLatn\t5001\t3990\n",
    )
    with pytest.raises(DataFormatError) as exc:
        detect_lexicon_format(f)
    assert str(exc.value).startswith(f"{f}:1: error: does not look like a lexicon: the first lines have 7")
    with pytest.raises(DataFormatError, match="does not look like a lexicon"):
        read_lexicon(f)
    g = write_file(tmp_path / "PROVENANCE.txt", "# GATITOS multilingual lexicon (English to 172 languages)\n")
    with pytest.raises(DataFormatError, match="no tab-separated source and target"):
        read_lexicon(g)


# --------------------------------------------------------------------------- languages


def test_explicit_languages_override_the_name(tmp_path):
    f = write_file(tmp_path / "en_sw.tsv", "water\tmaji\n")
    lex = read_lexicon(f, src="fra", tgt=Language("xyz", "Test language"))
    assert (lex.src.iso639_3, lex.tgt.iso639_3, lex.tgt.name) == ("fra", "xyz", "Test language")
    with pytest.raises(UnknownLanguageError):
        read_lexicon(f, tgt="qqq")


def test_unresolved_language_is_unknown_with_a_warning(tmp_path):
    f = write_file(tmp_path / "zzzzqx.txt", "water\tmaji\n")
    lex = read_lexicon(f)
    assert lex.provenance.format == "wiktionary"
    assert lex.tgt == Language.unknown("zzzzqx") and lex.src.iso639_3 == "eng"
    [w] = [p for p in lex.problems if p.severity == "warning"]
    assert w.path == str(f) and w.line is None
    assert "target language 'zzzzqx' (from the file name) is not in the language catalog" in w.message
    assert f"read_lexicon({str(f)!r}, tgt='<ISO 639-3 code>')" in w.hint


def test_generic_file_without_language_names_warns_for_both(tmp_path):
    lex = read_lexicon(write_file(tmp_path / "lexicon.tsv", "water\tmaji\n"))
    assert not lex.src.iso639_3 and not lex.tgt.iso639_3
    msgs = warning_strings(lex)
    assert len(msgs) == 2 and "src=" in msgs[0] and "tgt=" in msgs[1]


# --------------------------------------------------------------------------- repairs and errors


def test_wrong_column_count_and_empty_fields_report_file_and_line(tmp_path):
    f = write_file(tmp_path / "en_sw.tsv", "water\tmaji\nonlyone\nfire\t\n\tmoto\na\tb\tc\nhouse\tnyumba\n")
    with pytest.raises(DataFormatError) as exc:
        read_lexicon(f)
    assert [(p.line, p.message) for p in exc.value.errors] == [
        (2, "expected 2 tab-separated fields (source, target), got 1: 'onlyone'"),
        (3, "empty target: 'fire\\t'"),
        (4, "empty source: '\\tmoto'"),
        (5, "expected 2 tab-separated fields (source, target), got 3: 'a\\tb\\tc'"),
    ]
    assert str(exc.value).splitlines()[0].startswith(f"{f}:2: error: expected 2 tab-separated")
    lex = read_lexicon(f, errors="collect")
    assert _pairs(lex) == [("water", "maji"), ("house", "nyumba")]
    assert_accounted(lex, f)


def test_errors_policy_is_checked(tmp_path):
    with pytest.raises(ValueError, match="errors must be"):
        read_lexicon(write_file(tmp_path / "en_sw.tsv", "a\tb\n"), errors="ignore")
    with pytest.raises(ValueError, match="unknown lexicon format"):
        read_lexicon(tmp_path / "en_sw.tsv", format="csv")


def test_surrounding_whitespace_stripped_once_per_file_with_first_line(tmp_path):
    f = write_file(tmp_path / "en_pag.tsv", "water\tdanum\nBye \tBye\n  see\tnengneng \nice\tyelo\n")
    lex = read_lexicon(f)
    assert _pairs(lex) == [("water", "danum"), ("Bye", "Bye"), ("see", "nengneng"), ("ice", "yelo")]
    assert warning_strings(lex) == [
        f"{f}:2: warning: 2 line(s) had whitespace around a field; it was removed (first at line 2)"
    ]


def test_quotes_null_and_na_are_kept_literally(tmp_path):
    f = write_file(tmp_path / "en_xx.tsv", 'say\t"hello\nzero\tnull\nnot available\tNA\nnan\tnan\n')
    lex = read_lexicon(f, tgt="swh")
    assert _pairs(lex) == [
        ("say", '"hello'),
        ("zero", "null"),
        ("not available", "NA"),
        ("nan", "nan"),
    ]
    assert lex.problems == ()


def test_blank_lines_skipped_counted_once(tmp_path):
    f = write_file(tmp_path / "en_sw.tsv", "\nwater\tmaji\n\n   \nfire\tmoto\n")
    lex = read_lexicon(f)
    assert _pairs(lex) == [("water", "maji"), ("fire", "moto")]
    assert warning_strings(lex) == [f"{f}:1: warning: 3 blank line(s) skipped (first at line 1)"]
    assert_accounted(lex, f)


def test_duplicates_removed_and_counted_or_kept(tmp_path):
    f = write_file(tmp_path / "en_sw.tsv", "water\tmaji\nfire\tmoto\nwater\tmaji\nwater\tmaji\n")
    lex = read_lexicon(f)
    assert _pairs(lex) == [("water", "maji"), ("fire", "moto")] and lex.n_duplicates == 2
    assert_accounted(lex, f)
    kept = read_lexicon(f, dedupe=False)
    assert len(kept) == 4 and kept.n_duplicates == 0


def test_fast_and_line_by_line_paths_agree(tmp_path):
    rows = "".join(f"w{i}\tt{i % 7} (verb)\n" for i in range(50)) + "w1\tt1 (verb)\n"
    clean = read_lexicon(write_file(tmp_path / "a" / "en_sw.tsv", rows))
    with_blank = read_lexicon(write_file(tmp_path / "b" / "en_sw.tsv", rows + "\n"))
    assert clean.entries == with_blank.entries and clean.n_duplicates == with_blank.n_duplicates == 1
    assert clean.entries[0].pos == "VERB"


def test_count_identity_with_every_kind_of_line(tmp_path):
    f = tmp_path / "en_sw.tsv"
    f.write_bytes(b"a\tb\n\nbroken\na\tb\nc\t\xff\nd\te\n  \n")
    lex = read_lexicon(f, errors="collect")
    assert (len(lex), lex.n_duplicates) == (2, 1)
    assert sorted(p.line for p in lex.problems if p.severity == "error") == [3, 5]
    assert_accounted(lex, f)


# --------------------------------------------------------------------------- writing


def test_write_then_read_is_exact_with_pos_and_weight(tmp_path):
    entries = [
        LexiconEntry("run", "kimbia", "VERB", 0.1),
        LexiconEntry("house", "nyumba"),
        LexiconEntry("ice cream", "aiskrimu", None, 1e-05),
    ]
    f = write_lexicon(entries, tmp_path / "out" / "eng-swh.tsv")
    assert f.read_text(encoding="utf-8").splitlines()[0] == "run\tkimbia\tVERB\t0.1"
    lex = read_lexicon(f)
    assert list(lex) == entries and lex.problems == ()
    assert [p.name for p in f.parent.iterdir()] == ["eng-swh.tsv"]  # no temporary file left


def test_write_a_lexicon_object_and_tuples(tmp_path):
    lex = read_lexicon(write_file(tmp_path / "en_sw.tsv", "aid\tmsaada (noun)\nwater\tmaji\n"))
    out = write_lexicon(lex, tmp_path / "copy.tsv")
    assert read_lexicon(out, src="eng", tgt="swh").entries == lex.entries
    out2 = write_lexicon([("water", "maji"), ("fire", "moto")], tmp_path / "t.tsv")
    assert out2.read_text(encoding="utf-8") == "water\tmaji\nfire\tmoto\n"


def test_write_with_header_and_header_like_first_entry(tmp_path):
    f = write_lexicon([("water", "maji", None, 2.0)], tmp_path / "h.tsv", header=True)
    assert f.read_text(encoding="utf-8") == "source\ttarget\tpos\tweight\nwater\tmaji\t\t2.0\n"
    assert list(read_lexicon(f, src="eng", tgt="swh")) == [LexiconEntry("water", "maji", None, 2.0)]
    g = write_lexicon([("source", "target"), ("a", "b")], tmp_path / "g.tsv")
    assert g.read_text(encoding="utf-8").startswith("source\ttarget\nsource\ttarget\n")
    assert _pairs(read_lexicon(g, src="eng", tgt="swh")) == [("source", "target"), ("a", "b")]


@pytest.mark.parametrize(
    "entry, message",
    [
        (("a\tb", "c"), "contains a tab or line break"),
        (("a", "b\nc"), "contains a tab or line break"),
        (("a", "b\rc"), "contains a tab or line break"),
        (("", "c"), "source is empty"),
        ((" a", "c"), "has whitespace at its start or end"),
        (("a", "c\x00"), "NUL"),
        (("\ufeffa", "c"), "byte-order mark"),
        (("a", "b", None, float("nan")), "finite"),
        (("a", "b", "N\tV"), "contains a tab"),
    ],
)
def test_write_refuses_what_cannot_round_trip(tmp_path, entry, message):
    f = tmp_path / "x.tsv"
    with pytest.raises(ValueError, match=message):
        write_lexicon([("ok", "sawa"), entry] if entry[0] != "\ufeffa" else [entry], f)
    assert not f.exists()


def test_write_muse(tmp_path):
    f = write_lexicon([("house", "Haus"), ("the", "die")], tmp_path / "en-de.txt", format="muse")
    assert f.read_text(encoding="utf-8") == "house Haus\nthe die\n"
    assert _pairs(read_lexicon(f)) == [("house", "Haus"), ("the", "die")]
    with pytest.raises(ValueError, match="contains whitespace"):
        write_lexicon([("ice cream", "Eis")], tmp_path / "x.txt", format="muse")
    with pytest.raises(ValueError, match="no pos or weight"):
        write_lexicon([("a", "b", "N")], tmp_path / "x.txt", format="muse")
    with pytest.raises(ValueError, match="cannot write lexicon format"):
        write_lexicon([("a", "b")], tmp_path / "x.txt", format="gatitos")


def test_write_normalises_to_nfc(tmp_path):
    f = write_lexicon([(unicodedata.normalize("NFD", "café"), "kahawa")], tmp_path / "n.tsv")
    assert f.read_text(encoding="utf-8") == "café\tkahawa\n"


# --------------------------------------------------------------------------- properties

_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\n\r\x00")


def _clean(s: str) -> str:
    return unicodedata.normalize("NFC", s).strip()


_FIELD = (
    st.text(_CHARS, min_size=1, max_size=20)
    .map(_clean)
    .filter(lambda s: s != "" and s == s.strip() and unicodedata.is_normalized("NFC", s))
)
_ENTRY = st.builds(
    LexiconEntry,
    _FIELD,
    _FIELD,
    st.none() | _FIELD,
    st.none() | st.floats(allow_nan=False, allow_infinity=False),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(_ENTRY, min_size=1, max_size=12))
def test_tsv_round_trip_is_exact(tmp_path, entries):
    entries = [e for e in entries if not e.source.startswith("\ufeff")] or [LexiconEntry("a", "b")]
    f = write_lexicon(entries, tmp_path / "prop.tsv")
    lex = read_lexicon(f, src="eng", tgt="swh", dedupe=False)
    assert list(lex) == entries
    assert not [p for p in lex.problems if p.severity == "error"]


_WORD = (
    st.text(_CHARS, min_size=1, max_size=15)
    .map(lambda s: "".join(unicodedata.normalize("NFC", s).split()))
    .filter(lambda s: s != "" and unicodedata.is_normalized("NFC", s) and s == "".join(s.split()))
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(_WORD, _WORD), min_size=1, max_size=12))
def test_muse_round_trip_is_exact(tmp_path, pairs):
    pairs = [p for p in pairs if not p[0].startswith("\ufeff")] or [("a", "b")]
    f = write_lexicon(pairs, tmp_path / "en-de.txt", format="muse")
    lex = read_lexicon(f, dedupe=False)
    assert _pairs(lex) == pairs and lex.provenance.format == "muse"


# --------------------------------------------------------------------------- many files


def test_read_lexicons_directory_skips_metadata_and_keeps_order(tmp_path):
    d = tmp_path / "gatitos"
    write_file(d / "en_sw.tsv", "water\tmaji\n")
    write_file(d / "en_ak.tsv", "water\tnsuo\n")
    write_file(d / "languages.tsv", "bcp47\tname\nsw\tSwahili\n")
    write_file(d / "PROVENANCE.md", "# notes\n")
    assert [p.name for p in iter_lexicon_files(d)] == ["en_ak.tsv", "en_sw.tsv"]
    lexicons = read_lexicons(d, workers=0)
    assert [lex.tgt.iso639_3 for lex in lexicons] == ["twi", "swh"]
    extra = write_file(tmp_path / "swahili.txt", "fire\tmoto\n")
    both = read_lexicons([extra, d], workers=0)
    assert [Path(lex.provenance.path).name for lex in both] == [
        "swahili.txt",
        "en_ak.tsv",
        "en_sw.tsv",
    ]


def test_read_lexicons_in_worker_processes_matches_in_process(tmp_path):
    files = [
        write_file(
            tmp_path / f"en_{c}.tsv",
            "".join(f"w{i}\t{c}{i}\n" for i in range(200)) + "x\ty (verb)\n",
        )
        for c in ("sw", "ak", "ee", "ln")
    ]
    here = read_lexicons(files, workers=0)
    there = read_lexicons(files, workers=2)
    assert here == there
    assert there[0].entries[-1] == LexiconEntry("x", "y (verb)", "VERB")


def test_read_lexicons_raises_once_for_all_files(tmp_path):
    a = write_file(tmp_path / "en_sw.tsv", "water\tmaji\nbroken\n")
    b = write_file(tmp_path / "en_ak.tsv", "bad\n")
    c = write_file(tmp_path / "en_ee.tsv", "")
    with pytest.raises(DataFormatError) as exc:
        read_lexicons([a, b, c, tmp_path / "missing.tsv"], workers=0)
    assert [p.location for p in exc.value.errors] == [
        f"{a}:2",
        f"{b}:1",
        str(c),
        str(tmp_path / "missing.tsv"),
    ]
    got = read_lexicons([a, b], errors="collect", workers=0)
    assert [len(lex) for lex in got] == [1, 0]


def test_no_torch_or_pandas_imported():
    code = (
        "import sys, lexiconlm.io.lexicons, lexiconlm.io.text; "
        "bad = [m for m in ('torch', 'pandas') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def gatitos(shared_data):
    d = shared_data / "lexicons" / "gatitos"
    if not d.is_dir():
        pytest.skip("no GATITOS folder in the shared data")
    return d, read_lexicons(d, errors="collect")


@pytest.mark.shared_data
def test_real_gatitos_every_file_reads_with_counts_matching_lines(gatitos):
    d, lexicons = gatitos
    assert len(lexicons) == len(list(d.glob("en_*.tsv"))) == 172
    errors = [p for lex in lexicons for p in lex.problems if p.severity == "error"]
    # The one broken line of the release: a second translation of "smart" on a line of its own.
    assert [(Path(p.path).name, p.line) for p in errors] == [("en_arn.tsv", 3235)]
    for lex in lexicons:
        assert lex.provenance.format == "gatitos"
        assert_accounted(lex, Path(lex.provenance.path))
    assert sum(len(lex) for lex in lexicons) == 755_835


@pytest.mark.shared_data
def test_real_gatitos_every_target_language_resolves(gatitos):
    _, lexicons = gatitos
    unresolved = [lex.provenance.path for lex in lexicons if not lex.tgt.iso639_3]
    assert unresolved == []
    assert {lex.src.iso639_3 for lex in lexicons} == {"eng"}
    by_file = {Path(lex.provenance.path).name: lex.tgt.iso639_3 for lex in lexicons}
    assert by_file["en_ak.tsv"] == "twi" and by_file["en_ar-MA.tsv"] == "ary"
    annotated = [e for lex in lexicons for e in lex if e.pos]
    assert {e.pos for e in annotated} <= {"VERB", "NOUN", "ADJ", "ADV"} and len(annotated) > 100


@pytest.mark.shared_data
def test_real_wiktionary_all_files_read_without_errors(shared_data):
    d = shared_data / "lexicons" / "wiktionary"
    if not d.is_dir():
        pytest.skip("no Wiktionary folder in the shared data")
    lexicons = read_lexicons(d, errors="raise")
    assert len(lexicons) == 3276
    for lex in lexicons:
        assert lex.provenance.format == "wiktionary"
        assert_accounted(lex, Path(lex.provenance.path))
    resolved = sum(1 for lex in lexicons if lex.tgt.iso639_3) / len(lexicons)
    print(f"wiktionary target languages resolved: {resolved:.2%}")
    assert resolved > 0.99
    assert not math.isnan(resolved)


def test_merge_lexicons_keeps_each_pair_once_in_order():
    from lexiconlm.io.lexicons import merge_lexicons
    from lexiconlm.types import Language, Lexicon, LexiconEntry, Provenance

    eng, deu = Language("eng", "English"), Language("deu", "German")
    a = Lexicon(eng, deu, (LexiconEntry("dog", "Hund"), LexiconEntry("cat", "Katze")), Provenance("a.tsv", "tsv"))
    b = Lexicon(eng, deu, (LexiconEntry("dog", "Hund"), LexiconEntry("light", "Licht")), Provenance("b.tsv", "tsv"))
    m = merge_lexicons([a, b])
    assert [(e.source, e.target) for e in m.entries] == [("dog", "Hund"), ("cat", "Katze"), ("light", "Licht")]
    assert m.provenance.path == "a.tsv" and merge_lexicons([a, b], provenance=b.provenance).provenance.path == "b.tsv"
    with pytest.raises(ValueError, match="at least one"):
        merge_lexicons([])
