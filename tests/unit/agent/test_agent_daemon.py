"""The agent as a real process: schedule, restart, overrun, SIGTERM, --once (issue #9).

Each test starts ``secposture agent run`` as a subprocess with a schedule of seconds (the cron
``second`` field) instead of a week, and with a stand-in job (tests/unit/agent_stand_in.py)
instead of the ~50 s lab sweep, so that a scheduler can be watched firing, overrunning, missing
and restarting in a few seconds. Scheduler, job store, locks, run records and signal handling
are the real ones; the stand-in records each start and end so the tests can count runs.
"""

from __future__ import annotations

import itertools
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from factories import agency_toml
from paths import child_env

from inventory.store import Inventory
from secposture.agent.status import agent_status
from secposture.config.loading import load_config
from secposture.model.records import utcnow
from secposture.scoring.score import score_findings

HERE = Path(__file__).parent
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
BASE_CONFIG = (
    agency_toml(store="var/inventory.json")
    + """[schedule]
day_of_week = "*"
jitter_minutes = 0
"""
)


class Agent:
    """One ``secposture agent run`` subprocess with its stdout in a file."""

    def __init__(self, tmp: Path, job: str, *args: str, **env: str) -> None:
        self.tmp = tmp
        self.out = tmp / f"agent-{time.monotonic_ns()}.log"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "secposture",
                "agent",
                "run",
                "-c",
                str(tmp / "agency.toml"),
                "--job",
                f"agent_stand_in:{job}",
                *args,
            ],
            stdout=self.out.open("w"),
            stderr=subprocess.STDOUT,
            env=stand_in_env(tmp, **env),
        )

    def lines(self) -> list[str]:
        return self.out.read_text().splitlines()

    def events(self, name: str) -> list[str]:
        return [line for line in self.lines() if f" event={name} " in f"{line} "]

    def wait_for(self, name: str, timeout: float = 30.0) -> str:
        wait_until(lambda: bool(self.events(name)), timeout, f"event={name}", self)
        return self.events(name)[0]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def __repr__(self) -> str:
        return "agent output:\n" + "\n".join(self.lines())


def stand_in_env(tmp: Path, **extra: str) -> dict[str, str]:
    return child_env(AGENT_TEST_LOG=str(tmp / "stand-in.jsonl"), SECPOSTURE_LANG="en", **extra)


def wait_until(cond: Callable[[], bool], timeout: float, what: str, agent: Any = None) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{agent!r}")
        time.sleep(0.05)


def stand_in(tmp: Path, event: str | None = None) -> list[dict[str, Any]]:
    path = tmp / "stand-in.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
    return [r for r in rows if event is None or r["event"] == event]


def write_config(tmp: Path, **schedule: str | float) -> Path:
    extra = "".join(
        f"{k} = {json.dumps(v) if isinstance(v, str) else v}\n" for k, v in schedule.items()
    )
    path = tmp / "agency.toml"
    path.write_text(BASE_CONFIG + extra, encoding="utf-8")
    return path


def cli(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secposture", "agent", *args, "-c", str(tmp / "agency.toml")],
        capture_output=True,
        text=True,
        env=stand_in_env(tmp, **env),
        timeout=30,
    )


def status(tmp: Path) -> dict[str, Any]:
    """``agent status --json`` read in this process (the CLI itself is run in the first test)."""
    return agent_status(load_config(tmp / "agency.toml"), utcnow()).as_json()


def status_cli(tmp: Path) -> dict[str, Any]:
    done = cli(tmp, "status", "--json")
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def runs(tmp: Path) -> list[dict[str, Any]]:
    doc = json.loads((tmp / "var/agent/tn-xa-mau/runs.json").read_text())
    rows: list[dict[str, Any]] = doc["runs"]
    return rows


def at(seconds_from_now: float) -> datetime:
    """A whole second in the agency's zone, ``seconds_from_now`` ahead (rounded up)."""
    moment = datetime.now(ZONE) + timedelta(seconds=seconds_from_now)
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(ZONE)).total_seconds()))


@pytest.fixture
def agents() -> Iterator[list[Agent]]:
    started: list[Agent] = []
    yield started
    for agent in started:  # never leave an agent behind a failed assertion
        if agent.proc.poll() is None:
            agent.proc.kill()
            agent.proc.wait(5)


def test_runs_fire_on_schedule_and_a_failed_run_does_not_stop_the_next(
    tmp_path: Path, agents: list[Agent]
) -> None:
    # Given a fire time every second and a job that raises the first time
    write_config(tmp_path, hour="*", minute="*", second="*")
    agent = Agent(tmp_path, "fail_first")
    agents.append(agent)
    # When three fire times have passed
    wait_until(lambda: len(stand_in(tmp_path, "start")) >= 3, 30, "three runs", agent)
    # Then a second agent for the same agency is refused: one scheduler per job store
    second = cli(tmp_path, "run", "--job", "agent_stand_in:record_run")
    assert second.returncode == 4
    assert "already running" in second.stderr and str(agent.proc.pid) in second.stderr
    assert agent.stop() == 0

    # Each run starts on a fire time of the schedule (whole seconds, in order), and within a
    # second of it (a loaded test machine may delay a thread, so no tighter than that).
    starts = [r["t"] for r in stand_in(tmp_path, "start")][:3]  # before the refused agent
    fired = [
        datetime.fromisoformat(line.split("scheduled_for=")[1].split()[0])
        for line in agent.lines()
        if " event=job_executed " in line or " event=job_error " in line
    ][:3]
    assert all(f.microsecond == 0 and f.utcoffset() == timedelta(hours=7) for f in fired)
    assert all(a < b for a, b in itertools.pairwise(fired)), fired
    for start, fire in zip(starts, fired, strict=True):
        assert 0 <= start - fire.timestamp() < 1.0, (starts, fired)
    # The failure is logged by the scheduler's error event, and the next run still happened.
    error = agent.events("job_error")
    assert len(error) == 1 and "stand-in sweep failed on purpose" in error[0]
    assert agent.events("job_executed")
    records = runs(tmp_path)
    assert records[0]["status"] == "error"
    assert "RuntimeError: stand-in sweep failed on purpose" in records[0]["error"]
    assert records[1]["status"] == "ok"

    # `agent status` agrees: the last ended run, its error, and the next fire time
    shown = status_cli(tmp_path)
    assert not shown["agent_running"]
    last_ok = [r for r in records if r["status"] == "ok"][-1]
    assert (
        shown["last_run"]["run_id"]
        == max((r for r in records if r["status"] != "running"), key=lambda r: r["finished"])[
            "run_id"
        ]
    )
    assert shown["last_error"]["run_id"] == records[0]["run_id"]
    assert shown["last_error"]["status"] == "error"
    next_run = datetime.fromisoformat(shown["next_run"])
    assert next_run.utcoffset() == timedelta(hours=7)
    assert next_run.microsecond == 0
    last_start = datetime.fromisoformat(records[-1]["started"])
    assert timedelta(0) < next_run - last_start <= timedelta(seconds=1)
    assert datetime.fromisoformat(last_ok["finished"]) >= datetime.fromisoformat(last_ok["started"])


def stopped_before(folders: dict[Path, float], agents: list[Agent]) -> tuple[datetime, datetime]:
    """Two fire times a minute (s1, s2) for which each folder's agent (misfire grace in hours
    as given) has started, stored s1 as its next run, and stopped before s1.

    The fire times must lie after the agents are up; on a loaded machine a start can take
    seconds, so a slow attempt is repeated with a margin that measured start-up time."""
    margin = 5.0
    for _attempt in range(4):
        t0 = time.monotonic()
        s1, s2 = at(margin), at(margin + 2)
        first = []
        for folder, grace_h in folders.items():
            shutil.rmtree(folder / "var", ignore_errors=True)  # from a slow attempt
            (folder / "stand-in.jsonl").unlink(missing_ok=True)
            write_config(
                folder,
                hour="*",
                minute="*",
                second=f"{s1.second},{s2.second}",
                misfire_grace_hours=grace_h,
            )
            first.append(Agent(folder, "record_run"))
        agents.extend(first)
        for agent in first:
            agent.wait_for("agent_started", timeout=60)
        for agent in first:
            assert agent.stop() == 0
        if datetime.now(ZONE) < s1 - timedelta(seconds=0.3):
            return s1, s2
        margin = 2 * (time.monotonic() - t0) + 1
    raise AssertionError("the agents never started in time for their fire times")


def test_restart_after_missed_fire_times_runs_once_within_the_grace_and_records_a_miss_after(
    tmp_path: Path, agents: list[Agent]
) -> None:
    # Given two agencies with the same two fire times a minute (s1, s2), one with the default
    # grace of 72 h and one with 1 s (0.0003 h), whose agents stop before either fire time.
    # (Two agencies side by side, so both cases share one wait.)
    within, past = tmp_path / "within", tmp_path / "past"
    within.mkdir()
    past.mkdir()
    s1, s2 = stopped_before({within: 72.0, past: 0.0003}, agents)
    # When both fire times pass while they are down (and the 1 s grace too), and they start
    sleep_until(s2 + timedelta(seconds=2))
    assert stand_in(within) == stand_in(past) == []
    restarted_at = time.time()
    again, late = Agent(within, "record_run"), Agent(past, "record_run")
    agents.extend([again, late])

    # Then within the grace, the missed sweep runs once, at once, not again for s1 and s2
    wait_until(lambda: len(stand_in(within, "end")) == 1, 30, "the catch-up run", again)
    missed = again.wait_for("missed_while_down")
    assert "fire_times=2" in missed and 'action="runs once now"' in missed
    # ... and past the grace it does not run, and the miss is logged and recorded
    line = late.wait_for("job_missed")
    assert f"scheduled_for={s2.isoformat()}" in line
    assert 'action="recorded as missed"' in late.wait_for("missed_while_down")
    # ... and once the catch-up run is done, the scheduler's next fire time is the next
    # minute's first: no second run of the coalesced fire times is due (issue #12: the test
    # waits on this event instead of sleeping and hoping a second run would have shown)
    expected_next = s1 + timedelta(minutes=1)
    executed = again.wait_for("job_executed")
    assert f"next_run={expected_next.isoformat()}" in executed, executed

    # `agent status` shows the run, the miss, and the next minute's first fire time as next
    shown = status(within)
    assert shown["agent_running"] and shown["agent_pid"] == again.proc.pid
    assert shown["last_run"]["status"] == "ok" and shown["last_error"] is None
    assert datetime.fromisoformat(shown["next_run"]) == expected_next
    shown = status(past)
    assert shown["last_run"]["status"] == "missed"
    assert shown["last_error"]["scheduled_for"] == s2.isoformat()
    assert datetime.fromisoformat(shown["next_run"]) == expected_next
    assert again.stop() == 0 and late.stop() == 0
    # Both have exited: the one catch-up run is all that ran, and nothing ran past the grace
    assert len(stand_in(within, "start")) == 1
    assert stand_in(within, "start")[0]["t"] > restarted_at
    assert stand_in(past) == []


def test_a_sweep_that_overruns_its_next_fire_time_is_never_doubled(
    tmp_path: Path, agents: list[Agent]
) -> None:
    # Given a fire time every second and a sweep that runs until the test releases it
    write_config(tmp_path, hour="*", minute="*", second="*")
    release = tmp_path / "release"
    agent = Agent(tmp_path, "record_run", AGENT_TEST_HOLD=str(release))
    agents.append(agent)
    wait_until(lambda: len(stand_in(tmp_path, "start")) == 1, 30, "the first run", agent)
    # When cron asks for a sweep of the same agency meanwhile (another process)
    once = cli(tmp_path, "run", "--once", "--job", "agent_stand_in:record_run")
    # Then it does not start, and says who is sweeping
    assert once.returncode == 4, once.stderr
    assert f"pid {agent.proc.pid}" in once.stderr
    # ... and the agent's own fire times during the sweep are skipped, and logged as such
    skipped = agent.wait_for("job_skipped")
    assert 'reason="the previous sweep is still running"' in skipped
    assert len(stand_in(tmp_path, "start")) == 1
    release.touch()
    wait_until(lambda: len(stand_in(tmp_path, "end")) >= 2, 30, "the next run", agent)
    assert agent.stop() == 0

    # The next run started only after the first had ended
    rows = stand_in(tmp_path)
    assert [r["event"] for r in rows[:4]] == ["start", "end", "start", "end"], rows
    assert rows[2]["t"] >= rows[1]["t"]
    busy = [r for r in runs(tmp_path) if r["status"] == "busy"]
    assert len(busy) == 1 and busy[0]["trigger"] == "once"


def _seed_store(tmp: Path) -> None:
    sys.path.insert(0, str(HERE.parents[1] / "helpers"))
    from factories import host, sweep

    store = Inventory(tmp / "var/inventory.json")
    store.commit_sweep(
        sweep(host("10.77.0.9"), sweep_id="seed", started=utcnow()), [], score_findings([])
    )


def _store_is_whole(tmp: Path) -> None:
    assert [s["sweep_id"] for s in Inventory(tmp / "var/inventory.json").sweeps()] == ["seed"]
    assert not list((tmp / "var").glob(".*.tmp"))
    con = sqlite3.connect(tmp / "var/agent/tn-xa-mau/jobs.sqlite")
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    con.close()


def test_sigterm_mid_sweep_records_it_interrupted_and_leaves_the_store_whole(
    tmp_path: Path, agents: list[Agent]
) -> None:
    # Given a store with one sweep, and an agent whose sweep is in flight
    write_config(tmp_path, hour="*", minute="*", second="*")
    _seed_store(tmp_path)
    agent = Agent(tmp_path, "record_run", AGENT_TEST_SLEEP="30")
    agents.append(agent)
    wait_until(lambda: bool(stand_in(tmp_path, "start")), 30, "a sweep in flight", agent)
    assert status(tmp_path)["running"]["status"] == "running"
    # When systemd stops the agent
    t0 = time.monotonic()
    assert agent.stop() == 0
    # Then it stops at the sweep's next checkpoint (not after its 30 s), stores nothing
    # half-done, and says so
    assert time.monotonic() - t0 < 15
    assert stand_in(tmp_path, "end") == []
    _store_is_whole(tmp_path)
    shown = status(tmp_path)
    assert shown["running"] is None
    assert shown["last_run"]["status"] == "interrupted"
    assert "stopped by a signal" in shown["last_run"]["error"]
    assert agent.events("stop_requested") and "signal=SIGTERM" in agent.events("stop_requested")[0]

    # And the next start runs the interrupted sweep again, once
    again = Agent(tmp_path, "record_run")
    agents.append(again)
    wait_until(lambda: len(stand_in(tmp_path, "end")) >= 1, 30, "the catch-up run", again)
    assert again.stop() == 0
    assert [r["trigger"] for r in runs(tmp_path)][:2] == ["schedule", "catch_up"]


def test_a_sweep_stuck_past_the_stop_timeout_is_recorded_interrupted_and_the_agent_exits(
    tmp_path: Path, agents: list[Agent]
) -> None:
    # Given a sweep that ignores the stop request (stuck in a long scan)
    write_config(tmp_path, hour="*", minute="*", second="*")
    _seed_store(tmp_path)
    agent = Agent(tmp_path, "stubborn", "--stop-timeout", "1", AGENT_TEST_SLEEP="30")
    agents.append(agent)
    wait_until(lambda: bool(stand_in(tmp_path, "start")), 30, "a sweep in flight", agent)
    # When the agent is stopped
    t0 = time.monotonic()
    assert agent.stop() == 0
    # Then it waits the stop timeout, not the sweep, and records why
    assert 0.9 < time.monotonic() - t0 < 15  # not the sweep's 30 s
    last = runs(tmp_path)[-1]
    assert last["status"] == "interrupted" and "safe point within 1 s" in last["error"]
    assert agent.events("agent_exit")
    _store_is_whole(tmp_path)


@pytest.mark.parametrize(
    ("job", "code", "status_"),
    [("record_run", 0, "ok"), ("incomplete", 3, "incomplete"), ("fail_first", 3, "error")],
)
def test_once_runs_now_and_exits_with_the_sweep_code(
    tmp_path: Path, job: str, code: int, status_: str
) -> None:
    write_config(tmp_path)
    done = cli(tmp_path, "run", "--once", "--job", f"agent_stand_in:{job}")
    assert done.returncode == code, done.stdout + done.stderr
    assert len(stand_in(tmp_path, "start")) == 1
    (record,) = runs(tmp_path)
    assert record["trigger"] == "once" and record["status"] == status_
    assert "event=run_finished" in done.stdout and f"status={status_}" in done.stdout
