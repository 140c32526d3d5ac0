"""One process at a time on a run folder: a second one stops at once naming the first; a lock
left by a dead process is taken over (lexiconlm.files.run_folder_lock)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lexiconlm import files
from lexiconlm.errors import LexiconLMError
from lexiconlm.files import (
    LOCK_NAME,
    RunFolderBusyError,
    hold_run_folder,
    holds_run_folder_locks,
    run_folder_lock,
)

REPO = Path(__file__).resolve().parents[1]

HOLDER = textwrap.dedent("""
    import sys, time
    from lexiconlm.files import run_folder_lock
    with run_folder_lock(sys.argv[1], "test holder"):
        print("held", flush=True)
        sys.stdin.readline()  # hold until the test closes our stdin
""")


@pytest.fixture
def holder(tmp_path):
    """A subprocess that holds the lock of ``tmp_path / 'run'`` until the test ends."""
    folder = tmp_path / "run"
    proc = _start_holder(folder)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield folder, proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


def _start_holder(folder: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_second_process_stops_at_once_naming_the_holder(holder):
    folder, proc = holder
    with pytest.raises(RunFolderBusyError) as err, run_folder_lock(folder, "second"):
        pytest.fail("the lock of a live holder was taken")
    msg = str(err.value)
    assert f"pid {proc.pid} on host {socket.gethostname()}" in msg and str(folder) in msg
    assert "(test holder)" in msg and "fix:" in msg and "\n" not in msg
    assert isinstance(err.value, LexiconLMError) and err.value.holder["pid"] == proc.pid


def test_the_cli_prints_one_line_and_fails(holder, tmp_path):
    """`lexiconlm synth batch` on a held folder: one line naming the holder, a failing exit status
    (that of a LexiconLMError), nothing written."""
    folder, proc = holder
    src = tmp_path / "src.txt"
    src.write_text("the dog\n", encoding="utf-8")
    lexicons = REPO / "resources" / "demo" / "lexicons"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "lexiconlm",
            "synth",
            "batch",
            "-d",
            str(lexicons),
            "--source",
            str(src),
            "--out",
            str(folder),
            "--workers",
            "1",
            "--no-progress",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode in (1, 2) and "Traceback" not in r.stderr, r.stderr
    lines = [x for x in r.stderr.splitlines() if "in use by" in x]
    assert lines and lines[0].startswith("error: ")
    assert len(lines) == 1 and f"pid {proc.pid}" in lines[0] and str(folder) in lines[0]
    assert not (folder / "summary.tsv").exists()


def test_a_lock_of_a_dead_process_is_taken_over_with_a_note(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    dead = _dead_pid()
    old = {"pid": dead, "host": socket.gethostname(), "command": "old run", "started": "2024-01-01T00:00:00Z"}
    (folder / LOCK_NAME).write_text(json.dumps(old))
    notes: list[str] = []
    with run_folder_lock(folder, "new run", log=notes.append):
        rec = json.loads((folder / LOCK_NAME).read_text())
        assert rec["pid"] == os.getpid() and rec["command"] == "new run"
    assert len(notes) == 1 and f"pid {dead}" in notes[0] and "no longer running" in notes[0]
    assert (folder / LOCK_NAME).read_text() == ""  # released: the record is cleared


def test_a_killed_holder_leaves_a_lock_that_is_taken_over(tmp_path):
    folder = tmp_path / "run"
    proc = _start_holder(folder)
    assert proc.stdout.readline().strip() == "held"
    proc.kill()
    proc.wait()
    # the record survives the kill
    assert json.loads((folder / LOCK_NAME).read_text())["pid"] == proc.pid
    notes: list[str] = []
    with run_folder_lock(folder, log=notes.append):
        pass
    assert len(notes) == 1 and f"pid {proc.pid}" in notes[0]


def test_reentrant_in_one_process_and_released_after(tmp_path):
    folder = tmp_path / "run"
    with run_folder_lock(folder, "outer"):
        with run_folder_lock(folder, "inner"):
            assert json.loads((folder / LOCK_NAME).read_text())["command"] == "outer"
        assert json.loads((folder / LOCK_NAME).read_text())["command"] == "outer"
    # another process can take it now
    code = "import sys; from lexiconlm.files import run_folder_lock\nwith run_folder_lock(sys.argv[1]): print('ok')"
    r = subprocess.run(
        [sys.executable, "-c", code, str(folder)], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert r.stdout.strip() == "ok", r.stderr


def test_hold_run_folder_is_released_on_return_and_on_error(tmp_path, holder):
    @holds_run_folder_locks
    def entry(folder: Path, fail: bool) -> str:
        hold_run_folder(folder, "entry")
        assert json.loads((folder / LOCK_NAME).read_text())["command"] == "entry"
        if fail:
            raise ValueError("boom")
        return "done"

    assert entry(tmp_path / "a", False) == "done"
    assert (tmp_path / "a" / LOCK_NAME).read_text() == ""
    with pytest.raises(ValueError):
        entry(tmp_path / "a", True)
    assert (tmp_path / "a" / LOCK_NAME).read_text() == ""
    held_folder, _ = holder
    with pytest.raises(RunFolderBusyError):
        entry(held_folder, False)
    with pytest.raises(RuntimeError, match="holds_run_folder_locks"):
        hold_run_folder(tmp_path / "b")


def test_nonzero_ranks_of_a_distributed_launch_leave_the_lock_to_rank_0(holder, monkeypatch):
    folder, _ = holder
    monkeypatch.setenv("RANK", "1")
    with run_folder_lock(folder):
        pass  # no error: rank 0 holds the folder for the launch


def test_without_os_locks_the_record_decides(tmp_path, monkeypatch, holder):
    """On a file system without locks: a live pid on this host holds the folder, a dead one not."""
    monkeypatch.setattr(files, "fcntl", None)
    held_folder, proc = holder
    with pytest.raises(RunFolderBusyError, match=f"pid {proc.pid}"), run_folder_lock(held_folder):
        pass
    folder = tmp_path / "dead"
    folder.mkdir()
    dead = {"pid": _dead_pid(), "host": socket.gethostname()}
    (folder / LOCK_NAME).write_text(json.dumps(dead))
    notes: list[str] = []
    with run_folder_lock(folder, log=notes.append):
        pass
    assert notes and "no longer running" in notes[0]
    (folder / LOCK_NAME).write_text(json.dumps({"pid": 1, "host": "elsewhere.example"}))
    with pytest.raises(RunFolderBusyError, match="delete"), run_folder_lock(folder):
        pass


ORPHAN = textwrap.dedent("""
    import os, sys, time
    from lexiconlm.files import run_folder_lock
    with run_folder_lock(sys.argv[1], "parent"):
        child = os.fork()
        if child == 0:  # a worker: inherits the locked file, outlives its parent
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, 1)  # not the parent's pipes, which the test reads to their end
            os.dup2(null, 2)
            time.sleep(float(sys.argv[2]))
            os._exit(0)
        print(child, flush=True)
        os._exit(0)  # the parent dies without releasing anything
""")


@pytest.mark.skipif(not hasattr(os, "fork") or files.fcntl is None, reason="needs fork and flock")
def test_a_worker_outliving_a_killed_holder_keeps_the_folder(tmp_path):
    """The holder is dead but a process it forked still works in the folder: still busy, said so."""
    folder = tmp_path / "run"
    r = subprocess.run(
        [sys.executable, "-c", ORPHAN, str(folder), "30"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    worker = int(r.stdout.strip())
    try:
        busy = pytest.raises(RunFolderBusyError, match="no longer running but a process it started")
        with busy, run_folder_lock(folder):
            pass
    finally:
        os.kill(worker, signal.SIGKILL)  # the worker the test's subprocess forked, by its pid
    for _ in range(500):  # once the worker is gone, the folder is free
        try:
            with run_folder_lock(folder, log=lambda _msg: None):
                break
        except RunFolderBusyError:
            time.sleep(0.01)
    else:
        pytest.fail("the lock stayed held after the worker ended")
