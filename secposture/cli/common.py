"""What every ``secposture`` sub-command shares: the language, config loading, JSON output,
failing with an exit code, and the options several commands take.

The command modules import from here and ``secposture.cli`` imports the command modules,
so nothing here may import a command module (the cli package has no import cycle).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from secposture.config.errors import ConfigError
from secposture.config.loading import load_config
from secposture.config.sections import AgencyConfig
from secposture.model import exitcodes
from secposture.model.i18n import t
from secposture.model.records import Finding, Severity, Status

SEVERITIES = [s.value for s in Severity]
F = TypeVar("F", bound=Callable[..., Any])


def config_option(help_text: str, *, required: bool = True) -> Callable[[F], F]:
    """The ``-c/--config FILE`` option, with the help text of the kind of config it reads."""
    return click.option(
        "-c",
        "--config",
        "config_path",
        required=required,
        type=click.Path(path_type=Path, dir_okay=False),
        help=help_text,
    )


CONFIG_OPT = config_option("Agency configuration file (TOML).")
REPORT_OUT_OPT = click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Report folder (default: report.dir from the config).",
)


class Ctx:
    """The options of the ``secposture`` group that every sub-command reads (``--lang``)."""

    def __init__(self, lang: str | None) -> None:
        self.explicit = lang  # only an explicit --lang overrides the config's report.lang
        self.lang = lang or os.environ.get("SECPOSTURE_LANG", "vi")


def cli_context() -> Ctx:
    """The running command's :class:`Ctx` (defaults when a command runs outside the group)."""
    obj = click.get_current_context().find_object(Ctx)
    return obj if obj is not None else Ctx(None)


def message_lang() -> str:
    """The language of messages: --lang, else $SECPOSTURE_LANG, else vi."""
    return cli_context().lang


def fail(message: str, code: int) -> NoReturn:
    """Print one line on stderr and exit with ``code``."""
    click.echo(message, err=True)
    sys.exit(code)


def config_fail(exc: ConfigError) -> NoReturn:
    """Report a configuration problem as one line and exit 2."""
    fail(t("error.config", message_lang(), detail=str(exc)), exitcodes.USAGE)


def load(path: Path) -> AgencyConfig:
    """The agency config at ``path``; a bad one ends the command with exit 2."""
    try:
        return load_config(path)
    except ConfigError as exc:
        config_fail(exc)


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON, Vietnamese letters kept as they are."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def exit_on_findings(findings: Iterable[Finding], fail_on: str | None) -> None:
    """Exit 1 when a failed finding has the --fail-on severity or higher."""
    if fail_on is None:
        return
    threshold = Severity(fail_on).rank
    if any(f.status is Status.FAIL and f.severity.rank >= threshold for f in findings):
        sys.exit(exitcodes.FINDINGS)
