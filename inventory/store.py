"""The agency's inventory: a TinyDB file of sweeps, devices and the changes between sweeps.

Every write is one read and one atomic replace of the file under the writer lock, so the
scheduler daemon and a CLI command never interleave, and a reader (CLI, report) sees the store
before a sweep or after it, never half of it. Tables:

- ``sweeps``: one summary per sweep, in commit order, kept forever;
- ``sweep_data``: the full sweep (hosts, observations, attempts, findings) of the last
  ``keep_sweeps`` sweeps, each one compressed string (see :func:`inventory.storage.pack`);
- ``devices``: one row per device, keyed by MAC else IP, with first/last seen and status;
- ``changes``: what each sweep changed, kept forever.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import TypeAdapter
from pydantic_core import PydanticSerializationError

from inventory.changes import absence_assessed, detect_changes
from inventory.identity import Identity, Known, Match, config_hashes
from inventory.schema import SCHEMA_VERSION, attempt_summary, upgrade, version_of
from inventory.storage import (
    StoreError,
    Tables,
    atomic_write_bytes,
    encode_tables,
    locked,
    pack,
    read_tables,
    remove_orphans,
    unpack,
)
from secposture.model.records import Change, Finding, Host, Observation, SweepResult, utcnow
from secposture.model.score import Score

if TYPE_CHECKING:
    from secposture.config.sections import AgencyConfig

ACTIVE, MISSING, STALE = "active", "missing", "stale"
RUNNING, COMMITTED, INTERRUPTED = "running", "committed", "interrupted"
_FINDINGS = TypeAdapter(list[Finding])
_HOSTS = TypeAdapter(list[Host])
_OBSERVATIONS = TypeAdapter(list[Observation])
_PIECE = 1000  # records serialised at a time into the sweep document


class Inventory:
    """Read and write one agency's store file."""

    def __init__(
        self, path: Path | str, *, keep_sweeps: int = 20, stale_after_days: int = 30
    ) -> None:
        self.path = Path(path)
        self.keep_sweeps = keep_sweeps
        self.stale_after = timedelta(days=stale_after_days)

    @classmethod
    def for_config(cls, config: AgencyConfig) -> Inventory:
        """The store an agency config names, with its retention and staleness settings."""
        store = config.store
        return cls(
            store.path, keep_sweeps=store.keep_sweeps, stale_after_days=store.stale_after_days
        )

    # -- reading: no lock needed, a writer replaces the whole file by rename ------------------
    def read(self) -> Tables:
        """All tables at the current schema (an older store is migrated in memory only)."""
        return upgrade(read_tables(self.path) or {}, str(self.path))

    def sweeps(self, data: Tables | None = None) -> list[dict[str, Any]]:
        """Sweep summaries in commit order, running and interrupted ones included."""
        table = (data or self.read())["sweeps"]
        return [table[k] for k in sorted(table, key=int)]

    def committed(self, data: Tables | None = None) -> list[dict[str, Any]]:
        """The sweeps that were committed, oldest first."""
        return [s for s in self.sweeps(data) if s["status"] == COMMITTED]

    def devices(self, data: Tables | None = None) -> list[dict[str, Any]]:
        """Every device ever seen, most recently seen first."""
        rows = list((data or self.read())["devices"].values())
        return sorted(rows, key=lambda r: (r["last_seen"], r["ip"]), reverse=True)

    def device(self, query: str, data: Tables | None = None) -> dict[str, Any] | None:
        """The device with this key, MAC or current IP; else the last one seen at that IP."""
        q = query.strip().lower()
        rows = self.devices(data)
        for row in rows:
            if q in (row["key"], (row.get("mac") or "").lower(), row["ip"]):
                return row
        return next((r for r in rows if any(h["ip"] == q for h in r["ip_history"])), None)

    def changes(self, since: str | None = None, data: Tables | None = None) -> list[Change]:
        """Every recorded change, oldest first; with ``since``, only those of later sweeps."""
        data = data or self.read()
        rows = [data["changes"][k] for k in sorted(data["changes"], key=int)]
        changes = [Change.model_validate(r) for r in rows]
        if since is None:
            return changes
        order = [s["sweep_id"] for s in self.committed(data)]
        if since not in order:
            raise StoreError(f"no committed sweep {since!r} in {self.path}")
        later = set(order[order.index(since) + 1 :])
        return [c for c in changes if c.sweep_id in later]

    def sweep_record(self, sweep_id: str, data: Tables | None = None) -> dict[str, Any] | None:
        """The full stored sweep (``result`` and ``findings``), if it is still retained."""
        data = data or self.read()
        row = next((r for r in data["sweep_data"].values() if r["sweep_id"] == sweep_id), None)
        if row is None:
            return None
        doc: dict[str, Any] = unpack(row["data"])
        return doc

    def latest_result(self, data: Tables | None = None) -> SweepResult | None:
        """The last committed sweep, as collected."""
        data = data or self.read()
        done = self.committed(data)
        doc = self.sweep_record(done[-1]["sweep_id"], data) if done else None
        return SweepResult.model_validate(doc["result"]) if doc else None

    def known(self, data: Tables | None = None) -> dict[str, Known]:
        """Every stored device as the baseline the next sweep is compared with."""
        return {
            row["key"]: Known(
                key=row["key"],
                ip=row["ip"],
                mac=row.get("mac"),
                present=row["status"] == ACTIVE,
                services=row.get("services"),
                config_sha256=row.get("config_sha256"),
            )
            for row in (data or self.read())["devices"].values()
        }

    def resolve(self, sweep: SweepResult, data: Tables | None = None) -> list[Match]:
        """The stored device each host of ``sweep`` is."""
        return Identity(self.known(data).values()).resolve(sweep.hosts)

    # -- writing ------------------------------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[Tables]:
        """Read the store, let the caller change it, write it back once, all under the lock."""
        with locked(self.path):
            remove_orphans(self.path)  # left by a writer killed mid-write
            raw = read_tables(self.path) or {}
            data = upgrade(raw, str(self.path))
            yield data
            atomic_write_bytes(self.path, encode_tables(data))

    def migrate(self) -> tuple[int, int]:
        """Rewrite an older store at the current schema; returns (from, to) versions."""
        with locked(self.path):
            raw = read_tables(self.path) or {}
            before = version_of(raw)
            data = upgrade(raw, str(self.path))
            if before != SCHEMA_VERSION:
                atomic_write_bytes(self.path, encode_tables(data))
        return before, SCHEMA_VERSION

    def begin_sweep(
        self, sweep_id: str, *, started: datetime, profile: str, scopes: tuple[str, ...] | list[str]
    ) -> None:
        """Record that a sweep has started, so a sweep cut short is visible as interrupted."""
        with self._transaction() as data:
            _mark_dead_runs(data)
            _insert(
                data["sweeps"],
                {
                    "sweep_id": sweep_id,
                    "status": RUNNING,
                    "pid": os.getpid(),
                    "started": started.isoformat(),
                    "profile": profile,
                    "scopes": list(scopes),
                },
            )

    def interrupt_sweep(self, sweep_id: str, detail: str) -> None:
        """Mark a running sweep as interrupted (SIGTERM, time limit); nothing else changes."""
        with self._transaction() as data:
            for row in data["sweeps"].values():
                if row["sweep_id"] == sweep_id and row["status"] == RUNNING:
                    row.update(status=INTERRUPTED, detail=detail, finished=utcnow().isoformat())
                    row.pop("pid", None)

    def commit_sweep(
        self, result: SweepResult, findings: list[Finding] | PackedSweep, score: Score
    ) -> list[Change]:
        """Store a finished sweep, update devices, record changes: one atomic write.

        The findings may come already packed (:func:`pack_sweep`), so that a caller holding
        many can let them go before the store is read and written."""
        # Serialise the big part before taking the lock: the other writer waits less.
        packed = findings if isinstance(findings, PackedSweep) else pack_sweep(result, findings)
        if packed.sweep_id != result.sweep_id:
            raise ValueError(f"packed sweep {packed.sweep_id} is not {result.sweep_id}")
        blob = packed.blob
        with self._transaction() as data:
            if any(
                s["sweep_id"] == result.sweep_id and s["status"] == COMMITTED
                for s in data["sweeps"].values()
            ):
                raise StoreError(f"sweep {result.sweep_id} is already in {self.path}")
            _mark_dead_runs(data)
            known = self.known(data)
            matches = Identity(known.values()).resolve(result.hosts)
            changes = detect_changes(result, known, matches)
            data["meta"]["1"].update(schema_version=SCHEMA_VERSION, agency=result.agency_id)
            self._put_sweep(data, result, score, len(changes), blob)
            self._put_devices(data, result, matches)
            rows = data["changes"]
            nxt = _next_id(rows)
            for i, change in enumerate(changes):
                # Defaults (no port, no before/after) are left out: the table is kept forever.
                rows[str(nxt + i)] = change.model_dump(mode="json", exclude_defaults=True)
        return changes

    def _put_sweep(
        self, data: Tables, result: SweepResult, score: Score, n_changes: int, blob: str
    ) -> None:
        sweeps = data["sweeps"]
        for doc_id in [k for k, s in sweeps.items() if s["sweep_id"] == result.sweep_id]:
            del sweeps[doc_id]  # its "running" record; the summary goes in commit order
        _insert(
            sweeps,
            {
                "sweep_id": result.sweep_id,
                "status": COMMITTED,
                "started": result.started.isoformat(),
                "finished": result.finished.isoformat() if result.finished else None,
                "committed": utcnow().isoformat(),
                "profile": result.profile,
                "scopes": list(result.scopes),
                "exclude": list(result.exclude),
                "complete": result.complete,
                "counts": result.counts.model_dump(),
                "attempts": attempt_summary(result),
                "score": score.model_dump(mode="json"),
                "changes": n_changes,
            },
        )
        kept = data["sweep_data"]
        _insert(kept, {"sweep_id": result.sweep_id, "encoding": "zlib+base64", "data": blob})
        # Observations are kept for the last N sweeps; the summaries above are kept forever.
        for doc_id in sorted(kept, key=int)[: max(0, len(kept) - self.keep_sweeps)]:
            del kept[doc_id]

    def _put_devices(self, data: Tables, result: SweepResult, matches: list[Match]) -> None:
        table = data["devices"]
        by_key = {row["key"]: doc_id for doc_id, row in table.items()}
        at = result.started.isoformat()
        configs = config_hashes(result.observations)
        nxt = _next_id(table)
        for m in matches:
            host = m.host
            doc_id = by_key.get(m.key) or (by_key.get(m.former) if m.former else None)
            if doc_id is None:
                doc_id, nxt = str(nxt), nxt + 1
                table[doc_id] = {
                    "key": m.key,
                    "first_seen": at,
                    "sweep_ids": [],
                    "times_seen": 0,
                    "ip_history": [],
                    "services": None,
                    "services_scanned": None,
                    "config_sha256": None,
                }
            row = table[doc_id]
            if m.former:
                row["key"] = m.key  # an IP-keyed device now seen with its MAC
                row.setdefault("former_keys", []).append(m.former)
            if not row["ip_history"] or row["ip_history"][-1]["ip"] != host.ip:
                row["ip_history"].append({"ip": host.ip, "since": at})
            if m.services is not None:
                row["services"], row["services_scanned"] = m.services, at
            row.update(
                ip=host.ip,
                mac=host.mac.lower() if host.mac else row.get("mac"),
                vendor=host.vendor or row.get("vendor"),
                hostname=host.hostname or row.get("hostname"),
                last_seen=at,
                status=ACTIVE,
                config_sha256=configs.get(host.ip, row["config_sha256"]),
                times_seen=row["times_seen"] + 1,
                sweep_ids=[*row["sweep_ids"], result.sweep_id][-self.keep_sweeps :],
            )
        seen = {m.key for m in matches}
        assessed = absence_assessed(result)
        for row in table.values():
            if row["key"] not in seen:
                row["status"] = self._unseen_status(row, result.started, assessed)

    def _unseen_status(self, row: dict[str, Any], at: datetime, assessed: bool) -> str:
        """``stale`` after N days unseen; ``missing`` once a complete discovery missed it."""
        if at - datetime.fromisoformat(row["last_seen"]) >= self.stale_after:
            return STALE
        if assessed and row["status"] == ACTIVE:
            return MISSING
        return str(row["status"])


@dataclass(frozen=True, slots=True)
class PackedSweep:
    """A sweep's full document (the sweep and its findings) as the store keeps it."""

    sweep_id: str
    blob: str


def pack_sweep(result: SweepResult, findings: list[Finding]) -> PackedSweep:
    """The full sweep and its findings as one packed JSON document."""
    try:
        return PackedSweep(result.sweep_id, pack(_sweep_document(result, findings)))
    except PydanticSerializationError:
        # A lone surrogate in a banner cannot be UTF-8; the json module writes it as an
        # escape instead of losing the sweep.
        doc = {"result": result.model_dump(mode="json"),
               "findings": _FINDINGS.dump_python(findings, mode="json")}  # fmt: skip
        return PackedSweep(result.sweep_id, pack(json.dumps(doc).encode("ascii")))


def _sweep_document(result: SweepResult, findings: list[Finding]) -> Iterator[bytes]:
    """The full sweep and its findings as JSON, in pieces as :func:`pack` asks for them.

    The hosts, observations and findings go out a thousand at a time, so the document is
    never whole in memory (a 10,000-host import's is ~60 MB, issue #20); the lists come after
    the sweep's other fields, which JSON readers do not mind.
    """
    head = result.model_dump_json(exclude={"hosts", "observations"}).encode()
    yield b'{"result":' + head[:-1]
    lists: list[tuple[bytes, Sequence[Any], TypeAdapter[Any]]] = [
        (b',"hosts":', result.hosts, _HOSTS),
        (b',"observations":', result.observations, _OBSERVATIONS),
        (b'},"findings":', findings, _FINDINGS),
    ]
    for name, items, adapter in lists:
        yield name + b"["
        for start in range(0, len(items), _PIECE):
            chunk = adapter.dump_json(list(items[start : start + _PIECE]))
            yield (b"," if start else b"") + chunk[1:-1]
        yield b"]"
    yield b"}"


def _insert(table: dict[str, Any], row: dict[str, Any]) -> None:
    table[str(_next_id(table))] = row


def _next_id(table: dict[str, Any]) -> int:
    return max((int(k) for k in table), default=0) + 1


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mark_dead_runs(data: Tables, alive: Callable[[int], bool] = _pid_alive) -> None:
    """A sweep still "running" whose process is gone was cut short (power cut, SIGKILL)."""
    for row in data["sweeps"].values():
        pid = row.get("pid")
        if row["status"] == RUNNING and not (isinstance(pid, int) and alive(pid)):
            row.update(status=INTERRUPTED, detail="the sweeping process ended before commit")
            row.pop("pid", None)
