"""``secposture config check``: is an agency configuration file valid?"""

from __future__ import annotations

from pathlib import Path

import click

from secposture.cli.common import CONFIG_OPT, load


@click.group("config")
def config_group() -> None:
    """Check an agency configuration file."""


@config_group.command("check")
@CONFIG_OPT
def config_check(config_path: Path) -> None:
    """Validate the config; print one line naming the first wrong key (exit 2) or 'ok'."""
    config = load(config_path)
    click.echo(
        f"ok: {config.agency.id} ({config.agency.level.value}), "
        f"scopes {', '.join(config.scan.scopes)}"
    )
