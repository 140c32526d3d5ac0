"""Precision of induced lexicons against real dictionaries, by frequency band and corpus.

For a language with both parallel text and a dictionary (Wiktionary, GATITOS), every English
word of the aligned units that the dictionary has is a test item; the induced candidates
of that word, ranked by link count (Dice: by the coefficient), are compared with the
dictionary's translations (lower-cased, NFC):

* ``p@1``: the top candidate is a dictionary translation;
* ``p@5``: one of the top five is;
* ``p@1_prefix``: lenient: the top candidate shares its first four characters (the whole
  word when shorter) with a dictionary translation, so an inflected form of a listed lemma
  (``vtziric`` for ``vtzi``) counts. Strict ``p@1`` is the headline.

Items are grouped by how often the English word occurs in the units used (``1``, ``2-4``,
``5+``). A word the aligner gave no candidate counts as a miss. The dictionary is used for
nothing else: induction never sees it.
"""

from __future__ import annotations

import os
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lexiconlm.io.lexicons import read_lexicon
from lexiconlm.io.locate import find_lexicons
from lexiconlm.lexicon.induce import InduceConfig, InducedLexicon, induce_units, language_units, map_languages
from lexiconlm.lexicon.parallel import CORPORA, find_parallel_files

__all__ = [
    "BANDS",
    "Precision",
    "band_of",
    "evaluate_induction",
    "precision_at",
    "reference_translations",
    "summarize",
]

#: Frequency bands of English source words (inclusive bounds; None: no upper bound).
BANDS: tuple[tuple[str, int, int | None], ...] = (("1", 1, 1), ("2-4", 2, 4), ("5+", 5, None))


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().lower()


def band_of(freq: int) -> str:
    for name, low, high in BANDS:
        if freq >= low and (high is None or freq <= high):
            return name
    return "0"


def reference_translations(
    language: str, dirs: Iterable[str | os.PathLike], *, files: Sequence[Path] | None = None
) -> dict[str, set[str]]:
    """English word → its translations in the dictionaries of ``language`` found in ``dirs``.

    Multiword English sources are left out (induction proposes single words).
    """
    paths = list(files) if files is not None else find_lexicons(language, list(dirs))
    ref: dict[str, set[str]] = defaultdict(set)
    for p in paths:
        lex = read_lexicon(p, errors="collect")
        for e in lex.entries:
            s = _norm(e.source)
            if not s or " " in s:
                continue
            ref[s].add(_norm(e.target))
    return dict(ref)


@dataclass(frozen=True)
class Precision:
    """Counts of one evaluation cell; ``p1``/``p5`` as percentages."""

    n: int
    hit1: int
    hit5: int
    hit1_prefix: int

    @property
    def p1(self) -> float:
        return 100.0 * self.hit1 / self.n if self.n else float("nan")

    @property
    def p5(self) -> float:
        return 100.0 * self.hit5 / self.n if self.n else float("nan")

    @property
    def p1_prefix(self) -> float:
        return 100.0 * self.hit1_prefix / self.n if self.n else float("nan")

    def __add__(self, other: "Precision") -> "Precision":
        return Precision(
            self.n + other.n, self.hit1 + other.hit1, self.hit5 + other.hit5, self.hit1_prefix + other.hit1_prefix
        )


def _prefix_match(cand: str, refs: set[str]) -> bool:
    for r in refs:
        for word in r.split():
            k = min(4, len(word), len(cand))
            if k and cand[:k] == word[:k] and (k == 4 or cand == word):
                return True
    return False


def precision_at(
    induced: InducedLexicon, reference: Mapping[str, set[str]], freq: Mapping[str, int]
) -> dict[str, Precision]:
    """Precision by band (and ``all``) of ``induced`` against ``reference``.

    Args:
        induced: the candidates (the order of a source word's entries is its ranking).
        reference: from :func:`reference_translations`.
        freq: how often each English word occurs in the units used (every word of the
            units, so that words without a candidate count as misses).
    """
    ranked: dict[str, list[str]] = defaultdict(list)
    for e in induced.entries:
        ranked[e.source].append(_norm(e.target))
    cells: dict[str, Precision] = {name: Precision(0, 0, 0, 0) for name, _, _ in BANDS}
    for word, n in freq.items():
        refs = reference.get(word)
        if not refs or n < 1:
            continue
        cands = ranked.get(word, [])
        hit1 = bool(cands) and cands[0] in refs
        hit5 = any(c in refs for c in cands[:5])
        pre = bool(cands) and (hit1 or _prefix_match(cands[0], refs))
        cells[band_of(n)] += Precision(1, int(hit1), int(hit5), int(pre))
    total = Precision(0, 0, 0, 0)
    for c in cells.values():
        total += c
    cells["all"] = total
    return cells


# --------------------------------------------------------------------------- many languages


def _eval_job(
    iso: str, files: Sequence, cfg: InduceConfig, ref_dirs: Sequence[Path], aligners: Sequence[str]
) -> list[dict]:
    reference = reference_translations(iso, ref_dirs)
    if not reference:
        return []
    units = language_units(iso, files, cfg)
    present = sorted({u.corpus for u in units}, key=CORPORA.index)
    groups = [(c, [u for u in units if u.corpus == c]) for c in present]
    if len(present) > 1:
        groups.append(("all", units))
    rows = []
    for corpus, subset in groups:
        for aligner in aligners:
            lex = induce_units(subset, cfg, iso, aligner=aligner, top_k=5, min_links=1, min_prob=0.0)
            for band, cell in precision_at(lex, reference, lex.word_freq).items():
                rows.append(
                    {
                        "iso639_3": iso,
                        "corpus": corpus,
                        "aligner": aligner,
                        "band": band,
                        "n": cell.n,
                        "hit1": cell.hit1,
                        "hit5": cell.hit5,
                        "hit1_prefix": cell.hit1_prefix,
                        "units": lex.n_units,
                        "cpu_seconds": round(lex.seconds, 3),
                    }
                )
    return rows


def evaluate_induction(
    cfg: InduceConfig,
    reference_dirs: Sequence[str | os.PathLike],
    *,
    aligners: Sequence[str] = ("eflomal", "ibm1", "dice"),
    langs: Sequence[str] | None = None,
    workers: int = 0,
    progress=None,
) -> list[dict]:
    """Precision rows (language × corpus × aligner × band) for every language that has both
    parallel text and a dictionary in ``reference_dirs``; ranked candidates (top 5, no
    thresholds) from the units ``cfg.units`` selects."""
    ref_dirs = [Path(d) for d in reference_dirs]
    files = find_parallel_files(cfg.corpora)
    if langs is not None:
        files = {k: v for k, v in files.items() if k in set(langs)}
    have_ref = {iso for iso in files if find_lexicons(iso, ref_dirs)}
    todo = [iso for iso in files if iso in have_ref and iso != cfg.pivot]
    args = [(iso, files[iso], cfg, ref_dirs, tuple(aligners)) for iso in todo]
    rows: list[dict] = []
    done = 0

    def step(iso: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(args), iso)

    jobs = [(a[0], a) for a in args]
    for _iso, found, error in map_languages(_eval_job, jobs, workers=workers, progress=step):
        if error is not None:
            raise error
        rows.extend(found)
    rows.sort(key=lambda r: (r["iso639_3"], r["corpus"], r["aligner"], r["band"]))
    return rows


def summarize(rows: Sequence[dict]) -> list[dict]:
    """Micro-averaged precision per (corpus, aligner, band) over languages; ``corpus='any'``
    pools every language's own-corpus cells (a language's ``all`` row when it has several)."""
    cells: dict[tuple, list] = defaultdict(lambda: [0, 0, 0, 0, set()])
    multi = {r["iso639_3"] for r in rows if r["corpus"] == "all"}
    for r in rows:
        keys = [(r["corpus"], r["aligner"], r["band"])]
        if r["corpus"] == "all" or r["iso639_3"] not in multi:
            keys.append(("any", r["aligner"], r["band"]))
        for k in keys:
            c = cells[k]
            c[0] += r["n"]
            c[1] += r["hit1"]
            c[2] += r["hit5"]
            c[3] += r["hit1_prefix"]
            c[4].add(r["iso639_3"])
    out = []
    for (corpus, aligner, band), (n, h1, h5, hp, langs) in sorted(cells.items()):
        out.append(
            {
                "corpus": corpus,
                "aligner": aligner,
                "band": band,
                "languages": len(langs),
                "items": n,
                "p@1": round(100.0 * h1 / n, 2) if n else None,
                "p@5": round(100.0 * h5 / n, 2) if n else None,
                "p@1_prefix": round(100.0 * hp / n, 2) if n else None,
            }
        )
    return out
