"""Merge several English → X lexicons into one, with per-entry provenance and a preference order.

Sources are *attested* (dictionaries: Wiktionary, GATITOS, PanLex ...) or *induced* (from
parallel text). An entry ``(source, target)`` found in several sources appears once; its
``provenance`` column names them all (``wiktionary+induced``). Weights tell synthesis what to
prefer (``frequency.v1`` draws senses in proportion to them; ``first.v1`` takes the first
entry of a word, and entries are written best first):

* attested and confirmed by parallel text: ``1 + p(t|s)``;
* attested only: ``1``;
* induced only: ``induced_weight × p(t|s)`` (default ``0.5 ×``), always below any attested entry.

So a word the dictionary has keeps its dictionary senses, ordered by how often the parallel
text uses them; induced entries fill the words the dictionary lacks.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lexiconlm.errors import LexiconLMError
from lexiconlm.io.lexicons import read_lexicon, write_lexicon
from lexiconlm.io.locate import find_lexicons
from lexiconlm.types import LexiconEntry

__all__ = ["MergeSource", "merge_all", "merge_lexicons", "write_merged"]


@dataclass(frozen=True)
class MergeSource:
    """One input lexicon file: its name in the provenance column and whether it is induced."""

    name: str
    path: Path
    induced: bool = False


def _key(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def merge_lexicons(sources: Sequence[MergeSource], *, induced_weight: float = 0.5) -> list[tuple[LexiconEntry, str]]:
    """The merged entries with their provenance, grouped by source word, best first.

    Source words and targets are compared as written (NFC); an induced entry matches a
    dictionary entry whose target is the same word ignoring case (induction lower-cases).
    """
    if not 0.0 < induced_weight < 1.0:
        raise ValueError(f"induced_weight must be in (0, 1) so that attested entries rank first, got {induced_weight}")
    attested: dict[tuple[str, str], dict] = {}
    induced: dict[tuple[str, str], dict] = {}
    order: dict[str, int] = {}
    for src in sources:
        lex = read_lexicon(src.path, errors="collect")
        table = induced if src.induced else attested
        for e in lex.entries:
            s, t = _key(e.source), _key(e.target)
            order.setdefault(s.lower(), len(order))
            k = (s.lower(), t.lower())
            cell = table.setdefault(k, {"source": s, "target": t, "pos": e.pos, "names": [], "p": 0.0})
            if src.name not in cell["names"]:
                cell["names"].append(src.name)
            if src.induced and e.weight is not None:
                cell["p"] = max(cell["p"], float(e.weight))
    rows: list[tuple[float, int, LexiconEntry, str]] = []
    for k, cell in attested.items():
        conf = induced.get(k)
        names = cell["names"] + (conf["names"] if conf else [])
        w = 1.0 + (conf["p"] if conf else 0.0)
        rows.append((w, order[k[0]], LexiconEntry(cell["source"], cell["target"], cell["pos"], round(w, 6)), names))
    for k, cell in induced.items():
        if k in attested:
            continue
        w = induced_weight * cell["p"]
        if w <= 0.0:
            continue
        rows.append((w, order[k[0]], LexiconEntry(cell["source"], cell["target"], None, round(w, 6)), cell["names"]))
    rows.sort(key=lambda r: (r[1], -r[0], r[2].target))
    return [(entry, "+".join(names)) for _, _, entry, names in rows]


def write_merged(entries: Sequence[tuple[LexiconEntry, str]], path: str | os.PathLike) -> Path:
    """Write merged entries as lexicon TSV with a ``provenance`` column (atomically)."""
    return write_lexicon([e for e, _ in entries], path, columns={"provenance": [p for _, p in entries]})


def merge_all(
    dictionary_dirs: Sequence[str | os.PathLike],
    induced_dir: str | os.PathLike,
    out: str | os.PathLike,
    *,
    langs: Sequence[str] | None = None,
    induced_weight: float = 0.5,
    progress=None,
) -> list[dict]:
    """``out/en_<iso>.tsv`` for every language with an induced lexicon in ``induced_dir``
    (or those in ``langs``), merged with its dictionaries found in ``dictionary_dirs``.

    Returns one row per language: entries from each kind and merged, source words.
    """
    induced_files = {p.stem[3:]: p for p in sorted(Path(induced_dir).glob("en_*.tsv"))}
    if langs is not None:
        wanted = set(langs)
        missing = sorted(wanted - set(induced_files))
        if missing:
            raise LexiconLMError(
                f"no induced lexicon for {', '.join(missing[:10])} in {induced_dir}; "
                "run `lexiconlm lexicon induce` first"
            )
        induced_files = {k: v for k, v in induced_files.items() if k in wanted}
    rows = []
    dirs = [Path(d) for d in dictionary_dirs]
    for n, (iso, ipath) in enumerate(induced_files.items(), 1):
        dict_files = find_lexicons(iso, dirs) if dirs else []
        sources = [MergeSource(p.parent.name, p) for p in dict_files] + [MergeSource("induced", ipath, True)]
        merged = merge_lexicons(sources, induced_weight=induced_weight)
        path = write_merged(merged, Path(out) / f"en_{iso}.tsv") if merged else None
        kinds = [p for _, p in merged]
        rows.append(
            {
                "iso639_3": iso,
                "dictionaries": "+".join(p.parent.name for p in dict_files),
                "merged_entries": len(merged),
                "merged_sources": len({e.source.lower() for e, _ in merged}),
                "attested": sum(1 for k in kinds if k != "induced" and "induced" not in k.split("+")),
                "confirmed": sum(1 for k in kinds if "induced" in k.split("+") and k != "induced"),
                "induced_only": sum(1 for k in kinds if k == "induced"),
                "file": path.name if path else None,
            }
        )
        if progress:
            progress(n, len(induced_files), iso)
    return rows
