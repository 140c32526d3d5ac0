"""The ``corpus-frequency.v1`` sense strategy: word frequencies of real target-language text."""

from __future__ import annotations

import pytest

from lexiconlm.errors import LexiconLMError
from lexiconlm.languages import get_catalog
from lexiconlm.signature import Signature
from lexiconlm.synth.pseudo_mono import encode_corpus, translate_corpus
from lexiconlm.synth.translate import LexiconTranslator, count_words, english_function_words
from lexiconlm.types import Lexicon, LexiconEntry, Provenance


def make_lexicon(pairs, tgt="ind", src="eng", name="tiny/en-xx.tsv") -> Lexicon:
    cat = get_catalog()
    entries = tuple(LexiconEntry(*p) for p in pairs)
    return Lexicon(cat.lookup(src), cat.lookup(tgt), entries, Provenance(name, "tsv"))


PAIRS = [
    ("dog", "anjing"),
    ("dog", "asu"),  # never in the text below
    ("house", "rumah"),
    ("house", "wisma"),
    ("at", "keong"),  # unattested: "at" is a function word -> out of lexicon
    ("cat", "kucing"),  # unattested, not a function word -> prefer-consensus
    ("big", "rumah besar"),  # multi-word target: its rarest word counts
    ("big", "besar"),
]
TARGET = [
    "Anjing itu besar.",
    "ANJING di rumah, rumah besar.",
    "Rumah WISMA anjing.",
]
SOURCE = ["The dog is at the house.", "A big cat and a big dog!", "House, dog, cat at home."]


def test_count_words_normalizes():
    c = count_words(["École école", "E\u0301COLE"])
    assert c["école"] == 3  # NFC + casefold
    assert count_words(["a, b. a"]) == {"a": 2, "b": 1}


def test_only_attested_senses_are_chosen():
    lex = make_lexicon(PAIRS)
    seen: dict[str, set] = {}
    for seed in range(60):
        tr = LexiconTranslator(lex, sense="corpus-frequency", seed=seed, target_text=TARGET)
        for w in ("dog", "house", "at", "cat", "big"):
            seen.setdefault(w, set()).add(tr.translate(w)[0])
    assert seen["dog"] == {"anjing"}
    assert seen["house"] == {"rumah", "wisma"}  # both attested, drawn by frequency (3:1)
    assert seen["at"] == {"at"}  # out of lexicon (oov=keep)
    assert seen["cat"] == {"kucing"}  # nothing attested: prefer-consensus fallback
    assert seen["big"] == {"rumah besar", "besar"}


def test_weights_follow_frequency():
    lex = make_lexicon(PAIRS)
    tr = LexiconTranslator(lex, sense="corpus-frequency.v1", seed=0, target_text=TARGET)
    out = [tr.translate("house")[0] for _ in range(2000)]
    share = out.count("rumah") / len(out)
    assert share == pytest.approx(3 / 4, abs=0.05)


def test_counts_mapping_equals_text_and_signature():
    lex = make_lexicon(PAIRS)
    a = LexiconTranslator(lex, sense="corpus-frequency", target_text=TARGET)
    b = LexiconTranslator(lex, sense="corpus-frequency", target_text=count_words(TARGET))
    assert a.signature == b.signature
    sense = Signature.parse(a.signature)["sense"]
    assert sense.startswith("corpus-frequency.v1+text:") and len(sense.rsplit(":", 1)[1]) == 8
    c = LexiconTranslator(lex, sense="corpus-frequency", target_text=TARGET[:2])
    assert c.signature != a.signature
    # strategies that do not read the text keep their plain signature
    d = LexiconTranslator(lex, sense="random", target_text=TARGET)
    assert Signature.parse(d.signature)["sense"] == "random.v1"


def test_missing_target_text_is_a_clear_error():
    with pytest.raises(LexiconLMError, match="target_text.*--target-text"):
        LexiconTranslator(make_lexicon(PAIRS), sense="corpus-frequency")


@pytest.mark.parametrize("oov", ["keep", "drop"])
def test_fast_path_equals_sentence_by_sentence(oov):
    lex = make_lexicon(PAIRS)
    bulk = translate_corpus(
        LexiconTranslator(lex, sense="corpus-frequency", oov=oov, seed=5, target_text=TARGET), encode_corpus(SOURCE)
    )
    one = LexiconTranslator(lex, sense="corpus-frequency", oov=oov, seed=5, target_text=TARGET)
    expected = [one.translate(s) for s in SOURCE]
    assert bulk.lines == [t for t, _ in expected]
    assert bulk.stats.n_replaced == sum(tr.n_replaced for _, tr in expected)
    assert bulk.signature == one.signature


def test_function_word_list_is_data():
    words = english_function_words()
    assert {"at", "the", "of", "am"} <= words
    assert all(w == w.strip().casefold() and not w.startswith("#") for w in words)


def test_cli_target_text(tmp_path, capsys):
    from lexiconlm.cli.main import main

    lexf = tmp_path / "en-id.tsv"
    lexf.write_text("".join(f"{s}\t{t}\n" for s, t in PAIRS), encoding="utf-8")
    src = tmp_path / "src.txt"
    src.write_text("\n".join(SOURCE) + "\n", encoding="utf-8")
    tgt = tmp_path / "tgt.txt"
    tgt.write_text("\n".join(TARGET) + "\n", encoding="utf-8")
    out = tmp_path / "o.txt"
    args = ["synth", "mono", "-l", str(lexf), "-s", str(src), "-o", str(out), "--sense", "corpus-frequency"]
    assert main(args + ["--target-text", str(tgt)]) == 0
    assert "corpus-frequency.v1+text:" in capsys.readouterr().out
    assert "asu" not in out.read_text(encoding="utf-8")
    assert main(args) != 0
    assert "--target-text" in capsys.readouterr().err


# --------------------------------------------------------------------------- real data


def test_georgian_at_is_not_the_at_sign(shared_data):
    from lexiconlm.io.lexicons import read_lexicon
    from lexiconlm.io.text import read_text
    from lexiconlm.synth.hygiene import HygieneConfig

    lexf = shared_data / "lexicons" / "wiktionary" / "georgian.txt"
    kat = shared_data / "text" / "flores200_dev" / "kat_Geor.dev"
    eng = shared_data / "text" / "flores200_dev" / "eng_Latn.dev"
    if not (lexf.is_file() and kat.is_file() and eng.is_file()):
        pytest.skip("Georgian Wiktionary lexicon or FLORES dev text absent")
    lex = read_lexicon(lexf, errors="collect")
    assert any(e.source == "at" and e.target == "ძაღლუკა" for e in lex.entries)  # the trap is there
    target = read_text(kat, errors="collect").texts
    assert "ძაღლუკა" not in count_words(target)
    source = read_text(eng, errors="collect").texts[:200]
    assert sum(" at " in s for s in source) > 0
    for seed in range(5):
        tr = LexiconTranslator(
            lex, sense="corpus-frequency", seed=seed, hygiene=HygieneConfig("script.v1"), target_text=target
        )
        assert tr.translate("Meet me at noon.")[0].split()[2] == "at"
        res = translate_corpus(tr, encode_corpus(source))
        assert "ძაღლუკა" not in "\n".join(res.lines)
    # without the text the trap is taken
    tr = LexiconTranslator(lex, sense="random", hygiene=HygieneConfig("script.v1"))
    assert "ძაღლუკა" in tr.translate("Meet me at noon.")[0]
