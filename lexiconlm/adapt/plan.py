"""The :class:`AdaptationPlan`: what an adaptation run will do, computed on CPU and written as JSON
before any training (base model, new tokens, initialisation, frozen modules).

:func:`make_plan` is pure: it reads the base tokenizer and model *configuration* (the model is
built on PyTorch's ``meta`` device, so no weights are loaded), trains the new pieces and
computes the initialisation recipe. The same inputs give the same plan, so a resumed run can
check that nothing changed.

Example:
    >>> plan, new_tok, recipe = make_plan(cfg, base_dir="path/to/model", train_texts=texts)  # doctest: +SKIP
    >>> plan.write(out_dir / "plan.json")  # doctest: +SKIP
    >>> plan.n_new, plan.init_method, plan.frozen_modules[:2]  # doctest: +SKIP
    (4000, 'lexicon.v1', ['bert.embeddings.position_embeddings', 'bert.embeddings.token_type_embeddings'])
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from lexiconlm import __version__
from lexiconlm.adapt.init import InitContext, resolve_init
from lexiconlm.adapt.mlm import has_mlm_head, mlm_model_from_config, module_split
from lexiconlm.adapt.vocab import extend_tokenizer, tokenizer_kind, train_new_pieces
from lexiconlm.errors import LexiconLMError
from lexiconlm.files import atomic_write_text

if TYPE_CHECKING:  # pragma: no cover
    from lexiconlm.adapt.init import InitRecipe
    from lexiconlm.types import Lexicon

__all__ = ["AdaptationPlan", "make_plan", "read_plan", "texts_digest", "PLAN_VERSION"]

PLAN_VERSION = 1


@dataclass(frozen=True)
class AdaptationPlan:
    """What an adaptation run does; written to ``plan.json`` before training.

    Attributes:
        base_model: the name or path as configured; ``base_path`` the folder it resolved to.
        model_type / tokenizer_kind: e.g. ``"bert"`` / ``"Unigram"``.
        base_vocab_size / new_vocab_size: tokenizer lengths before and after extension.
        new_tokens: ``[id, piece, score]`` per added token (BPE rows add the merge).
        init_method: versioned name (``lexicon.v1``); ``init_summary`` counts where rows came from.
        frozen_modules / trainable_modules: module names (frozen ones as the smallest covering set).
        fresh_head: the base checkpoint has no MLM head (one is initialised).
        tied_embeddings: input and output embeddings share one matrix.
        language / script: the target; ``texts`` segment counts and digest of train/held-out text.
        config_signature: the run's signature: model, language, init and a hash of the settings
            that change the result (see ``lexiconlm.adapt.config.config_signature``).
    """

    base_model: str
    base_path: str
    model_type: str
    tokenizer_kind: str
    base_vocab_size: int
    new_vocab_size: int
    new_tokens: tuple[tuple, ...]
    init_method: str
    init_summary: dict
    frozen_modules: tuple[str, ...]
    trainable_modules: tuple[str, ...]
    fresh_head: bool
    tied_embeddings: bool
    language: str
    script: str
    texts: dict
    lexicon: dict | None
    config_signature: str
    seed: int
    lexiconlm_version: str = __version__
    plan_version: int = PLAN_VERSION
    extra: dict = field(default_factory=dict)

    @property
    def n_new(self) -> int:
        return len(self.new_tokens)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["new_tokens"] = [list(t) for t in self.new_tokens]
        d["frozen_modules"] = list(self.frozen_modules)
        d["trainable_modules"] = list(self.trainable_modules)
        return d

    def to_json(self) -> str:
        """Indented JSON with one line per new token."""
        d = self.to_dict()
        rows = d.pop("new_tokens")
        text = json.dumps(d, ensure_ascii=False, indent=1)
        body = ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in rows)
        tokens = '"new_tokens": [\n' + body + "\n ]" if rows else '"new_tokens": []'
        return text[:-2] + ",\n " + tokens + "\n}"

    def write(self, path: str | os.PathLike) -> Path:
        """Write ``plan.json`` atomically."""
        return atomic_write_text(path, self.to_json() + "\n")

    @classmethod
    def from_dict(cls, d: dict) -> "AdaptationPlan":
        d = dict(d)
        d["new_tokens"] = tuple(
            tuple(x) if not isinstance(x, list) else tuple(tuple(y) if isinstance(y, list) else y for y in x)
            for x in d["new_tokens"]
        )
        d["frozen_modules"] = tuple(d["frozen_modules"])
        d["trainable_modules"] = tuple(d["trainable_modules"])
        return cls(**d)


def read_plan(path: str | os.PathLike) -> AdaptationPlan:
    """Read a ``plan.json`` written by :meth:`AdaptationPlan.write`.

    Raises:
        LexiconLMError: the file is not a plan of this version.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("plan_version") != PLAN_VERSION:
            raise ValueError(f"plan_version {data.get('plan_version')!r}, expected {PLAN_VERSION}")
        return AdaptationPlan.from_dict(data)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise LexiconLMError(f"{path}: not a readable adaptation plan ({exc}); delete it to start afresh") from None


def texts_digest(texts: Sequence[str]) -> str:
    """First 16 hex digits of the SHA-256 of the texts (one per line)."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()[:16]


def make_plan(
    cfg: dict,
    *,
    base_dir: str,
    train_texts: Sequence[str],
    heldout_texts: Sequence[str],
    lexicon: "Lexicon | None" = None,
    signature: str = "",
    progress: bool = False,
) -> tuple[AdaptationPlan, Any, "InitRecipe"]:
    """Compute the plan of a run (CPU only, no weights loaded).

    Args:
        cfg: a configuration resolved by :func:`lexiconlm.adapt.config.load_config`.
        base_dir: the base model folder (config + tokenizer).
        train_texts / heldout_texts: target-language segments (disjoint).
        lexicon: for ``lexicon.v1``.
        signature: the run's configuration signature.

    Returns:
        ``(plan, extended tokenizer, init recipe)``.

    Raises:
        UnsupportedTokenizerError: the tokenizer cannot be extended.
        LexiconLMError: the model has no input embeddings or no masked-LM form.
    """
    import torch
    from transformers import AutoConfig, AutoTokenizer

    base_tok = AutoTokenizer.from_pretrained(base_dir)
    kind = tokenizer_kind(base_tok) if cfg["tokenizer"]["new_tokens"] > 0 else _kind_or_unknown(base_tok)
    pieces = (
        train_new_pieces(
            base_tok,
            train_texts,
            cfg["tokenizer"]["new_tokens"],
            trainer_vocab_size=cfg["tokenizer"]["trainer_vocab_size"],
            min_frequency=cfg["tokenizer"]["min_frequency"],
            progress=progress,
        )
        if cfg["tokenizer"]["new_tokens"] > 0
        else []
    )
    new_tok = extend_tokenizer(base_tok, pieces) if pieces else base_tok
    old_len = len(base_tok)
    vocab = new_tok.get_vocab()
    by_piece = {p.piece: p for p in pieces}
    new_tokens = sorted((i, p) for p, i in vocab.items() if i >= old_len)
    rows = []
    for i, p in new_tokens:
        np_ = by_piece.get(p)
        row = (i, p, np_.score if np_ else 0.0)
        if np_ is not None and np_.merge is not None:
            row = (*row, tuple(np_.merge))
        rows.append(row)

    model_config = AutoConfig.from_pretrained(base_dir)
    with torch.device("meta"):
        model = mlm_model_from_config(model_config)
    if model.get_input_embeddings() is None:
        raise LexiconLMError(f"{base_dir}: the model has no input embeddings to extend")
    frozen, trainable = module_split(model, cfg["mlm"]["freeze_body"])
    out_emb = model.get_output_embeddings()
    tied = bool(getattr(model_config, "tie_word_embeddings", True)) and out_emb is not None
    fresh_head = not has_mlm_head(base_dir, model)

    method, fn = resolve_init(cfg["init"]["method"])
    ctx = InitContext(
        base_tok,
        new_tok,
        [(i, p) for i, p in new_tokens],
        texts=list(train_texts),
        lexicon=lexicon,
        language=cfg["language"],
        script=cfg["script"] or "",
        source_language=cfg["source_language"],
        source_script=cfg["source_script"],
        options=dict(cfg["init"]["options"]),
    )
    recipe = fn(ctx)
    plan = AdaptationPlan(
        base_model=cfg["base_model"],
        base_path=str(base_dir),
        model_type=model_config.model_type,
        tokenizer_kind=kind,
        base_vocab_size=old_len,
        new_vocab_size=len(new_tok),
        new_tokens=tuple(rows),
        init_method=method,
        init_summary=recipe.summary,
        frozen_modules=tuple(frozen),
        trainable_modules=tuple(trainable),
        fresh_head=fresh_head,
        tied_embeddings=tied,
        language=cfg["language"],
        script=cfg["script"] or "",
        texts={
            "train_segments": len(train_texts),
            "heldout_segments": len(heldout_texts),
            "train_digest": texts_digest(train_texts),
            "heldout_digest": texts_digest(heldout_texts),
        },
        lexicon=None
        if lexicon is None
        else {
            "path": lexicon.provenance.path,
            "entries": len(lexicon),
            "src": lexicon.src.code,
            "tgt": lexicon.tgt.code,
        },
        config_signature=signature,
        seed=cfg["seed"],
    )
    return plan, new_tok, recipe


def _kind_or_unknown(tok: Any) -> str:
    backend = getattr(tok, "backend_tokenizer", None)
    if backend is None:
        return "slow"
    return json.loads(backend.to_str())["model"].get("type", "")
