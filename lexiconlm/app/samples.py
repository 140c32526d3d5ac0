"""Samples of one language for the explorer: lexicon entries, paradigms and sentences.

The files come from the coverage statistics cache (:func:`language_files`, nothing is read
again to find them) and each passes :func:`lexiconlm.app.files.resolve_inside` before it is
opened; a file that cannot be read becomes a note, not an error.

Example:
    >>> index = language_files(ctx)                                   # doctest: +SKIP
    >>> files = files_for_language(ctx, index, "ind", "lexicons")     # doctest: +SKIP
    >>> rows, notes = sample_lexicon(ctx, files, get_catalog().get("ind"))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from lexiconlm.app.context import AppContext
from lexiconlm.app.files import PathNotAllowedError, resolve_inside
from lexiconlm.coverage.compute import file_statistics
from lexiconlm.errors import LexiconLMError
from lexiconlm.io.lexicons import read_lexicon
from lexiconlm.io.massive import read_massive
from lexiconlm.io.sigmorphon import read_sigmorphon
from lexiconlm.io.text import read_text
from lexiconlm.io.unimorph import paradigms, read_unimorph
from lexiconlm.types import Language

__all__ = [
    "files_for_language",
    "language_files",
    "sample_lexicon",
    "sample_paradigms",
    "sample_sentences",
]


def language_files(ctx: AppContext) -> dict[str, list[dict[str, str]]]:
    """Data files per language: ``iso639_3 -> [{"kind", "source", "path", "split"}, ...]``.

    Taken from the coverage statistics cache (:func:`lexiconlm.coverage.compute.file_statistics`),
    so no file is read again; files whose language the catalog does not know are left out.
    """
    out: dict[str, list[dict[str, str]]] = {}
    for st in file_statistics(ctx.config):
        iso = st.get("lang") or ""
        if iso and "skip" not in st and "error" not in st:
            out.setdefault(iso, []).append(
                {
                    "kind": st["kind"],
                    "source": st["source"],
                    "path": st["path"],
                    "split": str(st.get("split") or st.get("partition") or ""),
                }
            )
    return out


def files_for_language(
    ctx: AppContext,
    index: Mapping[str, Sequence[Mapping[str, str]]],
    iso: str,
    kind: str,
    *,
    split: str | None = None,
) -> list[Path]:
    """The files of resource ``kind`` for language ``iso`` in ``index`` (:func:`language_files`),
    each resolved inside the configured folders (others are left out); ``split`` keeps only
    that split (``train`` for SIGMORPHON training files)."""
    out = []
    for item in index.get(iso, ()):
        if item["kind"] != kind or (split is not None and item.get("split") != split):
            continue
        try:
            out.append(resolve_inside(item["path"], ctx.allowed_roots))
        except PathNotAllowedError:
            continue
    return out


def _read_noting(read: Callable, path: Path, notes: list[str], catch: tuple = (LexiconLMError,)):
    """``read(path, errors="collect")``, or None after adding a note (file name, first line of
    the error)."""
    try:
        return read(path, errors="collect")
    except catch as exc:
        notes.append(f"{path.name}: {str(exc).splitlines()[0]}")
        return None


def _short(p: Path, ctx: AppContext) -> str:
    """A file's path relative to the data folder holding it (for display)."""
    for root in ctx.data_folders:
        if p != root and p.is_relative_to(root):
            return f"{root.name}/{p.relative_to(root).as_posix()}"
    return p.name


def sample_lexicon(
    ctx: AppContext, files: Sequence[Path], lang: Language, *, n: int = 15
) -> tuple[list[dict], list[str]]:
    """The first ``n`` entries of each lexicon file into ``lang`` (rows: file, source, target, pos).

    Args:
        files: from :func:`files_for_language` (already resolved inside the data folders).

    Returns:
        ``(rows, notes)``; notes say which files were skipped and why.
    """
    rows: list[dict] = []
    notes: list[str] = []
    for p in files:
        lex = _read_noting(read_lexicon, p, notes)
        if lex is None:
            continue
        for e in lex.entries[:n]:
            rows.append({"file": _short(p, ctx), "source": e.source, "target": e.target, "pos": e.pos or ""})
    return rows, notes


def sample_paradigms(
    ctx: AppContext,
    unimorph: Sequence[Path],
    sigmorphon: Sequence[Path],
    lang: Language,
    *,
    n_lemmas: int = 3,
) -> tuple[dict[str, list[dict]], list[str]]:
    """Paradigms of the first ``n_lemmas`` lemmas of the UniMorph tables of ``lang``
    (then SIGMORPHON training files when there is no UniMorph table).

    Returns:
        ``({"lemma (file)": [{"form", "features"}, ...]}, notes)``.
    """
    out: dict[str, list[dict]] = {}
    notes: list[str] = []
    for p in unimorph:
        table = _read_noting(read_unimorph, p, notes)
        if table is None:
            continue
        for lemma, entries in list(paradigms(table).items())[:n_lemmas]:
            out[f"{lemma} ({p.name})"] = [{"form": e.form, "features": e.features} for e in entries]
        if out:
            return out, notes
    for p in sigmorphon:
        ds = _read_noting(read_sigmorphon, p, notes, catch=(LexiconLMError, TypeError))
        if ds is None:
            continue
        groups: dict[str, list[dict]] = {}
        for e in ds:
            if e.lemma not in groups and len(groups) >= n_lemmas:
                continue
            groups.setdefault(e.lemma, []).append({"form": e.form, "features": e.features})
        for lemma, rows in groups.items():
            out[f"{lemma} ({p.name})"] = rows
        if out:
            break
    return out, notes


def sample_sentences(
    ctx: AppContext, text: Sequence[Path], nlu: Sequence[Path], lang: Language, *, n: int = 3
) -> tuple[list[dict], list[str]]:
    """The first ``n`` segments of each text corpus and NLU test set of ``lang``
    (rows: file, id, text)."""
    rows: list[dict] = []
    notes: list[str] = []
    for p in text:
        corpus = _read_noting(read_text, p, notes)
        if corpus is None:
            continue
        for seg in corpus.segments[:n]:
            rows.append({"file": _short(p, ctx), "id": seg.id, "text": seg.text})
    for p in nlu:
        if p.suffix.lower() not in (".tsv", ".jsonl"):
            continue
        ds = _read_noting(read_massive, p, notes)
        if ds is None:
            continue
        for u in list(ds)[:n]:
            rows.append({"file": _short(p, ctx), "id": u.id, "text": u.text})
    return rows, notes
