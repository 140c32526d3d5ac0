"""Step cache of ``lexiconlm expand``: keys from configs and input signatures, records on disk.

A step's key is the SHA-256 of its name and version, the part of the resolved
configuration it reads, the keys of the steps it depends on and the content hashes of
the data files it reads. A finished step writes ``steps/<name>.json`` (atomically, last):
its key, its outputs, the SHA-256 of every file it wrote (``files``: its work folders and
any other file of the run folder it created or changed) and its time. A later run with
the same key reuses the outputs when every recorded file is still there unchanged
(:func:`check_files`); a missing or changed file, or a different key (a changed config or
input), runs the step again. A step killed before its record was written leaves no
record, so it is run again and resumes from whatever checkpoints its work folder holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lexiconlm.files import LOCK_NAME, atomic_write_text, file_sha256

__all__ = [
    "StepRecord",
    "check_files",
    "clear_step",
    "file_hash",
    "files_signature",
    "output_files",
    "read_record",
    "remove_record",
    "snapshot",
    "step_key",
    "write_record",
]

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
    """What a finished step left: its key, outputs (JSON), how long it took and the files it wrote.

    ``files`` maps each file the step wrote (path relative to the run folder, ``/``
    separated) to its SHA-256; ``None`` in a record written before files were recorded
    (such a record is trusted as it is).
    """

    name: str
    key: str
    outputs: dict
    seconds: float
    files: dict[str, str] | None = field(default=None)

    def as_dict(self) -> dict:
        d = {"name": self.name, "key": self.key, "outputs": self.outputs, "seconds": round(self.seconds, 3)}
        if self.files is not None:
            d["files"] = dict(sorted(self.files.items()))
        return d


def _record_path(run_dir: Path, name: str) -> Path:
    return Path(run_dir) / "steps" / f"{name}.json"


def read_record(run_dir: str | os.PathLike, name: str) -> StepRecord | None:
    """The record of a finished step, or ``None`` (never ran, or was killed before it finished)."""
    p = _record_path(Path(run_dir), name)
    if not p.is_file():
        return None
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
        files = d.get("files")
        if files is not None and not (isinstance(files, dict) and all(isinstance(v, str) for v in files.values())):
            return None
        return StepRecord(d["name"], d["key"], d["outputs"], float(d["seconds"]), files)
    except (ValueError, KeyError, TypeError):
        return None  # a damaged record counts as no record: the step runs again


def write_record(run_dir: str | os.PathLike, record: StepRecord) -> Path:
    """Write ``steps/<name>.json`` atomically (the last thing a finished step does)."""
    p = _record_path(Path(run_dir), record.name)
    p.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(p, json.dumps(record.as_dict(), indent=1, ensure_ascii=False) + "\n")


def remove_record(run_dir: str | os.PathLike, name: str) -> bool:
    """Delete ``steps/<name>.json`` (a result no longer current); whether there was one."""
    p = _record_path(Path(run_dir), name)
    if p.exists():
        p.unlink()
        return True
    return False


def _skipped(rel: Path) -> bool:
    """The pipeline's bookkeeping, never a step's output: ``steps/``, lock and temporary files."""
    return rel.parts[0] == "steps" or rel.name == LOCK_NAME or any(x.endswith(".tmp") for x in rel.parts)


def snapshot(run_dir: str | os.PathLike) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime_ns)}`` of the files of a run folder (bookkeeping left out)."""
    root = Path(run_dir)
    out: dict[str, tuple[int, int]] = {}
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            p = Path(dirpath) / n
            rel = p.relative_to(root)
            if _skipped(rel):
                continue
            try:
                st = p.stat()
            except FileNotFoundError:  # removed while walking
                continue
            out[rel.as_posix()] = (st.st_size, st.st_mtime_ns)
    return out


def output_files(
    run_dir: str | os.PathLike,
    before: dict[str, tuple[int, int]],
    work: tuple[str, ...] | list[str] = (),
) -> dict[str, str]:
    """``{relative path: sha256}`` of the files a step wrote: every file now in its ``work``
    folders, and every other file of the run folder that is new or changed since ``before``
    (:func:`snapshot` taken when the step started)."""
    root = Path(run_dir)
    after = snapshot(root)
    prefixes = tuple(w.rstrip("/") + "/" for w in work)
    names = [rel for rel, st in after.items() if before.get(rel) != st or rel in work or rel.startswith(prefixes)]
    return {rel: file_hash(root / rel) for rel in sorted(names)}


def check_files(run_dir: str | os.PathLike, record: StepRecord) -> list[str]:
    """What is wrong with the files a finished step recorded: one line per missing or changed
    file (empty when all are as the step left them, or the record lists no files)."""
    root = Path(run_dir)
    problems: list[str] = []
    for rel, sha in sorted((record.files or {}).items()):
        p = root / rel
        if not p.is_file():
            problems.append(f"{p} is missing")
            continue
        try:
            now = file_hash(p)
        except OSError as exc:
            problems.append(f"{p} cannot be read ({exc.strerror})")
            continue
        if now != sha:
            problems.append(f"{p} changed since the step wrote it (sha256 {sha[:12]}..., now {now[:12]}...)")
    return problems


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
