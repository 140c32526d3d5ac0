"""Where the bundled data (``resources/``) lives: a source checkout or an installed wheel.

Order: ``$LEXICONLM_RESOURCES``, the ``resources/`` folder of a source checkout,
then the copy packaged into the wheel as ``lexiconlm._resources``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

__all__ = ["resources_dir", "resource_path"]


@lru_cache(maxsize=1)
def resources_dir() -> Path:
    env = os.environ.get("LEXICONLM_RESOURCES")
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[1] / "resources"
    if checkout.is_dir():
        return checkout
    try:
        from importlib.resources import files

        packaged = Path(str(files("lexiconlm._resources")))
        if packaged.is_dir():
            return packaged
    except (ModuleNotFoundError, TypeError):
        pass
    raise FileNotFoundError(
        "lexiconlm's resources folder was not found; set LEXICONLM_RESOURCES to the repository's resources/"
    )


def resource_path(*parts: str) -> Path:
    """Path of a bundled resource file, e.g. ``resource_path("languages.tsv")``."""
    return resources_dir().joinpath(*parts)
