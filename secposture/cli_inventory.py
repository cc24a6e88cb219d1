"""``secposture inventory …``: what the store remembers."""

from __future__ import annotations

import json
from pathlib import Path

import click

from inventory.storage import StoreError
from inventory.store import Inventory
from secposture import exitcodes
from secposture.cli import CONFIG_OPT, _load, fail


def _store(config_path: Path) -> Inventory:
    config = _load(config_path)
    return Inventory(config.store.path, keep_sweeps=config.store.keep_sweeps)


@click.group("inventory")
def inventory_group() -> None:
    """Devices, sweeps and changes remembered in the agency's store."""


@inventory_group.command("list")
@CONFIG_OPT
@click.option("--json", "as_json", is_flag=True)
def inventory_list(config_path: Path, as_json: bool) -> None:
    """Every device ever seen, with status and first/last seen."""
    try:
        devices = _store(config_path).devices()
    except StoreError as exc:
        fail(str(exc), exitcodes.USAGE)
    if as_json:
        click.echo(json.dumps(devices, ensure_ascii=False, indent=2))
        return
    for d in sorted(devices, key=lambda d: d["last_seen"], reverse=True):
        ports = ",".join(f"{s['port']}/{s['proto']}" for s in d.get("services", []))
        click.echo(
            f"{d['ip']:<16} {d.get('mac') or '-':<18} {d['status']:<8} "
            f"{d['first_seen'][:10]} {d['last_seen'][:10]} {ports}"
        )


@inventory_group.command("diff")
@CONFIG_OPT
@click.option("--since", help="Sweep id: show every change after it (default: last sweep's).")
@click.option("--json", "as_json", is_flag=True)
def inventory_diff(config_path: Path, since: str | None, as_json: bool) -> None:
    """Changes between sweeps: new/missing devices, ports opened/closed, services changed."""
    store = _store(config_path)
    try:
        changes = store.changes(since)
        if since is None:
            sweeps = store.sweeps()
            last = sweeps[-1]["sweep_id"] if sweeps else None
            changes = [c for c in changes if c.sweep_id == last]
    except StoreError as exc:
        fail(str(exc), exitcodes.USAGE)
    if as_json:
        click.echo(
            json.dumps([c.model_dump(mode="json") for c in changes], ensure_ascii=False, indent=2)
        )
        return
    for c in changes:
        port = f":{c.port}/{c.proto}" if c.port else ""
        detail = f" {c.before} → {c.after}" if (c.before or c.after) else ""
        click.echo(f"{c.sweep_id} {c.kind.value:<16} {c.ip}{port}{detail}")
