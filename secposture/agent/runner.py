"""One run of the agent's job for one agency: under the sweep lock, recorded from start to end.

Used by the scheduler and by ``agent run --once``. A run that cannot start because another
sweep of the agency holds the lock is recorded as ``busy``; a run stopped by a signal is
recorded as ``interrupted``; a job that raises is recorded as ``error``. The job itself never
writes a run record, so every way a run can end is recorded here, once.
"""

from __future__ import annotations

import logging
import threading

from secposture.agent.chain import Job, RunContext, SweepInterrupted
from secposture.agent.locks import LockBusy, hold
from secposture.agent.log import event, one_line
from secposture.agent.paths import runs_file, sweep_lock_file
from secposture.agent.runs import RunLog, RunRecord, RunStatus, RunTrigger, new_record
from secposture.config.sections import AgencyConfig
from secposture.model import exitcodes
from secposture.model.records import utcnow

STALE = "the process running this sweep ended before it finished (killed or power lost)"
STOPPED = "stopped by a signal before the sweep finished; nothing of it was stored"
STOPPED_BEFORE_START = "the agent was stopping when this run was due; it did not start"

_STATUS_FOR_CODE = {
    exitcodes.OK: RunStatus.OK,
    exitcodes.FINDINGS: RunStatus.OK,
    exitcodes.INCOMPLETE: RunStatus.INCOMPLETE,
}


def _exit_code_for(exc: Exception) -> int:
    from scanners.netns import NetnsGuardError

    return exitcodes.ENVIRONMENT if isinstance(exc, NetnsGuardError) else exitcodes.INCOMPLETE


class Runner:
    """Runs ``job`` for ``config``; one at a time in this process, and across processes."""

    def __init__(self, config: AgencyConfig, job: Job, stop: threading.Event) -> None:
        self.config = config
        self.job = job
        self.stop = stop
        self.runs = RunLog(runs_file(config))
        self._active: RunRecord | None = None
        self._idle = threading.Event()
        self._idle.set()

    def run(self, trigger: RunTrigger) -> RunRecord:
        """Run the job once now and return its finished record; never raises for the job."""
        agency = self.config.agency.id
        try:
            with hold(sweep_lock_file(self.config)):
                self.recover()
                if self.stop.is_set():
                    return self.runs.add(
                        new_record(
                            agency,
                            trigger,
                            RunStatus.INTERRUPTED,
                            exit_code=exitcodes.INCOMPLETE,
                            error=STOPPED_BEFORE_START,
                        )
                    )
                return self._run_locked(trigger)
        except LockBusy as busy:
            record = self.runs.add(
                new_record(
                    agency,
                    trigger,
                    RunStatus.BUSY,
                    finished=utcnow(),
                    exit_code=exitcodes.ENVIRONMENT,
                    error=f"another sweep of {agency} is running "
                    f"(pid {busy.holder or 'unknown'}); this one did not start",
                )
            )
            event(
                "run_busy",
                logging.WARNING,
                agency=agency,
                run_id=record.run_id,
                trigger=trigger.value,
                holder=busy.holder,
            )
            return record

    def recover_if_free(self) -> None:
        """Recover stale records unless a sweep is running now (then it owns the record)."""
        try:
            with hold(sweep_lock_file(self.config)):
                self.recover()
        except LockBusy:
            pass

    def recover(self) -> None:
        """Mark runs a dead process left ``running`` as interrupted; call under the lock."""
        for stale in self.runs.recover_stale(STALE):
            event(
                "run_recovered",
                logging.WARNING,
                run_id=stale.run_id,
                status=RunStatus.INTERRUPTED.value,
                started=stale.started,
            )

    def _run_locked(self, trigger: RunTrigger) -> RunRecord:
        record = self.runs.add(new_record(self.config.agency.id, trigger))
        self._active = record
        self._idle.clear()
        event("run_started", run_id=record.run_id, agency=record.agency_id, trigger=trigger.value)
        try:
            finished = self._call(record)
        finally:
            self._active = None
            self._idle.set()
        if finished is None:  # abandon() closed it first, while this thread was stopping
            return next((r for r in self.runs.records() if r.run_id == record.run_id), record)
        _log_finished(finished)
        return finished

    def _call(self, record: RunRecord) -> RunRecord | None:
        try:
            result = self.job(self.config, RunContext(self.stop))
        except SweepInterrupted:
            return self.runs.finish(
                record.run_id,
                RunStatus.INTERRUPTED,
                exit_code=exitcodes.INCOMPLETE,
                error=STOPPED,
            )
        except Exception as exc:  # recorded and logged; the schedule goes on
            return self.runs.finish(
                record.run_id,
                RunStatus.ERROR,
                exit_code=_exit_code_for(exc),
                error=one_line(exc),
            )
        return self.runs.finish(
            record.run_id,
            _STATUS_FOR_CODE.get(result.exit_code, RunStatus.ERROR),
            exit_code=result.exit_code,
            sweep_id=result.sweep_id,
            error=result.note,
        )

    def wait_idle(self, timeout_s: float) -> bool:
        """True once no run is in flight (at once when none is); False on timeout."""
        return self._idle.wait(timeout_s)

    def abandon(self, reason: str) -> RunRecord | None:
        """Record the run in flight as interrupted without waiting for it (forced exit)."""
        active = self._active
        if active is None:
            return None
        closed = self.runs.finish(
            active.run_id, RunStatus.INTERRUPTED, exit_code=exitcodes.INCOMPLETE, error=reason
        )
        if closed is not None:
            _log_finished(closed)
        return closed


def _log_finished(record: RunRecord) -> None:
    event(
        "run_finished",
        logging.INFO if record.status is RunStatus.OK else logging.WARNING,
        run_id=record.run_id,
        status=record.status.value,
        exit_code=record.exit_code,
        duration_s=record.duration_s,
        sweep_id=record.sweep_id,
        error=record.error,
    )
