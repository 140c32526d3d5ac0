"""``adapt()``: extend a model's tokenizer for a target language, initialise the new embeddings,
continue MLM pretraining, and save the result.

Steps (the run folder ``out_dir`` holds everything):

1. validate the configuration (:func:`lexiconlm.adapt.config.load_config`), listing every problem;
2. read the target text (config files plus ``texts=``), keep a held-out slice (or the
   ``text.heldout`` files) that is never trained on;
3. compute the :class:`~lexiconlm.adapt.plan.AdaptationPlan` on CPU and write ``plan.json``
   (with ``config.json``, the resolved configuration) before any training;
4. load the base as a masked LM (a fresh MLM head where it has none), add the new rows with
   the chosen initialisation (old rows unchanged), measure the held-out MLM loss;
5. continue MLM pretraining (checkpoints in ``checkpoints/``; a rerun resumes; a rerun
   with another configuration is refused), measure the held-out loss again;
6. write ``model/`` (a Hugging Face folder with the tokenizer) and ``metrics.json``.

Several processes (``accelerate launch`` / ``torchrun``) run the same call; the first one
writes the files, all of them train.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from tqdm.auto import tqdm

from lexiconlm import __version__
from lexiconlm.adapt.config import config_diff, config_signature, load_config
from lexiconlm.adapt.init import InitRecipe
from lexiconlm.adapt.mlm import (
    build_tiny_base,
    ensure_finite,
    evaluate_mlm_split,
    latest_checkpoint,
    load_mlm_model,
    make_accelerator,
    make_blocks,
    resize_and_init,
    train_mlm,
    warm_head,
)
from lexiconlm.adapt.plan import make_plan, read_plan, texts_digest
from lexiconlm.adapt.vocab import NewPiece, extend_tokenizer
from lexiconlm.errors import ConfigError, LexiconLMError
from lexiconlm.files import atomic_write_text, hold_run_folder, holds_run_folder_locks, publish_folder
from lexiconlm.io.lexicons import read_lexicon
from lexiconlm.io.text import read_text
from lexiconlm.models import quiet_transformers, resolve_model
from lexiconlm.resources import resource_path

if TYPE_CHECKING:  # pragma: no cover
    from lexiconlm.types import Lexicon

__all__ = ["adapt", "plan_only", "read_texts", "split_heldout"]


def read_texts(paths: Sequence[str], max_segments: int | None = None) -> list[str]:
    """Segments of text files (read with :func:`lexiconlm.io.text.read_text`), in file order."""
    out: list[str] = []
    for p in paths:
        out.extend(s.text for s in read_text(p).segments)
        if max_segments is not None and len(out) >= max_segments:
            return out[:max_segments]
    return out


def split_heldout(texts: Sequence[str], fraction: float) -> tuple[list[str], list[str]]:
    """``(train, heldout)``: the last ``fraction`` of the segments (at least one) is held out.

    A contiguous tail, not a random sample, so that neighbouring Bible verses or sentences of
    one document do not leak across the split.
    """
    n = len(texts)
    k = max(1, int(round(n * fraction))) if n > 1 else 0
    return list(texts[: n - k]), list(texts[n - k :])


def _base_dir(cfg: dict, out_dir: Path, train_texts: Sequence[str]) -> str:
    name = cfg["base_model"]
    if name == "builtin:tiny":
        folder = out_dir / "base"
        if not (folder / "config.json").is_file() or not (folder / "tokenizer.json").is_file():
            eng = read_texts([str(resource_path("demo", "text", "eng_udhr.tsv"))])
            build_tiny_base(folder, eng, seed=cfg["seed"])
        return str(folder)
    return resolve_model(name)


def _lexicon(cfg: dict, lexicon: "Lexicon | None") -> "Lexicon | None":
    if lexicon is not None:
        return lexicon
    if cfg["lexicon"] is None:
        return None

    return read_lexicon(cfg["lexicon"])


def _prepare(cfg: dict, texts: Sequence[str] | None) -> tuple[list[str], list[str]]:
    train = read_texts(cfg["text"]["train"], cfg["text"]["max_segments"])
    if texts:
        train.extend(t for t in texts if t and not t.isspace())
    if cfg["text"]["heldout"]:
        heldout = read_texts(cfg["text"]["heldout"])
        held = set(heldout)
        train = [t for t in train if t not in held]  # never train on a held-out segment
    else:
        train, heldout = split_heldout(train, cfg["text"]["heldout_fraction"])
    if not train:
        raise ConfigError(["text: no training segments left after holding out the evaluation text"])
    if not heldout:
        raise ConfigError(["text: no held-out segments; give text.heldout files or more text"])
    return train, heldout


def plan_only(
    config: dict | str | os.PathLike,
    *,
    out_dir: str | os.PathLike,
    texts: Sequence[str] | None = None,
    lexicon: "Lexicon | None" = None,
    overrides: Sequence[str] = (),
) -> Path:
    """Compute and write ``out_dir/plan.json`` (and ``config.json``) without loading weights or training.

    Returns:
        The path of ``plan.json``.
    """
    out = Path(out_dir)
    cfg = _load(config, overrides, texts, lexicon)
    plan, _, _, _, _ = _make_plan(cfg, out, texts, lexicon, progress=False)
    return _write_plan(out, cfg, plan)


def _load(config, overrides, texts, lexicon) -> dict:
    return load_config(config, overrides, has_texts=bool(texts), has_lexicon=lexicon is not None)


def _signature(cfg: dict, train: Sequence[str], heldout: Sequence[str], lex: "Lexicon | None") -> str:
    extra = {
        "train": texts_digest(train),
        "heldout": texts_digest(heldout),
        "lexicon": None if lex is None else texts_digest([f"{e.source}\t{e.target}" for e in lex.entries]),
    }
    return config_signature(cfg, extra=extra)


def _make_plan(cfg: dict, out: Path, texts, lexicon, progress: bool):
    train, heldout = _prepare(cfg, texts)
    lex = _lexicon(cfg, lexicon)
    sig = _signature(cfg, train, heldout, lex)
    base = _base_dir(cfg, out, train)
    plan, new_tok, recipe = make_plan(
        cfg, base_dir=base, train_texts=train, heldout_texts=heldout, lexicon=lex, signature=sig, progress=progress
    )
    return plan, new_tok, recipe, train, heldout


def _write_plan(out: Path, cfg: dict, plan: Any) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "config.json", json.dumps(cfg, indent=1, ensure_ascii=False, default=str) + "\n")
    return plan.write(out / "plan.json")


def _refuse_changed(out: Path, cfg: dict, signature: str) -> None:
    """A run folder with checkpoints or a plan from another configuration is not resumed."""
    plan_path = out / "plan.json"
    if not plan_path.is_file():
        return
    try:
        old_sig = json.loads(plan_path.read_text(encoding="utf-8")).get("config_signature")
    except (OSError, ValueError):
        old_sig = None
    if old_sig == signature:
        return
    if latest_checkpoint(out) is None and not (out / "model").is_dir():
        return  # nothing trained yet: the new plan replaces the old one
    diff: list[str] = []
    if (out / "config.json").is_file():
        try:
            diff = config_diff(json.loads((out / "config.json").read_text(encoding="utf-8")), cfg)
        except (OSError, ValueError):
            pass
    raise ConfigError(
        [f"{out} holds a run with another configuration; refusing to resume it"]
        + [f"changed: {d}" for d in diff]
        + (["changed: the training text or the lexicon"] if not diff else [])
        + ["fix: use the original configuration, another --out folder, or --no-resume to start over"],
        str(out),
    )


@holds_run_folder_locks
def adapt(
    config: dict | str | os.PathLike,
    *,
    out_dir: str | os.PathLike,
    texts: Sequence[str] | None = None,
    lexicon: "Lexicon | None" = None,
    device: str = "auto",
    resume: bool = True,
    progress: bool = True,
    overrides: Sequence[str] = (),
) -> dict:
    """Adapt a base model to a target language (see the module docstring for the steps).

    Args:
        config: a YAML file or dict (:mod:`lexiconlm.adapt.config`).
        out_dir: the run folder.
        texts: extra target-language segments (e.g. pseudo-monolingual text), trained on
            together with the configured files.
        lexicon: a bilingual lexicon (targets in the target language), used by ``lexicon.v1``;
            overrides the configured one.
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
        resume: continue from the newest checkpoint of ``out_dir``; ``False`` starts over.
        progress: show progress bars.
        overrides: ``key=value`` settings applied to the configuration.

    Returns:
        The metrics (also in ``out_dir/metrics.json``): ``mlm_loss_init`` and ``mlm_loss_final``
        on the held-out text, ``tokens_per_s``, ``mfu``, ``device``, ``model_dir`` ...

    Raises:
        ConfigError: an invalid configuration (every problem listed), or a run folder from
            another configuration when resuming.
        UnsupportedTokenizerError: a tokenizer type that cannot be extended.
        LexiconLMError: a model without input embeddings, missing lexicon for ``lexicon.v1``...

    Example:
        >>> metrics = adapt("configs/adapt/tiny.yaml", out_dir="runs/adapt/tiny")  # doctest: +SKIP
        >>> metrics["mlm_loss_init"], metrics["mlm_loss_final"]  # doctest: +SKIP
    """
    import torch

    t_start = time.perf_counter()
    out = Path(out_dir)
    cfg = _load(config, overrides, texts, lexicon)
    hold_run_folder(out, "lexiconlm adapt run")  # one run at a time in the folder (rank 0 holds it)
    acc = make_accelerator(device, cfg["mlm"]["precision"], cfg["seed"])
    log_path = out / "train.log"

    def log(msg: str) -> None:
        if acc.is_main_process:
            out.mkdir(parents=True, exist_ok=True)
            with open(log_path, "a", encoding="utf-8") as fh:
                fh.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {msg}\n")
            if progress:
                tqdm.write(msg, file=sys.stderr)

    train, heldout = _prepare(cfg, texts)
    lex = _lexicon(cfg, lexicon)
    sig = _signature(cfg, train, heldout, lex)
    if resume:
        _refuse_changed(out, cfg, sig)
    elif acc.is_main_process and (out / "checkpoints").is_dir():
        shutil.rmtree(out / "checkpoints")
    acc.wait_for_everyone()

    # the plan: computed by the first process, read by the others
    existing = out / "plan.json"
    reuse = (
        resume
        and existing.is_file()
        and read_plan(existing).config_signature == sig
        and latest_checkpoint(out) is not None
    )
    recipe = None
    if acc.is_main_process and not reuse:
        base = _base_dir(cfg, out, train)

        log(
            f"device: {acc.device} ({acc.num_processes} process(es)), precision: "
            f"{'bf16' if acc.mixed_precision == 'bf16' else 'fp32'}; planning on CPU"
        )
        plan, new_tok, recipe = make_plan(
            cfg, base_dir=base, train_texts=train, heldout_texts=heldout, lexicon=lex, signature=sig, progress=False
        )
        _write_plan(out, cfg, plan)
        log(
            f"plan: {plan.n_new} new tokens ({plan.tokenizer_kind}), init {plan.init_method} "
            f"{plan.init_summary.get('by_source')}, frozen {len(plan.frozen_modules)} modules -> {existing}"
        )
    acc.wait_for_everyone()
    plan = read_plan(existing)
    base = plan.base_path
    from transformers import AutoTokenizer

    base_tok = AutoTokenizer.from_pretrained(base)
    pieces = [NewPiece(r[1], float(r[2]), tuple(r[3]) if len(r) > 3 else None) for r in plan.new_tokens]
    new_tok = extend_tokenizer(base_tok, pieces) if pieces else base_tok
    if len(new_tok) != plan.new_vocab_size:
        raise LexiconLMError(
            f"{existing}: the plan's tokens give {len(new_tok)} tokens, expected "
            f"{plan.new_vocab_size}; delete the run folder and start again"
        )

    torch.manual_seed(cfg["seed"])  # a fresh MLM head is drawn from the global generator
    model, fresh_head = load_mlm_model(base)
    old_size = plan.base_vocab_size
    if recipe is None:
        # resuming: the checkpoint overwrites every weight, so any rows of the right shape do

        recipe = InitRecipe(plan.init_method, [None] * plan.n_new, ["checkpoint"] * plan.n_new)
    resize_and_init(model, old_size, recipe, seed=cfg["seed"])

    m = cfg["mlm"]
    train_blocks = make_blocks(new_tok, train, m["seq_len"])
    held_blocks = make_blocks(new_tok, heldout, m["seq_len"])[: m["eval_segments"]]
    dev = str(acc.device)
    precision = "bf16" if acc.mixed_precision == "bf16" else "fp32"
    metrics_path = out / "metrics.json"
    loss_init = None
    init_eval: dict = {}
    ckpt = latest_checkpoint(out) if resume else None
    head_losses: list[float] = []
    if ckpt is None and fresh_head and m["head_steps"]:
        head_losses = warm_head(
            model,
            new_tok,
            train_blocks,
            steps=m["head_steps"],
            batch_size=m["batch_size"],
            lr=max(m["lr"], 1e-3),
            probability=m["mlm_probability"],
            seed=cfg["seed"],
            device=str(acc.device),
        )
        log(
            f"fresh MLM head trained alone for {len(head_losses)} steps: "
            f"loss {head_losses[0]:.3f} -> {head_losses[-1]:.3f}"
        )
    if ckpt is None:
        model.to(acc.device)
        init_eval = evaluate_mlm_split(
            model,
            held_blocks,
            new_tok,
            new_from=old_size,
            probability=m["mlm_probability"],
            seed=cfg["seed"],
            device=dev,
            precision=precision,
        )
        loss_init = ensure_finite(init_eval["loss"], "initial MLM loss")
        log(f"held-out MLM loss after init: {loss_init:.4f} ({held_blocks.shape[0]} blocks)")
        if acc.is_main_process:
            atomic_write_text(out / "init_loss.json", json.dumps(init_eval) + "\n")
    elif (out / "init_loss.json").is_file():
        init_eval = json.loads((out / "init_loss.json").read_text())
        loss_init = init_eval["loss"]
    model, stats = train_mlm(
        model,
        new_tok,
        train_blocks,
        m,
        out_dir=out,
        signature=sig,
        seed=cfg["seed"],
        device=device,
        resume=resume,
        progress=progress,
        accelerator=acc,
        log=log,
        n_old_rows=old_size,
    )
    earlier = _earlier_timing(metrics_path, sig) if stats["steps_run"] == 0 else {}
    stats.update(earlier)  # a finished run reopened keeps the throughput its training measured
    log(
        f"throughput: {stats['tokens_per_s']} tokens/s, {stats['achieved_tflops']} TFLOP/s achieved, MFU "
        + (
            f"{stats['mfu']:.2%}"
            if stats["mfu"] is not None
            else "n/a (peak of this device unknown; set mlm.peak_tflops)"
        )
        + f", {stats['precision']} on {stats['device']} x{stats['world_size']}"
    )
    model.to(acc.device)
    final_eval = evaluate_mlm_split(
        model,
        held_blocks,
        new_tok,
        new_from=old_size,
        probability=m["mlm_probability"],
        seed=cfg["seed"],
        device=dev,
        precision=precision,
    )
    loss_final = ensure_finite(final_eval["loss"], "final MLM loss")
    log(f"held-out MLM loss after {m['steps']} steps: {loss_final:.4f}")
    model_dir = out / "model"
    metrics = {
        "base_model": cfg["base_model"],
        "language": cfg["language"],
        "script": cfg["script"],
        "init_method": plan.init_method,
        "new_tokens": plan.n_new,
        "base_vocab_size": plan.base_vocab_size,
        "new_vocab_size": plan.new_vocab_size,
        "fresh_head": fresh_head,
        "head_steps": m["head_steps"] if fresh_head else 0,
        "frozen_body": m["freeze_body"],
        "mlm_loss_init": loss_init,
        "mlm_loss_final": loss_final,
        "mlm_loss_init_new_tokens": init_eval.get("loss_new"),
        "mlm_loss_final_new_tokens": final_eval["loss_new"],
        "mlm_loss_init_old_tokens": init_eval.get("loss_old"),
        "mlm_loss_final_old_tokens": final_eval["loss_old"],
        "heldout_predicted": final_eval["n"],
        "heldout_predicted_new": final_eval["n_new"],
        "heldout_blocks": int(held_blocks.shape[0]),
        "train_blocks": int(train_blocks.shape[0]),
        "seq_len": m["seq_len"],
        **stats,
        "cuda": torch.cuda.is_available(),
        "wall_s": earlier.get("wall_s", round(time.perf_counter() - t_start, 2)),
        "config_signature": sig,
        "lexiconlm_version": __version__,
        "model_dir": str(model_dir),
    }
    if acc.is_main_process:
        _save_model(model, new_tok, model_dir)

        atomic_write_text(metrics_path, json.dumps(metrics, indent=1) + "\n")
    acc.wait_for_everyone()
    return metrics


_TIMING_KEYS = ("tokens_per_s", "achieved_tflops", "mfu", "wall_s")


def _earlier_timing(metrics_path: Path, signature: str) -> dict:
    """The throughput figures of an earlier ``metrics.json`` of the same configuration (empty when none)."""
    try:
        old = json.loads(metrics_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if old.get("config_signature") != signature or old.get("tokens_per_s") is None:
        return {}
    return {k: old[k] for k in _TIMING_KEYS if k in old}


def _save_model(model: Any, tokenizer: Any, folder: Path) -> None:
    """Save model and tokenizer into a temporary folder, then swap it in (a kill leaves the old one)."""
    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    with quiet_transformers():  # "layers were not sharded", the shard-writing bar: nothing to act on
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    publish_folder(tmp, folder)
