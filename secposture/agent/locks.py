"""Advisory file locks that say who holds them: never two sweeps of one agency at once.

``flock`` is released by the kernel when its holder dies, so a crash never leaves a lock
behind. The holder's pid is written into the file so that a refused process (and ``agent
status``) can say who holds it without ever taking the lock itself: a status query taken at
the moment a sweep is due must not make that sweep find the lock busy.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from secposture.agent.procs import start_ticks


class LockBusy(Exception):
    """Another live process holds the lock."""

    def __init__(self, path: Path, holder: int | None) -> None:
        self.path = path
        self.holder = holder
        who = f"pid {holder}" if holder else "another process"
        super().__init__(f"{path} is held by {who}")


def holder(path: Path) -> int | None:
    """The pid that holds the lock at ``path`` now, or None; reads, never locks."""
    try:
        pid_text, _, ticks = path.read_text().strip().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    return pid if ticks and start_ticks(pid) == ticks else None


@contextlib.contextmanager
def hold(path: Path) -> Iterator[None]:
    """Take the lock at once or raise :class:`LockBusy`; release it on leaving."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # os.open's descriptors are not inherited, so nmap children never keep the lock alive.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise LockBusy(path, holder(path)) from None
    try:
        pid = os.getpid()
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{pid} {start_ticks(pid)}\n".encode(), 0)
        yield
    finally:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
