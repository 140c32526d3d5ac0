"""Where the bundled data (``resources/``) lives: a source checkout or an installed wheel.

Order: ``$LEXICONLM_RESOURCES``, the ``resources/`` folder of a source checkout,
then the copy packaged into the wheel as ``lexiconlm._resources``.
"""

from __future__ import annotations

import os
from pathlib import Path

from lexiconlm.errors import LexiconLMError

__all__ = ["resources_dir", "resource_path"]


def resources_dir() -> Path:
    """The bundled resources folder (cheap; re-reads ``$LEXICONLM_RESOURCES`` on every call)."""
    env = os.environ.get("LEXICONLM_RESOURCES")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    checkout = here.parent / "resources"
    if (checkout / "languages.tsv").is_file():
        return checkout
    packaged = here / "_resources"  # a wheel install (see pyproject.toml package-dir)
    if (packaged / "languages.tsv").is_file():
        return packaged
    raise LexiconLMError(
        "lexiconlm's resources folder (with languages.tsv) was not found; "
        "set LEXICONLM_RESOURCES to the repository's resources/ folder"
    )


def resource_path(*parts: str) -> Path:
    """Path of a bundled resource file, e.g. ``resource_path("languages.tsv")``."""
    return resources_dir().joinpath(*parts)
