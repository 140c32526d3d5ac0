"""Read target-language text back into English through an English-to-X lexicon (translate-test).

A bilingual lexicon written English -> X also reads X -> English. :class:`ReverseTranslator`
turns each word of a target-language utterance into its English translation, keeping the
correspondence word by word, so that an English model can read the utterance and its per-word
labels map back onto the original words (:mod:`lexiconlm.nlu.translate_test` averages a joint
model's predictions on both readings).

How a target word is read:

* the lexicon's entries, cleaned by the same hygiene as translation (``script.v1``), are read
  backwards; multi-word target phrases match as phrases (longest first, as in
  :class:`~lexiconlm.synth.translate.LexiconTranslator`, which does the reading);
* of several English translations of a word, the one seen most often in ``english_counts``
  (e.g. the English training utterances: the sense the task uses) wins; a single English word
  beats a phrase when both are seen; then file order; a translation never seen there is not
  used (``require_seen``);
* a word the lexicon lacks is looked up by its stem: the word cut by up to ``max_strip`` final
  characters, keeping at least ``min_stem`` (``alarmas`` -> ``alarma``, ``bangunkan`` -> ``bangun``),
  and matched against the lexicon's words cut the same way;
* a word of a script written without spaces (Han, Thai, Khmer, ...) the lexicon lacks as a whole
  is segmented greedily into the longest lexicon words it contains (``早上五點`` -> ``早上`` ``五點``);
* anything else (names, numbers, words the lexicon lacks) is kept as written.

Example:
    >>> rt = ReverseTranslator(read_lexicon("wiktionary/welsh.txt"), english_counts=counts)  # doctest: +SKIP
    >>> r = rt.read(["deffra", "fi", "am", "pump"])  # doctest: +SKIP
    >>> r.tokens, r.first  # doctest: +SKIP
    (('wake', 'me', 'at', 'five'), (0, 1, 2, 3))
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lexiconlm.synth.hygiene import HygieneConfig, entry_script, filter_lexicon, require_entries
from lexiconlm.synth.tokenize import _edge_scripts, is_word, join_rule
from lexiconlm.synth.translate import LexiconTranslator, normalize_word, target_tokens
from lexiconlm.types import Lexicon, LexiconEntry, Provenance
from lexiconlm.unicode_scripts import char_script

__all__ = ["Reading", "ReverseTranslator"]

#: the longest lexicon word (in characters) tried when segmenting text written without spaces
MAX_SEGMENT = 8
#: scripts whose single characters are words (a one-character lexicon word is matched only in these)
_CHAR_WORDS = frozenset({"Hani", "Hira", "Kana", "Hang"})


@dataclass(frozen=True)
class Reading:
    """An utterance read into English.

    ``tokens`` is the English reading; ``first[i]`` is the position in ``tokens`` of the first
    word that original token ``i`` became, or ``-1`` when the token has no word of its own (the
    second word of a multi-word lexicon entry, read as one unit with the word before it).
    ``n_words`` counts the original tokens that hold a letter and ``n_read`` those read through
    the lexicon.
    """

    tokens: tuple[str, ...]
    first: tuple[int, ...]
    n_words: int
    n_read: int

    @property
    def ratio(self) -> float:
        """Share of the original words read through the lexicon."""
        return self.n_read / self.n_words if self.n_words else 0.0


class ReverseTranslator:
    """Read X-language tokens into English through an English -> X lexicon.

    Args:
        lexicon: the English -> X lexicon (as every lexicon of the project is written).
        english_counts: English word counts (:func:`~lexiconlm.synth.translate.count_words`)
            that choose among several translations of a word; empty: file order.
        hygiene: the hygiene policy applied to the lexicon first, or its name as configs write it
            (``script.v1``; ``None`` or ``"none"``: none).
        min_stem, max_strip: the stem lookup (see the module docstring); ``max_strip=0`` turns it off.
        require_seen: with ``english_counts``, an English translation never seen there is not used
            (the word is kept as written when it has no other): a sense the task never uses is more
            often a dictionary's rare sense (Chinese 我 listed only under "rake") than a help.

    Raises:
        EmptyLexiconError: no entry left (after hygiene).
    """

    def __init__(
        self,
        lexicon: Lexicon,
        *,
        english_counts: Mapping[str, int] | None = None,
        hygiene: HygieneConfig | str | None = HygieneConfig(),
        min_stem: int = 4,
        max_strip: int = 3,
        require_seen: bool = True,
    ):
        require_entries(lexicon)
        if isinstance(hygiene, str):
            hygiene = HygieneConfig(hygiene) if hygiene != "none" else None
        if hygiene is not None:
            lexicon, _ = filter_lexicon(lexicon, hygiene)
            require_entries(lexicon, "after hygiene")
        counts = english_counts or {}
        english_script = lexicon.src.scripts[0] if lexicon.src.scripts else "Latn"
        best: dict[str, tuple[tuple, LexiconEntry]] = {}
        for i, e in enumerate(lexicon.entries):
            key = normalize_word(e.target)
            if not key.strip() or entry_script(e.source) not in (None, english_script):
                continue  # an "English" side in another script is noise for reading back
            words = target_tokens(e.source)
            seen = min((counts.get(normalize_word(w), 0) for w in words), default=0)
            if counts and not seen and require_seen:
                continue
            rank = (seen > 0, len(words) == 1 or seen == 0, seen, -i)
            if key not in best or rank > best[key][0]:
                best[key] = (rank, LexiconEntry(e.target, e.source, e.pos, e.weight))
        inverse = Lexicon(
            src=lexicon.tgt,
            tgt=lexicon.src,
            entries=tuple(entry for _, entry in best.values()),
            provenance=Provenance(lexicon.provenance.path, "reversed", n_lines=len(best)),
        )
        self.lexicon = inverse
        self._tr = LexiconTranslator(inverse, sense="first", oov="keep", hygiene=None)
        self.min_stem = int(min_stem)
        self.max_strip = int(max_strip)
        self.words = frozenset(k for k in best if " " not in k)
        self._stems: dict[str, str] = {}
        for w in sorted(self.words, key=lambda w: (len(w), w)):  # the shortest word wins a shared stem
            for k in range(1, self.max_strip + 1):
                if len(w) - k >= self.min_stem:
                    self._stems.setdefault(w[: len(w) - k], w)
        self._longest = max((len(w) for w in self.words), default=1)

    def __len__(self) -> int:
        return len(self.lexicon)

    def _known(self, token: str) -> bool:
        return normalize_word(token) in self.words

    def _stem(self, token: str) -> str | None:
        """The lexicon word ``token`` is an inflection of (by shared stem), or None."""
        w = normalize_word(token)
        for k in range(0, self.max_strip + 1):
            s = w[: len(w) - k] if k else w
            if len(s) < self.min_stem:
                break
            if k and s in self.words:
                return s
            hit = self._stems.get(s)
            if hit is not None and hit != w:
                return hit
        return None

    def _segment(self, token: str) -> list[str]:
        """Greedy longest-match segmentation of a token written without spaces (unmatched runs kept whole).

        A piece never starts or ends inside a character cluster (before a combining mark), and a
        one-character piece is a word only in scripts whose characters are words (Han, kana).
        """
        out: list[str] = []
        rest = ""
        i = 0
        n_chars = len(token)

        def cut_ok(k: int) -> bool:  # a boundary before position k: not before a mark, not after a virama
            if k >= n_chars:
                return True
            return not unicodedata.category(token[k]).startswith("M") and unicodedata.combining(token[k - 1]) != 9

        while i < n_chars:
            piece = ""
            if cut_ok(i):
                for n in range(min(MAX_SEGMENT, self._longest, n_chars - i), 0, -1):
                    cand = token[i : i + n]
                    if n == 1 and char_script(cand) not in _CHAR_WORDS:
                        continue
                    if cut_ok(i + n) and normalize_word(cand) in self.words:
                        piece = cand
                        break
            if not piece:
                rest += token[i]
                i += 1
                continue
            if rest:
                out.append(rest)
                rest = ""
            out.append(piece)
            i += len(piece)
        if rest:
            out.append(rest)
        return out

    def read(self, tokens: Sequence[str]) -> Reading:
        """The English reading of ``tokens`` (see :class:`Reading`)."""
        subs: list[str] = []
        owner: list[int] = []
        for i, tok in enumerate(tokens):
            parts = [tok]
            if is_word(tok) and not self._known(tok):
                stem = self._stem(tok)
                if stem is not None:
                    parts = [stem]
                elif join_rule(_edge_scripts(tok)[0]) is not None:
                    parts = self._segment(tok)
            subs.extend(parts)
            owner.extend([i] * len(parts))
        tr = self._tr.translate_tokens(subs)
        first = [-1] * len(tokens)
        read = [False] * len(tokens)
        for s0, s1, t0, t1 in tr.alignment:
            o = owner[s0]
            if t1 > t0 and first[o] < 0:
                first[o] = t0
            if t1 > t0 and (s1 - s0 > 1 or normalize_word(subs[s0]) in self.words):
                for k in range(s0, s1):
                    read[owner[k]] = True
        n_words = sum(1 for t in tokens if is_word(t))
        n_read = sum(1 for i, t in enumerate(tokens) if read[i] and is_word(t))
        return Reading(tr.tokens, tuple(first), n_words, n_read)
