"""Tokenisation for word-by-word translation: words, numbers and punctuation, casing kept.

:func:`tokenize` splits a string into :class:`Token` objects with character
offsets into the original string, so the spacing of the source can be restored
and spans can be projected. :func:`detokenize` joins tokens again, following the
joining rule of the target script (``resources/script_joining.tsv``): Thai, Lao,
Khmer, Burmese, Japanese, Chinese, Tibetan ... are written without spaces between
words.

What a token is:

* a *word*: letters, combining marks and digits, with internal hyphens and
  apostrophes (``well-known``, ``don't``, ``o'clock``, ``5pm``), ZWJ/ZWNJ kept
  inside (Persian, Indic scripts);
* a *number*: digits with internal ``.``, ``,``, ``:`` or ``/`` (``3.5``,
  ``1,000``, ``10:30``);
* any other non-space character on its own (punctuation, symbols, emoji).

``Token.is_word`` is true when the token holds at least one letter: ``42`` and
``,`` are not words, ``5pm`` is.

>>> [t.text for t in tokenize("Hello, world! It's 10:30.")]
['Hello', ',', 'world', '!', "It's", '10:30', '.']
>>> detokenize(["สวัสดี", "ครับ"], script="Thai")
'สวัสดีครับ'
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from lexiconlm.errors import DataFormatError
from lexiconlm.resources import resource_path
from lexiconlm.unicode_scripts import char_script

__all__ = [
    "Token",
    "tokenize",
    "split_tokens",
    "detokenize",
    "is_word",
    "token_pattern",
    "script_joining",
    "JoinRule",
    "join_rule",
]


@dataclass(frozen=True)
class Token:
    """One token: ``text == original[start:end]``; ``is_word`` when it holds a letter."""

    text: str
    start: int
    end: int
    is_word: bool


@lru_cache(maxsize=1)
def _mark_class() -> str:
    """Character-class body for every combining mark (Mn, Mc, Me), which ``\\w`` leaves out."""
    ranges: list[tuple[int, int]] = []
    start = prev = -2
    for cp in range(sys.maxunicode + 1):
        if unicodedata.category(chr(cp))[0] == "M":
            if cp == prev + 1:
                prev = cp
                continue
            if start >= 0:
                ranges.append((start, prev))
            start = prev = cp
    if start >= 0:
        ranges.append((start, prev))
    return "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)


@lru_cache(maxsize=1)
def token_pattern() -> re.Pattern:
    """The compiled token pattern; group 1 is a token, group 2 the whitespace after it."""
    w = f"[\\w{_mark_class()}\u200c\u200d]"
    num = r"\d+(?:[.,:/]\d+)+"
    word = f"(?:(?!_){w})+(?:[-'\u2019\u00b7](?:(?!_){w})+)*"
    return re.compile(f"({num}|{word}|\\S)(\\s*)")


# The same tokens for ASCII text, about twice as fast (most source text is ASCII).
_ASCII_PATTERN = re.compile(r"([0-9]+(?:[.,:/][0-9]+)+|[A-Za-z0-9]+(?:['\-][A-Za-z0-9]+)*|\S)(\s*)")


def pattern_for(text: str) -> re.Pattern:
    """The token pattern to use for ``text`` (the ASCII one when it is pure ASCII)."""
    return _ASCII_PATTERN if text.isascii() else token_pattern()


@lru_cache(maxsize=1 << 18)
def is_word(token: str) -> bool:
    """True when ``token`` holds at least one letter (numbers and punctuation are not words)."""
    return any(ch.isalpha() for ch in token)


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into words, numbers and punctuation, keeping casing and offsets.

    Args:
        text: any string (leading/trailing whitespace is allowed and skipped).

    Returns:
        Tokens in order; ``text[t.start:t.end] == t.text`` for each.

    Example:
        >>> [(t.text, t.is_word) for t in tokenize("Wake me at 7.")]
        [('Wake', True), ('me', True), ('at', True), ('7', False), ('.', False)]
    """
    return [Token(m.group(1), m.start(1), m.end(1), is_word(m.group(1))) for m in pattern_for(text).finditer(text)]


def split_tokens(text: str) -> tuple[list[str], list[bool]]:
    """Token strings and, for each, whether whitespace follows it (the fast path of :func:`tokenize`)."""
    pairs = pattern_for(text).findall(text)
    return [p[0] for p in pairs], [bool(p[1]) for p in pairs]


# --------------------------------------------------------------------------- joining rules


@dataclass(frozen=True)
class JoinRule:
    """How words of one script are joined: ``joiner`` between two words whose letters are in ``chars``."""

    script: str
    chars: frozenset
    joiner: str  # "" for scripts written without spaces
    name: str = ""

    @property
    def uses_spaces(self) -> bool:
        return self.joiner == " "


@lru_cache(maxsize=1)
def script_joining() -> dict[str, JoinRule]:
    """The rows of ``resources/script_joining.tsv`` keyed by script code."""
    out: dict[str, JoinRule] = {}
    path = resource_path("script_joining.tsv")
    with open(path, encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#") or line.startswith("script\t"):
                continue
            parts = line.split("\t")
            if len(parts) != 4:
                raise DataFormatError.single(
                    str(path),
                    no,
                    f"expected 4 tab-separated fields, got {len(parts)}",
                    "columns: script, char_scripts, joiner, name",
                )
            script, chars, joiner, name = parts
            joiner = " " if joiner == "space" else joiner
            out[script] = JoinRule(script, frozenset(chars.split()), joiner, name)
    return out


def join_rule(script: str | None) -> JoinRule | None:
    """The joining rule of a script written without spaces (``None`` for spaced scripts)."""
    if not script:
        return None
    rule = script_joining().get(script)
    return rule if rule is not None and not rule.uses_spaces else None


@lru_cache(maxsize=1 << 18)
def _edge_scripts(token: str) -> tuple[str | None, str | None]:
    """Scripts of the first and last letter of a token (None when it has no letter)."""
    first = last = None
    for ch in token:
        s = char_script(ch)
        if s is not None:
            first = s
            break
    for ch in reversed(token):
        s = char_script(ch)
        if s is not None:
            last = s
            break
    return first, last


_NO_SPACE_BEFORE = frozenset(".,;:!?)]}%»…、。，．！？：；）」』】〉》")
_NO_SPACE_AFTER = frozenset("([{«¿¡「『【〈《")


def _default_spaces(tokens: Sequence[str]) -> list[bool]:
    """Space after each token, guessed from punctuation (no space before ``.,)`` or after ``(``)."""
    spaces = []
    n = len(tokens)
    quote_open = False
    for i, tok in enumerate(tokens):
        if i == n - 1:
            spaces.append(False)
            break
        nxt = tokens[i + 1]
        space = True
        if tok in _NO_SPACE_AFTER or nxt in _NO_SPACE_BEFORE:
            space = False
        if tok == '"':
            quote_open = not quote_open
            if quote_open:
                space = False
        elif nxt == '"' and quote_open:
            space = False
        spaces.append(space)
    return spaces


def detokenize(
    tokens: Sequence[str],
    *,
    spaces: Sequence[bool] | None = None,
    script: str | None = None,
) -> str:
    """Join tokens into a string.

    Args:
        tokens: token strings.
        spaces: for each token, whether a space follows it (as recorded by
            :func:`split_tokens` or from :class:`Token` offsets). Without it,
            spaces go between tokens except before closing and after opening
            punctuation.
        script: the ISO 15924 code of the target script (``Thai``, ``Jpan``,
            ``Hans``, ``Tibt`` ...). Between two tokens both written in a script
            without spaces the space is replaced by the script's joiner (``""``, or
            the Tibetan tsheg); spaces next to other tokens (Latin words, numbers)
            stay.

    Returns:
        The text.

    Raises:
        ValueError: ``spaces`` has a different length from ``tokens``.

    Example:
        >>> detokenize(["Hello", ",", "world", "!"])
        'Hello, world!'
        >>> detokenize(["猫", "が", "好き"], spaces=[True, True, False], script="Jpan")
        '猫が好き'
    """
    if not tokens:
        return ""
    if spaces is None:
        spaces = _default_spaces(tokens)
    elif len(spaces) != len(tokens):
        raise ValueError(f"spaces has {len(spaces)} items for {len(tokens)} tokens")
    rule = join_rule(script)
    parts: list[str] = []
    last = len(tokens) - 1
    for i, tok in enumerate(tokens):
        parts.append(tok)
        if i == last:
            break
        if rule is not None:
            a = _edge_scripts(tok)[1]
            b = _edge_scripts(tokens[i + 1])[0]
            if a in rule.chars and b in rule.chars:
                if spaces[i] and rule.joiner and not tok.endswith(rule.joiner):
                    parts.append(rule.joiner)
                continue
        if spaces[i]:
            parts.append(" ")
    return "".join(parts)
