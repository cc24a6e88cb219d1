"""SIGTERM and SIGINT as a clean stop.

On the first signal the run in flight is asked to stop at its next safe point (the sweep's
progress checkpoints, all before anything is stored) and nothing new starts. If it has not
stopped within the stop timeout, or a second signal comes, the run is recorded as
``interrupted`` and the process exits at once: every store the agent and the sweep write is
replaced atomically, so an exit at any moment leaves each one readable, old or new.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from secposture.agent.log import LOGGER, event
from secposture.agent.procs import terminate_children
from secposture.agent.runner import Runner


def _nothing() -> None:
    pass


class Stopper:
    """Signal handling for one process that runs sweeps through ``runner``."""

    def __init__(
        self,
        runner: Runner,
        *,
        timeout_s: float,
        forced_exit_code: int,
        before_wait: Callable[[], None] = _nothing,
        after_idle: Callable[[], None] = _nothing,
    ) -> None:
        self.runner = runner
        self.timeout_s = timeout_s
        self.forced_exit_code = forced_exit_code
        self.before_wait = before_wait
        self.after_idle = after_idle

    def install(self) -> None:
        """Handle SIGTERM (systemd's stop) and SIGINT (Ctrl-C); call from the main thread."""
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.runner.stop.is_set():
            self._force(f"stopped by a second {name} before the sweep finished")
            return
        self.runner.stop.set()
        event("stop_requested", signal=name, timeout_s=self.timeout_s)
        # The handler only flags the stop; waiting happens in a thread, so the scheduler's
        # loop in the main thread is never re-entered from a signal handler.
        threading.Thread(target=self._wait_then_stop, name="stopper", daemon=True).start()

    def _wait_then_stop(self) -> None:
        self.before_wait()
        if self._reached_safe_point():
            self.after_idle()
            return
        self._force(
            f"the sweep did not reach a safe point within {self.timeout_s:g} s of the stop "
            "signal; nothing of it was stored"
        )

    def _reached_safe_point(self) -> bool:
        deadline = time.monotonic() + self.timeout_s
        stopped: set[int] = set()
        while not self.runner.wait_idle(min(0.5, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                return False
            # A scan can run for minutes and its end is the sweep's next safe point, so the
            # scanners this process started (nmap) are stopped too, as systemd would do.
            new = set(terminate_children()) - stopped
            if new:
                event("scanners_stopped", pids=",".join(map(str, sorted(new))))
                stopped |= new
        return True

    def _force(self, reason: str) -> None:
        if self.runner.abandon(reason) is None:
            # The run ended by itself meanwhile: a normal stop after all.
            self.after_idle()
            return
        event("agent_exit", logging.WARNING, forced=True, exit_code=self.forced_exit_code)
        for handler in logging.getLogger(LOGGER).handlers:
            handler.flush()
        # The job thread cannot be cancelled; leaving without joining it is the point.
        os._exit(self.forced_exit_code)
