"""Every shipped config under configs/ parses, starts with the command that runs it, and validates.

Each folder is validated with its verb's own loader; configs that point at ../shared/data are
validated when it is present and skipped (with the reason) when it is not.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from lexiconlm.cli.main import VERBS
from lexiconlm.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (REPO / "configs").rglob("*.yaml"))


def _shared_data() -> Path | None:
    import os

    env = os.environ.get("LEXICONLM_SHARED_DATA")
    for c in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if c.is_dir():
            return c
    return None


def _validate_expand(path: Path) -> None:
    from lexiconlm.expand.config import load_config

    cfg = load_config(path)
    from lexiconlm.expand.config import language_inputs

    for lang in cfg.values["languages"]:
        language_inputs(cfg, lang)


def _validate_coverage(path: Path) -> None:
    from lexiconlm.coverage.config import load_config

    load_config(path)


def _validate_nlu(path: Path) -> None:
    from lexiconlm.nlu.experiments import load_experiment_config

    load_experiment_config(path)


def _validate_adapt(path: Path) -> None:
    from lexiconlm.adapt.config import load_config

    load_config(path)


def _validate_sigmorphon(path: Path) -> None:
    """Each system's loader reads its own section (`neural:`, `transducer:`); a file without
    sections is a neural config."""
    import yaml

    from lexiconlm.inflection import neural, transducer

    values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    sections = [k for k in ("neural", "transducer") if k in values]
    if "transducer" in sections:
        transducer.load_config(path)
    if "neural" in sections or not sections:
        neural.load_config(path)


def _validate_lexicon(path: Path) -> None:
    from lexiconlm.lexicon.induce import load_induce_config

    load_induce_config(path)


LOADERS = {
    "lexicon": _validate_lexicon,
    "expand": _validate_expand,
    "coverage": _validate_coverage,
    "nlu": _validate_nlu,
    "adapt": _validate_adapt,
    "sigmorphon": _validate_sigmorphon,
}


def test_configs_exist():
    assert any(p.parent.name == "expand" for p in CONFIGS)


@pytest.mark.parametrize("path", CONFIGS, ids=[str(p.relative_to(REPO / "configs")) for p in CONFIGS])
def test_config(path: Path):
    text = path.read_text(encoding="utf-8")
    first = text.splitlines()[0]
    assert first.startswith("# lexiconlm "), f"{path}: the first line must be the command that runs it"
    words = shlex.split(first[2:])
    verb = words[1]
    assert verb in VERBS, f"{path}: unknown verb {verb!r}"
    assert str(path.relative_to(REPO)) in words, f"{path}: the command does not name this file"
    data = yaml.safe_load(text)
    assert isinstance(data, dict) and data, f"{path}: expected a non-empty mapping"
    loader = LOADERS.get(path.parent.name)
    if loader is None:
        return  # a folder without a loader of its own: parsing and the command line are checked above
    uses_shared = "shared/data" in text or "${DATA}" in text
    if uses_shared and _shared_data() is None:
        pytest.skip(f"{path.name} points at ../shared/data, which is absent")
    try:
        loader(path)
    except ImportError as exc:  # a verb's optional dependencies are missing
        pytest.skip(f"{path.parent.name} loader needs {exc.name}")
    except ConfigError as exc:
        pytest.fail(str(exc))
