"""Which writing system (ISO 15924) a text is in, from Unicode character names.

The table of name prefixes is data (``resources/unicode_scripts.tsv``): a new
script is a new row. Letters and marks are counted; digits, punctuation and
symbols are script-neutral ("Common") and ignored.

>>> script_counts("Habari ya asubuhi")
Counter({'Latn': 15})
>>> dominant_script("ሰላም")
'Ethi'
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from functools import lru_cache
from typing import Iterable

from lexiconlm.resources import resource_path

__all__ = ["char_script", "script_counts", "dominant_script", "script_shares", "script_name"]


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, str], dict[str, str], int]:
    prefixes: dict[str, str] = {}
    names: dict[str, str] = {}
    with open(resource_path("unicode_scripts.tsv"), encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line or line.startswith("#") or line.startswith("prefix\t"):
                continue
            prefix, code, name = line.split("\t")
            prefixes[prefix] = code
            names.setdefault(code, name)
    max_words = max(len(p.split()) for p in prefixes)
    return prefixes, names, max_words


@lru_cache(maxsize=65536)
def char_script(ch: str) -> str | None:
    """ISO 15924 code of one character, or ``None`` for script-neutral characters."""
    if unicodedata.category(ch)[0] not in "LM":
        return None
    try:
        words = unicodedata.name(ch).split()
    except ValueError:
        return None
    prefixes, _, max_words = _table()
    for n in range(min(max_words, len(words)), 0, -1):
        code = prefixes.get(" ".join(words[:n]))
        if code:
            return code
    if words and words[0] == "COMBINING":
        return None  # inherited: takes the script of its base letter
    return "Zyyy"


def script_counts(text: str | Iterable[str]) -> Counter:
    """Count letters per script in a string or an iterable of strings."""
    counts: Counter = Counter()
    chunks = [text] if isinstance(text, str) else text
    for chunk in chunks:
        for ch in chunk:
            s = char_script(ch)
            if s is not None:
                counts[s] += 1
    return counts


def script_shares(text: str | Iterable[str]) -> dict[str, float]:
    """Fraction of letters in each script, most frequent first."""
    counts = script_counts(text)
    total = sum(counts.values())
    return {s: n / total for s, n in counts.most_common()} if total else {}


def dominant_script(text: str | Iterable[str]) -> str | None:
    """The script with most letters, or ``None`` when there are no letters.

    Letters of no listed script (``Zyyy``: modifier letters and the like) count only
    when nothing else is there. ASCII text is Latin at once (a hot path for lexicons).
    """
    if isinstance(text, str) and text.isascii():
        return "Latn" if any(c.isalpha() for c in text) else None
    counts = script_counts(text)
    if len(counts) > 1:
        counts.pop("Zyyy", None)
    return counts.most_common(1)[0][0] if counts else None


def script_name(code: str) -> str:
    """English name of an ISO 15924 code known to the table (the code itself otherwise)."""
    return _table()[1].get(code, code)
