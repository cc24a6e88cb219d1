"""What every scanner stage of one sweep shares: scope, profile, privileges, time and processes.

The sweep's time limit is enforced here, not only between stages: every external process a
stage starts gets at most the time left, and when the sweep is stopped (deadline, SIGTERM via
the progress checkpoint) the processes still running are killed, so nothing outlives it.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field

from scanners.probes.budget import ProbeBudget
from scanners.scope import Scope


class Stopped(RuntimeError):
    """The sweep was stopped; a stage asked to start a process after that."""


@dataclass(slots=True)
class ProcessOutput:
    """How an external process ended: its exit code and what it printed."""

    returncode: int
    stdout: str
    stderr: str


class Processes:
    """The external processes (nmap) of one sweep, so that a stop can kill them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[str]] = set()
        self.stopped = False

    def run(self, argv: list[str], *, timeout_s: float) -> ProcessOutput:
        """Run ``argv`` to completion or kill it after ``timeout_s`` (``TimeoutExpired``)."""
        with self._lock:
            if self.stopped:
                raise Stopped("the sweep was stopped")
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
            )
            self._live.add(proc)
        try:
            out, err = proc.communicate(timeout=max(timeout_s, 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
        finally:
            with self._lock:
                self._live.discard(proc)
        if self.stopped and proc.returncode < 0:
            raise Stopped("the sweep was stopped")
        return ProcessOutput(proc.returncode, out, err)

    def stop(self) -> None:
        """Refuse new processes and kill the running ones."""
        with self._lock:
            self.stopped = True
            live = list(self._live)
        for proc in live:
            if proc.poll() is None:
                proc.kill()


@dataclass(slots=True)
class ScanContext:
    """Shared by every stage of one sweep."""

    scope: Scope
    profile: str
    host_timeout_s: int = 300
    deadline: float = field(default_factory=lambda: time.monotonic() + 4 * 3600)
    privileged: bool = field(default_factory=lambda: os.geteuid() == 0)
    procs: Processes = field(default_factory=Processes)
    probes: ProbeBudget = field(default_factory=ProbeBudget)  # every direct probe's caps

    def remaining(self) -> float:
        """Seconds left before the sweep's time limit."""
        return self.deadline - time.monotonic()

    def limit(self, seconds: float) -> float:
        """``seconds``, or less when the sweep's time limit comes first."""
        return max(0.0, min(seconds, self.remaining()))
