"""A benchmark's measured part run in a fresh child process, so its peak memory is its own.

The script starts itself again as ``script --child ARG…``; the child measures, prints one JSON
object and exits. Peak memory is read from VmHWM, not ru_maxrss: Linux carries a parent's
peak into the child across fork and exec.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_child(script: str, *args: str) -> dict[str, Any] | None:
    """Run ``script --child ARG…`` and return the JSON it printed; None (its errors printed)
    when it failed."""
    proc = subprocess.run(
        [sys.executable, script, "--child", *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return None
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def main_or_child(main: Callable[[], int], child: Callable[..., None]) -> None:
    """The script's entry point: ``child(ARG…)`` when started with ``--child``, else ``main()``."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:])
    else:
        sys.exit(main())
