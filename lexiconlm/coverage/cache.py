"""Every configured file's statistics, read once and kept in a cache between runs.

:func:`collect` lists the files of every resource of a :class:`CoverageConfig`, stats
them, takes the statistics of unchanged files from :class:`StatsCache` (keyed by
``(kind, absolute path)``, valid while size and ``mtime_ns`` match, and dropped as a whole
when :data:`CACHE_VERSION`, the lexiconlm version or the catalog files change) and reads
the others with :func:`lexiconlm.coverage.stats.read_files`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lexiconlm import __version__
from lexiconlm.coverage.config import CoverageConfig, ResourceSpec
from lexiconlm.coverage.stats import alias_context, lexicon_files, read_files, walk
from lexiconlm.errors import DataFormatError
from lexiconlm.files import atomic_write_text
from lexiconlm.resources import resources_dir

__all__ = ["CACHE_VERSION", "FileStat", "StatsCache", "collect"]

#: Version of the per-file statistics kept in the cache; bump when they change.
CACHE_VERSION = "coverage-cache.v3"  # v3: CoNLL files read (and validated) with read_conll


def _catalog_fingerprint() -> str:
    """Size and mtime of the catalog files: resolved language codes depend on them."""
    parts = []
    for name in ("languages.tsv", "language_aliases.tsv"):
        try:
            st = (resources_dir() / name).stat()
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{name}:-")
    return "|".join(parts)


class StatsCache:
    """Per-file statistics keyed by ``(kind key, absolute path)`` and valid while size and mtime_ns match."""

    def __init__(self, path: Path | None, enabled: bool):
        self.path = path
        self.enabled = enabled and path is not None
        self.fingerprint = f"{CACHE_VERSION}|lexiconlm:{__version__}|{_catalog_fingerprint()}"
        self.entries: dict[str, dict] = {}
        self.seen: set[str] = set()
        self.changed = False
        if self.enabled and path is not None and path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError, UnicodeDecodeError):
                data = {}
            if isinstance(data, dict) and data.get("fingerprint") == self.fingerprint:
                self.entries = data.get("files", {})
            else:
                self.changed = True  # stale or unreadable: rewritten at the end

    @staticmethod
    def key(kind_key: str, path: Path) -> str:
        """The cache key of a file read as ``kind_key``."""
        return f"{kind_key}\t{path}"

    def get(self, kind_key: str, path: Path, st: os.stat_result) -> dict | None:
        """The cached statistics of ``path``, or None when absent or stale (``st`` differs)."""
        key = self.key(kind_key, path)
        self.seen.add(key)
        e = self.entries.get(key)
        if e is not None and e.get("size") == st.st_size and e.get("mtime_ns") == st.st_mtime_ns:
            return e["stats"]
        return None

    def put(self, kind_key: str, path: Path, st: os.stat_result, stats: dict) -> None:
        """Keep the statistics of ``path`` as read at ``st``."""
        self.entries[self.key(kind_key, path)] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "stats": stats}
        self.seen.add(self.key(kind_key, path))
        self.changed = True

    def save(self) -> None:
        """Write the cache (atomically) if it changed, dropping files deleted since."""
        if not self.enabled or self.path is None:
            return
        gone = [k for k in self.entries if k not in self.seen and not os.path.exists(k.split("\t", 1)[1])]
        for k in gone:  # files deleted since they were cached
            del self.entries[k]
        if not self.changed and not gone:
            return
        data = {"fingerprint": self.fingerprint, "files": self.entries}
        try:
            atomic_write_text(self.path, json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        except OSError as exc:  # a read-only cache folder must not make the table fail
            print(f"warning: cannot write the coverage cache {self.path}: {exc}", file=sys.stderr)


@dataclass
class FileStat:
    """One data file's statistics, tagged with the resource it belongs to."""

    spec: ResourceSpec
    path: Path
    stats: dict


def _new_source(spec: ResourceSpec) -> dict:
    return {
        "kind": spec.kind,
        "name": spec.name,
        "folders": [str(p) for p in spec.paths],
        "absent": [],
        "files": 0,
        "files_read": 0,
        "files_cached": 0,
        "skipped": [],
        "problems": [],
        "n_problems": 0,
        "warnings": 0,
        "unresolved": [],
        "languages": 0,
    }


def _kind_key(spec: ResourceSpec) -> str:
    ctx = alias_context(spec.name) if spec.kind != "sigmorphon" else spec.name
    return f"{spec.kind}|{ctx or ''}"


def collect(
    config: CoverageConfig, *, use_cache: bool, progress: bool
) -> tuple[list[FileStat], dict[str, dict], StatsCache]:
    """Stat every configured file; read those the cache does not hold. Returns the stats and sources."""
    cache = StatsCache(config.cache_path, use_cache)
    stats: list[FileStat] = []
    sources: dict[str, dict] = {}
    for spec in config.resources():
        t0 = time.perf_counter()
        src = sources[spec.key] = _new_source(spec)
        kind_key = _kind_key(spec)
        files: list[Path] = []
        for p in spec.paths:
            if not p.exists():
                src["absent"].append(str(p))
                continue
            p = p.resolve()  # once per folder: the files below are then absolute already
            try:
                files.extend(lexicon_files(p) if spec.kind == "lexicons" else walk(p))
            except DataFormatError as exc:
                src["problems"].extend(str(x) for x in exc.problems)
        files = list(dict.fromkeys(files))
        todo: list[tuple[Path, os.stat_result]] = []
        for f in files:
            try:
                st = f.stat()
            except OSError as exc:
                src["problems"].append(f"{f}: cannot stat: {exc.strerror}")
                continue
            hit = cache.get(kind_key, f, st) if cache.enabled else None
            if hit is not None:
                src["files_cached"] += 1
                stats.append(FileStat(spec, f, hit))
            else:
                todo.append((f, st))
        if todo and progress:
            print(f"coverage: reading {len(todo)} of {len(files)} files of {spec.key}", file=sys.stderr, flush=True)
        for f, st, one in read_files(spec, todo):
            src["files_read"] += 1
            cache.put(kind_key, f, st, one)
            stats.append(FileStat(spec, f, one))
        src["seconds"] = round(time.perf_counter() - t0, 3)
    return stats, sources, cache
