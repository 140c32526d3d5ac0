"""Which resource folders a coverage table counts: :class:`CoverageConfig` and its YAML file.

A configuration names folders (or files) per resource kind; every relative path is
taken relative to the folder of the YAML file. Example (``configs/coverage/demo.yaml``)::

    # lexiconlm coverage compute --config configs/coverage/demo.yaml --out runs/coverage/demo.csv
    lexicons:
      wiktionary: ../../resources/demo/lexicons
    unimorph: ../../resources/demo/unimorph
    sigmorphon: {}
    nlu:
      massive: ../../resources/demo/massive
    text:
      udhr: ../../resources/demo/text
    cache: ../../runs/coverage/cache/demo.json

``lexicons``, ``sigmorphon``, ``nlu`` and ``text`` map a source name to one path or a
list of paths; the name becomes part of column names (``lex_<name>_entries``,
``text_<name>_segments``), so it must be a lower-case identifier. A ``sigmorphon`` name
that is an edition year (``"2020"`` ... ``"2023"``) is also passed to the reader as the
edition, so that the columns of each file are checked against it. ``unimorph`` and
``runs`` are one path or a list. ``cache`` is the per-file statistics cache (default:
``~/.cache/lexiconlm/coverage/<hash of the config path>.json``).

:func:`load_config` reads the file with :mod:`lexiconlm.config` (the package's one
configuration toolkit), checks the whole file and raises one
:class:`~lexiconlm.errors.ConfigError` that lists every problem. A resource folder that
does not exist is a problem only with ``strict=True``; otherwise it is recorded in
:attr:`CoverageConfig.absent`, counted as zero and reported in the table's ``sources``.
``runs`` folders are outputs that the app lists when they exist: a fresh checkout has none,
so they are never required, not even with ``strict=True``.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lexiconlm.config import merge, raise_problems, read_config, resolve_paths
from lexiconlm.errors import ConfigError

__all__ = [
    "CoverageConfig",
    "ResourceSpec",
    "RESOURCE_KINDS",
    "CONFIG_KEYS",
    "load_config",
    "config_from_dict",
    "default_cache_path",
]

#: Resource kinds a configuration can name, in the order the table's columns follow.
RESOURCE_KINDS: tuple[str, ...] = ("lexicons", "unimorph", "sigmorphon", "nlu", "text")
#: Every top-level key a coverage YAML file may have.
CONFIG_KEYS: tuple[str, ...] = (*RESOURCE_KINDS, "runs", "cache")
#: Environment variable naming the folder of default caches.
CACHE_ENV = "LEXICONLM_CACHE_DIR"

_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_NAMED_KINDS = ("lexicons", "sigmorphon", "nlu", "text")


@dataclass(frozen=True)
class ResourceSpec:
    """One configured resource: ``kind`` (``lexicons`` ...), its ``name`` and its paths."""

    kind: str
    name: str
    paths: tuple[Path, ...]

    @property
    def key(self) -> str:
        """How the table's ``sources`` name it: ``lexicons:gatitos``, ``unimorph``."""
        return self.kind if self.kind == "unimorph" else f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class CoverageConfig:
    """The resource folders a coverage table counts (see the module docstring).

    Attributes:
        lexicons: source name -> folders/files of bilingual lexicons.
        unimorph: folders/files of UniMorph tables.
        sigmorphon: edition (or any name) -> folders of SIGMORPHON shared-task files.
        nlu: set name -> folders/files of labelled NLU data (MASSIVE TSV/JSON lines,
            CoNLL NER files such as MasakhaNER).
        text: corpus name -> folders/files of plain text (FLORES, Bible, UDHR ...).
        runs: run folders (listed by the app; not counted).
        cache: the per-file statistics cache (``None``: :func:`default_cache_path`).
        source: the YAML file the configuration was read from, if any.
        absent: ``(resource key, path)`` of every configured path that does not exist.
    """

    lexicons: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    unimorph: tuple[Path, ...] = ()
    sigmorphon: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    nlu: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    text: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    runs: tuple[Path, ...] = ()
    cache: Path | None = None
    source: Path | None = None
    absent: tuple[tuple[str, str], ...] = ()

    def resources(self) -> Iterator[ResourceSpec]:
        """Every configured resource in column order: lexicons, unimorph, sigmorphon, nlu, text."""
        for name, paths in self.lexicons.items():
            yield ResourceSpec("lexicons", name, paths)
        if self.unimorph:
            yield ResourceSpec("unimorph", "unimorph", self.unimorph)
        for name, paths in self.sigmorphon.items():
            yield ResourceSpec("sigmorphon", name, paths)
        for name, paths in self.nlu.items():
            yield ResourceSpec("nlu", name, paths)
        for name, paths in self.text.items():
            yield ResourceSpec("text", name, paths)

    @property
    def cache_path(self) -> Path:
        """Where the per-file statistics are cached (:attr:`cache` or the default)."""
        return self.cache if self.cache is not None else default_cache_path(self)

    def signature(self) -> str:
        """A short, stable description of what is counted, e.g. ``lexicons:gatitos,wiktionary|unimorph|...``."""
        parts = []
        for kind in RESOURCE_KINDS:
            value = getattr(self, kind)
            if isinstance(value, dict):
                parts.append(f"{kind}:{','.join(value)}" if value else f"{kind}:-")
            else:
                parts.append(f"{kind}:{len(value)}")
        return "|".join(parts)


def default_cache_path(config: CoverageConfig) -> Path:
    """``$LEXICONLM_CACHE_DIR`` (or ``~/.cache/lexiconlm``) ``/coverage/<hash>.json``.

    The hash is taken over the configuration's source file (or its resource paths), so
    two configurations never share a default cache file by accident.
    """
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "lexiconlm") / "coverage"
    if config.source is not None:
        ident = str(Path(config.source).resolve())
    else:
        ident = "\n".join(f"{r.key}={','.join(map(str, r.paths))}" for r in config.resources())
    return root / f"{hashlib.sha1(ident.encode('utf-8')).hexdigest()[:16]}.json"


# --------------------------------------------------------------------------- parsing

#: Every key with its default; the named kinds are free-form mappings (source name -> paths).
_DEFAULTS: dict[str, Any] = {
    "lexicons": {},
    "unimorph": [],
    "sigmorphon": {},
    "nlu": {},
    "text": {},
    "runs": [],
    "cache": None,
}
_HINT = "coverage configs live in configs/coverage/, e.g. configs/coverage/demo.yaml"


def _named(value: Mapping, loc: str, base: Path, problems: list[str]) -> dict[str, tuple[Path, ...]]:
    """``name: path | [paths]`` mapping of one resource kind."""
    out: dict[str, tuple[Path, ...]] = {}
    for raw_name, paths in value.items():
        name = str(raw_name)
        if not _NAME.match(name):
            problems.append(
                f"{loc}.{name} -> source names become column names: use lower-case letters, digits "
                f"and '_' (e.g. {re.sub(r'[^a-z0-9_]+', '_', name.lower()).strip('_') or 'name'!r})"
            )
            continue
        if paths is None or (isinstance(paths, (list, tuple)) and not paths):
            problems.append(f"{loc}.{name} -> no path given")
            continue
        got = {loc: {name: paths}}
        resolve_paths(got, {f"{loc}.{name}": "list"}, base, problems, must_exist=False)
        if got[loc][name]:
            out[name] = tuple(got[loc][name])
    return out


def config_from_dict(
    data: Mapping[str, Any] | None,
    base_dir: str | os.PathLike = ".",
    *,
    strict: bool = False,
    source: str | os.PathLike | None = None,
) -> CoverageConfig:
    """Build and validate a :class:`CoverageConfig` from parsed YAML.

    Args:
        data: the mapping (``None`` or ``{}`` gives an empty configuration).
        base_dir: the folder relative paths are taken from.
        strict: a missing resource folder is a problem (otherwise it is listed in
            ``absent``); ``runs`` folders (outputs the app lists) may always be absent.
        source: the file the data came from (for messages and the default cache path).

    Raises:
        ConfigError: listing every problem (unknown keys with suggestions, wrong types,
            bad source names, missing resource paths with ``strict``).
    """
    where = str(source) if source is not None else ""
    if data is not None and not isinstance(data, Mapping):
        raise ConfigError(
            [f"top level -> expected a mapping with keys {', '.join(CONFIG_KEYS)}, " + f"got {type(data).__name__}"],
            where,
        )
    base = Path(base_dir).resolve()
    problems: list[str] = []
    values = merge(_DEFAULTS, data, problems=problems, free=_NAMED_KINDS)
    named = {k: _named(values[k], k, base, problems) for k in _NAMED_KINDS}
    resolve_paths(values, {"unimorph": "list", "runs": "list", "cache": "one"}, base, problems, must_exist=False)
    cache: Path | None = values["cache"]
    if cache is not None and cache.is_dir():
        problems.append(f"cache -> {cache} is a folder; give a file name such as coverage-cache.json")
    config = CoverageConfig(
        lexicons=named["lexicons"],
        unimorph=tuple(values["unimorph"]),
        sigmorphon=named["sigmorphon"],
        nlu=named["nlu"],
        text=named["text"],
        runs=tuple(values["runs"]),
        cache=cache,
        source=Path(source).resolve() if source is not None else None,
    )
    absent: list[tuple[str, str]] = []
    for spec in config.resources():
        for p in spec.paths:
            if not p.exists():
                absent.append((spec.key, str(p)))
    if strict:
        for key, p in absent:
            loc = key.replace(":", ".")
            problems.append(f"{loc} -> {p} does not exist (check the path; it is relative to the config's folder)")
    # run folders are outputs, listed when present: absent ones are recorded, never a problem
    absent.extend(("runs", str(p)) for p in config.runs if not p.exists())
    raise_problems(problems, where)
    return replace(config, absent=tuple(absent))


def load_config(path: str | os.PathLike, *, strict: bool = False) -> CoverageConfig:
    """Read and validate a coverage YAML file (see the module docstring for the format).

    Args:
        path: the YAML file; relative paths inside it are relative to its folder.
        strict: a configured resource folder that does not exist is a problem (default: it
            is listed in :attr:`CoverageConfig.absent` and counted as zero). ``runs`` folders
            are never required.

    Returns:
        The :class:`CoverageConfig`.

    Raises:
        ConfigError: the file is missing or not YAML, or lists every problem found.

    Example:
        >>> cfg = load_config("configs/coverage/demo.yaml")  # doctest: +SKIP
        >>> sorted(cfg.lexicons)  # doctest: +SKIP
        ['wiktionary']
    """
    raw = read_config(path, hint=_HINT)
    return config_from_dict(raw.values, raw.base, strict=strict, source=path)
