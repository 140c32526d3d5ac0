"""The configuration of an adaptation run (``configs/adapt/*.yaml``): defaults, validation, signature.

A configuration is a YAML file or a dict with these keys (defaults in :data:`DEFAULTS`)::

    # lexiconlm adapt run --config configs/adapt/tiny.yaml --out runs/adapt/tiny
    base_model: e5-small          # a name lexiconlm.adapt.models.resolve_model knows, a local
                                  # HF folder, or builtin:tiny (a tiny model built on the fly)
    language: amh                 # target language (ISO 639-3, BCP-47 or name)
    script: Ethi                  # ISO 15924; default: the catalog's first script of the language
    source_language: eng          # the language the base knows well (phonology init)
    source_script: Latn
    text:
      train: [data/amh.txt]       # files read_text reads; texts passed to adapt() are added
      heldout: []                 # files for the held-out MLM loss; empty: a slice of train
      heldout_fraction: 0.1       # the last 10% of the train segments (never trained on)
      max_segments: null          # cap on training segments (files are read in order)
    lexicon: data/en_am.tsv       # optional; needed by init lexicon
    tokenizer:
      new_tokens: 4000            # pieces to add (0: keep the base vocabulary)
      trainer_vocab_size: null    # vocabulary of the tokenizer trained on the target text
      min_frequency: 2
    init:
      method: lexicon.v1          # random | mean | lexicon | overlap | phonology (+ .vN)
      options: {}                 # method settings, e.g. {k: 3, max_distance: 0.5}
    mlm:
      steps: 200                  # optimizer steps
      batch_size: 16              # sequences per step on each process, before accumulation
      grad_accum: 1
      lr: 5.0e-4
      weight_decay: 0.01
      warmup_steps: 0
      seq_len: 128
      mlm_probability: 0.15
      save_every: 100             # checkpoint every N steps (0: only at the end)
      freeze_body: false          # train only the embeddings and the MLM head
      train_rows: all             # all | new: "new" keeps the base vocabulary's rows (input and
                                  # output embeddings, output bias) fixed, so only the new pieces move
      precision: auto             # auto (bf16 on CUDA, fp32 on CPU) | bf16 | fp32
      eval_segments: 256          # held-out blocks the MLM loss is measured on
      log_every: 10
      peak_tflops: null           # peak of the device, for MFU where it is not known
    seed: 13

Relative paths are taken relative to the YAML file's folder (relative to the working folder
for a dict). :func:`load_config` checks everything and raises one
:class:`~lexiconlm.errors.ConfigError` listing every problem; ``overrides`` (``key=value``,
dotted keys, YAML values) are applied first.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable

from lexiconlm.errors import ConfigError

__all__ = ["DEFAULTS", "load_config", "apply_overrides", "config_signature", "RESUME_EXEMPT"]

DEFAULTS: dict[str, Any] = {
    "base_model": None,
    "language": None,
    "script": None,
    "source_language": "eng",
    "source_script": "Latn",
    "text": {"train": [], "heldout": [], "heldout_fraction": 0.1, "max_segments": None},
    "lexicon": None,
    "tokenizer": {"new_tokens": 1000, "trainer_vocab_size": None, "min_frequency": 2},
    "init": {"method": "mean.v1", "options": {}},
    "mlm": {
        "steps": 100,
        "batch_size": 16,
        "grad_accum": 1,
        "lr": 5.0e-4,
        "weight_decay": 0.01,
        "warmup_steps": 0,
        "seq_len": 128,
        "mlm_probability": 0.15,
        "save_every": 100,
        "freeze_body": False,
        "train_rows": "all",
        "precision": "auto",
        "eval_segments": 256,
        "log_every": 10,
        "peak_tflops": None,
    },
    "seed": 13,
}

#: Settings that may change between a run and its resumption (they do not change the result).
RESUME_EXEMPT = ("mlm.save_every", "mlm.log_every", "mlm.peak_tflops")

_INT_KEYS = {
    "tokenizer.new_tokens": 0, "tokenizer.min_frequency": 1, "mlm.steps": 0, "mlm.batch_size": 1,
    "mlm.grad_accum": 1, "mlm.warmup_steps": 0, "mlm.seq_len": 8, "mlm.save_every": 0,
    "mlm.eval_segments": 1, "mlm.log_every": 1, "seed": 0,
}
_FLOAT_KEYS = {"mlm.lr": (0.0, None), "mlm.weight_decay": (0.0, None), "mlm.mlm_probability": (0.0, 1.0),
               "text.heldout_fraction": (0.0, 1.0)}


def _set(cfg: dict, dotted: str, value: Any) -> None:
    node = cfg
    parts = dotted.split(".")
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[parts[-1]] = value


def apply_overrides(cfg: dict, overrides: Iterable[str]) -> dict:
    """A copy of ``cfg`` with ``key=value`` overrides (dotted keys, values parsed as YAML).

    Raises:
        ConfigError: an override without ``=``.
    """
    import yaml

    out = copy.deepcopy(cfg)
    bad = []
    for item in overrides:
        if "=" not in item:
            bad.append(f"--set {item!r}: expected key=value, e.g. mlm.steps=200")
            continue
        key, raw = item.split("=", 1)
        _set(out, key.strip(), yaml.safe_load(raw) if raw.strip() else None)
    if bad:
        raise ConfigError(bad)
    return out


def _merge(defaults: dict, given: dict, prefix: str, problems: list[str]) -> dict:
    out = copy.deepcopy(defaults)
    for key, value in given.items():
        loc = f"{prefix}{key}"
        if key not in defaults:
            close = difflib.get_close_matches(str(key), list(defaults), 3, 0.5)
            problems.append(f"{loc}: unknown key" + (f" (did you mean: {', '.join(close)}?)" if close else
                                                     f" (known: {', '.join(defaults)})"))
            continue
        if isinstance(defaults[key], dict) and key != "options" and not (key == "init" and isinstance(value, str)):
            if not isinstance(value, dict):
                problems.append(f"{loc}: expected a mapping, got {type(value).__name__}")
                continue
            out[key] = _merge(defaults[key], value, f"{loc}.", problems)
        else:
            out[key] = value
    return out


def _get(cfg: dict, dotted: str) -> Any:
    node: Any = cfg
    for p in dotted.split("."):
        node = node[p]
    return node


def _paths(value: Any, loc: str, base: Path, problems: list[str]) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, (str, os.PathLike)) else value
    if not isinstance(items, list):
        problems.append(f"{loc}: expected a path or a list of paths, got {type(value).__name__}")
        return []
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, (str, os.PathLike)) or not str(item):
            problems.append(f"{loc}[{i}]: expected a path, got {item!r}")
            continue
        p = Path(os.path.expanduser(str(item)))
        p = p if p.is_absolute() else base / p
        if not p.exists():
            problems.append(f"{loc}[{i}]: {p} does not exist")
            continue
        out.append(str(p.resolve()))
    return out


def load_config(config: dict | str | os.PathLike, overrides: Iterable[str] = (), *,
                has_texts: bool = False, has_lexicon: bool = False) -> dict:
    """Read, complete and check an adaptation configuration.

    Args:
        config: a YAML file or a dict (see the module docstring).
        overrides: ``key=value`` strings applied before validation.
        has_texts: texts are passed to ``adapt()`` directly (``text.train`` may be empty).
        has_lexicon: a lexicon is passed to ``adapt()`` directly.

    Returns:
        The resolved configuration: every key present, paths absolute, ``init.method``
        versioned, ``language`` an ISO 639-3 code and ``script`` set.

    Raises:
        ConfigError: lists every problem (``loc: message``).
    """
    import yaml

    source = ""
    if isinstance(config, dict):
        raw, base = copy.deepcopy(config), Path.cwd()
    else:
        path = Path(config)
        source = str(path)
        if not path.is_file():
            raise ConfigError([f"{path}: no such configuration file"], source)
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError([f"{path}: not valid YAML: {exc}"], source) from None
        base = path.resolve().parent
        if not isinstance(raw, dict):
            raise ConfigError([f"{path}: expected a mapping at the top level"], source)
    raw = apply_overrides(raw, overrides)
    problems: list[str] = []
    if isinstance(raw.get("init"), str):
        raw["init"] = {"method": raw["init"]}
    cfg = _merge(DEFAULTS, raw, "", problems)

    if not cfg["base_model"] or not isinstance(cfg["base_model"], str):
        problems.append("base_model: required (e5-small, a local model folder, or builtin:tiny)")
    elif not cfg["base_model"].startswith("builtin:"):
        p = Path(os.path.expanduser(cfg["base_model"]))
        if not p.is_absolute() and (base / p).exists():
            cfg["base_model"] = str((base / p).resolve())
    elif cfg["base_model"] not in ("builtin:tiny",):
        problems.append(f"base_model: unknown builtin {cfg['base_model']!r} (known: builtin:tiny)")

    for key, low in _INT_KEYS.items():
        v = _get(cfg, key)
        if isinstance(v, bool) or not isinstance(v, int):
            problems.append(f"{key}: expected an integer, got {v!r}")
        elif v < low:
            problems.append(f"{key}: must be >= {low}, got {v}")
    for key, (low, high) in _FLOAT_KEYS.items():
        v = _get(cfg, key)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            problems.append(f"{key}: expected a number, got {v!r}")
        elif v < low or (high is not None and v >= high):
            problems.append(f"{key}: must be in [{low}, {high if high is not None else 'inf'}), got {v}")
    if not isinstance(cfg["mlm"]["freeze_body"], bool):
        problems.append(f"mlm.freeze_body: expected true or false, got {cfg['mlm']['freeze_body']!r}")
    if cfg["mlm"]["train_rows"] not in ("all", "new"):
        problems.append(f"mlm.train_rows: expected all or new, got {cfg['mlm']['train_rows']!r}")
    if cfg["mlm"]["precision"] not in ("auto", "bf16", "fp32"):
        problems.append(f"mlm.precision: expected auto, bf16 or fp32, got {cfg['mlm']['precision']!r}")
    pt = cfg["mlm"]["peak_tflops"]
    if pt is not None and (isinstance(pt, bool) or not isinstance(pt, (int, float)) or pt <= 0):
        problems.append(f"mlm.peak_tflops: expected a positive number or null, got {pt!r}")
    ms = cfg["text"]["max_segments"]
    if ms is not None and (isinstance(ms, bool) or not isinstance(ms, int) or ms < 1):
        problems.append(f"text.max_segments: expected a positive integer or null, got {ms!r}")
    tvs = cfg["tokenizer"]["trainer_vocab_size"]
    if tvs is not None and (isinstance(tvs, bool) or not isinstance(tvs, int) or tvs < 1):
        problems.append(f"tokenizer.trainer_vocab_size: expected a positive integer or null, got {tvs!r}")

    # language and script
    from lexiconlm.errors import UnknownLanguageError
    from lexiconlm.languages import get_catalog

    lang = None
    if not cfg["language"] or not isinstance(cfg["language"], str):
        problems.append("language: required (the target language, e.g. amh)")
    else:
        try:
            lang = get_catalog().lookup(cfg["language"])
            cfg["language"] = lang.iso639_3
        except UnknownLanguageError as exc:
            problems.append(f"language: {exc}")
    for key in ("source_language",):
        try:
            cfg[key] = get_catalog().lookup(str(cfg[key])).iso639_3
        except UnknownLanguageError as exc:
            problems.append(f"{key}: {exc}")
    if cfg["script"] is None and lang is not None:
        cfg["script"] = lang.scripts[0] if lang.scripts else None
    for key in ("script", "source_script"):
        v = cfg[key]
        if v is not None and (not isinstance(v, str) or len(v) != 4 or not v[0].isupper() or not v[1:].islower()):
            problems.append(f"{key}: expected an ISO 15924 code such as Latn or Ethi, got {v!r}")

    # init method
    from lexiconlm.adapt.init import resolve_init
    from lexiconlm.errors import UnknownNameError

    method = cfg["init"].get("method")
    try:
        cfg["init"]["method"] = resolve_init(str(method))[0]
    except UnknownNameError as exc:
        problems.append(f"init.method: {exc}")
    if not isinstance(cfg["init"].get("options"), dict):
        problems.append(f"init.options: expected a mapping, got {cfg['init'].get('options')!r}")

    # files
    cfg["text"]["train"] = _paths(cfg["text"]["train"], "text.train", base, problems)
    cfg["text"]["heldout"] = _paths(cfg["text"]["heldout"], "text.heldout", base, problems)
    if not cfg["text"]["train"] and not has_texts:
        problems.append("text.train: no target-language text (name files, or pass texts=... to adapt())")
    if cfg["lexicon"] is not None:
        found = _paths(cfg["lexicon"], "lexicon", base, problems)
        cfg["lexicon"] = found[0] if found else None
        if isinstance(raw.get("lexicon"), list):
            problems.append("lexicon: expected one file")
    if cfg["init"]["method"] == "lexicon.v1" and cfg["lexicon"] is None and not has_lexicon \
            and not any(p.startswith("lexicon") for p in problems):
        problems.append("lexicon: init method lexicon.v1 needs a lexicon (set `lexicon:` or pass lexicon=...)")
    if not cfg["text"]["heldout"] and cfg["text"]["heldout_fraction"] <= 0:
        problems.append("text.heldout_fraction: must be > 0 when no text.heldout files are given")
    if problems:
        raise ConfigError(problems, source)
    return cfg


def config_signature(cfg: dict, *, extra: dict | None = None) -> str:
    """A short hash of everything in ``cfg`` that changes a run's result (:data:`RESUME_EXEMPT` left out)."""
    data = copy.deepcopy(cfg)
    for key in RESUME_EXEMPT:
        parts = key.split(".")
        data[parts[0]].pop(parts[1], None)
    if data.get("mlm", {}).get("train_rows") == "all":  # the default: signatures of earlier runs stay valid
        data["mlm"].pop("train_rows")
    if extra:
        data["_extra"] = extra
    blob = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def config_diff(old: dict, new: dict, prefix: str = "") -> list[str]:
    """``key: old -> new`` for every setting that differs (nested dicts walked)."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        loc = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(config_diff(a, b, f"{loc}."))
        elif a != b and loc not in RESUME_EXEMPT:
            out.append(f"{loc}: {a!r} -> {b!r}")
    return out
