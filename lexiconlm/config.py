"""One configuration toolkit: YAML in, defaults merged, ``--set`` overrides, paths resolved.

Every loader of the package (``adapt``, ``coverage``, ``expand``, NLU training and experiments,
the neural inflector) is built from these pieces and keeps only its own domain checks:

1. :func:`read_config` reads a YAML file (or copies a dict) into a :class:`RawConfig`, which
   knows the folder relative paths start from (the file's folder; the working folder for a
   dict) and collects problems;
2. :func:`apply_overrides` applies dotted ``key=value`` overrides (``--set mlm.steps=200``;
   values parsed as YAML), reporting unknown keys and values that are not YAML;
3. :func:`merge` lays a configuration over a defaults dict; unknown keys are problems with a
   did-you-mean; keys named in ``free`` are free-form mappings checked elsewhere;
4. :func:`resolve_paths` / :func:`resolve_existing` make the path keys a caller names absolute,
   relative to the configuration file's folder;
5. ``check_*`` helpers check types and ranges;
6. :func:`raise_problems` raises one :class:`~lexiconlm.errors.ConfigError` listing every problem.

:func:`load` does 1-3 in one call. A problem is a string ``loc -> message`` (confection's
style), e.g. ``mlm.precison -> unknown key. Did you mean: precision?``.

Example:
    >>> defaults = {"mlm": {"steps": 100, "lr": 0.1}}
    >>> raw = load({"mlm": {"stpes": 3}}, defaults, overrides=["mlm.lr=0.5"])
    >>> raw.values
    {'mlm': {'steps': 100, 'lr': 0.5}}
    >>> raw.problems
    ['mlm.stpes -> unknown key. Did you mean: steps?']

This module sits at the bottom of the package: it imports only the standard library, PyYAML
and :mod:`lexiconlm.errors`. YAML is read safely (no Python objects), with one change from
PyYAML's YAML 1.1 rules: ``5e-4`` is a number, as in YAML 1.2 (PyYAML reads it as a string).
"""

from __future__ import annotations

import copy
import difflib
import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from lexiconlm.errors import ConfigError

__all__ = [
    "RawConfig",
    "apply_overrides",
    "check_bool",
    "check_choice",
    "check_int",
    "check_number",
    "did_you_mean",
    "get_dotted",
    "load",
    "merge",
    "raise_problems",
    "read_config",
    "read_yaml",
    "resolve_existing",
    "resolve_path",
    "resolve_paths",
    "set_dotted",
    "unknown_key",
]

PathKind = Literal["one", "list"]


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, reading ``5e-4`` as a number (YAML 1.2) rather than a string."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)
_MISSING = object()  # no default given
_ABSENT = object()  # a key that is not there


# --------------------------------------------------------------------------- messages


def did_you_mean(name: Any, known: Iterable[Any], n: int = 3) -> list[str]:
    """Up to ``n`` names of ``known`` close to ``name`` (difflib, cutoff 0.6), best first."""
    return difflib.get_close_matches(str(name), [str(k) for k in known], n=n, cutoff=0.6)


def unknown_key(loc: str, key: Any, known: Iterable[Any]) -> str:
    """The problem for an unknown key: ``loc -> unknown key. Did you mean: x?``.

    Args:
        loc: where the key is (``mlm.precison``, ``--set synth.sens``).
        key: the unknown key itself (``precison``).
        known: the keys allowed there; the message names close ones, or all when none is close.

    Returns:
        The problem string.
    """
    names = [str(k) for k in known]
    close = did_you_mean(key, names)
    if close:
        return f"{loc} -> unknown key. Did you mean: {', '.join(close)}?"
    if not names:
        return f"{loc} -> unknown key (this section takes no keys)"
    return f"{loc} -> unknown key. Known keys: {', '.join(names)}."


def raise_problems(problems: Sequence[str], source: str | os.PathLike = "") -> None:
    """Raise one :class:`ConfigError` listing every problem, if there is any.

    Raises:
        ConfigError: ``problems`` is not empty (``source`` names the file).
    """
    if problems:
        raise ConfigError(list(problems), str(source))


# --------------------------------------------------------------------------- reading


@dataclass
class RawConfig:
    """A configuration on its way through the toolkit.

    Attributes:
        values: the settings (as read, then overridden, then merged with the defaults).
        base: the folder relative paths start from (the YAML file's folder).
        source: the YAML file (``""`` for a dict), named in the error.
        problems: every problem found so far (``loc -> message``).
    """

    values: dict
    base: Path
    source: str = ""
    problems: list[str] = field(default_factory=list)

    def raise_problems(self) -> None:
        """Raise one :class:`ConfigError` listing :attr:`problems`, if there is any."""
        raise_problems(self.problems, self.source)


def read_yaml(path: str | os.PathLike, *, hint: str = "") -> dict:
    """Read a YAML file that holds a mapping (an empty file is ``{}``).

    Args:
        path: the file.
        hint: where such files live, added to the missing-file message
            (e.g. ``"coverage configs live in configs/coverage/"``).

    Returns:
        The mapping, as a dict.

    Raises:
        ConfigError: the file is missing, not UTF-8, not valid YAML (with line and column) or
            not a mapping.
    """
    p = Path(path)
    src = str(p)
    if not p.is_file():
        what = "is a folder, not a YAML file" if p.is_dir() else "no such file"
        raise ConfigError([f"{p} -> {what}" + (f" ({hint})" if hint else "")], src)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problem = f"{p} -> not UTF-8 text (byte {exc.start}); save it as UTF-8"
        raise ConfigError([problem], src) from None
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        loc = f"{p}:{mark.line + 1}:{mark.column + 1}" if mark is not None else src
        problem = f"{loc} -> not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise ConfigError([problem], src) from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        got = type(data).__name__
        problem = f"{p} -> expected a mapping of settings at the top level, got {got}"
        raise ConfigError([problem], src)
    return dict(data)


def read_config(
    config: Mapping | str | os.PathLike | None,
    *,
    base: str | os.PathLike | None = None,
    section: str | None = None,
    hint: str = "",
) -> RawConfig:
    """A YAML file or a dict as a :class:`RawConfig` (the dict is copied, never changed).

    Args:
        config: a YAML file, a mapping, or ``None`` (no settings).
        base: for a mapping, the folder its relative paths start from (default: the working
            folder); a file's own folder is always used for a file.
        section: take the settings from this key when the mapping has it (``train:`` of an
            experiment file read as a training config).
        hint: see :func:`read_yaml`.

    Raises:
        ConfigError: the file cannot be read (:func:`read_yaml`), or the mapping or its
            ``section`` is not a mapping.
    """
    if config is None or isinstance(config, Mapping):
        values = copy.deepcopy(dict(config or {}))
        raw = RawConfig(values, Path(base if base is not None else Path.cwd()).resolve())
    elif isinstance(config, (str, os.PathLike)):
        path = Path(config)
        raw = RawConfig(read_yaml(path, hint=hint), path.resolve().parent, str(path))
    else:
        got = type(config).__name__
        raise ConfigError([f"top level -> expected a mapping or a YAML file, got {got}"])
    if section is not None and section in raw.values:
        inner = raw.values[section]
        if not isinstance(inner, Mapping):
            problem = f"{section} -> expected a mapping, got {type(inner).__name__}"
            raise ConfigError([problem], raw.source)
        raw.values = dict(inner)
    return raw


def load(
    config: Mapping | str | os.PathLike | None,
    defaults: Mapping | None = None,
    *,
    overrides: Iterable[str] = (),
    free: Collection[str] = (),
    section: str | None = None,
    base: str | os.PathLike | None = None,
    hint: str = "",
    example: str = "",
) -> RawConfig:
    """Read, override and merge a configuration; the caller adds its checks and raises.

    Args:
        config: a YAML file, a mapping or ``None`` (see :func:`read_config`).
        defaults: every key with its default (``None``: no merge, no key checks).
        overrides: ``key.path=value`` strings (:func:`apply_overrides`).
        free: dotted keys of ``defaults`` that hold free-form mappings (:func:`merge`).
        section, base, hint: see :func:`read_config`.
        example: an override shown in the message for a malformed one.

    Returns:
        The :class:`RawConfig`; its ``problems`` list every unknown key and bad override.
        Call :meth:`RawConfig.raise_problems` after the domain checks.

    Raises:
        ConfigError: the file cannot be read.
    """
    raw = read_config(config, base=base, section=section, hint=hint)
    raw.values = apply_overrides(
        raw.values, overrides, defaults=defaults, free=free, problems=raw.problems, example=example
    )
    if defaults is not None:
        raw.values = merge(defaults, raw.values, problems=raw.problems, free=free)
    return raw


# --------------------------------------------------------------------------- dotted keys


def get_dotted(cfg: Mapping, dotted: str, default: Any = _MISSING) -> Any:
    """``cfg["mlm"]["steps"]`` for ``"mlm.steps"``.

    Raises:
        KeyError: a part is missing (and no ``default`` is given).
    """
    node: Any = cfg
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            if default is _MISSING:
                raise KeyError(dotted)
            return default
        node = node[part]
    return node


def set_dotted(cfg: dict, dotted: str, value: Any) -> None:
    """``cfg["mlm"]["steps"] = value`` for ``"mlm.steps"`` (missing sections are created)."""
    node = cfg
    parts = dotted.split(".")
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value


def _override_key_problem(loc: str, parts: list[str], defaults: Mapping, free: Collection[str]) -> str | None:
    """Why ``parts`` names no key of ``defaults`` (``None``: it does, or lies in a free mapping)."""
    node: Any = defaults
    for i, part in enumerate(parts):
        prefix = ".".join(parts[:i])
        if prefix and prefix in free:
            return None
        if not isinstance(node, Mapping):
            return f"{loc} -> {prefix} is a setting, not a section"
        if part not in node:
            return unknown_key(loc, part, node)
        node = node[part]
    return None


def apply_overrides(
    raw: Mapping,
    overrides: Iterable[str],
    *,
    defaults: Mapping | None = None,
    free: Collection[str] = (),
    problems: list[str] | None = None,
    example: str = "",
) -> dict:
    """A copy of ``raw`` with ``key.path=value`` overrides applied (values parsed as YAML).

    ``mlm.steps=200`` sets an integer, ``mlm.lr=5e-4`` a number, ``text.train=[a.txt, b.txt]``
    a list, ``lexicon=null`` ``None`` (as does ``lexicon=``); quote a value to keep it a
    string (``name='013'``).

    Args:
        raw: the configuration (not changed).
        overrides: the ``key=value`` strings, applied in order.
        defaults: when given, a key that is not in ``defaults`` (nor inside one of the
            ``free`` mappings) is a problem with a did-you-mean, and is not set.
        free: dotted keys of free-form mappings, whose insides are not checked.
        problems: where problems go; ``None``: raise them.
        example: an override shown in the message for a malformed one.

    Returns:
        The new configuration.

    Raises:
        ConfigError: a malformed override, an unknown key or a value that is not YAML, all
            listed (only when ``problems`` is ``None``).
    """
    out = copy.deepcopy(dict(raw))
    found: list[str] = []
    for item in overrides:
        key, sep, text = str(item).partition("=")
        key = key.strip()
        parts = key.split(".")
        if not sep or not all(parts):
            found.append(
                f"--set {item!r} -> expected key=value with a dotted key, e.g. {example or 'section.key=value'}"
            )
            continue
        loc = f"--set {key}"
        try:
            value = yaml.load(text, Loader=_Loader) if text.strip() else None
        except yaml.YAMLError as exc:
            why = getattr(exc, "problem", None) or exc
            found.append(f"{loc} -> {text!r} is not a YAML value ({why}); quote it: {key}='{text}'")
            continue
        if defaults is not None:
            bad = _override_key_problem(loc, parts, defaults, free)
            if bad:
                found.append(bad)
                continue
        node = out
        for i, part in enumerate(parts[:-1]):
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
            elif isinstance(nxt, Mapping) and not isinstance(nxt, dict):
                nxt = node[part] = dict(nxt)
            elif not isinstance(nxt, dict):
                found.append(f"{loc} -> {'.'.join(parts[: i + 1])} is {nxt!r}, not a section")
                break
            node = nxt
        else:
            node[parts[-1]] = value
    if problems is None:
        raise_problems(found, "--set")
    else:
        problems.extend(found)
    return out


# --------------------------------------------------------------------------- merging


def merge(
    defaults: Mapping, given: Mapping | None, *, problems: list[str], loc: str = "", free: Collection[str] = ()
) -> dict:
    """``defaults`` overlaid with ``given``, recursively; unknown keys become problems.

    A section (a mapping in ``defaults``) given as ``None`` keeps its defaults; given as
    anything else that is not a mapping, it is a problem. A setting's value (``None``
    included) replaces the default as it is: types are the caller's checks.

    Args:
        defaults: every allowed key with its default; mappings are sections.
        given: the configuration (``None``: every default).
        problems: where problems go (``loc -> message``).
        loc: where ``given`` sits, prefixed to problem locations (``nlu.config``).
        free: dotted keys (relative to ``defaults``) of free-form mappings: their keys are
            not checked, and the given mapping is laid over the default one.

    Returns:
        A new dict with exactly the keys of ``defaults``.
    """
    return _merge(defaults, given, loc, "", frozenset(free), problems)


def _merge(defaults: Mapping, given: Any, loc: str, path: str, free: frozenset, problems: list[str]) -> dict:
    out = copy.deepcopy(dict(defaults))
    if given is None:
        return out
    if not isinstance(given, Mapping):
        problems.append(f"{loc or 'top level'} -> expected a mapping, got {type(given).__name__}")
        return out
    for key, value in given.items():
        where = f"{loc}.{key}" if loc else str(key)
        sub = f"{path}.{key}" if path else str(key)
        if key not in defaults:
            problems.append(unknown_key(where, key, defaults))
            continue
        default = defaults[key]
        if sub in free:
            if value is None:
                continue
            if not isinstance(value, Mapping):
                problems.append(f"{where} -> expected a mapping, got {type(value).__name__}")
                continue
            out[key] = {**copy.deepcopy(dict(default or {})), **copy.deepcopy(dict(value))}
        elif isinstance(default, Mapping):
            out[key] = _merge(default, value, where, sub, free, problems)
        else:
            out[key] = copy.deepcopy(value)
    return out


# --------------------------------------------------------------------------- paths


def _is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike)) and bool(str(value).strip())


def resolve_path(
    value: str | os.PathLike, base: str | os.PathLike, *, variables: Mapping[str, str] | None = None
) -> Path:
    """An absolute, normalised path: ``${NAME}`` of ``variables``, then ``$VAR``/``${VAR}`` of the
    environment and ``~`` expanded; a relative path joined to ``base``; ``..`` removed (links are
    not followed).

    Args:
        value: the path as written in the configuration.
        base: the configuration file's folder.
        variables: names replaced before the environment's (e.g. ``{"DATA": "/data"}``).

    Returns:
        The path.
    """
    text = str(value).strip()
    for name, sub in (variables or {}).items():
        text = text.replace("${" + name + "}", str(sub))
    p = Path(os.path.expanduser(os.path.expandvars(text)))
    if not p.is_absolute():
        p = Path(base) / p
    return Path(os.path.normpath(p))


def resolve_paths(
    cfg: dict,
    keys: Mapping[str, PathKind],
    base: str | os.PathLike,
    problems: list[str],
    *,
    must_exist: bool = True,
    variables: Mapping[str, str] | None = None,
) -> None:
    """Make the path settings ``keys`` names absolute in place (relative to ``base``).

    A ``"one"`` key holds one path (``None`` if unset); a ``"list"`` key holds one path or a
    list of them and becomes a list (``[]`` if unset). A key absent from ``cfg`` is skipped.
    A value of the wrong type is a problem and becomes ``None`` / ``[]`` (items of a list that
    are not paths are left out), so the caller's further checks see the declared types.

    Args:
        cfg: the (merged) configuration, changed in place; values become :class:`Path`.
        keys: dotted key -> ``"one"`` or ``"list"``.
        base: the configuration file's folder.
        problems: where problems go: a value that is not a path, and (with ``must_exist``)
            ``loc -> x does not exist (resolved to ...; paths are relative to ...)``.
        must_exist: whether a path that does not exist is a problem (it is kept either way).
        variables: see :func:`resolve_path`.
    """
    for dotted, kind in keys.items():
        raw = get_dotted(cfg, dotted, _ABSENT)
        if raw is _ABSENT:
            continue
        if raw is None or (kind == "list" and isinstance(raw, (list, tuple)) and not raw):
            set_dotted(cfg, dotted, None if kind == "one" else [])
            continue
        if _is_path(raw):
            items, locs = [raw], [dotted]
        elif kind == "one":
            problems.append(f"{dotted} -> expected one path, got {type(raw).__name__}")
            set_dotted(cfg, dotted, None)
            continue
        elif isinstance(raw, (list, tuple)):
            items, locs = list(raw), [f"{dotted}[{i}]" for i in range(len(raw))]
        else:
            got = type(raw).__name__
            problems.append(f"{dotted} -> expected a path or a list of paths, got {got}")
            set_dotted(cfg, dotted, [])
            continue
        out: list[Path] = []
        for item, loc in zip(items, locs):
            if not _is_path(item):
                problems.append(f"{loc} -> expected a path, got {item!r}")
                continue
            p = resolve_path(item, base, variables=variables)
            if must_exist and not p.exists():
                problems.append(f"{loc} -> {item} does not exist (resolved to {p}; paths are relative to {base})")
            out.append(p)
        set_dotted(cfg, dotted, (out[0] if out else None) if kind == "one" else out)


def resolve_existing(cfg: dict, keys: Iterable[str], base: str | os.PathLike) -> None:
    """For each dotted key whose value is a relative path that exists under ``base``, the
    absolute path (a string), in place; other values are left as they are: names such as
    ``e5-small``, and paths the caller's own check reports.
    """
    for dotted in keys:
        v = get_dotted(cfg, dotted, None)
        if isinstance(v, str) and v.strip() and not Path(os.path.expanduser(v)).is_absolute():
            p = resolve_path(v, base)
            if p.exists():
                set_dotted(cfg, dotted, str(p))


# --------------------------------------------------------------------------- types


def check_int(value: Any, loc: str, problems: list[str], *, minimum: int | None = None, optional: bool = False) -> bool:
    """Whether ``value`` is an integer (not a bool) ``>= minimum`` (or ``None`` when ``optional``);
    if not, a problem ``loc -> expected an integer >= 1, got 0``."""
    if value is None and optional:
        return True
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if is_int and (minimum is None or value >= minimum):
        return True
    what = "an integer" + (f" >= {minimum}" if minimum is not None else "")
    problems.append(f"{loc} -> expected {'null or ' if optional else ''}{what}, got {value!r}")
    return False


def check_number(
    value: Any,
    loc: str,
    problems: list[str],
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    optional: bool = False,
) -> bool:
    """Whether ``value`` is a number (not a bool) in the range (ends included unless ``*_open``),
    or ``None`` when ``optional``; if not, a problem ``loc -> expected a number in [0, 1), got 2``.
    """
    if value is None and optional:
        return True
    ok = not isinstance(value, bool) and isinstance(value, (int, float))
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if ok:
        return True
    if low is not None and high is not None:
        rng = f" in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    elif low is not None:
        rng = f" {'>' if low_open else '>='} {low}"
    elif high is not None:
        rng = f" {'<' if high_open else '<='} {high}"
    else:
        rng = ""
    null = "null or " if optional else ""
    problems.append(f"{loc} -> expected {null}a number{rng}, got {value!r}")
    return False


def check_bool(value: Any, loc: str, problems: list[str]) -> bool:
    """Whether ``value`` is ``True`` or ``False``; if not, a problem
    ``loc -> expected true or false, got 'yes'``."""
    if isinstance(value, bool):
        return True
    problems.append(f"{loc} -> expected true or false, got {value!r}")
    return False


def check_choice(value: Any, loc: str, choices: Sequence[Any], problems: list[str]) -> bool:
    """Whether ``value`` is one of ``choices``; if not, a problem naming them (did-you-mean)."""
    if value in choices:
        return True
    close = did_you_mean(value, choices) if isinstance(value, str) else []
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    names = ", ".join(map(str, choices))
    problems.append(f"{loc} -> expected one of {names}, got {value!r}.{hint}")
    return False
