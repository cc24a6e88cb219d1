"""``secposture inventory …``: what the store remembers of devices, sweeps and changes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import click

from inventory.storage import StoreError, Tables, atomic_write_bytes
from inventory.store import Inventory
from secposture.checks.evaluators.inventory import approves
from secposture.cli.common import CONFIG_OPT, emit_json, fail, load, message_lang
from secposture.cli.nmap_import import import_nmap
from secposture.config.sections import AgencyConfig, ApprovedAsset
from secposture.model import exitcodes
from secposture.model.i18n import t
from secposture.model.records import Change
from secposture.report.view.text import spreadsheet_cell

JSON_OPT = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
CSV_COLUMNS = (
    "key", "ip", "mac", "vendor", "hostname", "status", "first_seen", "last_seen",
    "times_seen", "open_ports", "approved_owner", "approved_purpose",
)  # fmt: skip


def _open(config_path: Path) -> tuple[AgencyConfig, Inventory, Tables]:
    """The agency's config, its store and the store's tables; store errors end the command."""
    config = load(config_path)
    store = Inventory.for_config(config)
    try:
        data = store.read()
    except StoreError as exc:
        fail(t("inventory.error.store", message_lang(), detail=str(exc)), exitcodes.ENVIRONMENT)
    return config, store, data


def _day(iso: str | None) -> str:
    return iso[:10] if iso else "-"


def _ports(row: dict[str, Any]) -> str:
    return ",".join(row["services"]) if row.get("services") is not None else "?"


def _approved(config: AgencyConfig, row: dict[str, Any]) -> ApprovedAsset | None:
    if config.assets is None:
        return None
    return next((e for e in config.assets.approved if approves(e, row["ip"], row.get("mac"))), None)


@click.group("inventory")
def inventory_group() -> None:
    """Devices, sweeps and changes remembered in the agency's store (store.path)."""


inventory_group.add_command(import_nmap)  # issue #3


@inventory_group.command("list")
@CONFIG_OPT
@click.option(
    "--status",
    type=click.Choice(["active", "missing", "stale"]),
    help="Only devices with this status.",
)
@JSON_OPT
def inventory_list(config_path: Path, status: str | None, as_json: bool) -> None:
    """Every device ever seen, most recent first: status, IP, MAC, first/last seen, ports.

    A device is "missing" once a sweep with complete discovery did not see it, and "stale"
    when unseen for store.stale_after_days."""
    _, store, data = _open(config_path)
    rows = [r for r in store.devices(data) if status is None or r["status"] == status]
    if as_json:
        emit_json(rows)
        return
    lang = message_lang()
    if not data["sweeps"]:
        click.echo(t("inventory.empty", lang, path=store.path))
        return
    click.echo(t("inventory.list.header", lang))
    label = {s: t("inventory.status." + s, lang) for s in ("active", "missing", "stale")}
    lines = [
        f"{label[r['status']]:<11} {r['ip']:<16} {r.get('mac') or '-':<18} "
        f"{_day(r['first_seen']):<11} {_day(r['last_seen']):<11} {_ports(r)}"
        for r in rows
    ]
    click.echo("\n".join(lines))
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("active", "missing", "stale")}
    click.echo(t("inventory.list.summary", lang, total=len(rows), **counts))


@inventory_group.command("show")
@CONFIG_OPT
@click.argument("host")
@JSON_OPT
def inventory_show(config_path: Path, host: str, as_json: bool) -> None:
    """One device by IP, MAC or key: history of IPs, open services, changes, approval."""
    config, store, data = _open(config_path)
    lang = message_lang()
    row = store.device(host, data)
    if row is None:
        fail(t("inventory.show.unknown", lang, host=host), exitcodes.USAGE)
    keys = {row["key"], *row.get("former_keys", [])}
    changes = [c for c in store.changes(data=data) if c.device in keys]
    entry = _approved(config, row)
    if as_json:
        emit_json(
            {
                **row,
                "approved": entry.model_dump() if entry else None,
                "changes": [c.model_dump(mode="json") for c in changes],
            }
        )
        return
    click.echo(t("inventory.show.device", lang, key=row["key"]))
    click.echo(f"  IP {row['ip']}  MAC {row.get('mac') or '-'}  {row.get('vendor') or ''}")
    if row.get("hostname"):
        click.echo(f"  {row['hostname']}")
    status = t("inventory.status." + row["status"], lang)
    click.echo(
        "  "
        + t(
            "inventory.show.seen",
            lang,
            status=status,
            first=row["first_seen"][:16],
            last=row["last_seen"][:16],
            times=row["times_seen"],
        )
    )
    if entry is not None:
        click.echo(
            "  "
            + t(
                "inventory.show.approved",
                lang,
                label=entry.label,
                owner=entry.owner,
                purpose=entry.purpose,
            )
        )
    elif config.assets is not None:
        click.echo("  " + t("inventory.show.not_approved", lang))
    click.echo(t("inventory.show.ips", lang))
    for h in row["ip_history"]:
        click.echo(f"  {h['since'][:16]}  {h['ip']}")
    if row.get("services") is None:
        click.echo(t("inventory.show.not_scanned", lang))
    else:
        click.echo(t("inventory.show.services", lang, at=_day(row.get("services_scanned"))))
        for port, what in row["services"].items():
            click.echo(f"  {port:<10} {what}")
    if changes:
        click.echo(t("inventory.show.changes", lang))
        click.echo("\n".join("  " + _change_line(c, lang) for c in changes))


def _change_line(c: Change, lang: str) -> str:
    port = f":{c.port}/{c.proto}" if c.port is not None else ""
    detail = f"  {c.before or '∅'} → {c.after or '∅'}" if (c.before or c.after) else ""
    return f"{c.sweep_id}  {t('change.' + c.kind.value, lang):<22} {c.ip}{port}{detail}"


@inventory_group.command("diff")
@CONFIG_OPT
@click.option("--since", metavar="SWEEP", help="Show every change after this sweep id.")
@JSON_OPT
def inventory_diff(config_path: Path, since: str | None, as_json: bool) -> None:
    """Changes between sweeps: new, missing and returning devices, ports opened and closed,
    services or versions changed, IP and device-configuration changes.

    Without --since, the changes the latest sweep found ('inventory sweeps' lists sweep ids)."""
    _, store, data = _open(config_path)
    lang = message_lang()
    committed = store.committed(data)
    if not committed:
        fail(t("inventory.empty", lang, path=store.path), exitcodes.USAGE)
    try:
        changes = store.changes(since, data=data)
    except StoreError as exc:
        fail(t("inventory.error.store", lang, detail=str(exc)), exitcodes.USAGE)
    if since is None:
        last = committed[-1]["sweep_id"]
        changes = [c for c in changes if c.sweep_id == last]
    if as_json:
        emit_json([c.model_dump(mode="json") for c in changes])
        return
    if since is None:
        click.echo(t("inventory.diff.last", lang, sweep=committed[-1]["sweep_id"]))
    else:
        click.echo(t("inventory.diff.since", lang, sweep=since))
    if not changes:
        click.echo(t("inventory.diff.none", lang))
    click.echo("\n".join(_change_line(c, lang) for c in changes))


@inventory_group.command("sweeps")
@CONFIG_OPT
@JSON_OPT
def inventory_sweeps(config_path: Path, as_json: bool) -> None:
    """Every sweep the store remembers, oldest first, with its counts and changes."""
    _, store, data = _open(config_path)
    sweeps = store.sweeps(data)
    if as_json:
        emit_json(sweeps)
        return
    click.echo(t("inventory.sweeps.header", message_lang()))
    for s in sweeps:
        counts = s.get("counts", {})
        click.echo(
            f"{s['sweep_id']:<36} {s['status']:<12} {s['started'][:16]:<17} "
            f"{counts.get('hosts_found', '-'):>5} {counts.get('services_open', '-'):>8} "
            f"{s.get('changes', '-'):>8}"
        )


@inventory_group.command("export")
@CONFIG_OPT
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="File to write (default: standard output).",
)
def inventory_export(config_path: Path, fmt: str, out: Path | None) -> None:
    """Export every device (for a spreadsheet or the asset register) as CSV or JSON."""
    config, store, data = _open(config_path)
    rows = store.devices(data)
    if fmt == "json":
        text = json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
    else:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            entry = _approved(config, r)
            cells = {
                **r,
                "open_ports": _ports(r),
                "approved_owner": entry.owner if entry else "",
                "approved_purpose": entry.purpose if entry else "",
            }
            writer.writerow({k: spreadsheet_cell(cells.get(k)) for k in CSV_COLUMNS})
        text = buf.getvalue()
    if out is None:
        click.echo(text, nl=False)
        return
    # The BOM lets spreadsheet programs read the Vietnamese names in a CSV as UTF-8.
    atomic_write_bytes(out, text.encode("utf-8-sig" if fmt == "csv" else "utf-8"))
    click.echo(t("inventory.export.written", message_lang(), count=len(rows), path=out), err=True)


@inventory_group.command("migrate")
@CONFIG_OPT
def inventory_migrate(config_path: Path) -> None:
    """Rewrite a store made by an older secposture at the current schema (reads do this in
    memory on their own; a store from a newer secposture is refused and left as it is)."""
    config = load(config_path)
    try:
        was, now = Inventory.for_config(config).migrate()
    except StoreError as exc:
        fail(t("inventory.error.store", message_lang(), detail=str(exc)), exitcodes.ENVIRONMENT)
    click.echo(t("inventory.migrate.done", message_lang(), was=was, to=now))
