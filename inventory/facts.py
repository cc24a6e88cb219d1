"""What the inventory-wide checks read: every device with when it was last seen, as of a sweep.

Built from the store and a sweep that is about to be committed, so the checks can run before the
commit (their findings are stored with it) and see the sweep as already applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from inventory.changes import absence_assessed
from inventory.store import Inventory
from secposture.model.records import SweepResult

if TYPE_CHECKING:
    from secposture.config.sections import AssetsSection


@dataclass(frozen=True, slots=True)
class DeviceSeen:
    """One device as of the sweep: where it is, and whether this sweep saw it."""

    key: str
    ip: str
    mac: str | None
    last_seen: datetime
    seen_now: bool
    vendor: str | None = None


@dataclass(frozen=True, slots=True)
class InventoryFacts:
    """Input of the inventory-wide checks: pure data, no store and no network."""

    at: datetime  # when the sweep started
    scopes: tuple[str, ...]
    devices: tuple[DeviceSeen, ...]
    history_start: datetime  # start of the first sweep the store remembers
    absence_assessed: bool  # discovery completed, so "not seen" means absent
    register: AssetsSection | None  # the approved asset register, if the agency keeps one


def inventory_facts(
    store: Inventory, sweep: SweepResult, register: AssetsSection | None
) -> InventoryFacts:
    """The facts for ``sweep`` against what ``store`` remembers (read without a lock)."""
    data = store.read()
    at = sweep.started
    matches = store.resolve(sweep, data)
    seen = {m.key: m.host for m in matches} | {m.former: m.host for m in matches if m.former}
    devices: dict[str, DeviceSeen] = {}
    for row in data["devices"].values():
        host = seen.get(row["key"])
        devices[row["key"]] = DeviceSeen(
            key=row["key"],
            ip=host.ip if host else row["ip"],
            mac=(host.mac.lower() if host and host.mac else row.get("mac")),
            last_seen=at if host else datetime.fromisoformat(row["last_seen"]),
            seen_now=host is not None,
            vendor=(host.vendor if host else None) or row.get("vendor"),
        )
    for m in matches:
        if m.key not in devices and m.former not in devices:
            mac = m.host.mac.lower() if m.host.mac else None
            devices[m.key] = DeviceSeen(m.key, m.host.ip, mac, at, True, m.host.vendor)
    committed = store.committed(data)
    start = datetime.fromisoformat(committed[0]["started"]) if committed else at
    return InventoryFacts(
        at=at,
        scopes=sweep.scopes,
        devices=tuple(devices.values()),
        history_start=min(start, at),
        absence_assessed=absence_assessed(sweep),
        register=register,
    )
