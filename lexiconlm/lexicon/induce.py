"""Bilingual lexicon induction from parallel text: English → every language with a parallel corpus.

For one language, :func:`induce_language` pairs its files with English
(:mod:`~lexiconlm.lexicon.parallel`), keeps the units of the language's main writing
system, tokenises both sides (:func:`~lexiconlm.lexicon.align.alignment_tokens`), aligns
them (eflomal by default, the IBM-1 or Dice baselines on request) and counts, for each
English word ``s``, the target words linked to it. An entry ``s → t`` is kept when

* ``t`` is among the ``top_k`` targets of ``s`` by link count,
* it has at least ``min_links`` links, and
* its translation probability ``p(t | s) = links(s, t) / links(s, ·)`` is at least ``min_prob``.

The entry's ``weight`` is ``p(t | s)`` (Dice: the Dice coefficient); the ``links`` column
keeps the count and ``source_freq`` how often ``s`` occurs in the units used, so users can
filter further. :func:`induce_all` does this for every language in one call, writing
``en_<iso>.tsv`` (the package's lexicon TSV, found by :func:`lexiconlm.io.locate.find_lexicons`
and counted by ``coverage compute`` like any lexicon folder) and ``en_<iso>.json`` (signature,
counts, time) per language; a language whose JSON carries the same signature is skipped, so a
killed batch resumes where it stopped.

By default only the units *outside* the held-out half (:func:`~lexiconlm.lexicon.parallel.is_heldout`)
are aligned, so that parallel-sentence retrieval on the held-out half measures models
adapted with these lexicons without leakage; ``units: all`` uses everything.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lexiconlm.config import (
    check_bool,
    check_choice,
    check_int,
    check_number,
    load,
    resolve_paths,
)
from lexiconlm.errors import LexiconLMError, MissingDependencyError
from lexiconlm.executors import map_jobs
from lexiconlm.files import atomic_write_text, hold_run_folder, holds_run_folder_locks
from lexiconlm.io.lexicons import read_lexicon, write_lexicon
from lexiconlm.io.locate import find_lexicons
from lexiconlm.languages import get_catalog
from lexiconlm.lexicon.align import (
    UNSPACED_SCRIPTS,
    align_eflomal,
    align_ibm1,
    alignment_tokens,
    dice_table,
    eflomal_available,
    segment_unspaced,
)
from lexiconlm.lexicon.parallel import (
    CORPORA,
    ParallelFile,
    ParallelUnit,
    find_parallel_files,
    parallel_units,
    select_units,
)
from lexiconlm.signature import Signature
from lexiconlm.types import LexiconEntry
from lexiconlm.unicode_scripts import dominant_script

__all__ = [
    "DEFAULTS",
    "ALIGNER_NAMES",
    "InduceConfig",
    "InducedLexicon",
    "load_induce_config",
    "induce_from_units",
    "induce_language",
    "induce_units",
    "language_units",
    "compose_pivot",
    "pivot_dictionary",
    "induce_all",
    "induced_path",
    "map_languages",
    "write_induced",
]

ALIGNER_NAMES = ("eflomal", "ibm1", "dice")
#: How a word's candidates are ordered (see :func:`induce_from_units`).
RANKS = ("links", "dice")

DEFAULTS: dict = {
    "corpora": {"udhr": None, "bible": None, "flores": None},
    "aligner": "eflomal",
    "units": "train",
    "heldout_share": 0.5,
    "prefix_len": 0,
    "top_k": 3,
    "min_links": 1,
    "min_prob": 0.1,
    "rank": "links",
    "segment": True,
    "bible_version": "web",
    "pivot": None,
    "pivot_lexicons": [],
    "out": "runs/lexicon/induced",
    "workers": 0,
}


@dataclass(frozen=True)
class InduceConfig:
    """Settings of an induction run (see ``configs/lexicon/induce.yaml``)."""

    corpora: Mapping[str, Path]
    aligner: str = "eflomal"
    units: str = "train"
    heldout_share: float = 0.5
    prefix_len: int = 0
    top_k: int = 3
    min_links: int = 1
    min_prob: float = 0.1
    rank: str = "links"
    segment: bool = True
    bible_version: str = "web"
    pivot: str | None = None
    pivot_lexicons: tuple[Path, ...] = ()
    out: Path = Path("runs/lexicon/induced")
    workers: int = 0

    def signature(self, iso: str, files: Sequence[ParallelFile]) -> Signature:
        """What an ``en_<iso>.tsv`` depends on: settings and the bytes of its input files."""
        h = hashlib.sha256()
        for f in sorted(files, key=lambda f: (f.corpus, f.path.name)):
            st = f.path.stat()
            h.update(f"{f.corpus}:{f.path.name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        return Signature.from_pairs(
            [
                ("induce", iso),
                ("aligner", f"{self.aligner}.v1"),
                ("units", f"{self.units}@{self.heldout_share:g}"),
                ("prefix", self.prefix_len),
                ("top", self.top_k),
                ("min_links", self.min_links),
                ("min_prob", f"{self.min_prob:g}"),
                *([("rank", self.rank)] if self.rank != "links" else []),
                *([("segment", "unigram.v1")] if self.segment else []),
                ("bible", self.bible_version),
                *([("pivot", self.pivot)] if self.pivot else []),
                ("corpora", "+".join(sorted({f.corpus for f in files}))),
                ("data", h.hexdigest()[:16]),
            ]
        )


def load_induce_config(
    config: Mapping | str | os.PathLike | None, overrides: Iterable[str] = (), *, base: str | os.PathLike | None = None
) -> InduceConfig:
    """Read and check an induction config (one :class:`~lexiconlm.errors.ConfigError` for every problem)."""
    raw = load(config, DEFAULTS, overrides=overrides, free=("corpora",), base=base, example="aligner=ibm1")
    v, p = raw.values, raw.problems
    corpora = dict(v.get("corpora") or {})
    for name in corpora:
        if name not in CORPORA:
            p.append(f"corpora.{name} -> unknown corpus; choose among {', '.join(CORPORA)}")
    corpora = {k: c for k, c in corpora.items() if c is not None and k in CORPORA}
    v["corpora"] = corpora
    resolve_paths(v, {f"corpora.{k}": "one" for k in corpora}, raw.base, p)
    resolve_paths(v, {"out": "one"}, raw.base, p, must_exist=False)
    resolve_paths(v, {"pivot_lexicons": "list"}, raw.base, p)
    if v["pivot"] is not None:
        try:
            v["pivot"] = get_catalog().lookup(str(v["pivot"])).iso639_3
        except LexiconLMError as exc:
            p.append(f"pivot -> {exc}")
        if not v["pivot_lexicons"]:
            p.append("pivot_lexicons -> name the dictionary folders of the pivot language (English -> pivot)")
    if not corpora:
        p.append("corpora -> name at least one folder (udhr, bible or flores)")
    check_choice(v["aligner"], "aligner", ALIGNER_NAMES, p)
    check_choice(v["units"], "units", ("train", "all"), p)
    check_number(v["heldout_share"], "heldout_share", p, low=0.0, high=1.0)
    check_int(v["prefix_len"], "prefix_len", p, minimum=0)
    check_int(v["top_k"], "top_k", p, minimum=1)
    check_int(v["min_links"], "min_links", p, minimum=1)
    check_number(v["min_prob"], "min_prob", p, low=0.0, high=1.0)
    check_choice(v["rank"], "rank", RANKS, p)
    check_bool(v["segment"], "segment", p)
    check_choice(v["bible_version"], "bible_version", ("web", "kjv"), p)
    check_int(v["workers"], "workers", p, minimum=0)
    raw.raise_problems()
    return InduceConfig(
        corpora=v["corpora"],
        aligner=v["aligner"],
        units=v["units"],
        heldout_share=float(v["heldout_share"]),
        prefix_len=int(v["prefix_len"]),
        top_k=int(v["top_k"]),
        min_links=int(v["min_links"]),
        min_prob=float(v["min_prob"]),
        rank=v["rank"],
        segment=bool(v["segment"]),
        bible_version=v["bible_version"],
        pivot=v["pivot"],
        pivot_lexicons=tuple(v["pivot_lexicons"]),
        out=Path(v["out"]),
        workers=int(v["workers"]),
    )


@dataclass
class InducedLexicon:
    """Induced entries of one language with what they came from."""

    iso639_3: str
    entries: list[LexiconEntry]
    links: list[int]
    source_freq: dict[str, int]
    n_units: int
    corpora: dict[str, int]
    script: str | None
    seconds: float = 0.0
    word_freq: dict[str, int] = field(default_factory=dict)

    def by_source(self) -> dict[str, list[LexiconEntry]]:
        out: dict[str, list[LexiconEntry]] = defaultdict(list)
        for e in self.entries:
            out[e.source].append(e)
        return out


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (eflomal runs as a child process)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _main_script_units(units: Sequence[ParallelUnit]) -> tuple[list[ParallelUnit], str | None]:
    """The units written in the language's main script (the script of most target characters)."""
    scripts = [dominant_script(u.target) for u in units]
    weight: Counter = Counter()
    for u, s in zip(units, scripts):
        if s:
            weight[s] += len(u.target)
    if not weight:
        return list(units), None
    main = weight.most_common(1)[0][0]
    return [u for u, s in zip(units, scripts) if s == main], main


def induce_from_units(
    units: Sequence[ParallelUnit],
    *,
    aligner: str = "eflomal",
    prefix_len: int = 0,
    top_k: int = 3,
    min_links: int = 1,
    min_prob: float = 0.1,
    rank: str = "links",
    segment: bool = True,
    iso639_3: str = "",
) -> InducedLexicon:
    """Entries English → target from aligned ``units`` (see the module doc for the rule).

    ``rank`` orders a word's candidates (and so picks its ``top_k``): ``links`` by link count,
    ``dice`` by ``2 links(s,t) / (links(s,·) + links(·,t))``, which pushes down target words
    linked to everything (function words, names). Weights are ``p(t|s)`` either way.
    With ``segment``, target text in a script written without spaces (Thai, Lao, Khmer,
    Myanmar, Tai Tham ...) is split into pieces learned from the units themselves
    (:func:`~lexiconlm.lexicon.align.segment_unspaced`) before alignment.
    """
    if rank not in RANKS:
        raise ValueError(f"unknown rank {rank!r}; choose among {', '.join(RANKS)}")
    if aligner not in ALIGNER_NAMES:
        raise ValueError(f"unknown aligner {aligner!r}; choose among {', '.join(ALIGNER_NAMES)}")
    start = _cpu_seconds()
    kept, script = _main_script_units(units)
    src = [alignment_tokens(u.source) for u in kept]
    tgt = [alignment_tokens(u.target) for u in kept]
    if segment and script in UNSPACED_SCRIPTS:
        tgt = segment_unspaced(tgt)
    freq = Counter(w for s in src for w in s)
    candidates: dict[str, list[tuple[str, float, int]]] = {}
    if aligner == "dice":
        for s, rows in dice_table(src, tgt).items():
            candidates[s] = rows
    else:
        fn = align_eflomal if aligner == "eflomal" else align_ibm1
        links = fn(src, tgt, prefix_len=prefix_len) if any(src) else [[] for _ in src]
        pair: Counter = Counter()
        for s, t, ln in zip(src, tgt, links):
            for i, j in ln:
                pair[(s[i], t[j])] += 1
        per_source: dict[str, list[tuple[str, int]]] = defaultdict(list)
        per_target: Counter = Counter()
        for (a, b), c in pair.items():
            per_source[a].append((b, c))
            per_target[b] += c
        for a, rows in per_source.items():
            total = sum(c for _, c in rows)
            if rank == "dice":
                key = lambda x, t=total: (-2.0 * x[2] / (t + per_target[x[0]]), -x[2], x[0])  # noqa: E731
            else:
                key = lambda x: (-x[2], -x[1], x[0])  # noqa: E731
            candidates[a] = sorted(((b, c / total, c) for b, c in rows), key=key)
    entries: list[LexiconEntry] = []
    n_links: list[int] = []
    for s in sorted(candidates, key=lambda w: (-freq[w], w)):
        for b, score, c in candidates[s][:top_k]:
            if c < min_links or score < min_prob:
                continue
            entries.append(LexiconEntry(s, b, None, round(float(score), 6)))
            n_links.append(int(c))
    return InducedLexicon(
        iso639_3=iso639_3,
        entries=entries,
        links=n_links,
        source_freq={e.source: freq[e.source] for e in entries},
        n_units=len(kept),
        corpora=dict(Counter(u.corpus for u in kept)),
        script=script,
        seconds=_cpu_seconds() - start,
        word_freq=dict(freq),
    )


def induced_path(out: str | os.PathLike, iso639_3: str) -> Path:
    """Where :func:`induce_all` writes a language's lexicon (``en_<iso>.tsv``)."""
    return Path(out) / f"en_{iso639_3}.tsv"


def language_units(
    iso: str,
    files: Sequence[ParallelFile],
    cfg: InduceConfig,
    all_files: Mapping[str, Sequence[ParallelFile]] | None = None,
) -> list[ParallelUnit]:
    """The units induction uses for ``iso``: English (or the pivot's text) paired with the
    language's files, restricted to the train half unless ``cfg.units`` is ``all``."""
    pivot_files = None
    if cfg.pivot:
        all_files = all_files if all_files is not None else find_parallel_files(cfg.corpora)
        pivot_files = list(all_files.get(cfg.pivot, ()))
        if not pivot_files:
            raise LexiconLMError(f"the pivot language {cfg.pivot} has no parallel text in the configured corpora")
    units = parallel_units(files, cfg.corpora, bible_version=cfg.bible_version, pivot_files=pivot_files)
    if cfg.units == "train":
        units = select_units(units, "train", cfg.heldout_share)
    return units


def pivot_dictionary(pivot: str, dirs: Sequence[Path]) -> dict[str, list[str]]:
    """English word -> its single-word translations into the pivot language (lower-cased, in file order)."""
    out: dict[str, list[str]] = defaultdict(list)
    for path in find_lexicons(pivot, list(dirs)):
        for e in read_lexicon(path, errors="collect").entries:
            s, t = e.source.strip().lower(), e.target.strip().lower()
            if s and t and " " not in s and " " not in t and t not in out[s]:
                out[s].append(t)
    if not out:
        raise LexiconLMError(f"no English -> {pivot} dictionary in {', '.join(str(d) for d in dirs)}")
    return dict(out)


def compose_pivot(
    pivot_lex: InducedLexicon, dictionary: Mapping[str, Sequence[str]], *, top_k: int = 3, min_prob: float = 0.1
) -> InducedLexicon:
    """English -> target from pivot -> target entries and an English -> pivot dictionary.

    ``score(t | e) = mean over the pivot translations p of e of p(t | p)``; the ``links`` of an
    entry are the links of its pivot entries, ``source_freq`` the summed frequency of e's pivot
    words in the units.
    """
    by_pivot: dict[str, list[tuple[str, float, int]]] = defaultdict(list)
    for e, n in zip(pivot_lex.entries, pivot_lex.links):
        by_pivot[e.source].append((e.target, float(e.weight or 0.0), n))
    entries: list[LexiconEntry] = []
    links: list[int] = []
    freq: dict[str, int] = {}
    for eng in sorted(dictionary):
        ps = [p for p in dictionary[eng] if p in by_pivot]
        if not ps:
            continue
        score: Counter = Counter()
        count: Counter = Counter()
        for p in ps:
            for t, w, n in by_pivot[p]:
                score[t] += w / len(dictionary[eng])
                count[t] += n
        ranked = sorted(score.items(), key=lambda kv: (-kv[1], -count[kv[0]], kv[0]))
        for t, w in ranked[:top_k]:
            if w < min_prob:
                continue
            entries.append(LexiconEntry(eng, t, None, round(w, 6)))
            links.append(int(count[t]))
            freq[eng] = sum(pivot_lex.word_freq.get(p, 0) for p in ps)
    word_freq = {eng: sum(pivot_lex.word_freq.get(p, 0) for p in dictionary[eng]) for eng in dictionary}
    return InducedLexicon(
        iso639_3=pivot_lex.iso639_3,
        entries=entries,
        links=links,
        source_freq=freq,
        n_units=pivot_lex.n_units,
        corpora=pivot_lex.corpora,
        script=pivot_lex.script,
        seconds=pivot_lex.seconds,
        word_freq={k: v for k, v in word_freq.items() if v},
    )


def induce_units(units: Sequence[ParallelUnit], cfg: InduceConfig, iso: str, **overrides) -> InducedLexicon:
    """:func:`induce_from_units` with ``cfg``'s settings (``overrides`` win); through the pivot when set."""
    settings = {
        "aligner": cfg.aligner,
        "prefix_len": cfg.prefix_len,
        "top_k": cfg.top_k,
        "min_links": cfg.min_links,
        "min_prob": cfg.min_prob,
        "rank": cfg.rank,
        "segment": cfg.segment,
    } | overrides
    if not cfg.pivot:
        return induce_from_units(units, iso639_3=iso, **settings)
    pivot_lex = induce_from_units(units, iso639_3=iso, **(settings | {"top_k": 5, "min_prob": 0.0}))
    return compose_pivot(
        pivot_lex,
        pivot_dictionary(cfg.pivot, cfg.pivot_lexicons),
        top_k=settings["top_k"],
        min_prob=settings["min_prob"],
    )


def induce_language(iso: str, files: Sequence[ParallelFile], cfg: InduceConfig) -> InducedLexicon:
    """Induce one language's lexicon from its parallel ``files`` with the settings of ``cfg``."""
    return induce_units(language_units(iso, files, cfg), cfg, iso)


def write_induced(lex: InducedLexicon, out: str | os.PathLike, signature: Signature | str) -> dict:
    """Write ``en_<iso>.tsv`` (entries, weight = p(t|s), links, source_freq) and ``en_<iso>.json``;
    returns what the JSON holds."""
    path = induced_path(out, lex.iso639_3)
    path.parent.mkdir(parents=True, exist_ok=True)
    if lex.entries:
        write_lexicon(
            lex.entries,
            path,
            columns={
                "links": lex.links,
                "source_freq": [lex.source_freq[e.source] for e in lex.entries],
                "provenance": ["induced"] * len(lex.entries),
            },
        )
    elif path.exists():
        path.unlink()
    meta = {
        "iso639_3": lex.iso639_3,
        "signature": str(signature),
        "entries": len(lex.entries),
        "sources": len({e.source for e in lex.entries}),
        "units": lex.n_units,
        "corpora": lex.corpora,
        "script": lex.script,
        "cpu_seconds": round(lex.seconds, 3),
        "file": path.name if lex.entries else None,
    }
    atomic_write_text(path.with_suffix(".json"), json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    return meta


def _done(out: Path, iso: str, signature: Signature) -> dict | None:
    meta_path = induced_path(out, iso).with_suffix(".json")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("signature") != str(signature):
        return None
    if meta.get("file") and not induced_path(out, iso).is_file():
        return None
    return meta


def _job(iso: str, files: Sequence[ParallelFile], cfg: InduceConfig, signature: str) -> dict:
    return write_induced(induce_language(iso, files, cfg), cfg.out, signature)


def map_languages(
    fn: Callable[..., Any],
    jobs: Sequence[tuple[str, tuple]],
    *,
    workers: int = 0,
    progress: Callable[[str], None] | None = None,
) -> Iterator[tuple[str, Any, BaseException | None]]:
    """``fn(*args)`` for each ``(iso, args)`` job on :func:`lexiconlm.executors.map_jobs`' process
    pool (``workers``: processes, 0 = the CPUs; one job or one worker runs here). Yields
    ``(iso, result, None)`` or ``(iso, None, error)`` as jobs finish, so one failing language
    does not stop the others; ``progress(iso)`` after each."""
    return map_jobs(fn, jobs, executor="process", workers=workers, progress=progress)


@holds_run_folder_locks
def induce_all(
    cfg: InduceConfig,
    langs: Sequence[str] | None = None,
    *,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[dict]:
    """Induce a lexicon for every language with parallel text (or those in ``langs``).

    Returns one dict per language (the contents of its ``en_<iso>.json``), in code order.
    Finished languages with the same signature are reused; a language that fails is reported
    with its error and the others go on (the error is raised at the end, naming them all).
    """
    if cfg.aligner == "eflomal" and not eflomal_available():
        raise MissingDependencyError("word alignment with eflomal (aligner: eflomal)", "align", "eflomal")
    files = find_parallel_files(cfg.corpora)
    if langs is not None:
        wanted = set(langs)
        unknown = sorted(wanted - set(files))
        if unknown:
            raise LexiconLMError(
                f"no parallel text for {', '.join(unknown[:10])}{' ...' if len(unknown) > 10 else ''} "
                f"in {', '.join(str(p) for p in cfg.corpora.values())}; "
                "`lexiconlm lexicon induce --list` shows the languages that have some"
            )
        files = {k: v for k, v in files.items() if k in wanted}
    hold_run_folder(cfg.out, "lexicon induce")
    results: dict[str, dict] = {}
    todo: list[tuple[str, str]] = []
    for iso, fs in files.items():
        sig = cfg.signature(iso, fs)
        meta = _done(cfg.out, iso, sig)
        if meta is not None:
            results[iso] = meta | {"reused": True}
        else:
            todo.append((iso, str(sig)))
    total, done = len(files), len(results)
    if progress:
        progress(done, total, "")
    failures: dict[str, str] = {}

    def step(iso: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total, iso)

    jobs = [(iso, (iso, files[iso], cfg, sig)) for iso, sig in todo]
    for iso, meta, error in map_languages(_job, jobs, workers=cfg.workers, progress=step):
        if error is None:
            results[iso] = meta
        else:
            failures[iso] = f"{type(error).__name__}: {error}"
    summary = [results[k] for k in sorted(results)]
    _write_summary(cfg.out, summary)
    if failures:
        lines = "\n".join(f"  {k}: {v}" for k, v in sorted(failures.items()))
        raise LexiconLMError(f"induction failed for {len(failures)} language(s) (the others are written):\n{lines}")
    return summary


def _write_summary(out: Path, rows: Sequence[dict]) -> Path:
    cols = ["iso639_3", "entries", "sources", "units", "script", "corpora", "cpu_seconds"]
    lines = [",".join(cols)]
    for r in rows:
        corpora = "+".join(f"{k}:{v}" for k, v in sorted((r.get("corpora") or {}).items()))
        lines.append(",".join(str(r.get(c, "")) if c != "corpora" else corpora for c in cols))
    return atomic_write_text(Path(out) / "summary.csv", "\n".join(lines) + "\n")
