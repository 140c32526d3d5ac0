"""The configuration of an adaptation run (``configs/adapt/*.yaml``): defaults, validation, signature.

A configuration is a YAML file or a dict with these keys (defaults in :data:`DEFAULTS`)::

    # lexiconlm adapt run --config configs/adapt/tiny.yaml --out runs/adapt/tiny
    base_model: e5-small          # a name lexiconlm.models.resolve_model knows, a local
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
      head_steps: 0               # first train a fresh MLM head alone (checkpoints without one)
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
for a dict). :func:`load_config` reads, overrides and merges with :mod:`lexiconlm.config` (the
package's one configuration toolkit), checks everything and raises one
:class:`~lexiconlm.errors.ConfigError` listing every problem (``loc -> message``, e.g.
``mlm.precison -> unknown key. Did you mean: precision?``); ``overrides`` (``key=value``,
dotted keys, YAML values) are applied first.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Iterable
from typing import Any

from lexiconlm.adapt.init import resolve_init
from lexiconlm.config import (
    apply_overrides,
    check_bool,
    check_choice,
    check_int,
    check_number,
    get_dotted,
    merge,
    read_config,
    resolve_existing,
    resolve_paths,
)
from lexiconlm.errors import UnknownLanguageError, UnknownNameError
from lexiconlm.languages import get_catalog
from lexiconlm.models import model_id
from lexiconlm.signature import Signature, lexicon_id

__all__ = ["DEFAULTS", "RESUME_EXEMPT", "apply_overrides", "config_signature", "load_config"]

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
        "head_steps": 0,
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

#: Free-form mappings (the init method's own settings, checked by the method).
_FREE = ("init.options",)
_INT_KEYS = {
    "tokenizer.new_tokens": 0,
    "tokenizer.min_frequency": 1,
    "mlm.steps": 0,
    "mlm.head_steps": 0,
    "mlm.batch_size": 1,
    "mlm.grad_accum": 1,
    "mlm.warmup_steps": 0,
    "mlm.seq_len": 8,
    "mlm.save_every": 0,
    "mlm.eval_segments": 1,
    "mlm.log_every": 1,
    "seed": 0,
}
_OPTIONAL_INT_KEYS = ("text.max_segments", "tokenizer.trainer_vocab_size")
_FLOAT_KEYS = {
    "mlm.lr": (0.0, None),
    "mlm.weight_decay": (0.0, None),
    "mlm.mlm_probability": (0.0, 1.0),
    "text.heldout_fraction": (0.0, 1.0),
}


def _init_shorthand(values: dict) -> dict:
    """``init: mean`` is short for ``init: {method: mean}``."""
    if isinstance(values.get("init"), str):
        values["init"] = {"method": values["init"]}
    return values


def load_config(
    config: dict | str | os.PathLike,
    overrides: Iterable[str] = (),
    *,
    has_texts: bool = False,
    has_lexicon: bool = False,
) -> dict:
    """Read, complete and check an adaptation configuration.

    Args:
        config: a YAML file or a dict (see the module docstring).
        overrides: ``key=value`` strings applied before validation (dotted keys, YAML values).
        has_texts: texts are passed to ``adapt()`` directly (``text.train`` may be empty).
        has_lexicon: a lexicon is passed to ``adapt()`` directly.

    Returns:
        The resolved configuration: every key present, paths absolute, ``init.method``
        versioned, ``language`` an ISO 639-3 code and ``script`` set.

    Raises:
        ConfigError: lists every problem (``loc -> message``).

    Example:
        >>> cfg = load_config("configs/adapt/tiny.yaml", ["mlm.steps=5"])  # doctest: +SKIP
        >>> cfg["mlm"]["steps"], cfg["init"]["method"]                      # doctest: +SKIP
        (5, 'lexicon.v1')
    """
    raw = read_config(config)
    problems, base = raw.problems, raw.base
    given = _init_shorthand(raw.values)
    for item in overrides:  # one at a time: `--set init=mean --set init.options.k=3` works
        given = _init_shorthand(
            apply_overrides(given, [item], defaults=DEFAULTS, free=_FREE, problems=problems, example="mlm.steps=200")
        )
    cfg = merge(DEFAULTS, given, problems=problems, free=_FREE)

    if not cfg["base_model"] or not isinstance(cfg["base_model"], str):
        problems.append("base_model -> required (e5-small, a local model folder, or builtin:tiny)")
    elif not cfg["base_model"].startswith("builtin:"):
        resolve_existing(cfg, ["base_model"], base)
    elif cfg["base_model"] not in ("builtin:tiny",):
        problems.append(f"base_model -> unknown builtin {cfg['base_model']!r} (known: builtin:tiny)")

    for key, low in _INT_KEYS.items():
        check_int(get_dotted(cfg, key), key, problems, minimum=low)
    for key in _OPTIONAL_INT_KEYS:
        check_int(get_dotted(cfg, key), key, problems, minimum=1, optional=True)
    for key, (low, high) in _FLOAT_KEYS.items():
        check_number(get_dotted(cfg, key), key, problems, low=low, high=high, high_open=True)
    check_bool(cfg["mlm"]["freeze_body"], "mlm.freeze_body", problems)
    check_choice(cfg["mlm"]["train_rows"], "mlm.train_rows", ("all", "new"), problems)
    check_choice(cfg["mlm"]["precision"], "mlm.precision", ("auto", "bf16", "fp32"), problems)
    check_number(cfg["mlm"]["peak_tflops"], "mlm.peak_tflops", problems, low=0, low_open=True, optional=True)

    # language and script
    lang = None
    if not cfg["language"] or not isinstance(cfg["language"], str):
        problems.append("language -> required (the target language, e.g. amh)")
    else:
        try:
            lang = get_catalog().lookup(cfg["language"])
            cfg["language"] = lang.iso639_3
        except UnknownLanguageError as exc:
            problems.append(f"language -> {exc}")
    try:
        cfg["source_language"] = get_catalog().lookup(str(cfg["source_language"])).iso639_3
    except UnknownLanguageError as exc:
        problems.append(f"source_language -> {exc}")
    if cfg["script"] is None and lang is not None:
        cfg["script"] = lang.scripts[0] if lang.scripts else None
    for key in ("script", "source_script"):
        v = cfg[key]
        if v is not None and (not isinstance(v, str) or len(v) != 4 or not v[0].isupper() or not v[1:].islower()):
            problems.append(f"{key} -> expected an ISO 15924 code such as Latn or Ethi, got {v!r}")

    # init method
    try:
        cfg["init"]["method"] = resolve_init(str(cfg["init"].get("method")))[0]
    except UnknownNameError as exc:
        problems.append(f"init.method -> {exc}")

    # files
    n_before = len(problems)
    resolve_paths(cfg, {"text.train": "list", "text.heldout": "list", "lexicon": "one"}, base, problems)
    for key in ("train", "heldout"):
        cfg["text"][key] = [str(p) for p in cfg["text"][key] if p.exists()]
    if cfg["lexicon"] is not None:
        cfg["lexicon"] = str(cfg["lexicon"]) if cfg["lexicon"].exists() else None
    lexicon_problem = any(p.startswith("lexicon") for p in problems[n_before:])
    if not cfg["text"]["train"] and not has_texts:
        problems.append("text.train -> no target-language text (name files, or pass texts=... to adapt())")
    if cfg["init"]["method"] == "lexicon.v1" and cfg["lexicon"] is None and not has_lexicon and not lexicon_problem:
        problems.append("lexicon -> init method lexicon.v1 needs a lexicon (set `lexicon:` or pass lexicon=...)")
    fraction = cfg["text"]["heldout_fraction"]
    if not cfg["text"]["heldout"] and isinstance(fraction, (int, float)) and fraction <= 0:
        problems.append("text.heldout_fraction -> must be > 0 when no text.heldout files are given")
    raw.raise_problems()
    return cfg


def config_signature(cfg: dict, *, extra: dict | None = None) -> str:
    """The run's :class:`~lexiconlm.signature.Signature`: the base model (its portable name,
    :func:`lexiconlm.models.model_id`), language, init method and a hash of everything in
    ``cfg`` (and ``extra``) that changes the result, :data:`RESUME_EXEMPT` left out.

    A resumed run is refused when its signature differs. The lexiconlm version is not part
    of it (``plan.json`` records it), so a run resumes after an upgrade.

    Example:
        >>> config_signature(cfg)  # doctest: +SKIP
        'adapt:mlm.v1|model:e5-small|lang:amh|init:lexicon.v1|config:3f0c2a9e41d7'
    """
    data = copy.deepcopy(cfg)
    for key in RESUME_EXEMPT:
        parts = key.split(".")
        data[parts[0]].pop(parts[1], None)
    if data.get("mlm", {}).get("train_rows") == "all":  # the default: earlier hashes stay valid
        data["mlm"].pop("train_rows")
    if not data.get("mlm", {}).get("head_steps"):
        data.get("mlm", {}).pop("head_steps", None)
    # paths by their portable names: the same run hashes the same on every machine
    data["base_model"] = model_id(str(cfg.get("base_model")))
    if data.get("lexicon"):
        data["lexicon"] = lexicon_id(data["lexicon"])
    for key in ("train", "heldout"):
        files = (data.get("text") or {}).get(key)
        if isinstance(files, list):
            data["text"][key] = [lexicon_id(f) for f in files]
    if extra:
        data["_extra"] = extra
    blob = json.dumps(data, sort_keys=True, default=str)
    digest = hashlib.sha256(blob.encode()).hexdigest()[:12]
    return str(
        Signature.from_pairs(
            [
                ("adapt", "mlm.v1"),
                ("model", model_id(str(cfg.get("base_model")))),
                ("lang", cfg.get("language")),
                ("init", (cfg.get("init") or {}).get("method")),
                ("config", digest),
            ],
            version=False,
        )
    )


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
