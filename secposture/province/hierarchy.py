"""The collector's config: the province, its units, their groups and keys, and where the
collector keeps its database.

One TOML file, e.g.::

    [collector]
    store = "var/collector"          # the SQLite database (and collector.log) live here
    # database = "env:SECPOSTURE_DATABASE"  # or a postgresql+psycopg:// URL, by reference
    host = "127.0.0.1"
    port = 8443
    tls_cert = "/etc/secposture/collector.crt"   # TLS when both are set
    tls_key = "/etc/secposture/collector.key"

    [province]
    id = "tn-tinh"
    name = "Tỉnh Tây Ninh"

    [[group]]
    id = "khoi-so"
    name = "Khối sở, ngành"

    [[unit]]
    id = "tn-xa-hung-dien"
    name = "UBND xã Hưng Điền"
    level = "commune"                # department | commune | ward | special_zone
    groups = ["cu-tan-hung"]         # optional named groups, for roll-up pages
    succeeds = ["tn-xa-hung-ha", "tn-xa-hung-dien-b"]  # old communes merged into it
    succeeds_on = 2025-07-01
    keys = ["ed25519:…"]             # what `secposture keys init` printed at the agency

Since 1/7/2025 every unit sits directly under the province: the district level is gone
(admin-units.md). ``district`` is still read in bundles made before, and accepted for a unit
only when ``[collector] allow_district = true`` says the province still keeps such units.
The ``[[unit]]`` list seeds the collector's registry; after that, ``secposture collector
units …`` maintains it (the database is the registry, the file its starting point).
A bundle is accepted only when a key registered for the unit it names, and not revoked, signed
it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator, model_validator

from secposture.bundle.keys import parse_public_key
from secposture.config.errors import ConfigError
from secposture.config.loading import config_error, read_toml
from secposture.config.secrets import SecretError, is_reference, resolve
from secposture.config.sections import (
    AGENCY_ID,
    COMMUNE_LEVEL,
    DEFAULT_BUNDLE_MAX_BYTES,
    Lang,
    Level,
    _Section,
)

# A unit that has not reported for this many days is "overdue" (a weekly sweep plus a day).
DEFAULT_OVERDUE_DAYS = 8
# Raw bundle bytes older than this are pruned to their summary, except each unit's latest.
DEFAULT_KEEP_BUNDLES_DAYS = 400
# Where a unit may sit. A commune-level unit sits under a district only in data made before
# the reform, which the collector keeps reading.
PARENT_LEVELS: dict[Level, frozenset[Level]] = {
    Level.DEPARTMENT: frozenset({Level.PROVINCE}),
    Level.DISTRICT: frozenset({Level.PROVINCE}),
    **{level: frozenset({Level.PROVINCE, Level.DISTRICT}) for level in COMMUNE_LEVEL},
}


class CollectorSection(_Section):
    """The [collector] table: where bundles are stored and how the service listens."""

    store: Path
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8443
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_bundle_bytes: Annotated[int, Field(ge=64 * 1024, le=256 * 1024 * 1024)] = (
        DEFAULT_BUNDLE_MAX_BYTES
    )
    overdue_after_days: Annotated[int, Field(ge=1, le=366)] = DEFAULT_OVERDUE_DAYS
    lang: Lang = Lang.VI
    # A SQLAlchemy URL (postgresql+psycopg://…), or a reference to one (env:NAME, file:PATH)
    # since it may hold a password; without it, SQLite in the store folder.
    database: str | None = None
    # The province still keeps district-level units (refused otherwise: gone since 1/7/2025).
    allow_district: bool = False
    keep_bundles_days: Annotated[int, Field(ge=7, le=36600)] = DEFAULT_KEEP_BUNDLES_DAYS
    # Issue #17: the Ed25519 key that signs each upload's receipt, by reference (file:PATH or
    # env:NAME); agencies pin its public half as [bundle] collector_key.
    receipt_key: str | None = None

    @field_validator("receipt_key")
    @classmethod
    def _receipt_key(cls, value: str | None) -> str | None:
        if value is not None and not is_reference(value):
            raise ValueError("must be a reference, 'file:PATH' or 'env:NAME', never the key itself")
        return value

    @field_validator("database")
    @classmethod
    def _database(cls, value: str | None) -> str | None:
        if value is None or is_reference(value):
            return value
        if "@" in value.split("?", 1)[0] and ":" in value.split("@", 1)[0].split("//", 1)[-1]:
            raise ValueError("holds a password: give it by reference (env:NAME or file:PATH)")
        return value

    def database_url(self) -> str | None:
        """The database URL, read from its reference; None for the default SQLite file."""
        if self.database is None or not is_reference(self.database):
            return self.database
        try:
            return resolve(self.database, key="collector.database").reveal()
        except SecretError as exc:
            raise ConfigError("collector.database", str(exc)) from None

    @model_validator(mode="after")
    def _tls_pair(self) -> CollectorSection:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert: TLS needs both tls_cert and tls_key")
        return self


class ProvinceSection(_Section):
    """The [province] table: the province the collector serves."""

    id: str = Field(pattern=AGENCY_ID.pattern)
    name: Annotated[str, Field(min_length=1)]


class GroupSection(_Section):
    """One [[group]]: a named set of units for a roll-up page (a former district, a cluster,
    "khối sở"); not a level of government."""

    id: str = Field(pattern=AGENCY_ID.pattern)
    name: Annotated[str, Field(min_length=1, max_length=300)]


class UnitSection(_Section):
    """One [[unit]]: an agency of the province, its level, groups, predecessors and keys."""

    id: str = Field(pattern=AGENCY_ID.pattern)
    name: Annotated[str, Field(min_length=1, max_length=300)]
    level: Level
    parent: str | None = None  # default: the province (a district only in pre-reform data)
    groups: list[str] = Field(default_factory=list)
    succeeds: list[str] = Field(default_factory=list)  # units merged into this one
    succeeds_on: date | None = None  # from this day their keys are refused
    keys: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _succession(self) -> UnitSection:
        if self.succeeds and self.succeeds_on is None:
            raise ValueError("succeeds_on: give the day the succession took effect")
        if self.id in self.succeeds:
            raise ValueError("succeeds: a unit cannot succeed itself")
        return self

    @field_validator("keys")
    @classmethod
    def _keys(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                parse_public_key(value)
            except ValueError as exc:
                raise ValueError(f"{value[:24]}…: {exc}") from None
        return values


class CollectorConfig(_Section):
    """A whole collector TOML file."""

    collector: CollectorSection
    province: ProvinceSection
    group: list[GroupSection] = Field(default_factory=list)
    unit: list[UnitSection] = Field(default_factory=list)
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _hierarchy(self) -> CollectorConfig:
        levels = {self.province.id: Level.PROVINCE}
        groups = {g.id for g in self.group}
        for unit in self.unit:
            if unit.level is Level.PROVINCE:
                raise ValueError(f"unit: {unit.id} cannot be a province ([province] is)")
            if unit.level is Level.DISTRICT and not self.collector.allow_district:
                raise ValueError(
                    f"unit: {unit.id} is a district, a level dissolved on 1/7/2025 (set "
                    "[collector] allow_district = true if the province still keeps one)"
                )
            unknown = [g for g in unit.groups if g not in groups]
            if unknown:
                raise ValueError(f"unit: {unit.id} names group {unknown[0]}, which is not listed")
            if unit.id in levels:
                raise ValueError(f"unit: id {unit.id} is listed twice")
            levels[unit.id] = unit.level
        owner: dict[str, str] = {}
        for unit in self.unit:
            parent_level = levels.get(unit.parent or self.province.id)
            if parent_level is None:
                raise ValueError(f"unit: {unit.id} names parent {unit.parent}, which is not listed")
            if parent_level not in PARENT_LEVELS[unit.level]:
                raise ValueError(
                    f"unit: {unit.id} is a {unit.level.value} and cannot sit under a "
                    f"{parent_level.value} ({unit.parent})"
                )
            for key in unit.keys:
                if owner.setdefault(key, unit.id) != unit.id:
                    raise ValueError(
                        f"unit: one key is registered for both {owner[key]} and {unit.id}"
                    )
        successor: dict[str, str] = {}
        for unit in self.unit:
            for old in unit.succeeds:
                if old not in levels:
                    raise ValueError(f"unit: {unit.id} succeeds {old}, which is not listed")
                if successor.setdefault(old, unit.id) != unit.id:
                    raise ValueError(
                        f"unit: {old} is succeeded by both {successor[old]} and {unit.id}"
                    )
        for start in successor:
            seen, at = {start}, start
            while at in successor:
                at = successor[at]
                if at in seen:
                    raise ValueError(f"unit: the successions of {start} go round in a circle")
                seen.add(at)
        return self


@dataclass(frozen=True, slots=True)
class Unit:
    """One agency as the province sees it."""

    id: str
    name: str
    level: Level
    parent: str  # the province's id, or a district's in pre-reform data
    keys: frozenset[str]  # every key ever registered, revoked ones included
    groups: tuple[str, ...] = ()
    retired_on: date | None = None


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One registered key: whose, since when, and from when it is refused."""

    public_key: str
    unit_id: str
    added_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Succession:
    """``predecessor`` was merged into ``successor`` on ``effective``."""

    predecessor: str
    successor: str
    effective: date


def key_refusal(record: KeyRecord, merged: Succession | None, now: datetime) -> str | None:
    """Why a bundle signed with a registered key is refused at ``now`` (the key revoked by
    then, or its unit merged into another by then), or None: the one rule the collector's
    ingest and the registry commands both apply."""
    if record.revoked_at is not None and now >= record.revoked_at:
        at = record.revoked_at.isoformat(timespec="seconds")
        return f"the signing key of {record.unit_id} was revoked on {at}"
    if merged is not None and now.date() >= merged.effective:
        return (
            f"{record.unit_id} was merged into {merged.successor} on "
            f"{merged.effective.isoformat()}; its keys are no longer accepted"
        )
    return None


@dataclass(slots=True)
class Hierarchy:
    """The province's units, groups, keys and successions: the collector's registry as one
    value (read from the database, or from a config's ``[[unit]]`` list)."""

    province_id: str
    province_name: str
    units: dict[str, Unit]
    groups: dict[str, str] = field(default_factory=dict)  # id → name
    keys: dict[str, KeyRecord] = field(default_factory=dict)
    successions: dict[str, Succession] = field(default_factory=dict)  # by predecessor

    @classmethod
    def from_config(cls, config: CollectorConfig, *, at: datetime | None = None) -> Hierarchy:
        """The registry a config's lists describe (the seed of the database's)."""
        since = at or datetime(2000, 1, 1).astimezone()
        units = {
            u.id: Unit(
                u.id,
                u.name,
                u.level,
                u.parent or config.province.id,
                frozenset(u.keys),
                tuple(u.groups),
            )
            for u in config.unit
        }
        keys = {k: KeyRecord(k, u.id, since) for u in config.unit for k in u.keys}
        successions = {
            old: Succession(old, u.id, u.succeeds_on)
            for u in config.unit
            if u.succeeds_on is not None
            for old in u.succeeds
        }
        groups = {g.id: g.name for g in config.group}
        return cls(config.province.id, config.province.name, units, groups, keys, successions)

    def unit_for_key(self, public_key: str) -> Unit | None:
        """The unit that registered ``public_key`` (revoked or not), None when no unit did."""
        record = self.keys.get(public_key)
        return self.units.get(record.unit_id) if record else None

    def key_refusal(self, public_key: str, now: datetime) -> str | None:
        """Why a bundle signed with this registered key is refused at ``now``, or None."""
        record = self.keys.get(public_key)
        if record is None:
            return None
        return key_refusal(record, self.successions.get(record.unit_id), now)

    def children(self, parent_id: str) -> list[Unit]:
        """The units directly under ``parent_id``, by id."""
        return sorted((u for u in self.units.values() if u.parent == parent_id), key=lambda u: u.id)

    def members(self, group_id: str) -> list[Unit]:
        """The units of a group, by id."""
        return sorted((u for u in self.units.values() if group_id in u.groups), key=lambda u: u.id)

    def districts(self) -> list[Unit]:
        """The pre-reform districts directly under the province, by id."""
        return [u for u in self.children(self.province_id) if u.level is Level.DISTRICT]

    def lineage(self, unit_id: str) -> list[str]:
        """The unit and every unit merged into it, directly or through another merger."""
        found = [unit_id]
        for old in found:  # grows while it is walked: predecessors of predecessors
            found += sorted(
                p for p, s in self.successions.items() if s.successor == old and p not in found
            )  # a registry edited into a circle ends here instead of looping
        return found

    def successor_of(self, unit_id: str) -> str | None:
        """The unit this one was merged into, None while it stands on its own."""
        merged = self.successions.get(unit_id)
        return merged.successor if merged else None

    def current(self, on: date | None = None) -> Iterable[Unit]:
        """The units expected to report on day ``on`` (default today): not retired by then,
        and not merged into another."""
        day = on or date.today()
        return (
            u
            for u in self.units.values()
            if (u.retired_on is None or u.retired_on > day) and u.id not in self.successions
        )


def _resolve(data: dict[str, Any], base: Path) -> None:
    section = data.get("collector")
    if not isinstance(section, dict):
        return
    for name in ("store", "tls_cert", "tls_key"):
        value = section.get(name)
        if isinstance(value, str) and not Path(value).is_absolute():
            section[name] = str(base / value)


def parse_collector_config(data: dict[str, Any], source: Path | None = None) -> CollectorConfig:
    """Validate a collector config mapping; ConfigError naming the first bad key."""
    if source is not None:
        _resolve(data, source.parent)
    try:
        config = CollectorConfig.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, str(source) if source else None) from None
    return config.model_copy(update={"source": source})


def load_collector_config(path: Path | str) -> CollectorConfig:
    """Read and validate a collector TOML file."""
    path = Path(path)
    return parse_collector_config(read_toml(path), path.resolve())


__all__ = [
    "CollectorConfig",
    "ConfigError",
    "Hierarchy",
    "KeyRecord",
    "Succession",
    "Unit",
    "load_collector_config",
    "parse_collector_config",
]
