"""What the agency report shows besides the sweep itself: posture, history, changes, devices.

Each part is optional. The report renders from a bare sweep (the collector's copy of a unit's
report has no inventory store), and a part that is missing is shown as "not available", never
as "nothing found". :func:`context_from_store` reads every part from the agency's inventory in
one read of the store file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from inventory.store import Inventory
from secposture.model.device_facts import CONFIG_KIND
from secposture.model.records import Change, Observation, SweepResult
from secposture.model.score import Score
from secposture.report.view.charts import TREND_SWEEPS
from secposture.scoring.score import Posture

# Keys of a device.config observation that may hold the (redacted) configuration text.
CONFIG_TEXT_KEYS = ("text", "redacted", "config")
DIFF_CONTEXT = 2
MAX_DIFF_LINES = 400


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One committed sweep as the trend shows it."""

    sweep_id: str
    started: datetime
    score: float | None
    coverage: float
    complete: bool


@dataclass(frozen=True, slots=True)
class DeviceRecord:
    """What the inventory remembers about one device across sweeps."""

    key: str
    ip: str
    mac: str | None
    vendor: str | None
    hostname: str | None
    first_seen: datetime
    last_seen: datetime
    status: str  # active | missing | stale
    times_seen: int


@dataclass(frozen=True, slots=True)
class ReportContext:
    """The optional parts of a report; ``None`` means not available (not "empty")."""

    posture: Posture | None = None
    history: tuple[SweepPoint, ...] | None = None  # committed sweeps up to this one, oldest first
    changes: tuple[Change, ...] | None = None  # what this sweep changed
    devices: tuple[DeviceRecord, ...] | None = None  # every device the inventory knows
    # The configuration each device had in the previous sweep (by IP), for drift.
    previous_configs: dict[str, Observation] | None = None


def context_from_store(
    store: Inventory,
    sweep: SweepResult,
    *,
    posture: Posture | None = None,
    changes: Iterable[Change] | None = None,
    score: Score | None = None,
) -> ReportContext:
    """Everything the report needs from the inventory for ``sweep`` (committed already).

    ``changes`` are the ones the commit returned; without them the store's record of this
    sweep's changes is used (``secposture report`` re-rendering a stored sweep). ``score`` is
    the sweep's score as the report's headline shows it: a stored sweep re-judged with today's
    answers and waivers shows that score as the trend's last point too, so the two agree.
    """
    data = store.read()
    committed = store.committed(data)
    order = [row["sweep_id"] for row in committed]
    upto = order.index(sweep.sweep_id) + 1 if sweep.sweep_id in order else len(order)
    history = tuple(_point(row) for row in committed[max(0, upto - TREND_SWEEPS) : upto])
    if score is not None and history and history[-1].sweep_id == sweep.sweep_id:
        last = history[-1]
        history = (*history[:-1], replace(last, score=score.overall, coverage=score.coverage))
    if changes is None:
        changes = [c for c in store.changes(data=data) if c.sweep_id == sweep.sweep_id]
    previous: dict[str, Observation] = {}
    if upto >= 2:
        record = store.sweep_record(order[upto - 2], data)
        if record is not None:
            previous = configs_by_ip(_observations(record))
    return ReportContext(
        posture=posture,
        history=history,
        changes=tuple(changes),
        devices=tuple(_device(row) for row in store.devices(data)),
        previous_configs=previous,
    )


def _point(row: dict[str, Any]) -> SweepPoint:
    score = row.get("score") or {}
    return SweepPoint(
        sweep_id=row["sweep_id"],
        started=datetime.fromisoformat(row["started"]),
        score=score.get("overall"),
        coverage=float(score.get("coverage") or 0.0),
        complete=bool(row.get("complete", True)),
    )


def _device(row: dict[str, Any]) -> DeviceRecord:
    return DeviceRecord(
        key=row["key"],
        ip=row["ip"],
        mac=row.get("mac"),
        vendor=row.get("vendor"),
        hostname=row.get("hostname"),
        first_seen=datetime.fromisoformat(row["first_seen"]),
        last_seen=datetime.fromisoformat(row["last_seen"]),
        status=str(row.get("status", "")),
        times_seen=int(row.get("times_seen", 0)),
    )


def _observations(record: dict[str, Any]) -> list[Observation]:
    # Only the device configurations are parsed: the rest of a 2,000-host sweep is not needed.
    raw = record.get("result", {}).get("observations", [])
    return [Observation.model_validate(o) for o in raw if o.get("kind") == CONFIG_KIND]


def configs_by_ip(observations: Iterable[Observation]) -> dict[str, Observation]:
    """The device.config observation of each device IP (the last one wins)."""
    return {o.ip: o for o in observations if o.kind == CONFIG_KIND}


def config_text(observation: Observation | None) -> str | None:
    """The stored (redacted) configuration text, or None when only its hash was kept."""
    if observation is None:
        return None
    for key in CONFIG_TEXT_KEYS:
        value = observation.data.get(key)
        if isinstance(value, str):
            return value
    return None


def config_hash(observation: Observation | None) -> str | None:
    """The SHA-256 the audit recorded for a configuration, if any."""
    if observation is None:
        return None
    value = observation.data.get("sha256")
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of a configuration diff."""

    kind: str  # add | remove | context | hunk
    text: str


def config_diff(before: str, after: str) -> list[DiffLine]:
    """A unified diff of two configurations, at most :data:`MAX_DIFF_LINES` lines."""
    lines: list[DiffLine] = []
    diff = difflib.unified_diff(
        before.splitlines(), after.splitlines(), lineterm="", n=DIFF_CONTEXT
    )
    for line in diff:
        if line.startswith(("---", "+++")):
            continue
        kind = {"@": "hunk", "+": "add", "-": "remove"}.get(line[:1], "context")
        lines.append(DiffLine(kind, line))
        if len(lines) >= MAX_DIFF_LINES:
            lines.append(DiffLine("hunk", "…"))
            break
    return lines


def trend_points(history: Sequence[SweepPoint] | None) -> list[SweepPoint]:
    """The last :data:`TREND_SWEEPS` sweeps of ``history`` (none when it is not available)."""
    return list(history or ())[-TREND_SWEEPS:]
