"""Word-by-word translation: matching, casing, senses, OOV policies, alignment, signature."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lexiconlm.errors import LexiconLMError, UnknownNameError
from lexiconlm.languages import get_catalog
from lexiconlm.phonology import supports_transliteration
from lexiconlm.synth.hygiene import EmptyLexiconError, HygieneConfig
from lexiconlm.synth.translate import (
    SENSES,
    LexiconTranslator,
    Translation,
    register_sense,
    resolve_sense,
    target_tokens,
)
from lexiconlm.types import Lexicon, LexiconEntry, Provenance


def make_lexicon(pairs, tgt="ind", src="eng", name="tiny/en-xx.tsv") -> Lexicon:
    cat = get_catalog()
    entries = tuple(p if isinstance(p, LexiconEntry) else LexiconEntry(*p) for p in pairs)
    return Lexicon(cat.lookup(src), cat.lookup(tgt), entries, Provenance(name, "tsv"))


ID_PAIRS = [
    ("dog", "anjing"),
    ("the", "itu"),
    ("new york", "kota new york"),
    ("new york city", "kota new york raya"),
    ("new", "baru"),
    ("city", "kota"),
    ("big", "besar"),
    ("eat", "makan"),
]


def test_longest_match_on_the_source_and_multiword_targets():
    tr = LexiconTranslator(make_lexicon(ID_PAIRS), sense="first")
    t = tr.translate_tokens(["I", "love", "new", "york", "city", "and", "new", "york"])
    assert t.tokens == ("I", "love", "kota", "new", "york", "raya", "and", "kota", "new", "york")
    assert t.alignment == ((0, 1, 0, 1), (1, 2, 1, 2), (2, 5, 2, 6), (5, 6, 6, 7), (6, 8, 7, 10))
    assert (t.n_words, t.n_replaced) == (8, 5)
    assert t.ratio == pytest.approx(5 / 8)


def test_max_ngram_limits_the_match():
    tr = LexiconTranslator(make_lexicon(ID_PAIRS), sense="first", max_ngram=1)
    assert tr.translate_tokens(["new", "york", "city"]).tokens == ("baru", "york", "kota")
    assert "ngram:1" in tr.signature


def test_casing_is_restored_and_punctuation_kept():
    tr = LexiconTranslator(make_lexicon(ID_PAIRS), sense="first")
    text, t = tr.translate("The big dog, THE BIG DOG! New York.")
    assert text == "Itu besar anjing, ITU BESAR ANJING! Kota new york."
    assert t.n_words == 8 and t.n_replaced == 8


def test_exact_case_entries_win_and_keep_their_own_casing():
    lex = make_lexicon([("May", "Mei"), ("may", "boleh"), ("Paris", "Paris"), ("bank", "bank")])
    tr = LexiconTranslator(lex, sense="first")
    assert tr.translate_tokens(["May", "I", "go"]).tokens[0] == "Mei"
    assert tr.translate_tokens(["you", "may"]).tokens[1] == "boleh"
    assert tr.translate_tokens(["MAY"]).tokens == ("BOLEH",) or tr.translate_tokens(["MAY"]).tokens == ("MEI",)
    exact = LexiconTranslator(lex, sense="first", lowercase_lookup=False)
    assert exact.translate_tokens(["MAY", "Bank"]).tokens == ("MAY", "Bank")
    assert "case:exact" in exact.signature


def test_georgian_titlecase_does_not_turn_into_mtavruli():
    tr = LexiconTranslator(make_lexicon([("friend", "მეგობარი")], tgt="kat"), sense="first")
    assert tr.translate_tokens(["Friend"]).tokens == ("მეგობარი",)


def test_numbers_and_punctuation_are_never_translated():
    lex = make_lexicon([("1", "satu"), ("!", "?"), ("dog", "anjing")])
    tr = LexiconTranslator(lex, sense="first", oov="drop")
    t = tr.translate_tokens(["1", "dog", "!"])
    assert t.tokens == ("1", "anjing", "!")
    assert (t.n_words, t.n_replaced) == (1, 1)


def test_translator_annotations_are_removed_from_targets():
    assert target_tokens("ayuda (verb)") == ("ayuda",)
    assert target_tokens("(x)") == ("(x)",)
    tr = LexiconTranslator(make_lexicon([("help", "ayuda (verb)")]), sense="first")
    assert tr.translate("help")[0] == "ayuda"


# --------------------------------------------------------------------------- seeds and senses

MANY = [("go", f"w{i}") for i in range(10)]


def test_same_seed_same_output_and_rng_argument():
    lex = make_lexicon(MANY)
    toks = ["go"] * 50
    a = LexiconTranslator(lex, seed=7).translate_tokens(toks)
    b = LexiconTranslator(lex, seed=7).translate_tokens(toks)
    c = LexiconTranslator(lex, seed=8).translate_tokens(toks)
    assert a == b and a != c
    tr = LexiconTranslator(lex, seed=1)
    assert tr.translate_tokens(toks, rng=7) == a
    assert tr.translate_tokens(toks, rng=np.random.default_rng(7)) == a
    # the translator's own generator advances between calls
    assert tr.translate_tokens(toks) != tr.translate_tokens(toks)


def test_random_sense_is_roughly_uniform():
    tr = LexiconTranslator(make_lexicon(MANY), sense="random")
    counts = Counter(tr.translate_tokens(["go"] * 5000).tokens)
    assert set(counts) == {f"w{i}" for i in range(10)}
    assert all(400 < c < 600 for c in counts.values())


def test_first_sense():
    tr = LexiconTranslator(make_lexicon(MANY), sense="first")
    assert set(tr.translate_tokens(["go"] * 100).tokens) == {"w0"}


def test_frequency_sense_uses_weights_and_falls_back_to_uniform():
    weighted = make_lexicon([LexiconEntry("go", "pergi", weight=9.0), LexiconEntry("go", "jalan", weight=1.0)])
    counts = Counter(LexiconTranslator(weighted, sense="frequency").translate_tokens(["go"] * 4000).tokens)
    assert 0.87 < counts["pergi"] / 4000 < 0.93
    partial = make_lexicon([LexiconEntry("go", "pergi", weight=3.0), LexiconEntry("go", "jalan")])
    counts = Counter(LexiconTranslator(partial, sense="frequency").translate_tokens(["go"] * 4000).tokens)
    assert 0.45 < counts["pergi"] / 4000 < 0.55  # a missing weight counts as the smallest given
    plain = make_lexicon(MANY)
    a = LexiconTranslator(plain, sense="frequency").translate_tokens(["go"] * 30)
    b = LexiconTranslator(plain, sense="random").translate_tokens(["go"] * 30)
    assert a.tokens == b.tokens


def test_prefer_consensus_avoids_foreign_script_and_fragments_and_prefers_shared_targets():
    lex = make_lexicon(
        [
            ("am", "եմ"),  # Armenian in a Georgian lexicon
            ("am", "ვარ"),
            ("at", "ძაღლუკა"),  # only a fragment of "at sign"
            ("at sign", "ძაღლუკა"),
            ("big", "უზარმაზარი"),
            ("big", "დიდი"),
            ("large", "დიდი"),
        ],
        tgt="kat",
    )
    tr = LexiconTranslator(lex, sense="prefer-consensus")
    assert tr.sense == "prefer-consensus.v1"
    t = tr.translate_tokens(["am", "at", "big", "at", "sign"])
    assert t.tokens == ("ვარ", "at", "დიდი", "ძაღლუკა")
    assert t.n_replaced == 4  # "at" alone was treated as out of lexicon
    affixes = make_lexicon([("at", "-dha"), ("at", "op ... af"), ("on", "-ka"), ("on", "ka")], tgt="nld")
    t2 = LexiconTranslator(affixes, sense="prefer-consensus").translate_tokens(["at", "on"])
    assert t2.tokens == ("at", "ka")
    rnd = Counter(LexiconTranslator(lex, sense="random").translate_tokens(["am"] * 400).tokens)
    assert rnd["եմ"] > 100  # what random choice does


def test_sense_registry_versioned_names_and_errors():
    assert resolve_sense("random")[0] == "random.v1"
    assert resolve_sense("first.v1")[0] == "first.v1"
    assert {"random.v1", "first.v1", "frequency.v1", "prefer-consensus.v1"} <= set(SENSES)
    with pytest.raises(UnknownNameError, match="random"):
        resolve_sense("randon")
    register_sense("last.v1", lambda cands, ctx: [0.0] * (len(cands) - 1) + [1.0])
    try:
        tr = LexiconTranslator(make_lexicon(MANY), sense="last")
        assert tr.translate_tokens(["go"]).tokens == ("w9",) and "sense:last.v1" in tr.signature
    finally:
        SENSES.pop("last.v1")
    with pytest.raises(ValueError, match="version"):
        register_sense("noversion", lambda c, x: None)


# --------------------------------------------------------------------------- OOV


def test_oov_keep_and_drop():
    lex = make_lexicon(ID_PAIRS)
    keep = LexiconTranslator(lex, sense="first", oov="keep").translate_tokens(["the", "cat", "eats", "7"])
    assert keep.tokens == ("itu", "cat", "eats", "7")
    drop = LexiconTranslator(lex, sense="first", oov="drop").translate_tokens(["the", "cat", "eats", "7"])
    assert drop.tokens == ("itu", "7")
    assert drop.alignment == ((0, 1, 0, 1), (1, 2, 1, 1), (2, 3, 1, 1), (3, 4, 1, 2))
    text, _ = LexiconTranslator(lex, sense="first", oov="drop").translate("The cat, eats")
    assert text == "Itu,"
    with pytest.raises(UnknownNameError):
        LexiconTranslator(lex, oov="transliteratee")


def test_oov_transliterate_into_cyrillic():
    pytest.importorskip("epitran")
    assert supports_transliteration("rus-Cyrl") and not supports_transliteration("hin-Deva")
    lex = make_lexicon([("dog", "собака")], tgt="rus")
    tr = LexiconTranslator(lex, sense="first", oov="transliterate")
    t = tr.translate_tokens(["Boris", "dog", "собака"])
    assert t.tokens[1] == "собака" and t.tokens[2] == "собака"
    assert t.tokens[0][0] == "Б" and all("\u0400" <= ch <= "\u04ff" for ch in t.tokens[0])
    assert t.n_replaced == 1  # a transliterated word is not a lexicon translation
    from lexiconlm.synth.pseudo_mono import synthesize

    src = ["Boris has a dog.", "The dog of Boris"]
    bulk = synthesize(LexiconTranslator(lex, sense="first", oov="transliterate"), src)
    assert bulk.lines == [LexiconTranslator(lex, sense="first", oov="transliterate").translate(s)[0] for s in src]
    assert "oov:transliterate" in tr.signature


def test_oov_transliterate_unsupported_target_names_the_supported_ones():
    pytest.importorskip("epitran")
    with pytest.raises(LexiconLMError, match="rus-Cyrl"):
        LexiconTranslator(make_lexicon([("dog", "anjing")]), oov="transliterate")


# --------------------------------------------------------------------------- scripts without spaces


def test_thai_and_japanese_output_is_joined():
    th = LexiconTranslator(make_lexicon([("i", "ฉัน"), ("love", "รัก"), ("you", "คุณ")], tgt="tha"), sense="first")
    assert th.translate("I love you, Bob.")[0] == "ฉันรักคุณ, Bob."
    ja = LexiconTranslator(
        make_lexicon([("cat", "猫"), ("like", "好き"), ("very much", "とても")], tgt="jpn"), sense="first"
    )
    assert ja.translate("cat like very much")[0] == "猫好きとても"
    assert ja.target_script == "Jpan"


# --------------------------------------------------------------------------- alignment, signature, errors


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(["new", "york", "city", "New", "dog", "cat", "THE", ",", "7", "big", "eat"]), max_size=15),
    st.sampled_from(["keep", "drop"]),
    st.integers(0, 3),
)
def test_alignment_covers_every_source_token_in_order(tokens, oov, seed):
    tr = LexiconTranslator(make_lexicon(ID_PAIRS), oov=oov, seed=seed)
    t = tr.translate_tokens(tokens)
    assert isinstance(t, Translation)
    pos = 0
    tgt = 0
    for s0, s1, t0, t1 in t.alignment:
        assert s0 == pos and s1 > s0 and t0 == tgt and t1 >= t0
        pos, tgt = s1, t1
    assert pos == len(tokens) and tgt == len(t.tokens)
    assert 0 <= t.n_replaced <= t.n_words


def test_signature_names_every_setting():
    lex = make_lexicon(ID_PAIRS, name="/data/lexicons/wiktionary/indonesian.txt")
    tr = LexiconTranslator(lex, hygiene=HygieneConfig())
    assert (
        tr.signature == "lex:wiktionary/indonesian.txt|sense:random.v1|oov:keep|seed:13|hyg:script.v1|lexiconlm:0.1.0"
    )
    tr2 = LexiconTranslator(lex, sense="first", oov="drop", seed=5, hygiene=HygieneConfig(target_script="Latn"))
    assert tr2.signature.startswith("lex:wiktionary/indonesian.txt|sense:first.v1|oov:drop|seed:5|hyg:script.v1@Latn|")
    assert "hyg:none" in LexiconTranslator(lex).signature


def test_empty_lexicon_is_a_clear_error():
    with pytest.raises(EmptyLexiconError, match="no entries"):
        LexiconTranslator(make_lexicon([]))


def test_synthesis_imports_neither_torch_nor_pandas():
    code = (
        "import sys\n"
        "import lexiconlm.synth, lexiconlm.synth.translate, lexiconlm.synth.tokenize, lexiconlm.synth.hygiene\n"
        "import lexiconlm.synth.pseudo_mono, lexiconlm.synth.batch, lexiconlm.signature, lexiconlm.cli.synth\n"
        "bad = [m for m in ('torch', 'pandas') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
