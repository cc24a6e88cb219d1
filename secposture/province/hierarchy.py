"""The collector's config: the province's units, where each sits, and the keys it signs with.

One TOML file, e.g.::

    [collector]
    store = "var/collector"          # bundles/ and the index live here
    host = "127.0.0.1"
    port = 8443
    tls_cert = "/etc/secposture/collector.crt"   # TLS when both are set
    tls_key = "/etc/secposture/collector.key"

    [province]
    id = "tn-tinh"
    name = "Tỉnh Mẫu"

    [[unit]]
    id = "tn-huyen-a"
    name = "UBND huyện A"
    level = "district"               # department | district | commune
    keys = ["ed25519:…"]             # what `secposture keys init` printed at the agency

Departments and districts sit under the province; a commune sits under a district (or under
the province itself, where the district level has been abolished). A bundle is accepted only
when its signing key is registered for the unit the bundle names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator, model_validator

from secposture.bundle.keys import parse_public_key
from secposture.config.errors import ConfigError
from secposture.config.loading import config_error, read_toml
from secposture.config.sections import AGENCY_ID, DEFAULT_BUNDLE_MAX_BYTES, Lang, Level, _Section

# A unit that has not reported for this many days is "overdue" (a weekly sweep plus a day).
DEFAULT_OVERDUE_DAYS = 8
PARENT_LEVELS: dict[Level, frozenset[Level]] = {
    Level.DEPARTMENT: frozenset({Level.PROVINCE}),
    Level.DISTRICT: frozenset({Level.PROVINCE}),
    Level.COMMUNE: frozenset({Level.DISTRICT, Level.PROVINCE}),
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

    @model_validator(mode="after")
    def _tls_pair(self) -> CollectorSection:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert: TLS needs both tls_cert and tls_key")
        return self


class ProvinceSection(_Section):
    """The [province] table: the province the collector serves."""

    id: str = Field(pattern=AGENCY_ID.pattern)
    name: Annotated[str, Field(min_length=1)]


class UnitSection(_Section):
    """One [[unit]]: an agency of the province, its level, parent and signing keys."""

    id: str = Field(pattern=AGENCY_ID.pattern)
    name: Annotated[str, Field(min_length=1)]
    level: Level
    parent: str | None = None  # default: the province
    keys: list[str] = Field(default_factory=list)

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
    unit: list[UnitSection] = Field(default_factory=list)
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _hierarchy(self) -> CollectorConfig:
        levels = {self.province.id: Level.PROVINCE}
        for unit in self.unit:
            if unit.level is Level.PROVINCE:
                raise ValueError(f"unit: {unit.id} cannot be a province ([province] is)")
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
        return self


@dataclass(frozen=True, slots=True)
class Unit:
    """One agency as the province sees it."""

    id: str
    name: str
    level: Level
    parent: str  # the province's id for departments and districts
    keys: frozenset[str]


class Hierarchy:
    """The province's units by id and by key, read from a :class:`CollectorConfig`."""

    def __init__(self, config: CollectorConfig) -> None:
        self.province_id = config.province.id
        self.province_name = config.province.name
        self.units = {
            u.id: Unit(u.id, u.name, u.level, u.parent or config.province.id, frozenset(u.keys))
            for u in config.unit
        }
        self._by_key = {key: u.id for u in config.unit for key in u.keys}

    def unit_for_key(self, public_key: str) -> Unit | None:
        """The unit that registered ``public_key``, None when no unit did."""
        unit_id = self._by_key.get(public_key)
        return self.units[unit_id] if unit_id else None

    def children(self, parent_id: str) -> list[Unit]:
        """The units directly under ``parent_id``, by id."""
        return sorted((u for u in self.units.values() if u.parent == parent_id), key=lambda u: u.id)

    def districts(self) -> list[Unit]:
        """The districts directly under the province, by id."""
        return [u for u in self.children(self.province_id) if u.level is Level.DISTRICT]


def _resolve(data: dict[str, Any], base: Path) -> None:
    section = data.get("collector")
    if not isinstance(section, dict):
        return
    for field in ("store", "tls_cert", "tls_key"):
        value = section.get(field)
        if isinstance(value, str) and not Path(value).is_absolute():
            section[field] = str(base / value)


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
    "Unit",
    "load_collector_config",
    "parse_collector_config",
]
