"""CoNLL reading/writing and BIO label projection (lexiconlm.io.conll, pseudo_label CoNLL part)."""

from __future__ import annotations

import pytest

from lexiconlm.errors import DataFormatError
from lexiconlm.io.conll import (
    ConllDataset,
    TaggedSentence,
    bio_spans,
    read_conll,
    spans_to_bio,
    write_conll,
)
from lexiconlm.synth.pseudo_label import (
    detect_labelled_format,
    label_file,
    project_conll_file,
    project_sentence,
)
from lexiconlm.synth.translate import LexiconTranslator
from lexiconlm.types import Language, Lexicon, LexiconEntry, Provenance

SAMPLE = """-DOCSTART- -X- -X- O

John B-PER
Lewis I-PER
visited O
New B-LOC
York I-LOC
. O

Obama B-PER
spoke O
"""


def translator(pairs, **kw):
    kw.setdefault("sense", "first")
    lex = Lexicon(
        Language("eng", "English", scripts=("Latn",)),
        Language("swh", "Swahili", scripts=("Latn",)),
        tuple(LexiconEntry(s, t) for s, t in pairs),
        Provenance("demo/en_sw.tsv", "tsv"),
    )
    return LexiconTranslator(lex, **kw)


def test_read_sample_with_docstart(tmp_path):
    p = tmp_path / "eng.txt"
    p.write_text(SAMPLE, encoding="utf-8")
    ds = read_conll(p)
    assert len(ds) == 2 and ds.n_tokens == 8 and ds.n_docstarts == 1 and ds.separator == " "
    s = ds.sentences[0]
    assert s.tokens == ("John", "Lewis", "visited", "New", "York", ".")
    assert s.entities == [("PER", 0, 2), ("LOC", 3, 5)]
    assert s.line == 3 and s.docstart == "-DOCSTART- -X- -X- O"
    assert ds.sentences[1].line == 10 and ds.sentences[1].docstart == ""
    assert [p.severity for p in ds.problems] == []


def test_round_trip_space_tab_and_middle_columns(tmp_path):
    p = tmp_path / "a.txt"
    p.write_text(SAMPLE, encoding="utf-8")
    ds = read_conll(p)
    q = write_conll(ds, tmp_path / "b.txt")
    assert q.read_text(encoding="utf-8") == SAMPLE + "\n"
    assert read_conll(q).sentences == ds.sentences
    tab = tmp_path / "c.tsv"
    tab.write_text("EU\tNNP\tB-NP\tB-ORG\nrejects\tVBZ\tB-VP\tO\n\nNew York\tNNP\tB-NP\tB-LOC\n", encoding="utf-8")
    ds2 = read_conll(tab)
    assert ds2.separator == "\t"
    assert ds2.sentences[0].middle == (("NNP", "B-NP"), ("VBZ", "B-VP"))
    assert ds2.sentences[1].tokens == ("New York",)
    back = read_conll(write_conll(ds2, tmp_path / "d.tsv"))
    assert back.sentences == ds2.sentences
    with pytest.raises(ValueError, match="whitespace"):
        write_conll(ds2, tmp_path / "e.txt", separator=" ")
    assert not (tmp_path / "e.txt").exists()


def test_every_bad_line_is_reported_with_file_and_line(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text("John B-PER\nLewis\nvisited O X\n\nParis B-LOCATION-\nParis S-LOC\nok O\n", encoding="utf-8")
    with pytest.raises(DataFormatError) as err:
        read_conll(p)
    msg = str(err.value)
    assert "bad.txt:2: error: expected a token and a tag" in msg
    assert "bad.txt:3: error: expected 2 columns" in msg
    assert "bad.txt:6: error: tag 'S-LOC' is not O" in msg
    assert len(err.value.errors) == 3
    ds = read_conll(p, errors="collect")
    assert len(ds) == 0  # each sentence with a bad line is left out whole
    plain = read_conll(p, scheme="plain", errors="collect")
    assert [s.tokens for s in plain.sentences] == [("Paris", "Paris", "ok")]


def test_iob1_style_i_tags_start_entities_with_a_warning(tmp_path):
    p = tmp_path / "iob1.txt"
    p.write_text("a O\nb I-PER\nc I-LOC\nd B-LOC\n", encoding="utf-8")
    ds = read_conll(p)
    assert ds.sentences[0].entities == [("PER", 1, 2), ("LOC", 2, 3), ("LOC", 3, 4)]
    assert any("2 I- tag(s)" in str(x) and x.severity == "warning" for x in ds.problems)


def test_bio_helpers():
    assert bio_spans(["O", "B-X", "I-X", "I-Y", "O"]) == [("X", 1, 3), ("Y", 3, 4)]
    assert spans_to_bio([("X", 1, 3)], 4) == ("O", "B-X", "I-X", "O")
    with pytest.raises(ValueError):
        spans_to_bio([("X", 1, 3), ("Y", 2, 4)], 4)
    with pytest.raises(ValueError):
        TaggedSentence(("a",), ())


def test_writer_refuses_empty_sentence_and_docstart_token(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        write_conll([TaggedSentence((), ())], tmp_path / "x.txt")
    with pytest.raises(ValueError, match="DOCSTART"):
        write_conll([TaggedSentence(("-DOCSTART-",), ("O",))], tmp_path / "x.txt")
    assert not (tmp_path / "x.txt").exists()


PAIRS = [("visited", "alitembelea"), ("new york", "nyc"), ("john", "yohana mkuu"), ("spoke", "alizungumza")]


def test_projection_one_to_many_many_to_one_and_retagging():
    s = TaggedSentence(("John", "Lewis", "visited", "New", "York", "."), ("B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O"))
    out, st = project_sentence(s, translator(PAIRS))
    assert out.tokens == ("Yohana", "mkuu", "Lewis", "alitembelea", "Nyc", ".")
    assert out.tags == ("B-PER", "I-PER", "I-PER", "O", "B-LOC", "O")
    assert out.entities == [("PER", 0, 3), ("LOC", 4, 5)]
    assert st.n_slots == 2 and st.n_slots_translated == 1 and st.n_slots_partial == 2


def test_adjacent_entities_of_one_type_stay_apart_and_dropped_entity_is_restored():
    s = TaggedSentence(("John", "Mary", "spoke"), ("B-PER", "B-PER", "O"))
    out, st = project_sentence(s, translator(PAIRS, oov="drop"))
    assert out.tokens == ("Yohana", "mkuu", "Mary", "alizungumza")
    assert out.tags == ("B-PER", "I-PER", "B-PER", "O")
    assert st.n_slots_restored == 1
    assert [lab for lab, _, _ in out.entities] == ["PER", "PER"]


def test_conll_file_projection_and_bad_input_writes_nothing(tmp_path):
    src = tmp_path / "eng.train.txt"
    src.write_text(SAMPLE, encoding="utf-8")
    assert detect_labelled_format(src) == "conll"
    res = project_conll_file(src, tmp_path / "swa.txt", translator(PAIRS))
    back = read_conll(res.output)
    assert [len(s.entities) for s in back.sentences] == [2, 1]
    assert back.sentences[0].docstart == "-DOCSTART- -X- -X- O"
    assert (tmp_path / "swa.txt.signature").exists()
    bad = tmp_path / "bad.txt"
    bad.write_text("John B-PER\nLewis\n", encoding="utf-8")
    lex = tmp_path / "en_sw.tsv"
    lex.write_text("john\tyohana\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="bad.txt:2"):
        label_file(bad, tmp_path / "out.txt", lexicon=lex)
    assert not (tmp_path / "out.txt").exists()


@pytest.mark.shared_data
def test_real_masakhaner_files_read_and_project(shared_data, tmp_path):
    files = sorted((shared_data / "nlu" / "masakhaner2" / "test").glob("*.txt"))
    files.append(shared_data / "nlu" / "masakhaner1_amh" / "amh.test.txt")
    for f in files:
        ds = read_conll(f)
        assert len(ds) > 100 and not [p for p in ds.problems if p.severity == "error"]
        assert read_conll(write_conll(ds, tmp_path / f.name)).sentences == ds.sentences
    # mechanics on real sentences: entity counts and types survive projection
    swa: ConllDataset = read_conll(shared_data / "nlu" / "masakhaner2" / "test" / "swa.test.txt")
    tr = translator([("john", "yohana"), ("barack", "baraka obama"), ("of", "ya")], oov="drop")
    for s in swa.sentences[:200]:
        out, _ = project_sentence(s, tr)
        assert [lab for lab, _, _ in out.entities] == [lab for lab, _, _ in s.entities]
        assert len(out.tokens) == len(out.tags) and all(t and " " not in t for t in out.tokens)
