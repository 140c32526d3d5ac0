"""Step cache of ``lexiconlm expand``: keys from configs and input signatures, records on disk.

A step's key is the SHA-256 of its name and version, the part of the resolved
configuration it reads, the keys of the steps it depends on and the content hashes of
the data files it reads. A finished step writes ``steps/<name>.json`` (atomically, last):
its key, its outputs and its time. A later run with the same key reuses the outputs; a
different key (a changed config or input) clears the step's work folder and runs it
again. A step killed before its record was written leaves no record, so it is run again
and resumes from whatever checkpoints its work folder holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lexiconlm.files import atomic_write_text, file_sha256

__all__ = ["StepRecord", "clear_step", "file_hash", "files_signature", "read_record", "step_key", "write_record"]

_HASHES: dict[tuple[str, int, int], str] = {}


def file_hash(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (memoised per path, size and modification time)."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        _HASHES[key] = file_sha256(p)
    return _HASHES[key]


def files_signature(paths) -> dict[str, str]:
    """``{file name: sha256}`` of files (folders: every file below, by relative path)."""
    out: dict[str, str] = {}
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for q in sorted(x for x in p.rglob("*") if x.is_file()):
                out[f"{p.name}/{q.relative_to(p)}"] = file_hash(q)
        elif p.is_file():
            out[p.name] = file_hash(p)
    return out


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))


def step_key(name: str, version: str, config: Any, inputs: dict[str, str], files: dict[str, str]) -> str:
    """The cache key of a step (hex SHA-256, first 16 characters)."""
    payload = _canonical({"step": name, "version": version, "config": config, "inputs": inputs, "files": files})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class StepRecord:
    """What a finished step left: its key, outputs (JSON) and how long it took."""

    name: str
    key: str
    outputs: dict
    seconds: float

    def as_dict(self) -> dict:
        return {"name": self.name, "key": self.key, "outputs": self.outputs, "seconds": round(self.seconds, 3)}


def _record_path(run_dir: Path, name: str) -> Path:
    return Path(run_dir) / "steps" / f"{name}.json"


def read_record(run_dir: str | os.PathLike, name: str) -> StepRecord | None:
    """The record of a finished step, or ``None`` (never ran, or was killed before it finished)."""
    p = _record_path(Path(run_dir), name)
    if not p.is_file():
        return None
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
        return StepRecord(d["name"], d["key"], d["outputs"], float(d["seconds"]))
    except (ValueError, KeyError, TypeError):
        return None  # a damaged record counts as no record: the step runs again


def write_record(run_dir: str | os.PathLike, record: StepRecord) -> Path:
    p = _record_path(Path(run_dir), record.name)
    p.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(p, json.dumps(record.as_dict(), indent=1, ensure_ascii=False) + "\n")


def clear_step(run_dir: str | os.PathLike, name: str, work: list[Path]) -> None:
    """Remove a step's record and work folders (before it runs with a new key)."""
    p = _record_path(Path(run_dir), name)
    if p.exists():
        p.unlink()
    for w in work:
        if w.is_dir():
            shutil.rmtree(w)
        elif w.exists():
            w.unlink()
