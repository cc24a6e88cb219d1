"""``secposture collector units …`` and ``collector store …``: the unit registry and the
database, maintained with commands instead of hand-edited files (issue #14)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from secposture.cli.collector_common import COLLECTOR_OPT, load_collector, open_or_fail
from secposture.cli.common import emit_json, fail, message_lang
from secposture.config.sections import Level
from secposture.model import exitcodes
from secposture.model.i18n import t
from secposture.model.records import utcnow

LEVELS = [lv.value for lv in Level if lv is not Level.PROVINCE]


def _when(value: str | None) -> datetime:
    """``--at`` as a time (ISO 8601; a bare date is its start in Vietnam), else now."""
    if not value:
        return utcnow()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(t("registry.bad_time", message_lang(), value=value), exitcodes.USAGE)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.now().astimezone().tzinfo)
    return moment


@click.group("units")
def units_group() -> None:
    """The province's units: add, list, show, retire, import a CSV; their keys."""


@units_group.command("add")
@click.argument("unit_id")
@COLLECTOR_OPT
@click.option("--name", required=True, help="The unit's name, e.g. 'UBND xã Hưng Điền'.")
@click.option("--level", required=True, type=click.Choice(LEVELS), help="Its level.")
@click.option("--group", "groups", multiple=True, help="A group it belongs to (repeatable).")
@click.option("--parent", help="Only for pre-reform data: the district it sat under.")
@click.option("--key", help="Its first public key ('ed25519:…', from 'secposture keys show').")
def units_add(
    unit_id: str,
    config_path: Path,
    name: str,
    level: str,
    groups: tuple[str, ...],
    parent: str | None,
    key: str | None,
) -> None:
    """Register one unit."""
    from secposture.province.db.registry import NewUnit, RegistryError, add_unit

    config = load_collector(config_path)
    store = open_or_fail(config)
    unit = NewUnit(unit_id, name, Level(level), groups, parent, key)
    try:
        add_unit(
            store.engine,
            unit,
            province_id=config.province.id,
            allow_district=config.collector.allow_district,
            now=utcnow(),
        )
    except RegistryError as exc:
        fail(t("registry.refused", message_lang(), detail=str(exc)), exitcodes.USAGE)
    click.echo(t("registry.unit_added", message_lang(), unit=unit_id, level=level))


@units_group.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@COLLECTOR_OPT
def units_import(csv_file: Path, config_path: Path) -> None:
    """Register every unit of a CSV (id,name,level,group,parent,key; a header row).

    All or nothing: a bad row is named with its row and column and nothing is changed."""
    from secposture.province.db.registry import RegistryError, import_units_csv

    config = load_collector(config_path)
    store = open_or_fail(config)
    try:
        added = import_units_csv(
            store.engine,
            csv_file,
            province_id=config.province.id,
            allow_district=config.collector.allow_district,
            now=utcnow(),
        )
    except RegistryError as exc:
        fail(t("registry.refused", message_lang(), detail=str(exc)), exitcodes.USAGE)
    click.echo(t("registry.imported", message_lang(), count=added, file=csv_file.name))


@units_group.command("list")
@COLLECTOR_OPT
@click.option("--json", "as_json", is_flag=True)
def units_list(config_path: Path, as_json: bool) -> None:
    """Every registered unit with its level, groups, keys and latest sweep."""
    config = load_collector(config_path)
    store = open_or_fail(config)
    hierarchy = store.hierarchy
    latest = store.latest_rows()
    lang = message_lang()
    lines: list[dict[str, Any]] = []
    for unit in sorted(hierarchy.units.values(), key=lambda u: u.id):
        live = [k for k in unit.keys if hierarchy.key_refusal(k, utcnow()) is None]
        row = latest.get(unit.id)
        lines.append(
            {
                "id": unit.id,
                "name": unit.name,
                "level": unit.level.value,
                "groups": list(unit.groups),
                "keys": len(unit.keys),
                "keys_accepted": len(live),
                "retired_on": unit.retired_on.isoformat() if unit.retired_on else None,
                "succeeded_by": hierarchy.successor_of(unit.id),
                "latest_sweep": row["sweep_id"] if row else None,
                "score": row["score"]["overall"] if row else None,
            }
        )
    if as_json:
        emit_json(lines)
        return
    for line in lines:
        level = t(f"report.level.{line['level']}", lang)
        state = ""
        if line["succeeded_by"]:
            state = t("registry.merged_into", lang, unit=line["succeeded_by"])
        elif line["retired_on"]:
            state = t("registry.retired_on", lang, day=line["retired_on"])
        click.echo(
            f"{line['id']}\t{line['name']}\t{level}\t{','.join(line['groups']) or '-'}\t"
            f"{t('registry.keys', lang, live=line['keys_accepted'], total=line['keys'])}"
            f"{chr(9) + state if state else ''}"
        )


@units_group.command("show")
@click.argument("unit_id")
@COLLECTOR_OPT
@click.option("--json", "as_json", is_flag=True)
def units_show(unit_id: str, config_path: Path, as_json: bool) -> None:
    """One unit: level, groups, predecessors, every key with its dates, its sweeps."""
    config = load_collector(config_path)
    store = open_or_fail(config)
    hierarchy = store.hierarchy
    unit = hierarchy.units.get(unit_id)
    lang = message_lang()
    if unit is None:
        fail(t("registry.unknown_unit", lang, unit=unit_id), exitcodes.USAGE)
    keys = sorted(
        (r for r in hierarchy.keys.values() if r.unit_id == unit_id), key=lambda r: r.added_at
    )
    sweeps = store.rows(hierarchy.lineage(unit_id))
    predecessors = hierarchy.lineage(unit_id)[1:]
    data: dict[str, Any] = {
        "id": unit.id,
        "name": unit.name,
        "level": unit.level.value,
        "groups": list(unit.groups),
        "retired_on": unit.retired_on.isoformat() if unit.retired_on else None,
        "predecessors": predecessors,
        "succeeded_by": hierarchy.successor_of(unit_id),
        "keys": [
            {
                "key": r.public_key,
                "added_at": r.added_at.isoformat(),
                "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
            }
            for r in keys
        ],
        "sweeps": [
            {
                "unit": r["agency"],
                "sweep_id": r["sweep_id"],
                "started": r["started"],
                "score": r["score"]["overall"],
            }
            for r in sweeps
        ],
    }
    if as_json:
        emit_json(data)
        return
    click.echo(f"{unit.id}: {unit.name} ({t(f'report.level.{unit.level.value}', lang)})")
    if predecessors:
        click.echo(t("registry.predecessors", lang, units=", ".join(predecessors)))
    for r in keys:
        state = (
            t("registry.key_revoked", lang, at=r.revoked_at.isoformat(timespec="seconds"))
            if r.revoked_at
            else t("registry.key_live", lang)
        )
        click.echo(f"  {r.public_key}  {r.added_at.isoformat(timespec='seconds')}  {state}")
    click.echo(t("registry.sweeps", lang, count=len(sweeps)))


@units_group.command("retire")
@click.argument("unit_id")
@COLLECTOR_OPT
@click.option("--on", "on", help="The day it stops reporting (YYYY-MM-DD; default today).")
def units_retire(unit_id: str, config_path: Path, on: str | None) -> None:
    """A unit no longer expected to report; its history stays and its keys still verify."""
    from secposture.province.db.registry import RegistryError, retire_unit

    config = load_collector(config_path)
    store = open_or_fail(config)
    try:
        day = date.fromisoformat(on) if on else date.today()
    except ValueError:
        fail(t("registry.bad_time", message_lang(), value=on), exitcodes.USAGE)
    try:
        retire_unit(store.engine, unit_id, day)
    except RegistryError as exc:
        fail(t("registry.refused", message_lang(), detail=str(exc)), exitcodes.USAGE)
    click.echo(t("registry.unit_retired", message_lang(), unit=unit_id, day=day.isoformat()))


@units_group.group("keys")
def keys_group() -> None:
    """A unit's signing keys: add one (rotation), revoke one."""


@keys_group.command("add")
@click.argument("unit_id")
@click.argument("public_key")
@COLLECTOR_OPT
def keys_add(unit_id: str, public_key: str, config_path: Path) -> None:
    """Register another key for a unit; the old one keeps working until revoked."""
    from secposture.province.db.registry import RegistryError, add_key

    config = load_collector(config_path)
    store = open_or_fail(config)
    try:
        add_key(store.engine, unit_id, public_key, utcnow())
    except RegistryError as exc:
        fail(t("registry.refused", message_lang(), detail=str(exc)), exitcodes.USAGE)
    click.echo(t("registry.key_added", message_lang(), unit=unit_id))


@keys_group.command("revoke")
@click.argument("public_key")
@COLLECTOR_OPT
@click.option("--at", "at", help="From when its bundles are refused (ISO time; default now).")
def keys_revoke(public_key: str, config_path: Path, at: str | None) -> None:
    """Refuse a key's bundles from now (or --at) on; the bundles it signed before stay."""
    from secposture.province.db.registry import RegistryError, revoke_key

    config = load_collector(config_path)
    store = open_or_fail(config)
    when = _when(at)
    try:
        unit = revoke_key(store.engine, public_key, when)
    except RegistryError as exc:
        fail(t("registry.refused", message_lang(), detail=str(exc)), exitcodes.USAGE)
    click.echo(
        t("registry.key_revoked_done", message_lang(), unit=unit, at=when.isoformat("T", "seconds"))
    )


@click.group("store")
def store_group() -> None:
    """The collector's database: status, retention, moving a file store into it."""


@store_group.command("status")
@COLLECTOR_OPT
@click.option("--json", "as_json", is_flag=True)
def store_status(config_path: Path, as_json: bool) -> None:
    """What the database holds."""
    from secposture.province.db.store import counts

    config = load_collector(config_path)
    store = open_or_fail(config)
    found = counts(store.engine)
    backend = store.engine.dialect.name
    if as_json:
        emit_json({"database": backend, **asdict(found)})
        return
    click.echo(
        t(
            "store.status",
            message_lang(),
            database=backend,
            units=found.units,
            bundles=found.bundles,
            pruned=found.pruned,
            findings=found.findings,
            hosts=found.hosts,
        )
    )


@store_group.command("prune")
@COLLECTOR_OPT
def store_prune(config_path: Path) -> None:
    """Drop the bytes of bundles older than collector.keep_bundles_days, except each unit's
    latest; every summary, finding and host row stays."""
    config = load_collector(config_path)
    store = open_or_fail(config)
    pruned = store.prune(config.collector.keep_bundles_days)
    click.echo(
        t("store.pruned", message_lang(), count=pruned, days=config.collector.keep_bundles_days)
    )


@store_group.command("migrate")
@click.argument("old_store", type=click.Path(path_type=Path, file_okay=False, exists=True))
@COLLECTOR_OPT
@click.option("--json", "as_json", is_flag=True)
def store_migrate(old_store: Path, config_path: Path, as_json: bool) -> None:
    """Move a file store (bundles/<unit>/*.bundle, before issue #14) into the database.

    Each bundle is verified again and judged as of the day it arrived; the files are left in
    place. Running it twice is harmless. Exit 3 when any file was refused (each is named)."""
    from secposture.province.db.store import migrate_file_store

    config = load_collector(config_path)
    store = open_or_fail(config)
    result = migrate_file_store(store, old_store)
    lang = message_lang()
    if as_json:
        emit_json(
            {"moved": result.moved, "already": result.already,
             "refused": [{"file": f, "reason": r} for f, r in result.refused]}
        )  # fmt: skip
    else:
        for file, reason in result.refused:
            click.echo(t("collector.refused", lang, file=file, reason=reason, detail=""))
        click.echo(
            t("store.migrated", lang, moved=result.moved, already=result.already,
              refused=len(result.refused))
        )  # fmt: skip
    if result.refused:
        raise SystemExit(exitcodes.INCOMPLETE)
