"""How every scanner stage says how it ended: the attempt, and the one place exceptions
become reasons.

After sslyze's ``scan_command_attempt``: a stage never raises for trouble on the network or
with a tool; it returns an :class:`~secposture.model.records.Attempt` whose reason comes from
the closed set :class:`~secposture.model.records.Reason`. :func:`reason_for` is where an
exception a stage caught is sorted into that set; the builders below give every attempt the
same shape (stage, target, status, reason, detail, start time, duration).
"""

from __future__ import annotations

import subprocess
import time
import traceback
from dataclasses import dataclass, field, replace
from datetime import datetime

from scanners.context import Stopped
from secposture.model.records import Attempt, AttemptStatus, Reason, utcnow


class ParseError(Exception):
    """A tool's output could not be read (the stage ends with ``parse_error``)."""


@dataclass(frozen=True, slots=True)
class Clock:
    """When a stage began: the start time and duration of the attempts it ends with."""

    started: datetime = field(default_factory=utcnow)
    t0: float = field(default_factory=time.monotonic)
    took: float | None = None

    def elapsed(self) -> float:
        """Seconds since the stage began (to the millisecond), or the frozen duration."""
        return self.took if self.took is not None else round(time.monotonic() - self.t0, 3)

    def stop(self) -> Clock:
        """This clock, read now and frozen: the attempts of one run then share one duration."""
        return replace(self, took=self.elapsed())


def reason_for(exc: BaseException, *, starting_tool: bool = False) -> Reason:
    """The closed-set reason for an exception a stage caught.

    ``starting_tool``: the exception came from starting an external program, where any
    ``OSError`` (not found, not executable) means the tool cannot be used."""
    if isinstance(exc, Stopped):
        return Reason.INTERRUPTED
    if isinstance(exc, subprocess.TimeoutExpired):
        return Reason.TIMEOUT
    if isinstance(exc, ParseError):
        return Reason.PARSE_ERROR
    if isinstance(exc, OSError):
        if starting_tool:
            return Reason.TOOL_MISSING
        # A raw socket refused to an unprivileged user, not a host that cannot be reached.
        if isinstance(exc, PermissionError):
            return Reason.PRIVILEGE_REQUIRED
        return Reason.UNREACHABLE
    return Reason.BUG


def nmap_exit_reason(stderr: str) -> Reason:
    """Why nmap exited non-zero: it says "root privileges" when a scan type needs them."""
    return Reason.PRIVILEGE_REQUIRED if "root privileges" in stderr else Reason.BUG


def _attempt(
    stage: str,
    target: str,
    status: AttemptStatus,
    reason: Reason | None,
    detail: str,
    clock: Clock | None,
) -> Attempt:
    if clock is None:  # not timed: the stage did nothing worth a duration (or was not run)
        return Attempt(stage=stage, target=target, status=status, reason=reason, detail=detail)
    return Attempt(
        stage=stage,
        target=target,
        status=status,
        reason=reason,
        detail=detail,
        started=clock.started,
        duration_s=clock.elapsed(),
    )


def completed(stage: str, target: str, detail: str = "", *, clock: Clock | None = None) -> Attempt:
    """The attempt of a stage that ran to its end; timed when ``clock`` is given."""
    return _attempt(stage, target, AttemptStatus.COMPLETED, None, detail, clock)


def failed(
    stage: str, target: str, reason: Reason, detail: str, *, clock: Clock | None = None
) -> Attempt:
    """The attempt of a stage that could not complete; timed when ``clock`` is given."""
    return _attempt(stage, target, AttemptStatus.ERROR, reason, detail, clock)


def skipped(stage: str, target: str, reason: Reason, detail: str) -> Attempt:
    """The attempt of a stage that was not run, and why (nothing was sent)."""
    return _attempt(stage, target, AttemptStatus.SKIPPED, reason, detail, None)


def bug(stage: str, target: str, exc: BaseException) -> Attempt:
    """A stage that raised where it should not have: a bug, kept with the end of its trace."""
    trace = "".join(traceback.format_exception(exc, limit=3))[-400:]
    return failed(stage, target, Reason.BUG, f"{exc!r}: {trace}")
