"""Killing ``lexiconlm expand`` and running it again finishes with the same result as a run never killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "configs" / "expand" / "tiny.yaml"
# more optimizer steps and frequent checkpoints, so that a kill lands inside training
# (the NLU figures are what is compared; the other evaluations are left out to keep the test short)
SETTINGS = [
    "--set",
    "nlu.config.epochs=3",
    "--set",
    "nlu.config.checkpoint_every=3",
    "--set",
    "adapt.enabled=false",
    "--set",
    "evaluate.sigmorphon.enabled=false",
    "--set",
    "evaluate.mlm.enabled=false",
]


def _cmd(out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "lexiconlm",
        "expand",
        "--lang",
        "ind",
        "--config",
        str(TINY),
        "--out",
        str(out),
        "--quiet",
        *SETTINGS,
    ]


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def _kill_when(out: Path, ready, timeout: float = 120.0) -> None:
    """Start the pipeline, SIGKILL it as soon as ``ready(out)`` is true."""
    proc = subprocess.Popen(_cmd(out), cwd=REPO, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    try:
        while not ready(out):
            if proc.poll() is not None:
                pytest.fail(f"the pipeline ended (status {proc.returncode}) before the kill point")
            if time.monotonic() - t0 > timeout:
                pytest.fail("the kill point was never reached")
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()


def _run(out: Path) -> None:
    subprocess.run(_cmd(out), cwd=REPO, env=_env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_kill_after_a_step_and_mid_training_then_rerun(tmp_path):
    ref = tmp_path / "uninterrupted"
    _run(ref)
    out = tmp_path / "killed"
    # 1. killed once the synth step is recorded (the model step is running or about to)
    _kill_when(out, lambda d: (d / "steps" / "synth.json").is_file())
    assert not (out / "steps" / "train.json").exists()
    # 2. killed inside training, after its first checkpoint and before the step finished
    _kill_when(out, lambda d: (d / "train" / "checkpoint").is_dir() and any((d / "train" / "checkpoint").iterdir()))
    assert (out / "steps" / "train.started.json").is_file() and not (out / "steps" / "train.json").exists()
    # 3. the rerun finishes
    _run(out)
    got = json.loads((out / "metrics.json").read_text())
    want = json.loads((ref / "metrics.json").read_text())
    assert got == want
    assert (out / "nlu.csv").read_text() == (ref / "nlu.csv").read_text()
