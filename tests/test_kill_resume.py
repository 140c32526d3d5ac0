"""Every resumable command, killed with SIGKILL part-way and run again, ends with the results of
a run never killed; a second process on a folder in use stops at once.

Each test runs the command line (a real process, really killed) on tiny settings: the reference
run, one run killed at a point the test waits for (a checkpoint written, some outputs written),
then the rerun. Model weights, predictions and corpora are compared byte for byte; JSON results
as figures (times and resume bookkeeping left out). ``expand`` is covered by
``tests/test_expand_resume.py`` (a kill between steps and one inside training); here it gets
the two-processes case. ``benchmarks/kill_resume.py`` kills each command at random points.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENV = {
    **os.environ,
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
VOLATILE = {
    "seconds",
    "seconds_this_run",
    "train_seconds",
    "train_seconds_epochs",
    "eval_seconds",
    "wall_s",
    "tokens_per_s",
    "achieved_tflops",
    "mfu",
    "resumed_from",
    "steps_run",
    "created",
}


def _lexiconlm(*args) -> list[str]:
    return [sys.executable, "-m", "lexiconlm", *map(str, args)]


def _run(argv: list[str]) -> None:
    r = subprocess.run(argv, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=600, check=False)
    assert r.returncode == 0, r.stderr[-3000:]


def _kill_when(argv: list[str], ready, log: Path, timeout: float = 300.0) -> None:
    """Start the command; SIGKILL its process group once ``ready()`` is true (it must still run).

    Its output goes to ``log`` (a pipe nobody reads could fill and stall it)."""
    with open(log, "w", encoding="utf-8") as fh:
        proc = subprocess.Popen(argv, cwd=REPO, env=ENV, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    t0 = time.monotonic()
    try:
        while not ready():
            if proc.poll() is not None:
                pytest.fail(
                    f"the command ended (status {proc.returncode}) before the kill point: "
                    f"{log.read_text(encoding='utf-8', errors='replace')[-2000:]}"
                )
            if time.monotonic() - t0 > timeout:
                pytest.fail("the kill point was never reached")
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def _has_checkpoint(folder: Path) -> bool:
    """A finished checkpoint exists below ``folder`` (any layout: checkpoint/, checkpoints/step-N/
    ...; not one still being written into a hidden temporary folder)."""
    if not folder.is_dir():
        return False
    for p in folder.rglob("*"):
        parts = p.relative_to(folder).parts
        if (
            p.is_file()
            and any("checkpoint" in x for x in parts)
            and not any(x.startswith(".") or x.endswith(".tmp") for x in parts)
        ):
            return True
    return False


def _figures(path: Path, out: Path):
    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if k not in VOLATILE}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v.replace(str(out), "<OUT>") if isinstance(v, str) else v

    return strip(json.loads(path.read_text(encoding="utf-8")))


def _same(ref: Path, got: Path, byte_files: list[str], json_files: list[str]) -> None:
    for rel in byte_files:
        assert (got / rel).read_bytes() == (ref / rel).read_bytes(), rel
    for rel in json_files:
        assert _figures(got / rel, got) == _figures(ref / rel, ref), rel


# --------------------------------------------------------------------------- adapt run


@pytest.mark.slow
def test_adapt_run_killed_after_a_checkpoint_resumes_to_the_same_model(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")

    def cmd(out):
        return _lexiconlm(
            "adapt",
            "run",
            "--config",
            "configs/adapt/tiny.yaml",
            "--out",
            out,
            "--device",
            "cpu",
            "--quiet",
            "--set",
            "mlm.steps=6",
            "--set",
            "mlm.save_every=2",
        )

    ref, out = tmp_path / "ref", tmp_path / "killed"
    _run(cmd(ref))
    _kill_when(cmd(out), lambda: _has_checkpoint(out) and not (out / "metrics.json").exists(), tmp_path / "killed.log")
    assert not (out / "model").exists()
    _run(cmd(out))
    _same(
        ref, out, ["model/model.safetensors", "model/tokenizer.json"], ["metrics.json", "init_loss.json", "plan.json"]
    )
    assert json.loads((out / "metrics.json").read_text())["steps_run"] < 6  # it did resume


# --------------------------------------------------------------------------- nlu run


@pytest.mark.slow
def test_nlu_run_killed_inside_training_resumes_to_the_same_results(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")

    def cmd(out):
        return _lexiconlm(
            "nlu",
            "run",
            "configs/nlu/tiny-cpu.yaml",
            "--out",
            out,
            "--systems",
            "zero-shot",
            "--device",
            "cpu",
            "--no-plot",
        )

    ref, out = tmp_path / "ref", tmp_path / "killed"
    system = out / "zero-shot"
    _run(cmd(ref))
    _kill_when(cmd(out), lambda: _has_checkpoint(system) and not (system / "model").exists(), tmp_path / "killed.log")
    _run(cmd(out))
    model = [
        "heads.safetensors",
        "encoder/model.safetensors",
        "encoder/tokenizer.json",
        "encoder/tokenizer_config.json",
    ]
    _same(ref, out, [f"zero-shot/model/{f}" for f in model], ["zero-shot/results.json", "metrics.json"])


# --------------------------------------------------------------------------- sigmorphon run


def _sigmorphon_data(root: Path) -> Path:
    d = root / "sigmorphon" / "2022_part1"
    d.mkdir(parents=True)
    stems = [a + b for a in ("ku", "che", "so", "im", "la", "pi", "ru", "te") for b in ("la", "za", "ma")]
    rows = [(s, s + suf, f"V;{f}") for s in stems for suf, f in (("ni", "PST"), ("ka", "FUT"))]

    def write(name: str, lines: list[str]) -> None:
        (d / name).write_text("".join(x + "\n" for x in lines), encoding="utf-8")

    write("swh_small.train", ["\t".join(r) for r in rows[:36]])
    write("swh.dev", ["\t".join(r) for r in rows[36:42]])
    write("swh.test", [f"{r[0]}\t{r[2]}" for r in rows[42:]])
    return d.parent


@pytest.mark.slow
def test_sigmorphon_run_killed_after_a_checkpoint_resumes_to_the_same_predictions(tmp_path):
    pytest.importorskip("torch")
    data = _sigmorphon_data(tmp_path)
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text("neural:\n  preset: tiny\n  max_steps: 40\n  eval_every: 10\n  save_every: 5\n", encoding="utf-8")

    def cmd(out):
        return _lexiconlm(
            "sigmorphon",
            "run",
            "--edition",
            "2022",
            "--system",
            "neural",
            "--data",
            data,
            "--out",
            out,
            "--config",
            cfg,
            "--device",
            "cpu",
            "--threads",
            "1",
            "--no-progress",
        )

    ref, out = tmp_path / "ref", tmp_path / "killed"
    _run(cmd(ref))
    rel = "2022/neural/settings/swh_small"
    _kill_when(
        cmd(out),
        lambda: _has_checkpoint(out / "2022" / "neural" / "models") and not (out / rel / "scores.json").exists(),
        tmp_path / "killed.log",
    )
    _run(cmd(out))
    _same(ref, out, [f"{rel}/dev.pred", f"{rel}/test.pred"], [f"{rel}/scores.json"])


# --------------------------------------------------------------------------- synth batch


@pytest.mark.slow
def test_synth_batch_killed_part_way_resumes_to_the_same_corpora(tmp_path):
    lex = tmp_path / "lexicons"
    lex.mkdir()
    demo = (REPO / "resources" / "demo" / "lexicons" / "indonesian.txt").read_text(encoding="utf-8")
    names = [
        "indonesian",
        "javanese",
        "sundanese",
        "balinese",
        "malay",
        "acehnese",
        "buginese",
        "madurese",
        "minangkabau",
        "tagalog",
        "cebuano",
        "ilocano",
    ]
    for name in names:
        (lex / f"{name}.txt").write_text(demo, encoding="utf-8")

    def cmd(out):
        return _lexiconlm(
            "synth",
            "batch",
            "-d",
            lex,
            "--source",
            "resources/demo/text/eng_udhr.tsv",
            "--out",
            out,
            "--workers",
            "1",
            "--no-progress",
            "--show",
            "0",
        )

    ref, out = tmp_path / "ref", tmp_path / "killed"
    _run(cmd(ref))
    outputs = sorted(p.relative_to(ref).as_posix() for p in ref.glob("lexicons/*") if p.suffix in (".txt", ".kept"))
    assert len(outputs) == 2 * len(names)
    _kill_when(cmd(out), lambda: len(list(out.glob("lexicons/*.txt"))) >= 3, tmp_path / "killed.log")
    assert not (out / "summary.tsv").exists() and len(list(out.glob("lexicons/*.txt"))) < len(names)
    _run(cmd(out))
    _same(ref, out, outputs, ["metrics.json"])
    rows = [r.split("\t") for r in (out / "summary.tsv").read_text(encoding="utf-8").splitlines()]
    status = rows[0].index("status")
    assert len(rows) == len(names) + 1 and all(r[status] == "ok" for r in rows[1:])


# --------------------------------------------------------------------------- expand: two processes


@pytest.mark.slow
def test_a_second_expand_on_a_folder_in_use_stops_at_once(tmp_path):
    """The second process names the first and touches nothing; the first, killed, resumes alone."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    out = tmp_path / "run"
    settings = [
        "--set",
        "adapt.enabled=false",
        "--set",
        "evaluate.sigmorphon.enabled=false",
        "--set",
        "evaluate.mlm.enabled=false",
    ]
    cmd = _lexiconlm(
        "expand", "--lang", "ind", "--config", "configs/expand/tiny.yaml", "--out", out, "--quiet", *settings
    )
    first = subprocess.Popen(
        cmd, cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        t0 = time.monotonic()
        while not (out / "steps" / "model.started.json").is_file():
            assert first.poll() is None and time.monotonic() - t0 < 300, "the first run ended early"
            time.sleep(0.01)
        before = sorted(p.name for p in (out / "steps").iterdir())
        second = subprocess.run(cmd, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300, check=False)
        assert second.returncode != 0 and "Traceback" not in second.stderr
        [line] = [x for x in second.stderr.splitlines() if "in use by" in x]
        assert f"pid {first.pid}" in line and str(out) in line and "lexiconlm expand" in line
        assert "model.started.json" in before
        os.killpg(first.pid, signal.SIGKILL)
    finally:
        first.wait()
    _run(cmd)  # the lock of the killed run is taken over; the run finishes
    assert (out / "report.md").is_file() and (out / "steps" / "report.json").is_file()
    assert not list((out / "steps").glob("*.started.json"))
