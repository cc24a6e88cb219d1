"""``secposture collector users …`` and ``collector tokens …``: the console's accounts and
the read-only API tokens (issue #15)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from secposture.cli.collector_common import COLLECTOR_OPT, load_collector, open_or_fail
from secposture.cli.common import emit_json, fail, message_lang
from secposture.config.secrets import SecretError, resolve
from secposture.model import exitcodes
from secposture.model.i18n import t

ROLES = ["province", "group", "unit"]


def _password(reference: str | None) -> str:
    """The new password: from a reference (env:NAME, file:PATH), else asked twice."""
    if reference:
        try:
            return resolve(reference, key="--password").reveal()
        except SecretError as exc:
            fail(t("registry.refused", message_lang(), detail=str(exc)), exitcodes.USAGE)
    if not os.isatty(0):
        fail(t("accounts.password_needed", message_lang()), exitcodes.USAGE)
    return str(
        click.prompt(
            t("accounts.password_prompt", message_lang()), hide_input=True, confirmation_prompt=True
        )
    )


@click.group("users")
def users_group() -> None:
    """The console's accounts: add, list, disable, reset a password."""


@users_group.command("add")
@click.argument("name")
@COLLECTOR_OPT
@click.option("--role", required=True, type=click.Choice(ROLES), help="What it may see.")
@click.option("--group", help="For --role group: the group whose units it sees.")
@click.option("--unit", help="For --role unit: the one unit it sees.")
@click.option("--password", "reference", help="env:NAME or file:PATH (else asked twice).")
def users_add(
    name: str,
    config_path: Path,
    role: str,
    group: str | None,
    unit: str | None,
    reference: str | None,
) -> None:
    """Create a console account."""
    from secposture.province.accounts import Role, add_user
    from secposture.province.db.registry import RegistryError

    store = open_or_fail(load_collector(config_path))
    password = _password(reference)
    try:
        add_user(
            store.engine,
            name,
            Role(role),
            password,
            hierarchy=store.hierarchy,
            group=group,
            unit=unit,
        )
    except RegistryError as exc:
        fail(t("registry.refused", message_lang(), detail=str(exc)), exitcodes.USAGE)
    click.echo(t("accounts.user_added", message_lang(), name=name, role=role))


@users_group.command("list")
@COLLECTOR_OPT
@click.option("--json", "as_json", is_flag=True)
def users_list(config_path: Path, as_json: bool) -> None:
    """Every account, its role and scope, disabled or locked (never a password)."""
    from secposture.province.accounts import list_users

    store = open_or_fail(load_collector(config_path))
    users = list_users(store.engine)
    if as_json:
        emit_json(users)
        return
    lang = message_lang()
    for user in users:
        scope = user["group_id"] or user["unit_id"] or "*"
        state = t("accounts.disabled", lang) if user["disabled"] else ""
        click.echo(f"{user['name']}\t{user['role']}\t{scope}\t{state}".rstrip())


@users_group.command("disable")
@click.argument("name")
@COLLECTOR_OPT
def users_disable(name: str, config_path: Path) -> None:
    """The account can no longer log in; its open sessions end now."""
    from secposture.province.accounts import disable_user
    from secposture.province.db.registry import RegistryError

    store = open_or_fail(load_collector(config_path))
    try:
        disable_user(store.engine, name)
    except RegistryError as exc:
        fail(t("registry.refused", message_lang(), detail=str(exc)), exitcodes.USAGE)
    click.echo(t("accounts.user_disabled", message_lang(), name=name))


@users_group.command("reset")
@click.argument("name")
@COLLECTOR_OPT
@click.option("--password", "reference", help="env:NAME or file:PATH (else asked twice).")
def users_reset(name: str, config_path: Path, reference: str | None) -> None:
    """A new password; the lockout is lifted and the account's sessions end."""
    from secposture.province.accounts import reset_password
    from secposture.province.db.registry import RegistryError

    store = open_or_fail(load_collector(config_path))
    password = _password(reference)
    try:
        reset_password(store.engine, name, password)
    except RegistryError as exc:
        fail(t("registry.refused", message_lang(), detail=str(exc)), exitcodes.USAGE)
    click.echo(t("accounts.password_reset", message_lang(), name=name))


@click.group("tokens")
def tokens_group() -> None:
    """Read-only API tokens for scripts and BI tools, scoped like accounts."""


@tokens_group.command("add")
@click.argument("name")
@COLLECTOR_OPT
@click.option("--role", required=True, type=click.Choice(ROLES), help="What it may read.")
@click.option("--group", help="For --role group.")
@click.option("--unit", help="For --role unit.")
def tokens_add(
    name: str, config_path: Path, role: str, group: str | None, unit: str | None
) -> None:
    """Create a token and print it once (only its digest is kept)."""
    from secposture.province.accounts import Role, add_token
    from secposture.province.db.registry import RegistryError

    store = open_or_fail(load_collector(config_path))
    try:
        secret = add_token(
            store.engine, name, Role(role), hierarchy=store.hierarchy, group=group, unit=unit
        )
    except RegistryError as exc:
        fail(t("registry.refused", message_lang(), detail=str(exc)), exitcodes.USAGE)
    click.echo(t("accounts.token_added", message_lang(), name=name), err=True)
    click.echo(secret)


@tokens_group.command("revoke")
@click.argument("name")
@COLLECTOR_OPT
def tokens_revoke(name: str, config_path: Path) -> None:
    """The token stops working now."""
    from secposture.province.accounts import revoke_token
    from secposture.province.db.registry import RegistryError

    store = open_or_fail(load_collector(config_path))
    try:
        revoke_token(store.engine, name)
    except RegistryError as exc:
        fail(t("registry.refused", message_lang(), detail=str(exc)), exitcodes.USAGE)
    click.echo(t("accounts.token_revoked", message_lang(), name=name))
