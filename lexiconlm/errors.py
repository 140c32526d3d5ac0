"""Exceptions and data-problem records shared by every module.

Readers never stop at the first bad line: they collect every :class:`Problem`
(file, line, message, remedy) and raise one :class:`DataFormatError` that lists
them all, or hand them back to the caller when asked to (``errors="collect"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal, Sequence

Severity = Literal["error", "warning"]

__all__ = [
    "Severity",
    "Problem",
    "LexiconLMError",
    "DataFormatError",
    "ConfigError",
    "UnknownLanguageError",
    "UnknownNameError",
    "MissingDependencyError",
    "OutputPathError",
]


@dataclass(frozen=True)
class Problem:
    """One problem found in a data file.

    Attributes:
        path: the file, as given to the reader.
        line: 1-based line number, or ``None`` for a problem with the whole file.
        message: what is wrong, e.g. ``"expected 3 tab-separated fields, got 2"``.
        hint: how to fix it (may be empty).
        severity: ``"error"`` (the line was not read) or ``"warning"`` (the line was
            read after a repair that the message names, e.g. a stripped BOM).
    """

    path: str
    line: int | None
    message: str
    hint: str = ""
    severity: Severity = "error"

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def __str__(self) -> str:
        text = f"{self.location}: {self.severity}: {self.message}"
        if self.hint:
            text += f" (fix: {self.hint})"
        return text


class LexiconLMError(Exception):
    """Base class of every error lexiconlm raises on purpose."""


class DataFormatError(LexiconLMError, ValueError):
    """A data file could not be read as the expected format.

    Holds every problem found (not only the first). ``str(err)`` lists up to
    ``max_shown`` of them, one per line, each ``path:line: message (fix: ...)``.

    Example:
        >>> err = DataFormatError.single("hun.dev", 214, "expected 3 tab-separated fields, got 2")
        >>> print(err)
        hun.dev:214: error: expected 3 tab-separated fields, got 2
    """

    max_shown = 20

    def __init__(self, problems: Sequence[Problem]):
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self._render())

    @classmethod
    def single(cls, path: str, line: int | None, message: str, hint: str = "") -> "DataFormatError":
        return cls([Problem(str(path), line, message, hint, "error")])

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    def _render(self) -> str:
        errs = [p for p in self.problems if p.severity == "error"] or list(self.problems)
        shown = [str(p) for p in errs[: self.max_shown]]
        if len(errs) > self.max_shown:
            shown.append(f"... and {len(errs) - self.max_shown} more problems")
        return "\n".join(shown)


class ConfigError(LexiconLMError, ValueError):
    """A run configuration is invalid; lists every problem found (``loc -> message``)."""

    def __init__(self, problems: Iterable[str], source: str = ""):
        self.problems = tuple(problems)
        self.source = source
        head = f"invalid configuration{f' {source}' if source else ''}:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


class UnknownNameError(LexiconLMError, KeyError):
    """A name (language, format, registry entry) is unknown; suggests close matches."""

    kind = "name"

    def __init__(self, query: str, suggestions: Sequence[str] = (), hint: str = ""):
        self.query = query
        self.suggestions = tuple(suggestions)
        self.hint = hint
        super().__init__(query)

    def __str__(self) -> str:
        text = f"Unknown {self.kind} {self.query!r}."
        if self.suggestions:
            text += " Did you mean: " + ", ".join(self.suggestions) + "?"
        if self.hint:
            text += " " + self.hint
        return text


class UnknownLanguageError(UnknownNameError):
    """A language code or name is not in the catalog, e.g. ``Unknown language 'amx'. Did you mean: amh?``."""

    kind = "language"


class MissingDependencyError(LexiconLMError, ImportError):
    """An optional dependency is needed for this feature; the message gives the pip command."""

    def __init__(self, feature: str, extra: str, packages: str = ""):
        self.feature = feature
        self.extra = extra
        super().__init__(
            f"{feature} needs optional dependencies{f' ({packages})' if packages else ''}: "
            f"pip install 'lexiconlm[{extra}]'"
        )


class OutputPathError(LexiconLMError, IsADirectoryError):
    """An output path names an existing folder where a file is to be written.

    Raised before anything is written (instead of the bare ``IsADirectoryError`` that
    ``os.replace`` gives at the end of a run); still an ``OSError`` for callers that catch those.
    """
