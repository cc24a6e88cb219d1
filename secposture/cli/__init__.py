"""The ``secposture`` command line."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from secposture.config.sections import AgencyConfig, ConfigError, load_config
from secposture.model import exitcodes
from secposture.model.i18n import t
from secposture.model.records import Severity, Status

SEVERITIES = [s.value for s in Severity]


class Ctx:
    def __init__(self, lang: str | None) -> None:
        self.explicit = lang  # only an explicit --lang overrides the config's report.lang
        self.lang = lang or os.environ.get("SECPOSTURE_LANG", "vi")


def _ctx() -> Ctx:
    obj = click.get_current_context().find_object(Ctx)
    return obj if obj is not None else Ctx(None)


def _lang() -> str:
    return _ctx().lang


def fail(message: str, code: int) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


def _load(path: Path) -> AgencyConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        fail(t("error.config", _lang(), detail=str(exc)), exitcodes.USAGE)


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    default=None,
    help="Language of messages ($SECPOSTURE_LANG, else vi) and of the report "
    "(else report.lang of the config).",
)
@click.version_option(package_name="secposture")
@click.pass_context
def main(ctx: click.Context, lang: str | None) -> None:
    """secposture — cybersecurity posture and LAN inventory for government agencies.

    \b
    Typical use:
      secposture sweep -c agency.toml      sweep the LAN, update the inventory, write the report
      secposture demo                      build a lab LAN in namespaces, sweep it, tear it down

    Exit codes: 0 ok · 1 findings at/above --fail-on · 2 usage or config error ·
    3 sweep incomplete · 4 cannot run here (not root, tool missing, wrong namespace).
    """
    ctx.obj = Ctx(lang)


CONFIG_OPT = click.option(
    "-c",
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Agency configuration file (TOML).",
)


@main.command()
@CONFIG_OPT
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Report folder (default: report.dir from the config).",
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    help="Exit 1 when a failed finding has this severity or higher.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines (for the scheduler).")
def sweep(
    config_path: Path, out: Path | None, fail_on: str | None, as_json: bool, quiet: bool
) -> None:
    """Sweep the agency LAN: discover hosts, scan services, check, score and report.

    Scans only the config's scan.scopes minus scan.exclude. Needs root for ARP, SYN and UDP
    scans; without root it falls back to TCP connect scans and says what it skipped.
    """
    from secposture.cli.progress import SweepProgressText
    from secposture.job.pipeline import run_job

    config = _load(config_path)
    lang = _lang()
    progress_text = SweepProgressText(lang)

    def progress(event: str, data: dict[str, object]) -> None:
        if quiet or as_json:
            return
        if event == "start":
            click.echo(t("sweep.start", lang, agency=config.agency.id, **data), err=True)
        elif (line := progress_text(event, data)) is not None:
            click.echo(line, err=True)

    try:
        job = run_job(config, out_dir=out, lang=_ctx().explicit, progress=progress)
    except Exception as exc:
        from scanners.netns import NetnsGuardError
        from secposture.job.sweep import ScannerUnavailable

        if isinstance(exc, NetnsGuardError):
            fail(t("error.netns", lang, detail=str(exc)), exitcodes.ENVIRONMENT)
        if isinstance(exc, ScannerUnavailable):
            fail(t("scan.error.unavailable", lang, detail=str(exc)), exitcodes.ENVIRONMENT)
        if isinstance(exc, ConfigError):  # a questionnaire, waivers or framework file
            fail(t("error.config", lang, detail=str(exc)), exitcodes.USAGE)
        raise
    score = job.score
    failed = [a for a in job.sweep.attempts if a.status.value == "error"]
    if as_json:
        _emit_json(
            {
                "sweep_id": job.sweep.sweep_id,
                "complete": job.sweep.complete,
                "score": score.model_dump(mode="json"),
                "counts": job.sweep.counts.model_dump(),
                "changes": len(job.changes),
                "failed_attempts": [a.model_dump(mode="json") for a in failed],
                "report": {k: str(v) for k, v in job.report.model_dump().items()},
            }
        )
    elif not quiet:
        shown = "—" if score.overall is None else f"{score.overall:.0f}/100"
        click.echo(
            t(
                "sweep.done",
                lang,
                hosts=job.sweep.counts.hosts_found,
                services=job.sweep.counts.services_open,
                score=shown,
                coverage=f"{score.coverage:.0%}",
            )
        )
        if failed:
            click.echo(t("sweep.incomplete", lang, count=len(failed)))
        click.echo(t("sweep.report", lang, path=job.report.html))
    if not job.sweep.complete:
        sys.exit(exitcodes.INCOMPLETE)
    if fail_on is not None:
        threshold = Severity(fail_on).rank
        if any(f.status is Status.FAIL and f.severity.rank >= threshold for f in job.findings):
            sys.exit(exitcodes.FINDINGS)


@main.group("config")
def config_group() -> None:
    """Check an agency configuration file."""


@config_group.command("check")
@CONFIG_OPT
def config_check(config_path: Path) -> None:
    """Validate the config; print one line naming the first wrong key (exit 2) or 'ok'."""
    config = _load(config_path)
    click.echo(
        f"ok: {config.agency.id} ({config.agency.level.value}), "
        f"scopes {', '.join(config.scan.scopes)}"
    )


@main.group("checks")
def checks_group() -> None:
    """The check catalogue."""


@checks_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def checks_list(as_json: bool) -> None:
    """List every check with its id, severity and title."""
    from secposture.checks import load_catalogue

    catalogue = load_catalogue()
    if as_json:
        _emit_json([m.model_dump(mode="json") for m in catalogue.values()])
        return
    for meta in catalogue.values():
        click.echo(f"{meta.id:<32} {meta.severity.value:<8} {meta.title(_lang())}")


from secposture.cli.inventory import inventory_group  # noqa: E402
from secposture.cli.lab import COMMANDS as LAB_COMMANDS  # noqa: E402 - register on main

for _command in LAB_COMMANDS:
    main.add_command(_command)
main.add_command(inventory_group)

from secposture.cli.agent import agent_group  # noqa: E402

main.add_command(agent_group)

from secposture.cli.bundle import COMMANDS as BUNDLE_COMMANDS  # noqa: E402

for _command in BUNDLE_COMMANDS:  # keys, bundle, collector, aggregate
    main.add_command(_command)

from secposture.cli.score import frameworks_group, score  # noqa: E402

main.add_command(frameworks_group)
main.add_command(score)

from secposture.cli.report import COMMANDS as REPORT_COMMANDS  # noqa: E402

for _command in REPORT_COMMANDS:  # report
    main.add_command(_command)

import secposture.cli.nmap_import  # noqa: E402, F401 - adds `inventory import-nmap` (issue #3)
