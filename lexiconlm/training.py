"""The one training toolkit: seeds and RNG state, autocast, checkpoints without pickle, tiny models.

Every training loop of the package (:func:`lexiconlm.nlu.train.train_joint`,
:func:`lexiconlm.inflection.neural.train`, :func:`lexiconlm.adapt.mlm.train_mlm`) takes
these pieces from here instead of bringing its own copy:

* :func:`seed_all`, :func:`capture_rng` / :func:`restore_rng`: the state of Python's
  ``random``, NumPy's global generator, torch's CPU generator and every CUDA generator,
  as JSON-able values and byte tensors (so a checkpoint can hold them without pickle).
* :func:`autocast`: bf16 autocast on CUDA, nothing (fp32) on CPU unless bf16 is asked for.
* :func:`save_checkpoint` / :func:`load_checkpoint`: a checkpoint is a folder ::

      state.json            everything but tensors: step, epoch, optimizer param groups,
                            scheduler state, RNG state, history ... ("format": FORMAT)
      tensors.safetensors   every tensor: weights, optimizer moments, RNG byte states

  written into a temporary folder beside it and published whole
  (:func:`lexiconlm.files.publish_folder`), so a kill leaves the old checkpoint or the new
  one. Nothing is unpickled when reading: a ``state.pt`` of earlier versions (a pickle, which
  runs any code it holds when loaded) is refused with a :class:`CheckpointError` naming the
  file and the way to start over; so is a truncated or damaged checkpoint.
* :func:`build_tiny_model`: a tiny BERT (few thousand parameters) and a tokenizer trained in
  memory on a list of texts, for tests, smoke configs and ``expand``'s ``tiny`` base model;
  :func:`save_model_folder` writes the pair as an HF folder.

torch is imported at module level: only the torch-using packages import this module.

Example:
    >>> save_checkpoint(run / "checkpoint", {"step": 3, "model": model.state_dict(),
    ...                                      "rng": capture_rng()})  # doctest: +SKIP
    >>> state = load_checkpoint(run / "checkpoint",
    ...                         restart_hint="rerun with --no-resume")  # doctest: +SKIP
    >>> model.load_state_dict(state["model"]); restore_rng(state["rng"])  # doctest: +SKIP

Why one module of about 720 lines: the toolkit's four parts (RNG state, autocast, checkpoints,
tiny models) share the checkpoint's state layout; split it only if one part grows on its own.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import random
import re
import shutil
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lexiconlm.devices import sequential_tokenizers
from lexiconlm.errors import ConfigError, LexiconLMError, UnknownNameError
from lexiconlm.files import atomic_write_text, publish_folder

__all__ = [
    "FORMAT",
    "PICKLE_FILES",
    "STATE_FILE",
    "TENSORS_FILE",
    "TINY_DEFAULTS",
    "TINY_TOKENIZERS",
    "CheckpointError",
    "autocast",
    "build_tiny_model",
    "capture_rng",
    "checkpoint_exists",
    "load_checkpoint",
    "remove_checkpoint",
    "restore_rng",
    "save_checkpoint",
    "save_model_folder",
    "seed_all",
    "tiny_tokenizer",
]

#: The checkpoint format written by :func:`save_checkpoint` (``state.json`` names it).
FORMAT = "lexiconlm.checkpoint.v1"
STATE_FILE = "state.json"
TENSORS_FILE = "tensors.safetensors"
#: Checkpoint files of earlier versions (pickles): refused, never opened.
PICKLE_FILES = ("state.pt", "checkpoint.pt")

# --------------------------------------------------------------------------- errors


class CheckpointError(LexiconLMError):
    """A checkpoint cannot be read: truncated, damaged, or an old pickle file (never opened).

    Attributes:
        path: the file at fault.
    """

    def __init__(self, path: str | os.PathLike, message: str, fix: str):
        self.path = Path(path)
        super().__init__(f"{path}: {message} (fix: {fix})")


def _fix(folder: Path, restart_hint: str) -> str:
    return f"{restart_hint}, or delete {folder}" if restart_hint else f"delete {folder} and rerun"


def _pickle_error(file: Path, remove: Path, restart_hint: str) -> CheckpointError:
    return CheckpointError(
        file,
        "a checkpoint in the old pickle format, which lexiconlm no longer reads (unpickling a "
        "file runs any code it holds); it was not opened",
        _fix(remove, restart_hint),
    )


# --------------------------------------------------------------------------- seeds and RNG


def seed_all(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and every CUDA device)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def capture_rng() -> dict[str, Any]:
    """The state of every global random generator, for a checkpoint.

    Returns:
        ``{"python": [...], "numpy": {...}, "torch": uint8 tensor, "cuda": [uint8 tensors]}``:
        JSON-able values and byte tensors (``cuda`` only where torch sees CUDA devices).
        :func:`save_checkpoint` stores it without pickle; :func:`restore_rng` puts it back.
    """
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": {"version": version, "internal": list(internal), "gauss_next": gauss},
        "numpy": {
            "name": str(name),
            "keys": [int(k) for k in keys],
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = list(torch.cuda.get_rng_state_all())
    return state


def restore_rng(state: Mapping[str, Any]) -> None:
    """Put back the generator states of :func:`capture_rng` (CUDA states on the devices present).

    Raises:
        LexiconLMError: the state lacks a part (``python``, ``numpy`` or ``torch``).
    """
    missing = [k for k in ("python", "numpy", "torch") if k not in state]
    if missing:
        raise LexiconLMError(f"RNG state without {', '.join(missing)}: not written by capture_rng()")
    py = state["python"]
    random.setstate((int(py["version"]), tuple(int(x) for x in py["internal"]), py["gauss_next"]))
    n = state["numpy"]
    np.random.set_state(
        (
            n["name"],
            np.asarray(n["keys"], dtype=np.uint32),
            int(n["pos"]),
            int(n["has_gauss"]),
            float(n["cached_gaussian"]),
        )
    )
    torch.set_rng_state(state["torch"].cpu())
    cuda = state.get("cuda")
    if cuda and torch.cuda.is_available():
        for i, s in enumerate(list(cuda)[: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(s.cpu(), i)


# --------------------------------------------------------------------------- autocast


def autocast(device: str, precision: str = "auto") -> AbstractContextManager:
    """The mixed-precision context of a forward pass.

    Args:
        device: a torch device string (``cpu``, ``cuda``, ``cuda:1``).
        precision: ``auto`` (bf16 on CUDA, fp32 on CPU), ``bf16`` (bf16 autocast on either)
            or ``fp32`` (no autocast).

    Returns:
        ``torch.autocast(..., dtype=torch.bfloat16)`` or a context that does nothing.

    Raises:
        ConfigError: another precision.
    """
    if precision not in ("auto", "bf16", "fp32"):
        raise ConfigError([f"precision -> expected auto, bf16 or fp32, got {precision!r}"])
    cuda = str(device).startswith("cuda")
    if precision == "bf16" or (precision == "auto" and cuda):
        return torch.autocast(device_type="cuda" if cuda else "cpu", dtype=torch.bfloat16)
    return nullcontext()


# --------------------------------------------------------------------------- checkpoints

# A JSON object that stands for something JSON has not: a tensor (by name in the tensors
# file), a tuple, or a dict whose keys are not all strings (optimizer state is keyed by int).
_MARKERS = ("__tensor__", "__tuple__", "__dict__")


class _TensorStore:
    """Collects the tensors of a state tree under unique names; tensors that are the same view
    of the same memory (tied weights) are stored once, other overlapping views are copied
    (safetensors refuses shared memory)."""

    def __init__(self) -> None:
        self.tensors: dict[str, torch.Tensor] = {}
        self._views: dict[tuple, str] = {}
        self._storages: set[tuple[str, int]] = set()

    def add(self, name: str, t: torch.Tensor) -> str:
        t = t.detach()
        storage = (str(t.device), t.untyped_storage().data_ptr())
        view = (*storage, t.storage_offset(), tuple(t.shape), tuple(t.stride()), t.dtype)
        if t.numel() and view in self._views:
            return self._views[view]
        name = name.lstrip("/") or "tensor"
        while name in self.tensors:
            name += "'"
        cpu = t.to("cpu")
        if (t.numel() and storage in self._storages) or not cpu.is_contiguous():
            cpu = cpu.clone(memory_format=torch.contiguous_format)
        if t.numel():
            self._views[view] = name
            self._storages.add(storage)
        self.tensors[name] = cpu
        return name


def _encode(obj: Any, path: str, store: _TensorStore) -> Any:
    if isinstance(obj, torch.Tensor):
        return {"__tensor__": store.add(path, obj)}
    if isinstance(obj, (bool, str)) or obj is None:
        return obj
    if isinstance(obj, (int, float)):
        return obj
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, Mapping):
        keys = list(obj)
        marker = len(keys) == 1 and keys[0] in _MARKERS
        if all(isinstance(k, str) for k in keys) and not marker:
            return {k: _encode(v, f"{path}/{k}", store) for k, v in obj.items()}
        return {
            "__dict__": [
                [_encode(k, f"{path}/{k}#key", store), _encode(v, f"{path}/{k}", store)] for k, v in obj.items()
            ]
        }
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, f"{path}/{i}", store) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{path}/{i}", store) for i, v in enumerate(obj)]
    raise TypeError(
        f"checkpoint state at {path or '/'}: a {type(obj).__name__} cannot be stored "
        "(only tensors, numbers, strings, None, lists, tuples and dicts)"
    )


def _decode(obj: Any, tensors: Mapping[str, torch.Tensor], file: Path, fix: str) -> Any:
    if isinstance(obj, list):
        return [_decode(v, tensors, file, fix) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) == 1:
        ((key, value),) = obj.items()
        if key == "__tensor__":
            if value not in tensors:
                raise CheckpointError(
                    file.parent / TENSORS_FILE, f"the tensor {value!r} named in {file.name} is missing", fix
                )
            return tensors[value]
        if key == "__tuple__":
            return tuple(_decode(v, tensors, file, fix) for v in value)
        if key == "__dict__":
            return {_decode(k, tensors, file, fix): _decode(v, tensors, file, fix) for k, v in value}
    return {k: _decode(v, tensors, file, fix) for k, v in obj.items()}


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - a file system without fsync
        pass
    finally:
        os.close(fd)


def save_checkpoint(folder: str | os.PathLike, state: Mapping[str, Any]) -> Path:
    """Write ``state`` as a checkpoint folder (state.json + tensors.safetensors), atomically.

    The folder is written beside its final place and published whole, replacing an older
    checkpoint there: a kill leaves one complete checkpoint, never a half-written one.

    Args:
        folder: the checkpoint folder.
        state: a tree of dicts (any keys), lists, tuples, numbers, strings, ``None`` and
            tensors (on any device; read back on the CPU), e.g. ``model.state_dict()``,
            ``optimizer.state_dict()``, ``scheduler.state_dict()``, :func:`capture_rng`.

    Returns:
        ``folder``.

    Raises:
        TypeError: a value of another type (a function, an object) in ``state``.
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    store = _TensorStore()
    doc = {"format": FORMAT, "tensors": TENSORS_FILE, "state": _encode(state, "", store)}
    text = json.dumps(doc, ensure_ascii=False) + "\n"
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        save_file(store.tensors, str(tmp / TENSORS_FILE), metadata={"format": FORMAT})
        _fsync(tmp / TENSORS_FILE)
        atomic_write_text(tmp / STATE_FILE, text)
        publish_folder(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def checkpoint_exists(folder: str | os.PathLike, *, legacy: Iterable[str | os.PathLike] = ()) -> bool:
    """Whether ``folder`` holds a checkpoint, or an old pickle checkpoint is there
    (``folder/state.pt`` or one of the ``legacy`` files), which :func:`load_checkpoint` refuses."""
    folder = Path(folder)
    return (
        (folder / STATE_FILE).is_file()
        or any((folder / n).is_file() for n in PICKLE_FILES)
        or any(Path(p).is_file() for p in legacy)
    )


def remove_checkpoint(folder: str | os.PathLike, *, legacy: Iterable[str | os.PathLike] = ()) -> None:
    """Delete a checkpoint folder and the ``legacy`` files (a run started over)."""
    shutil.rmtree(folder, ignore_errors=True)
    for p in legacy:
        Path(p).unlink(missing_ok=True)


def load_checkpoint(
    folder: str | os.PathLike,
    *,
    restart_hint: str = "",
    legacy: Iterable[str | os.PathLike] = (),
) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; tensors come back on the CPU.

    Never unpickles anything: an old-format checkpoint (``folder/state.pt``, or one of the
    ``legacy`` files, e.g. ``run/checkpoint.pt``) is refused without being opened.

    Args:
        folder: the checkpoint folder.
        restart_hint: how the caller's command starts over, for the messages
            (e.g. ``"rerun with --no-resume (resume=False) to start over"``).
        legacy: pickle checkpoint files of earlier versions of the caller's run folder.

    Returns:
        The state, as it was saved (tuples, int-keyed dicts and tensors restored).

    Raises:
        CheckpointError: an old pickle checkpoint, a missing, truncated or damaged
            ``state.json`` or ``tensors.safetensors``; the message names the file and the fix.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    fix = _fix(folder, restart_hint)
    state_file, tensors_file = folder / STATE_FILE, folder / TENSORS_FILE
    if not state_file.is_file():
        for name in PICKLE_FILES:
            if (folder / name).is_file():
                raise _pickle_error(folder / name, folder, restart_hint)
        for p in map(Path, legacy):
            if p.is_file():
                raise _pickle_error(p, p, restart_hint)
    if not state_file.is_file():
        raise CheckpointError(state_file, "no such file: the folder holds no complete checkpoint", fix)
    try:
        doc = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CheckpointError(
            state_file, f"cannot read the checkpoint state, the file is truncated or damaged ({exc})", fix
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or "state" not in doc:
        found = doc.get("format") if isinstance(doc, dict) else None
        raise CheckpointError(state_file, f"not a {FORMAT} checkpoint (format {found!r})", fix)
    try:
        tensors = load_file(str(tensors_file))
    except FileNotFoundError:
        raise CheckpointError(tensors_file, "no such file: the checkpoint is incomplete", fix) from None
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            tensors_file, f"cannot read the checkpoint's tensors, the file is truncated or damaged ({exc})", fix
        ) from None
    return _decode(doc["state"], tensors, state_file, fix)


# --------------------------------------------------------------------------- tiny models

#: Settings of :func:`build_tiny_model` and their defaults.
TINY_DEFAULTS: dict[str, int] = {
    "vocab_size": 400,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 128,
    "type_vocab_size": 2,
}

#: Tokenizer recipes of :func:`tiny_tokenizer` (versioned: a changed recipe gets a new name,
#: so a run made with an old one can be rebuilt exactly).
TINY_TOKENIZERS: dict[str, str] = {
    "wordpiece-whitespace.v1": "WordPiece; NFKC + lowercase; split at whitespace and "
    "punctuation runs; vocabulary: specials, every character, the "
    "most frequent words (the NLU scratch encoder)",
    "wordpiece-bert.v1": "WordPiece; NFC + lowercase; BERT pre-tokenizer; same vocabulary rule; "
    "pair template and decoder (expand's tiny base model)",
    "unigram-metaspace.v1": "XLM-R-like Unigram trained with the tokenizers trainer; NFKC; "
    "metaspace; <s> </s> <pad> <unk> <mask> (adapt's builtin:tiny)",
}
_BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_XLMR_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def _wordpiece_vocab(words: Counter, size: int) -> dict[str, int]:
    """Specials, every character (word-initial and ``##``), then the most frequent words (count,
    then alphabetical). The tokenizers trainer breaks ties in hash order: runs would differ."""
    chars = sorted({c for w in words for c in w})
    vocab: dict[str, int] = {}
    for piece in [*_BERT_SPECIALS, *chars, *(f"##{c}" for c in chars)]:
        vocab.setdefault(piece, len(vocab))
    for w, _ in sorted(words.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(vocab) >= size:
            break
        vocab.setdefault(w, len(vocab))
    return vocab


def _wordpiece_whitespace(texts: Sequence[str], vocab_size: int, max_length: int) -> Any:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    words = Counter(w for t in texts for w in re.findall(r"\w+|[^\w\s]", unicodedata.normalize("NFKC", t).lower()))
    t = Tokenizer(models.WordPiece(vocab=_wordpiece_vocab(words, vocab_size), unk_token="[UNK]"))
    t.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    t.pre_tokenizer = pre_tokenizers.Whitespace()
    t.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", t.token_to_id("[CLS]")), ("[SEP]", t.token_to_id("[SEP]"))],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=t,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def _wordpiece_bert(texts: Sequence[str], vocab_size: int, max_length: int) -> Any:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Lowercase()])
    pre = pre_tokenizers.BertPreTokenizer()
    words: Counter = Counter()
    for t in texts:
        words.update(w for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(t)))
    tok = Tokenizer(
        models.WordPiece(_wordpiece_vocab(words, vocab_size), unk_token="[UNK]", max_input_chars_per_word=100)
    )
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )
    tok.decoder = decoders.WordPiece()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=max_length,
    )


def _settle_required_chars(pieces: list) -> list:
    """The Unigram trainer appends the characters it must keep but found no score for with the
    scores ``min + k * 1e-4``, ``k`` counting in hash-set order (which differs between calls);
    hand those scores to the characters in code-point order instead."""
    if not pieces:
        return pieces
    low = min(float(sc) for _, sc in pieces)

    def appended(score: float) -> bool:
        k = round((score - low) / 1e-4)
        return 0 <= k < len(pieces) and abs(score - (low + k * 1e-4)) < 1e-7

    idx = [i for i, (p, sc) in enumerate(pieces) if len(p) == 1 and appended(float(sc))]
    scores = sorted((float(pieces[i][1]) for i in idx), reverse=True)
    chars = sorted(pieces[i][0] for i in idx)
    out = [list(x) for x in pieces]
    for i, c, sc in zip(idx, chars, scores):
        out[i] = [c, sc]
    return out


def _unigram_metaspace(texts: Sequence[str], vocab_size: int, max_length: int) -> Any:
    from tokenizers import (
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
        trainers,
    )
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    with sequential_tokenizers():
        tok.train_from_iterator(
            list(texts),
            trainers.UnigramTrainer(
                vocab_size=vocab_size, special_tokens=_XLMR_SPECIALS, unk_token="<unk>", show_progress=False
            ),
        )
    data = json.loads(tok.to_str())
    n_special = len(_XLMR_SPECIALS)
    raw = data["model"]["vocab"]
    raw = raw[:n_special] + _settle_required_chars(raw[n_special:])
    # scores rounded: the trainer's float sums vary in the last digits between processes
    vocab = [[p, round(float(sc), 4)] for p, sc in raw]
    # and ties come in hash-map order: the pieces after the special tokens are sorted
    head, rest = vocab[:n_special], vocab[n_special:]
    if [p for p, _ in head] != _XLMR_SPECIALS:
        raise LexiconLMError(
            f"the Unigram trainer put {[p for p, _ in head]} first, not the "
            f"special tokens {_XLMR_SPECIALS}; the installed tokenizers version "
            "behaves differently"
        )
    data["model"]["vocab"] = head + sorted(rest, key=lambda r: (-r[1], r[0]))
    tok = Tokenizer.from_str(json.dumps(data))
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
        cls_token="<s>",
        sep_token="</s>",
        mask_token="<mask>",
        model_max_length=max_length,
    )


_TOKENIZER_BUILDERS = {
    "wordpiece-whitespace.v1": _wordpiece_whitespace,
    "wordpiece-bert.v1": _wordpiece_bert,
    "unigram-metaspace.v1": _unigram_metaspace,
}


def tiny_tokenizer(
    texts: Sequence[str], recipe: str = "wordpiece-bert.v1", *, vocab_size: int = 400, max_length: int = 128
) -> Any:
    """A fast tokenizer trained in memory on ``texts`` (deterministic: same texts, same tokenizer).

    Args:
        texts: the training text.
        recipe: one of :data:`TINY_TOKENIZERS`.
        vocab_size: the vocabulary size aimed at (WordPiece: at least the specials and characters).
        max_length: the tokenizer's ``model_max_length`` (``wordpiece-whitespace.v1`` sets none).

    Returns:
        A ``transformers.PreTrainedTokenizerFast``.

    Raises:
        UnknownNameError: an unknown recipe (close names suggested).
    """
    if recipe not in _TOKENIZER_BUILDERS:
        close = difflib.get_close_matches(recipe, list(_TOKENIZER_BUILDERS), n=2)
        raise UnknownNameError(recipe, close, f"Tokenizer recipes: {', '.join(_TOKENIZER_BUILDERS)}.")
    return _TOKENIZER_BUILDERS[recipe](texts, vocab_size, max_length)


def _tiny_config(config: Mapping[str, Any] | None) -> dict[str, int]:
    cfg = {**TINY_DEFAULTS, **dict(config or {})}
    problems = [f"{k} -> unknown key (known: {', '.join(TINY_DEFAULTS)})" for k in cfg if k not in TINY_DEFAULTS]
    problems += [
        f"{k} -> expected a positive integer, got {v!r}"
        for k, v in cfg.items()
        if k in TINY_DEFAULTS and (isinstance(v, bool) or not isinstance(v, int) or v < 1)
    ]
    if not problems and cfg["hidden_size"] % cfg["num_attention_heads"]:
        problems.append(
            f"hidden_size -> {cfg['hidden_size']} is not divisible by num_attention_heads={cfg['num_attention_heads']}"
        )
    if problems:
        raise ConfigError(problems, "(tiny model)")
    return cfg


def build_tiny_model(
    texts: Sequence[str],
    config: Mapping[str, Any] | None = None,
    *,
    tokenizer: str | Any = "wordpiece-bert.v1",
    masked_lm: bool = True,
    seed: int = 0,
) -> tuple[Any, Any]:
    """A tiny random BERT and its tokenizer, trained in memory on ``texts``: the one builder of
    small models for tests, smoke configs and ``expand``'s ``tiny`` base.

    Args:
        texts: text to train the tokenizer on.
        config: BERT sizes, any of :data:`TINY_DEFAULTS` (``vocab_size`` is the tokenizer's target
            size; the model gets the tokenizer's actual size).
        tokenizer: a recipe of :data:`TINY_TOKENIZERS`, or a ready tokenizer (then ``texts`` and
            ``vocab_size`` are not used).
        masked_lm: a ``BertForMaskedLM`` (True) or a ``BertModel`` without pooler, as e5
            ships (False).
        seed: seeds the weight initialisation (``torch.manual_seed``).

    Returns:
        ``(model, tokenizer)``; :func:`save_model_folder` writes them as an HF folder.

    Raises:
        ConfigError: unknown or invalid sizes (every problem listed).
        UnknownNameError: an unknown tokenizer recipe.

    Example:
        >>> model, tok = build_tiny_model(["a small text"] * 4, {"hidden_size": 8})
        >>> sum(p.numel() for p in model.parameters()) < 20_000
        True
    """
    from transformers import BertConfig, BertForMaskedLM, BertModel

    cfg = _tiny_config(config)
    if isinstance(tokenizer, str):
        tokenizer = tiny_tokenizer(
            texts, tokenizer, vocab_size=cfg["vocab_size"], max_length=cfg["max_position_embeddings"]
        )
    torch.manual_seed(seed)
    bert_cfg = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=cfg["hidden_size"],
        num_hidden_layers=cfg["num_hidden_layers"],
        num_attention_heads=cfg["num_attention_heads"],
        intermediate_size=cfg["intermediate_size"],
        max_position_embeddings=cfg["max_position_embeddings"],
        type_vocab_size=cfg["type_vocab_size"],
        pad_token_id=tokenizer.pad_token_id,
    )
    model = BertForMaskedLM(bert_cfg) if masked_lm else BertModel(bert_cfg, add_pooling_layer=False)
    return model, tokenizer


def save_model_folder(model: Any, tokenizer: Any, folder: str | os.PathLike) -> Path:
    """Write a model and its tokenizer as an HF folder (``save_pretrained``); returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    quiet = logging.getLogger("transformers.distributed.tensor_parallel")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        model.save_pretrained(folder)
    finally:
        quiet.setLevel(level)
    tokenizer.save_pretrained(folder)
    return folder
