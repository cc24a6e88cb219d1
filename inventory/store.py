"""The agency's inventory: a TinyDB file of sweeps, devices and changes.

A sweep is committed with one read and one atomic write under an exclusive lock, so a reader
(the CLI, the report) sees either the store before the sweep or after it, never half of it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from tinydb import TinyDB

from inventory.changes import diff_sweeps
from inventory.storage import AtomicJSONStorage, StoreError, locked
from secposture.models import Change, Finding, SweepResult, device_key
from secposture.scoring import Score

SCHEMA_VERSION = 1
TABLES = ("meta", "sweeps", "sweep_data", "devices", "changes")


class Inventory:
    """Read and write one agency's store file."""

    def __init__(self, path: Path | str, *, keep_sweeps: int = 20) -> None:
        self.path = Path(path)
        self.keep_sweeps = keep_sweeps

    # -- reading -------------------------------------------------------------------------
    def _read(self) -> dict[str, dict[str, Any]]:
        data = AtomicJSONStorage(self.path).read() or {}
        meta = data.get("meta", {}).get("1", {})
        version = meta.get("schema_version", SCHEMA_VERSION)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: store schema {version} is newer than this secposture "
                f"understands ({SCHEMA_VERSION}); upgrade secposture"
            )
        return data

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with locked(self.path, shared=True):
            return self._read()

    def db(self) -> TinyDB:
        """A TinyDB view of the store for queries (read it under ``locked(shared=True)``)."""
        return TinyDB(self.path, storage=AtomicJSONStorage)

    def sweeps(self) -> list[dict[str, Any]]:
        rows = list(self.snapshot().get("sweeps", {}).values())
        return sorted(rows, key=lambda r: str(r["started"]))

    def devices(self) -> list[dict[str, Any]]:
        return list(self.snapshot().get("devices", {}).values())

    def changes(self, since: str | None = None) -> list[Change]:
        rows = [Change.model_validate(r) for r in self.snapshot().get("changes", {}).values()]
        if since is not None:
            order = [s["sweep_id"] for s in self.sweeps()]
            if since not in order:
                raise StoreError(f"no sweep {since!r} in {self.path}")
            later = set(order[order.index(since) + 1 :])
            rows = [c for c in rows if c.sweep_id in later]
        return rows

    def latest_result(self, data: dict[str, dict[str, Any]] | None = None) -> SweepResult | None:
        data = data if data is not None else self.snapshot()
        rows = sorted(data.get("sweep_data", {}).values(), key=lambda r: str(r["started"]))
        return SweepResult.model_validate(rows[-1]["result"]) if rows else None

    # -- writing -------------------------------------------------------------------------
    def commit_sweep(
        self, result: SweepResult, findings: list[Finding], score: Score
    ) -> list[Change]:
        """Store a finished sweep, update devices, record changes; one atomic write."""
        with locked(self.path):
            data = self._read()
            for name in TABLES:
                data.setdefault(name, {})
            data["meta"]["1"] = {"schema_version": SCHEMA_VERSION, "agency": result.agency_id}
            previous = self.latest_result(data)
            changes = diff_sweeps(previous, result)
            self._put_sweep(data, result, findings, score, len(changes))
            self._put_devices(data, result)
            rows = data["changes"]
            nxt = _next_id(rows)
            for i, change in enumerate(changes):
                rows[str(nxt + i)] = change.model_dump(mode="json")
            AtomicJSONStorage(self.path).write(data)
        return changes

    def _put_sweep(
        self,
        data: dict[str, dict[str, Any]],
        result: SweepResult,
        findings: list[Finding],
        score: Score,
        n_changes: int,
    ) -> None:
        summary = {
            "sweep_id": result.sweep_id,
            "started": result.started.isoformat(),
            "finished": result.finished.isoformat() if result.finished else None,
            "profile": result.profile,
            "scopes": list(result.scopes),
            "complete": result.complete,
            "counts": result.counts.model_dump(),
            "score": score.model_dump(mode="json"),
            "changes": n_changes,
        }
        data["sweeps"][str(_next_id(data["sweeps"]))] = summary
        data["sweep_data"][str(_next_id(data["sweep_data"]))] = {
            "sweep_id": result.sweep_id,
            "started": result.started.isoformat(),
            "result": result.model_dump(mode="json"),
            "findings": [f.model_dump(mode="json") for f in findings],
        }
        # Observations are kept for the last N sweeps; the summaries are kept forever.
        rows = sorted(data["sweep_data"].items(), key=lambda kv: str(kv[1]["started"]))
        for doc_id, _ in rows[: max(0, len(rows) - self.keep_sweeps)]:
            del data["sweep_data"][doc_id]

    def _put_devices(self, data: dict[str, dict[str, Any]], result: SweepResult) -> None:
        table = data["devices"]
        by_key = {row["key"]: doc_id for doc_id, row in table.items()}
        seen_at = result.started.isoformat()
        seen: set[str] = set()
        nxt = _next_id(table)
        for host in result.hosts:
            key = device_key(host)
            seen.add(key)
            doc_id = by_key.get(key)
            row: dict[str, Any] = (
                table[doc_id]
                if doc_id
                else {
                    "key": key,
                    "first_seen": seen_at,
                    "sweep_ids": [],
                    "ip_history": [],
                }
            )
            if not row["ip_history"] or row["ip_history"][-1]["ip"] != host.ip:
                row["ip_history"].append({"ip": host.ip, "since": seen_at})
            row.update(
                ip=host.ip,
                mac=host.mac,
                vendor=host.vendor or row.get("vendor"),
                hostname=host.hostname or row.get("hostname"),
                last_seen=seen_at,
                status="active",
                services=[s.model_dump(mode="json") for s in host.open_services()]
                if host.ports_scanned
                else row.get("services", []),
            )
            row["sweep_ids"] = [*row["sweep_ids"], result.sweep_id][-self.keep_sweeps :]
            if doc_id is None:
                table[str(nxt)] = row
                nxt += 1
        for row in table.values():
            if row["key"] not in seen and row.get("status") == "active":
                row["status"] = "missing"


def _next_id(table: dict[str, Any]) -> int:
    return max((int(k) for k in table), default=0) + 1


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)
