"""What pyproject.toml declares about style is enforced: ruff's lint rules and its formatter
(line length included) pass on the package, the app, the tests, the benchmarks and scripts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ["lexiconlm", "apps", "tests", "benchmarks", "scripts"]


def _ruff() -> list[str]:
    exe = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("ruff is not installed: pip install -e '.[dev]'")
        pytest.skip("ruff is not installed: pip install -e '.[dev]'")
    return [exe]


def test_ruff_lint_passes():
    out = subprocess.run([*_ruff(), "check", "--no-cache", *TARGETS], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, f"ruff check found problems:\n{out.stdout}{out.stderr}"


def test_ruff_format_is_applied():
    out = subprocess.run(
        [*_ruff(), "format", "--check", "--no-cache", *TARGETS], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, (
        f"files not formatted (run `ruff format {' '.join(TARGETS)}`):\n{out.stdout}{out.stderr}"
    )
