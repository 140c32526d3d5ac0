"""MASSIVE experiment runner: zero-shot, translate-train and its control, over every test locale.

Systems (``systems:`` in the config, run in the order given, each resumable):

* ``baseline`` — character n-gram logistic regression on the training locale (intent only);
* ``zero-shot`` — the joint model trained on the training locale only (en-US train),
  selected on its dev set;
* ``translate-train`` — one multilingual joint model on en-US train plus, for every
  target locale, up to ``pseudo.cap`` en-US train utterances translated word by word
  through that locale's lexicon (:mod:`lexiconlm.synth.pseudo_label`), selected on
  en-US dev;
* ``control`` — the same, with the same utterances per locale, translated through a
  *mismatched* language's lexicon (``pseudo.control``):

  - ``other-language.v1`` (default): for each target locale (in sorted order), the largest
    unused lexicon of a language that is none of the evaluated locales' languages (nor those
    listed in ``pseudo.control_exclude``), of the same script when such a lexicon is at least
    half the size of the matched one, else of any script; each language used once.
    This is the control that means something for one multilingual model: a fixed
    derangement of the target locales would give the very same training set (the
    same 26 lexicons, only assigned to other locale tags);
  - ``derange.v1``: target locale *i* (sorted) gets the lexicon of locale *i+1* (a fixed
    derangement); meaningful for per-locale models only.
* ``translate-train+adapt`` — translate-train on an encoder adapted by
  :func:`lexiconlm.adapt.run.adapt` (``adapt.config``), when that module is installed.

A system name may carry a label, ``zero-shot:1ep``: a variant of ``zero-shot`` with its own run
folder and its own ``overrides``. ``overrides: {system: {train settings}}`` changes settings for one system (e.g. fewer epochs
for the larger translate-train set, to give every model the same number of steps).

Nothing is chosen on non-English test data: the cap, the epochs and every setting come
from the config, model selection uses en-US dev only, and the pseudo-labelled utterances
come from en-US train only. Every file present in the test folder is evaluated; a locale
with no lexicon gets no pseudo data (and is still evaluated).

Run folder::

    pseudo/<mode>/<locale>.tsv       projected data (+ .signature)
    pseudo/summary.csv               per locale and mode: lexicon, replaced-word and slot ratios
    <system>/model/ ...              train_joint run folders
    <system>/results.json            per-locale figures, seconds, signature
    results.csv                      locale, system, intent_accuracy, slot_f1, exact_match, n, ...
    summary.csv                      means over non-training locales, by script and family
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lexiconlm.errors import ConfigError
from lexiconlm.io._base import atomic_write_text
from lexiconlm.types import NLUDataset

__all__ = [
    "SYSTEMS",
    "RESULT_COLUMNS",
    "load_experiment_config",
    "matched_lexicons",
    "control_lexicons",
    "build_pseudo",
    "run_experiments",
    "results_rows",
    "summary_rows",
]

SYSTEMS = ("baseline", "zero-shot", "translate-train", "control", "translate-train+adapt")
CONTROLS = ("other-language.v1", "derange.v1")
RESULT_COLUMNS = ["locale", "system", "intent_accuracy", "slot_f1", "exact_match", "n", "language_name", "script",
                  "family", "lex_token_ratio", "lex_slot_ratio", "seconds", "signature"]
SUMMARY_COLUMNS = ["system", "group_by", "group", "intent_accuracy", "slot_f1", "exact_match", "n_locales", "n"]
_TOP = {"data", "lexicon_dirs", "pseudo", "systems", "train", "overrides", "eval", "baseline", "adapt", "out"}
_PSEUDO = {"cap": 1000, "seed": 13, "sense": "random", "oov": "keep", "hygiene": "script.v1",
           "control": "other-language.v1", "control_exclude": [], "join": "script"}


def _path(base: Path, v: Any) -> Path:
    p = Path(str(v))
    return p if p.is_absolute() else (base / p)


def load_experiment_config(config: Mapping | str | os.PathLike, *, base: Path | None = None) -> dict:
    """Read and validate an experiment config (YAML file or dict); paths are made absolute.

    Paths in a YAML are relative to the YAML's folder; in a dict, to ``base`` (default: cwd).

    Raises:
        ConfigError: lists every problem (unknown keys or systems, missing files, bad values).
    """
    from lexiconlm.nlu.train import DEFAULTS, validate_train_config

    if not isinstance(config, Mapping):
        import yaml

        p = Path(config)
        if not p.is_file():
            raise ConfigError([f"{p} -> no such file (NLU configs live in configs/nlu/)"])
        try:
            config = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError([f"not valid YAML: {exc}"], str(p)) from None
        base = p.resolve().parent
        source = str(p)
    else:
        source = ""
    base = base or Path.cwd()
    problems: list[str] = []
    cfg = dict(config)
    for k in sorted(set(cfg) - _TOP):
        problems.append(f"{k} -> unknown key (known: {', '.join(sorted(_TOP))})")
    data = dict(cfg.get("data") or {})
    for k in ("train", "dev", "test_dir"):
        if not data.get(k):
            problems.append(f"data.{k} -> required")
        else:
            data[k] = _path(base, data[k])
            if not data[k].exists():
                problems.append(f"data.{k} -> no such file or folder: {data[k]}")
    for k in ("intents", "slots"):
        if data.get(k):
            data[k] = _path(base, data[k])
            if not data[k].is_file():
                problems.append(f"data.{k} -> no such file: {data[k]}")
    for k in sorted(set(data) - {"train", "dev", "test_dir", "intents", "slots", "locales"}):
        problems.append(f"data.{k} -> unknown key")
    systems = list(cfg.get("systems") or ["baseline", "zero-shot"])
    for s in systems:
        if base_system(s) not in SYSTEMS:
            problems.append(f"systems -> unknown system {s!r} (known: {', '.join(SYSTEMS)})")
    lex_dirs = [_path(base, d) for d in (cfg.get("lexicon_dirs") or [])]
    needs_lex = any(base_system(s) in ("translate-train", "control", "translate-train+adapt") for s in systems)
    if needs_lex and not lex_dirs:
        problems.append("lexicon_dirs -> required for translate-train / control")
    for d in lex_dirs:
        if not d.is_dir():
            problems.append(f"lexicon_dirs -> no such folder: {d}")
    pseudo = {**_PSEUDO, **dict(cfg.get("pseudo") or {})}
    for k in sorted(set(pseudo) - set(_PSEUDO)):
        problems.append(f"pseudo.{k} -> unknown key (known: {', '.join(_PSEUDO)})")
    if isinstance(pseudo["cap"], bool) or not isinstance(pseudo["cap"], int) or pseudo["cap"] < 1:
        problems.append(f"pseudo.cap -> expected a positive integer, got {pseudo['cap']!r}")
    if pseudo["control"] not in CONTROLS:
        problems.append(f"pseudo.control -> expected one of {', '.join(CONTROLS)}, got {pseudo['control']!r}")
    if pseudo["join"] not in ("script", "spaces"):
        problems.append(f"pseudo.join -> expected 'script' or 'spaces', got {pseudo['join']!r}")
    train = {**DEFAULTS, **dict(cfg.get("train") or {})}
    if isinstance(train.get("model"), str) and not Path(train["model"]).is_absolute() and (base / train["model"]).exists():
        train["model"] = str((base / train["model"]).resolve())
    if data.get("intents") and not train.get("intents_file"):
        train["intents_file"] = str(data["intents"])
    if data.get("slots") and not train.get("slots_file"):
        train["slots_file"] = str(data["slots"])
    try:
        validate_train_config(train)
    except ConfigError as exc:
        problems.extend(f"train.{p}" for p in exc.problems)
    overrides = dict(cfg.get("overrides") or {})
    for sys_name, ov in overrides.items():
        if base_system(sys_name) not in SYSTEMS or base_system(sys_name) == "baseline":
            problems.append(f"overrides.{sys_name} -> not a joint-model system ({', '.join(SYSTEMS[1:])})")
        elif not isinstance(ov, Mapping):
            problems.append(f"overrides.{sys_name} -> expected a mapping of train settings")
        else:
            try:
                validate_train_config({**train, **ov})
            except ConfigError as exc:
                problems.extend(f"overrides.{sys_name}.{p}" for p in exc.problems)
    ev = {"batch_size": 128, "limit": None, **dict(cfg.get("eval") or {})}
    for k in sorted(set(ev) - {"batch_size", "limit"}):
        problems.append(f"eval.{k} -> unknown key (known: batch_size, limit)")
    adapt = dict(cfg.get("adapt") or {})
    if "translate-train+adapt" in systems:
        if not adapt.get("config"):
            problems.append("adapt.config -> required for translate-train+adapt")
        else:
            adapt["config"] = _path(base, adapt["config"])
            if not Path(adapt["config"]).is_file():
                problems.append(f"adapt.config -> no such file: {adapt['config']}")
    if problems:
        raise ConfigError(problems, source)
    out = _path(base, cfg["out"]) if cfg.get("out") else None
    return {"data": data, "systems": systems, "lexicon_dirs": lex_dirs, "pseudo": pseudo, "train": train,
            "overrides": {k: dict(v) for k, v in overrides.items()},
            "eval": ev, "baseline": dict(cfg.get("baseline") or {}), "adapt": adapt, "out": out}


# --------------------------------------------------------------------------- lexicons


def matched_lexicons(locales: Sequence[str], lexicon_dirs: Sequence[Path]) -> dict[str, Path | None]:
    """The largest English-to-X lexicon per locale (``None`` when there is none), as ``synth label -d`` picks it."""
    from lexiconlm.errors import UnknownNameError
    from lexiconlm.synth.locate import find_lexicons

    out: dict[str, Path | None] = {}
    for loc in locales:
        try:
            found = find_lexicons(loc, lexicon_dirs)
        except UnknownNameError:
            found = []
        out[loc] = sorted(found, key=lambda p: -p.stat().st_size)[0] if found else None
    return out


def control_lexicons(
    locales: Sequence[str],
    matched: Mapping[str, Path | None],
    lexicon_dirs: Sequence[Path],
    *,
    method: str = "other-language.v1",
    exclude_locales: Sequence[str] = (),
) -> dict[str, Path | None]:
    """A mismatched lexicon for each locale that has a matched one (see the module docstring)."""
    from lexiconlm.errors import UnknownNameError
    from lexiconlm.languages import get_catalog
    from lexiconlm.synth.locate import scan_lexicon_dir

    have = sorted(loc for loc in locales if matched.get(loc) is not None)
    if method == "derange.v1":
        if len(have) < 2:
            return {loc: None for loc in locales}
        return {loc: (matched[have[(have.index(loc) + 1) % len(have)]] if loc in have else None) for loc in locales}
    cat = get_catalog()
    banned: set[str] = set()
    for loc in list(locales) + list(exclude_locales) + ["en-US"]:
        try:
            lang = cat.lookup(loc)
        except UnknownNameError:
            continue
        banned.add(lang.iso639_3)
        if lang.macrolanguage:
            banned.add(lang.macrolanguage)
    cands = []
    for d in lexicon_dirs:
        for f in scan_lexicon_dir(d):
            code = f.language.iso639_3
            if not code or code in banned or f.language.macrolanguage in banned:
                continue
            cands.append((f.path.stat().st_size, f.script or (f.language.scripts[0] if f.language.scripts else ""), code, f.path))
    cands.sort(key=lambda c: (-c[0], str(c[3])))
    used_langs: set[str] = set()
    out: dict[str, Path | None] = {loc: None for loc in locales}
    for loc in have:
        try:
            lang = cat.lookup(loc)
            script = lang.scripts[0] if lang.scripts else ""
        except UnknownNameError:
            script = ""
        # same script only with a lexicon at least half the size of the matched one (a tiny lexicon would
        # leave the text English, a different control); else the largest unused lexicon of any script
        floor = matched[loc].stat().st_size / 2
        pick = next((c for c in cands if c[2] not in used_langs and c[1] == script and c[0] >= floor), None)
        pick = pick or next((c for c in cands if c[2] not in used_langs), None)
        if pick is not None:
            used_langs.add(pick[2])
            out[loc] = pick[3]
    return out


def _subset(n: int, cap: int, seed: int, locale: str) -> list[int]:
    """The en-US train indices projected for a locale: a seeded sample of ``cap``, the same for every mode."""
    import numpy as np

    rng = np.random.default_rng((int(seed), zlib.crc32(locale.encode("utf-8"))))
    return sorted(rng.permutation(n)[: min(cap, n)].tolist())


def build_pseudo(
    source: NLUDataset,
    lexicons: Mapping[str, Path | None],
    out_dir: Path,
    pseudo: Mapping,
    *,
    mode: str,
    progress: bool = True,
) -> tuple[list[NLUDataset], list[dict]]:
    """Project ``pseudo['cap']`` source utterances per locale through the given lexicons (cached as TSV).

    Returns:
        ``(datasets, rows)``: one dataset per locale with a lexicon, and one summary row per locale
        (``locale, mode, lexicon, lexicon_language, n, token_ratio, slot_ratio``).
    """
    from tqdm.auto import tqdm

    from lexiconlm.io.massive import read_massive, write_massive_tsv
    from lexiconlm.synth.pseudo_label import make_translator, project_utterances

    out_dir = Path(out_dir) / mode
    out_dir.mkdir(parents=True, exist_ok=True)
    src = list(source)
    datasets, rows = [], []
    for loc in tqdm(sorted(lexicons), disable=not progress, desc=f"pseudo ({mode})"):
        lex = lexicons[loc]
        if lex is None:
            rows.append({"locale": loc, "mode": mode, "lexicon": "", "lexicon_language": "", "n": 0,
                         "token_ratio": "", "slot_ratio": ""})
            continue
        idx = _subset(len(src), int(pseudo["cap"]), int(pseudo["seed"]), loc)
        path = out_dir / f"{loc}.tsv"
        meta_path = out_dir / f"{loc}.json"
        key = {"lexicon": str(lex), "cap": pseudo["cap"], "seed": pseudo["seed"], "sense": pseudo["sense"],
               "oov": pseudo["oov"], "hygiene": pseudo["hygiene"], "join": pseudo["join"], "source": source.provenance.sha256}
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() and path.exists() else None
        if meta is None or meta.get("key") != key:
            tr = make_translator(lex, sense=pseudo["sense"], oov=pseudo["oov"], seed=int(pseudo["seed"]),
                                 hygiene=pseudo["hygiene"])
            res = project_utterances([src[i] for i in idx], tr, locale=loc,
                                     script="" if pseudo["join"] == "spaces" else None)
            write_massive_tsv([p.utterance for p in res.items], path)
            atomic_write_text(path.with_name(path.name + ".signature"), res.signature + "\n")
            st = res.stats
            meta = {"key": key, "lexicon_language": tr.lexicon.tgt.code, "n": len(res.items),
                    "token_ratio": round(st.token_ratio, 4), "slot_ratio": round(st.slot_ratio, 4),
                    "signature": res.signature}
            atomic_write_text(meta_path, json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
        datasets.append(read_massive(path, locale=loc))
        rows.append({"locale": loc, "mode": mode, "lexicon": f"{Path(lex).parent.name}/{Path(lex).name}",
                     "lexicon_language": meta["lexicon_language"], "n": meta["n"],
                     "token_ratio": meta["token_ratio"], "slot_ratio": meta["slot_ratio"]})
    return datasets, rows


# --------------------------------------------------------------------------- tables


def _csv(rows: Sequence[Mapping], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if isinstance(r.get(k), float) and r.get(k) != r.get(k) else r.get(k, "")) for k in columns})
    return buf.getvalue()


def _fmt(v: Any) -> Any:
    return round(v, 2) if isinstance(v, float) and v == v else v


def results_rows(system: str, per_locale: Mapping[str, Mapping], *, signature: str = "",
                 ratios: Mapping[str, Mapping] | None = None) -> list[dict]:
    """CSV rows (``RESULT_COLUMNS``) for one system's per-locale figures."""
    from lexiconlm.errors import UnknownNameError
    from lexiconlm.languages import get_catalog
    from lexiconlm.nlu.metrics import locale_script_family

    cat = get_catalog()
    rows = []
    for loc in sorted(per_locale):
        r = per_locale[loc]
        script, family = locale_script_family(loc, cat)
        try:
            lang = cat.lookup(loc).name
        except UnknownNameError:
            lang = "?"
        rat = (ratios or {}).get(loc, {})
        rows.append({"locale": loc, "system": system, **{k: _fmt(r.get(k)) for k in ("intent_accuracy", "slot_f1", "exact_match")},
                     "n": r.get("n"), "language_name": lang, "script": script, "family": family,
                     "lex_token_ratio": rat.get("token_ratio", ""), "lex_slot_ratio": rat.get("slot_ratio", ""),
                     "seconds": r.get("seconds", ""), "signature": signature})
    return rows


def summary_rows(system: str, per_locale: Mapping[str, Mapping], *, train_locale: str = "en-US") -> list[dict]:
    """Means over the non-training locales: overall, by script, by family."""
    from lexiconlm.nlu.metrics import aggregate

    agg = aggregate(per_locale, exclude=(train_locale,))
    rows = []
    for group_by in ("mean", "script", "family"):
        for group, r in agg[group_by].items():
            rows.append({"system": system, "group_by": group_by, "group": group,
                         **{k: _fmt(r[k]) for k in ("intent_accuracy", "slot_f1", "exact_match")},
                         "n_locales": r["n_locales"], "n": r["n"]})
    return rows


# --------------------------------------------------------------------------- runner


def run_experiments(
    config: Mapping | str | os.PathLike,
    *,
    out_dir: str | os.PathLike | None = None,
    systems: Sequence[str] | None = None,
    device: str = "auto",
    progress: bool = True,
    log=print,
) -> Path:
    """Run the configured systems and write the tables; returns ``out_dir/results.csv``.

    A system whose ``results.json`` exists with the same signature is not rerun; a killed
    training resumes from its checkpoint.

    Raises:
        ConfigError: invalid config (every problem listed).
        DataFormatError: a test file with malformed annotations, or with intents / slot labels
            outside the training label set (every line listed).
    """
    from lexiconlm.io.massive import read_massive
    from lexiconlm.nlu.evaluate import check_labels, read_test_dir
    from lexiconlm.nlu.train import label_maps_for

    cfg = load_experiment_config(config)
    out = Path(out_dir) if out_dir is not None else cfg["out"]
    if out is None:
        raise ConfigError(["out -> give an output folder (config `out:` or --out)"])
    out.mkdir(parents=True, exist_ok=True)
    run_systems = list(systems) if systems else cfg["systems"]
    bad = [s for s in run_systems if base_system(s) not in SYSTEMS]
    if bad:
        raise ConfigError([f"systems -> unknown {bad} (known: {', '.join(SYSTEMS)})"])
    data = cfg["data"]
    train = read_massive(data["train"])
    dev = read_massive(data["dev"])
    tests = read_test_dir(data["test_dir"], locales=data.get("locales"))
    if cfg["eval"]["limit"]:
        from dataclasses import replace

        # a seeded sample of positions (MASSIVE files are sorted by id, and ids are grouped by scenario, so
        # the first N rows would be a biased subset); the files are parallel, so every locale gets the same ids
        n_keep = int(cfg["eval"]["limit"])
        tests = [replace(t, utterances=tuple(t.utterances[i] for i in _subset(len(t), n_keep, 13, "eval"))) for t in tests]
    labels = label_maps_for(list(train), cfg["train"])
    warnings = check_labels(tests + [dev], labels.intents, labels.slots)  # before any training
    if warnings:
        log(f"warning: {len(warnings)} utterance(s) with slot labels outside the training set (scored as misses); first: {warnings[0]}")
    targets = sorted(t.locale for t in tests if t.locale != train.locale)
    log(f"{len(tests)} test files ({', '.join(t.locale for t in tests)}); training locale {train.locale}")

    pseudo_rows: list[dict] = []
    ratios: dict[str, dict[str, dict]] = {}

    def pseudo_for(mode: str) -> list[NLUDataset]:
        lex_dirs = cfg["lexicon_dirs"]
        matched = matched_lexicons(targets, lex_dirs)
        if mode == "matched":
            lexes = matched
        else:
            lexes = control_lexicons(targets, matched, lex_dirs, method=cfg["pseudo"]["control"],
                                     exclude_locales=cfg["pseudo"]["control_exclude"])
        ds, rows = build_pseudo(train, lexes, out / "pseudo", cfg["pseudo"], mode=mode, progress=progress)
        pseudo_rows.extend(rows)
        ratios[mode] = {r["locale"]: r for r in rows}
        atomic_write_text(out / "pseudo" / "summary.csv", _csv(pseudo_rows, ["locale", "mode", "lexicon", "lexicon_language", "n", "token_ratio", "slot_ratio"]))
        return ds

    all_rows: list[dict] = []
    all_summary: list[dict] = []
    for system in run_systems:
        sdir = out / system
        res_path = sdir / "results.json"
        t0 = time.perf_counter()
        base = base_system(system)
        mode = {"translate-train": "matched", "control": "control", "translate-train+adapt": "matched"}.get(base)
        extra = pseudo_for(mode) if mode else []
        sig = _system_signature(system, cfg, extra)
        if res_path.exists():
            done = json.loads(res_path.read_text(encoding="utf-8"))
            if done.get("signature") == sig and set(done["per_locale"]) == {t.locale for t in tests}:
                log(f"{system}: done earlier ({res_path})")
                all_rows += results_rows(system, done["per_locale"], signature=sig, ratios=ratios.get(mode or "", {}))
                all_summary += summary_rows(system, done["per_locale"], train_locale=train.locale)
                continue
        log(f"{system}: training on {len(train) + sum(len(d) for d in extra):,} utterances "
            f"({len(extra)} pseudo-labelled locales)")
        timing: dict[str, float] = {}
        if base == "baseline":
            from lexiconlm.nlu.baseline import evaluate_baseline, train_baseline

            pipe = train_baseline(train, cfg["baseline"])
            timing["train_seconds"] = round(time.perf_counter() - t0, 1)
            t1 = time.perf_counter()
            per = evaluate_baseline(pipe, tests)
            timing["eval_seconds"] = round(time.perf_counter() - t1, 1)
        else:
            from lexiconlm.nlu.evaluate import evaluate
            from lexiconlm.nlu.train import train_joint

            tcfg = _train_config(cfg, system)
            if base == "translate-train+adapt":
                tcfg["model"] = _adapted_model(cfg, out, device=device, progress=progress)
            model_dir = train_joint(tcfg, train=[train, *extra], dev=dev, out_dir=sdir, device=device, progress=progress)
            timing["train_seconds"] = round(time.perf_counter() - t0, 1)
            t1 = time.perf_counter()
            per = evaluate(model_dir, tests, device=device, batch_size=int(cfg["eval"]["batch_size"]), progress=progress)
            timing["eval_seconds"] = round(time.perf_counter() - t1, 1)
        sdir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(res_path, json.dumps({"system": system, "signature": sig, "per_locale": per, **timing,
                                                "n_train": len(train) + sum(len(d) for d in extra)}, indent=2) + "\n")
        log(f"{system}: {timing}")
        all_rows += results_rows(system, per, signature=sig, ratios=ratios.get(mode or "", {}))
        all_summary += summary_rows(system, per, train_locale=train.locale)
    atomic_write_text(out / "results.csv", _csv(all_rows, RESULT_COLUMNS))
    atomic_write_text(out / "summary.csv", _csv(all_summary, SUMMARY_COLUMNS))
    # the run-folder layout the app reads (docs/run-folders.md): one run of kind "massive"
    from lexiconlm.nlu.train import _signature

    codes = sorted({t.language.iso639_3 for t in tests if t.language.iso639_3})
    meta = {"kind": "massive", "name": f"MASSIVE experiments ({', '.join(run_systems)})", "languages": codes,
            "config": json.loads(json.dumps({k: v for k, v in cfg.items() if k != "out"}, default=str)),
            "signature": _signature(cfg["train"]), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    atomic_write_text(out / "run.json", json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    means = {r["system"]: {k: r[k] for k in ("intent_accuracy", "slot_f1", "exact_match") if isinstance(r[k], float) and r[k] == r[k]}
             for r in all_summary if r["group_by"] == "mean"}
    atomic_write_text(out / "metrics.json", json.dumps({"mean_non_training_locales": means}, indent=2) + "\n")
    return out / "results.csv"


def _system_signature(system: str, cfg: Mapping, extra: Sequence[NLUDataset]) -> str:
    from lexiconlm.nlu.baseline import SIGNATURE as BASE_SIG
    from lexiconlm.nlu.train import _signature

    if base_system(system) == "baseline":
        sig = BASE_SIG + "|" + json.dumps(cfg["baseline"], sort_keys=True)
    else:
        sig = f"{system}|{_signature(_train_config(cfg, system))}"
    if extra:
        p = cfg["pseudo"]
        sig += f"|pseudo:cap={p['cap']},seed={p['seed']},sense={p['sense']},oov={p['oov']},control={p['control']},n_locales={len(extra)}"
    if base_system(system) == "translate-train+adapt":
        sig += f"|adapt:{cfg['adapt']['config']}"
    if cfg["eval"]["limit"]:
        sig += f"|eval_sample:{cfg['eval']['limit']}"
    return sig


def base_system(name: str) -> str:
    """``zero-shot:1ep`` -> ``zero-shot``: a system may carry a label (a variant with its own ``overrides``)."""
    return name.split(":", 1)[0]


def _train_config(cfg: Mapping, system: str) -> dict:
    """The system's training settings: ``train`` with the system's ``overrides`` applied."""
    return {**cfg["train"], **cfg.get("overrides", {}).get(system, {})}


def _adapted_model(cfg: Mapping, out: Path, *, device: str, progress: bool) -> str:
    """Run lexiconlm.adapt.run.adapt once (resumable) and return its model folder."""
    try:
        from lexiconlm.adapt.run import adapt
    except ImportError as exc:
        raise ConfigError([f"translate-train+adapt -> lexiconlm.adapt.run.adapt is not available ({exc})"]) from None
    metrics = adapt(Path(cfg["adapt"]["config"]), out_dir=out / "adapt", device=device, resume=True, progress=progress)
    return str(metrics["model_dir"])
