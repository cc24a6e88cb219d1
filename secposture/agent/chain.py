"""The agent's job: sweep → inventory → report (``pipeline.run_job``) → post-sweep hooks.

The job is named by an import path so that tests can stand in a short job for a sweep that
takes a minute; the agent itself only ever needs :func:`sweep_report_push`.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from secposture.agent.hooks import run_hooks
from secposture.agent.log import event
from secposture.config.sections import AgencyConfig
from secposture.model import exitcodes

DEFAULT_JOB = "secposture.agent.chain:sweep_report_push"
QUIET_STAGES = frozenset({"scanning"})


class SweepInterrupted(Exception):
    """A stop was asked for; raised at a safe point, before anything new is stored."""


@dataclass(frozen=True, slots=True)
class ChainResult:
    """How a job ended: its exit code, the sweep it stored, problems after storing it."""

    exit_code: int  # exitcodes.OK or exitcodes.INCOMPLETE
    sweep_id: str | None = None
    # Post-sweep problems that did not undo the sweep (a failed bundle push), for the record.
    note: str | None = None


class RunContext:
    """What a job gets besides the config: progress reporting with stop checkpoints."""

    def __init__(self, stop: threading.Event) -> None:
        self._stop = stop

    @property
    def stop_requested(self) -> bool:
        """True once the agent has been asked to stop."""
        return self._stop.is_set()

    def checkpoint(self) -> None:
        """Raise :class:`SweepInterrupted` if the agent is stopping."""
        if self._stop.is_set():
            raise SweepInterrupted("stop requested")

    def progress(self, stage: str, data: dict[str, object]) -> None:
        """The sweep's progress callback: log it, then honour a pending stop."""
        # Periodic ticks are checkpoints too, but would flood the journal at info level.
        level = logging.DEBUG if stage in QUIET_STAGES else logging.INFO
        fields = {"stage": stage, **{k: v for k, v in data.items() if k != "stage"}}
        event("sweep_progress", level, **fields)
        self.checkpoint()

    def sleep(self, seconds: float) -> None:
        """Wait, waking at once (and raising) when a stop is asked for."""
        self._stop.wait(seconds)
        self.checkpoint()


Job = Callable[[AgencyConfig, RunContext], ChainResult]


def load_job(ref: str) -> Job:
    """The callable named ``module:function``; ValueError saying why when it cannot be."""
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise ValueError(f"job {ref!r} must look like 'package.module:function'")
    try:
        func = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"job {ref!r} cannot be imported: {exc}") from None
    if not callable(func):
        raise ValueError(f"job {ref!r} is not callable")
    job: Job = func
    return job


def sweep_report_push(config: AgencyConfig, run: RunContext) -> ChainResult:
    """Sweep the LAN, store and report it, then run the post-sweep hooks (bundle push)."""
    from secposture.job.pipeline import run_job

    # The progress callback is the stop checkpoint: a stop before the sweep's end leaves the
    # store and report as they were; once stored, the run is finished, hooks included.
    job = run_job(config, progress=run.progress)
    failures = run_hooks(config, job)
    return ChainResult(
        exitcodes.OK if job.sweep.complete else exitcodes.INCOMPLETE,
        job.sweep.sweep_id,
        "; ".join(failures) or None,
    )
