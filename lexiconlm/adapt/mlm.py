"""Continued masked-language-model pretraining on target-language text.

* :func:`load_mlm_model` loads a base folder as a masked LM; a checkpoint without an MLM head
  (e5 is a ``BertModel``) gets a fresh one (``fresh_head=True``), tied to the input embeddings
  when the configuration ties them.
* :func:`resize_and_init` appends the new rows to the input embeddings and, when untied, to
  the output embeddings and output bias, from an :class:`~lexiconlm.adapt.init.InitRecipe`;
  old rows are copied back bit for bit and checked.
* :func:`train_mlm` runs the loop with ``accelerate``: bf16 autocast on CUDA (fp32 on CPU
  unless ``precision: bf16``), gradient accumulation, fused AdamW on CUDA, optional frozen
  body, a checkpoint every ``save_every`` steps (``checkpoints/step-NNNNNNN/``: state.json +
  tensors.safetensors, no pickle, see :mod:`lexiconlm.training`) and an exact resume: batches
  and masks are functions of ``(seed, step)``, so a resumed run sees what an uninterrupted one
  would have.
  Several processes (``accelerate launch`` / ``torchrun``; gloo on CPU) each take their share
  of every batch.
* :func:`evaluate_mlm` gives the MLM loss on held-out blocks with a fixed mask (same seed, same
  masks before and after training, and across init methods).

Tokens/s count the non-padding tokens of all processes. MFU is achieved FLOP/s over the
device's peak (known for common GPUs, ``mlm.peak_tflops`` otherwise); FLOPs per token follow
Kaplan et al.: ``6 N`` for a trained body, ``4 N`` with a frozen body (no weight gradients),
``N`` = non-embedding parameters plus the output projection, plus the attention term
``6 L d T`` (``4 L d T`` when frozen).

Why one module of about 810 lines: continued MLM: the model set-up (heads, frozen rows), the
loop and its evaluation share the row-freezing logic; the machinery is in lexiconlm.training.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from tqdm.auto import tqdm

from lexiconlm.adapt.init import apply_recipe
from lexiconlm.devices import resolve_device as select_device
from lexiconlm.errors import ConfigError, LexiconLMError
from lexiconlm.models import checkpoint_keys, quiet_transformers

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from lexiconlm.adapt.init import InitRecipe

__all__ = [
    "mlm_model_from_config",
    "masked_positions_loss",
    "has_mlm_head",
    "load_mlm_model",
    "build_tiny_base",
    "resize_and_init",
    "make_blocks",
    "mask_tokens",
    "evaluate_mlm",
    "evaluate_mlm_split",
    "train_mlm",
    "peak_flops",
    "flops_per_token",
    "select_device",
]

#: Dense bf16 peak FLOP/s of common accelerators (vendor datasheets), matched by name.
PEAK_BF16_TFLOPS = {
    "H200": 989.0,
    "H100": 989.0,
    "A100": 312.0,
    "L40S": 362.0,
    "A10G": 70.0,
    "L4": 121.0,
    "A10": 125.0,
    "4090": 165.0,
    "V100": 125.0,
    "T4": 65.0,
}


def _head_prefixes(model: Any) -> set[str]:
    """Module names of the MLM head (everything outside the base model's body)."""
    prefix = getattr(model, "base_model_prefix", "")
    return {name for name, _ in model.named_children() if name != prefix}


def module_split(model: Any, freeze_body: bool) -> tuple[list[str], list[str]]:
    """``(frozen, trainable)`` module names: with ``freeze_body`` only the input embeddings and the
    MLM head train. Frozen names are the smallest set of modules whose parameters are all frozen."""
    inp = model.get_input_embeddings()
    emb_names = {n for n, m in model.named_modules() if m is inp}
    heads = _head_prefixes(model)
    trainable_params = set()
    for name, _ in model.named_parameters(remove_duplicate=False):
        top = name.split(".", 1)[0]
        module = name.rsplit(".", 1)[0]
        if not freeze_body or module in emb_names or top in heads:
            trainable_params.add(name)
    frozen_params = [n for n, _ in model.named_parameters(remove_duplicate=False) if n not in trainable_params]
    # collapse frozen parameters into the largest modules that hold only frozen ones
    frozen: list[str] = []
    all_params = [n for n, _ in model.named_parameters(remove_duplicate=False)]
    for name, _ in model.named_modules():
        if not name:
            continue
        inside = [p for p in all_params if p.startswith(name + ".")]
        if (
            inside
            and all(p not in trainable_params for p in inside)
            and not any(name.startswith(f + ".") for f in frozen)
        ):
            frozen.append(name)
    covered = {p for p in frozen_params if any(p.startswith(f + ".") for f in frozen)}
    assert covered == set(frozen_params)
    trainable_modules = sorted({p.rsplit(".", 1)[0] for p in trainable_params})
    return frozen, trainable_modules


def mlm_model_from_config(config: Any) -> Any:
    """``AutoModelForMaskedLM.from_config`` with a clear error for architectures without an MLM form."""
    from transformers import AutoModelForMaskedLM

    try:
        return AutoModelForMaskedLM.from_config(config)
    except ValueError as exc:
        raise LexiconLMError(
            f"model type {getattr(config, 'model_type', '?')!r} has no masked-LM form in transformers, "
            f"so it cannot be adapted with continued MLM ({exc})"
        ) from None


def has_mlm_head(folder: str | os.PathLike, model: Any) -> bool:
    """Whether the checkpoint in ``folder`` holds the weights of ``model``'s MLM head."""
    keys = checkpoint_keys(folder)
    prefix = getattr(model, "base_model_prefix", "")
    heads = [n for n, _ in model.named_children() if n != prefix]
    if keys is None:  # a .bin checkpoint: trust the architecture name
        archs = json.loads((Path(folder) / "config.json").read_text()).get("architectures") or []
        return any("MaskedLM" in a or "ForPreTraining" in a for a in archs)
    return any(k.split(".", 1)[0] in heads for k in keys)


def load_mlm_model(folder: str | os.PathLike) -> tuple[Any, bool]:
    """Load ``folder`` as a masked LM; ``(model, fresh_head)``.

    Raises:
        LexiconLMError: no masked-LM form, or no input embeddings.
    """
    from transformers import AutoConfig, AutoModelForMaskedLM

    try:
        with quiet_transformers():  # a fresh head's MISSING keys are expected (``fresh`` says so)
            config = AutoConfig.from_pretrained(folder)
            model = AutoModelForMaskedLM.from_pretrained(folder, config=config)
    except ValueError as exc:
        raise LexiconLMError(f"{folder}: cannot load as a masked LM: {exc}") from None
    fresh = not has_mlm_head(folder, model)
    _check_embeddings(model, str(folder))
    return model, fresh


def _check_embeddings(model: Any, where: str) -> Any:
    try:
        emb = model.get_input_embeddings()
    except (NotImplementedError, AttributeError):
        emb = None
    if emb is None or not hasattr(emb, "weight"):
        raise LexiconLMError(
            f"{where}: the model has no input embeddings (get_input_embeddings() gives nothing), "
            "so new tokens cannot be added; adapt a transformers encoder with a token embedding matrix"
        )
    return emb


def build_tiny_base(
    folder: str | os.PathLike,
    texts: Sequence[str],
    *,
    vocab_size: int = 400,
    hidden: int = 32,
    layers: int = 2,
    heads: int = 2,
    seed: int = 0,
) -> Path:
    """Write a tiny XLM-R-like base (Unigram tokenizer trained on ``texts``, a BERT body without
    MLM head, as e5 ships) to ``folder``; for tests and the tiny config
    (:func:`lexiconlm.training.build_tiny_model` with the ``unigram-metaspace.v1`` tokenizer)."""
    from lexiconlm.training import build_tiny_model, save_model_folder  # imports torch

    config = {
        "vocab_size": vocab_size,
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": 2 * hidden,
        "max_position_embeddings": 512,
        "type_vocab_size": 1,
    }
    model, tok = build_tiny_model(texts, config, tokenizer="unigram-metaspace.v1", masked_lm=False, seed=seed)
    return save_model_folder(model, tok, folder)


def resize_and_init(model: Any, old_size: int, recipe: "InitRecipe", *, seed: int = 13) -> dict:
    """Grow the vocabulary matrices of ``model`` by the recipe's rows; old rows stay bit-identical.

    Input embeddings always; output embeddings and their bias when they are not tied to the
    input (a tied matrix is grown once). New bias entries follow the recipe too.

    Returns:
        ``{"tied": bool, "new_rows": n}``.

    Raises:
        LexiconLMError: no input embeddings, or an old row changed (never expected).
    """
    import torch

    inp = _check_embeddings(model, type(model).__name__)
    n_new = len(recipe.rows)
    if inp.weight.shape[0] < old_size:
        raise LexiconLMError(
            f"the model has {inp.weight.shape[0]} embedding rows, fewer than the tokenizer's {old_size} tokens"
        )
    old_in = inp.weight.detach()[:old_size].clone()
    out = model.get_output_embeddings()
    tied = out is not None and out.weight is inp.weight
    old_out = None if (out is None or tied) else out.weight.detach()[:old_size].clone()
    # every vocabulary-sized vector (the output bias; BERT keeps it twice, decoder.bias and
    # predictions.bias, tied or not)
    rows_before = inp.weight.shape[0]
    out_bias = getattr(out, "bias", None) if out is not None else None
    old_out_bias = out_bias.detach()[:old_size].clone() if out_bias is not None else None
    old_vectors = {
        n: p.detach()[:old_size].clone()
        for n, p in model.named_parameters(remove_duplicate=False)
        if p.dim() == 1 and p.shape[0] == rows_before and n.endswith("bias")
    }
    model.resize_token_embeddings(old_size + n_new, mean_resizing=False)
    inp = model.get_input_embeddings()
    out = model.get_output_embeddings()
    with torch.no_grad():
        inp.weight[:old_size] = old_in
        if n_new:
            inp.weight[old_size:] = apply_recipe(recipe, old_in, seed=seed)
        if out is not None and out.weight is not inp.weight and old_out is not None:
            out.weight[:old_size] = old_out
            if n_new:
                out.weight[old_size:] = apply_recipe(recipe, old_out, seed=seed + 1)
        for name, p in model.named_parameters(remove_duplicate=False):
            old_vec = old_vectors.get(name)
            if old_vec is not None and p.dim() == 1 and p.shape[0] == old_size + n_new:
                p[:old_size] = old_vec
                if n_new:
                    p[old_size:] = apply_recipe(recipe, old_vec, seed=seed + 2)
        # the bias the decoder applies wins where resizing tied two of them together
        out_bias = getattr(out, "bias", None) if out is not None else None
        if out_bias is not None and old_out_bias is not None and out_bias.shape[0] == old_size + n_new:
            out_bias[:old_size] = old_out_bias
            if n_new:
                out_bias[old_size:] = apply_recipe(recipe, old_out_bias, seed=seed + 2)
    if not torch.equal(model.get_input_embeddings().weight[:old_size], old_in):
        raise LexiconLMError("internal error: old embedding rows changed while resizing")
    return {"tied": bool(tied), "new_rows": n_new}


def _old_rows(model: Any, n_old: int | None) -> list:
    """``(name, parameter, copy of its first n_old rows)`` of every trainable vocabulary-sized parameter."""
    if not n_old:
        raise LexiconLMError("mlm.train_rows: new needs the base vocabulary size (n_old_rows)")
    n_vocab = model.get_input_embeddings().weight.shape[0]
    out, seen = [], set()
    for name, p in model.named_parameters(remove_duplicate=False):
        if p.requires_grad and p.shape[0] == n_vocab and id(p) not in seen and (p.dim() == 2 or name.endswith("bias")):
            seen.add(id(p))
            out.append((name, p, p.detach()[:n_old].clone()))
    return out


def make_blocks(tokenizer: Any, texts: Sequence[str], seq_len: int) -> "torch.Tensor":
    """Token blocks of exactly ``seq_len`` (``<s> ... </s>``): segments are tokenised, joined with
    ``</s>`` and cut into pieces; a last short block is padded. Shape ``[n_blocks, seq_len]``."""
    import torch

    cls_id = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    sep_id = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    if cls_id is None or sep_id is None or tokenizer.mask_token_id is None:
        raise LexiconLMError("the tokenizer needs cls/bos, sep/eos and mask tokens for MLM training")
    stream: list[int] = []
    for i in range(0, len(texts), 2048):
        for ids in tokenizer(list(texts[i : i + 2048]), add_special_tokens=False)["input_ids"]:
            if ids:
                stream.extend(ids)
                stream.append(sep_id)
    body = seq_len - 2
    blocks = []
    for start in range(0, len(stream), body):
        chunk = stream[start : start + body]
        row = [cls_id, *chunk, sep_id]
        row += [pad_id] * (seq_len - len(row))
        blocks.append(row)
    if not blocks:
        raise LexiconLMError("no tokens in the text for MLM blocks")
    return torch.tensor(blocks, dtype=torch.long)


def mask_tokens(
    ids: "torch.Tensor", tokenizer: Any, probability: float, generator: "torch.Generator", special_ids: Sequence[int]
) -> tuple["torch.Tensor", "torch.Tensor"]:
    """BERT masking: ``probability`` of the non-special tokens are predicted; of those 80% become
    ``<mask>``, 10% a random token, 10% stay. Returns ``(inputs, labels)`` (labels -100 elsewhere)."""
    import torch

    special = torch.zeros_like(ids, dtype=torch.bool)
    for s in special_ids:
        special |= ids == s
    probs = torch.rand(ids.shape, generator=generator)
    chosen = (probs < probability) & ~special
    # at least one predicted token per row that has any real token, so every batch has a loss
    for r in range(ids.shape[0]):
        if not chosen[r].any() and (~special[r]).any():
            cand = (~special[r]).nonzero().flatten()
            chosen[r, cand[torch.randint(len(cand), (1,), generator=generator)]] = True
    labels = torch.where(chosen, ids, torch.full_like(ids, -100))
    action = torch.rand(ids.shape, generator=generator)
    inputs = ids.clone()
    inputs[chosen & (action < 0.8)] = tokenizer.mask_token_id
    rand_pos = chosen & (action >= 0.8) & (action < 0.9)
    random_ids = torch.randint(len(tokenizer), ids.shape, generator=generator)
    inputs[rand_pos] = random_ids[rand_pos]
    return inputs, labels


def _head(model: Any) -> Any:
    """The MLM head module (the child beside the base model: ``cls`` for BERT, ``lm_head`` for RoBERTa)."""
    prefix = getattr(model, "base_model_prefix", "")
    heads = [m for n, m in model.named_children() if n != prefix]
    return heads[0] if len(heads) == 1 else None


def masked_positions_loss(
    model: Any, inputs: "torch.Tensor", attention: "torch.Tensor", labels: "torch.Tensor", *, reduction: str = "mean"
) -> "torch.Tensor":
    """Cross-entropy of the MLM head, evaluated only at the predicted positions (labels != -100).

    The output projection is the costliest layer of a large-vocabulary model (250k x d per token);
    running it on the ~15% masked positions only gives the same loss as the full forward pass
    for a fraction of the work. Falls back to the full forward when the head cannot be found.
    """
    import torch

    head = _head(model)
    body = getattr(model, "base_model", None)
    if head is None or body is None or body is model:
        out = model(input_ids=inputs, attention_mask=attention)
        logits = out.logits.float()[labels != -100]
        return torch.nn.functional.cross_entropy(logits, labels[labels != -100], reduction=reduction)
    hidden = body(input_ids=inputs, attention_mask=attention).last_hidden_state
    chosen = labels != -100
    logits = head(hidden[chosen]).float()
    return torch.nn.functional.cross_entropy(logits, labels[chosen], reduction=reduction)


def warm_head(
    model: Any,
    tokenizer: Any,
    blocks: "torch.Tensor",
    *,
    steps: int,
    batch_size: int,
    lr: float,
    probability: float = 0.15,
    seed: int = 13,
    device: str = "cpu",
) -> list[float]:
    """Train a freshly drawn MLM head alone (body and embeddings frozen) for ``steps`` steps.

    A model whose checkpoint has no MLM head (e5 is an embedding model) starts with a random
    head; continued MLM through it would first spend its steps, and the new embedding rows,
    fitting that head. Training the head's own weights first (its transform and output bias;
    the output matrix is the tied input embedding and stays fixed) gives the adaptation a head
    that predicts the base model's tokens, and makes its initial MLM loss meaningful.

    Returns the training loss of each step.
    """
    import torch

    head = _head(model)
    if head is None or steps <= 0 or blocks.shape[0] == 0:
        return []
    tied = {id(p) for p in model.get_input_embeddings().parameters()}
    old = {n: p.requires_grad for n, p in model.named_parameters()}
    for p in model.parameters():
        p.requires_grad_(False)
    params = [p for p in head.parameters() if id(p) not in tied]
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    special = _special_ids(tokenizer)
    pad_id = tokenizer.pad_token_id
    model.to(device).train()
    losses = []
    for step in range(steps):
        gen = torch.Generator().manual_seed(seed * 1_000_033 + step)
        idx = torch.randint(blocks.shape[0], (min(batch_size, blocks.shape[0]),), generator=gen)
        ids = blocks[idx]
        inputs, labels = mask_tokens(ids, tokenizer, probability, gen, special)
        attn = (ids != pad_id).long() if pad_id is not None else torch.ones_like(ids)
        with torch.no_grad():
            hidden = model.base_model(input_ids=inputs.to(device), attention_mask=attn.to(device)).last_hidden_state
        chosen = labels != -100
        logits = head(hidden[chosen.to(device)]).float()
        loss = torch.nn.functional.cross_entropy(logits, labels[chosen].to(device))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
    for n, p in model.named_parameters():
        p.requires_grad_(old.get(n, True))
    return losses


def _special_ids(tokenizer: Any) -> list[int]:
    return sorted(set(i for i in tokenizer.all_special_ids if i is not None))


def evaluate_mlm(
    model: Any,
    blocks: "torch.Tensor",
    tokenizer: Any,
    *,
    probability: float = 0.15,
    seed: int = 0,
    batch_size: int = 32,
    device: str = "cpu",
    precision: str = "fp32",
) -> float:
    """Mean MLM loss per predicted token on ``blocks`` with a fixed masking (seeded)."""
    return evaluate_mlm_split(
        model,
        blocks,
        tokenizer,
        probability=probability,
        seed=seed,
        batch_size=batch_size,
        device=device,
        precision=precision,
    )["loss"]


def evaluate_mlm_split(
    model: Any,
    blocks: "torch.Tensor",
    tokenizer: Any,
    *,
    new_from: int | None = None,
    probability: float = 0.15,
    seed: int = 0,
    batch_size: int = 32,
    device: str = "cpu",
    precision: str = "fp32",
) -> dict:
    """MLM loss on ``blocks`` (fixed masking), overall and, with ``new_from``, separately for the
    predicted tokens whose id is ``>= new_from`` (the new vocabulary) and the others.

    Returns:
        ``{"loss", "n", "loss_new", "n_new", "loss_old", "n_old"}`` (a loss is ``None`` without tokens).
    """
    import torch

    gen = torch.Generator().manual_seed(int(seed) + 7919)
    special = _special_ids(tokenizer)
    pad_id = tokenizer.pad_token_id
    was_training = model.training
    model.eval()
    sums = {"all": 0.0, "new": 0.0, "old": 0.0}
    counts = {"all": 0, "new": 0, "old": 0}
    with torch.no_grad():
        for i in range(0, blocks.shape[0], batch_size):
            ids = blocks[i : i + batch_size]
            inputs, labels = mask_tokens(ids, tokenizer, probability, gen, special)
            attn = (ids != pad_id).long() if pad_id is not None else torch.ones_like(ids)
            inputs, attn, labels = inputs.to(device), attn.to(device), labels.to(device)
            with _autocast(device, precision):
                per_token = masked_positions_loss(model, inputs, attn, labels, reduction="none")
            target = labels[labels != -100]
            per_token = per_token.float()
            sums["all"] += float(per_token.sum())
            counts["all"] += int(target.numel())
            if new_from is not None:
                is_new = target >= new_from
                sums["new"] += float(per_token[is_new].sum())
                counts["new"] += int(is_new.sum())
                sums["old"] += float(per_token[~is_new].sum())
                counts["old"] += int((~is_new).sum())
    model.train(was_training)

    def mean(key: str):
        return sums[key] / counts[key] if counts[key] else None

    return {
        "loss": mean("all") if counts["all"] else 0.0,
        "n": counts["all"],
        "loss_new": mean("new"),
        "n_new": counts["new"],
        "loss_old": mean("old"),
        "n_old": counts["old"],
    }


def _autocast(device: str, precision: str):
    """Autocast only when bf16 is asked for (``precision`` is resolved: bf16 or fp32)."""
    from lexiconlm.training import autocast  # imports torch

    return autocast(device, "bf16" if precision == "bf16" else "fp32")


def peak_flops(device: str, override_tflops: float | None = None) -> float | None:
    """Peak FLOP/s of the device: ``override_tflops`` if given, else the bf16 datasheet value of a
    known GPU; ``None`` on CPU (no portable figure)."""
    import torch

    if override_tflops:
        return float(override_tflops) * 1e12
    if device.startswith("cuda") and torch.cuda.is_available():
        name = torch.cuda.get_device_name()
        for key, tf in PEAK_BF16_TFLOPS.items():
            if key in name:
                return tf * 1e12
    return None


def flops_per_token(model: Any, seq_len: int, *, frozen_body: bool) -> float:
    """Training FLOPs per token (see the module docstring)."""
    config = model.config
    inp = model.get_input_embeddings().weight
    n_embed_rows = sum(p.numel() for n, p in model.named_parameters() if "embeddings" in n)
    n_total = sum(p.numel() for p in model.parameters())
    non_embedding = n_total - n_embed_rows
    vocab_out = inp.shape[0] * inp.shape[1]  # the decoder's matmul, tied or not
    n = non_embedding + vocab_out
    layers = getattr(config, "num_hidden_layers", 0) or 0
    hidden = getattr(config, "hidden_size", inp.shape[1])
    factor = 4 if frozen_body else 6
    return factor * n + factor * layers * hidden * seq_len


def _optimizer(params: Sequence[Any], lr: float, weight_decay: float, device: str):
    import torch

    decay = [p for n, p in params if p.dim() >= 2]
    no_decay = [p for n, p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    fused = device.startswith("cuda")
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.98), eps=1e-6, fused=fused), fused


def _lr_lambda(warmup: int, total: int) -> Callable[[int], float]:
    def f(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        if total <= warmup:
            return 1.0
        return max(0.0, (total - step) / (total - warmup))

    return f


def _batch_indices(n_blocks: int, step: int, micro: int, batch: int, grad_accum: int, seed: int) -> list[int]:
    """Global block indices of one micro-batch: an epoch-wise permutation seeded by (seed, epoch)."""
    start = (step * grad_accum + micro) * batch
    out = []
    for pos in range(start, start + batch):
        epoch, offset = divmod(pos, n_blocks)
        perm = _perm(n_blocks, seed, epoch)
        out.append(int(perm[offset]))
    return out


_PERMS: dict[tuple[int, int, int], Any] = {}


def _perm(n: int, seed: int, epoch: int):
    import torch

    key = (n, seed, epoch)
    if key not in _PERMS:
        if len(_PERMS) > 4:
            _PERMS.clear()
        _PERMS[key] = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1000003 + epoch))
    return _PERMS[key]


def _ckpt_dir(out_dir: Path, step: int) -> Path:
    return out_dir / "checkpoints" / f"step-{step:07d}"


def latest_checkpoint(out_dir: Path) -> Path | None:
    """The newest checkpoint folder under ``out_dir/checkpoints``: one with ``state.json``, or
    an old pickle ``state.pt``, which :func:`train_mlm` then refuses (never opened)."""
    folder = Path(out_dir) / "checkpoints"
    done = sorted(p for p in folder.glob("step-*") if _is_checkpoint(p)) if folder.is_dir() else []
    return done[-1] if done else None


def _is_checkpoint(folder: Path) -> bool:
    from lexiconlm.training import PICKLE_FILES, STATE_FILE

    return any((folder / name).is_file() for name in (STATE_FILE, *PICKLE_FILES))


_RESTART = "rerun with --no-resume (resume=False) to start the run over"


def _save_checkpoint(
    out_dir: Path, step: int, model: Any, optimizer: Any, scheduler: Any, signature: str, stats: dict, keep: int = 2
) -> Path:
    from lexiconlm.training import save_checkpoint  # imports torch

    folder = _ckpt_dir(out_dir, step)
    save_checkpoint(
        folder,
        {
            "step": step,
            "signature": signature,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "stats": stats,
        },
    )
    done = sorted(p for p in folder.parent.glob("step-*") if _is_checkpoint(p))
    for old in done[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return folder


def train_mlm(
    model: Any,
    tokenizer: Any,
    blocks: "torch.Tensor",
    mlm_cfg: dict,
    *,
    out_dir: Path,
    signature: str,
    seed: int,
    device: str = "auto",
    resume: bool = True,
    progress: bool = True,
    accelerator: Any = None,
    log: Callable[[str], None] | None = None,
    n_old_rows: int | None = None,
) -> tuple[Any, dict]:
    """Continued MLM pretraining; returns ``(unwrapped model, stats)``.

    Args:
        model: a masked LM (already resized and initialised).
        tokenizer: the (extended) tokenizer.
        blocks: training blocks from :func:`make_blocks`.
        mlm_cfg: the ``mlm`` section of a resolved configuration.
        out_dir: the run folder; checkpoints go to ``out_dir/checkpoints/step-NNNNNNN/``.
        signature: configuration signature stored in checkpoints; a resume compares it.
        resume: continue from the newest checkpoint when there is one.
        accelerator: an ``accelerate.Accelerator`` (one is made when ``None``).
        n_old_rows: the base vocabulary size; with ``mlm_cfg["train_rows"] == "new"`` the first
            ``n_old_rows`` rows of every vocabulary-sized parameter (input and output embeddings,
            output bias) get no gradient and are restored after each optimizer step (weight decay
            would move them otherwise), so they stay bit-identical.

    Returns:
        stats: ``steps``, ``resumed_from``, ``tokens_per_s``, ``flops_per_token``, ``achieved_tflops``,
        ``mfu`` (``None`` where the peak is unknown), ``precision``, ``device``, ``world_size``,
        ``train_loss_last``, ``fused_adamw``, ``trainable_params``.

    Raises:
        ConfigError: a checkpoint written under another configuration.
        CheckpointError: a truncated or damaged checkpoint, or an old pickle ``state.pt``
            (never opened); the message names the file and the fix.
    """
    import torch

    from lexiconlm.training import autocast, load_checkpoint  # imports torch

    out_dir = Path(out_dir)
    acc = accelerator or make_accelerator(device, mlm_cfg["precision"], seed)
    dev = str(acc.device)
    precision = "bf16" if acc.mixed_precision == "bf16" else "fp32"
    steps, batch, accum = mlm_cfg["steps"], mlm_cfg["batch_size"], mlm_cfg["grad_accum"]
    world, rank = acc.num_processes, acc.process_index
    special = _special_ids(tokenizer)
    pad_id = tokenizer.pad_token_id

    # freezing: input embeddings and the head train; the body is frozen on request
    if mlm_cfg["freeze_body"]:
        _, trainable = module_split(model, True)
        keep = set(trainable)
        for name, p in model.named_parameters():
            p.requires_grad_(name.rsplit(".", 1)[0] in keep)
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    keep_rows = _old_rows(model, n_old_rows) if mlm_cfg.get("train_rows", "all") == "new" else []
    n_trainable = sum(p.numel() for _, p in params) - sum(old.numel() for _, _, old in keep_rows)
    optimizer, fused = _optimizer(params, mlm_cfg["lr"], mlm_cfg["weight_decay"], dev)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(mlm_cfg["warmup_steps"], steps))

    start = 0
    resumed_from = None
    stats_prev: dict = {}
    ckpt = latest_checkpoint(out_dir) if resume else None
    if ckpt is not None:
        state = load_checkpoint(ckpt, restart_hint=_RESTART)
        if state.get("signature") != signature:
            raise ConfigError(
                [
                    f"{ckpt}: this checkpoint was written under another configuration (signature "
                    f"{state.get('signature')} != {signature}); resume with the same config, pass resume=False "
                    "(--no-resume) to start over, or use another --out folder"
                ]
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start = int(state["step"])
        resumed_from = start
        stats_prev = state.get("stats", {})
    model, optimizer = acc.prepare(model, optimizer)
    model.train()
    fpt = flops_per_token(acc.unwrap_model(model), blocks.shape[1], frozen_body=mlm_cfg["freeze_body"])
    peak = peak_flops(dev, mlm_cfg.get("peak_tflops"))
    n_tokens_done = 0
    elapsed = 0.0
    last_loss = stats_prev.get("train_loss_last")
    bar = None
    if progress and acc.is_main_process and steps > start:
        bar = tqdm(total=steps, initial=start, desc="mlm", unit="step", dynamic_ncols=True)
    save_every = mlm_cfg["save_every"]
    for step in range(start, steps):
        t0 = time.perf_counter()
        # dropout draws are a function of (seed, step, rank) too, so a resumed run repeats them
        torch.manual_seed((seed * 1_000_003 + step) * 97 + rank)
        step_loss = torch.zeros((), device=acc.device)
        step_tokens = torch.zeros((), device=acc.device)
        for micro in range(accum):
            idx = _batch_indices(blocks.shape[0], step, micro, batch * world, accum, seed)[rank::world]
            ids = blocks[idx]
            gen = torch.Generator().manual_seed((seed * 7_000_003 + step * 1_009 + micro) * 31 + rank)
            inputs, labels = mask_tokens(ids, tokenizer, mlm_cfg["mlm_probability"], gen, special)
            attn = (ids != pad_id).long() if pad_id is not None else torch.ones_like(ids)
            sync = acc.no_sync(model) if (micro < accum - 1 and world > 1) else nullcontext()
            with sync, autocast(dev, precision):
                if world > 1:  # through the DDP wrapper, which synchronises the gradients
                    outputs = model(
                        input_ids=inputs.to(acc.device),
                        attention_mask=attn.to(acc.device),
                        labels=labels.to(acc.device),
                    )
                    loss = outputs.loss / accum
                else:
                    loss = (
                        masked_positions_loss(model, inputs.to(acc.device), attn.to(acc.device), labels.to(acc.device))
                        / accum
                    )
            acc.backward(loss)
            step_loss += loss.detach()
            step_tokens += attn.sum().to(acc.device)
        for _, p, _ in keep_rows:
            if p.grad is not None:
                p.grad[:n_old_rows].zero_()
        optimizer.step()
        if keep_rows:
            with torch.no_grad():
                for _, p, old in keep_rows:
                    p[:n_old_rows].copy_(old)
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        elapsed += time.perf_counter() - t0
        tokens_all = acc.reduce(step_tokens, reduction="sum") if world > 1 else step_tokens
        loss_all = acc.reduce(step_loss, reduction="mean") if world > 1 else step_loss
        n_tokens_done += int(tokens_all)
        last_loss = float(loss_all)
        done = step + 1
        if bar is not None:
            bar.update(1)
            if done % mlm_cfg["log_every"] == 0 or done == steps:
                bar.set_postfix(loss=f"{last_loss:.3f}", tok_s=f"{n_tokens_done / max(elapsed, 1e-9):.0f}")
        if log is not None and acc.is_main_process and (done % mlm_cfg["log_every"] == 0 or done == steps):
            log(f"step {done}/{steps} loss {last_loss:.4f} tokens/s {n_tokens_done / max(elapsed, 1e-9):.0f}")
        if (save_every and done % save_every == 0) or done == steps:
            acc.wait_for_everyone()
            if acc.is_main_process:
                _save_checkpoint(
                    out_dir,
                    done,
                    acc.unwrap_model(model),
                    optimizer,
                    scheduler,
                    signature,
                    {"train_loss_last": last_loss},
                )
            acc.wait_for_everyone()
    if bar is not None:
        bar.close()
    tps = n_tokens_done / elapsed if elapsed > 0 else None
    achieved = tps * fpt if tps else None
    stats = {
        "steps": steps,
        "resumed_from": resumed_from,
        "steps_run": steps - start,
        "tokens_per_s": round(tps, 1) if tps else None,
        "flops_per_token": fpt,
        "achieved_tflops": round(achieved / 1e12, 6) if achieved else None,
        "peak_tflops": peak / 1e12 if peak else None,
        "mfu": round(achieved / peak, 6) if (achieved and peak) else None,
        "precision": precision,
        "device": dev,
        "world_size": world,
        "train_loss_last": last_loss,
        "fused_adamw": fused,
        "trainable_params": n_trainable,
    }
    model = acc.unwrap_model(model)
    return model, stats


def make_accelerator(device: str, precision: str, seed: int):
    """An ``accelerate.Accelerator`` for ``device`` (``auto``/``cpu``/``cuda``) and precision
    (``auto``: bf16 on CUDA, fp32 on CPU)."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed

    dev = select_device(device)
    cpu = not dev.startswith("cuda")
    if precision == "auto":
        precision = "fp32" if cpu else "bf16"
    from accelerate.state import AcceleratorState

    mp = "bf16" if precision == "bf16" else "no"
    state = AcceleratorState._shared_state
    if state and state.get("_mixed_precision") not in (None, mp) and int(os.environ.get("WORLD_SIZE", "1")) == 1:
        # accelerate keeps one state per process; a later run in the same single process
        # (a notebook, the tests) may ask for another precision
        AcceleratorState._reset_state()
    acc = Accelerator(cpu=cpu, mixed_precision=mp)
    set_seed(seed)
    return acc


def ensure_finite(value: float, what: str) -> float:
    """Raise on a NaN/inf loss, which means the run diverged."""
    if not math.isfinite(value):
        raise LexiconLMError(f"{what} is {value}: training diverged; lower mlm.lr")
    return value
