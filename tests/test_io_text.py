"""Plain-text corpora: lines and id<TAB>text layouts, languages from names and indexes, round trips."""

from __future__ import annotations

import unicodedata

import pytest
from helpers import assert_accounted, error_strings, warning_strings, write_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lexiconlm.errors import DataFormatError, UnknownLanguageError
from lexiconlm.io.text import detect_text_format, read_text, text_language, write_text
from lexiconlm.types import Language, TextSegment

# --------------------------------------------------------------------------- layouts


def test_lines_ids_are_line_numbers_and_blank_lines_counted(tmp_path):
    f = write_file(tmp_path / "amh_Ethi.dev", "ሰላም።\n\nእንዴት ነህ?\n   \nአመሰግናለሁ።\n")
    corpus = read_text(f)
    assert corpus.provenance.format == "lines"
    assert corpus.language.iso639_3 == "amh"
    assert [(s.id, s.text) for s in corpus] == [("1", "ሰላም።"), ("3", "እንዴት ነህ?"), ("5", "አመሰግናለሁ።")]
    assert corpus.n_blank_lines == 2
    assert corpus.problems == ()
    assert_accounted(corpus, f)


def test_id_tsv_bible_and_udhr(tmp_path):
    f = write_file(
        tmp_path / "bible" / "acu_Achuar-NT.MAR.tsv",
        "b.MAR.1.1\tNayaimpinian Jesucristo\nb.MAR.1.2\tIsaías aujmatkamu\n",
    )
    corpus = read_text(f)
    assert corpus.provenance.format == "id_tsv"
    assert corpus.language.iso639_3 == "acu"
    assert [s.id for s in corpus] == ["b.MAR.1.1", "b.MAR.1.2"]
    g = write_file(
        tmp_path / "udhr" / "eng.tsv",
        "title.heading1\tUniversal Declaration of Human Rights\narticle1.text1\tAll human beings\n",
    )
    corpus = read_text(g)
    assert (corpus.provenance.format, corpus.language.iso639_3) == ("id_tsv", "eng")
    assert corpus.segments[1] == TextSegment("article1.text1", "All human beings")


@pytest.mark.parametrize(
    "name, text, expected",
    [
        ("swh_Latn.dev", "a\tb\n", "lines"),  # .dev is always one sentence per line
        ("x.tsv", "b.MAR.1.1\tverse\n", "id_tsv"),
        ("x.tsv", "title.heading1\tTitle\narticle1.text1\tText\n", "id_tsv"),
        ("x.txt", "Hello\tworld\n", "lines"),  # no digit: not an id
        ("x.tsv", "v1\tone\nv2\ttwo\tthree\nv3\tthree\n", "id_tsv"),  # a bad line does not flip it
        ("x.txt", "A sentence.\nAnother one.\n", "lines"),
        ("x.txt", "", "lines"),
    ],
)
def test_detect_text_format(tmp_path, name, text, expected):
    assert detect_text_format(write_file(tmp_path / name, text)) == expected


def test_metadata_index_is_not_a_corpus(tmp_path):
    f = write_file(tmp_path / "index.tsv", "code\tiso639_3\tbcp47\tname\n007\tcri\tcri\tSãotomense\n")
    with pytest.raises(DataFormatError) as exc:
        read_text(f)
    assert str(exc.value).startswith(
        f"{f}:1: error: does not look like a text corpus: the first lines have 4 tab-separated fields"
    )


# --------------------------------------------------------------------------- languages


@pytest.mark.parametrize(
    "name, iso",
    [
        ("amh_Ethi.dev", "amh"),
        ("acu_Achuar-NT.MAR.tsv", "acu"),
        ("eng.tsv", "eng"),
        ("acu_1.tsv", "acu"),
        ("fuv2.tsv", "fuv"),
        ("cmn_hans_beijing.tsv", "cmn"),
        ("swh_Latn.dev", "swh"),
    ],
)
def test_language_from_file_name(tmp_path, name, iso):
    assert text_language(tmp_path / name).iso639_3 == iso


def test_language_from_an_index_beside_the_corpus(tmp_path):
    d = tmp_path / "udhr"
    write_file(
        d / "index.tsv",
        "code\tiso639_3\tbcp47\tname\n007\tcri\tcri\tSãotomense\n"
        "oci_1\tfrp\tfrp\tFrancoprovençal\n013\tund\tund\t(Mijisa)\n",
    )
    assert read_text(write_file(d / "007.tsv", "title.heading1\tTitle\n")).language.iso639_3 == "cri"
    # the index wins over the name: oci_1 is Francoprovençal, not Occitan
    assert read_text(write_file(d / "oci_1.tsv", "title.heading1\tTitle\n")).language.iso639_3 == "frp"
    corpus = read_text(write_file(d / "013.tsv", "title.heading1\tTitle\n"))
    assert corpus.language == Language.unknown("(Mijisa)")
    [w] = warning_strings(corpus)
    assert "index.tsv gives language 'und' (named '(Mijisa)')" in w and "language='<ISO 639-3 code>'" in w


def test_bible_staged_files_index(tmp_path):
    d = tmp_path / "bible"
    write_file(
        d / "staged_files.tsv",
        "staged_file\tsource_file\tiso639_3\tlanguage\nxx_Test-NT.MAR.tsv\tTest.xml\tquc\tK'iche'\n",
    )
    assert read_text(write_file(d / "xx_Test-NT.MAR.tsv", "b.MAR.1.1\tv\n")).language.iso639_3 == "quc"


def test_unknown_language_warns_and_explicit_language_wins(tmp_path):
    f = write_file(tmp_path / "corpus.txt", "Hello.\n")
    corpus = read_text(f)
    assert corpus.language == Language.unknown("corpus")
    [w] = corpus.problems
    assert w.severity == "warning" and w.path == str(f) and w.line is None
    assert f"read_text({str(f)!r}, language='<ISO 639-3 code>')" in w.hint
    assert read_text(f, language="swh").language.iso639_3 == "swh"
    assert read_text(f, language=Language("xyz", "X")).language.iso639_3 == "xyz"
    with pytest.raises(UnknownLanguageError):
        read_text(f, language="qqq")


# --------------------------------------------------------------------------- repairs and errors


def test_id_tsv_errors_name_file_and_line(tmp_path):
    f = write_file(
        tmp_path / "acu.tsv",
        "b.MAR.1.1\tone\nb.MAR.1.2\ttwo\tthree\nb.MAR.1.3\t\n\tfour\nb.MAR.1.1\tagain\nb.MAR.1.5\tfive\n",
    )
    with pytest.raises(DataFormatError) as exc:
        read_text(f)
    assert [(p.line, p.message) for p in exc.value.errors] == [
        (2, "expected 2 tab-separated fields (id, text), got 3: 'b.MAR.1.2\\ttwo\\tthree'"),
        (3, "empty text: 'b.MAR.1.3\\t'"),
        (4, "empty id: '\\tfour'"),
        (5, "duplicate id 'b.MAR.1.1' (first at line 1)"),
    ]
    assert str(exc.value).splitlines()[0] == (
        f"{f}:2: error: expected 2 tab-separated fields (id, text), got 3: 'b.MAR.1.2\\ttwo\\tthree' "
        "(fix: a tab inside the text? replace it with a space)"
    )
    corpus = read_text(f, errors="collect")
    assert [s.id for s in corpus] == ["b.MAR.1.1", "b.MAR.1.5"]
    assert_accounted(corpus, f)


def test_whitespace_around_the_text_is_stripped_with_one_warning(tmp_path):
    f = write_file(tmp_path / "fon_Latn.dev", "Bonjour \nMɛ̌ wɛ\n\tcafé\n")
    corpus = read_text(f)
    assert corpus.texts == ["Bonjour", "Mɛ̌ wɛ", "café"]
    assert warning_strings(corpus) == [
        (f"{f}:1: warning: 2 line(s) had whitespace around the text or id; it was removed (first at line 1)")
    ]


def test_quotes_null_and_na_kept(tmp_path):
    f = write_file(tmp_path / "swh.txt", '"Habari\nnull\nNA\n')
    assert read_text(f).texts == ['"Habari', "null", "NA"]


def test_invalid_utf8_line_is_left_out_and_ids_stay_line_numbers(tmp_path):
    f = write_file(tmp_path / "fra.txt", b"Bonjour.\nUn caf\xe9.\nMerci.\n")
    corpus = read_text(f, errors="collect")
    assert [(s.id, s.text) for s in corpus] == [("1", "Bonjour."), ("3", "Merci.")]
    assert_accounted(corpus, f)


def test_only_blank_lines_warns(tmp_path):
    corpus = read_text(write_file(tmp_path / "swh.txt", "\n \n"))
    assert len(corpus) == 0 and corpus.n_blank_lines == 2
    assert warning_strings(corpus) == [f"{tmp_path / 'swh.txt'}: warning: no text: every line is blank"]


# --------------------------------------------------------------------------- writing


def test_write_lines_and_id_tsv(tmp_path):
    f = write_text(["Habari ya asubuhi.", "Asante sana."], tmp_path / "out" / "swh.txt")
    assert f.read_text(encoding="utf-8") == "Habari ya asubuhi.\nAsante sana.\n"
    assert read_text(f).texts == ["Habari ya asubuhi.", "Asante sana."]
    assert [p.name for p in f.parent.iterdir()] == ["swh.txt"]
    segs = [TextSegment("b.MAR.1.1", "one"), TextSegment("b.MAR.1.2", "two")]
    g = write_text(segs, tmp_path / "swh.tsv")
    assert g.read_text(encoding="utf-8") == "b.MAR.1.1\tone\nb.MAR.1.2\ttwo\n"
    corpus = read_text(g)
    assert list(corpus.segments) == segs
    h = write_text(corpus, tmp_path / "copy.tsv")
    assert h.read_bytes() == g.read_bytes()


@pytest.mark.parametrize(
    "texts, message",
    [
        (["one", "two\nthree"], "line break"),
        (["one\r"], "line break"),
        (["a\tb"], "contains a tab"),
        (["ok", "  "], "empty or blank"),
        (["ok", " padded"], "whitespace at its start or end"),
        (["\ufeffstart"], "byte-order mark"),
        (["nul\x00"], "NUL"),
    ],
)
def test_write_refuses_what_cannot_round_trip(tmp_path, texts, message):
    f = tmp_path / "x.txt"
    with pytest.raises(ValueError, match=message):
        write_text(texts, f)
    assert not f.exists()


def test_write_refuses_repeated_ids_and_bare_strings_as_id_tsv(tmp_path):
    with pytest.raises(ValueError, match="repeated"):
        write_text([TextSegment("1", "a"), TextSegment("1", "b")], tmp_path / "x.tsv")
    with pytest.raises(ValueError, match="needs TextSegment"):
        write_text(["a"], tmp_path / "x.tsv", format="id_tsv")
    with pytest.raises(TypeError):
        write_text("one string", tmp_path / "x.txt")


_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\n\r\x00")
_TEXT = (
    st.text(_CHARS, min_size=1, max_size=40)
    .map(lambda s: unicodedata.normalize("NFC", s).strip())
    .filter(lambda s: s != "" and s == s.strip() and unicodedata.is_normalized("NFC", s) and not s.startswith("\ufeff"))
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(_TEXT, min_size=1, max_size=15))
def test_lines_round_trip_is_exact(tmp_path, texts):
    f = write_text(texts, tmp_path / "prop.txt")
    corpus = read_text(f, language="swh")
    assert corpus.texts == texts
    assert [s.id for s in corpus] == [str(i) for i in range(1, len(texts) + 1)]
    assert not error_strings(corpus)


_ID = st.from_regex(r"\A[a-z]{1,6}[0-9]{1,4}(\.[a-z0-9]{1,4}){0,3}\Z")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_ID, _TEXT), min_size=1, max_size=15, unique_by=lambda r: r[0]))
def test_id_tsv_round_trip_is_exact(tmp_path, rows):
    segs = [TextSegment(i, t) for i, t in rows]
    f = write_text(segs, tmp_path / "prop.tsv")
    corpus = read_text(f, language="swh")  # auto-detected: ids look like ids
    assert corpus.provenance.format == "id_tsv"
    assert list(corpus.segments) == segs


# --------------------------------------------------------------------------- real data


@pytest.mark.shared_data
def test_real_corpora_read_with_languages(shared_data):
    text = shared_data / "text"
    if not text.is_dir():
        pytest.skip("no text folder in the shared data")
    files = (
        sorted((text / "bible").glob("*_*.tsv"))
        + sorted((text / "udhr").glob("*.tsv"))
        + sorted((text / "flores200_dev").glob("*.dev"))
    )
    files = [f for f in files if f.name not in ("index.tsv", "staged_files.tsv")]
    assert len(files) > 500
    unknown = []
    for f in files:
        corpus = read_text(f)
        assert not error_strings(corpus), f
        expected = "lines" if f.suffix == ".dev" else "id_tsv"
        assert corpus.provenance.format == expected
        assert_accounted(corpus, f)
        if not corpus.language.iso639_3:
            unknown.append(f.name)
    # only UDHR versions whose index entry is 'und' (unidentified varieties) stay unknown
    assert len(unknown) <= 10 and all(name[:3].isdigit() for name in unknown)
    flores = read_text(text / "flores200_dev" / "amh_Ethi.dev")
    assert (len(flores), flores.language.iso639_3, flores.segments[0].id) == (997, "amh", "1")
    oci = read_text(text / "udhr" / "oci_1.tsv")
    assert oci.language.iso639_3 == "frp"


@pytest.mark.shared_data
def test_real_metadata_tables_are_rejected(shared_data):
    for f in (
        shared_data / "text" / "udhr" / "index.tsv",
        shared_data / "text" / "bible" / "staged_files.tsv",
    ):
        if f.exists():
            with pytest.raises(DataFormatError, match="does not look like a text corpus"):
                read_text(f)
