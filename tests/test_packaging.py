"""Packaging and CLI surface: every subpackage ships in the wheel, every verb has --help."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lexiconlm.cli.main import VERBS, app, main

REPO = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_subpackage_is_listed_for_the_wheel():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "lexiconlm").rglob("__init__.py")}
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert "lexiconlm._resources" in listed


def test_console_script_and_python_floor():
    proj = _pyproject()["project"]
    assert proj["scripts"]["lexiconlm"] == "lexiconlm.cli.main:main"
    assert proj["requires-python"] == ">=3.10"
    gpu = " ".join(proj["optional-dependencies"]["gpu"])
    assert "torch>=2.4" in gpu
    assert not any(d.startswith("unimorph") for d in proj["dependencies"])


def _commands(typer_app) -> list[list[str]]:
    import typer.main

    group = typer.main.get_command(typer_app)
    out: list[list[str]] = []

    def walk(cmd, path):
        out.append(path)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, path + [name])

    walk(group, [])
    return out


def test_every_verb_has_help(capsys):
    paths = _commands(app)
    top = {p[0] for p in paths if p}
    assert set(VERBS) <= top
    for path in paths:
        assert main([*path, "--help"]) == 0, path
        out = capsys.readouterr().out
        assert "Usage" in out, path


def test_version(capsys):
    assert main(["--version"]) == 0
    assert "lexiconlm" in capsys.readouterr().out


def test_unknown_kind_suggests(capsys):
    assert main(["inspect", str(REPO / "resources" / "demo"), "--kind", "lexicn"]) == 2
    assert "Did you mean: lexicon" in capsys.readouterr().err
