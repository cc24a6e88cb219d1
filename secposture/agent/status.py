"""What ``secposture agent status`` shows: last run, next run, outbox, last error.

Read-only: it takes no lock (a status query at the moment a sweep is due must not make that
sweep find the agency busy) and opens the job store read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from secposture.agent.locks import holder

if TYPE_CHECKING:
    from secposture.bundle.outbox import Pending
from secposture.agent.paths import (
    agent_lock_file,
    runs_file,
    sweep_lock_file,
)
from secposture.agent.runner import STALE
from secposture.agent.runs import RunLog, RunRecord, RunStatus
from secposture.agent.scheduler import describe, stored_next_run
from secposture.config.sections import AgencyConfig


@dataclass(frozen=True, slots=True)
class AgentStatus:
    """What ``agent status`` shows."""

    agency_id: str
    timezone: str
    schedule: str
    agent_pid: int | None  # the running `agent run`, if any
    running: RunRecord | None  # a sweep in flight now
    last_run: RunRecord | None  # the latest run that ended, whatever its result
    last_error: RunRecord | None  # the latest run that ended with an error line
    next_run: datetime | None  # in the agency's time zone
    next_run_overdue: bool  # the job store's fire time has passed (agent down)
    outbox: int | None  # bundles waiting; None when the config has no [bundle] section
    outbox_dir: Path | None
    # Issue #17: each waiting bundle, why it is still there and when the agent tries again
    waiting: tuple[Pending, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The status for ``--json``: times in ISO 8601, durations in seconds."""

        def run(r: RunRecord | None) -> dict[str, Any] | None:
            if r is None:
                return None
            return {**r.model_dump(mode="json"), "duration_s": r.duration_s}

        return {
            "agency_id": self.agency_id,
            "timezone": self.timezone,
            "schedule": self.schedule,
            "agent_running": self.agent_pid is not None,
            "agent_pid": self.agent_pid,
            "running": run(self.running),
            "last_run": run(self.last_run),
            "last_error": run(self.last_error),
            "next_run": self.next_run.isoformat() if self.next_run else None,
            "next_run_overdue": self.next_run_overdue,
            "outbox": self.outbox,
            "outbox_dir": str(self.outbox_dir) if self.outbox_dir else None,
            "waiting": [p.as_json() for p in self.waiting],
        }


def agent_status(config: AgencyConfig, now: datetime) -> AgentStatus:
    """The agent's state from its files; ``now`` decides whether the next run is overdue."""
    zone = ZoneInfo(config.schedule.timezone)
    records = RunLog(runs_file(config)).records()
    sweeping = holder(sweep_lock_file(config))
    if sweeping is None:
        # A record left running by a dead process: show it as the next start will record it.
        records = [
            r.model_copy(update={"status": RunStatus.INTERRUPTED, "error": STALE})
            if r.status is RunStatus.RUNNING
            else r
            for r in records
        ]
    # Records are appended when a run starts; "last" means the one that ended last.
    ended = sorted(
        (r for r in records if r.status is not RunStatus.RUNNING),
        key=lambda r: r.finished or r.started,
    )
    running = [r for r in records if r.status is RunStatus.RUNNING]
    errors = [r for r in ended if r.error]
    next_run = stored_next_run(config)
    folder, pending = _outbox(config, now)
    return AgentStatus(
        agency_id=config.agency.id,
        timezone=config.schedule.timezone,
        schedule=describe(config.schedule),
        agent_pid=holder(agent_lock_file(config)),
        running=running[-1] if running else None,
        last_run=ended[-1] if ended else None,
        last_error=errors[-1] if errors else None,
        next_run=next_run.astimezone(zone) if next_run else None,
        next_run_overdue=next_run is not None and next_run <= now,
        outbox=None if folder is None else len(pending),
        outbox_dir=folder,
        waiting=tuple(pending),
    )


def _outbox(config: AgencyConfig, now: datetime) -> tuple[Path | None, list[Pending]]:
    if config.bundle is None:
        return None, []
    from secposture.bundle.outbox import outbox_dir, waiting

    return outbox_dir(config), waiting(config, now)
