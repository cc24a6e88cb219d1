"""The lab's process and ``ip`` helpers: run ``ip``, tell a live process from a reused pid,
find every process inside a set of namespaces, and stop processes with a short grace."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from secposture.lab.state import LabError

_TERM_GRACE_S = 0.5
_KILL_GRACE_S = 1.5


def require_root() -> None:
    """``LabError`` unless this process runs as root (namespaces need it)."""
    if os.geteuid() != 0:
        raise LabError("lab needs root")


def run_ip(args: Sequence[str], *, stdin: str | None = None) -> None:
    """Run ``ip ARGS``; ``LabError`` with its message when it fails."""
    result = subprocess.run(["ip", *args], input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise LabError(f"`ip {' '.join(args)}` failed: {detail}")


def ip_batch(netns: str | None, lines: Sequence[str]) -> None:
    """Run several ``ip`` commands in one process, inside ``netns`` when given."""
    if lines:
        run_ip([*(["-n", netns] if netns else []), "-batch", "-"], stdin="\n".join(lines) + "\n")


def _proc_stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # The command name may hold spaces and parentheses; the fields after the last ')' do not.
    return raw.rpartition(")")[2].split()


def process_start_ticks(pid: int) -> int | None:
    """Start time of a process in clock ticks since boot (tells a reused pid apart)."""
    fields = _proc_stat_fields(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def _alive(pid: int) -> bool:
    # Reap it first if it is our own child, or it would linger as a zombie.
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    fields = _proc_stat_fields(pid)
    return fields is not None and bool(fields) and fields[0] not in {"Z", "X"}


def pid_alive(pid: int, start_ticks: int | None = None) -> bool:
    """True while ``pid`` runs (and, given ``start_ticks``, is still the same process)."""
    if not _alive(pid):
        return False
    return start_ticks is None or process_start_ticks(pid) == start_ticks


def pids_in_netns(inodes: set[int]) -> set[int]:
    """Processes whose network namespace is one of ``inodes`` (like ``ip netns pids``)."""
    found: set[int] = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            link = os.readlink(f"/proc/{entry.name}/ns/net")  # "net:[4026532301]"
        except OSError:
            continue
        if int(link[5:-1]) in inodes:
            found.add(int(entry.name))
    found.discard(os.getpid())
    return found


def terminate(pids: set[int]) -> None:
    """SIGTERM, a short grace, then SIGKILL; returns when all are gone (or after the grace)."""
    for sig, grace in ((signal.SIGTERM, _TERM_GRACE_S), (signal.SIGKILL, _KILL_GRACE_S)):
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while True:
            pids = {pid for pid in pids if _alive(pid)}
            if not pids or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        if not pids:
            return
