"""The statistics of one resource file, read with the project's reader for its kind.

:func:`read_files` reads files of one configured resource (``lexicons``, ``unimorph``,
``sigmorphon``, ``nlu``, ``text``) and gives, for each, a JSON-able dict: its language
(``lang``, ``name``), its counts (``entries``, ``forms``, ``examples``, ``segments`` ...)
and its problems; or ``{"skip": reason}`` for a file that is not data, or
``{"error": ...}`` for one that cannot be read (the run goes on). :func:`walk` and
:func:`lexicon_files` list the files of a configured folder.
:mod:`lexiconlm.coverage.cache` keeps these dicts between runs.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

from lexiconlm.coverage.config import ResourceSpec
from lexiconlm.errors import DataFormatError, LexiconLMError
from lexiconlm.io.conll import read_conll
from lexiconlm.io.detect import detect_format
from lexiconlm.io.lexicons import iter_lexicon_files, read_lexicons
from lexiconlm.io.massive import read_massive
from lexiconlm.io.sigmorphon import EDITIONS, detect_sigmorphon
from lexiconlm.io.text import read_text
from lexiconlm.io.unimorph import feature_stats, read_unimorph
from lexiconlm.languages import get_catalog

__all__ = ["alias_context", "lexicon_files", "read_files", "walk"]

# Names that are never data, whatever the folder (documentation, licences, hidden files).
_DOC_NAMES = {"readme", "license", "licence", "copying", "notice", "provenance", "changelog"}


def walk(path: Path) -> list[Path]:
    """Every regular file under ``path`` (or ``path`` itself), hidden ones and documentation left out."""
    if path.is_file():
        return [path]
    out: list[Path] = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for f in sorted(files):
            if f.startswith(".") or f.split(".")[0].lower() in _DOC_NAMES:
                continue
            out.append(Path(root) / f)
    return out


def lexicon_files(path: Path) -> list[Path]:
    """Lexicon files of a folder tree (:func:`iter_lexicon_files` for each folder), or the file itself."""
    if path.is_file():
        return [path]
    out: list[Path] = []
    for root, dirs, _files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out.extend(iter_lexicon_files(root))
    return out


# --------------------------------------------------------------------------- per-file statistics


def alias_context(name: str) -> str | None:
    """The catalog's alias context for a resource name (``gatitos``, ``udhr`` ...), if it has one."""
    return name if name in get_catalog().contexts else None


def _lang_fields(lang) -> dict:
    return {"lang": lang.iso639_3, "name": lang.name}


def _errors(problems) -> tuple[int, int, list[str]]:
    errs = [p for p in problems if p.severity == "error"]
    return len(errs), len(problems) - len(errs), [str(p) for p in errs[:5]]


def _lexicon_record(lex) -> dict:
    n_err, n_warn, msgs = _errors(lex.problems)
    return {
        **_lang_fields(lex.tgt),
        "src": lex.src.iso639_3,
        "entries": len(lex),
        "errors": n_err,
        "warnings": n_warn,
        "problems": msgs,
    }


def _lexicon_stats(files: list[Path], context: str | None) -> list[dict]:
    """Statistics of many lexicon files, read in batches with the parallel reader."""
    out: list[dict] = []
    batch: list[Path] = []
    size = 0

    def flush() -> None:
        nonlocal batch, size
        if not batch:
            return
        try:
            lexicons = read_lexicons(batch, errors="collect", context=context)
        except (LexiconLMError, OSError, ValueError):
            lexicons = None
        if lexicons is None:  # one bad file must not hide the others: read them one by one
            for f in batch:
                try:
                    one = read_lexicons([f], errors="collect", context=context, workers=0)[0]
                except (LexiconLMError, OSError, ValueError) as exc:
                    out.append({"error": f"{f}: {exc}", "n_errors": 1})
                    continue
                out.append(_lexicon_record(one))
        else:
            out.extend(_lexicon_record(lex) for lex in lexicons)
        batch, size = [], 0

    for f in files:
        batch.append(f)
        try:
            size += f.stat().st_size
        except OSError:
            pass
        if size > (24 << 20):  # bounds the memory of the entries built at once
            flush()
    flush()
    return out


def _lemma_hashes(lemmas: Iterable[str]) -> list[int]:
    """64-bit digests of lemmas, so that tables of one language can be unioned from the cache."""
    return sorted(
        {int.from_bytes(hashlib.blake2b(x.encode("utf-8"), digest_size=8).digest(), "big") >> 1 for x in lemmas}
    )


def _unimorph_stats(path: Path, context: str | None) -> dict:
    guess = detect_format(path)
    if guess.kind == "not-data":
        return {"skip": guess.reason or "not data"}
    table = read_unimorph(path, errors="collect")
    stats = feature_stats(table)
    n_err, n_warn, msgs = _errors(table.problems)
    dims = sorted(d for d in stats.dimensions if d not in ("Unknown",))
    return {
        **_lang_fields(table.language),
        "forms": len(table),
        "lemmas": stats.n_lemmas,
        "lemma_hashes": _lemma_hashes(e.lemma for e in table.entries),
        "dimensions": dims,
        "errors": n_err,
        "warnings": n_warn,
        "problems": msgs,
    }


def _sigmorphon_stats(path: Path, edition: str | None) -> dict:
    guess = detect_format(path)
    if guess.kind == "not-data":
        return {"skip": guess.reason or "not data"}
    if guess.kind != "sigmorphon":
        return {"skip": f"not a SIGMORPHON file name (looks like {guess.kind})"}
    info = detect_sigmorphon(path, edition=edition if edition in EDITIONS else None)
    if info.prediction:
        return {"skip": "system output (predictions)"}
    data = path.read_bytes()
    n = sum(1 for line in data.split(b"\n") if line.strip())
    ed = info.edition
    cat = get_catalog()
    ctx = f"sigmorphon{ed}" if ed else "sigmorphon"
    lang = cat.find(info.code, context=ctx)
    if lang is None and "-" in info.code:  # 2017 names such as scottish-gaelic
        lang = cat.find(info.code.replace("-", " "), context=ctx)
    return {
        "lang": lang.iso639_3 if lang else "",
        "name": lang.name if lang else info.code,
        "code": info.code,
        "edition": ed,
        "split": info.split,
        "setting": info.setting,
        "covered": info.covered,
        "examples": n,
    }


_TAG = re.compile(r"^(O|[BIES]-\S+|[BIES]|[A-Z]+)$")
_NAME_CODE = re.compile(r"^([a-z]{2,3})(?=$|[._\-])")


def _looks_like_conll(path: Path) -> bool:
    """``token tag`` lines with a BIO tag last on (nearly) every sampled line."""
    lines = []
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw.decode("utf-8", errors="replace").strip()
            if line:
                lines.append(line)
                if len(lines) >= 50:
                    break
    if not lines:
        return False
    ok = sum(1 for ln in lines if len(ln.split()) >= 2 and _TAG.match(ln.split()[-1]) and "[" not in ln)
    return ok >= 0.9 * len(lines) and any(ln.split()[-1] == "O" for ln in lines)


_SPLITS = {
    "train": "train",
    "trn": "train",
    "dev": "dev",
    "valid": "dev",
    "validation": "dev",
    "test": "test",
    "tst": "test",
    "devtest": "test",
}


def _split_of(path: Path) -> str:
    """``train``/``dev``/``test`` from any part of the file name (``amh.dev.txt``), else the folder (``test/``)."""
    for part in reversed(re.split(r"[._\-]+", path.name.lower())):
        if part in _SPLITS:
            return _SPLITS[part]
    return _SPLITS.get(path.parent.name.lower(), "unknown")


def _conll_stats(path: Path, context: str | None) -> dict:
    """Sentences of a CoNLL file (read and validated by :func:`lexiconlm.io.conll.read_conll`),
    its split and its language from the file name."""
    ds = read_conll(path, errors="collect")
    n_sent = len(ds)
    m = _NAME_CODE.match(path.name)
    code = m.group(1) if m else path.name.split(".")[0]
    lang = get_catalog().find(code, context=context, names=False)
    split = _split_of(path)
    n_err, n_warn, msgs = _errors(ds.problems)
    return {
        "format": "conll",
        "lang": lang.iso639_3 if lang else "",
        "name": lang.name if lang else code,
        "partitions": {split: n_sent},
        "examples": n_sent,
        "errors": n_err,
        "warnings": n_warn,
        "problems": msgs,
    }


def _nlu_stats(path: Path, context: str | None) -> dict:
    if _looks_like_conll(path):
        return _conll_stats(path, context)
    guess = detect_format(path)
    if guess.kind == "not-data":
        return {"skip": guess.reason or "not data"}
    if guess.kind != "massive":
        return {
            "error": f"{path}: not an NLU file: expected MASSIVE TSV/JSON lines or CoNLL `token tag` lines "
            f"(detected as {guess.kind})"
        }
    ds = read_massive(path, errors="collect")
    n_err, n_warn, msgs = _errors(ds.problems)
    lang = ds.language
    if ds.locale:
        lang = get_catalog().find(ds.locale, context=context or "massive") or lang
    parts = Counter(u.partition or "unknown" for u in ds.utterances)
    return {
        "format": "massive",
        "lang": lang.iso639_3,
        "name": lang.name or ds.locale,
        "locale": ds.locale,
        "partitions": dict(parts),
        "examples": len(ds),
        "errors": n_err,
        "warnings": n_warn,
        "problems": msgs,
    }


def _text_stats(path: Path, context: str | None) -> dict:
    guess = detect_format(path)
    if guess.kind == "not-data":
        return {"skip": guess.reason or "not data"}
    corpus = read_text(path, errors="collect", context=context)
    n_err, n_warn, msgs = _errors(corpus.problems)
    return {
        **_lang_fields(corpus.language),
        "segments": len(corpus),
        "tokens": sum(len(s.text.split()) for s in corpus.segments),
        "errors": n_err,
        "warnings": n_warn,
        "problems": msgs,
    }


# --------------------------------------------------------------------------- reading


def read_files(
    spec: ResourceSpec, todo: list[tuple[Path, os.stat_result]]
) -> Iterator[tuple[Path, os.stat_result, dict]]:
    """Read the files the cache does not hold; an unreadable file yields its error instead of stopping the run."""
    if not todo:
        return
    ctx = alias_context(spec.name)
    if spec.kind == "lexicons":
        results = _lexicon_stats([f for f, _ in todo], ctx)
        for (f, st), one in zip(todo, results, strict=True):
            yield f, st, one
        return
    for f, st in todo:
        try:
            if spec.kind == "unimorph":
                one = _unimorph_stats(f, ctx)
            elif spec.kind == "sigmorphon":
                one = _sigmorphon_stats(f, spec.name)
            elif spec.kind == "nlu":
                one = _nlu_stats(f, ctx)
            else:
                one = _text_stats(f, ctx)
        except (DataFormatError, LexiconLMError) as exc:
            problems = getattr(exc, "problems", None)
            msgs = [str(p) for p in problems if getattr(p, "severity", "error") == "error"] if problems else [str(exc)]
            one = {"error": "; ".join(msgs[:3]) or str(exc), "n_errors": max(1, len(msgs))}
        yield f, st, one
