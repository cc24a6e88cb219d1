"""``secposture keys …``: the agency's signing key for bundles."""

from __future__ import annotations

from pathlib import Path

import click

from secposture.cli.common import CONFIG_OPT, config_fail, emit_json, fail, load, message_lang
from secposture.config.errors import ConfigError
from secposture.model import exitcodes
from secposture.model.i18n import t


@click.group("keys")
def keys_group() -> None:
    """The agency's Ed25519 signing key for bundles (bundle.key in the config)."""


@keys_group.command("init")
@CONFIG_OPT
@click.option("--json", "as_json", is_flag=True)
def keys_init(config_path: Path, as_json: bool) -> None:
    """Create the signing key at bundle.key (file:PATH, mode 0600) and print its public key.

    The province registers the printed ``ed25519:…`` line for this agency in its collector
    config. An existing key is never replaced.
    """
    from secposture.bundle.export import bundle_section
    from secposture.bundle.keys import KeyProblem, create_key, key_file, key_id, public_key_text

    config = load(config_path)
    try:
        ref = bundle_section(config).key
    except ConfigError as exc:
        config_fail(exc)
        return
    path = key_file(ref)
    if path is None:
        fail(
            t(
                "bundle.error",
                message_lang(),
                detail="keys init writes a file: set bundle.key = "
                '"file:PATH" (an env: key is created by whoever sets the variable)',
            ),
            exitcodes.USAGE,
        )
    try:
        key = create_key(path)
    except KeyProblem as exc:
        fail(t("bundle.error", message_lang(), detail=str(exc)), exitcodes.USAGE)
    public = public_key_text(key)
    if as_json:
        emit_json(
            {
                "agency": config.agency.id,
                "path": str(path),
                "public_key": public,
                "key_id": key_id(public),
            }
        )
        return
    click.echo(t("bundle.key_created", message_lang(), path=path), err=True)
    click.echo(public)


@keys_group.command("show")
@CONFIG_OPT
@click.option("--json", "as_json", is_flag=True)
def keys_show(config_path: Path, as_json: bool) -> None:
    """Print the public key of bundle.key (what the province registers)."""
    from secposture.bundle.export import bundle_section
    from secposture.bundle.keys import KeyProblem, key_id, load_private_key, public_key_text

    config = load(config_path)
    try:
        public = public_key_text(load_private_key(bundle_section(config).key))
    except ConfigError as exc:
        config_fail(exc)
        return
    except KeyProblem as exc:
        fail(t("bundle.error", message_lang(), detail=str(exc)), exitcodes.USAGE)
    if as_json:
        emit_json({"agency": config.agency.id, "public_key": public, "key_id": key_id(public)})
        return
    click.echo(public)
