"""What every file format here shares: atomic writes and the error for a file that cannot be read.

A save writes a temporary file `.tmp-shendu-<pid>-<random>-<name>` beside its target and renames it over the
target. A SIGTERM during the save removes it (when the program has no SIGTERM handler of its own); what a kill -9
leaves is swept by the next save of the same target.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

STALE_AFTER_S = 300.0  # a temporary file nobody wrote to for this long belongs to no running save
_OURS = re.compile(r"\.tmp-shendu-(?P<pid>[0-9]+)-[0-9a-f]{12}-(?P<name>.+)\Z", re.S)
_LEGACY = re.compile(r"\.tmp-[a-z0-9_]{8}(?P<name>.+)\Z", re.S)  # tempfile.mkstemp's names (earlier versions)
_NAME_MAX = 200  # the part of the target's name kept in the temporary name (file names stop at 255 bytes)


class ModelFileError(ValueError):
    """A model or weights file that cannot be read: corrupted, truncated, or not a shendu file."""


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path beside `path`; on success rename it over `path`, else remove it.

    A crash or an error while writing never leaves half a file behind, and the old file stays until the rename.
    The file gets the mode a plain open() gives (the umask applies), or keeps the mode of the file it replaces.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    sweep_stale_temp_files(path)
    tmp, fresh_mode = _create_temp(folder, os.path.basename(path))
    _TERM.enter(tmp)
    try:
        yield tmp
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = fresh_mode
        os.chmod(tmp, mode)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        _remove_quietly(tmp)
        raise
    finally:
        _TERM.leave(tmp)


def sweep_stale_temp_files(path: str | os.PathLike[str]) -> list[str]:
    """Remove the temporary files that interrupted saves of `path` left beside it; returns the paths removed.

    Only files named as shendu names them for this very target go: those of a process that is no longer running,
    and any not written to for STALE_AFTER_S seconds.
    """
    path = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(path)
    now = time.time()
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        ours = _OURS.match(entry.name)
        if ours and ours["name"] == name[:_NAME_MAX]:
            dead = not _running(int(ours["pid"]))
        elif (legacy := _LEGACY.match(entry.name)) and legacy["name"] == name:
            dead = False
        else:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        stale = stat.S_ISREG(info.st_mode) and (dead or now - info.st_mtime > STALE_AFTER_S)
        if stale and _remove_quietly(entry.path):
            removed.append(entry.path)
    return removed


def _create_temp(folder: str, name: str) -> tuple[str, int]:
    """A new empty temporary file for `name` in folder, and the mode it got (0o666 less the umask)."""
    while True:
        tmp = os.path.join(folder, f".tmp-shendu-{os.getpid()}-{secrets.token_hex(6)}-{name[:_NAME_MAX]}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        try:
            return tmp, stat.S_IMODE(os.fstat(fd).st_mode)
        finally:
            os.close(fd)


def _running(pid: int) -> bool:
    """Whether process pid runs here; True where that cannot be told (then only the file's age counts)."""
    if pid <= 0 or pid == os.getpid() or os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _remove_quietly(path: str) -> bool:
    try:
        os.remove(path)
        return True
    except OSError:
        return False


class _TermCleanup:
    """While saves run, a SIGTERM removes their temporary files, then ends the process as SIGTERM would have.

    The handler is installed only from the main thread and only where SIGTERM has its default action: a program
    that handles SIGTERM itself keeps its handler (its exit then runs atomic_write's cleanup).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active: set[str] = set()

    def enter(self, tmp: str) -> None:
        with self.lock:
            self.active.add(tmp)
            if _on_main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
                signal.signal(signal.SIGTERM, self.handle)

    def leave(self, tmp: str) -> None:
        with self.lock:
            self.active.discard(tmp)
            if not self.active and _on_main_thread() and signal.getsignal(signal.SIGTERM) == self.handle:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)

    def handle(self, signum: int, frame: Any) -> None:
        for tmp in list(self.active):
            _remove_quietly(tmp)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


_TERM = _TermCleanup()
