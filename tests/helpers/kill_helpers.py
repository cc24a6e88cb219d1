"""A child process killed with SIGKILL at a random moment, for the crash-safety tests."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from paths import child_env


@dataclass(frozen=True)
class Killed:
    ready: bool  # the child said "ready" before the kill
    returncode: int
    out: str  # what it printed after "ready"
    err: str


def kill_at_random(script: str, args: list[str], rng: random.Random, most_s: float) -> Killed:
    """Run ``script args`` (tests/unit on its path), wait for its "ready" line, then SIGKILL
    it after a random delay of up to ``most_s`` seconds."""
    proc = subprocess.Popen(
        [sys.executable, script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
    )
    assert proc.stdout is not None
    ready = proc.stdout.readline().strip() == "ready"
    if ready:
        time.sleep(rng.uniform(0.0, most_s))
        proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate()
    return Killed(ready, proc.returncode, out, err)
