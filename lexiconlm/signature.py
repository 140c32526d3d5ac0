"""Signatures: the settings that produced a synthesized artifact, as one line.

Every synthesized corpus records how it was made, e.g.
``lex:wiktionary/indonesian.txt|sense:random.v1|oov:keep|seed:13|hyg:script.v1|lexiconlm:0.1.0``.
Batch mode compares signatures to decide whether an output can be reused.

>>> s = Signature.from_pairs([("lex", "wiktionary/indonesian.txt"), ("seed", 13)])
>>> str(s)
'lex:wiktionary/indonesian.txt|seed:13|lexiconlm:0.1.0'
>>> Signature.parse(str(s))["seed"]
'13'
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lexiconlm import __version__

__all__ = ["Signature", "lexicon_id"]


def lexicon_id(path: str | os.PathLike) -> str:
    """``<folder>/<file>`` of a lexicon path.

    ``.../lexicons/wiktionary/indonesian.txt`` -> ``wiktionary/indonesian.txt``.
    """
    p = Path(path)
    return f"{p.parent.name}/{p.name}" if p.parent.name else p.name


def _clean(value: object) -> str:
    text = str(value)
    if "|" in text or "\n" in text or "\t" in text:
        raise ValueError(f"signature value {text!r} may not contain '|', a tab or a line break")
    return text


@dataclass(frozen=True)
class Signature:
    """Ordered ``key:value`` pairs, rendered ``k1:v1|k2:v2|...|lexiconlm:<version>``."""

    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, object]], *, version: bool = True) -> "Signature":
        """Build a signature; ``version=True`` appends ``lexiconlm:<version>``."""
        out = [(_clean(k), _clean(v)) for k, v in pairs]
        if version and not any(k == "lexiconlm" for k, _ in out):
            out.append(("lexiconlm", __version__))
        return cls(tuple(out))

    @classmethod
    def parse(cls, text: str) -> dict[str, str]:
        """The pairs of a rendered signature as a dict (values keep any ``:`` after the first)."""
        out: dict[str, str] = {}
        for part in text.strip().split("|"):
            if not part:
                continue
            key, _, value = part.partition(":")
            out[key] = value
        return out

    def __str__(self) -> str:
        return "|".join(f"{k}:{v}" for k, v in self.pairs)

    def as_dict(self) -> dict[str, str]:
        return dict(self.pairs)
