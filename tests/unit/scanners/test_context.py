"""The sweep's processes: a stop kills the running ones and refuses new ones."""

from __future__ import annotations

import signal
import subprocess
import threading
from typing import Any

import pytest

from scanners import context
from scanners.context import Processes, Stopped


def test_a_stop_kills_a_running_process() -> None:
    # Given a process that is certainly running (Popen has returned inside the lock)
    procs = Processes()
    started = threading.Event()
    spawned: list[subprocess.Popen[str]] = []
    real_popen = subprocess.Popen

    def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[str]:
        proc: subprocess.Popen[str] = real_popen(*args, **kwargs)
        spawned.append(proc)
        started.set()
        return proc

    errors: list[BaseException] = []

    def long_run() -> None:
        try:
            procs.run(["sleep", "30"], timeout_s=60)
        except BaseException as exc:  # whatever it is, the test reads it
            errors.append(exc)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(context.subprocess, "Popen", popen)
        worker = threading.Thread(target=long_run)
        worker.start()
        assert started.wait(timeout=30)
    # When the sweep is stopped
    procs.stop()
    worker.join(timeout=30)
    # Then that process was killed, and its caller was told the sweep was stopped
    assert not worker.is_alive()
    assert spawned[0].returncode == -signal.SIGKILL
    assert len(errors) == 1 and isinstance(errors[0], Stopped)


def test_a_stopped_sweep_starts_no_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a stopped sweep
    procs = Processes()
    procs.stop()

    def popen(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a process was started after the stop")

    monkeypatch.setattr(context.subprocess, "Popen", popen)
    # When a stage asks for a process, then it is refused before anything starts
    with pytest.raises(Stopped):
        procs.run(["true"], timeout_s=5)
