"""``secposture checks list``: the check catalogue."""

from __future__ import annotations

import click

from secposture.cli.common import emit_json, message_lang


@click.group("checks")
def checks_group() -> None:
    """The check catalogue."""


@checks_group.command("list")
@click.option("--json", "as_json", is_flag=True)
def checks_list(as_json: bool) -> None:
    """List every check with its id, severity and title."""
    from secposture.checks import load_catalogue

    catalogue = load_catalogue()
    if as_json:
        emit_json([m.model_dump(mode="json") for m in catalogue.values()])
        return
    for meta in catalogue.values():
        click.echo(f"{meta.id:<32} {meta.severity.value:<8} {meta.title(message_lang())}")
