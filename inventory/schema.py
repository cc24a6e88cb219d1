"""The store's schema version and the steps that bring an older store up to date.

Each step takes the tables of version N and returns those of N + 1; a store written by a newer
secposture is refused, never rewritten, so rolling back an agent cannot damage history.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from inventory.identity import describe
from inventory.storage import StoreError, Tables, pack
from secposture.model.records import AttemptStatus, Service, SweepResult

SCHEMA_VERSION = 2
TABLES = ("meta", "sweeps", "sweep_data", "devices", "changes")


def version_of(data: Tables) -> int:
    """The schema version a store was written with (1 for the walking skeleton's stores)."""
    meta = data.get("meta", {}).get("1", {})
    version = meta.get("schema_version", 1 if data else SCHEMA_VERSION)
    if not isinstance(version, int):
        raise StoreError(f"the store's schema_version is not a number: {version!r}")
    return version


def upgrade(data: Tables, where: str) -> Tables:
    """``data`` at the current schema, migrated in memory; refuse a newer store."""
    version = version_of(data)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{where}: the store has schema {version}, newer than this secposture understands "
            f"({SCHEMA_VERSION}); upgrade secposture on this machine (the store was not changed)"
        )
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
        data["meta"]["1"]["schema_version"] = version
    for name in TABLES:
        data.setdefault(name, {})
    data["meta"].setdefault("1", {"schema_version": SCHEMA_VERSION})
    return data


def attempt_summary(result: SweepResult) -> dict[str, object]:
    """Attempts as kept forever: counts per stage and status, and every one that failed."""
    by_stage: dict[str, dict[str, int]] = {}
    for a in result.attempts:
        counts = by_stage.setdefault(a.stage, {})
        counts[a.status.value] = counts.get(a.status.value, 0) + 1
    failed = [
        a.model_dump(mode="json")
        for a in result.attempts
        if a.status is not AttemptStatus.COMPLETED
    ]
    return {"by_stage": by_stage, "not_completed": failed}


def _v1_to_v2(data: Tables) -> Tables:
    """Skeleton stores kept parsed sweep documents and full service records on devices."""
    for row in data.get("sweep_data", {}).values():
        doc = {"result": row.pop("result"), "findings": row.pop("findings", [])}
        row["data"] = pack(json.dumps(doc, ensure_ascii=False).encode("utf-8"))
        for summary in data.get("sweeps", {}).values():
            if summary["sweep_id"] == row["sweep_id"]:
                summary["attempts"] = attempt_summary(SweepResult.model_validate(doc["result"]))
    for summary in data.get("sweeps", {}).values():
        summary.setdefault("status", "committed")
        summary.setdefault("attempts", {"by_stage": {}, "not_completed": []})
    for row in data.get("devices", {}).values():
        services = [Service.model_validate(s) for s in row.get("services") or []]
        row["services"] = {s.key: describe(s) for s in services} if services else None
        row.setdefault("times_seen", len(row.get("sweep_ids", [])))
        row.setdefault("config_sha256", None)
    data.setdefault("meta", {}).setdefault("1", {})
    return data


MIGRATIONS: dict[int, Callable[[Tables], Tables]] = {1: _v1_to_v2}
