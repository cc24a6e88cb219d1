"""``secposture report``: the agency report of the last stored sweep, again, and as a PDF."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from secposture.cli import CONFIG_OPT, _ctx, _emit_json, _lang, _load, fail
from secposture.cli.score import assess_latest
from secposture.model import exitcodes
from secposture.model.i18n import t
from secposture.report.outputs import write_outputs
from secposture.report.outputs.pdf import ChromiumMissing, PdfError, render_pdf
from secposture.report.view.context import context_from_store

F = TypeVar("F", bound=Callable[..., Any])


def _config_opt(func: F) -> F:
    # cli.py imports this module to register the command; see cli_score._config_opt.
    return CONFIG_OPT(func)


@click.command("report")
@_config_opt
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Report folder (default: report.dir from the config).",
)
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
    config = _load(config_path)
    messages = _lang()
    lang = _ctx().explicit or config.report.lang.value
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
        _emit_json({"sweep_id": sweep.sweep_id, "complete": sweep.complete, "files": written})
    else:
        click.echo(t("report.cli.done", messages, sweep=sweep.sweep_id, lang=lang))
        for path in written.values():
            click.echo(f"  {path}")
    if not sweep.complete:
        sys.exit(exitcodes.INCOMPLETE)


# Declared with its type so that cli.py, which imports this module while mypy is still
# inferring the decorated command above (an import cycle), needs no inference.
COMMANDS: tuple[click.Command, ...] = (report,)
