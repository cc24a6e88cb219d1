"""What the console asks the collector's database: findings and devices of each unit's latest
sweep, within the units the viewer may see. Plain SQL through SQLAlchemy Core; every filter is
a bound parameter."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Select, Table, Text, and_, cast, func, or_, select

from secposture.province.db import schema as t

PAGE = 200  # rows per page of a search, and per API call


@dataclass(frozen=True, slots=True)
class FindingQuery:
    """A findings search: every field optional, text matched inside evidence and reason."""

    check: str = ""
    severity: str = ""
    status: str = "fail"
    unit: str = ""
    group: str = ""  # the viewer's units narrowed to one group's (the caller does that)
    host: str = ""
    text: str = ""
    offset: int = 0


@dataclass(frozen=True, slots=True)
class InventoryQuery:
    """An inventory search across the province: IP or MAC prefix, device type, OS, a service
    (port, name, product or version) and free text, every field optional."""

    ip: str = ""
    mac: str = ""
    unit: str = ""
    group: str = ""  # the viewer's units narrowed to one group's (the caller does that)
    device_type: str = ""
    os: str = ""  # inside the OS nmap or the device reported: "windows 7"
    service: str = ""  # inside any service's port, name, product or version: "openssh 7.4"
    text: str = ""  # vendor, host name, OS or device type, inside
    offset: int = 0


def _of_latest_sweeps(
    table: Table, units: Collection[str] | None, columns: Sequence[str] = ()
) -> Select[Any]:
    """The rows of ``table`` (findings or hosts) from each of ``units``' latest sweep (every
    unit's when None: a province viewer's search carries no list of 4,000 ids); only
    ``columns`` when given."""
    latest = t.latest_sweeps
    chosen = [table.c[c] for c in columns] if columns else [table]
    stmt = (
        select(*chosen)
        .select_from(table)
        .join(
            latest, and_(latest.c.unit_id == table.c.unit_id, latest.c.sweep_id == table.c.sweep_id)
        )
    )
    if units is not None:
        # Sorted: the same scope is the same statement, whichever process asks.
        stmt = stmt.where(latest.c.unit_id.in_(sorted(units)))
    return stmt


def _mac(text: str) -> str:
    """A MAC prefix as stored (lower case, colons), from what a user pastes: Windows'
    ``4C-79-…`` or Cisco's ``4c79.6e…`` read the same."""
    digits = "".join(c for c in text.lower() if c in "0123456789abcdef")
    if len(digits) != len(text.replace("-", "").replace(":", "").replace(".", "")):
        return text.lower()  # not a MAC: matched as typed (and so, nothing)
    return ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _findings(
    units: Collection[str] | None, query: FindingQuery, columns: Sequence[str] = ()
) -> Select[Any]:
    f = t.findings
    stmt = _of_latest_sweeps(f, units, columns)
    if query.check:
        stmt = stmt.where(f.c.check_id == query.check)
    if query.severity:
        stmt = stmt.where(f.c.severity == query.severity)
    if query.status:
        stmt = stmt.where(f.c.status == query.status)
    if query.unit:
        stmt = stmt.where(f.c.unit_id == query.unit)
    if query.host:
        stmt = stmt.where(f.c.ip.like(query.host.replace("*", "%") + "%", escape="\\"))
    if query.text:
        pattern = _like(query.text)
        stmt = stmt.where(
            or_(f.c.evidence.like(pattern, escape="\\"), f.c.reason.like(pattern, escape="\\"))
        )
    return stmt.order_by(f.c.unit_id, f.c.check_id, f.c.ip, f.c.port)


def search_findings(
    engine: Engine, units: Collection[str] | None, query: FindingQuery, limit: int = PAGE
) -> list[dict[str, Any]]:
    """Findings of the latest sweep of each visible unit that match ``query``: ``limit``
    of them from the query's offset."""
    stmt = _findings(units, query).offset(query.offset).limit(limit)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def export_findings(
    engine: Engine, units: Collection[str] | None, query: FindingQuery, columns: Sequence[str]
) -> Iterator[tuple[Any, ...]]:
    """Every finding ``query`` matches, as tuples of ``columns``, read from the database a
    few thousand at a time: a province's export of a million rows never sits in memory."""
    stmt = _findings(units, query, columns)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=5000).execute(stmt)
        for part in result.partitions():
            yield from (tuple(row) for row in part)


def search_inventory(
    engine: Engine, units: Collection[str] | None, query: InventoryQuery, limit: int = PAGE
) -> list[dict[str, Any]]:
    """Devices of the latest sweep of each visible unit that match ``query``."""
    h = t.hosts
    stmt = _of_latest_sweeps(h, units)
    if query.unit:
        stmt = stmt.where(h.c.unit_id == query.unit)
    if query.ip:
        stmt = stmt.where(h.c.ip.like(query.ip.replace("*", "%") + "%", escape="\\"))
    if query.mac:
        stmt = stmt.where(func.lower(h.c.mac).like(_mac(query.mac) + "%", escape="\\"))
    if query.device_type:
        stmt = stmt.where(h.c.device_type == query.device_type)
    if query.os:
        stmt = stmt.where(func.lower(h.c.os).like(_like(query.os.lower()), escape="\\"))
    if query.service:
        # Each word inside the services' stored text: "openssh 7.4" finds OpenSSH 7.4p1
        # whatever the field order; the services of a host are a small JSON list.
        services = func.lower(cast(h.c.services, Text))
        for word in query.service.lower().split()[:6]:
            stmt = stmt.where(services.like(_like(word), escape="\\"))
    if query.text:
        pattern = _like(query.text.lower())
        stmt = stmt.where(
            or_(
                func.lower(h.c.vendor).like(pattern, escape="\\"),
                func.lower(h.c.hostname).like(pattern, escape="\\"),
                func.lower(h.c.os).like(pattern, escape="\\"),
                func.lower(h.c.device_type).like(pattern, escape="\\"),
            )
        )
    stmt = stmt.order_by(h.c.unit_id, h.c.ip).offset(query.offset).limit(limit)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]
