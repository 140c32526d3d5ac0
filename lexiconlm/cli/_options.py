"""Checks shared by the verbs' options: refuse before any work what could only fail late.

Range checks use typer's own ``min=``/``max=`` (a usage error, exit status 2); the
callbacks here cover what typer cannot express, such as an output file that is a folder.
"""

from __future__ import annotations

from pathlib import Path

import typer

__all__ = ["output_file"]


def output_file(value: Path | None) -> Path | None:
    """typer callback for an option naming a file to write: refuse an existing folder.

    Without it the run did all its work and then failed in ``os.replace`` with a bare
    ``IsADirectoryError``.

    Args:
        value: the option's value (``None`` when the option is optional and not given).

    Returns:
        ``value`` unchanged.

    Raises:
        typer.BadParameter: ``value`` is an existing folder (a usage error, exit status 2).
    """
    if value is not None and Path(value).is_dir():
        raise typer.BadParameter(f"{value} is a folder; give a file path, e.g. {Path(value) / 'out.txt'}")
    return value
