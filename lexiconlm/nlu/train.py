"""Train the joint intent + slot model (:mod:`lexiconlm.nlu.model`) with a plain torch loop.

CPU or GPU (bf16 autocast on CUDA, fp32 on CPU); dynamic padding with
length-bucketed batches; optional frozen word embeddings (the MASSIVE zero-shot
recipe); model selection on a dev set; a checkpoint every ``checkpoint_every``
steps and at each epoch end, from which a killed run resumes exactly (same
batches, same dropout, same optimizer state). A resume whose configuration or
training data differ from the checkpoint's is refused with a :class:`ConfigError`.

Run folder (``out_dir``)::

    run.json              resolved configuration, data fingerprint, signature
    checkpoint/           trainable weights, optimizer, scheduler, RNG states, position and the
                          running loss of the epoch (state.json + tensors.safetensors, no pickle;
                          see lexiconlm.training)
    model/                the selected model (HF-style folder, see lexiconlm.nlu.model)
    history.jsonl         one line per epoch: loss, dev figures, seconds
    scratch_tokenizer/    only for ``model: {scratch: ...}``: the tokenizer trained on the data

Example:
    >>> train_joint("configs/nlu/tiny-cpu.yaml", train=[ds], dev=dev, out_dir=Path("runs/nlu/tiny"))  # doctest: +SKIP
    PosixPath('runs/nlu/tiny/model')
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from lexiconlm.config import load, raise_problems, resolve_existing, unknown_key
from lexiconlm.devices import resolve_device
from lexiconlm.errors import ConfigError
from lexiconlm.files import atomic_write_text
from lexiconlm.models import load_encoder, load_tokenizer, model_id
from lexiconlm.nlu.evaluate import predict_tags
from lexiconlm.nlu.metrics import score_tags
from lexiconlm.signature import Signature
from lexiconlm.types import NLUDataset, Utterance

__all__ = [
    "DEFAULTS",
    "load_train_config",
    "validate_train_config",
    "train_config_problems",
    "train_joint",
    "resolve_device",
    "label_maps_for",
]

#: Every training setting and its default.
DEFAULTS: dict[str, Any] = {
    "model": "e5-small",
    "max_len": 32,
    "batch_size": 32,
    "epochs": 2,
    "lr": 5e-5,
    "head_lr": 1e-3,
    "weight_decay": 0.01,
    "warmup_ratio": 0.1,
    "freeze_embeddings": True,
    "pooling": "first",
    "dropout": 0.1,
    "slot_weight": 1.0,
    "seed": 13,
    "select_metric": "exact_match",
    "checkpoint_every": 200,
    "bucket_factor": 50,
    "eval_batch_size": 128,
    "max_steps": None,
    "intents_file": None,
    "slots_file": None,
}
_SCRATCH_KEYS = {
    "hidden_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "vocab_size": 400,
}
_METRICS = ("intent_accuracy", "slot_f1", "exact_match")


def load_train_config(config: Mapping | str | os.PathLike) -> dict:
    """A training config from a dict or a YAML file (its ``train:`` section if it has one),
    defaults filled in, validated (read and merged with :mod:`lexiconlm.config`).

    Relative ``intents_file``/``slots_file``/``model`` paths in a YAML are taken relative to
    the YAML's folder when they exist there.

    Raises:
        ConfigError: lists every problem (unknown keys with a did-you-mean, wrong types,
            bad values).
    """
    raw = load(
        config, DEFAULTS, section="train", hint="NLU configs live in configs/nlu/, e.g. configs/nlu/tiny-cpu.yaml"
    )
    if raw.source:
        resolve_existing(raw.values, ("intents_file", "slots_file", "model"), raw.base)
    raw.problems.extend(train_config_problems(raw.values))
    raw.raise_problems()
    return raw.values


def validate_train_config(cfg: Mapping) -> None:
    """Check every setting; raises one :class:`ConfigError` listing all problems."""
    raise_problems(train_config_problems(cfg))


def train_config_problems(cfg: Mapping) -> list[str]:
    """Every problem of a complete training config (``key -> message``; unknown keys included)."""
    problems: list[str] = [unknown_key(str(k), k, DEFAULTS) for k in cfg if k not in DEFAULTS]

    def need(key: str, kind, cond=lambda v: True, what: str = "") -> None:
        v = cfg.get(key)
        if isinstance(v, bool) and kind is not bool:
            problems.append(f"{key} -> expected {what or kind.__name__}, got {v!r}")
        elif not isinstance(v, kind) or not cond(v):
            problems.append(f"{key} -> expected {what or kind.__name__}, got {v!r}")

    need("max_len", int, lambda v: v >= 4, "an integer >= 4")
    need("batch_size", int, lambda v: v >= 1, "an integer >= 1")
    need("eval_batch_size", int, lambda v: v >= 1, "an integer >= 1")
    need("epochs", int, lambda v: v >= 1, "an integer >= 1")
    need("checkpoint_every", int, lambda v: v >= 1, "an integer >= 1")
    need("bucket_factor", int, lambda v: v >= 1, "an integer >= 1")
    need("seed", int, what="an integer")
    need("lr", (int, float), lambda v: v > 0, "a positive number")
    need("head_lr", (int, float), lambda v: v > 0, "a positive number")
    need("weight_decay", (int, float), lambda v: v >= 0, "a number >= 0")
    need("warmup_ratio", (int, float), lambda v: 0 <= v < 1, "a number in [0, 1)")
    need("dropout", (int, float), lambda v: 0 <= v < 1, "a number in [0, 1)")
    need("slot_weight", (int, float), lambda v: v >= 0, "a number >= 0")
    need("freeze_embeddings", bool, what="true or false")
    if cfg.get("pooling") not in ("first", "mean"):
        problems.append(f"pooling -> expected 'first' or 'mean', got {cfg.get('pooling')!r}")
    if cfg.get("select_metric") not in _METRICS:
        problems.append(f"select_metric -> expected one of {', '.join(_METRICS)}, got {cfg.get('select_metric')!r}")
    ms = cfg.get("max_steps")
    if ms is not None and (isinstance(ms, bool) or not isinstance(ms, int) or ms < 1):
        problems.append(f"max_steps -> expected null or an integer >= 1, got {ms!r}")
    for k in ("intents_file", "slots_file"):
        v = cfg.get(k)
        if v is not None and not (isinstance(v, str) and Path(v).is_file()):
            problems.append(f"{k} -> no such file: {v!r}")
    m = cfg.get("model")
    if isinstance(m, Mapping):
        if set(m) != {"scratch"} or not isinstance(m.get("scratch"), Mapping):
            problems.append("model -> a name/path, or {scratch: {hidden_size: .., num_hidden_layers: .., ...}}")
        else:
            problems.extend(
                unknown_key(f"model.scratch.{k}", k, _SCRATCH_KEYS) for k in m["scratch"] if k not in _SCRATCH_KEYS
            )
            for k, v in m["scratch"].items():
                if k in _SCRATCH_KEYS and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                    problems.append(f"model.scratch.{k} -> expected a positive integer, got {v!r}")
    elif not isinstance(m, str) or not m:
        problems.append(f"model -> expected a model name or folder, got {m!r}")
    return problems


def _read_label_file(path: str | None) -> list[str]:
    """First column of intents.tsv / slots.tsv (header skipped)."""
    if not path:
        return []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [ln.split("\t")[0] for ln in lines[1:] if ln.strip()]


def label_maps_for(train: Sequence[Utterance], cfg: Mapping):
    """Label maps: every intent / slot label of the training data and of the label files (sorted)."""
    from lexiconlm.nlu.model import LabelMaps

    intents = set(_read_label_file(cfg.get("intents_file"))) | {u.intent for u in train}
    slots = set(_read_label_file(cfg.get("slots_file"))) | {s.label for u in train for s in u.slots}
    return LabelMaps(tuple(sorted(intents)), tuple(sorted(slots)))


def _fingerprint(utts: Sequence[Utterance]) -> str:
    h = hashlib.sha256()
    for u in utts:
        h.update(f"{u.locale}\t{u.id}\t{u.intent}\t{' '.join(u.tokens)}\t{u.bio}\n".encode("utf-8"))
    return h.hexdigest()[:16]


def _signature(cfg: Mapping) -> str:
    """The run's :class:`~lexiconlm.signature.Signature`, e.g.
    ``nlu:joint.v1|model:e5-small|pool:first|...|seed:13|select:exact_match|lexiconlm:0.1.0``
    (the model by its portable name, :func:`lexiconlm.models.model_id`)."""
    m = cfg["model"]
    if isinstance(m, Mapping):
        model = f"scratch{json.dumps(dict(m['scratch']), sort_keys=True)}"
    else:
        model = model_id(str(m))
    return str(
        Signature.from_pairs(
            [
                ("nlu", "joint.v1"),
                ("model", model),
                ("pool", cfg["pooling"]),
                ("max_len", cfg["max_len"]),
                ("bs", cfg["batch_size"]),
                ("ep", cfg["epochs"]),
                ("lr", cfg["lr"]),
                ("head_lr", cfg["head_lr"]),
                ("frozen_emb", cfg["freeze_embeddings"]),
                ("seed", cfg["seed"]),
                ("select", cfg["select_metric"]),
            ]
        )
    )


def _scratch_encoder(spec: Mapping, texts: Sequence[str], seed: int, tok_dir: Path):
    """A tiny random BERT and a WordPiece tokenizer trained on the training texts (for smoke tests);
    the tokenizer is kept in ``tok_dir`` so that a resumed run uses the same one."""
    from transformers import PreTrainedTokenizerFast

    from lexiconlm.training import build_tiny_model  # imports torch

    p = {**_SCRATCH_KEYS, **dict(spec), "max_position_embeddings": 128}
    fresh = not (tok_dir / "tokenizer.json").exists()
    tok = "wordpiece-whitespace.v1" if fresh else PreTrainedTokenizerFast.from_pretrained(tok_dir)
    encoder, tok = build_tiny_model(texts, p, tokenizer=tok, masked_lm=False, seed=seed)
    if fresh:
        tok.save_pretrained(tok_dir)
        # the tokenizer as a resumed run reads it: the model saved later is then the same file
        # (one loaded from disk records is_local/local_files_only in its tokenizer_config.json)
        tok = PreTrainedTokenizerFast.from_pretrained(tok_dir)
    return encoder, tok


def _batches(lengths: Sequence[int], batch_size: int, factor: int, seed: int, epoch: int) -> list[list[int]]:
    """Length-bucketed batches for one epoch: shuffle, sort within pools of batch_size*factor, shuffle the batches."""
    rng = np.random.default_rng((seed, epoch))
    order = rng.permutation(len(lengths)).tolist()
    pool = batch_size * factor
    batches: list[list[int]] = []
    for i in range(0, len(order), pool):
        chunk = sorted(order[i : i + pool], key=lambda k: lengths[k])
        batches.extend(chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size))
    perm = rng.permutation(len(batches)).tolist()
    return [batches[k] for k in perm]


_RESTART = "rerun with --no-resume (resume=False) to start the run over"


def _diff(old: Mapping, new: Mapping) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [f"{k}: checkpoint has {old.get(k)!r}, now {new.get(k)!r}" for k in keys if old.get(k) != new.get(k)]


def train_joint(
    config: Mapping | str | os.PathLike,
    *,
    train: Sequence[NLUDataset],
    dev: NLUDataset | None,
    out_dir: Path,
    device: str = "auto",
    resume: bool = True,
    progress: bool = True,
    stop_after_steps: int | None = None,
) -> Path:
    """Train (or resume) a joint model; returns the selected model's folder (``out_dir/model``).

    Args:
        config: a dict or a YAML file (see :data:`DEFAULTS`; a YAML may hold it under ``train:``).
        train: training datasets (concatenated; e.g. en-US train + pseudo-labelled locales).
        dev: selection set (the model with the best ``select_metric`` on it is kept); None keeps the last epoch.
        out_dir: the run folder (created).
        device: ``auto``, ``cpu``, ``cuda``.
        resume: continue from ``out_dir/checkpoint`` if present (refused when the config or data changed);
            False starts over.
        progress: show a progress bar.
        stop_after_steps: stop (leaving a checkpoint) after this many optimizer steps in this call,
            as if the process had been killed (for tests of exact resume).

    Returns:
        ``out_dir/model``.

    Raises:
        ConfigError: invalid settings, or a resume with other settings / other data than the checkpoint.
        CheckpointError: the checkpoint is truncated or damaged, or an old pickle ``state.pt``
            (never opened); the message names the file and how to start over.
    """
    import torch

    from lexiconlm import training  # imports torch
    from lexiconlm.nlu.model import JointModel, encode_batch

    cfg = load_train_config(config)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dev_name = device
    device = resolve_device(device)
    utts = [u for ds in train for u in ds]
    if not utts:
        raise ConfigError(["train -> no training utterances"])
    labels = label_maps_for(utts, cfg)
    run = {
        # kind/name/languages/created: the run-folder layout the app reads (docs/run-folders.md)
        "kind": "massive",
        "name": f"joint intent + slot model ({out_dir.name})",
        "languages": sorted({ds.language.iso639_3 for ds in train if ds.language.iso639_3}),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "config": {k: cfg[k] for k in sorted(cfg) if k != "max_steps" or cfg[k] is not None},
        "data": {
            "n_train": len(utts),
            "train_sha": _fingerprint(utts),
            "dev_sha": _fingerprint(list(dev)) if dev is not None else None,
            "train_files": [ds.provenance.path for ds in train],
        },
        "signature": _signature(cfg),
    }
    ckpt_path = out_dir / "checkpoint"
    run_path = out_dir / "run.json"
    state = None
    if resume and training.checkpoint_exists(ckpt_path) and run_path.exists():
        old = json.loads(run_path.read_text(encoding="utf-8"))
        old_cfg = dict(old.get("config", {}))
        if old_cfg.get("model") != cfg.get("model") and _same_model(old_cfg.get("model"), cfg.get("model")):
            old_cfg["model"] = cfg["model"]  # an alias and the folder it resolves to name the same model
        problems = _diff(old_cfg, json.loads(json.dumps(run["config"])))
        problems += _diff(
            {k: v for k, v in old.get("data", {}).items() if k != "train_files"},
            {k: v for k, v in run["data"].items() if k != "train_files"},
        )
        if problems:
            raise ConfigError(
                problems
                + [
                    f"resume with the checkpoint's settings and data, or start over: "
                    f"remove {out_dir} or pass resume=False (--no-resume)"
                ],
                f"(resume of {out_dir})",
            )
        state = training.load_checkpoint(ckpt_path, restart_hint=_RESTART)
        if state.get("done") and (out_dir / "model" / "nlu.json").exists():
            return out_dir / "model"
    elif not resume:
        training.remove_checkpoint(ckpt_path)
    atomic_write_text(run_path, json.dumps(run, indent=2, ensure_ascii=False, default=str) + "\n")

    seed = int(cfg["seed"])
    training.seed_all(seed)
    if isinstance(cfg["model"], Mapping):
        encoder, tok = _scratch_encoder(
            cfg["model"]["scratch"], [u.text for u in utts], seed, out_dir / "scratch_tokenizer"
        )
    else:
        encoder = load_encoder(str(cfg["model"]), "cpu", pooler=False)
        tok = load_tokenizer(str(cfg["model"]))
    torch.manual_seed(seed)
    model = JointModel(encoder, labels, pooling=cfg["pooling"], dropout=float(cfg["dropout"]))
    if cfg["freeze_embeddings"]:
        emb = model.encoder.get_input_embeddings()
        emb.weight.requires_grad_(False)
    model.to(device)

    intent_ix, tag_ix = labels.intent_index(), labels.tag_index()
    words = [list(u.tokens) for u in utts]
    y_int = [intent_ix[u.intent] for u in utts]
    y_tag = [[tag_ix[t] for t in u.bio] for u in utts]
    lengths = [
        len(
            tok(w, is_split_into_words=True, add_special_tokens=True, truncation=True, max_length=cfg["max_len"])[
                "input_ids"
            ]
        )
        for w in words
    ]
    bs = int(cfg["batch_size"])
    n_batches = math.ceil(len(utts) / bs)
    total = n_batches * int(cfg["epochs"])
    if cfg["max_steps"]:
        total = min(total, int(cfg["max_steps"]))

    head_params = [p for n, p in model.named_parameters() if n.startswith(("intent_head", "slot_head"))]
    enc_named = [(n, p) for n, p in model.named_parameters() if n.startswith("encoder.") and p.requires_grad]
    decay = [p for n, p in enc_named if p.ndim > 1]
    no_decay = [p for n, p in enc_named if p.ndim <= 1]
    opt = torch.optim.AdamW(
        [
            {"params": decay, "lr": cfg["lr"], "weight_decay": cfg["weight_decay"]},
            {"params": no_decay, "lr": cfg["lr"], "weight_decay": 0.0},
            {"params": head_params, "lr": cfg["head_lr"], "weight_decay": 0.0},
        ]
    )
    warm = int(total * float(cfg["warmup_ratio"]))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / max(1, warm) if s < warm else max(0.0, (total - s) / max(1, total - warm))
    )
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    step, epoch, batch_in_epoch = 0, 0, 0
    best, history = -math.inf, []
    # the running loss of the current epoch (and its seconds so far) live in the checkpoint, so
    # that a resumed epoch's history line averages all its steps, not only those after the resume
    loss_sum, loss_n, epoch_seconds = 0.0, 0, 0.0
    if state is not None:
        missing = model.load_state_dict(state["weights"], strict=False)
        if set(state["weights"]) != trainable or missing.unexpected_keys:
            raise ConfigError(
                [f"checkpoint {ckpt_path} does not match the model's trainable weights; start over (--no-resume)"]
            )
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        step, epoch, batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        best, history = state["best"], state["history"]
        loss_sum, loss_n = state.get("epoch_loss_sum", 0.0), state.get("epoch_loss_n", 0)
        epoch_seconds = state.get("epoch_seconds", 0.0)
        training.restore_rng(state["rng"])
    t_epoch = time.perf_counter()

    def checkpoint(done: bool = False) -> None:
        training.save_checkpoint(
            ckpt_path,
            {
                "weights": {n: p.detach().cpu() for n, p in model.named_parameters() if p.requires_grad},
                "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(),
                "step": step,
                "epoch": epoch,
                "batch_in_epoch": batch_in_epoch,
                "best": best,
                "history": history,
                "rng": training.capture_rng(),
                "done": done,
                "epoch_loss_sum": loss_sum,
                "epoch_loss_n": loss_n,
                "epoch_seconds": epoch_seconds + time.perf_counter() - t_epoch,
            },
        )

    meta = {"signature": run["signature"], "max_len": cfg["max_len"], "config": run["config"], "data": run["data"]}
    ce = torch.nn.CrossEntropyLoss()
    ce_tok = torch.nn.CrossEntropyLoss(ignore_index=-100)
    bar = tqdm(
        total=total,
        initial=step,
        disable=not progress,
        desc=f"train ({device}{'' if dev_name == device else ' from ' + dev_name})",
        unit="step",
    )
    steps_this_call = 0
    while epoch < int(cfg["epochs"]) and step < total:
        batches = _batches(lengths, bs, int(cfg["bucket_factor"]), seed, epoch)
        model.train()
        for bi in range(batch_in_epoch, len(batches)):
            idx = batches[bi]
            enc, firsts = encode_batch(tok, [words[k] for k in idx], int(cfg["max_len"]))
            slot_y = torch.full(enc["input_ids"].shape, -100, dtype=torch.long)
            for r, k in enumerate(idx):
                for w, pos in enumerate(firsts[r]):
                    if pos >= 0:
                        slot_y[r, pos] = y_tag[k][w]
            enc = {k: v.to(device) for k, v in enc.items()}
            with training.autocast(device):
                il, sl = model(**enc)
                loss = ce(il.float(), torch.tensor([y_int[k] for k in idx], device=device))
                if cfg["slot_weight"] and (slot_y >= 0).any():
                    loss = loss + float(cfg["slot_weight"]) * ce_tok(
                        sl.float().reshape(-1, sl.shape[-1]), slot_y.to(device).reshape(-1)
                    )
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            steps_this_call += 1
            batch_in_epoch = bi + 1
            loss_sum += float(loss.detach())
            loss_n += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum / loss_n:.3f}", epoch=epoch + 1)
            if step % int(cfg["checkpoint_every"]) == 0 or step >= total:
                checkpoint()
            if stop_after_steps is not None and steps_this_call >= stop_after_steps:
                checkpoint()
                bar.close()
                return out_dir / "model"
            if step >= total:
                break
        # end of epoch: select on dev
        seconds = epoch_seconds + time.perf_counter() - t_epoch
        entry = {
            "epoch": epoch + 1,
            "step": step,
            "train_loss": loss_sum / max(1, loss_n),
            "seconds": round(seconds, 1),
        }
        if dev is not None:
            model.eval()
            pi, pt = predict_tags(
                model,
                tok,
                list(dev),
                max_len=int(cfg["max_len"]),
                batch_size=int(cfg["eval_batch_size"]),
                device=device,
            )
            res = score_tags([u.intent for u in dev], pi, [u.bio for u in dev], pt)
            entry.update({f"dev_{k}": res[k] for k in _METRICS})
            metric = res[cfg["select_metric"]]
        else:
            metric = float(epoch)
        if metric > best:
            best = metric
            entry["selected"] = True
            model.save(
                out_dir / "model",
                tok,
                {**meta, "selected_epoch": epoch + 1, "dev": {k: entry.get(f"dev_{k}") for k in _METRICS}},
            )
        history.append(entry)
        # rewritten whole from the checkpointed history: an epoch replayed after a kill between
        # this line and the checkpoint below is not listed twice
        atomic_write_text(out_dir / "history.jsonl", "".join(json.dumps(e) + "\n" for e in history))
        epoch += 1
        batch_in_epoch = 0
        loss_sum, loss_n, epoch_seconds = 0.0, 0, 0.0
        t_epoch = time.perf_counter()
        checkpoint(done=epoch >= int(cfg["epochs"]) or step >= total)
    bar.close()
    if not (out_dir / "model" / "nlu.json").exists():  # max_steps ended inside the first epoch without dev
        model.save(out_dir / "model", tok, {**meta, "selected_epoch": epoch})
    checkpoint(done=True)
    return out_dir / "model"


def _same_model(a: object, b: object) -> bool:
    """Whether two model names resolve to the same local folder (``e5-small`` vs its cache path)."""
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    from lexiconlm.nlu.model import resolve_model_name

    try:
        ra, rb = Path(resolve_model_name(a)), Path(resolve_model_name(b))
    except Exception:  # a name that cannot be resolved here is simply not the same model
        return False
    return ra.exists() and rb.exists() and ra.resolve() == rb.resolve()
