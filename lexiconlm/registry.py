"""Registries: versioned names mapped to objects, or to lazy ``"module:attr"`` references.

One helper for every "pick a method by name" table in lexiconlm (embedding inits, sense
strategies, affix variants, hygiene filters, expand backends, model aliases), in the spirit of
spaCy/confection's ``@registry.x.register("name.v1")`` and sacrebleu's lazy ``_TOKENIZERS``:

* names carry a version (``mean.v1``); when behaviour changes, ``mean.v2`` is added beside
  ``mean.v1``, and the bare name ``mean`` means the latest version;
* an entry is an object, or a string ``"package.module:attribute"`` imported on first use (so
  listing names never imports torch);
* an unknown name raises :class:`~lexiconlm.errors.UnknownNameError` with close names
  (``Unknown embedding init 'phonolgy'. Did you mean: phonology, phonology.v1? ...``).

A registry is a mutable mapping from the registered (full) names to the loaded objects:
``name in reg``, ``sorted(reg)``, ``reg["mean.v1"]``, ``reg.pop("mine.v1")`` work as on a dict
(``pop`` returns what was registered, without importing a lazy entry).

Example:
    >>> inits = Registry("embedding init")
    >>> inits.register("mean.v1", "statistics:mean")
    >>> @inits.register("mean.v2")
    ... def mean_v2(values):
    ...     return sum(values) / len(values)
    >>> inits.resolve("mean")[0]
    'mean.v2'
    >>> inits.resolve("mean.v1")[1]([1, 2, 6])
    3
    >>> inits.names()
    ['mean', 'mean.v1', 'mean.v2']
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from lexiconlm.errors import LexiconLMError, UnknownNameError

__all__ = ["Registry", "split_version"]

_VERSIONED = re.compile(r"^(?P<base>.+)\.v(?P<n>\d+)$")
_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_MISSING = object()


def split_version(name: str) -> tuple[str, int | None]:
    """``"mean.v2"`` -> ``("mean", 2)``; a name without ``.vN`` -> ``(name, None)``."""
    m = _VERSIONED.match(name)
    return (m.group("base"), int(m.group("n"))) if m else (name, None)


class Registry(MutableMapping[str, Any]):
    """Names -> objects, with lazy ``"module:attr"`` entries, versions and did-you-mean errors.

    Args:
        kind: what the entries are, for messages (``"embedding init"``, ``"sense strategy"``).
        versioned: every registered name must end in ``.vN`` (``ValueError`` otherwise). A
            registry of unversioned names (``versioned=False``) still resolves a bare name to
            its latest ``.vN`` entry when it has some.
        aliases: extra names for entries (``{"off": "none"}``); an alias may itself be a bare
            name (``{"script": "script"}`` is pointless but harmless).
        hint: added to the message of an unknown name (e.g. how to list the names).
        entries: initial ``name -> object or "module:attr"`` entries.

    Raises (on use):
        UnknownNameError: :meth:`resolve` / ``reg[name]`` of an unknown name.
        LexiconLMError: a lazy reference names an attribute its module does not have.
        ModuleNotFoundError: a lazy reference's module (or one it imports) is not installed;
            callers that know which extra provides it turn this into
            :class:`~lexiconlm.errors.MissingDependencyError`.
    """

    def __init__(
        self,
        kind: str,
        *,
        versioned: bool = True,
        aliases: Mapping[str, str] | None = None,
        hint: str = "",
        entries: Mapping[str, Any] | None = None,
    ):
        self.kind = kind
        self.versioned = versioned
        self.hint = hint
        self._entries: dict[str, Any] = {}
        self._loaded: dict[str, Any] = {}
        self._aliases: dict[str, str] = dict(aliases or {})
        for name, obj in (entries or {}).items():
            self.register(name, obj)

    # ------------------------------------------------------------------ registering
    def register(self, name: str, obj: Any = _MISSING, *, overwrite: bool = False) -> Any:
        """Register ``obj`` (an object or a lazy ``"module:attr"`` string) under ``name``.

        Without ``obj`` it returns a decorator that registers the function or class it
        decorates and returns it unchanged: ``@reg.register("mine.v1")``.

        Raises:
            ValueError: the registry is versioned and ``name`` has no ``.vN``; the name is
                taken by another entry and ``overwrite`` is False; a string that is not a
                ``module:attr`` reference.
        """
        if obj is _MISSING:

            def decorate(fn: Any) -> Any:
                self.register(name, fn, overwrite=overwrite)
                return fn

            return decorate
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.kind} names are non-empty strings, got {name!r}")
        if self.versioned and split_version(name)[1] is None:
            raise ValueError(f"{self.kind} names carry a version, e.g. {name}.v1 (got {name!r})")
        if isinstance(obj, str) and not _REFERENCE.match(obj):
            raise ValueError(
                f"{self.kind} {name!r}: a string entry is a lazy 'module:attribute' reference, got {obj!r}"
            )
        old = self._entries.get(name, _MISSING)
        same = old is obj or (isinstance(old, str) and old == obj)
        if old is not _MISSING and not same and not overwrite:
            raise ValueError(
                f"{self.kind} {name!r} is already registered "
                f"({self._describe(name)}); register a new version (name.v2) "
                "or pass overwrite=True"
            )
        self._entries[name] = obj
        self._loaded.pop(name, None)
        return None

    def unregister(self, name: str) -> None:
        """Remove an entry (an unknown name raises :class:`UnknownNameError`)."""
        if name not in self._entries:
            raise self.unknown(name)
        del self._entries[name]
        self._loaded.pop(name, None)

    def alias(self, alias: str, target: str) -> None:
        """Let ``alias`` mean ``target`` (a full or bare name) in :meth:`resolve`."""
        self._aliases[alias] = target

    # ------------------------------------------------------------------ looking up
    def latest(self, base: str) -> str | None:
        """The highest ``base.vN`` registered, or None."""
        best: tuple[int, str] | None = None
        for name in self._entries:
            b, n = split_version(name)
            if b == base and n is not None and (best is None or n > best[0]):
                best = (n, name)
        return best[1] if best else None

    def full_name(self, name: str) -> str:
        """The registered name ``name`` stands for: itself, an alias's target, or the latest
        version of a bare name.

        Raises:
            UnknownNameError: nothing is registered under that name.
        """
        if name in self._entries:
            return name
        target = self._aliases.get(name)
        if target is not None and target != name:
            return self.full_name(target)
        latest = self.latest(name)
        if latest is None:
            raise self.unknown(name)
        return latest

    def resolve(self, name: str) -> tuple[str, Any]:
        """``(full name, object)`` for a full name, an alias or a bare name (latest version);
        a lazy entry is imported on first use.

        Raises:
            UnknownNameError: not registered (the message lists close names).
        """
        full = self.full_name(name)
        return full, self.load(full)

    def load(self, full: str) -> Any:
        """The object registered under the full name ``full`` (importing a lazy entry once)."""
        if full not in self._entries:
            raise self.unknown(full)
        if full not in self._loaded:
            obj = self._entries[full]
            if isinstance(obj, str):
                module, _, attr = obj.partition(":")
                value: Any = importlib.import_module(module)
                try:
                    for part in attr.split("."):
                        value = getattr(value, part)
                except AttributeError:
                    raise LexiconLMError(
                        f"{self.kind} {full!r} points to {obj}, but {module} has no {attr}; fix the registration"
                    ) from None
                obj = value
            self._loaded[full] = obj
        return self._loaded[full]

    def reference(self, name: str) -> Any:
        """What was registered under ``name`` (a lazy entry's ``"module:attr"``, unimported)."""
        return self._entries[self.full_name(name)]

    def names(self, *, short: bool = True) -> list[str]:
        """Every registered name, sorted; with ``short`` also the bare names of versioned
        entries and the aliases."""
        out = set(self._entries)
        if short:
            out |= {split_version(n)[0] for n in self._entries}
            out |= set(self._aliases)
        return sorted(out)

    def unknown(self, name: str) -> UnknownNameError:
        """The error for an unknown ``name``: close names as suggestions, every name in the hint."""
        names = self.names()
        close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.4)
        hint = f"Known: {', '.join(sorted(self._entries))}."
        if self.hint:
            hint += " " + self.hint
        err = UnknownNameError(str(name), close, hint)
        err.kind = self.kind  # type: ignore[misc]
        return err

    def _describe(self, name: str) -> str:
        obj = self._entries[name]
        return obj if isinstance(obj, str) else getattr(obj, "__qualname__", type(obj).__name__)

    # ------------------------------------------------------------------ mapping protocol
    def __getitem__(self, name: str) -> Any:
        return self.load(name)

    def __setitem__(self, name: str, obj: Any) -> None:
        self.register(name, obj, overwrite=True)

    def __delitem__(self, name: str) -> None:
        self.unregister(name)

    def pop(self, name: str, default: Any = _MISSING) -> Any:
        """Remove ``name`` and return what was registered under it (a lazy entry's reference
        string is returned unimported), or ``default`` when it is not registered."""
        if name not in self._entries:
            if default is _MISSING:
                raise self.unknown(name)
            return default
        self._loaded.pop(name, None)
        return self._entries.pop(name)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {sorted(self._entries)})"
