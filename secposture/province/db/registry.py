"""The unit registry in the collector's database: units, groups, keys and successions.

The database is the registry; a config's ``[[unit]]`` list seeds it (what is missing is
added, nothing there is changed or revoked by a seed), and ``secposture collector units …``
maintains it. Every change is one transaction, so a command interrupted half-way changes
nothing; a CSV import checks every row before it writes any.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, insert, select, update

from secposture.bundle.keys import parse_public_key
from secposture.config.sections import AGENCY_ID, Level
from secposture.province.db import schema as t
from secposture.province.hierarchy import (
    PARENT_LEVELS,
    CollectorConfig,
    Hierarchy,
    KeyRecord,
    Succession,
    Unit,
)

CSV_COLUMNS = ("id", "name", "level", "group", "parent", "key")


class RegistryError(ValueError):
    """A registry change that cannot be made, phrased for the user (one line)."""


def moment(when: datetime) -> str:
    """A time as the database stores it: UTC, one fixed form, so text order is time order."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def parse_moment(text: str) -> datetime:
    """The time :func:`moment` wrote."""
    return datetime.fromisoformat(text)


# -- reading ---------------------------------------------------------------------------------


def load_hierarchy(conn: Connection, province_id: str, province_name: str) -> Hierarchy:
    """The whole registry as one value (the aggregate pages and the console read it)."""
    groups_of: dict[str, list[str]] = {}
    for row in conn.execute(select(t.unit_groups).order_by(t.unit_groups.c.group_id)):
        groups_of.setdefault(row.unit_id, []).append(row.group_id)
    keys = {
        row.public_key: KeyRecord(
            row.public_key,
            row.unit_id,
            parse_moment(row.added_at),
            parse_moment(row.revoked_at) if row.revoked_at else None,
        )
        for row in conn.execute(select(t.unit_keys))
    }
    keys_of: dict[str, set[str]] = {}
    for record in keys.values():
        keys_of.setdefault(record.unit_id, set()).add(record.public_key)
    units = {
        row.id: Unit(
            row.id,
            row.name,
            Level(row.level),
            row.parent or province_id,
            frozenset(keys_of.get(row.id, ())),
            tuple(groups_of.get(row.id, ())),
            date.fromisoformat(row.retired_on) if row.retired_on else None,
        )
        for row in conn.execute(select(t.units).order_by(t.units.c.id))
    }
    groups = {row.id: row.name for row in conn.execute(select(t.groups).order_by(t.groups.c.id))}
    successions = {
        row.predecessor: Succession(
            row.predecessor, row.successor, date.fromisoformat(row.effective)
        )
        for row in conn.execute(select(t.successions))
    }
    return Hierarchy(province_id, province_name, units, groups, keys, successions)


# -- the seed --------------------------------------------------------------------------------


def seed(conn: Connection, config: CollectorConfig, now: datetime) -> int:
    """Add what the config lists and the registry lacks; returns how many rows were added."""
    added = 0
    have_groups = set(conn.scalars(select(t.groups.c.id)))
    for group in config.group:
        if group.id not in have_groups:
            conn.execute(insert(t.groups).values(id=group.id, name=group.name))
            added += 1
    have_units = set(conn.scalars(select(t.units.c.id)))
    for unit in config.unit:
        if unit.id not in have_units:
            conn.execute(
                insert(t.units).values(
                    id=unit.id,
                    name=unit.name,
                    level=unit.level.value,
                    parent=unit.parent if unit.parent != config.province.id else None,
                    added_at=moment(now),
                    note="",
                )
            )
            added += 1
    have_members = {(r.unit_id, r.group_id) for r in conn.execute(select(t.unit_groups))}
    have_keys = set(conn.scalars(select(t.unit_keys.c.public_key)))
    for unit in config.unit:
        for group_id in unit.groups:
            if (unit.id, group_id) not in have_members:
                conn.execute(insert(t.unit_groups).values(unit_id=unit.id, group_id=group_id))
                added += 1
        for key in unit.keys:
            if key not in have_keys:
                conn.execute(
                    insert(t.unit_keys).values(
                        public_key=key, unit_id=unit.id, added_at=moment(now)
                    )
                )
                added += 1
    have_successions = set(conn.scalars(select(t.successions.c.predecessor)))
    for unit in config.unit:
        for old in unit.succeeds:
            if old not in have_successions and unit.succeeds_on is not None:
                conn.execute(
                    insert(t.successions).values(
                        predecessor=old,
                        successor=unit.id,
                        effective=unit.succeeds_on.isoformat(),
                    )
                )
                added += 1
    return added


# -- changes ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewUnit:
    """A unit to add: what ``units add`` and each CSV row give."""

    id: str
    name: str
    level: Level
    groups: tuple[str, ...] = ()
    parent: str | None = None
    key: str | None = None


def check_unit(conn: Connection, unit: NewUnit, *, province_id: str, allow_district: bool) -> None:
    """RegistryError when ``unit`` cannot be added as it is."""
    if not AGENCY_ID.fullmatch(unit.id):
        raise RegistryError(f"id: {unit.id!r} is not an agency id (a-z, 0-9, '-')")
    if conn.scalar(select(t.units.c.id).where(t.units.c.id == unit.id)) is not None:
        raise RegistryError(f"id: {unit.id} is already registered")
    if not unit.name.strip() or len(unit.name) > 300:
        raise RegistryError("name: must be 1 to 300 characters")
    if unit.level is Level.PROVINCE:
        raise RegistryError("level: a unit cannot be the province")
    if unit.level is Level.DISTRICT and not allow_district:
        raise RegistryError(
            "level: district was dissolved on 1/7/2025 (set [collector] allow_district = true "
            "if the province still keeps one)"
        )
    parent = unit.parent or province_id
    if parent != province_id:
        level = conn.scalar(select(t.units.c.level).where(t.units.c.id == parent))
        if level is None:
            raise RegistryError(f"parent: {parent} is not registered")
        if Level(level) not in PARENT_LEVELS[unit.level]:
            raise RegistryError(f"parent: a {unit.level.value} cannot sit under a {level}")
    for group_id in unit.groups:
        if conn.scalar(select(t.groups.c.id).where(t.groups.c.id == group_id)) is None:
            raise RegistryError(f"group: {group_id} is not registered (add it first)")
    if unit.key is not None:
        check_key(conn, unit.key)


def check_key(conn: Connection, key: str) -> None:
    """RegistryError when ``key`` is not a public key or is registered already."""
    try:
        parse_public_key(key)
    except ValueError as exc:
        raise RegistryError(f"key: {exc}") from None
    owner = conn.scalar(select(t.unit_keys.c.unit_id).where(t.unit_keys.c.public_key == key))
    if owner is not None:
        raise RegistryError(f"key: already registered for {owner}")


def add_unit(
    engine: Engine,
    unit: NewUnit,
    *,
    province_id: str,
    allow_district: bool,
    now: datetime,
) -> None:
    """Register one unit (and its first key), or RegistryError and nothing changed."""
    with engine.begin() as conn:
        check_unit(conn, unit, province_id=province_id, allow_district=allow_district)
        _insert_unit(conn, unit, province_id, now)


def _insert_unit(conn: Connection, unit: NewUnit, province_id: str, now: datetime) -> None:
    parent = unit.parent if unit.parent and unit.parent != province_id else None
    conn.execute(
        insert(t.units).values(
            id=unit.id,
            name=unit.name,
            level=unit.level.value,
            parent=parent,
            added_at=moment(now),
            note="",
        )
    )
    for group_id in unit.groups:
        conn.execute(insert(t.unit_groups).values(unit_id=unit.id, group_id=group_id))
    if unit.key is not None:
        conn.execute(
            insert(t.unit_keys).values(public_key=unit.key, unit_id=unit.id, added_at=moment(now))
        )


def add_group(engine: Engine, group_id: str, name: str) -> None:
    """Register a named group of units."""
    if not AGENCY_ID.fullmatch(group_id):
        raise RegistryError(f"id: {group_id!r} is not a group id (a-z, 0-9, '-')")
    with engine.begin() as conn:
        if conn.scalar(select(t.groups.c.id).where(t.groups.c.id == group_id)) is not None:
            raise RegistryError(f"id: group {group_id} is already registered")
        conn.execute(insert(t.groups).values(id=group_id, name=name))


def retire_unit(engine: Engine, unit_id: str, on: date) -> None:
    """The unit is no longer expected to report from ``on``; its history stays."""
    with engine.begin() as conn:
        found = conn.execute(update(t.units).where(t.units.c.id == unit_id).values(
            retired_on=on.isoformat()
        ))  # fmt: skip
        if found.rowcount == 0:
            raise RegistryError(f"unit: {unit_id} is not registered")


def add_key(engine: Engine, unit_id: str, key: str, now: datetime) -> None:
    """Register another key for a unit (key rotation: the old one stays until revoked)."""
    with engine.begin() as conn:
        if conn.scalar(select(t.units.c.id).where(t.units.c.id == unit_id)) is None:
            raise RegistryError(f"unit: {unit_id} is not registered")
        check_key(conn, key)
        conn.execute(
            insert(t.unit_keys).values(public_key=key, unit_id=unit_id, added_at=moment(now))
        )


def revoke_key(engine: Engine, key: str, at: datetime) -> str:
    """Refuse the key's bundles from ``at`` on; its earlier bundles stay. Returns the unit."""
    with engine.begin() as conn:
        row = conn.execute(select(t.unit_keys).where(t.unit_keys.c.public_key == key)).first()
        if row is None:
            raise RegistryError("key: not registered")
        if row.revoked_at is not None:
            raise RegistryError(f"key: already revoked on {row.revoked_at}")
        conn.execute(
            update(t.unit_keys).where(t.unit_keys.c.public_key == key).values(revoked_at=moment(at))
        )
        return str(row.unit_id)


# -- CSV import ------------------------------------------------------------------------------


class CsvRowError(RegistryError):
    """A bad row of a units CSV, naming the row and the column."""

    def __init__(self, path: Path, row: int, column: str, reason: str) -> None:
        self.row, self.column = row, column
        super().__init__(f"{path.name}: row {row}, column {column}: {reason}")


def read_units_csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    """The rows of a units CSV (``id,name,level,group,parent,key``; a header row; UTF-8 with
    or without the BOM a spreadsheet writes), each with its row number in the file."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RegistryError(
            f"{path.name}: is not UTF-8 text (save the sheet as CSV UTF-8)"
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in ("id", "name", "level") if c not in header]
    if missing:
        raise CsvRowError(path, 1, missing[0], "missing from the header row")
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise CsvRowError(path, 1, unknown[0], f"is not a column ({', '.join(CSV_COLUMNS)})")
    reader.fieldnames = header
    rows = []
    for number, raw in enumerate(reader, start=2):
        if None in raw:
            raise CsvRowError(path, number, CSV_COLUMNS[-1], "more cells than columns")
        rows.append((number, {k: (v or "").strip() for k, v in raw.items()}))
    return rows


def import_units_csv(
    engine: Engine,
    path: Path,
    *,
    province_id: str,
    allow_district: bool,
    now: datetime,
) -> int:
    """Add every unit of the CSV in one transaction, or CsvRowError naming the first bad row
    and column and nothing changed. A group the CSV names is created (named after its id) when
    the registry lacks it. Returns how many units were added."""
    rows = read_units_csv(path)
    with engine.begin() as conn:
        seen_ids: set[str] = set()
        seen_keys: set[str] = set()
        wanted_groups = {g for _, r in rows for g in _groups(r.get("group", "")) if g}
        for group_id in sorted(wanted_groups):
            if not AGENCY_ID.fullmatch(group_id):
                number = next(n for n, r in rows if group_id in _groups(r.get("group", "")))
                raise CsvRowError(path, number, "group", f"{group_id!r} is not a group id")
            if conn.scalar(select(t.groups.c.id).where(t.groups.c.id == group_id)) is None:
                conn.execute(insert(t.groups).values(id=group_id, name=group_id))
        units = []
        for number, row in rows:
            try:
                level = Level(row.get("level", ""))
            except ValueError:
                raise CsvRowError(
                    path,
                    number,
                    "level",
                    f"{row.get('level')!r} is not one of "
                    f"{', '.join(lv.value for lv in Level if lv is not Level.PROVINCE)}",
                ) from None
            unit = NewUnit(
                id=row.get("id", ""),
                name=row.get("name", ""),
                level=level,
                groups=tuple(_groups(row.get("group", ""))),
                parent=row.get("parent") or None,
                key=row.get("key") or None,
            )
            if unit.id in seen_ids:
                raise CsvRowError(path, number, "id", f"{unit.id} is listed twice")
            if unit.key is not None and unit.key in seen_keys:
                raise CsvRowError(path, number, "key", "the same key is given to two units")
            try:
                # A parent listed earlier in the same file counts: add in file order.
                check_unit(conn, unit, province_id=province_id, allow_district=allow_district)
            except RegistryError as exc:
                column, _, reason = str(exc).partition(": ")
                raise CsvRowError(path, number, column, reason) from None
            _insert_unit(conn, unit, province_id, now)
            seen_ids.add(unit.id)
            if unit.key:
                seen_keys.add(unit.key)
            units.append(unit)
        return len(units)


def _groups(cell: str) -> list[str]:
    # One cell may name several groups: "cum-1; khoi-so".
    return [g.strip() for g in cell.replace(",", ";").split(";") if g.strip()]
