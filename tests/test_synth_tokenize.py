"""Tokenisation and joining rules of lexiconlm.synth.tokenize."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lexiconlm.synth.tokenize import (
    _ASCII_PATTERN,
    Token,
    detokenize,
    join_rule,
    script_joining,
    split_tokens,
    token_pattern,
    tokenize,
)


def texts(s: str) -> list[str]:
    return [t.text for t in tokenize(s)]


def test_words_numbers_punctuation_are_separate_and_casing_is_kept():
    assert texts("Hello, World! It's 10:30.") == ["Hello", ",", "World", "!", "It's", "10:30", "."]
    assert texts("well-known e-mail (3.5 kg)") == ["well-known", "e-mail", "(", "3.5", "kg", ")"]
    assert texts("WAKE me up...") == ["WAKE", "me", "up", ".", ".", "."]


def test_offsets_point_into_the_original_string():
    s = "  Set an  alarm, please!\t"
    toks = tokenize(s)
    assert all(s[t.start : t.end] == t.text for t in toks)
    assert toks[0] == Token("Set", 2, 5, True)


def test_is_word_needs_a_letter():
    flags = {t.text: t.is_word for t in tokenize("at 7 5pm , 3.5")}
    assert flags == {"at": True, "7": False, "5pm": True, ",": False, "3.5": False}


def test_combining_marks_and_joiners_stay_inside_words():
    # Devanagari vowel signs and virama are combining marks; ZWNJ inside a Persian word
    assert texts("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]
    assert texts("می\u200cخواهم") == ["می\u200cخواهم"]
    assert texts("ሰላም።") == ["ሰላም", "።"]


def test_underscore_is_not_part_of_a_word():
    assert texts("a_b") == ["a", "_", "b"]


def test_split_tokens_gives_space_flags():
    toks, spaces = split_tokens("Hi , there!")
    assert toks == ["Hi", ",", "there", "!"]
    assert spaces == [True, True, False, False]


def test_detokenize_default_spacing():
    assert detokenize(["Hello", ",", "world", "!"]) == "Hello, world!"
    assert detokenize(["(", "a", ")", "b"]) == "(a) b"
    assert detokenize(['"', "hi", '"', "she", "said"]) == '"hi" she said'
    assert detokenize([]) == ""


def test_detokenize_with_spaces_restores_the_source():
    s = "Wake me up at 7:30, please (now)!"
    toks, spaces = split_tokens(s)
    assert detokenize(toks, spaces=spaces) == s


def test_detokenize_checks_lengths():
    with pytest.raises(ValueError, match="2 items for 3 tokens"):
        detokenize(["a", "b", "c"], spaces=[True, True])


@pytest.mark.parametrize(
    "tokens, script, expected",
    [
        (["สวัสดี", "ครับ"], "Thai", "สวัสดีครับ"),
        (["猫", "が", "好き"], "Jpan", "猫が好き"),
        (["我", "爱", "你"], "Hans", "我爱你"),
        (["ខ្ញុំ", "ស្រលាញ់"], "Khmr", "ខ្ញុំស្រលាញ់"),
        (["ཁྱི", "ཡོད"], "Tibt", "ཁྱི་ཡོད"),
        (["ཁྱི་", "ཡོད"], "Tibt", "ཁྱི་ཡོད"),
        # a Latin word or a number between keeps its spaces
        (["ฉัน", "ชอบ", "Python", "มาก"], "Thai", "ฉันชอบ Python มาก"),
        (["ราคา", "10", "บาท"], "Thai", "ราคา 10 บาท"),
        # Korean is written with spaces
        (["나는", "학생"], "Kore", "나는 학생"),
        (["dog", "cat"], "Latn", "dog cat"),
    ],
)
def test_scripts_written_without_spaces_are_joined(tokens, script, expected):
    assert detokenize(tokens, spaces=[True] * len(tokens), script=script) == expected


def test_no_space_in_the_source_adds_no_joiner():
    assert detokenize(["ཁྱི", "ཡོད"], spaces=[False, False], script="Tibt") == "ཁྱིཡོད"


def test_joining_rules_are_data():
    rules = script_joining()
    for code in ("Thai", "Laoo", "Khmr", "Mymr", "Jpan", "Hans", "Hant"):
        assert join_rule(code) is not None, code
        assert rules[code].joiner == ""
    assert rules["Jpan"].chars == frozenset({"Hani", "Hira", "Kana"})
    assert join_rule("Latn") is None and join_rule("Kore") is None and join_rule(None) is None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127, blacklist_categories=("Cc",)), max_size=60))
def test_ascii_fast_path_matches_the_full_pattern(s):
    assert _ASCII_PATTERN.findall(s) == token_pattern().findall(s)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_tokens_cover_every_non_space_character(s):
    toks = tokenize(s)
    assert "".join(t.text for t in toks) == "".join(ch for ch in s if not ch.isspace())
    assert all(s[t.start : t.end] == t.text for t in toks)
    assert all(a.end <= b.start for a, b in zip(toks, toks[1:]))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["a", "Bc", "7", ",", ".", "(", ")", "déjà", "x-y"]), min_size=1, max_size=12))
def test_single_spaced_text_round_trips(words):
    s = " ".join(words)
    toks, spaces = split_tokens(s)
    assert detokenize(toks, spaces=spaces) == s
