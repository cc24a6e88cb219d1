"""This machine's processes as /proc shows them: who a pid is, and which pids are our children."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (state) on, or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses; the fields after it do not.
    return stat.rsplit(")", 1)[-1].split()


def start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks: with the pid it names one process, not reuse."""
    fields = stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None


def children(pid: int) -> list[int]:
    """Pids whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = stat_fields(int(entry.name))
            if fields and len(fields) > 1 and fields[1] == str(pid):
                found.append(int(entry.name))
    return found


def terminate_children() -> list[int]:
    """SIGTERM every child of this process (the scanners of a sweep); returns their pids."""
    pids = children(os.getpid())
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    return pids
