"""``secposture report``: the agency report of the last stored sweep, again, and as a PDF."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from secposture.cli.common import (
    CONFIG_OPT,
    REPORT_OUT_OPT,
    cli_context,
    emit_json,
    fail,
    load,
    message_lang,
)
from secposture.cli.score import assess_latest
from secposture.model import exitcodes
from secposture.model.i18n import t
from secposture.report.outputs import write_outputs
from secposture.report.outputs.pdf import ChromiumMissing, PdfError, render_pdf
from secposture.report.view.context import context_from_store


@click.command("report")
@CONFIG_OPT
@REPORT_OUT_OPT
@click.option(
    "--pdf",
    is_flag=True,
    help="Also print the report to report.pdf with headless Chromium (exit 4 if missing).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the written files as JSON.")
def report(config_path: Path, out: Path | None, pdf: bool, as_json: bool) -> None:
    """Write the report of the last stored sweep again, without scanning.

    The checks run again over what that sweep observed, with today's frameworks, answers and
    waivers (as 'secposture score' does), and the report shows the trend, the changes and the
    device history from the inventory. The language is --lang, else report.lang of the config.
    Exit codes: 0 ok · 2 usage or config error, or no sweep stored yet · 3 the stored sweep was
    incomplete (the report is written and says so) · 4 --pdf and no working Chromium.
    """
    config = load(config_path)
    messages = message_lang()
    lang = cli_context().explicit or config.report.lang.value
    store, sweep, result = assess_latest(config, messages)
    context = context_from_store(store, sweep, posture=result.posture, score=result.score)
    folder = out or config.report.dir
    paths = write_outputs(
        sweep, result.findings, result.score, config, folder, lang, context=context
    )
    written = {k: str(v) for k, v in paths.model_dump().items()}
    if pdf:
        if not as_json:
            click.echo(t("report.cli.pdf_start", messages), err=True)
        try:
            written["pdf"] = str(render_pdf(paths.html, folder / "report.pdf"))
        except ChromiumMissing as exc:
            fail(t("report.cli.no_chromium", messages, detail=str(exc)), exitcodes.ENVIRONMENT)
        except PdfError as exc:
            fail(t("report.cli.pdf_failed", messages, detail=str(exc)), exitcodes.ENVIRONMENT)
    if as_json:
        emit_json({"sweep_id": sweep.sweep_id, "complete": sweep.complete, "files": written})
    else:
        click.echo(t("report.cli.done", messages, sweep=sweep.sweep_id, lang=lang))
        for path in written.values():
            click.echo(f"  {path}")
    if not sweep.complete:
        sys.exit(exitcodes.INCOMPLETE)
