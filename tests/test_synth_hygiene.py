"""Lexicon hygiene: script consistency, direction check, empty lexicons; real-data measurements."""

from __future__ import annotations

import warnings

import pytest

from lexiconlm.errors import UnknownNameError
from lexiconlm.languages import get_catalog
from lexiconlm.synth.hygiene import (
    EmptyLexiconError,
    HygieneConfig,
    LexiconDirectionWarning,
    check_direction,
    entry_script,
    filter_lexicon,
)
from lexiconlm.types import Language, Lexicon, LexiconEntry, Provenance


def make_lexicon(pairs, tgt="jav", src="eng") -> Lexicon:
    cat = get_catalog()
    tgt_lang = cat.lookup(tgt) if isinstance(tgt, str) else tgt
    return Lexicon(
        cat.lookup(src), tgt_lang, tuple(LexiconEntry(s, t) for s, t in pairs), Provenance("tiny/x.tsv", "tsv")
    )


JAVANESE = [("water", "banyu"), ("fire", "geni"), ("house", "omah"), ("water", "ꦧꦚꦸ"), ("7", "7")]


def test_entry_script():
    assert entry_script("banyu") == "Latn"
    assert entry_script("ꦧꦚꦸ") == "Java"
    assert entry_script("7 %") is None
    assert entry_script("ʼy") == "Latn"  # a modifier letter does not outvote a Latin letter
    assert entry_script("猫が") in ("Hani", "Hira")


def test_script_filter_keeps_the_dominant_listed_script():
    lex, rep = filter_lexicon(make_lexicon(JAVANESE))
    assert rep.target_script == "Latn" and rep.script_source == "catalog"
    assert [e.target for e in lex] == ["banyu", "geni", "omah", "7"]  # no letters: kept
    assert rep.dropped == {"Java": 1} and rep.n_dropped == 1
    assert rep.examples["Java"] == ["water -> ꦧꦚꦸ"]
    row = rep.as_row()
    assert row["dropped_by_script"] == "Java:1" and row["kept"] == 4


def test_explicit_script_and_script_any():
    _, rep = filter_lexicon(make_lexicon(JAVANESE), HygieneConfig(target_script="Java"))
    assert rep.n_kept == 2 and rep.dropped == {"Latn": 3}
    assert HygieneConfig(target_script="Java").name == "script.v1@Java"
    lex, rep = filter_lexicon(make_lexicon(JAVANESE), HygieneConfig("script-any"))
    assert rep.policy == "script-any.v1" and len(lex) == 5
    lex, rep = filter_lexicon(make_lexicon(JAVANESE), HygieneConfig("none"))
    assert len(lex) == 5 and rep.n_dropped == 0


def test_unknown_policy_suggests():
    with pytest.raises(UnknownNameError, match="script.v1"):
        HygieneConfig("scripts")


def test_composite_catalog_scripts():
    lex, rep = filter_lexicon(
        make_lexicon([("cat", "猫"), ("to eat", "たべる"), ("cup", "カップ"), ("ok", "OK")], tgt="jpn")
    )
    assert rep.target_script == "Jpan" and rep.dropped == {"Latn": 1} and len(lex) == 3


def test_romanised_dictionary_keeps_its_own_script():
    # the catalog lists only Han for this language, but the dictionary is romanised
    lang = Language("xyz", "Example", scripts=("Hans",))
    lex, rep = filter_lexicon(make_lexicon([("dog", "gau"), ("cat", "miu"), ("cow", "ngu"), ("fish", "鱼")], tgt=lang))
    assert rep.script_source == "lexicon" and rep.target_script == "Latn" and len(lex) == 3
    # half as many in the listed script: the catalog's script wins
    lex, rep = filter_lexicon(make_lexicon([("dog", "gau"), ("cat", "miu"), ("fish", "鱼")], tgt=lang))
    assert rep.script_source == "catalog" and rep.target_script == "Hans" and len(lex) == 1


def test_empty_and_fully_dropped_lexicons_are_clear_errors():
    with pytest.raises(EmptyLexiconError, match="no entries"):
        filter_lexicon(make_lexicon([]))
    with pytest.raises(EmptyLexiconError, match="all 2 entries were dropped.*Cyrl"):
        filter_lexicon(make_lexicon([("a", "b"), ("c", "d")]), HygieneConfig(target_script="Cyrl"))


def test_direction_check():
    vocab = {"water", "fire", "house", "dog", "the", "big"}
    right = make_lexicon([("water", "banyu"), ("fire", "geni"), ("house", "omah"), ("dog", "asu")] * 6)
    assert check_direction(right, vocab).ok
    swapped = make_lexicon([("banyu", "water"), ("geni", "fire"), ("omah", "house"), ("asu", "dog")] * 6)
    check = check_direction(swapped, vocab)
    assert not check.ok and "wrong direction" in check.message and check.target_in_vocab == 1.0
    with pytest.warns(LexiconDirectionWarning):
        check.warn()
    # script: an English source column written in Cyrillic
    cyr = make_lexicon([("вода", "banyu"), ("огонь", "geni")])
    c2 = check_direction(cyr)
    assert not c2.ok and "mostly Cyrl" in c2.message
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_direction(right, vocab).warn()  # no warning when fine


# --------------------------------------------------------------------------- real data


@pytest.mark.shared_data
def test_javanese_and_azerbaijani_wiktionary(shared_data):
    from lexiconlm.io.lexicons import read_lexicon

    d = shared_data / "lexicons" / "wiktionary"
    jav, rep = filter_lexicon(read_lexicon(d / "javanese.txt"))
    assert rep.target_script == "Latn"
    assert 0.15 < rep.dropped.get("Java", 0) / rep.n_entries < 0.30  # about a fifth in Javanese script
    assert all(entry_script(e.target) in ("Latn", None) for e in jav)
    _, rep = filter_lexicon(read_lexicon(d / "azerbaijani.txt"))
    assert rep.target_script == "Latn"
    assert 0.03 < rep.dropped.get("Cyrl", 0) / rep.n_entries < 0.10
    # English source words: the check passes on the real dictionaries
    assert check_direction(read_lexicon(d / "javanese.txt"), {"water", "fire", "house"}).source_script == "Latn"
