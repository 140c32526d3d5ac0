"""Reading target-language text back into English through an English -> X lexicon."""

from __future__ import annotations

import pytest

from lexiconlm.languages import get_catalog
from lexiconlm.synth.hygiene import EmptyLexiconError
from lexiconlm.synth.reverse import ReverseTranslator
from lexiconlm.types import Lexicon, LexiconEntry, Provenance


def _lex(code: str, pairs) -> Lexicon:
    cat = get_catalog()
    return Lexicon(
        cat.lookup("en"),
        cat.lookup(code),
        tuple(LexiconEntry(s, t) for s, t in pairs),
        Provenance(f"en_{code}.tsv", "test", n_lines=len(pairs)),
    )


def test_sense_by_english_counts_stems_phrases_and_unseen_senses():
    lex = _lex(
        "de",
        [
            ("hound", "Hund"),
            ("dog", "Hund"),
            ("good morning", "guten Morgen"),
            ("wake", "wecken"),
            ("rake", "Rechen"),
        ],
    )
    counts = {"dog": 5, "hound": 1, "good": 3, "morning": 4, "wake": 2}
    rt = ReverseTranslator(lex, english_counts=counts)
    # the English sense the counts see most; a phrase read as one unit; "weckt" by its stem "weck(en)"
    r = rt.read(["Hunde", "guten", "Morgen", "weckt", "Rechen", "Berlin", "7"])
    assert r.tokens == ("dog", "good", "morning", "wake", "Rechen", "Berlin", "7")
    assert r.first == (0, 1, -1, 3, 4, 5, 6)
    # read: Hunde, guten, Morgen, weckt; "Rechen" (rake: never seen) and the name are kept as written
    assert (r.n_words, r.n_read) == (6, 4) and r.ratio == pytest.approx(4 / 6)
    # without counts: file order, every sense kept
    plain = ReverseTranslator(lex)
    assert plain.read(["Hund", "Rechen"]).tokens == ("hound", "rake")
    # the hygiene policy by its config name: "none" is no hygiene, "script.v1" the default
    assert ReverseTranslator(lex, hygiene="none").read(["Hund"]).tokens == plain.read(["Hund"]).tokens
    assert len(ReverseTranslator(lex, hygiene="script.v1")) == len(ReverseTranslator(lex))
    # no stems: an inflected form is kept as written
    assert ReverseTranslator(lex, english_counts=counts, max_strip=0).read(["Hunde"]).tokens == ("Hunde",)


def test_words_of_scripts_without_spaces_are_segmented_by_the_lexicon():
    lex = _lex("zh", [("week", "週"), ("morning", "早上"), ("five", "五點"), ("wake", "叫醒")])
    rt = ReverseTranslator(lex, english_counts={"week": 1, "morning": 1, "five": 1, "wake": 1})
    r = rt.read(["這週", "早上五點", "叫醒我"])
    assert r.tokens == ("這", "week", "morning", "five", "wake", "我")
    assert r.first == (0, 2, 4) and r.n_read == 3


def test_segments_never_cut_a_character_cluster():
    # Khmer ដា inside សប្ដាហ៍ (week) follows a coeng (a virama): cutting there would split a cluster
    lex = _lex("km", [("rock", "ដា"), ("this", "នេះ")])
    rt = ReverseTranslator(lex, english_counts={"rock": 1, "this": 1})
    assert rt.read(["សប្ដាហ៍", "នេះ"]).tokens == ("សប្ដាហ៍", "this")
    assert rt.read(["ដានេះ"]).tokens == ("rock", "this")


def test_a_lexicon_with_no_usable_entry_is_an_error():
    with pytest.raises(EmptyLexiconError):
        ReverseTranslator(_lex("de", []))
