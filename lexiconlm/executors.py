"""The one per-job executor: run ``fn(*args)`` for many jobs in this process, on a process pool, or on Ray.

:func:`map_jobs` takes ``(key, args)`` jobs and yields ``(key, result, error)`` as they
finish, in completion order. The three executors keep the same contract:

* ``error`` is ``None`` on success, else the job's exception; an exception in one job never
  stops the others (the caller decides whether to raise, collect or log).
* ``progress(key)`` is called once per job, when its outcome is final, before it is yielded.
* A worker process that dies (killed by the OOM killer, a segfault in a native library,
  ``kill -9``) does not lose the batch: the job is run again, up to ``retries`` times; after
  that it is yielded with a :class:`WorkerDiedError` naming the exit signal when it is known.
* ``threads`` is each job's CPU share: ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` (and
  torch's thread count when torch is loaded) in a worker; Ray's ``num_cpus`` of the task.

Executors:

``"serial"``
    Every job in this process, in order; the process's thread settings are left alone.
``"process"`` (default)
    A spawn :class:`~concurrent.futures.ProcessPoolExecutor` of ``workers`` processes
    (``0``: ``os.cpu_count() // threads``, at least 1, at most one per job); a single job or a
    single worker runs serially here instead. On Linux each worker dies with the parent
    (:func:`die_with_parent`), so a killed run leaves no worker writing into its folder. When a
    worker dies, the pool is rebuilt and the unfinished jobs are submitted again; the death is
    counted against the job(s) that worker was running.
``"ray"``
    One Ray task per job (``num_cpus=threads``, ``max_retries=retries``: Ray runs a task again
    when its worker dies), gathered with ``ray.wait`` as they finish; at most ``workers`` in
    flight when ``workers > 0``. ``address=None`` starts a local Ray instance (or connects to
    ``$RAY_ADDRESS``), ``"auto"`` joins the cluster running on this machine, ``"host:port"`` a
    given one; an already initialised Ray is used as it is. Needs ``pip install 'lexiconlm[scale]'``.

Jobs travel to workers by pickle (Ray: cloudpickle), so ``fn`` should be a module-level
function of an importable module. An exception that would not survive the trip back (its
constructor takes other arguments than its message) arrives as a :class:`JobError` carrying
its type and message.

Example:
    >>> from lexiconlm.executors import map_jobs
    >>> jobs = [(word, (word,)) for word in ("gato", "perro", "casa")]
    >>> sorted((k, r) for k, r, err in map_jobs(len, jobs, executor="serial"))
    [('casa', 4), ('gato', 4), ('perro', 5)]

On a cluster: ``map_jobs(fn, jobs, executor="ray", address="auto", threads=2)``
(``benchmarks/ray_local_cluster.sh`` starts a two-node cluster on one machine to try it).
"""

from __future__ import annotations

import ctypes
import difflib
import multiprocessing
import os
import pickle
import signal
import sys
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from lexiconlm.errors import ConfigError, LexiconLMError, MissingDependencyError, UnknownNameError

__all__ = [
    "EXECUTORS",
    "JobError",
    "WorkerDiedError",
    "die_with_parent",
    "map_jobs",
]

EXECUTORS = ("serial", "process", "ray")

Job = tuple[Hashable, Sequence[Any]]
Outcome = tuple[Hashable, Any, BaseException | None]


class JobError(LexiconLMError):
    """A job's exception that could not travel back from its worker as itself (type and message kept)."""


class WorkerDiedError(LexiconLMError):
    """The worker process running a job died more times than the retries allowed.

    Attributes:
        key: the job's key.
        exitcodes: the exit status of each dead worker (negative: killed by that signal;
            ``None``: not known, e.g. on Ray).
    """

    def __init__(self, key: Hashable, exitcodes: Sequence[int | None], detail: str = ""):
        self.key = key
        self.exitcodes = tuple(exitcodes)
        self.detail = detail
        how = ", ".join(_describe_exit(c) for c in self.exitcodes)
        text = f"the worker process running job {key!r} died {len(self.exitcodes)} time(s) ({how})"
        super().__init__(text + (f": {detail}" if detail else ""))

    def __reduce__(self):
        return (WorkerDiedError, (self.key, self.exitcodes, self.detail))


def map_jobs(
    fn: Callable[..., Any],
    jobs: Sequence[Job],
    *,
    executor: str = "process",
    workers: int = 0,
    threads: int = 1,
    address: str | None = None,
    retries: int = 1,
    progress: Callable[[Hashable], None] | None = None,
) -> Iterator[Outcome]:
    """``fn(*args)`` for each ``(key, args)`` in ``jobs``; yields ``(key, result, error)`` as jobs finish.

    Args:
        fn: the job function (module level, importable, for ``process`` and ``ray``).
        jobs: ``(key, args)`` pairs; keys name jobs in the results and in errors.
        executor: ``"serial"``, ``"process"`` or ``"ray"`` (see the module docstring).
        workers: processes (``process``) or tasks in flight (``ray``); ``0``: as many as the
            CPUs allow (``os.cpu_count() // threads`` processes; Ray schedules by ``num_cpus``).
        threads: CPU threads per job (BLAS/OpenMP/torch in a worker; ``num_cpus`` on Ray).
        address: Ray only: ``None`` (a local instance, or ``$RAY_ADDRESS``), ``"auto"`` or ``"host:port"``.
        retries: how many times a job whose worker died is run again.
        progress: called with each job's key when its outcome is final.

    Returns:
        An iterator of ``(key, result, None)`` or ``(key, None, exception)``, in completion order.

    Raises:
        UnknownNameError: an unknown executor.
        ConfigError: ``workers``, ``threads`` or ``retries`` out of range (raised at the call).
        MissingDependencyError: ``executor="ray"`` without Ray installed (at the call).

    Example:
        >>> for key, result, error in map_jobs(divmod, [("a", (7, 2)), ("b", (1, 0))], executor="serial"):
        ...     print(key, result, type(error).__name__ if error else None)
        a (3, 1) None
        b None ZeroDivisionError
    """
    if executor not in EXECUTORS:
        raise UnknownNameError(
            executor, difflib.get_close_matches(executor, EXECUTORS, n=2), hint=f"executors: {', '.join(EXECUTORS)}"
        )
    problems = []
    if workers < 0:
        problems.append(f"workers -> {workers}: 0 (as many as the CPUs allow) or more")
    if threads < 1:
        problems.append(f"threads -> {threads}: 1 or more")
    if retries < 0:
        problems.append(f"retries -> {retries}: 0 or more")
    if problems:
        raise ConfigError(problems, "of map_jobs")
    jobs = list(jobs)
    if executor == "ray":
        ray = _import_ray()
        return _map_ray(ray, fn, jobs, workers, threads, address, retries, progress)
    n = min(workers or max(1, (os.cpu_count() or 1) // threads), len(jobs))
    if executor == "serial" or n <= 1:
        return _map_serial(fn, jobs, progress)
    return _map_process(fn, jobs, n, threads, retries, progress)


def die_with_parent() -> None:
    """On Linux, have this process get SIGTERM when its parent dies (a pool initializer: a killed
    run leaves no worker writing into the folder the next call resumes from); elsewhere nothing."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:  # pragma: no cover - no libc by that name
            pass


def _map_serial(fn: Callable[..., Any], jobs: list[Job], progress) -> Iterator[Outcome]:
    for key, args in jobs:
        try:
            out: Outcome = (key, fn(*args), None)
        except Exception as exc:  # noqa: BLE001 - handed to the caller, per job
            out = (key, None, exc)
        if progress:
            progress(key)
        yield out


# --- process pool ---------------------------------------------------------------------------

# In a pool worker: where it reports which job it starts (to tell which job a dead worker ran), and its threads.
_STARTED = None
_THREADS = 1


def _set_threads(threads: int) -> None:
    """Thread caps for BLAS/OpenMP (read when they load) and torch (when already loaded: importing
    it here would cost every job that does not use it a second)."""
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "set_num_threads"):
        torch.set_num_threads(threads)


def _init_worker(threads: int, started) -> None:
    global _STARTED, _THREADS
    _STARTED, _THREADS = started, threads
    _set_threads(threads)
    die_with_parent()


def _call(fn: Callable[..., Any], args: Sequence[Any]) -> Any:
    """``fn(*args)``, with an exception that would not unpickle in the parent replaced by a :class:`JobError`
    (otherwise the pool breaks while reading the result and every running job is lost)."""
    try:
        return fn(*args)
    except Exception as exc:
        try:
            # what unpickling in the parent does: rebuild from __reduce__ (an exception whose
            # constructor takes other arguments than its message fails here)
            pickle.dumps(exc)
            rebuild, args = exc.__reduce__()[:2]
            rebuild(*args)
        except Exception:  # noqa: BLE001 - any failure to round-trip
            raise JobError(f"{type(exc).__name__}: {exc}") from exc
        raise


def _pool_job(index: int, fn: Callable[..., Any], args: Sequence[Any]) -> Any:
    if _STARTED is not None:
        _STARTED.put((index, os.getpid()))  # synchronous: in the pipe before fn can kill the process
    torch = sys.modules.get("torch")  # unpickling fn may have loaded it after the initializer ran
    if torch is not None and hasattr(torch, "set_num_threads"):
        torch.set_num_threads(_THREADS)
    return _call(fn, args)


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "exit status unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _drain(started, pids: dict[int, int]) -> None:
    while not started.empty():
        index, pid = started.get()
        pids[index] = pid


def _map_process(
    fn: Callable[..., Any], jobs: list[Job], workers: int, threads: int, retries: int, progress
) -> Iterator[Outcome]:
    """Rounds of a spawn pool: a worker's death breaks the pool (every unfinished future fails), so
    the unfinished jobs go to a fresh pool; the death is charged to the jobs the dead worker ran."""
    ctx = multiprocessing.get_context("spawn")  # torch and fork do not mix
    todo = list(range(len(jobs)))
    deaths: dict[int, list[int | None]] = {}
    while todo:
        started = ctx.SimpleQueue()
        pids: dict[int, int] = {}  # job index -> pid of the worker that started it
        lost: list[int] = []
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(todo)), mp_context=ctx, initializer=_init_worker, initargs=(threads, started)
        )
        procs = getattr(pool, "_processes", {})  # pid -> Process, filled as workers start: exit codes after a death
        try:
            futures = {pool.submit(_pool_job, i, fn, jobs[i][1]): i for i in todo}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                _drain(started, pids)
                for fut in sorted(done, key=futures.__getitem__):
                    i = futures[fut]
                    exc = fut.exception()
                    if isinstance(exc, BrokenProcessPool):
                        lost.append(i)
                        continue
                    if progress:
                        progress(jobs[i][0])
                    yield jobs[i][0], (fut.result() if exc is None else None), exc
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        _drain(started, pids)
        started.close()
        if not lost:
            break
        suspects = [i for i in lost if i in pids]
        codes = {i: getattr(procs.get(pids[i]), "exitcode", None) for i in suspects}
        # the pool terminates the other workers (SIGTERM) once one dies: the one that died
        # otherwise ran the culprit; when none did, every job running then is charged
        culprits = [i for i in suspects if codes[i] not in (None, -signal.SIGTERM)]
        charged = culprits or suspects or lost
        todo = []
        for i in lost:
            if i in charged:
                deaths.setdefault(i, []).append(codes.get(i))
            if len(deaths.get(i, ())) > retries:
                if progress:
                    progress(jobs[i][0])
                yield jobs[i][0], None, WorkerDiedError(jobs[i][0], deaths[i])
            else:
                todo.append(i)


# --- Ray -------------------------------------------------------------------------------------


def _import_ray():
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("map_jobs(executor='ray')", "scale", "ray>=2.9") from None
    return ray


def _ray_job(fn: Callable[..., Any], args: Sequence[Any], threads: int) -> Any:
    _set_threads(threads)
    return _call(fn, args)


def _ray_error(ray, key: Hashable, exc: BaseException) -> BaseException:
    """The job's own exception out of Ray's wrapper; a dead worker as :class:`WorkerDiedError`."""
    died = (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.OutOfMemoryError)
    if isinstance(exc, died):
        return WorkerDiedError(key, [None], f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}")
    if isinstance(exc, ray.exceptions.RayTaskError) and isinstance(exc.cause, BaseException):
        return exc.cause
    return exc


def _map_ray(
    ray, fn: Callable[..., Any], jobs: list[Job], workers: int, threads: int, address, retries: int, progress
) -> Iterator[Outcome]:
    if not ray.is_initialized():
        ray.init(address=address)
    task = ray.remote(_ray_job).options(num_cpus=threads, max_retries=retries)
    queue = list(reversed(jobs))
    refs: dict[Any, Hashable] = {}
    try:
        while queue or refs:
            while queue and (not workers or len(refs) < workers):
                key, args = queue.pop()
                refs[task.remote(fn, tuple(args), threads)] = key
            ready, _ = ray.wait(list(refs), num_returns=1)
            for ref in ready:
                key = refs.pop(ref)
                try:
                    out: Outcome = (key, ray.get(ref), None)
                except Exception as exc:  # noqa: BLE001 - handed to the caller, per job
                    out = (key, None, _ray_error(ray, key, exc))
                if progress:
                    progress(key)
                yield out
    finally:
        for ref in refs:  # the caller stopped early: do not leave tasks running
            ray.cancel(ref)
