"""The agent's parts in-process: schedule config, trigger, run records, locks, status, logs,
post-sweep hooks (issue #9). Hooks, status and logs are in test_agent_status.py, the
scheduler as a real process in test_agent_daemon.py."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from factories import AGENCY, agency_config

from inventory.storage import StoreError
from secposture.agent.chain import ChainResult, RunContext, SweepInterrupted, load_job
from secposture.agent.locks import LockBusy, hold, holder
from secposture.agent.paths import runs_file, sweep_lock_file
from secposture.agent.runner import Runner
from secposture.agent.runs import RunLog, RunStatus, RunTrigger, new_record
from secposture.agent.scheduler import (
    cron_trigger,
    describe,
    first_run_time,
    grace,
)
from secposture.config.errors import ConfigError
from secposture.config.loading import parse_config
from secposture.config.sections import AgencyConfig, ScheduleSection
from secposture.model import exitcodes

if TYPE_CHECKING:  # the pipeline imports the scanners; these tests need neither
    pass

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday


# -- [schedule] -------------------------------------------------------------------------------
def test_existing_configs_get_a_weekly_night_schedule_in_vietnam_time(tmp_path: Path) -> None:
    schedule = agency_config(tmp_path).schedule
    assert schedule == ScheduleSection()
    assert (schedule.day_of_week, schedule.hour, schedule.minute) == ("sun", "1", "0")
    assert schedule.timezone == "Asia/Ho_Chi_Minh"
    assert describe(schedule) == "sun 01:00 +0-180 min Asia/Ho_Chi_Minh"
    assert grace(schedule) == timedelta(hours=72)  # hours, not APScheduler's one second


@pytest.mark.parametrize(
    ("values", "key", "words"),
    [
        ({"day_of_week": "0"}, "schedule.day_of_week", "cron's 0 is Sunday"),
        ({"day_of_week": "sun,7"}, "schedule.day_of_week", "day names"),
        ({"hour": 24}, "schedule.hour", "higher than the maximum"),
        ({"minute": "*/x"}, "schedule.minute", "not a cron expression"),
        ({"timezone": "Asia/Hanoi_City"}, "schedule.timezone", "not a known time zone"),
        ({"misfire_grace_hours": 0}, "schedule.misfire_grace_hours", "greater than 0"),
        ({"misfire_grace_hours": 200}, "schedule.misfire_grace_hours", "less than or equal"),
        ({"jitter_minutes": -5}, "schedule.jitter_minutes", "greater than or equal"),
        ({"every": "week"}, "schedule.every", "not a known setting"),
    ],
)
def test_a_bad_schedule_names_its_key(
    tmp_path: Path, values: dict[str, object], key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as err:
        agency_config(tmp_path, schedule=values)
    assert err.value.key == key
    assert words in err.value.reason


def test_day_names_are_accepted_in_any_case_and_hours_as_numbers() -> None:
    schedule = parse_config({**AGENCY, "schedule": {"day_of_week": "Sat-SUN", "hour": 2}}).schedule
    assert (schedule.day_of_week, schedule.hour) == ("sat-sun", "2")


def test_the_default_trigger_fires_on_sunday_between_1_and_4_in_vietnam_with_jitter() -> None:
    # Given the default schedule seen from a Wednesday (libraries.md B3: Monday is 0)
    trigger = cron_trigger(ScheduleSection())
    fires = [trigger.get_next_fire_time(None, NOW).astimezone(ZONE) for _ in range(60)]
    # Then every fire time is the coming Sunday, 01:00-04:00 local time, spread by the jitter
    assert {f.date() for f in fires} == {datetime(2026, 11, 29).date()}
    assert all(f.weekday() == 6 and 1 <= f.hour < 4 for f in fires)
    assert max(fires) - min(fires) > timedelta(minutes=60)


def test_without_jitter_the_fire_time_is_exact() -> None:
    trigger = cron_trigger(ScheduleSection(jitter_minutes=0, day_of_week="mon", hour="23"))
    assert trigger.get_next_fire_time(None, NOW) == datetime(2026, 11, 30, 23, 0, tzinfo=ZONE)


# -- where the next run starts after a restart ------------------------------------------------
@pytest.mark.parametrize(
    ("stored", "same", "last", "expected"),
    [
        (None, True, None, (None, False)),  # first start: the trigger decides
        (NOW - timedelta(hours=5), True, None, (NOW - timedelta(hours=5), False)),  # missed
        (NOW - timedelta(hours=5), False, None, (NOW - timedelta(hours=5), False)),
        (NOW + timedelta(hours=5), True, None, (NOW + timedelta(hours=5), False)),  # kept
        (NOW + timedelta(hours=5), False, None, (None, False)),  # schedule changed
        # a scheduled sweep interrupted an hour ago runs again at once
        (
            NOW + timedelta(days=6),
            True,
            ("interrupted", "schedule", NOW - timedelta(hours=1)),
            (NOW, True),
        ),
        # ... but not a catch-up that was itself interrupted, nor one past the grace time
        (
            NOW + timedelta(days=6),
            True,
            ("interrupted", "catch_up", NOW - timedelta(hours=1)),
            (NOW + timedelta(days=6), False),
        ),
        (
            NOW + timedelta(days=6),
            True,
            ("interrupted", "schedule", NOW - timedelta(hours=80)),
            (NOW + timedelta(days=6), False),
        ),
        (
            NOW + timedelta(days=6),
            True,
            ("ok", "schedule", NOW - timedelta(hours=1)),
            (NOW + timedelta(days=6), False),
        ),
    ],
)
def test_first_run_time_after_a_restart(
    stored: datetime | None,
    same: bool,
    last: tuple[str, str, datetime] | None,
    expected: tuple[datetime | None, bool],
) -> None:
    last_run = (
        None
        if last is None
        else new_record("tn-xa-mau", RunTrigger(last[1]), RunStatus(last[0])).model_copy(
            update={"started": last[2]}
        )
    )
    got = first_run_time(
        stored, NOW, same_schedule=same, last_run=last_run, grace_time=timedelta(hours=72)
    )
    assert got == expected


# -- run records ------------------------------------------------------------------------------
def test_run_records_round_trip_and_the_first_writer_closes_a_run(tmp_path: Path) -> None:
    log = RunLog(tmp_path / "runs.json")
    record = log.add(new_record("tn-xa-mau", RunTrigger.SCHEDULE))
    closed = log.finish(record.run_id, RunStatus.OK, exit_code=0, sweep_id="s1")
    assert closed is not None and closed.duration_s is not None and closed.duration_s >= 0
    assert log.finish(record.run_id, RunStatus.INTERRUPTED) is None  # already closed
    assert log.records() == [closed]


def test_a_run_left_running_by_a_dead_process_is_recovered_as_interrupted(tmp_path: Path) -> None:
    log = RunLog(tmp_path / "runs.json")
    left = log.add(new_record("tn-xa-mau", RunTrigger.SCHEDULE))
    (recovered,) = log.recover_stale("power lost")
    assert recovered.run_id == left.run_id
    assert log.records()[0].status is RunStatus.INTERRUPTED
    assert log.records()[0].error == "power lost"


def test_run_records_keep_the_latest_and_refuse_a_damaged_file(tmp_path: Path) -> None:
    log = RunLog(tmp_path / "runs.json", keep=3)
    ids = [log.add(new_record("tn-xa-mau", RunTrigger.ONCE, RunStatus.OK)).run_id for _ in range(5)]
    assert [r.run_id for r in log.records()] == ids[-3:]
    (tmp_path / "runs.json").write_text('{"runs": [{"run_id": 1}]}')
    with pytest.raises(StoreError, match="damaged"):
        log.records()


# -- locks ------------------------------------------------------------------------------------
def test_a_held_lock_names_its_holder_and_is_free_after_release(tmp_path: Path) -> None:
    path = tmp_path / "sweep.lock"
    with hold(path):
        assert holder(path) == os.getpid()
        with pytest.raises(LockBusy) as busy, hold(path):  # a second descriptor is refused
            pass
        assert busy.value.holder == os.getpid()
    assert holder(path) is None


def test_a_lock_file_left_by_a_dead_process_names_no_holder(tmp_path: Path) -> None:
    # Given a pid that existed but has exited, written as a crashed holder would leave it
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    path = tmp_path / "sweep.lock"
    path.write_text(f"{done.stdout.strip()} 12345\n")
    assert holder(path) is None
    with hold(path):  # and the lock itself is free
        pass


# -- the runner: every way a run ends is recorded ---------------------------------------------
def _ok(config: AgencyConfig, run: RunContext) -> ChainResult:
    return ChainResult(exitcodes.OK, "s1")


def _boom(config: AgencyConfig, run: RunContext) -> ChainResult:
    raise RuntimeError("scanner\nexploded")


def _stopping(config: AgencyConfig, run: RunContext) -> ChainResult:
    run.progress("discovered", {"count": 3})
    return ChainResult(exitcodes.OK)


def test_runner_records_ok_error_interrupted_and_busy(tmp_path: Path) -> None:
    cfg = agency_config(tmp_path)
    stop = threading.Event()
    assert Runner(cfg, _ok, stop).run(RunTrigger.ONCE).status is RunStatus.OK
    # A job that raises is recorded with a one-line error; the runner does not raise.
    failed = Runner(cfg, _boom, stop).run(RunTrigger.SCHEDULE)
    assert (failed.status, failed.exit_code) == (RunStatus.ERROR, exitcodes.INCOMPLETE)
    assert failed.error == "RuntimeError: scanner exploded"
    # A stop reaches the job at its next progress checkpoint.
    stop.set()
    interrupted = Runner(cfg, _stopping, stop)._run_locked(RunTrigger.SCHEDULE)
    assert interrupted.status is RunStatus.INTERRUPTED
    # Another holder of the sweep lock: the run does not start, and says who sweeps.
    with hold(sweep_lock_file(cfg)):
        busy = Runner(cfg, _ok, threading.Event()).run(RunTrigger.ONCE)
    assert (busy.status, busy.exit_code) == (RunStatus.BUSY, exitcodes.ENVIRONMENT)
    assert f"pid {os.getpid()}" in (busy.error or "")
    statuses = [r.status for r in RunLog(runs_file(cfg)).records()]
    assert statuses == [RunStatus.OK, RunStatus.ERROR, RunStatus.INTERRUPTED, RunStatus.BUSY]


def test_run_context_checkpoint_raises_only_after_a_stop() -> None:
    stop = threading.Event()
    run = RunContext(stop)
    run.checkpoint()
    run.sleep(0)
    stop.set()
    with pytest.raises(SweepInterrupted):
        run.sleep(5)  # wakes at once


def test_load_job_explains_a_bad_reference() -> None:
    assert load_job("secposture.agent.chain:sweep_report_push").__name__ == "sweep_report_push"
    for ref, words in [
        ("nocolon", "must look like"),
        ("secposture.nope:x", "cannot be imported"),
        ("secposture.agent.chain:DEFAULT_JOB", "not callable"),
    ]:
        with pytest.raises(ValueError, match=words):
            load_job(ref)
