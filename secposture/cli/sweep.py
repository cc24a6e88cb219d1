"""``secposture sweep``: sweep the agency LAN, update the inventory, write the report."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from secposture.cli.common import (
    CONFIG_OPT,
    REPORT_OUT_OPT,
    SEVERITIES,
    cli_context,
    emit_json,
    exit_on_findings,
    fail,
    load,
    message_lang,
)
from secposture.config.errors import ConfigError
from secposture.model import exitcodes
from secposture.model.i18n import t


@click.command()
@CONFIG_OPT
@REPORT_OUT_OPT
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

    config = load(config_path)
    lang = message_lang()
    progress_text = SweepProgressText(lang)

    def progress(event: str, data: dict[str, object]) -> None:
        if quiet or as_json:
            return
        if event == "start":
            click.echo(t("sweep.start", lang, agency=config.agency.id, **data), err=True)
        elif (line := progress_text(event, data)) is not None:
            click.echo(line, err=True)

    try:
        job = run_job(config, out_dir=out, lang=cli_context().explicit, progress=progress)
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
        emit_json(
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
    exit_on_findings(job.findings, fail_on)
