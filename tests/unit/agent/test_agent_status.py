"""The agent in-process, after a run: post-sweep hooks, ``agent status``, the log lines and a
damaged job store (issue #9; split from test_agent.py under issue #12)."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from factories import agency_config, host, sweep

from inventory.storage import StoreError
from secposture.agent import log as agent_log
from secposture.agent.chain import RunContext
from secposture.agent.hooks import GROUP, discover_hooks, run_hooks
from secposture.agent.locks import hold
from secposture.agent.paths import job_store_file, runs_file, sweep_lock_file
from secposture.agent.runs import RunLog, RunStatus, RunTrigger, new_record
from secposture.agent.scheduler import (
    set_aside_damaged_job_store,
)
from secposture.agent.status import agent_status
from secposture.cli import main
from secposture.config.sections import AgencyConfig
from secposture.model import exitcodes

if TYPE_CHECKING:  # the pipeline imports the scanners; these tests need neither
    from secposture.job.pipeline import JobResult

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # a Wednesday


# -- post-sweep hooks -------------------------------------------------------------------------
def _job_result() -> JobResult:
    # Hooks read the job's fields only; a namespace with a real sweep keeps this test apart
    # from how the pipeline's JobResult grows.
    return cast("JobResult", SimpleNamespace(sweep=sweep(host("10.77.0.5"))))


def test_hooks_run_in_order_and_a_failing_hook_is_reported_not_raised(tmp_path: Path) -> None:
    cfg = agency_config(tmp_path)
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
    status = agent_status(agency_config(tmp_path), NOW)
    assert (status.last_run, status.next_run, status.last_error, status.agent_pid) == (
        None,
        None,
        None,
        None,
    )
    assert status.outbox is None


def test_status_counts_the_bundles_waiting_in_the_outbox(tmp_path: Path) -> None:
    # Without a [bundle] section there is no outbox to count
    assert agent_status(agency_config(tmp_path), NOW).outbox is None
    # With one, the bundles waiting in bundle.outbox are counted (and nothing else there)
    cfg = agency_config(tmp_path, bundle={"key": "env:SECPOSTURE_KEY", "outbox": "elsewhere"})
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    for name in ("a.bundle", "b.bundle", ".c.bundle.tmp", "notes.txt"):
        (folder / name).write_text("x")
    status = agent_status(cfg, NOW)
    assert (status.outbox, status.outbox_dir) == (2, folder)


def test_status_shows_a_dead_running_record_as_interrupted_and_the_last_error(
    tmp_path: Path,
) -> None:
    cfg = agency_config(tmp_path)
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
    cfg = agency_config(tmp_path)
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
    cfg = agency_config(tmp_path)
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
    cfg = agency_config(tmp_path)
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
