"""``secposture agent …``: the weekly sweep scheduler and what it last did."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from inventory.storage import StoreError
from secposture.agent.chain import DEFAULT_JOB
from secposture.agent.runs import RunRecord, RunStatus
from secposture.cli.common import CONFIG_OPT, emit_json, fail, load, message_lang
from secposture.model import exitcodes
from secposture.model.i18n import t
from secposture.model.records import utcnow


@click.group("agent")
def agent_group() -> None:
    """The agent: sweeps the agency's LAN on the [schedule] of its config, every week.

    \b
    Run it as a service (packaging/secposture-agent.service) or from cron with --once.
    Its log lines go to stdout (the journal) as key=value pairs: grep event=.
    """


@agent_group.command("run")
@CONFIG_OPT
@click.option(
    "--once",
    is_flag=True,
    help="Run sweep → report → bundle push now, once, and exit with the sweep's exit code "
    "(0 ok, 3 incomplete or stopped, 4 another sweep of the agency is running). For cron.",
)
@click.option(
    "--stop-timeout",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="After SIGTERM/SIGINT, seconds a sweep in flight gets to reach a safe point before "
    "it is recorded as interrupted and the agent exits (keep below systemd's TimeoutStopSec).",
)
@click.option(
    "--job",
    "job_ref",
    default=DEFAULT_JOB,
    hidden=True,
    help="Import path of the job to run instead of the sweep (tests stand in a short one).",
)
def agent_run(config_path: Path, once: bool, stop_timeout: float, job_ref: str) -> None:
    """Run the scheduler in the foreground until SIGTERM/SIGINT (or once, with --once).

    \b
    The schedule is [schedule] in the config: by default Sunday, starting at a random moment
    between 01:00 and 04:00 Asia/Ho_Chi_Minh. A sweep missed while the machine was off runs
    once when the agent is back within schedule.misfire_grace_hours (default 72); later than
    that it is recorded as missed. State is kept beside the store, in agent/<agency id>/.
    """
    from secposture.agent.chain import load_job
    from secposture.agent.locks import LockBusy
    from secposture.agent.log import configure

    config = load(config_path)
    lang = message_lang()
    try:
        job = load_job(job_ref)
    except ValueError as exc:
        fail(t("agent.error.job", lang, detail=str(exc)), exitcodes.USAGE)
    configure()
    try:
        if once:
            from secposture.agent.once import run_once

            record = run_once(config, job, stop_timeout_s=stop_timeout)
            if record.status is RunStatus.BUSY:
                fail(
                    t("agent.busy", lang, agency=config.agency.id, pid=_pid(record)),
                    exitcodes.ENVIRONMENT,
                )
            click.echo(
                t(
                    "agent.once.done",
                    lang,
                    run_id=record.run_id,
                    result=_result(record, lang),
                    duration=_duration(record, lang),
                ),
                err=True,
            )
            sys.exit(exitcodes.INCOMPLETE if record.exit_code is None else record.exit_code)
        from secposture.agent.scheduler import Agent

        sys.exit(Agent(config, job, stop_timeout_s=stop_timeout).serve())
    except LockBusy as busy:
        fail(
            t("agent.already_running", lang, agency=config.agency.id, pid=busy.holder or "?"),
            exitcodes.ENVIRONMENT,
        )
    except (StoreError, OSError) as exc:
        fail(t("agent.error.state", lang, detail=str(exc)), exitcodes.ENVIRONMENT)


def _pid(record: RunRecord) -> str:
    # The busy record's error names the holder; the pid of this process is not the point.
    detail = record.error or ""
    return detail.split("(pid ", 1)[1].split(")", 1)[0] if "(pid " in detail else "?"


def _result(record: RunRecord, lang: str) -> str:
    return t(f"agent.result.{record.status.value}", lang)


def _duration(record: RunRecord, lang: str) -> str:
    seconds = record.duration_s
    if seconds is None:
        return t("agent.duration.unknown", lang)
    return t("agent.duration", lang, seconds=seconds)


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %z")


@agent_group.command("status")
@CONFIG_OPT
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def agent_status_cmd(config_path: Path, as_json: bool) -> None:
    """Show the last run (when, result, duration), the next run, the outbox and the last error."""
    from secposture.agent.status import agent_status

    config = load(config_path)
    lang = message_lang()
    try:
        status = agent_status(config, utcnow())
    except StoreError as exc:
        fail(t("agent.error.state", lang, detail=str(exc)), exitcodes.ENVIRONMENT)
    if as_json:
        emit_json(status.as_json())
        return
    zone = ZoneInfo(status.timezone)
    lines = [t("agent.status.title", lang, agency=status.agency_id)]
    lines.append(
        t("agent.status.agent_running", lang, pid=status.agent_pid)
        if status.agent_pid
        else t("agent.status.agent_stopped", lang)
    )
    lines.append(t("agent.status.schedule", lang, schedule=status.schedule))
    if status.running:
        lines.append(
            t(
                "agent.status.sweeping",
                lang,
                when=_when(status.running.started, zone),
                run_id=status.running.run_id,
            )
        )
    last = status.last_run
    lines.append(
        t(
            "agent.status.last_run",
            lang,
            when=_when(last.started, zone),
            result=_result(last, lang),
            duration=_duration(last, lang),
        )
        if last
        else t("agent.status.never", lang)
    )
    if status.next_run is None:
        lines.append(t("agent.status.next_unknown", lang))
    elif status.next_run_overdue:
        lines.append(t("agent.status.next_overdue", lang, when=_when(status.next_run, zone)))
    else:
        lines.append(t("agent.status.next_run", lang, when=_when(status.next_run, zone)))
    lines.append(
        t("agent.status.no_bundles", lang)
        if status.outbox is None
        else t("agent.status.outbox", lang, count=status.outbox, path=status.outbox_dir)
    )
    for pending in status.waiting:  # why each is still there, and when it goes again
        lines.append(
            t("agent.status.waiting", lang, name=pending.name, when=_when(pending.next_try, zone),
              reason=pending.reason or t("agent.status.not_tried", lang))
        )  # fmt: skip
    err = status.last_error
    lines.append(
        t(
            "agent.status.last_error",
            lang,
            when=_when(err.finished or err.started, zone),
            result=_result(err, lang),
            error=err.error,
        )
        if err
        else t("agent.status.no_error", lang)
    )
    click.echo("\n".join(lines))
