"""The ``secposture`` command line: the top-level group, with every command group added to it.

Each command group lives in its own module and takes what it shares from
:mod:`secposture.cli.common`; this module only names them (``COMMANDS``) and imports the one
that runs, so the imports run one way.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from secposture.cli.common import Ctx

# Every command: the module that defines it and its name there. A command's module is imported
# only when that command runs (or --help lists them): an import of a 10,000-host nmap report
# need not load the collector's web server, the lab or the report's browser (issue #20).
COMMANDS: dict[str, tuple[str, str]] = {
    "sweep": ("secposture.cli.sweep", "sweep"),
    "config": ("secposture.cli.config", "config_group"),
    "checks": ("secposture.cli.checks", "checks_group"),
    "lab": ("secposture.cli.lab", "lab_group"),
    "demo": ("secposture.cli.lab", "demo"),
    "inventory": ("secposture.cli.inventory", "inventory_group"),
    "agent": ("secposture.cli.agent", "agent_group"),
    "keys": ("secposture.cli.keys", "keys_group"),
    "bundle": ("secposture.cli.bundle", "bundle_group"),
    "collector": ("secposture.cli.collector", "collector_group"),
    "aggregate": ("secposture.cli.collector", "aggregate"),
    "frameworks": ("secposture.cli.score", "frameworks_group"),
    "score": ("secposture.cli.score", "score"),
    "report": ("secposture.cli.report", "report"),
}


class LazyGroup(click.Group):
    """A group whose commands are imported by name when asked for (click's lazy-loading
    pattern), listed in alphabetical order as click lists them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attr = COMMANDS[cmd_name]
        command: Any = getattr(importlib.import_module(module), attr)
        if not isinstance(command, click.Command) or command.name != cmd_name:
            raise RuntimeError(f"{module}.{attr} is not the command {cmd_name!r}")
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
