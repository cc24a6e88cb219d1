"""The agent's run records: one per sweep it started, missed or could not start.

Kept as a small JSON file replaced atomically under the store's writer lock, so a kill at any
moment leaves the old list or the new one. A record is written as ``running`` before the
sweep starts and finished afterwards; one still ``running`` when nobody holds the sweep lock
belongs to a process that died, and is marked ``interrupted`` by the next one to take it.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inventory.storage import StoreError, atomic_write_bytes, locked
from secposture.model.records import Record, utcnow

FORMAT_VERSION = 1
KEEP_RUNS = 200  # four years of weekly sweeps, with room for retries and missed runs


class RunStatus(StrEnum):
    """How a run ended (or that it is still running)."""

    RUNNING = "running"
    OK = "ok"  # the sweep completed and its report was written
    INCOMPLETE = "incomplete"  # stored and reported, but some stage or host failed
    ERROR = "error"  # the job raised; nothing new was stored
    INTERRUPTED = "interrupted"  # stopped (signal, power cut) before it finished
    BUSY = "busy"  # another sweep of this agency was running, so this one did not start
    MISSED = "missed"  # the agent was down past the misfire grace time


class RunTrigger(StrEnum):
    """What started a run."""

    SCHEDULE = "schedule"
    CATCH_UP = "catch_up"  # re-run at start-up of a sweep a stop or crash interrupted
    ONCE = "once"  # secposture agent run --once


class RunRecord(Record):
    """One run of the agent's job, as ``agent status`` shows it."""

    run_id: str
    agency_id: str
    trigger: RunTrigger
    status: RunStatus
    started: datetime
    finished: datetime | None = None
    scheduled_for: datetime | None = None
    exit_code: int | None = None
    sweep_id: str | None = None
    # One line for staff; never a traceback (it could carry a device's reply or a path).
    error: str | None = None
    pid: int

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to end; None while running or when the end is unknown."""
        return None if self.finished is None else (self.finished - self.started).total_seconds()


def new_record(
    agency_id: str,
    trigger: RunTrigger,
    status: RunStatus = RunStatus.RUNNING,
    **fields: Any,
) -> RunRecord:
    """A record stamped now, for this process."""
    now = utcnow()
    return RunRecord(
        run_id=f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}",
        agency_id=agency_id,
        trigger=trigger,
        status=status,
        started=now,
        pid=os.getpid(),
        **fields,
    )


class RunLog:
    """Read and update the run records of one agency."""

    def __init__(self, path: Path, *, keep: int = KEEP_RUNS) -> None:
        self.path = path
        self.keep = keep

    def records(self) -> list[RunRecord]:
        """Every kept record, oldest first. Readers need no lock: writes replace the file."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot read run records ({exc.strerror})") from None
        try:
            doc = json.loads(raw)
            return [RunRecord.model_validate(r) for r in doc["runs"]]
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            raise StoreError(f"{self.path}: run records are damaged ({exc})") from None

    def _write(self, rows: list[RunRecord]) -> None:
        doc = {
            "version": FORMAT_VERSION,
            "runs": [r.model_dump(mode="json") for r in rows[-self.keep :]],
        }
        atomic_write_bytes(self.path, json.dumps(doc, ensure_ascii=False, indent=1).encode())

    def add(self, record: RunRecord) -> RunRecord:
        """Append a record."""
        with locked(self.path):
            self._write([*self.records(), record])
        return record

    def finish(self, run_id: str, status: RunStatus, **fields: Any) -> RunRecord | None:
        """Close a running record; None when it was already closed (first writer wins)."""
        with locked(self.path):
            rows = self.records()
            for i, row in enumerate(rows):
                if row.run_id == run_id and row.status is RunStatus.RUNNING:
                    rows[i] = row.model_copy(
                        update={"status": status, "finished": utcnow(), **fields}
                    )
                    self._write(rows)
                    return rows[i]
        return None

    def recover_stale(self, reason: str) -> list[RunRecord]:
        """Mark records left ``running`` by a dead process as interrupted.

        Call only while holding the sweep lock: then no live process owns a running record."""
        with locked(self.path):
            rows = self.records()
            stale = [i for i, r in enumerate(rows) if r.status is RunStatus.RUNNING]
            for i in stale:
                rows[i] = rows[i].model_copy(
                    update={"status": RunStatus.INTERRUPTED, "error": reason}
                )
            if stale:
                self._write(rows)
            return [rows[i] for i in stale]
