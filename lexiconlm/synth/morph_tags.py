"""UniMorph feature bundles as flat tags: what the English and target morphologies share.

>>> open_tags("V;PRS;NOM(3,SG)")
('V', 'PRS', '3', 'SG')
>>> pos_of(open_tags("V;V.PTCP;PST"))
'V'
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from lexiconlm.io.unimorph import tag_dimension
from lexiconlm.types import split_features

__all__ = ["open_tags", "pos_of", "tag_dim", "word_key"]


def open_tags(features: str) -> tuple[str, ...]:
    """A bundle as flat tags, layered tags opened: ``V;PRS;NOM(3,SG)`` -> ``('V', 'PRS', '3', 'SG')``."""
    out: list[str] = []
    for tag in split_features(features):
        if "(" in tag and tag.endswith(")"):
            inner = tag[tag.index("(") + 1 : -1]
            out.extend(t for t in inner.replace(";", ",").split(",") if t and "(" not in t and ")" not in t)
        else:
            out.append(tag)
    return tuple(dict.fromkeys(out))


@lru_cache(maxsize=1 << 14)
def tag_dim(tag: str) -> str:
    """The UniMorph dimension of a tag (:func:`~lexiconlm.io.unimorph.tag_dimension`), cached."""
    return tag_dimension(tag)


def pos_of(tags: Sequence[str]) -> str:
    """The part of speech of a bundle: its first part-of-speech tag (``V`` of ``V;V.PTCP;PST``)."""
    return next((t for t in tags if tag_dim(t) == "Part of speech"), "")


def word_key(word: str) -> str:
    """A word as the tables are looked up: NFC-normalised, surrounding spaces stripped."""
    return unicodedata.normalize("NFC", word).strip()
