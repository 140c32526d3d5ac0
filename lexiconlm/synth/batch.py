"""Batch synthesis: every language that has a lexicon, in parallel processes, resumable.

``lexiconlm synth batch --langs all --lexicon-dir DIR --source FILE --out OUT``
runs :func:`run_batch`: the source is tokenised once (:func:`encode_corpus`),
then each lexicon file is read, cleaned (:mod:`~lexiconlm.synth.hygiene`),
checked for direction and used to translate the whole source
(:func:`~lexiconlm.synth.pseudo_mono.translate_corpus`) in one of ``workers``
processes.

Per lexicon ``OUT/<lexicon folder>/<file stem>.txt`` holds the kept sentences,
``.kept`` the indices of the source lines they came from, and ``.json`` the
signature and the summary row; each is written atomically and the JSON last,
so a killed run never leaves a half-written output that counts as done. A
rerun skips every lexicon whose JSON carries the same job key (signature, the
lexicon's and the source's SHA-256, filters) and redoes the rest.

At the end ``OUT/summary.tsv`` and ``OUT/summary.json`` list one row per
lexicon (:data:`SUMMARY_COLUMNS`), the table the coverage app reads.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing as mp
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from lexiconlm.errors import LexiconLMError
from lexiconlm.files import atomic_write, atomic_write_text, file_sha256, hold_run_folder, holds_run_folder_locks
from lexiconlm.io.lexicons import iter_lexicon_files, read_lexicon
from lexiconlm.io.massive import read_massive
from lexiconlm.languages import get_catalog
from lexiconlm.signature import Signature, lexicon_id
from lexiconlm.synth.hygiene import HygieneConfig, check_direction
from lexiconlm.synth.pseudo_mono import check_filters, encode_corpus, read_source, translate_corpus
from lexiconlm.synth.translate import OOV_POLICIES, LexiconTranslator, resolve_sense

__all__ = [
    "SUMMARY_COLUMNS",
    "BatchConfig",
    "BatchResult",
    "english_source",
    "lexicon_files",
    "output_paths",
    "run_batch",
    "read_summary",
]

SUMMARY_COLUMNS = (
    "language",
    "language_name",
    "lexicon",
    "status",
    "entries",
    "entries_kept",
    "dropped_by_script",
    "target_script",
    "entries_used",
    "source_sentences",
    "source_words",
    "replaced_words",
    "coverage",
    "mean_ratio",
    "sentences_kept",
    "mean_ratio_kept",
    "direction",
    "output",
    "seconds",
    "signature",
)


@dataclass(frozen=True)
class BatchConfig:
    """Settings shared by every language of a batch (see :class:`LexiconTranslator`)."""

    sense: str = "random"
    oov: str = "keep"
    seed: int = 13
    hygiene: str = "script.v1"
    lowercase_lookup: bool = True
    max_ngram: int | None = None
    min_replaced: int = 0
    min_ratio: float = 0.0

    def __post_init__(self) -> None:
        check_filters(self.min_replaced, self.min_ratio)  # before any lexicon is read


@dataclass
class BatchResult:
    """Rows of the summary, and what this run did."""

    rows: list[dict]
    out_dir: Path
    n_done: int = 0
    n_skipped: int = 0
    n_failed: int = 0
    seconds: float = 0.0
    summary_tsv: Path | None = None
    summary_json: Path | None = None
    source_info: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- inputs


def english_source(data_dir: str | os.PathLike, n: int = 10_000) -> tuple[list[str], str]:
    """A ``n``-sentence English source built from the shared data folder.

    All of FLORES-200 dev ``text/flores200_dev/eng_Latn.dev`` (997 sentences), then
    MASSIVE ``nlu/massive/en-US/train.tsv`` utterances in file order (their plain
    text, slot brackets removed by the MASSIVE reader) until ``n`` sentences.

    Returns:
        ``(sentences, description)``.

    Raises:
        LexiconLMError: the files are missing or hold fewer than ``n`` sentences.
    """
    d = Path(data_dir)
    flores = d / "text" / "flores200_dev" / "eng_Latn.dev"
    massive = d / "nlu" / "massive" / "en-US" / "train.tsv"
    for p in (flores, massive):
        if not p.is_file():
            raise LexiconLMError(f"{p}: not found; give the shared data folder (…/shared/data)")
    texts = read_source(flores)
    n_flores = len(texts)
    for u in read_massive(massive):
        if len(texts) >= n:
            break
        if u.text.strip():
            texts.append(u.text.strip())
    if len(texts) < n:
        raise LexiconLMError(f"only {len(texts)} English sentences available, {n} asked for")
    texts = texts[:n]
    desc = (
        f"{n} English sentences: {min(n, n_flores)} from {flores.relative_to(d)} (all) + "
        f"{max(0, n - n_flores)} MASSIVE en-US train utterances ({massive.relative_to(d)}, first in file order)"
    )
    return texts, desc


def lexicon_files(dirs: Sequence[str | os.PathLike], langs: str | Sequence[str] = "all") -> list[Path]:
    """Lexicon files of the folders, optionally only those whose target is in ``langs``.

    Args:
        dirs: folders of lexicon files (see :func:`lexiconlm.io.lexicons.iter_lexicon_files`).
        langs: ``"all"``, or codes/names (``"ind,jav"``, ``["swahili"]``); a file counts
            when the language its name gives (looked up with the folder's context) is one
            of them.

    Raises:
        UnknownLanguageError: a requested language is not in the catalog.
        LexiconLMError: no file selected.
    """
    files: list[Path] = []
    for d in dirs:
        files.extend(iter_lexicon_files(d))
    if isinstance(langs, str):
        langs = [x.strip() for x in langs.split(",") if x.strip()]
    if not langs or list(langs) == ["all"]:
        if not files:
            raise LexiconLMError(f"no lexicon files in {', '.join(map(str, dirs))}")
        return files

    cat = get_catalog()
    wanted = {cat.lookup(q).iso639_3 for q in langs}
    out = [f for f in files if (_file_language(f) or "") in wanted]
    if not out:
        raise LexiconLMError(f"no lexicon for {', '.join(sorted(wanted))} in {', '.join(map(str, dirs))}")
    return out


def _file_language(path: Path) -> str | None:
    """ISO 639-3 code the file name gives (GATITOS ``en_<bcp47>.tsv``, Wiktionary ``<name>.txt``)."""
    name = path.name
    cat = get_catalog()
    if name.startswith("en_") and name.endswith(".tsv"):
        lang = cat.find(name[3:-4], context="gatitos")
    else:
        lang = cat.find(path.stem, context="wiktionary")
    return lang.iso639_3 if lang is not None else None


def output_paths(out_dir: Path, lexicon: Path) -> tuple[Path, Path, Path]:
    """``(text, kept indices, json)`` paths of one lexicon's output."""
    base = out_dir / (lexicon.parent.name or "lexicons") / lexicon.stem
    return base.with_suffix(".txt"), base.with_suffix(".kept"), base.with_suffix(".json")


def _signature(path: Path, cfg: BatchConfig) -> str:
    """What :attr:`LexiconTranslator.signature` gives for this file and config, without reading it."""
    pairs: list[tuple[str, object]] = [
        ("lex", lexicon_id(path)),
        ("sense", resolve_sense(cfg.sense)[0]),
        ("oov", cfg.oov),
        ("seed", cfg.seed),
        ("hyg", HygieneConfig(cfg.hygiene).name),
    ]
    if not cfg.lowercase_lookup:
        pairs.append(("case", "exact"))
    if cfg.max_ngram is not None:
        pairs.append(("ngram", cfg.max_ngram))
    return str(Signature.from_pairs(pairs))


def _job_key(path: Path, cfg: BatchConfig, source_sha: str) -> dict:
    return {
        "signature": _signature(path, cfg),
        "lexicon_sha256": file_sha256(path),
        "source_sha256": source_sha,
        "min_replaced": cfg.min_replaced,
        "min_ratio": cfg.min_ratio,
    }


def _is_done(path: Path, out_dir: Path, key: dict) -> dict | None:
    """The saved row when this lexicon's output exists with the same job key."""
    txt, kept, js = output_paths(out_dir, path)
    if not js.is_file():
        return None
    try:
        meta = json.loads(js.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("job") != key:
        return None
    if meta.get("row", {}).get("status") == "ok" and not (txt.is_file() and kept.is_file()):
        return None
    return meta.get("row")


# --------------------------------------------------------------------------- workers

_SHARED: dict = {}


def _init_worker(shared: dict | None) -> None:
    """Worker start: the encoded source arrives once (fork: inherited; spawn: pickled here)."""
    if shared is not None:
        _SHARED.update(shared)


def _run_one(args: tuple) -> dict:
    """Synthesize one language; errors become a row with ``status`` ``error: ...``."""
    path, cfg, out_dir, key = args
    t0 = time.perf_counter()
    row = {c: "" for c in SUMMARY_COLUMNS}
    row.update(lexicon=str(path), signature=key["signature"])
    txt, kept_path, js = output_paths(out_dir, path)
    try:
        row.update(_synthesize_one(path, cfg, txt, kept_path))
        row["status"] = "ok"
    except LexiconLMError as exc:
        row["status"] = "error: " + str(exc).splitlines()[0][:300]
    except (ValueError, OSError) as exc:
        row["status"] = f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
    row["seconds"] = round(time.perf_counter() - t0, 4)

    atomic_write_text(js, json.dumps({"job": key, "row": row}, ensure_ascii=False) + "\n")
    return row


def _synthesize_one(path: Path, cfg: BatchConfig, txt: Path, kept_path: Path) -> dict:
    corpus = _SHARED["corpus"]
    lex = read_lexicon(path, errors="collect")
    row: dict = {
        "language": lex.tgt.code,
        "language_name": lex.tgt.name,
        "entries": len(lex),
    }
    hyg = None if cfg.hygiene == "none" else HygieneConfig(cfg.hygiene)
    tr = LexiconTranslator(
        lex,
        sense=cfg.sense,
        oov=cfg.oov,
        seed=cfg.seed,
        lowercase_lookup=cfg.lowercase_lookup,
        max_ngram=cfg.max_ngram,
        hygiene=hyg,
    )
    rep = tr.hygiene_report
    row["entries_kept"] = rep.n_kept if rep else len(lex)
    row["dropped_by_script"] = (
        " ".join(f"{k}:{v}" for k, v in sorted(rep.dropped.items(), key=lambda kv: -kv[1])) if rep else ""
    )
    row["target_script"] = tr.target_script or ""
    check = check_direction(lex, _SHARED["vocab"])
    row["direction"] = "ok" if check.ok else "suspect: " + check.message.split(": ", 1)[-1][:200]
    res = translate_corpus(tr, corpus, min_replaced=cfg.min_replaced, min_ratio=cfg.min_ratio)
    s = res.stats
    with atomic_write(txt) as fh:
        fh.write(res.text)
    with atomic_write(kept_path) as fh:
        fh.write("\n".join(map(str, res.kept.tolist())) + ("\n" if res.kept.size else ""))
    row.update(
        entries_used=s.entries_used,
        source_sentences=s.n_sentences,
        source_words=s.n_words,
        replaced_words=s.n_replaced,
        coverage=round(s.coverage, 6),
        mean_ratio=round(s.mean_ratio, 6),
        sentences_kept=s.n_kept,
        mean_ratio_kept=round(s.mean_ratio_kept, 6),
        output=str(txt),
    )
    return row


# --------------------------------------------------------------------------- driver


@holds_run_folder_locks
def run_batch(
    lexicons: Sequence[str | os.PathLike],
    source: Sequence[str],
    out_dir: str | os.PathLike,
    *,
    config: BatchConfig | None = None,
    workers: int = 2,
    progress: bool = True,
    source_name: str = "",
    on_row: Callable[[dict], None] | None = None,
) -> BatchResult:
    """Synthesize a pseudo-monolingual corpus for every lexicon.

    Args:
        lexicons: lexicon files (e.g. :func:`lexicon_files`).
        source: source sentences (one per item, e.g. :func:`english_source`).
        out_dir: output folder (created); see the module docstring for its layout.
        config: shared settings.
        workers: processes (``0`` or ``1``: in this process).
        progress: show a progress bar (rich) on stderr.
        source_name: described in the summary.
        on_row: called with each finished row (in the parent process).

    Returns:
        :class:`BatchResult`; ``OUT/summary.tsv`` and ``OUT/summary.json`` written.

    Raises:
        LexiconLMError: no lexicons, or an empty source. A failing lexicon (empty,
            everything dropped by hygiene, unreadable) does not stop the batch: its
            row says ``error: ...`` and no output is written for it.

    Example:
        >>> texts, desc = english_source("../shared/data")  # doctest: +SKIP
        >>> run_batch(lexicon_files(["../shared/data/lexicons/wiktionary"]), texts, "runs/synth")  # doctest: +SKIP
    """
    cfg = config or BatchConfig()
    t0 = time.perf_counter()
    paths = [Path(p) for p in lexicons]
    if not paths:
        raise LexiconLMError("no lexicon files to synthesize from")
    texts = [t.strip() for t in source if t.strip()]
    if not texts:
        raise LexiconLMError("the source has no text")
    # validate the settings once, before any process starts

    resolve_sense(cfg.sense)
    HygieneConfig(cfg.hygiene)
    if cfg.oov not in OOV_POLICIES:
        raise LexiconLMError(f"unknown OOV policy {cfg.oov!r}; choose one of {', '.join(OOV_POLICIES)}")
    out = hold_run_folder(out_dir, "lexiconlm synth batch")  # one process at a time in OUT
    source_sha = hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()
    corpus = encode_corpus(texts, name=source_name)
    corpus.prepare()  # derived tables computed once, shared with the workers
    vocab = {w for w, ok in zip(corpus.lowered, corpus.is_word.tolist()) if ok}
    shared = {"corpus": corpus, "vocab": vocab}

    rows: dict[Path, dict] = {}
    todo: list[tuple] = []
    for p in paths:
        key = _job_key(p, cfg, source_sha)
        done = _is_done(p, out, key)
        if done is not None:
            rows[p] = done
        else:
            todo.append((p, cfg, out, key))
    n_skipped = len(rows)
    # largest first, so that the last jobs are short and the workers finish together
    todo.sort(key=lambda job: -job[0].stat().st_size)

    bar = _Progress(len(paths), n_skipped, enabled=progress)
    try:
        if workers <= 1 or len(todo) <= 1:
            _init_worker(shared)
            for job in todo:
                row = _run_one(job)
                rows[job[0]] = row
                bar.advance(row)
                if on_row:
                    on_row(row)
        else:
            methods = mp.get_all_start_methods()
            ctx = mp.get_context("fork" if "fork" in methods else "spawn")
            if ctx.get_start_method() == "fork":
                _SHARED.clear()
                _SHARED.update(shared)
                init_arg = None
            else:
                init_arg = shared
            with ctx.Pool(workers, initializer=_init_worker, initargs=(init_arg,)) as pool:
                for row in pool.imap_unordered(_run_one, todo, chunksize=1):
                    rows[Path(row["lexicon"])] = row
                    bar.advance(row)
                    if on_row:
                        on_row(row)
    finally:
        bar.close()
    ordered = [rows[p] for p in paths if p in rows]
    result = BatchResult(
        ordered,
        out,
        n_done=len(todo),
        n_skipped=n_skipped,
        n_failed=sum(1 for r in ordered if not str(r.get("status", "")).startswith("ok")),
        seconds=time.perf_counter() - t0,
        source_info={
            "name": source_name,
            "sentences": corpus.n_sentences,
            "tokens": corpus.n_tokens,
            "sha256": source_sha,
        },
    )
    result.summary_tsv, result.summary_json = _write_summary(result, cfg)
    return result


def batch_signature(cfg: BatchConfig, lexicon_dirs: Iterable[str]) -> str:
    """The settings of a whole batch as one line (the per-lexicon signatures add the file)."""
    pairs: list[tuple[str, object]] = [
        ("lex", "+".join(sorted(set(lexicon_dirs))) or "-"),
        ("sense", resolve_sense(cfg.sense)[0]),
        ("oov", cfg.oov),
        ("seed", cfg.seed),
        ("hyg", HygieneConfig(cfg.hygiene).name),
        ("min", f"{cfg.min_replaced}/{cfg.min_ratio:g}"),
    ]
    if not cfg.lowercase_lookup:
        pairs.append(("case", "exact"))
    if cfg.max_ngram is not None:
        pairs.append(("ngram", cfg.max_ngram))
    return str(Signature.from_pairs(pairs))


def _write_summary(result: BatchResult, cfg: BatchConfig) -> tuple[Path, Path]:
    """summary.tsv / summary.json, and run.json, metrics.json, per_language.csv for the app's Runs page."""
    lines = ["\t".join(SUMMARY_COLUMNS)]
    for r in result.rows:
        lines.append("\t".join(str(r.get(c, "")).replace("\t", " ").replace("\n", " ") for c in SUMMARY_COLUMNS))
    tsv = atomic_write_text(result.out_dir / "summary.tsv", "\n".join(lines) + "\n")
    meta = {
        "config": cfg.__dict__,
        "source": result.source_info,
        "lexicons": len(result.rows),
        "done_this_run": result.n_done,
        "skipped_this_run": result.n_skipped,
        "failed": result.n_failed,
        "seconds_this_run": round(result.seconds, 2),
        "rows": result.rows,
    }
    js = atomic_write_text(result.out_dir / "summary.json", json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(SUMMARY_COLUMNS)
    for r in result.rows:
        writer.writerow([r.get(c, "") for c in SUMMARY_COLUMNS])
    atomic_write_text(result.out_dir / "per_language.csv", buf.getvalue())
    ok = [r for r in result.rows if r.get("status") == "ok"]
    dirs = {Path(r["lexicon"]).parent.name for r in result.rows}
    run = {
        "kind": "synthesis",
        "name": f"pseudo-monolingual synthesis, {len(result.rows)} lexicons",
        "languages": sorted({r["language"] for r in ok if r.get("language")}),
        "config": {**cfg.__dict__, "source": result.source_info.get("name", "")},
        "signature": batch_signature(cfg, dirs),
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    atomic_write_text(result.out_dir / "run.json", json.dumps(run, ensure_ascii=False, indent=1) + "\n")

    def mean(key: str) -> float:
        vals = [float(r[key]) for r in ok if r.get(key) not in ("", None)]
        return round(sum(vals) / len(vals), 6) if vals else 0.0

    metrics = {
        "lexicons": len(result.rows),
        "ok": len(ok),
        "failed": result.n_failed,
        "mean_coverage": mean("coverage"),
        "mean_ratio": mean("mean_ratio"),
        "sentences_kept": sum(int(r.get("sentences_kept") or 0) for r in ok),
        "seconds_this_run": round(result.seconds, 2),
    }
    atomic_write_text(result.out_dir / "metrics.json", json.dumps(metrics, indent=1) + "\n")
    return tsv, js


def read_summary(path: str | os.PathLike) -> list[dict]:
    """Rows of a batch ``summary.tsv`` (numbers left as text), e.g. for the coverage app."""
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:] if line]


class _Progress:
    """A rich progress bar on stderr (or nothing)."""

    def __init__(self, total: int, done: int, enabled: bool):
        self._p = None
        if not enabled:
            return

        self._p = Progress(
            TextColumn("synth"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[last]}"),
            console=Console(stderr=True),
            transient=False,
        )
        self._p.start()
        self._task = self._p.add_task("synth", total=total, completed=done, last="")

    def advance(self, row: dict) -> None:
        if self._p is not None:
            self._p.update(self._task, advance=1, last=f"{row.get('language', '')} {row.get('status', '')[:40]}")

    def close(self) -> None:
        if self._p is not None:
            self._p.stop()
