"""The ``secposture`` command line: the top-level group, with every command group added to it.

Each command group lives in its own module and takes what it shares from
:mod:`secposture.cli.common`; this module only imports them, so the imports run one way.
"""

from __future__ import annotations

import click

from secposture.cli.agent import agent_group
from secposture.cli.bundle import bundle_group
from secposture.cli.checks import checks_group
from secposture.cli.collector import aggregate, collector_group
from secposture.cli.common import Ctx
from secposture.cli.config import config_group
from secposture.cli.inventory import inventory_group
from secposture.cli.keys import keys_group
from secposture.cli.lab import demo, lab_group
from secposture.cli.report import report
from secposture.cli.score import frameworks_group, score
from secposture.cli.sweep import sweep


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


for _command in (
    sweep,
    config_group,
    checks_group,
    lab_group,
    demo,
    inventory_group,
    agent_group,
    keys_group,
    bundle_group,
    collector_group,
    aggregate,
    frameworks_group,
    score,
    report,
):
    main.add_command(_command)
