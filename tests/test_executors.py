"""lexiconlm.executors.map_jobs: the same outcomes in this process, on a process pool and on Ray;
one job's exception stays with that job; a worker that dies is replaced and its job run again,
up to ``retries`` times.

The job functions live at the top of this module, which workers import by name: spawn workers
get the parent's ``sys.path`` (``tests/`` is on it under pytest); Ray workers get ``tests/``
through the runtime environment's ``PYTHONPATH`` (the package itself is installed).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from lexiconlm.errors import ConfigError, MissingDependencyError, UnknownNameError
from lexiconlm.executors import JobError, WorkerDiedError, map_jobs


def square(x: int) -> int:
    return x * x


def job(kind: str, x: int, marker: str = "") -> int:
    """``ok``: x squared; ``fail``: ValueError; ``kill-once``: SIGKILL its own worker the first
    time (the marker file remembers), then x squared; ``kill``: always SIGKILL its worker;
    ``slow``: x squared after a pause (running while another worker dies)."""
    if kind == "fail":
        raise ValueError(f"bad input {x}")
    if kind == "unpicklable":
        raise MissingDependencyError("a feature", "extra", "pkg")  # its constructor takes 3 arguments
    if kind == "kill-once" and not Path(marker).exists():
        Path(marker).write_text("killed once\n", encoding="utf-8")
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "slow":
        time.sleep(1.0)
    return x * x


def _outcomes(results) -> dict:
    return {key: (value, type(err).__name__ if err else None) for key, value, err in results}


JOBS = [(f"j{i}", (i,)) for i in range(6)]
EXPECTED = {f"j{i}": (i * i, None) for i in range(6)}


def test_serial_and_process_give_the_same_results():
    seen = []
    assert _outcomes(map_jobs(square, JOBS, executor="serial", progress=seen.append)) == EXPECTED
    assert sorted(seen) == sorted(EXPECTED)
    seen.clear()
    assert _outcomes(map_jobs(square, JOBS, executor="process", workers=2, progress=seen.append)) == EXPECTED
    assert sorted(seen) == sorted(EXPECTED)


@pytest.mark.parametrize("executor", ["serial", "process"])
def test_an_exception_stays_with_its_job(executor):
    jobs = [("a", ("ok", 2)), ("b", ("fail", 3)), ("c", ("ok", 4)), ("d", ("unpicklable", 0))]
    out = {key: (value, err) for key, value, err in map_jobs(job, jobs, executor=executor, workers=2)}
    assert out["a"] == (4, None) and out["c"] == (16, None)
    assert out["b"][0] is None and isinstance(out["b"][1], ValueError) and "bad input 3" in str(out["b"][1])
    err = out["d"][1]
    if executor == "serial":
        assert isinstance(err, MissingDependencyError)
    else:  # would not unpickle in the parent as itself: type and message kept
        assert isinstance(err, JobError) and "MissingDependencyError" in str(err) and "lexiconlm[extra]" in str(err)


def test_process_pool_reruns_a_job_whose_worker_was_killed(tmp_path):
    marker = tmp_path / "killed"
    jobs = [("a", ("ok", 1)), ("k", ("kill-once", 5, str(marker))), ("b", ("ok", 2)), ("c", ("ok", 3))]
    seen = []
    out = _outcomes(map_jobs(job, jobs, executor="process", workers=2, progress=seen.append))
    assert marker.exists()  # the worker was killed once
    assert out == {"a": (1, None), "k": (25, None), "b": (4, None), "c": (9, None)}
    assert sorted(seen) == ["a", "b", "c", "k"]


def test_process_pool_gives_up_after_retries_and_spares_the_other_jobs():
    # "s" is running on the other worker when "k" kills its own: the pool terminates it too,
    # but the death is charged to "k" only, so "s" succeeds even with retries=0
    jobs = [("s", ("slow", 3)), ("k", ("kill", 0)), ("a", ("ok", 2))]
    out = {key: (value, err) for key, value, err in map_jobs(job, jobs, executor="process", workers=2, retries=1)}
    assert out["s"] == (9, None) and out["a"] == (4, None)
    err = out["k"][1]
    assert isinstance(err, WorkerDiedError) and err.exitcodes == (-signal.SIGKILL, -signal.SIGKILL)
    assert "died 2 time(s)" in str(err) and "SIGKILL" in str(err)
    out = {key: err for key, _, err in map_jobs(job, jobs[:2], executor="process", workers=2, retries=0)}
    assert out["s"] is None and isinstance(out["k"], WorkerDiedError) and len(out["k"].exitcodes) == 1


def test_bad_arguments_are_refused_at_the_call():
    with pytest.raises(UnknownNameError, match="Did you mean: serial"):
        map_jobs(square, JOBS, executor="serail")
    with pytest.raises(ConfigError) as info:
        map_jobs(square, JOBS, workers=-1, threads=0, retries=-1)
    assert len(info.value.problems) == 3


def test_ray_missing_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(MissingDependencyError, match=r"lexiconlm\[scale\]"):
        map_jobs(square, JOBS, executor="ray")


@pytest.fixture(scope="module")
def ray_local():
    ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'lexiconlm[scale]')")
    path = os.pathsep.join(p for p in (str(Path(__file__).parent), os.environ.get("PYTHONPATH")) if p)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
    yield ray
    ray.shutdown()


def test_ray_gives_the_same_results(ray_local):
    seen = []
    assert _outcomes(map_jobs(square, JOBS, executor="ray", progress=seen.append)) == EXPECTED
    assert sorted(seen) == sorted(EXPECTED)
    assert _outcomes(map_jobs(square, JOBS, executor="ray", workers=1)) == EXPECTED  # one in flight at a time


def test_ray_an_exception_stays_with_its_job(ray_local):
    jobs = [("a", ("ok", 2)), ("b", ("fail", 3)), ("d", ("unpicklable", 0))]
    out = {key: (value, err) for key, value, err in map_jobs(job, jobs, executor="ray")}
    assert out["a"] == (4, None)
    assert type(out["b"][1]) is ValueError and "bad input 3" in str(out["b"][1])  # the cause, unwrapped
    assert isinstance(out["d"][1], JobError) and "MissingDependencyError" in str(out["d"][1])


def test_ray_reruns_a_task_whose_worker_was_killed(ray_local, tmp_path):
    marker = tmp_path / "killed"
    jobs = [("a", ("ok", 1)), ("k", ("kill-once", 5, str(marker)))]
    out = _outcomes(map_jobs(job, jobs, executor="ray", retries=1))
    assert marker.exists()
    assert out == {"a": (1, None), "k": (25, None)}
    out = {key: err for key, _, err in map_jobs(job, [("k", ("kill", 0))], executor="ray", retries=0)}
    assert isinstance(out["k"], WorkerDiedError) and "WorkerCrashedError" in str(out["k"])
