"""Run a SIGMORPHON edition end to end: train, predict, score, tabulate next to the official baselines.

:func:`run` finds every setting of an edition in the data folder (:func:`discover`),
trains the chosen system (``affix``: the prefix/suffix-rule baseline, in the variant of the
edition's official script unless one is named; ``neural``: the transformer of
:mod:`lexiconlm.inflection.neural`; ``transducer``: the hard-attention edit-action transducer of
:mod:`lexiconlm.inflection.transducer`, one model per setting), writes predictions for the
dev file and the test file (gold or covered) in the official format, scores dev
(and test where the gold forms are in the data) with the official metrics, and
writes a per-setting table (CSV and Markdown) beside the official baseline figures
found in the data folder:

* 2022: ``baseline_results/part1_{nonneural,neural}_dev.txt`` (per setting; the
  2022 breakdown ``both / lemma / feats / unseen`` is computed for every setting);
* 2021: ``baseline_accuracy_computed.tsv`` (test accuracy of the four neural
  baselines, per language).

Run folder (``out_dir``, default ``runs/sigmorphon``)::

    <edition>/<system>/settings/<setting>/dev.pred    predictions, official columns, input order
                                         /test.pred
                                         /scores.json  written last: a setting with it is finished
                                         /model.json   what `lexiconlm sigmorphon predict --model` loads
    <edition>/<system>/models/<group>/                 neural models (checkpoints, resumable)
    <edition>/transducer/models/<setting>/             transducer models (checkpoints, resumable)
    <edition>/<system>/results.csv, results.md         the table

A second call skips finished settings (same system signature) and resumes
unfinished neural training from its checkpoint.

Settings and their files:

========  ==========================  ==============  =================================
edition   setting names               train           dev / test
========  ==========================  ==============  =================================
2020      ``xxx``                     ``xxx.trn``     ``xxx.dev`` / ``xxx.tst`` (gold)
2021      ``xxx``                     ``xxx.train``   ``xxx.dev`` / ``xxx.test.gold``
2022      ``xxx_small``, ``xxx_large`` ``xxx_<size>.train`` ``xxx.dev`` / ``xxx.test`` (covered)
2023      ``xxx``                     ``xxx.trn``     ``xxx.dev`` / ``xxx.tst`` (covered or gold)
========  ==========================  ==============  =================================

Why one module of about 920 lines: one edition run (discover, train, predict, score, tables) per
system; the systems themselves live in affix, neural and transducer.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import json
import multiprocessing
import os
import platform
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from lexiconlm import __version__
from lexiconlm.config import read_config
from lexiconlm.devices import resolve_device
from lexiconlm.errors import ConfigError, DataFormatError
from lexiconlm.executors import die_with_parent
from lexiconlm.files import atomic_write_text, hold_run_folder, holds_run_folder_locks
from lexiconlm.inflection import neural
from lexiconlm.inflection.affix import AffixBaseline, variant_for_edition
from lexiconlm.inflection.hallucinate import HallucinationStats, hallucinate
from lexiconlm.inflection.metrics import (
    InflectionScores,
    evaluate,
    evaluate_2022,
    micro_average,
    read_baseline_accuracy_tsv,
    read_baseline_table,
)
from lexiconlm.inflection.neural import NeuralInflector
from lexiconlm.io.sigmorphon import read_sigmorphon, write_sigmorphon
from lexiconlm.leakage import LeakageGuard
from lexiconlm.types import InflectionEntry

__all__ = [
    "EDITION_FILES",
    "SYSTEMS",
    "RunSummary",
    "Setting",
    "default_data_dir",
    "discover",
    "predict_file",
    "run",
    "select_best",
]

SYSTEMS = ("affix", "neural", "transducer", "auto")
#: The systems ``auto`` chooses from (``neural`` only when the device is a GPU).
CANDIDATES = ("affix", "transducer", "neural")

#: Per edition: (train suffix, dev suffix, test suffixes in order of preference).
EDITION_FILES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "2020": (".trn", ".dev", (".tst",)),
    "2021": (".train", ".dev", (".test.gold", ".test")),
    "2022": ("_{size}.train", ".dev", (".gold", ".test")),
    "2023": (".trn", ".dev", (".tst", ".covered.tst")),
}
EDITION_FOLDERS = {"2020": "2020_task0", "2021": "2021_task0", "2022": "2022_part1", "2023": "2023_part1"}


def default_data_dir() -> Path | None:
    """``$LEXICONLM_SHARED_DATA/sigmorphon``, else ``../shared/data/sigmorphon`` beside the repository."""
    env = os.environ.get("LEXICONLM_SHARED_DATA")
    candidates = [Path(env) / "sigmorphon"] if env else []
    candidates.append(Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sigmorphon")
    candidates.append(Path.cwd().parent / "shared" / "data" / "sigmorphon")
    for c in candidates:
        if c.is_dir():
            return c
    return None


@dataclass(frozen=True)
class Setting:
    """One evaluation setting: a language (and for 2022 a training size) with its files."""

    edition: str
    name: str
    code: str
    train: str
    dev: str | None
    test: str | None
    size: str = ""

    @property
    def test_name(self) -> str:
        """The file name the committed test predictions use: ``<lang>[_<size>].pred``."""
        return f"{self.name}.pred"


def _edition_dir(edition: str, data_dir: str | os.PathLike | None) -> Path:
    base = Path(data_dir) if data_dir else default_data_dir()
    if base is None:
        raise ConfigError(["data -> no data folder: pass --data DIR (the sigmorphon folder or the edition's)"])
    if (base / EDITION_FOLDERS[edition]).is_dir():
        return base / EDITION_FOLDERS[edition]
    return base


def discover(
    edition: str, data_dir: str | os.PathLike | None = None, langs: str | Sequence[str] = "all"
) -> list[Setting]:
    """Every setting of ``edition`` in the data folder, sorted by name.

    Args:
        edition: ``2020``, ``2021``, ``2022`` or ``2023``.
        data_dir: the ``sigmorphon`` folder (holding ``2022_part1/`` ...) or the edition's folder.
        langs: ``"all"``, or codes / setting names (``hun``, ``hun_small``), a list or comma-separated.

    Raises:
        ConfigError: unknown edition, missing folder, or a requested language that is not there
            (with the available ones).
    """
    edition = str(edition)
    if edition not in EDITION_FILES:
        raise ConfigError([f"edition -> must be one of {', '.join(EDITION_FILES)}, got {edition!r}"])
    folder = _edition_dir(edition, data_dir)
    if not folder.is_dir():
        raise ConfigError([f"data -> {folder} is not a folder"])
    train_suffix, dev_suffix, test_suffixes = EDITION_FILES[edition]
    out: list[Setting] = []
    sizes = ("small", "large") if edition == "2022" else ("",)
    for size in sizes:
        suffix = train_suffix.format(size=size)
        for f in sorted(folder.glob(f"*{suffix}")):
            code = f.name[: -len(suffix)]
            if "." in code or (edition == "2022" and "_" in code and code.endswith(("_small", "_large"))):
                continue
            dev = folder / f"{code}{dev_suffix}"
            test = next((folder / f"{code}{s}" for s in test_suffixes if (folder / f"{code}{s}").is_file()), None)
            out.append(
                Setting(
                    edition,
                    f"{code}_{size}" if size else code,
                    code,
                    str(f),
                    str(dev) if dev.is_file() else None,
                    str(test) if test else None,
                    size,
                )
            )
    out.sort(key=lambda s: s.name)
    if not out:
        raise ConfigError([f"data -> no {edition} training files (*{train_suffix.format(size='small')}) in {folder}"])
    if isinstance(langs, str):
        wanted = [x.strip() for x in langs.split(",") if x.strip()]
    else:
        wanted = list(langs)
    if wanted and wanted != ["all"]:
        picked, problems = [], []
        for w in wanted:
            hit = [s for s in out if s.name == w or s.code == w]
            if not hit:
                names = sorted({s.code for s in out} | {s.name for s in out})
                close = difflib.get_close_matches(w, names, n=3)
                problems.append(
                    f"langs -> {w!r} is not in {folder}" + (f"; did you mean {', '.join(close)}?" if close else "")
                )
            picked += [s for s in hit if s not in picked]
        if problems:
            raise ConfigError(problems)
        out = sorted(picked, key=lambda s: s.name)
    return out


# --------------------------------------------------------------------------- official figures


def official_baselines(edition: str, data_dir: str | os.PathLike | None) -> dict[str, dict[str, float]]:
    """``{setting: {column: accuracy}}`` of the official baseline figures staged with the data."""
    folder = _edition_dir(edition, data_dir)
    out: dict[str, dict[str, float]] = {}
    if edition == "2022":
        for kind in ("nonneural", "neural"):
            for split in ("dev", "test"):
                f = folder / "baseline_results" / f"part1_{kind}_{split}.txt"
                if f.is_file():
                    for name, row in read_baseline_table(f).items():
                        out.setdefault(name, {})[f"official_{kind}_{split}"] = float(row["all acc"])
    elif edition == "2021":
        f = folder / "baseline_accuracy_computed.tsv"
        if f.is_file():
            for lang, row in read_baseline_accuracy_tsv(f).items():
                out[lang] = {f"test_{k}": float(v) for k, v in row.items() if not k.startswith("n_")}
    return out


# --------------------------------------------------------------------------- systems


def _read(path: str | None, edition: str):
    return None if path is None else read_sigmorphon(path, edition=edition)


def _scores_dict(s) -> dict[str, Any]:
    return {
        "accuracy": round(s.accuracy, 3),
        "levenshtein": round(s.levenshtein, 4),
        "n": s.n,
        "n_correct": s.n_correct,
        "distance": s.distance,
        "n_missing": s.n_missing,
    }


def _score_setting(setting: Setting, train, dev, test, dev_forms, test_forms) -> dict[str, Any]:
    res: dict[str, Any] = {}
    if dev is not None and not dev.covered:
        if setting.edition == "2022":
            res["dev"] = {k: _scores_dict(v) for k, v in evaluate_2022(dev.entries, dev_forms, train.entries).items()}
        else:
            res["dev"] = {"all": _scores_dict(evaluate(dev.entries, dev_forms))}
    if test is not None and not test.covered and test_forms is not None:
        if setting.edition == "2022":
            res["test"] = {
                k: _scores_dict(v) for k, v in evaluate_2022(test.entries, test_forms, train.entries).items()
            }
        else:
            res["test"] = {"all": _scores_dict(evaluate(test.entries, test_forms))}
    return res


def _write_preds(entries: Sequence[InflectionEntry], forms: Sequence[str], path: Path, edition: str) -> None:
    write_sigmorphon([InflectionEntry(e.lemma, f, e.features) for e, f in zip(entries, forms)], path, edition=edition)


def _predict_write_score(s: Setting, sdir: Path, predict: Callable, train, dev, test) -> dict[str, Any]:
    """Predict dev and test with ``predict(entries) -> forms``, write both in the official format,
    score them: the common end of every system's setting."""
    dev_forms = predict(dev.entries) if dev is not None else None
    test_forms = predict(test.entries) if test is not None else None
    if dev is not None:
        _write_preds(dev.entries, dev_forms, sdir / "dev.pred", s.edition)
    if test is not None:
        _write_preds(test.entries, test_forms, sdir / "test.pred", s.edition)
    return _score_setting(s, train, dev, test, dev_forms, test_forms)


@dataclass
class RunSummary:
    """What :func:`run` produced: one row per setting, the summary rows and the table files."""

    edition: str
    system: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    summary: list[dict[str, Any]] = field(default_factory=list)
    csv: str = ""
    markdown: str = ""
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _finish_setting(
    sdir: Path,
    setting: Setting,
    system_sig: str,
    scores: dict,
    seconds: float,
    model: dict,
    cpu_seconds: float | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    atomic_write_text(sdir / "model.json", json.dumps(model, indent=1, ensure_ascii=False) + "\n")
    record = {"setting": asdict(setting), "signature": system_sig, "scores": scores, "seconds": round(seconds, 3)}
    if cpu_seconds is not None:
        record["cpu_seconds"] = round(cpu_seconds, 2)
    record.update(extra or {})
    atomic_write_text(sdir / "scores.json", json.dumps(record, indent=1, ensure_ascii=False) + "\n")


def _is_done(sdir: Path, sig: str) -> bool:
    f = sdir / "scores.json"
    if not f.is_file():
        return False
    try:
        return json.loads(f.read_text(encoding="utf-8")).get("signature") == sig
    except (OSError, json.JSONDecodeError):
        return False


def _run_affix(
    settings, root: Path, variant: str | None, resume: bool, progress: bool, log: Callable[[str], None]
) -> list[str]:
    skipped = []
    bar = _bar(settings, progress, "affix")
    for s in bar:
        _bar_label(bar, s.name)
        sdir = root / "settings" / s.name
        name = variant or variant_for_edition(s.edition)
        sig = AffixBaseline(name).signature
        if resume and _is_done(sdir, sig):
            skipped.append(s.name)
            continue
        t0, c0 = time.perf_counter(), time.process_time()
        train, dev, test = _read(s.train, s.edition), _read(s.dev, s.edition), _read(s.test, s.edition)
        model = AffixBaseline(name).fit(train.entries)
        scores = _predict_write_score(s, sdir, model.predict, train, dev, test)
        _finish_setting(
            sdir,
            s,
            sig,
            scores,
            time.perf_counter() - t0,
            {"system": "affix", "variant": name, "train": s.train, "edition": s.edition, "setting": s.name},
            cpu_seconds=time.process_time() - c0,
        )
    return skipped


def _groups(settings: Sequence[Setting], group: str) -> dict[str, list[Setting]]:
    if group == "language":
        return {s.name: [s] for s in settings}
    if group == "all":
        return {"all": list(settings)}
    if group in ("auto", "size"):
        out: dict[str, list[Setting]] = {}
        for s in settings:
            out.setdefault(s.size or "all", []).append(s)
        return out
    raise ConfigError([f"group -> must be auto, size, all or language, got {group!r}"])


def _run_neural(
    settings,
    root: Path,
    config,
    device: str,
    resume: bool,
    progress: bool,
    group: str,
    log: Callable[[str], None],
    time_budget_s: float | None = None,
) -> list[str]:
    cfg = config if isinstance(config, neural.NeuralConfig) else neural.load_config(config)
    cfg_hash = hashlib.sha256(json.dumps(cfg.to_dict(), sort_keys=True).encode()).hexdigest()[:10]
    skipped = []
    for gname, members in _groups(settings, group).items():
        sig = f"{neural.SIGNATURE_VERSION}|config:{cfg_hash}|group:{gname}"
        todo = [s for s in members if not (resume and _is_done(root / "settings" / s.name, sig))]
        skipped += [s.name for s in members if s not in todo]
        if not todo:
            continue
        # the model is trained on the whole group, so that its predictions do not depend on which settings remain
        data, files = [], {}
        for s in members:
            train, dev, test = _read(s.train, s.edition), _read(s.dev, s.edition), _read(s.test, s.edition)
            files[s.name] = (train, dev, test)
            entries = list(train.entries)
            if cfg.hallucinate:
                extra, note = _hallucinated(s, train.entries, (dev, test), cfg.hallucinate, cfg.seed)
                entries += extra
                log(note)
            data.append(
                neural.LanguageData(s.name, entries, dev.entries if dev is not None and not dev.covered else ())
            )
        mdir = root / "models" / gname
        log(f"training group {gname!r}: {len(members)} setting(s), {sum(len(d.train) for d in data)} pairs -> {mdir}")
        result = neural.train(
            cfg, data, mdir, device=device, resume=resume, progress=progress, desc=gname, time_budget_s=time_budget_s
        )
        log(
            f"group {gname!r}: {result.steps} steps, best dev {result.best_dev:.2f} at step {result.best_step}, "
            f"{result.seconds:.0f} s on {result.device} ({result.stopped})"
        )
        model = neural.NeuralInflector.load(mdir, device=device)
        bar = _bar(todo, progress, f"predict {gname}")
        for s in bar:
            _bar_label(bar, s.name)
            t0 = time.perf_counter()
            train, dev, test = files[s.name]
            tag = s.name if cfg.multilingual else None
            sdir = root / "settings" / s.name
            scores = _predict_write_score(
                s, sdir, lambda entries, tag=tag: model.predict(entries, tag=tag), train, dev, test
            )
            _finish_setting(
                sdir,
                s,
                sig,
                scores,
                time.perf_counter() - t0 + result.seconds / len(members),
                {
                    "system": "neural",
                    "model_dir": os.path.relpath(mdir, sdir),
                    "tag": tag,
                    "edition": s.edition,
                    "setting": s.name,
                    "train_seconds_group": round(result.seconds, 1),
                    "device": result.device,
                },
            )
    return skipped


def _hallucinated(
    s: Setting, train: Sequence[InflectionEntry], evaluation, n: int, seed: int
) -> tuple[list[InflectionEntry], str]:
    """``n`` hallucinated pairs for a setting, guarded by its dev and test items, and a log line.

    A training pair that holds the (lemma, features) of a dev or test item (the official data
    has a few: 2021 ``ckt``) stays in the training data as published but is not used as a source
    for hallucination, which would otherwise refuse the whole file.
    """
    guard = LeakageGuard()
    for ds, src in zip(evaluation, (s.dev, s.test)):
        if ds is not None:
            guard.add_inflections(ds.entries, source=str(src))
    _, leaks = guard.filter([InflectionEntry(e.lemma, None, e.features) for e in train])
    bad = {leak.index for leak in leaks}
    sources = [e for i, e in enumerate(train) if i not in bad]
    st = HallucinationStats()
    out = hallucinate(sources, n=n, seed=seed, guard=guard, stats=st)
    note = f"{s.name}: +{st.n_generated} hallucinated pairs ({st.signature})"
    if bad:
        note += (
            f"; {len(bad)} training pair(s) share (lemma, features) with dev/test in the official data "
            "and were not used as sources"
        )
    return out, note


def _transducer_task(job: dict[str, Any]) -> dict[str, Any]:
    """:func:`_transducer_setting` on a pool: a failure comes back as text (exceptions whose
    constructor takes other arguments than their message do not survive pickling)."""
    try:
        return _transducer_setting(job)
    except Exception as exc:  # noqa: BLE001 - reported by the parent with the setting's name
        return {"setting": job["setting"].name, "log": [], "error": f"{type(exc).__name__}: {exc}"}


def _transducer_setting(job: dict[str, Any]) -> dict[str, Any]:
    """Train, predict and score one setting with the transducer; a pool task (picklable in and out).

    Returns the setting's name and its log lines (a worker process cannot call the parent's log).
    """
    from lexiconlm.inflection import transducer  # imports torch

    if job.get("threads"):
        import torch

        torch.set_num_threads(job["threads"])
    s: Setting = job["setting"]
    cfg = transducer.load_config(job["config"])
    root, device, resume = Path(job["root"]), job["device"], job["resume"]
    lines: list[str] = []
    sdir = root / "settings" / s.name
    t0, c0 = time.perf_counter(), time.process_time()
    train, dev = _read(s.train, s.edition), _read(s.dev, s.edition)
    test = _read(s.test, s.edition)
    entries = list(train.entries)
    n_hall = cfg.hallucinates(len(entries))
    if n_hall:
        extra, note = _hallucinated(s, train.entries, (dev, test), n_hall, cfg.seed)
        entries += extra
        lines.append(note)
    dev_gold = dev.entries if dev is not None and not dev.covered else ()
    mdir = root / "models" / s.name
    result = transducer.train_transducer(
        cfg, entries, dev_gold, mdir, device=device, resume=resume, progress=job["progress"], desc=s.name
    )
    lines.append(
        f"{s.name}: {[r['epochs'] for r in result.seeds]} epochs, dev {result.dev_accuracy}, "
        f"{result.cpu_seconds:.0f} CPU-s training on {result.device}"
    )
    model = transducer.TransducerInflector.load(mdir, device=device)
    scores = _predict_write_score(s, sdir, model.predict, train, dev, test)
    _finish_setting(
        sdir,
        s,
        cfg.signature,
        scores,
        time.perf_counter() - t0,
        {
            "system": "transducer",
            "model_dir": os.path.relpath(mdir, sdir),
            "edition": s.edition,
            "setting": s.name,
            "device": result.device,
            "train_cpu_seconds": result.cpu_seconds,
            "hallucinated": n_hall,
        },
        cpu_seconds=time.process_time() - c0,
    )
    return {"setting": s.name, "log": lines}


def _n_train(s: Setting) -> int:
    try:
        with open(s.train, encoding="utf-8") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 0


def _run_transducer(
    settings,
    root: Path,
    config,
    device: str,
    resume: bool,
    progress: bool,
    log: Callable[[str], None],
    workers: int = 1,
    threads: int | None = None,
) -> list[str]:
    """One hard-attention transducer per setting (:mod:`lexiconlm.inflection.transducer`), on a
    process pool of ``workers`` processes (each with ``threads`` torch threads, default 1 when
    there are several workers); the largest training files go first."""
    from lexiconlm.inflection import transducer  # imports torch

    cfg = transducer.load_config(config)
    sig = cfg.signature
    skipped = [s.name for s in settings if resume and _is_done(root / "settings" / s.name, sig)]
    todo = sorted((s for s in settings if s.name not in skipped), key=lambda s: (-_n_train(s), s.name))
    workers = max(1, min(workers, len(todo)))
    if workers > 1 and resolve_device(device).startswith("cuda"):
        workers = 1  # one process owns the accelerator
    jobs = [
        {
            "setting": s,
            "config": cfg.to_dict(),
            "root": str(root),
            "device": device,
            "resume": resume,
            "progress": progress and workers == 1,
            "threads": threads or (1 if workers > 1 else None),
        }
        for s in todo
    ]
    if workers == 1:
        bar = _bar(jobs, progress, "transducer")
        for job in bar:
            _bar_label(bar, job["setting"].name)
            for line in _transducer_setting(job)["log"]:
                log(line)
        return skipped
    log(f"transducer: {len(todo)} setting(s) on {workers} worker processes, largest training files first")
    ctx = multiprocessing.get_context("spawn")  # torch and fork do not mix
    bar = tqdm(total=len(todo), desc="transducer", unit="setting", dynamic_ncols=True) if progress else None
    failures: list[str] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=die_with_parent) as pool:
        futures = {pool.submit(_transducer_task, job): job["setting"].name for job in jobs}
        for fut in as_completed(futures):
            name = futures[fut]
            try:
                res = fut.result()
            except Exception as exc:  # noqa: BLE001 - a worker died; the other settings go on
                res = {"log": [], "error": f"{type(exc).__name__}: {exc}"}
            for line in res["log"]:
                log(line)
            if "error" in res:
                failures.append(f"{name} -> {res['error']}")
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(name, refresh=True)
    if bar is not None:
        bar.close()
    if failures:
        raise ConfigError(failures + ["rerun the same command: finished settings are kept, the rest resume"])
    return skipped


def _config_sections(config: Any) -> set[str]:
    """The top-level keys of a YAML config file or mapping (to hand each system its section)."""
    if config is None:
        return set()
    if isinstance(config, (str, os.PathLike)):
        values = read_config(config, hint="sigmorphon configs live in configs/sigmorphon/").values
    elif isinstance(config, dict):
        values = config
    else:
        return set()
    return set(values)


def _candidate_config(system: str, config: Any) -> Any:
    """The part of an ``auto`` config for one system: the file itself when it has the system's
    section (each loader takes its own), else the system's defaults."""
    if config is None or system == "affix":
        return None
    if not isinstance(config, (str, os.PathLike, dict)):  # a config object of one system
        kind = "transducer" if type(config).__name__ == "TransducerConfig" else "neural"
        return config if kind == system else None
    return config if system in _config_sections(config) else None


def _finished_records(edition_root: Path, setting: str, systems: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``{system: scores.json record}`` of the systems with a finished run of ``setting``, in ``systems`` order."""
    out = {}
    for system in systems:
        f = edition_root / system / "settings" / setting / "scores.json"
        if f.is_file():
            out[system] = json.loads(f.read_text(encoding="utf-8"))
    return out


def _dev_accuracy(record: dict[str, Any]) -> float | None:
    return record["scores"].get("dev", {}).get("all", {}).get("accuracy")


def _best_on_dev(records: dict[str, dict[str, Any]]) -> str | None:
    """The system with the highest dev accuracy (ties: the earlier one); None without dev scores."""
    best = None
    for system, rec in records.items():
        acc = _dev_accuracy(rec)
        if acc is not None and (best is None or acc > best[1]):
            best = (system, acc)
    return None if best is None else best[0]


def _compose_auto(
    settings: Sequence[Setting], edition_root: Path, root: Path, candidates: Sequence[str]
) -> dict[str, int]:
    """Per setting, copy the candidate with the best dev accuracy into ``root/settings/<setting>``
    (predictions, scores, a model.json that points to it). Dev only; ties go to the earlier
    candidate (the cheaper one). The seconds are those of all candidates (what auto cost)."""
    counts: dict[str, int] = {}
    for s in settings:
        recs = _finished_records(edition_root, s.name, candidates)
        if not recs:
            continue
        chosen = _best_on_dev(recs) or next(iter(recs))  # no dev scores (covered dev): the first
        src, sdir = edition_root / chosen / "settings" / s.name, root / "settings" / s.name
        for name in ("dev.pred", "test.pred"):
            if (src / name).is_file():
                atomic_write_text(sdir / name, (src / name).read_text(encoding="utf-8"))
            else:
                (sdir / name).unlink(missing_ok=True)
        seconds = sum(r.get("seconds") or 0.0 for r in recs.values())
        cpu = [r.get("cpu_seconds") for r in recs.values()]
        dev_accs = {k: _dev_accuracy(r) for k, r in recs.items()}
        _finish_setting(
            sdir,
            s,
            "auto|" + "|".join(f"{k}={r.get('signature')}" for k, r in sorted(recs.items())),
            recs[chosen]["scores"],
            seconds,
            {"system": "auto", "chosen": chosen, "source": f"../../../{chosen}/settings/{s.name}", "dev": dev_accs},
            cpu_seconds=sum(c for c in cpu if c is not None) if any(c is not None for c in cpu) else None,
            extra={"chosen": chosen, "candidates": dev_accs},
        )
        counts[chosen] = counts.get(chosen, 0) + 1
    return counts


def _bar(items, progress: bool, desc: str):
    if not progress:
        return items

    return tqdm(items, desc=desc, unit="setting", dynamic_ncols=True)


def _bar_label(bar, name: str) -> None:
    if hasattr(bar, "set_postfix_str"):
        bar.set_postfix_str(name, refresh=True)


# --------------------------------------------------------------------------- tables


def _fmt(v: Any, nd: int = 2) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def collect_rows(
    edition: str, system: str, root: Path, settings: Sequence[Setting], official: dict[str, dict[str, float]]
) -> list[dict[str, Any]]:
    """One row per finished setting, with the official figures beside ours."""
    rows = []
    for s in settings:
        f = root / "settings" / s.name / "scores.json"
        if not f.is_file():
            continue
        rec = json.loads(f.read_text(encoding="utf-8"))
        sc = rec["scores"]
        row: dict[str, Any] = {
            "setting": s.name,
            "system": rec.get("chosen", system),
            "seconds": rec.get("seconds"),
            "cpu_seconds": rec.get("cpu_seconds"),
        }
        for cand, acc in (rec.get("candidates") or {}).items():
            row[f"dev_{cand}"] = acc
        dev = sc.get("dev", {})
        if "all" in dev:
            row.update(dev_n=dev["all"]["n"], dev_acc=dev["all"]["accuracy"], dev_lev=dev["all"]["levenshtein"])
            for c in ("both", "lemma", "feats", "unseen"):
                if c in dev:
                    row[f"dev_{c}"] = dev[c]["accuracy"] if dev[c]["n"] else None
                    row[f"dev_n_{c}"] = dev[c]["n"]
        test = sc.get("test", {})
        if "all" in test:
            row.update(test_n=test["all"]["n"], test_acc=test["all"]["accuracy"], test_lev=test["all"]["levenshtein"])
        off = official.get(s.name) or official.get(s.code) or {}
        row.update(off)
        if edition == "2022":
            if "official_nonneural_dev" in off and "dev_acc" in row:
                row["diff_nonneural_dev"] = round(row["dev_acc"] - off["official_nonneural_dev"], 3)
            if "official_neural_dev" in off and "dev_acc" in row:
                row["diff_neural_dev"] = round(row["dev_acc"] - off["official_neural_dev"], 3)
        rows.append(row)
    return rows


def summarise(
    edition: str, rows: list[dict[str, Any]], root: Path, official_raw: dict[str, dict[str, float]]
) -> list[dict[str, Any]]:
    """Micro (pooled) and macro averages, overall and per 2022 size, with the official equivalents."""

    def load(name: str, split: str, cat: str = "all") -> InflectionScores | None:
        rec = json.loads((root / "settings" / name / "scores.json").read_text(encoding="utf-8"))
        d = rec["scores"].get(split, {}).get(cat)
        if d is None:
            return None
        return InflectionScores.from_counts(d["n"], d["n_correct"], d["distance"], d.get("n_missing", 0))

    groups = {"all": rows}
    if edition == "2022":
        groups = {
            "TOTAL": rows,
            "SMALL": [r for r in rows if r["setting"].endswith("_small")],
            "LARGE": [r for r in rows if r["setting"].endswith("_large")],
        }
    out = []
    for gname, members in groups.items():
        if not members:
            continue
        for split in ("dev", "test"):
            have = [r for r in members if f"{split}_acc" in r]
            if not have:
                continue
            micro = micro_average([load(r["setting"], split) for r in have])
            summary: dict[str, Any] = {
                "group": gname,
                "split": split,
                "settings": len(have),
                "n": micro.n,
                "micro_acc": round(micro.accuracy, 3),
                "macro_acc": round(sum(r[f"{split}_acc"] for r in have) / len(have), 3),
                "micro_lev": round(micro.levenshtein, 4),
            }
            if split == "dev":
                summary["seconds"] = round(sum(r.get("seconds") or 0.0 for r in have), 1)
                if all(r.get("cpu_seconds") is not None for r in have):
                    summary["cpu_seconds"] = round(sum(r["cpu_seconds"] for r in have), 1)
            if edition == "2022" and split == "dev":
                for c in ("both", "lemma", "feats", "unseen"):
                    cs = [load(r["setting"], split, c) for r in have]
                    m = micro_average([x for x in cs if x is not None])
                    summary[f"micro_{c}"] = round(m.accuracy, 3) if m.n else None
                for kind in ("nonneural", "neural"):
                    off = official_raw.get(gname, {}).get(f"official_{kind}_dev")
                    in_table = [
                        k
                        for k in official_raw
                        if k.endswith(("_small", "_large")) and (gname == "TOTAL" or k.endswith("_" + gname.lower()))
                    ]
                    if off is not None and len(have) == len(in_table):  # the official row pools the same settings
                        summary[f"official_{kind}_dev_micro"] = off
                    vals = [r.get(f"official_{kind}_dev") for r in have]
                    if all(v is not None for v in vals):
                        summary[f"official_{kind}_dev_macro"] = round(sum(vals) / len(vals), 3)
            if edition == "2021" and split == "test":
                keys = sorted(
                    {
                        k
                        for r in have
                        for k in r
                        if k.startswith("test_") and k not in ("test_n", "test_acc", "test_lev")
                    }
                )
                for k in keys:
                    vals = [r.get(k) for r in have]
                    if all(v is not None for v in vals):
                        summary[f"macro_{k[5:]}"] = round(sum(vals) / len(vals), 3)
            out.append(summary)
    return out


def _columns(rows: list[dict[str, Any]], preferred: Sequence[str]) -> list[str]:
    present = {k for r in rows for k in r}
    cols = [c for c in preferred if c in present]
    cols += sorted(present - set(cols))
    return cols


ROW_ORDER = (
    "setting",
    "system",
    "dev_affix",
    "dev_transducer",
    "dev_neural",
    "dev_n",
    "dev_acc",
    "dev_lev",
    "dev_both",
    "dev_lemma",
    "dev_feats",
    "dev_unseen",
    "official_nonneural_dev",
    "diff_nonneural_dev",
    "official_neural_dev",
    "diff_neural_dev",
    "test_n",
    "test_acc",
    "test_lev",
)
SUMMARY_ORDER = (
    "group",
    "split",
    "settings",
    "n",
    "micro_acc",
    "macro_acc",
    "micro_lev",
    "micro_both",
    "micro_lemma",
    "micro_feats",
    "micro_unseen",
    "official_nonneural_dev_micro",
    "official_neural_dev_micro",
    "official_nonneural_dev_macro",
    "official_neural_dev_macro",
    "seconds",
    "cpu_seconds",
)


def _csv(rows: list[dict[str, Any]], cols: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(cols), lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in cols})
    return buf.getvalue()


def _md(rows: list[dict[str, Any]], cols: Sequence[str]) -> str:
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |")
    return "\n".join(lines)


def write_tables(summary: RunSummary, root: Path, header: str) -> None:
    row_cols = _columns(summary.rows, ROW_ORDER)
    row_cols = [c for c in row_cols if not c.startswith("dev_n_") and c not in ("seconds", "cpu_seconds")]
    row_cols += ["seconds"] + (["cpu_seconds"] if any(r.get("cpu_seconds") is not None for r in summary.rows) else [])
    sum_cols = _columns(summary.summary, SUMMARY_ORDER)
    csv_path, md_path = root / "results.csv", root / "results.md"
    atomic_write_text(csv_path, _csv(summary.rows, row_cols))
    atomic_write_text(root / "summary.csv", _csv(summary.summary, sum_cols))
    md = [
        header,
        "",
        "## Summary",
        "",
        _md(summary.summary, sum_cols),
        "",
        "## Per setting",
        "",
        _md(summary.rows, row_cols),
        "",
    ]
    atomic_write_text(md_path, "\n".join(md))
    summary.csv, summary.markdown = str(csv_path), str(md_path)


# --------------------------------------------------------------------------- entry points


@holds_run_folder_locks
def run(
    edition: str,
    *,
    langs: str | Sequence[str] = "all",
    system: str = "affix",
    device: str = "auto",
    data_dir: str | os.PathLike | None = None,
    out_dir: str | os.PathLike = "runs/sigmorphon",
    config: Any = None,
    variant: str | None = None,
    group: str = "auto",
    resume: bool = True,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    time_budget_s: float | None = None,
    workers: int | None = None,
    threads: int | None = None,
    dest: str | os.PathLike | None = None,
) -> RunSummary:
    """Train, predict, score and tabulate one edition with one system (see the module docstring).

    Args:
        edition: ``2020``, ``2021``, ``2022`` or ``2023``.
        langs: ``"all"`` or codes / setting names (comma-separated or a list).
        system: ``affix``, ``neural``, ``transducer`` or ``auto`` (per setting, the best on dev
            among affix, transducer and, when ``device`` is a GPU, neural; each candidate runs
            in its own folder first, ``auto/`` gets the chosen one's predictions and scores).
        device: ``auto``, ``cpu``, ``cuda`` (neural and transducer).
        data_dir: the ``sigmorphon`` data folder (default: :func:`default_data_dir`).
        out_dir: the run folder root.
        config: neural: a :class:`~lexiconlm.inflection.neural.NeuralConfig`, a YAML path or None
            (defaults); transducer: a
            :class:`~lexiconlm.inflection.transducer.TransducerConfig`, a mapping, a YAML path
            or None.
        variant: affix: the variant name (default: the edition's,
            :func:`~lexiconlm.inflection.affix.variant_for_edition`).
        group: neural: ``auto`` (2022: one multilingual model per training size; other editions one
            model), ``all``, ``size`` or ``language`` (one model per setting).
        resume: skip finished settings and resume neural checkpoints.
        progress: progress bars.
        log: where progress messages go (default: nowhere).
        time_budget_s: neural: training time per model (group), resumed parts included; the
            model then keeps its best dev weights (see :func:`~lexiconlm.inflection.neural.train`).
        workers: transducer (and auto): settings trained at once on a process pool (default:
            the CPUs this process may use; 1 on a GPU).
        threads: torch threads per worker (default: 1 with several workers).
        dest: also copy each setting's test predictions to ``dest/<setting>.pred`` with
            ``selection.csv`` (:func:`select_best` over this system).

    Returns:
        :class:`RunSummary` with the rows and the paths of ``results.csv`` / ``results.md``.

    Raises:
        ConfigError: unknown system/edition/language, invalid neural config, changed config on resume.
        DataFormatError: a data file cannot be read.
    """
    edition = str(edition)
    log = log or (lambda _msg: None)
    if system not in SYSTEMS:
        raise ConfigError([f"system -> must be one of {', '.join(SYSTEMS)}, got {system!r}"])
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    settings = discover(edition, data_dir, langs)
    t0 = time.perf_counter()
    if system == "auto":
        candidates = [c for c in CANDIDATES if c != "neural" or resolve_device(device).startswith("cuda")]
        for cand in candidates:
            log(f"auto: candidate {cand}")
            run(
                edition,
                langs=[s.name for s in settings],
                system=cand,
                device=device,
                data_dir=data_dir,
                out_dir=out_dir,
                config=_candidate_config(cand, config),
                variant=variant,
                group=group,
                resume=resume,
                progress=progress,
                log=log,
                time_budget_s=time_budget_s,
                workers=workers,
                threads=threads,
            )
    root = hold_run_folder(
        Path(out_dir) / edition / system,  # one process at a time in the folder
        f"lexiconlm sigmorphon run {edition} {system}",
    )
    if system == "auto":
        counts = _compose_auto(settings, Path(out_dir) / edition, root, candidates)
        log("auto: chosen on dev: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        skipped = []
    elif system == "affix":
        skipped = _run_affix(settings, root, variant, resume, progress, log)
    elif system == "transducer":
        skipped = _run_transducer(settings, root, config, device, resume, progress, log, workers, threads)
    else:
        skipped = _run_neural(settings, root, config, device, resume, progress, group, log, time_budget_s)
    official = official_baselines(edition, data_dir)
    summary = RunSummary(edition, system, skipped=skipped)
    all_settings = discover(edition, data_dir, "all")
    summary.rows = collect_rows(edition, system, root, all_settings, official)
    summary.summary = summarise(edition, summary.rows, root, official)
    summary.seconds = time.perf_counter() - t0
    write_tables(summary, root, _header(edition, system, summary, data_dir))
    if dest is not None:
        select_best(edition, out_dir=out_dir, dest=dest, data_dir=data_dir, systems=[system], langs=langs)
    return summary


def _header(edition: str, system: str, summary: RunSummary, data_dir) -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    notes = {
        "2022": "Official columns: `baseline_results/part1_{nonneural,neural}_dev.txt` (`all acc`). "
        "Summary: micro = pooled over settings (the official LARGE/SMALL/TOTAL rows), macro = mean of settings.",
        "2021": "`test_<system>` columns: test accuracy of the official baselines from "
        "`baseline_accuracy_computed.tsv` "
        "(computed from the repository's prediction files).",
    }
    return "\n".join(
        [
            f"# SIGMORPHON {edition}: {system} system",
            "",
            (
                f"Command: `lexiconlm sigmorphon run --edition {edition} --langs all --system {system}`"
                f" ({len(summary.rows)} settings in the table). Machine: {os.cpu_count()} CPUs, {cpu}, "
                f"Python {platform.python_version()}, lexiconlm {__version__}."
            ),
            "Accuracy in percent (exact match, NFC), `lev` = mean Levenshtein distance.",
            notes.get(edition, ""),
        ]
    )


def _load_model_spec(model: str | os.PathLike) -> tuple[dict[str, Any], Path]:
    p = Path(model)
    spec_file = p / "model.json"
    if not spec_file.is_file():
        raise ConfigError(
            [
                (
                    f"{spec_file} -> missing; --model must be a setting folder "
                    "(runs/sigmorphon/<edition>/<system>/settings/<setting>) or a neural model folder"
                )
            ]
        )
    return json.loads(spec_file.read_text(encoding="utf-8")), p


def predict_file(
    model: str | os.PathLike,
    inputs: str | os.PathLike,
    out: str | os.PathLike,
    *,
    edition: str | None = None,
    tag: str | None = None,
    beam: int | None = None,
    device: str = "auto",
) -> Path:
    """Inflect every line of ``inputs`` (covered test, dev or gold file) and write ``out``.

    The output has one line per input line, in input order, in the edition's official
    three-column order (2023: lemma, features, form; earlier: lemma, form, features).

    Args:
        model: a setting folder written by :func:`run` (``.../settings/hun_small``; affix,
            neural, transducer or auto), or a neural model folder (``.../models/small``; then ``tag``
            picks the language when it has several).
        inputs: the file to inflect.
        out: the prediction file (written atomically).
        edition: the input's edition when its name and folder do not tell.
        tag: neural: the language tag (default: the setting's, or the model's only one).
        beam: neural: beam width (default: the model's config).
        device: ``auto``, ``cpu``, ``cuda``.

    Raises:
        ConfigError: not a model folder, unknown tag.
        DataFormatError: the input cannot be read.
    """
    spec, p = _load_model_spec(model)
    if spec.get("system") == "auto":  # the chosen system's setting folder, inside the edition's run folder
        edition_root = p.resolve().parents[2]
        target = (p / spec.get("source", "")).resolve()
        if not target.is_relative_to(edition_root) or not (target / "model.json").is_file():
            raise ConfigError(
                [f"{p / 'model.json'} -> source {spec.get('source')!r} is not a setting folder of the run"]
            )
        return predict_file(target, inputs, out, edition=edition, tag=tag, beam=beam, device=device)
    src = read_sigmorphon(inputs, edition=edition or spec.get("edition"))
    ed = src.edition or edition or spec.get("edition")
    if not ed:
        raise DataFormatError.single(str(inputs), None, "edition not determined", "pass --edition")
    entries = list(src.entries)
    if spec.get("system") == "affix":
        train = read_sigmorphon(spec["train"], edition=spec.get("edition"))
        forms = AffixBaseline(spec.get("variant")).fit(train.entries).predict(entries)
    elif spec.get("system") == "transducer":
        from lexiconlm.inflection.transducer import TransducerInflector

        forms = TransducerInflector.load(p / spec["model_dir"], device=device).predict(entries)
    else:
        mdir = (p / spec["model_dir"]) if "model_dir" in spec else p
        m = NeuralInflector.load(mdir, device=device)
        forms = m.predict(entries, tag=tag or spec.get("tag"), beam=beam)
    _write_preds(entries, forms, Path(out), ed)
    return Path(out)


def select_best(
    edition: str,
    *,
    out_dir: str | os.PathLike = "runs/sigmorphon",
    dest: str | os.PathLike,
    data_dir: str | os.PathLike | None = None,
    systems: Sequence[str] = SYSTEMS,
    langs: str | Sequence[str] = "all",
) -> list[dict[str, Any]]:
    """Per setting, copy the test predictions of the system with the best dev accuracy to ``dest``.

    The choice uses dev only (ties: the first system in ``systems``). Files are named
    ``<setting>.pred`` (``hun_small.pred`` in 2022, ``amh.pred`` in 2023). Writes
    ``dest/selection.csv`` (setting, chosen system, dev accuracy of each system).

    Raises:
        ConfigError: a setting has no finished run of any system.
    """
    settings = discover(edition, data_dir, langs)
    dest = Path(dest)
    rows, problems = [], []
    for s in settings:
        row: dict[str, Any] = {"setting": s.name}
        recs = _finished_records(Path(out_dir) / edition, s.name, systems)
        for system, rec in recs.items():
            row[f"dev_{system}"] = _dev_accuracy(rec)
            if "chosen" in rec:  # an auto run: which system it chose
                row[f"{system}_chose"] = rec["chosen"]
        best = _best_on_dev(recs)
        if best is None:
            problems.append(f"{s.name} -> no finished run with dev scores under {out_dir}/{edition}/")
            continue
        pred = Path(out_dir) / edition / best / "settings" / s.name / "test.pred"
        if not pred.is_file():
            problems.append(f"{s.name} -> {pred} missing")
            continue
        atomic_write_text(dest / s.test_name, pred.read_text(encoding="utf-8"))
        row["chosen"] = best
        rows.append(row)
    if problems:
        raise ConfigError(problems)
    cols = ["setting", "chosen"] + [f"dev_{s}" for s in systems]
    cols += sorted({k for r in rows for k in r if k.endswith("_chose")})
    atomic_write_text(dest / "selection.csv", _csv(rows, cols))
    return rows
