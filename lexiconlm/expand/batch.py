"""``lexiconlm expand --langs ...``: many languages in one batch, on a process pool or on Ray.

Each language is one job: :func:`run_one` runs (or resumes) :func:`lexiconlm.expand.pipeline.run_language`
in its own run folder ``<out>/<iso>-<config name>``, with its progress written to that folder's
``expand.log``, and returns the language's row of the batch summary. Jobs go through
:func:`lexiconlm.executors.map_jobs`: a local process pool by default (as many workers as the
cores allow at ``threads`` threads each), ``serial``, or ``ray`` (``address``: a running
cluster, ``auto`` for the one ``ray start`` made, none for a local one), which retries a job
whose worker died. A language already finished with the same configuration is reused from
its run folder's cache, so a killed batch picks up where it stopped. One language failing does
not stop the others: its row says ``failed`` with the error.

The summary (``<out>/summary.csv`` and ``summary.md``, rewritten as languages finish) has one
row per language with its family, genus and script, and every figure measured both with the
base and the expanded model (``<metric>_base``, ``<metric>_expanded``, ``<metric>_diff``),
means by family and script, and the languages where expansion hurt.

Example:
    >>> from lexiconlm.expand.batch import run_batch, select_languages  # doctest: +SKIP
    >>> cfg = load_config("configs/expand/survey.yaml")                  # doctest: +SKIP
    >>> rows = run_batch(cfg, select_languages(cfg, "all", script="Latn"), out="runs/expand/survey")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from lexiconlm.errors import ConfigError
from lexiconlm.executors import map_jobs
from lexiconlm.expand.config import ExpandConfig, check_inputs, check_languages, language_inputs, parallel_files
from lexiconlm.expand.pipeline import run_language
from lexiconlm.expand.report import improved, markdown_table
from lexiconlm.files import atomic_write_text
from lexiconlm.io.locate import _resolve as _lexicon_file_language
from lexiconlm.io.locate import scan_lexicon_dir
from lexiconlm.languages import get_catalog

__all__ = ["SUMMARY_METRICS", "batch_row", "run_batch", "run_one", "select_languages", "write_summary"]

#: (column stem, section of metrics.json, key, model keys (base, expanded), higher is better, decimals)
SUMMARY_METRICS = (
    ("retrieval_top1", "retrieval", "top1", ("base", "adapted"), True, 2),
    ("retrieval_top10", "retrieval", "top10", ("base", "adapted"), True, 2),
    ("fertility", "tokenizer", "fertility", ("base", "adapted"), False, 3),
    ("unk_rate", "tokenizer", "unk_rate", ("base", "adapted"), False, 4),
)
_NLU_METRICS = (("intent_accuracy", True), ("slot_f1", True))


# --------------------------------------------------------------------------- languages


def lexicon_languages(cfg: ExpandConfig) -> list[str]:
    """ISO 639-3 codes of every language with a lexicon in ``data.lexicons``."""
    codes: set[str] = set()
    for p in cfg.get("data.lexicons"):
        p = Path(p)
        if p.is_dir():
            codes.update(f.language.iso639_3 for f in scan_lexicon_dir(p) if f.language and f.language.iso639_3)
        elif p.is_file():
            hit = _lexicon_file_language(p.name)
            if hit is not None and hit[1]:
                codes.add(hit[1])
    codes.discard("eng")
    return sorted(codes)


def select_languages(
    cfg: ExpandConfig,
    spec: str | Sequence[str] | None,
    *,
    family: str | None = None,
    script: str | None = None,
    sample: int | None = None,
    seed: int = 13,
    require: str | None = None,
) -> list[str]:
    """The languages of a batch.

    Args:
        cfg: the configuration (``all`` means every language with a lexicon in ``data.lexicons``).
        spec: ``all``, comma-separated codes or names, ``@file`` (one code per line, ``#`` comments),
            or a list of those; ``None``: the config's ``languages``.
        family: keep languages whose family or genus is this (comma-separated, case-insensitive).
        script: keep languages whose main script is this ISO 15924 code (comma-separated).
        sample: keep this many, chosen by a seeded hash of the code (a stable sample).
        require: keep languages that have ``parallel`` text in ``data.parallel`` or a MASSIVE
            ``test`` set in ``data.massive_test`` (comma-separated: both).

    Raises:
        ConfigError: an unknown code, an unreadable file, or nothing left to run.
    """
    items: list[str] = []
    for part in [spec] if isinstance(spec, str) or spec is None else list(spec):
        if part is None:
            items += list(cfg.values["languages"])
            continue
        for x in str(part).split(","):
            x = x.strip()
            if not x:
                continue
            if x == "all":
                items += lexicon_languages(cfg)
            elif x.startswith("@"):
                path = Path(x[1:])
                try:
                    lines = path.read_text(encoding="utf-8").splitlines()
                except OSError as exc:
                    raise ConfigError([f"--langs {x} -> cannot read {path}: {exc.strerror}"]) from None
                items += [ln.split("#", 1)[0].strip() for ln in lines if ln.split("#", 1)[0].strip()]
            else:
                items.append(x)
    problems: list[str] = []
    langs = check_languages(items, problems, where="--langs")
    if problems:
        raise ConfigError(problems)
    codes = list(dict.fromkeys(lang.iso639_3 for lang in langs))
    cat = get_catalog()
    if family:
        wanted = {f.strip().casefold() for f in family.split(",") if f.strip()}
        codes = [c for c in codes if {cat.get(c).family.casefold(), cat.get(c).genus.casefold()} & wanted]
    if script:
        wanted = {s.strip() for s in script.split(",") if s.strip()}
        codes = [c for c in codes if cat.get(c).scripts and cat.get(c).scripts[0] in wanted]
    for need in [x.strip() for x in (require or "").split(",") if x.strip()]:
        if need == "parallel":
            have = set(parallel_files(cfg))
            codes = [c for c in codes if c in have]
        elif need == "test":
            codes = [c for c in codes if _has_test(cfg, c)]
        else:
            raise ConfigError([f"--require -> expected parallel or test, got {need!r}"])
    if sample and len(codes) > sample:
        ranked = sorted(codes, key=lambda c: hashlib.sha256(f"{seed}\x00{c}".encode()).digest())
        keep = set(ranked[:sample])
        codes = [c for c in codes if c in keep]
    if not codes:
        raise ConfigError(["no language left to run (check --langs, --family, --script, --require)"])
    return codes


def _has_test(cfg: ExpandConfig, code: str) -> bool:
    try:
        return bool(language_inputs(cfg, code).massive_test)
    except ConfigError:
        return False


# --------------------------------------------------------------------------- one job


def run_one(cfg: ExpandConfig, language: str, run_dir: str, steps: Sequence[str] | None, force: bool) -> dict:
    """Run one language of a batch (a job of :func:`run_batch`; runs in a worker process).

    The language's progress and library messages go to ``<run_dir>/expand.log``. Returns its
    summary row (:func:`batch_row`).
    """
    out = Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with open(out / "expand.log", "a", encoding="utf-8") as log:
        log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} lexiconlm expand --lang {language} ({cfg.name})\n")
        log.flush()
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            res = run_language(cfg, language, out=out, steps=steps, force=force, progress=True)
    row = batch_row(out)
    row["seconds"] = round(time.perf_counter() - t0, 1)
    row["cached"] = not res.ran
    return row


def batch_row(run_dir: str | os.PathLike) -> dict:
    """A language's row of the summary from its run folder's ``metrics.json``."""
    d = Path(run_dir)
    m = json.loads((d / "metrics.json").read_text(encoding="utf-8"))
    lang = get_catalog().get(m["language"])
    row: dict = {
        "language": m["language"],
        "name": lang.name,
        "family": lang.family,
        "genus": lang.genus,
        "script": lang.scripts[0] if lang.scripts else "",
        "status": "ok",
        "lexicon_entries": m.get("data", {}).get("lexicon_entries"),
        "new_tokens": m.get("adaptation", {}).get("new_tokens"),
        "pool": (m.get("retrieval", {}).get("base") or {}).get("pool"),
        "corpora": (m.get("retrieval", {}).get("base") or {}).get("corpora", ""),
    }
    for stem, section, key, (b, e), _higher, nd in SUMMARY_METRICS:
        sec = m.get(section) or {}
        vb, ve = (sec.get(b) or {}).get(key), (sec.get(e) or {}).get(key)
        row[f"{stem}_base"] = None if vb is None else round(vb, nd)
        row[f"{stem}_expanded"] = None if ve is None else round(ve, nd)
        row[f"{stem}_diff"] = None if vb is None or ve is None else round(ve - vb, nd)
    nlu, base = m.get("nlu") or {}, m.get("nlu_base") or {}
    loc = next(iter(nlu), None)
    row["locale"] = loc or ""
    for key, _higher in _NLU_METRICS:
        ve = (nlu.get(loc) or {}).get(key) if loc else None
        vb = (base.get(loc) or {}).get(key) if loc else None
        row[f"{key}_base"] = None if vb is None else round(vb, 2)
        row[f"{key}_expanded"] = None if ve is None else round(ve, 2)
        row[f"{key}_diff"] = None if vb is None or ve is None else round(ve - vb, 2)
    steps = d / "steps.csv"
    if steps.is_file():
        with open(steps, encoding="utf-8") as fh:
            times = {r["step"]: float(r["seconds"]) for r in csv.DictReader(fh)}
        row["adapt_seconds"] = times.get("adapt")
        row["run_seconds"] = times.get("total")
    return row


# --------------------------------------------------------------------------- the batch


def run_batch(
    cfg: ExpandConfig,
    languages: Sequence[str],
    *,
    out: str | os.PathLike | None = None,
    steps: Sequence[str] | None = None,
    force: bool = False,
    executor: str = "process",
    workers: int = 0,
    threads: int = 1,
    address: str | None = None,
    retries: int = 1,
    progress: bool = True,
) -> list[dict]:
    """Run every language of ``languages`` (see the module docstring); returns the summary rows.

    Args:
        cfg: a validated configuration.
        languages: ISO 639-3 codes (:func:`select_languages`).
        out: the batch folder: ``<out>/<iso>-<name>`` run folders and the summary (default
            ``runs/expand/<config name>``).
        executor, workers, threads, address, retries: see :func:`lexiconlm.executors.map_jobs`.

    Raises:
        ConfigError: a language has no lexicon in ``data.lexicons`` (every one named, before any work).
    """
    root = Path(out) if out is not None else Path("runs/expand") / cfg.name
    root.mkdir(parents=True, exist_ok=True)
    check_inputs(cfg, languages)
    jobs = [(iso, (cfg, iso, str(root / f"{iso}-{cfg.name}"), steps, force)) for iso in languages]
    rows: dict[str, dict] = {}
    t0 = time.perf_counter()
    bar = None
    if progress:
        bar = tqdm(total=len(jobs), desc=f"expand {cfg.name}", unit="language", dynamic_ncols=True)
    for iso, row, error in map_jobs(
        run_one, jobs, executor=executor, workers=workers, threads=threads, address=address, retries=retries
    ):
        if error is not None:
            lang = get_catalog().get(iso)
            row = {
                "language": iso,
                "name": lang.name,
                "family": lang.family,
                "genus": lang.genus,
                "script": lang.scripts[0] if lang.scripts else "",
                "status": "failed",
                "error": f"{type(error).__name__}: {error}".splitlines()[0][:300],
            }
        rows[iso] = row
        write_summary(list(rows.values()), root, cfg=cfg, wall_seconds=time.perf_counter() - t0, executor=executor)
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"{iso} {row['status']}", refresh=True)
    if bar is not None:
        bar.close()
    ordered = [rows[iso] for iso in languages if iso in rows]
    # the summary covers every language of the folder: earlier batches' languages too
    earlier = []
    for d in sorted(root.glob(f"*-{cfg.name}")):
        iso = d.name[: -len(cfg.name) - 1]
        if iso not in rows and (d / "metrics.json").is_file():
            earlier.append(batch_row(d))
    write_summary(ordered + earlier, root, cfg=cfg, wall_seconds=time.perf_counter() - t0, executor=executor)
    return ordered


def _mean(values: list) -> float | None:
    vals = [float(v) for v in values if v is not None and v != ""]
    return round(statistics.fmean(vals), 2) if vals else None


def _metric_stems() -> list[tuple[str, bool]]:
    return [(s, h) for s, _sec, _k, _m, h, _nd in SUMMARY_METRICS] + list(_NLU_METRICS)


def _group_means(rows: list[dict], by: str) -> list[dict]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r.get(by) or "(none)"].append(r)
    out = []
    for g, rs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        row = {by: g, "languages": len(rs)}
        for stem, _higher in _metric_stems():
            if any(r.get(f"{stem}_base") is not None for r in rs):
                row[f"{stem}_base"] = _mean([r.get(f"{stem}_base") for r in rs])
                row[f"{stem}_expanded"] = _mean([r.get(f"{stem}_expanded") for r in rs])
                row[f"{stem}_diff"] = _mean([r.get(f"{stem}_diff") for r in rs])
        out.append(row)
    return out


def hurt(rows: list[dict], stem: str = "retrieval_top1") -> list[dict]:
    """Languages whose expanded model is worse than the base on ``stem`` (worst first)."""
    higher = dict(_metric_stems())[stem]

    def worse(r: dict) -> bool:
        d = r.get(f"{stem}_diff")
        return d not in (None, "") and improved({"difference": float(d), "higher_is_better": higher}) is False

    return sorted(filter(worse, rows), key=lambda r: float(r[f"{stem}_diff"]) * (1 if higher else -1))


def _columns(rows: list[dict]) -> list[str]:
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    return cols


def write_summary(
    rows: list[dict],
    out: str | os.PathLike,
    *,
    cfg: ExpandConfig | None = None,
    wall_seconds: float = 0.0,
    executor: str = "",
) -> Path:
    """``summary.csv`` (one row per language) and ``summary.md`` in ``out``; returns the .md path."""
    out = Path(out)
    cols = _columns(rows)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: "" if r.get(k) is None else r.get(k) for k in cols})
    atomic_write_text(out / "summary.csv", buf.getvalue())
    ok = [r for r in rows if r.get("status") == "ok"]
    failed = [r for r in rows if r.get("status") != "ok"]
    overall = _group_means([{**r, "all": "all"} for r in ok], "all")
    secs = [r.get("run_seconds") for r in ok if r.get("run_seconds") is not None and not r.get("cached")]
    lines = [
        f"# lexiconlm expand batch: {cfg.name if cfg else ''}",
        "",
        f"{len(ok)} language(s) done, {len(failed)} failed; wall time {wall_seconds / 60:.1f} min"
        + (f" ({executor})" if executor else "")
        + (f"; {statistics.fmean(secs):.0f} s per language run here (mean)" if secs else "")
        + ".",
        "",
        "Every figure with the base and the expanded model: retrieval = parallel-sentence retrieval "
        "top-1/top-10 (mean of English->target and target->English) on the held-out half of the "
        "language's parallel units (`pool` candidates); fertility and UNK rate on held-out real text "
        "(lower is better); intent accuracy and slot F1 on MASSIVE where a test set exists.",
        "",
        "## Mean over languages",
        "",
        markdown_table(overall),
        "",
        "## By script",
        "",
        markdown_table(_group_means(ok, "script")),
        "",
        "## By family",
        "",
        markdown_table(_group_means(ok, "family")),
        "",
    ]
    worse = hurt(ok)
    lines += [f"## Where expansion hurt retrieval ({len(worse)} of {len(ok)})", ""]
    if worse:
        keep = ("language", "name", "family", "script", "lexicon_entries", "pool", "corpora")
        lines += [
            markdown_table(
                [
                    {
                        **{k: r.get(k) for k in keep},
                        "top1_base": r.get("retrieval_top1_base"),
                        "top1_expanded": r.get("retrieval_top1_expanded"),
                        "diff": r.get("retrieval_top1_diff"),
                        "fertility_diff": r.get("fertility_diff"),
                    }
                    for r in worse
                ]
            ),
            "",
        ]
    else:
        lines += ["None.", ""]
    if failed:
        lines += [
            "## Failed",
            "",
            markdown_table([{k: r.get(k) for k in ("language", "name", "error")} for r in failed]),
            "",
        ]
    lines += ["## Per language", "", markdown_table(ok), ""]
    return atomic_write_text(out / "summary.md", "\n".join(lines))
