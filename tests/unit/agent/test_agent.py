"""The agent's parts in-process: schedule config, trigger, run records, locks, status, logs,
post-sweep hooks (issue #9). The scheduler as a real process is in test_agent_daemon.py."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from factories import host, sweep

from inventory.storage import StoreError
from secposture.agent import log as agent_log
from secposture.agent.chain import ChainResult, RunContext, SweepInterrupted, load_job
from secposture.agent.hooks import GROUP, discover_hooks, run_hooks
from secposture.agent.locks import LockBusy, hold, holder
from secposture.agent.paths import job_store_file, runs_file, sweep_lock_file
from secposture.agent.runner import Runner
from secposture.agent.runs import RunLog, RunStatus, RunTrigger, new_record
from secposture.agent.scheduler import (
    cron_trigger,
    describe,
    first_run_time,
    grace,
    set_aside_damaged_job_store,
)
from secposture.agent.status import agent_status
from secposture.cli import main
from secposture.config.errors import ConfigError
from secposture.config.loading import load_config, parse_config
from secposture.config.sections import AgencyConfig, ScheduleSection
from secposture.model import exitcodes

if TYPE_CHECKING:  # the pipeline imports the scanners; these tests need neither
    from secposture.job.pipeline import JobResult

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday
BASE: dict[str, dict[str, object]] = {
    "agency": {"id": "tn-xa-mau", "name": "UBND xã Mẫu", "level": "commune"},
    "scan": {"scopes": ["10.77.0.0/24"]},
    "store": {"path": "var/inventory.json"},
    "report": {"dir": "out"},
}


def config(tmp_path: Path, **sections: dict[str, object]) -> AgencyConfig:
    lines = []
    for name, values in {**BASE, **sections}.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    path = tmp_path / "agency.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_config(path)


# -- [schedule] -------------------------------------------------------------------------------
def test_existing_configs_get_a_weekly_night_schedule_in_vietnam_time(tmp_path: Path) -> None:
    schedule = config(tmp_path).schedule
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
        config(tmp_path, schedule=values)
    assert err.value.key == key
    assert words in err.value.reason


def test_day_names_are_accepted_in_any_case_and_hours_as_numbers() -> None:
    schedule = parse_config({**BASE, "schedule": {"day_of_week": "Sat-SUN", "hour": 2}}).schedule
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
    cfg = config(tmp_path)
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


# -- post-sweep hooks -------------------------------------------------------------------------
def _job_result() -> JobResult:
    # Hooks read the job's fields only; a namespace with a real sweep keeps this test apart
    # from how the pipeline's JobResult grows.
    return cast("JobResult", SimpleNamespace(sweep=sweep(host("10.77.0.5"))))


def test_hooks_run_in_order_and_a_failing_hook_is_reported_not_raised(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    called: list[str] = []

    def push(c: AgencyConfig, job: JobResult) -> None:
        called.append(f"push {c.agency.id} {job.sweep.sweep_id}")

    def broken(c: AgencyConfig, job: JobResult) -> None:
        raise ConnectionError("collector unreachable")

    failures = run_hooks(
        cfg,
        _job_result(),
        [("a_broken", broken), ("b_import", ImportError("no module x")), ("c_push", push)],
    )
    assert called == ["push tn-xa-mau s1"]
    assert failures == [
        "post-sweep hook a_broken failed: ConnectionError: collector unreachable",
        "post-sweep hook b_import cannot be loaded: ImportError: no module x",
    ]


def test_hooks_are_found_through_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an installed distribution declaring a hook (a real dist-info folder on sys.path)
    dist = tmp_path / "site" / "pushplugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: pushplugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{GROUP}]\nzz_push = pushplugin_mod:after_sweep\n")
    (tmp_path / "site" / "pushplugin_mod.py").write_text(
        "def after_sweep(config, job):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    found = dict(discover_hooks())
    assert callable(found["zz_push"])


# -- status -----------------------------------------------------------------------------------
def test_status_of_an_agent_that_never_ran(tmp_path: Path) -> None:
    status = agent_status(config(tmp_path), NOW)
    assert (status.last_run, status.next_run, status.last_error, status.agent_pid) == (
        None,
        None,
        None,
        None,
    )
    assert status.outbox is None


def test_status_counts_the_bundles_waiting_in_the_outbox(tmp_path: Path) -> None:
    # Without a [bundle] section there is no outbox to count
    assert agent_status(config(tmp_path), NOW).outbox is None
    # With one, the bundles waiting in bundle.outbox are counted (and nothing else there)
    cfg = config(tmp_path, bundle={"key": "env:SECPOSTURE_KEY", "outbox": "elsewhere"})
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    for name in ("a.bundle", "b.bundle", ".c.bundle.tmp", "notes.txt"):
        (folder / name).write_text("x")
    status = agent_status(cfg, NOW)
    assert (status.outbox, status.outbox_dir) == (2, folder)


def test_status_shows_a_dead_running_record_as_interrupted_and_the_last_error(
    tmp_path: Path,
) -> None:
    cfg = config(tmp_path)
    log = RunLog(runs_file(cfg))
    failed = log.add(new_record("tn-xa-mau", RunTrigger.SCHEDULE))
    log.finish(failed.run_id, RunStatus.ERROR, error="RuntimeError: boom")
    ok = log.add(new_record("tn-xa-mau", RunTrigger.SCHEDULE))
    log.finish(ok.run_id, RunStatus.OK, exit_code=0)
    status = agent_status(cfg, NOW)
    assert status.last_run is not None and status.last_run.run_id == ok.run_id
    assert status.last_error is not None and status.last_error.run_id == failed.run_id
    # Given a record whose process died mid-sweep
    dead = log.add(new_record("tn-xa-mau", RunTrigger.SCHEDULE))
    status = agent_status(cfg, NOW)
    assert status.running is None
    assert status.last_run is not None and status.last_run.run_id == dead.run_id
    assert status.last_run.status is RunStatus.INTERRUPTED
    assert status.last_error is not None and status.last_error.run_id == dead.run_id
    assert "ended before it finished" in (status.last_error.error or "")
    # while its sweep lock is held, the same record is a sweep in flight
    with hold(sweep_lock_file(cfg)):
        live = agent_status(cfg, NOW)
    assert live.running is not None and live.running.run_id == dead.run_id
    assert live.last_run is not None and live.last_run.run_id == ok.run_id


def test_status_cli_in_both_languages(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    log = RunLog(runs_file(cfg))
    rec = log.add(new_record("tn-xa-mau", RunTrigger.SCHEDULE))
    log.finish(rec.run_id, RunStatus.INCOMPLETE, exit_code=3)
    runner = CliRunner()
    en = runner.invoke(main, ["--lang", "en", "agent", "status", "-c", str(cfg.source)])
    assert en.exit_code == 0, en.output
    assert "Last run:" in en.output and "incomplete" in en.output
    assert "Next run: not scheduled" in en.output and "no [bundle] section" in en.output
    vi = runner.invoke(main, ["--lang", "vi", "agent", "status", "-c", str(cfg.source)])
    assert "Lượt chạy gần nhất" in vi.output and "chưa đầy đủ" in vi.output
    as_json = runner.invoke(main, ["agent", "status", "--json", "-c", str(cfg.source)])
    assert json.loads(as_json.output)["last_run"]["status"] == "incomplete"


def test_agent_run_refuses_a_bad_job_or_config_in_one_line(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    runner = CliRunner()
    bad_job = runner.invoke(
        main, ["--lang", "en", "agent", "run", "--once", "-c", str(cfg.source), "--job", "x"]
    )
    assert bad_job.exit_code == exitcodes.USAGE
    assert bad_job.output.strip().count("\n") == 0 and "must look like" in bad_job.output
    (tmp_path / "bad.toml").write_text("[schedule]\nday_of_week = 0\n")
    bad = runner.invoke(main, ["agent", "run", "-c", str(tmp_path / "bad.toml")])
    assert bad.exit_code == exitcodes.USAGE


# -- logs -------------------------------------------------------------------------------------
def test_log_lines_are_one_line_key_values_without_tracebacks() -> None:
    stream = StringIO()
    agent_log.configure(stream)
    try:
        agent_log.event(
            "run_finished",
            logging.WARNING,
            run_id="r1",
            status="error",
            error="ValueError: bad\nline",
            when=NOW,
            duration_s=1.23456,
        )
        try:
            raise KeyError("secret-looking detail")
        except KeyError:
            logging.getLogger("apscheduler.scheduler").exception("Error getting due jobs")
    finally:
        for name in (agent_log.LOGGER, "apscheduler"):
            logging.getLogger(name).handlers.clear()
    first, second = stream.getvalue().splitlines()
    assert first.startswith("ts=") and " level=warning event=run_finished run_id=r1 " in first
    assert 'error="ValueError: bad\\nline"' in first
    assert "when=2026-11-25T10:00:00+00:00 duration_s=1.235" in first
    assert 'event=apscheduler msg="Error getting due jobs"' in second
    assert "Traceback" not in stream.getvalue()


# -- a damaged job store ----------------------------------------------------------------------
def test_a_damaged_job_store_is_reported_by_status_and_set_aside_by_the_agent(
    tmp_path: Path,
) -> None:
    cfg = config(tmp_path)
    store = job_store_file(cfg)
    store.parent.mkdir(parents=True)
    store.write_bytes(b"not a database, torn by a disk failure" * 100)
    with pytest.raises(StoreError, match="job store is damaged"):
        agent_status(cfg, NOW)
    aside = set_aside_damaged_job_store(cfg)
    assert aside is not None and aside.read_bytes().startswith(b"not a database")
    assert not store.exists()
    assert agent_status(cfg, NOW).next_run is None


def test_progress_is_logged_whatever_its_fields_and_ticks_only_at_debug() -> None:
    stream = StringIO()
    agent_log.configure(stream)
    try:
        run = RunContext(threading.Event())
        # fields named like the log's own keys must neither crash the sweep nor rename events
        run.progress("discovered", {"count": 3, "stage": "x", "event": "y", "scope": "10.0.0.0/24"})
        run.progress("scanning", {"done": 1})
    finally:
        for name in (agent_log.LOGGER, "apscheduler"):
            logging.getLogger(name).handlers.clear()
    (line,) = stream.getvalue().splitlines()
    assert " event=sweep_progress stage=discovered count=3 scope=10.0.0.0/24" in line
