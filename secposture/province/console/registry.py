"""The registry as the console shows it: each unit, its groups, its keys and what succeeded
it. Read-only: the registry is changed with ``secposture collector units …`` on the
collector's host, where each change is one command a province administrator can review."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from secposture.province.hierarchy import Hierarchy


@dataclass(frozen=True, slots=True)
class KeyLine:
    """One registered key, shortened for reading (the whole key is in ``title``)."""

    short: str
    full: str
    added: str
    revoked: str | None


@dataclass(frozen=True, slots=True)
class RegistryLine:
    """One unit of the registry."""

    id: str
    name: str
    level: str
    groups: list[str]
    retired_on: str | None
    successor: str | None  # the unit it was merged into
    effective: str | None  # from when
    keys: list[KeyLine]


def registry_lines(hierarchy: Hierarchy, visible: Collection[str]) -> list[RegistryLine]:
    """The registry's units the viewer may see, by id."""
    lines = []
    for unit_id in sorted(visible):
        unit = hierarchy.units.get(unit_id)
        if unit is None:
            continue
        merged = hierarchy.successions.get(unit_id)
        keys = sorted(
            (hierarchy.keys[k] for k in unit.keys if k in hierarchy.keys),
            key=lambda k: k.added_at,
        )
        lines.append(
            RegistryLine(
                id=unit.id,
                name=unit.name,
                level=unit.level.value,
                groups=list(unit.groups),
                retired_on=unit.retired_on.isoformat() if unit.retired_on else None,
                successor=merged.successor if merged else None,
                effective=merged.effective.isoformat() if merged else None,
                keys=[
                    KeyLine(
                        short=_short(k.public_key),
                        full=k.public_key,
                        added=k.added_at.date().isoformat(),
                        revoked=k.revoked_at.date().isoformat() if k.revoked_at else None,
                    )
                    for k in keys
                ],
            )
        )
    return lines


def _short(key: str) -> str:
    scheme, _, body = key.partition(":")
    return f"{scheme}:{body[:10]}…{body[-6:]}" if len(body) > 20 else key
