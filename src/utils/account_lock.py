"""One process per account: an exclusive advisory lock on a data directory.

Two processes on one data directory corrupt it: two replays double the journal, the start-up
cleanup of one (``remove_stale_temp_files``) deletes the other's in-flight temporary files, and a
replay plus a ``--once`` lose fills (the last writer of the paper account wins). So whoever reads
or writes a data directory first takes ``AccountLock(data_dir)``: an exclusive, non-blocking
``fcntl.flock`` on ``<data_dir>/.lock``. A second process gets ``AccountLockedError`` at once,
naming the directory and the holder's pid (the holder writes its pid into the lock file).

Why ``fcntl.flock`` from the standard library, not a third-party lock:

- the targets are Linux and macOS, where ``flock`` is all that is needed (on Linux over NFS the
  kernel emulates it with POSIX byte-range locks); Windows is not a target (no ``fcntl``);
- the kernel releases the lock when the holder's last descriptor closes, which includes the
  process dying by any means, even SIGKILL, so there is never a stale lock to detect or break:
  the lock file may stay on disk, but nobody holds it;
- ``filelock`` is not a dependency of this project (it is on PyPI, but neither in
  requirements.txt nor installed in the project's virtualenv). It would add a pinned dependency
  for about fifty lines, its Unix lock is this same ``fcntl.flock``, and it does not do what we
  need on top: its Unix lock opens the lock file with ``O_TRUNC``, so a contender would wipe the
  pid the holder wrote, and its failure (a timeout) does not say who holds the lock.

Within one process the lock is re-entrant per directory: the agent and the replay runner both
take it, and tests create several agents on one directory in turn. ``flock`` itself is not
re-entrant across two ``open()`` of one file (two open file descriptions conflict even in one
process), so the process keeps one descriptor per directory and a count of holders; the file is
unlocked when the count drops to zero. An ``AccountLock`` that is garbage-collected while held
releases its share (so an agent dropped without ``close()`` does not pin the directory), and a
forked child does not inherit the parent's holds.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import weakref
from pathlib import Path
from typing import Optional

from src.errors import AccountLockedError

LOCK_NAME = ".lock"

# realpath of a locked directory -> [descriptor of its lock file, number of holders]
_held: dict[str, list[int]] = {}
_guard = threading.Lock()


def _forget_inherited() -> None:
    """In a forked child: close the inherited descriptors without unlocking (the parent still
    holds the lock through the same open file description) and hold nothing."""
    for fd, _ in _held.values():
        try:
            os.close(fd)
        except OSError:
            pass
    _held.clear()


os.register_at_fork(after_in_child=_forget_inherited)


def _drop(key: str) -> None:
    """Give up one hold on ``key``; the last one clears the pid and unlocks (by closing)."""
    with _guard:
        entry = _held.get(key)
        if entry is None:  # a forked child's leftover, or already gone
            return
        entry[1] -= 1
        if entry[1] > 0:
            return
        del _held[key]
        fd = entry[0]
        try:
            os.ftruncate(fd, 0)  # the pid is only meaningful while the lock is held
        except OSError:
            pass
        os.close(fd)  # closing the last descriptor releases the flock


def _read_holder(fd: int) -> Optional[int]:
    """The holder's pid from the lock file; it writes it just after locking, so wait briefly."""
    deadline = time.monotonic() + 0.5
    while True:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        if text.isdigit():
            return int(text)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.01)


class AccountLock:
    """Exclusive hold of a data directory by this process; re-entrant within the process.

    Use it as ``with AccountLock(data_dir): ...`` or ``lock = AccountLock(data_dir).acquire()``
    ... ``lock.release()``.

    Raises ``AccountLockedError`` (from ``acquire``) when another process holds the directory,
    and ``OSError`` when the directory cannot be created or the lock file cannot be opened.
    """

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / LOCK_NAME
        self._release: Optional[weakref.finalize] = None

    @property
    def held(self) -> bool:
        """Whether this object holds (a share of) the lock."""
        return self._release is not None and self._release.alive

    def acquire(self) -> "AccountLock":
        """Take the lock (creating the directory if needed); returns self. Idempotent per object."""
        if self.held:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = os.path.realpath(self.data_dir)
        with _guard:
            entry = _held.get(key)
            if entry is None:
                fd = os.open(os.path.join(key, LOCK_NAME), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    holder = _read_holder(fd)
                    os.close(fd)
                    raise AccountLockedError(self.data_dir, holder) from None
                except BaseException:
                    os.close(fd)
                    raise
                try:
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
                except BaseException:
                    os.close(fd)
                    raise
                entry = _held[key] = [fd, 0]
            entry[1] += 1
        self._release = weakref.finalize(self, _drop, key)
        return self

    def release(self) -> None:
        """Give up this object's hold (no-op if it holds none); the process's last hold unlocks."""
        if self._release is not None:
            self._release()  # runs _drop at most once
            self._release = None

    def __enter__(self) -> "AccountLock":
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"AccountLock({str(self.data_dir)!r}, held={self.held})"
