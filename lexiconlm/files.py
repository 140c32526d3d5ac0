"""Files: reading text as numbered lines with every problem reported, and writing atomically.

The ground floor of every reader, writer and run folder in the package (it imports only
:mod:`lexiconlm.errors` and :mod:`lexiconlm.types`).

:func:`read_lines` reads every data file:

* reads bytes and decodes UTF-8, reporting each line that is not valid UTF-8
  (with its byte offset) instead of failing on the first;
* rejects binary files (NUL bytes) with one clear error;
* strips a UTF-8 BOM and CRLF line endings (a warning says so);
* normalises text to Unicode NFC (a warning counts the lines changed);
* splits on ``\\n`` only — never on the other characters :meth:`str.splitlines`
  treats as line breaks (``\\x0b``, ``\\x1c``, ``\\u2028`` ...), which are data.

Quoting is never interpreted: ``"`` is an ordinary character, and ``null`` /
``NA`` are words, not missing values. :class:`ProblemLog` collects a file's problems
and raises them together. :func:`read_head` gives the first lines (format detection).

Writing: :func:`atomic_write` / :func:`atomic_write_text` (a kill mid-write leaves the
old file, never a truncated one), :func:`publish_folder` (a folder replaced whole),
:func:`file_sha256`, and :func:`data_files` (the data files of paths and folders).

Run folders: :func:`run_folder_lock` (one process at a time on a run folder, a stale lock
of a dead process taken over), :func:`holds_run_folder_locks` / :func:`hold_run_folder`
(the same for a long entry function, without re-indenting its body).
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
import shutil
import socket
import stat
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, TypeVar

from lexiconlm.errors import DataFormatError, LexiconLMError, OutputPathError, Problem
from lexiconlm.types import Provenance

try:  # POSIX advisory locks; elsewhere the lock file's record alone decides
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

ErrorPolicy = Literal["raise", "collect"]

__all__ = [
    "ErrorPolicy",
    "ProblemLog",
    "RawFile",
    "read_lines",
    "read_head",
    "preview",
    "check_errors_policy",
    "atomic_write",
    "atomic_write_text",
    "publish_folder",
    "file_sha256",
    "data_files",
    "LOCK_NAME",
    "RunFolderBusyError",
    "run_folder_lock",
    "holds_run_folder_locks",
    "hold_run_folder",
]

_UTF8_BOM = b"\xef\xbb\xbf"


class ProblemLog:
    """Collects every :class:`Problem` of one file; raises them together at the end."""

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        self.items: list[Problem] = []

    def error(self, line: int | None, message: str, hint: str = "") -> None:
        self.items.append(Problem(self.path, line, message, hint, "error"))

    def warning(self, line: int | None, message: str, hint: str = "") -> None:
        self.items.append(Problem(self.path, line, message, hint, "warning"))

    @property
    def n_errors(self) -> int:
        return sum(1 for p in self.items if p.severity == "error")

    def finish(self, errors: ErrorPolicy) -> tuple[Problem, ...]:
        """Raise :class:`DataFormatError` listing all problems if any is an error and
        ``errors == "raise"``; otherwise return them all."""
        check_errors_policy(errors)
        if errors == "raise" and self.n_errors:
            raise DataFormatError(self.items)
        return tuple(self.items)


def check_errors_policy(errors: str) -> None:
    if errors not in ("raise", "collect"):
        raise ValueError(f"errors must be 'raise' or 'collect', got {errors!r}")


@dataclass
class RawFile:
    """A decoded file: its lines (1-based numbers kept), fingerprint and the problem log."""

    path: Path
    lines: list[tuple[int, str]]
    sha256: str
    n_lines: int
    log: ProblemLog

    def provenance(self, fmt: str, source: str = "", license: str = "") -> Provenance:
        return Provenance(
            path=str(self.path),
            format=fmt,
            sha256=self.sha256,
            n_lines=self.n_lines,
            source=source,
            license=license,
        )


@contextmanager
def _open_data_file(p: Path, dir_hint: str) -> Iterator[BinaryIO]:
    """Open ``p`` to read bytes; a file that cannot be opened or read is a DataFormatError naming it.

    A device or socket is refused before opening it: reading ``/dev/zero`` never ends. (A FIFO
    is read: ``/dev/stdin`` in a pipe is one.)"""
    try:
        mode = p.stat().st_mode
    except OSError:
        mode = 0  # let open() say what is wrong
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISSOCK(mode):
        raise DataFormatError.single(
            str(p),
            None,
            "not a regular file (a device or socket); not read",
            "save the data to a regular file first",
        )
    try:
        with p.open("rb") as fh:
            yield fh
    except FileNotFoundError:
        raise DataFormatError.single(str(p), None, "file not found", "check the path") from None
    except IsADirectoryError:
        raise DataFormatError.single(str(p), None, "is a directory, not a file", dir_hint) from None
    except OSError as exc:
        raise DataFormatError.single(str(p), None, f"cannot read: {exc.strerror}") from None


def _decode_lines_slow(data: bytes, log: ProblemLog) -> list[tuple[int, str]]:
    """Decode line by line so every invalid line is reported with its byte offset."""
    out: list[tuple[int, str]] = []
    offset = 0
    for i, raw in enumerate(data.split(b"\n"), start=1):
        try:
            out.append((i, raw.decode("utf-8")))
        except UnicodeDecodeError as exc:
            log.error(
                i,
                f"invalid UTF-8 at byte {offset + exc.start} (byte 0x{raw[exc.start]:02x}); line skipped",
                "re-encode the file as UTF-8, e.g. iconv -f latin1 -t utf-8 FILE > FILE.utf8",
            )
        offset += len(raw) + 1
    return out


def read_lines(
    path: str | os.PathLike,
    *,
    nfc: bool = True,
    allow_empty: bool = False,
    log: ProblemLog | None = None,
) -> RawFile:
    """Read a text file as numbered lines, reporting (not raising) every problem.

    Args:
        path: the file.
        nfc: normalise every line to Unicode NFC (a warning counts the changed lines).
        allow_empty: an empty file is an error unless this is true.
        log: an existing problem log to append to.

    Returns:
        :class:`RawFile` whose ``lines`` are ``(line_number, text)`` pairs without
        line terminators, blank lines included (callers decide what they mean).

    Raises:
        DataFormatError: only when the file cannot be opened at all (missing, a directory).
    """
    p = Path(path)
    log = log or ProblemLog(p)
    with _open_data_file(p, "give one file, or use `lexiconlm inspect DIR`") as fh:
        data = fh.read()
    sha = hashlib.sha256(data).hexdigest()
    if not data:
        if not allow_empty:
            log.error(None, "file is empty", "check that the file was written completely")
        return RawFile(p, [], sha, 0, log)

    nul = data.find(b"\x00")
    if nul != -1:
        line_no = data.count(b"\n", 0, nul) + 1
        log.error(
            line_no,
            f"binary data (NUL byte at offset {nul}); this is not a UTF-8 text file",
            "decompress or convert the file to UTF-8 text first",
        )
        return RawFile(p, [], sha, data.count(b"\n"), log)

    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
        log.warning(1, "UTF-8 byte-order mark (BOM) at the start of the file was removed")

    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    body = data[:-1] if data.endswith(b"\n") else data

    try:
        text = body.decode("utf-8")
        lines = list(enumerate(text.split("\n"), start=1))
    except UnicodeDecodeError:
        lines = _decode_lines_slow(body, log)
        text = None

    if b"\r" in body:
        n_crlf = 0
        first = None
        fixed: list[tuple[int, str]] = []
        for i, line in lines:
            if line.endswith("\r"):
                line = line[:-1]
                n_crlf += 1
                first = first or i
            fixed.append((i, line))
        lines = fixed
        if n_crlf:
            log.warning(first, f"{n_crlf} line(s) end with CRLF (Windows line endings); read as LF")

    if nfc and not (text is not None and unicodedata.is_normalized("NFC", text)):
        n_changed = 0
        first = None
        normed: list[tuple[int, str]] = []
        for i, line in lines:
            if not unicodedata.is_normalized("NFC", line):
                line = unicodedata.normalize("NFC", line)
                n_changed += 1
                first = first or i
            normed.append((i, line))
        lines = normed
        if n_changed:
            log.warning(
                first,
                f"{n_changed} line(s) were not in Unicode NFC (e.g. decomposed accents) and were normalised to NFC",
            )
    return RawFile(p, lines, sha, n_lines, log)


def read_head(path: str | os.PathLike, max_lines: int = 50, *, n_bytes: int = 1 << 16, dir_hint: str = "") -> list[str]:
    """The first ``max_lines`` non-blank lines of a file, for telling its format.

    Reads only as far as needed, and at most ``n_bytes``. Never fails on content: a
    BOM is dropped, invalid UTF-8 becomes U+FFFD, CR line ends are removed, and a
    line cut off by the byte limit is left out. Reading the file properly
    (:func:`read_lines`) reports all that.

    Args:
        path: the file.
        max_lines: how many non-blank lines to return at most.
        n_bytes: how much of the file to read at most.
        dir_hint: the remedy given when ``path`` is a directory.

    Returns:
        The lines, without line terminators.

    Raises:
        DataFormatError: the file is missing, a directory or cannot be read.

    Example:
        >>> read_head("data/lexicons/gatitos/en_sw.tsv", 2)  # doctest: +SKIP
        ['journey\\tsafari', 'water\\tmaji']
    """
    size = min(n_bytes, 1 << 13)
    with _open_data_file(Path(path), dir_hint) as fh:
        head = fh.read(size)
        while True:  # read more, up to n_bytes, only while the lines read are too few
            cut = len(head) == size
            lines = head.removeprefix(_UTF8_BOM).decode("utf-8", errors="replace").split("\n")
            if cut:
                lines.pop()
            found = [line.rstrip("\r") for line in lines if line.strip()]
            if not cut or len(found) >= max_lines or size >= n_bytes:
                return found[:max_lines]
            more = min(size, n_bytes - size)
            head += fh.read(more)
            size += more


def preview(line: str, width: int = 60) -> str:
    """``repr`` of a line, shortened with an ellipsis, for error messages that quote it."""
    return repr(line if len(line) <= width else line[: width - 1] + "…")


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator:
    """Write ``path`` atomically: into a temporary file beside it, then ``os.replace``.

    A crash or kill mid-write leaves the old file (or none), never a truncated one.
    The file gets the usual permissions (0666 less the umask), not mkstemp's 0600.

    Raises:
        OutputPathError: ``path`` is an existing folder (checked before anything is written).

    Example:
        >>> with atomic_write(tmp_path / "x.tsv") as fh:  # doctest: +SKIP
        ...     fh.write("a\\tb\\n")
    """
    target = Path(path)
    if target.is_dir():
        raise OutputPathError(
            f"{target} is a folder; the output must be a file (fix: give a file path, e.g. {target / 'out.txt'})"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    binary = "b" in mode
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, mode, **({} if binary else {"encoding": encoding, "newline": ""})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically; returns the path."""
    with atomic_write(path) as fh:
        fh.write(text)
    return Path(path)


def publish_folder(tmp: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Move a fully written temporary folder ``tmp`` to ``out`` (replacing an old one).

    Files and the folder get the usual permissions (0666/0777 less the umask, not
    mkdtemp's 0700). ``out`` is either the old folder or the new one, never half written;
    ``tmp`` must be on the same file system (create it beside ``out``).
    """
    tmp, out = Path(tmp), Path(out)
    umask = os.umask(0)
    os.umask(umask)
    for child in tmp.rglob("*"):
        os.chmod(child, (0o777 if child.is_dir() else 0o666) & ~umask)
    os.chmod(tmp, 0o777 & ~umask)
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        os.replace(out, old / out.name)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)
    _fsync_dir(out.parent)
    return out


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def data_files(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """The files named, and the files of the folders named (sorted; hidden files, ``.md`` and
    ``.json`` left out: provenance notes and metadata beside the data)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                sorted(
                    q
                    for q in p.iterdir()
                    if q.is_file() and not q.name.startswith(".") and q.suffix.lower() not in (".md", ".json")
                )
            )
        elif p.is_file():
            out.append(p)
    return out


# --------------------------------------------------------------------------- run folder lock

#: The lock file of a run folder (hidden: :func:`data_files` and folder listings skip it).
LOCK_NAME = ".lock"

_F = TypeVar("_F", bound=Callable)


class RunFolderBusyError(LexiconLMError):
    """Another live process holds the lock of a run folder."""

    def __init__(self, folder: Path, holder: dict, fix: str = ""):
        self.folder = Path(folder)
        self.holder = dict(holder)
        who = _describe_holder(holder)
        fix = fix or "wait for it to finish, stop it, or give another output folder"
        super().__init__(f"{folder} is in use by {who}; two runs on one folder would corrupt each other (fix: {fix})")


# lock files this process holds: resolved path -> (pid, open file descriptor, depth)
_HELD: dict[str, list] = {}


def _describe_holder(holder: dict) -> str:
    if not holder:
        return "another process (its lock file names no holder)"
    text = f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')}"
    if holder.get("command"):
        text += f" ({holder['command']})"
    if holder.get("started"):
        text += f", since {holder['started']}"
    return text


def _read_holder(fd: int) -> dict:
    """The holder recorded in an open lock file ({} when empty or unreadable)."""
    try:
        raw = os.pread(fd, 1 << 16, 0)
        d = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        return d if isinstance(d, dict) else {}
    except (OSError, ValueError):
        return {}


def _holder_pid(holder: dict) -> int:
    try:
        return int(holder.get("pid") or 0)
    except (TypeError, ValueError):
        return 0


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (a zombie counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by another user
        return True
    except OSError:  # pragma: no cover - e.g. Windows without this pid
        return False
    return True


def _write_holder(fd: int, command: str) -> None:
    record = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": command,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    data = (json.dumps(record) + "\n").encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - e.g. a file system without fsync
        pass


def _say(log: Callable[[str], None] | None, text: str) -> None:
    if log is not None:
        log(text)
    else:
        print(text, file=sys.stderr, flush=True)


def _acquire(folder: Path, command: str, log: Callable[[str], None] | None) -> int:
    """Open and lock ``folder/.lock`` (without waiting); returns its descriptor."""
    lock = folder / LOCK_NAME
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        os_lock = fcntl is not None
        if os_lock:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_holder(fd)
                fix = ""
                here = holder.get("host") == socket.gethostname()
                if here and not _pid_alive(_holder_pid(holder)):
                    fix = (
                        "the holder is no longer running but a process it started (e.g. a "
                        "worker) still holds the folder; wait for it to end or stop it"
                    )
                raise RunFolderBusyError(folder, holder, fix) from None
            except OSError as exc:
                if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                    raise
                os_lock = False  # a file system without locks: the record decides
        old = _read_holder(fd)
        me, here = os.getpid(), socket.gethostname()
        pid = _holder_pid(old)
        if old and not (pid == me and old.get("host") == here):
            same_host = old.get("host") == here
            if not os_lock and (not same_host or _pid_alive(pid)):
                fix = "" if same_host else f"if no such process runs on {old.get('host')}, delete {lock}"
                raise RunFolderBusyError(folder, old, fix)
            if not same_host:
                why = "which no longer holds it (its lock was released)"
            elif _pid_alive(pid):
                why = "whose pid now belongs to another process (its lock was released)"
            else:
                why = "which is no longer running"
            _say(log, f"note: taking over the lock of {folder} left by {_describe_holder(old)}, {why}")
        _write_holder(fd, command)
        return fd
    except BaseException:
        os.close(fd)
        raise


def _release(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)  # an empty lock file: nobody holds the folder
    except OSError:  # pragma: no cover
        pass
    finally:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            except OSError:  # pragma: no cover
                pass
        os.close(fd)


@contextmanager
def run_folder_lock(
    path: str | os.PathLike, command: str = "", *, log: Callable[[str], None] | None = None
) -> Iterator[Path]:
    """Hold a run folder for one process: an advisory lock on ``path/.lock``.

    The lock file records the holder (pid, host, command, start time). A second process
    on a held folder stops at once with :class:`RunFolderBusyError` naming the holder and
    the folder. The operating system releases the lock of a process that dies, so a lock
    file left by a killed run is taken over (a note names the old holder). Where the file
    system has no locks, the record decides: a live pid on this host holds the folder, a
    dead one does not. The same process may take the lock again inside (re-entrant);
    processes of one distributed launch with ``RANK`` > 0 leave it to rank 0.

    Args:
        path: the run folder (created when missing).
        command: what runs, for the message a second process sees (e.g. ``"lexiconlm expand"``).
        log: where the take-over note goes (default: stderr).

    Yields:
        The folder, as a :class:`~pathlib.Path`.

    Raises:
        RunFolderBusyError: another live process holds the folder.

    Example:
        >>> with run_folder_lock("runs/expand/ind-tiny", "lexiconlm expand"):  # doctest: +SKIP
        ...     ...  # the only process working in the folder
    """
    folder = Path(path)
    if os.environ.get("RANK", "0").strip() not in ("", "0"):
        yield folder  # a non-zero rank of a distributed launch: rank 0 holds the folder for all
        return
    folder.mkdir(parents=True, exist_ok=True)
    key = str((folder / LOCK_NAME).resolve())
    held = _HELD.get(key)
    if held is not None and held[0] == os.getpid():
        held[2] += 1
        try:
            yield folder
        finally:
            held[2] -= 1
        return
    fd = _acquire(folder, command, log)
    _HELD[key] = [os.getpid(), fd, 1]
    try:
        yield folder
    finally:
        entry = _HELD.pop(key, None)
        if entry is not None and entry[0] == os.getpid():
            _release(fd)


_LOCK_SCOPE: ContextVar[ExitStack | None] = ContextVar("lexiconlm_run_folder_locks", default=None)


def holds_run_folder_locks(fn: _F) -> _F:
    """Decorator: the folders ``fn`` locks with :func:`hold_run_folder` are released when it ends.

    For an entry function that computes its run folder part-way through, so that one line
    takes the lock where the folder is known and the body keeps its indentation.

    Example:
        >>> @holds_run_folder_locks  # doctest: +SKIP
        ... def run(config, *, out_dir):
        ...     out = hold_run_folder(resolve(out_dir), "lexiconlm x run")
        ...     ...
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with ExitStack() as stack:
            token = _LOCK_SCOPE.set(stack)
            try:
                return fn(*args, **kwargs)
            finally:
                _LOCK_SCOPE.reset(token)

    return wrapper  # type: ignore[return-value]


def hold_run_folder(path: str | os.PathLike, command: str = "", *, log: Callable[[str], None] | None = None) -> Path:
    """Lock a run folder (:func:`run_folder_lock`) until the enclosing
    :func:`holds_run_folder_locks` function returns or raises; returns the folder.

    Raises:
        RunFolderBusyError: another live process holds the folder.
        RuntimeError: called outside a function decorated with :func:`holds_run_folder_locks`.
    """
    stack = _LOCK_SCOPE.get()
    if stack is None:
        raise RuntimeError(
            "hold_run_folder() is called inside a function decorated with "
            "@holds_run_folder_locks (or use `with run_folder_lock(path):`)"
        )
    return stack.enter_context(run_folder_lock(path, command, log=log))
