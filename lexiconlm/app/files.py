"""The one gate between the app and the disk: :func:`resolve_inside`, and readers built on it.

Every file the app opens (``run.json``, ``metrics.json``, README and report notes, CSV
tables, data samples, tokenizer folders, images) is first resolved here, with symbolic
links followed, and refused when it leads outside the folders the app may read (the data
and run folders of its coverage config). The readers below open the *resolved* path, so
what was checked is what is read; the page code never opens a path itself.

Example:
    >>> import tempfile; d = tempfile.mkdtemp()
    >>> resolve_inside("../../etc/passwd", [d])
    Traceback (most recent call last):
    ...
    lexiconlm.app.files.PathNotAllowedError: '../../etc/passwd': '..' is not allowed in a path; ...
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from lexiconlm.errors import LexiconLMError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "PathNotAllowedError",
    "is_inside",
    "open_inside",
    "read_json_inside",
    "read_result_table",
    "read_text_inside",
    "resolve_inside",
]

Roots = Sequence[str | os.PathLike]


class PathNotAllowedError(LexiconLMError, ValueError):
    """A path from a URL, a widget or a run folder points outside the folders the app may read."""


def resolve_inside(path: str | os.PathLike, roots: Roots, *, must_exist: bool = True) -> Path:
    """Resolve a path and check it lies inside one of ``roots``: the app's only path check.

    A relative path is tried against each root in turn. ``..`` components are rejected
    outright (before any resolving); the path is then resolved with symlinks followed, so a
    link inside a root that points elsewhere is rejected too.

    Args:
        path: what the user gave (``"sigmorphon_affix_2020.csv"``, ``"my-run"``, an absolute path).
        roots: the allowed folders (or files).
        must_exist: also require the resolved path to exist.

    Returns:
        The resolved path (open this one, not ``path``).

    Raises:
        PathNotAllowedError: empty, ``..``, NUL, outside every root, or (``must_exist``) missing.

    Example:
        >>> import tempfile; d = tempfile.mkdtemp()
        >>> resolve_inside("/etc/passwd", [d])
        Traceback (most recent call last):
        ...
        lexiconlm.app.files.PathNotAllowedError: '/etc/passwd' is outside the folders ...
    """
    text = os.fspath(path)
    if not isinstance(text, str) or not text.strip():
        raise PathNotAllowedError("an empty path was given")
    if "\x00" in text:
        raise PathNotAllowedError(f"{text!r}: a path may not contain NUL characters")
    if ".." in re.split(r"[\\/]+", text):
        raise PathNotAllowedError(f"{text!r}: '..' is not allowed in a path; give a path inside the configured folders")
    real_roots = [Path(r).resolve() for r in roots]
    if not real_roots:
        raise PathNotAllowedError(f"{text!r}: no folders are configured for this kind of file")
    p = Path(text)
    candidates = [p] if p.is_absolute() else [r / p for r in real_roots]
    inside_but_missing: Path | None = None
    for cand in candidates:
        try:
            real = cand.resolve()
        except (OSError, RuntimeError):  # a symlink loop
            continue
        if not any(real == r or real.is_relative_to(r) for r in real_roots):
            continue
        if real.exists() or not must_exist:
            return real
        inside_but_missing = inside_but_missing or real
    if inside_but_missing is not None:
        raise PathNotAllowedError(f"{text!r} does not exist in the configured folders")
    shown = ", ".join(str(r) for r in real_roots[:4]) + (" ..." if len(real_roots) > 4 else "")
    raise PathNotAllowedError(
        f"{text!r} is outside the folders this app may read ({shown}); links that lead out of them are refused as well"
    )


def is_inside(path: str | os.PathLike, roots: Roots) -> bool:
    """Whether :func:`resolve_inside` accepts ``path`` (used to skip links that lead out)."""
    try:
        resolve_inside(path, roots)
    except PathNotAllowedError:
        return False
    return True


def open_inside(path: str | os.PathLike, roots: Roots) -> IO[bytes]:
    """Open a file for reading in binary mode after :func:`resolve_inside` accepted it.

    The resolved path is opened, with ``O_NOFOLLOW`` where the system has it, so a file
    swapped for a link after the check is refused rather than followed.

    Raises:
        PathNotAllowedError: see :func:`resolve_inside`; also when the path is a folder.
        OSError: the file cannot be read.
    """
    real = resolve_inside(path, roots)
    if not real.is_file():
        raise PathNotAllowedError(f"{os.fspath(path)!r} is not a file")
    fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
    return os.fdopen(fd, "rb")


def read_text_inside(path: str | os.PathLike, roots: Roots) -> str:
    """A UTF-8 text file (README, report, notes) inside ``roots``; undecodable bytes are replaced.

    Raises:
        PathNotAllowedError: see :func:`resolve_inside`.
        OSError: the file cannot be read.
    """
    with open_inside(path, roots) as fh:
        return fh.read().decode("utf-8", errors="replace")


def read_json_inside(path: str | os.PathLike, roots: Roots) -> Any:
    """A JSON file inside ``roots``.

    Raises:
        PathNotAllowedError: see :func:`resolve_inside`.
        OSError, UnicodeDecodeError, json.JSONDecodeError: the file cannot be read or parsed.
    """
    with open_inside(path, roots) as fh:
        return json.loads(fh.read().decode("utf-8"))


def read_result_table(path: str | os.PathLike, roots: Roots) -> pd.DataFrame:
    """A result CSV inside ``roots`` as a DataFrame; only empty cells are missing values
    (``NA`` and ``null`` stay text).

    Raises:
        PathNotAllowedError: see :func:`resolve_inside`.
        OSError, ValueError: the file cannot be read as CSV.
    """
    import pandas as pd

    with open_inside(path, roots) as fh:
        return pd.read_csv(fh, keep_default_na=False, na_values=[""], encoding="utf-8")
