"""``secposture agent run``: APScheduler 3.11 sweeping the agency's LAN on its schedule.

What keeps a weekly sweep from being skipped silently (libraries.md B3):

- the job lives in a SQLite job store, so its next fire time survives a restart; a fire time
  that passed while the agent was down runs once at start-up (coalesce) if the agent is back
  within ``schedule.misfire_grace_hours``, and is recorded and logged as missed if not;
- a restart never moves a pending fire time: APScheduler's ``replace_existing`` would
  recompute it from now and skip a week, so the stored time is kept unless the schedule changed;
- a sweep a stop or crash interrupted runs again once at the next start (within the grace);
- ``max_instances=1`` and the sweep lock: never two sweeps of one agency at once, and the agent
  lock: never two schedulers on one job store (APScheduler's user guide forbids sharing it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_SCHEDULER_STARTED,
)
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from inventory.storage import StoreError, atomic_write_bytes
from secposture.agent.chain import Job
from secposture.agent.locks import hold
from secposture.agent.log import event, one_line
from secposture.agent.paths import agent_file, agent_lock_file, job_store_file
from secposture.agent.runner import Runner
from secposture.agent.runs import RunRecord, RunStatus, RunTrigger, new_record
from secposture.agent.stopping import Stopper
from secposture.config.errors import ConfigError
from secposture.config.sections import AgencyConfig, ScheduleSection
from secposture.model import exitcodes
from secposture.model.records import utcnow

TABLE = "apscheduler_jobs"
EVENTS = (
    EVENT_JOB_EXECUTED
    | EVENT_JOB_ERROR
    | EVENT_JOB_MISSED
    | EVENT_JOB_MAX_INSTANCES
    | EVENT_SCHEDULER_STARTED
)
_REAL_RUNS = (RunStatus.OK, RunStatus.INCOMPLETE, RunStatus.ERROR, RunStatus.INTERRUPTED)

# The live agent of each agency in this process. APScheduler pickles a job as a function's
# import path and plain arguments, so the stored job names the agency and finds its agent here.
_AGENTS: dict[str, Agent] = {}


class JobFailed(Exception):
    """A run ended in error; raised again so that APScheduler reports EVENT_JOB_ERROR."""


def scheduled_sweep(agency_id: str) -> None:
    """The function the job store keeps; runs the agency's job through its live agent."""
    agent = _AGENTS.get(agency_id)
    if agent is None:
        raise RuntimeError(f"no agent for {agency_id} is running in this process")
    agent.scheduled_run()


# How often the agent looks at its outbox between sweeps (issue #17): each bundle is still
# sent only when its own back-off says so (1, 2, 4 … minutes up to 6 hours), so a collector
# back after a day's outage has this week's bundle within minutes, not at next week's sweep.
DELIVERY_EVERY = timedelta(minutes=5)


def deliver_outbox(agency_id: str, now: datetime | None = None) -> None:
    """The job store's delivery job: push the due bundles of the agency's outbox."""
    from secposture.bundle.outbox import push_outbox

    agent = _AGENTS.get(agency_id)
    if agent is None:
        raise RuntimeError(f"no agent for {agency_id} is running in this process")
    try:
        result = push_outbox(agent.config, now=now)
    except (ConfigError, OSError) as exc:
        event("delivery_failed", logging.WARNING, reason=one_line(exc))
        return
    if result.delivered or result.rejected:
        event("delivered", delivered=len(result.delivered), rejected=len(result.rejected),
              waiting=len(result.pending))  # fmt: skip


def delivery_job_id(config: AgencyConfig) -> str:
    """The agency's outbox delivery job id in the job store."""
    return f"deliver-{config.agency.id}"


def job_id(config: AgencyConfig) -> str:
    """The agency's job id in the job store."""
    return f"sweep-{config.agency.id}"


def cron_trigger(schedule: ScheduleSection) -> CronTrigger:
    """The schedule as an APScheduler cron trigger with jitter, in the agency's time zone."""
    return CronTrigger(
        day_of_week=schedule.day_of_week,
        hour=schedule.hour,
        minute=schedule.minute,
        second=schedule.second,
        jitter=schedule.jitter_minutes * 60 or None,
        timezone=ZoneInfo(schedule.timezone),
    )


def grace(schedule: ScheduleSection) -> timedelta:
    """The misfire grace time; APScheduler takes whole seconds, at least one."""
    return timedelta(seconds=max(1, round(schedule.misfire_grace_hours * 3600)))


def fingerprint(schedule: ScheduleSection) -> str:
    """What decides the fire times; the grace time does not."""
    return schedule.model_dump_json(exclude={"misfire_grace_hours"})


def stored_next_run(config: AgencyConfig) -> datetime | None:
    """The job's next fire time as the job store holds it, read without unpickling the job.

    Raises StoreError when the job store is not a readable SQLite database."""
    path = job_store_file(config)
    if not path.exists():
        return None
    try:
        con = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=10)
        try:
            row = con.execute(
                f"SELECT next_run_time FROM {TABLE} WHERE id = ?",  # noqa: S608 - a constant
                (job_id(config),),
            ).fetchone()
        finally:
            con.close()
    except sqlite3.Error as exc:
        if "no such table" in str(exc):  # the agent never got as far as adding its job
            return None
        raise StoreError(f"{path}: the job store is damaged ({exc})") from None
    return datetime.fromtimestamp(row[0], UTC) if row and row[0] is not None else None


def set_aside_damaged_job_store(config: AgencyConfig) -> Path | None:
    """Move a damaged job store aside so the agent can start with a new one; say where."""
    path = job_store_file(config)
    try:
        stored_next_run(config)
    except StoreError as exc:
        aside = path.with_name(f"{path.name}.damaged-{utcnow():%Y%m%dT%H%M%SZ}")
        path.rename(aside)
        event(
            "job_store_damaged",
            logging.ERROR,
            error=str(exc),
            moved_to=aside,
            action="starting with a new job store; the next run follows the schedule",
        )
        return aside
    return None


def first_run_time(
    stored: datetime | None,
    now: datetime,
    *,
    same_schedule: bool,
    last_run: RunRecord | None,
    grace_time: timedelta,
) -> tuple[datetime | None, bool]:
    """The next fire time to start with (None: let the trigger compute it) and whether it is
    a catch-up of an interrupted scheduled sweep."""
    if (
        last_run is not None
        and last_run.status is RunStatus.INTERRUPTED
        and last_run.trigger is RunTrigger.SCHEDULE  # a catch-up is not caught up again
        and now - last_run.started <= grace_time
    ):
        return now, True
    if stored is None:
        return None, False
    if stored <= now:
        return stored, False  # missed while down: the scheduler runs it once or reports it
    return (stored if same_schedule else None), False


def _fire_times_between(trigger: CronTrigger, first: datetime, now: datetime) -> int:
    count, fire = 0, first
    while fire is not None and fire <= now and count < 1000:
        count += 1
        fire = trigger.get_next_fire_time(fire, now)
    return count


class Agent:
    """One agency's scheduler process."""

    def __init__(self, config: AgencyConfig, job: Job, *, stop_timeout_s: float) -> None:
        self.config = config
        self.runner = Runner(config, job, threading.Event())
        self.stop_timeout_s = stop_timeout_s
        self.scheduler: Any = None
        self._catch_up = False

    def serve(self) -> int:
        """Run until SIGTERM/SIGINT; raise LockBusy when another agent owns this job store."""
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.blocking import BlockingScheduler

        config, schedule = self.config, self.config.schedule
        with hold(agent_lock_file(config)):
            # An unattended agent must not stay down over a broken file: set it aside, loudly.
            set_aside_damaged_job_store(config)
            self.runner.recover_if_free()
            trigger = cron_trigger(schedule)
            first, self._catch_up = self._first_run(trigger)
            self.scheduler = BlockingScheduler(
                timezone=ZoneInfo(schedule.timezone),
                jobstores={
                    "default": SQLAlchemyJobStore(
                        url=f"sqlite:///{job_store_file(config)}", tablename=TABLE
                    )
                },
                # One worker: with max_instances=1 a due run waits for nothing else. Delivery
                # has its own, so a bundle goes out while a long sweep runs.
                executors={
                    "default": ThreadPoolExecutor(max_workers=1),
                    "delivery": ThreadPoolExecutor(max_workers=1),
                },
            )
            self.scheduler.add_listener(self._on_event, EVENTS)
            self.scheduler.add_job(
                scheduled_sweep,
                trigger,
                args=[config.agency.id],
                id=job_id(config),
                name=f"sweep of {config.agency.id}",
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(grace(schedule).total_seconds()),
                **({} if first is None else {"next_run_time": first}),
            )
            if config.bundle is not None and config.bundle.collector_url:
                self.scheduler.add_job(
                    deliver_outbox,
                    IntervalTrigger(seconds=int(DELIVERY_EVERY.total_seconds())),
                    args=[config.agency.id],
                    id=delivery_job_id(config),
                    name=f"outbox delivery of {config.agency.id}",
                    replace_existing=True,
                    coalesce=True,
                    max_instances=1,
                    executor="delivery",
                )
            atomic_write_bytes(
                agent_file(config),
                json.dumps(
                    {"schedule": fingerprint(schedule), "started": utcnow().isoformat()}
                ).encode(),
            )
            Stopper(
                self.runner,
                timeout_s=self.stop_timeout_s,
                forced_exit_code=exitcodes.OK,
                before_wait=self._pause,
                after_idle=self._shutdown,
            ).install()
            _AGENTS[config.agency.id] = self
            try:
                self.scheduler.start()  # blocks until the stopper shuts it down
            finally:
                _AGENTS.pop(config.agency.id, None)
        event("agent_stopped", agency=config.agency.id)
        return exitcodes.OK

    def _first_run(self, trigger: CronTrigger) -> tuple[datetime | None, bool]:
        config = self.config
        stored = stored_next_run(config)
        now = datetime.now(UTC)
        try:
            previous = json.loads(agent_file(config).read_text()).get("schedule")
        except (OSError, ValueError, AttributeError):
            previous = None
        real = [r for r in self.runner.runs.records() if r.status in _REAL_RUNS]
        first, catch_up = first_run_time(
            stored,
            now,
            same_schedule=previous == fingerprint(config.schedule),
            last_run=real[-1] if real else None,
            grace_time=grace(config.schedule),
        )
        if catch_up:
            event(
                "catch_up",
                logging.WARNING,
                run_id=real[-1].run_id,
                reason="the last scheduled sweep was interrupted; running it again now",
            )
        elif stored is not None and stored <= now:
            late = now - stored
            event(
                "missed_while_down",
                logging.WARNING,
                first_missed=stored,
                fire_times=_fire_times_between(trigger, stored, now),
                late_h=late.total_seconds() / 3600,
                action="runs once now" if late <= grace(config.schedule) else "recorded as missed",
            )
        return first, catch_up

    def scheduled_run(self) -> None:
        """One scheduled (or catch-up) run; raises JobFailed when it ended in error."""
        trigger = RunTrigger.CATCH_UP if self._catch_up else RunTrigger.SCHEDULE
        self._catch_up = False
        record = self.runner.run(trigger)
        if record.status is RunStatus.ERROR:
            raise JobFailed(record.error)

    def _pause(self) -> None:
        with contextlib.suppress(SchedulerNotRunningError):  # a stop during start-up
            self.scheduler.pause()

    def _shutdown(self) -> None:
        with contextlib.suppress(SchedulerNotRunningError):
            self.scheduler.shutdown(wait=False)

    def _local(self, moment: datetime | None) -> datetime | None:
        return None if moment is None else moment.astimezone(self.scheduler.timezone)

    def _next_run(self) -> datetime | None:
        job = self.scheduler.get_job(job_id(self.config))
        return None if job is None else self._local(job.next_run_time)

    def _on_event(self, ev: Any) -> None:
        """Log the scheduler's own events; a missed run is also recorded for `agent status`."""
        jid = job_id(self.config)
        if getattr(ev, "job_id", jid) != jid:
            return  # the outbox delivery job: it logs its own events, and is no sweep
        if ev.code == EVENT_SCHEDULER_STARTED and self.runner.stop.is_set():
            self._shutdown()  # the stop signal came while the scheduler was starting
        elif ev.code == EVENT_SCHEDULER_STARTED:
            event(
                "agent_started",
                agency=self.config.agency.id,
                job=jid,
                schedule=describe(self.config.schedule),
                next_run=self._next_run(),
            )
        elif ev.code == EVENT_JOB_MAX_INSTANCES:
            event(
                "job_skipped",
                logging.WARNING,
                job=jid,
                scheduled_for=self._local(ev.scheduled_run_times[-1]),
                reason="the previous sweep is still running",
            )
        elif ev.code == EVENT_JOB_EXECUTED:
            due = self._local(ev.scheduled_run_time)
            event("job_executed", job=jid, scheduled_for=due, next_run=self._next_run())
        elif ev.code == EVENT_JOB_ERROR:
            due = self._local(ev.scheduled_run_time)
            event(
                "job_error",
                logging.ERROR,
                job=jid,
                scheduled_for=due,
                error=one_line(ev.exception),
                next_run=self._next_run(),
            )
        elif ev.code == EVENT_JOB_MISSED:
            self._record_missed(self._local(ev.scheduled_run_time))

    def _record_missed(self, due: datetime | None) -> None:
        hours = self.config.schedule.misfire_grace_hours
        when = due.isoformat() if due else "?"
        record = self.runner.runs.add(
            new_record(
                self.config.agency.id,
                RunTrigger.SCHEDULE,
                RunStatus.MISSED,
                finished=utcnow(),
                scheduled_for=due,
                error=f"the sweep due at {when} did not run: the agent was not running then "
                f"nor within the {hours:g} h grace time after it",
            )
        )
        # No next_run here: this event comes from the worker thread, possibly before the
        # scheduler has moved the job on to its next fire time.
        event(
            "job_missed",
            logging.WARNING,
            job=job_id(self.config),
            run_id=record.run_id,
            scheduled_for=due,
            grace_h=hours,
        )


def describe(schedule: ScheduleSection) -> str:
    """The schedule in one line, e.g. ``sun 01:00 +0-180 min Asia/Ho_Chi_Minh``."""

    def two_digits(field: str) -> str:
        return field.zfill(2) if field.isdigit() else field

    at = f"{two_digits(schedule.hour)}:{two_digits(schedule.minute)}"
    if schedule.second != "0":
        at += f":{two_digits(schedule.second)}"
    jitter = f" +0-{schedule.jitter_minutes} min" if schedule.jitter_minutes else ""
    return f"{schedule.day_of_week} {at}{jitter} {schedule.timezone}"
