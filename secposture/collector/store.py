"""The collector's store: every accepted bundle file as it arrived, and an index of them.

The bundle files under ``bundles/<agency>/<sweep>.bundle`` are the truth: each is the exact
signed bytes the agency sent. ``index.json`` (TinyDB, crash-safe storage, one writer at a
time) holds one summary row per bundle so that dedup, "latest per agency" and the province
report do not re-read every file; it is rebuilt from the files when it is missing or damaged,
so losing it loses nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inventory.storage import (
    StoreError,
    Tables,
    atomic_write_bytes,
    encode_tables,
    locked,
    read_tables,
)
from secposture.bundle.envelope import BundleError, Envelope, RejectReason, read_envelope
from secposture.bundle.export import bundle_name
from secposture.bundle.model import BundlePayload
from secposture.collector.hierarchy import Hierarchy, Unit
from secposture.models import Status, utcnow

log = logging.getLogger("secposture.collector")

INDEX = "index.json"
BUNDLES = "bundles"
FAILED = frozenset({Status.FAIL.value, Status.PARTIAL.value})
ASSESSED = FAILED | {Status.PASS.value}
PILLAR_FRAMEWORK = "gci"


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What became of one bundle: accepted, or rejected with a reason."""

    accepted: bool
    reason: RejectReason | None
    detail: str
    agency_id: str | None = None
    sweep_id: str | None = None
    latest: bool = False  # the newest sweep stored for its agency

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "accepted" if self.accepted else "rejected",
            "reason": self.reason.value if self.reason else None,
            "detail": self.detail,
            "agency": self.agency_id,
            "sweep_id": self.sweep_id,
            "latest": self.latest,
        }


def summary_row(payload: BundlePayload, digest: str, size: int, received: str) -> dict[str, Any]:
    """The index row of one bundle: what the province report needs without the file."""
    failed: Counter[str] = Counter()
    checked: Counter[str] = Counter()
    severity: dict[str, str] = {}
    for f in payload.findings:
        if f.status.value in ASSESSED:
            checked[f.check_id] += 1
        if f.status.value in FAILED:
            failed[f.check_id] += 1
            severity[f.check_id] = f.severity.value
    sweep = payload.sweep
    return {
        "agency": payload.agency.id,
        "sweep_id": sweep.sweep_id,
        "started": sweep.started.isoformat(),
        "finished": sweep.finished.isoformat() if sweep.finished else None,
        "complete": sweep.complete,
        "digest": digest,
        "size": size,
        "received": received,
        "file": f"{BUNDLES}/{payload.agency.id}/{bundle_name(sweep.sweep_id)}",
        "score": payload.score.model_dump(mode="json"),
        "hosts": sweep.counts.hosts_found,
        "services": sweep.counts.services_open,
        "failed": dict(failed),
        "checked": dict(checked),
        "severity": severity,
        "pillars": pillars(payload),
    }


def pillars(payload: BundlePayload) -> list[dict[str, Any]]:
    """The agency-level GCI pillars of the bundle's posture, with their percent scores."""
    if payload.posture is None:
        return []
    gci = next((f for f in payload.posture.frameworks if f.id == PILLAR_FRAMEWORK), None)
    if gci is None:
        return []
    return [
        {"id": s.id, "title_vi": s.title_vi, "title_en": s.title_en, "percent": s.percent}
        for s in gci.sections
        if s.scope == "agency"  # national pillars (legal) are not measured at an agency
    ]


class CollectorStore:
    """Accept, deduplicate and list bundles for one province."""

    def __init__(self, root: Path, hierarchy: Hierarchy, *, max_bytes: int) -> None:
        self.root = root
        self.hierarchy = hierarchy
        self.max_bytes = max_bytes
        self.index_path = root / INDEX

    # -- accepting -------------------------------------------------------------------------
    def ingest(self, data: bytes, *, source: str) -> IngestOutcome:
        """Verify one bundle and store it unless it is refused; every refusal is logged."""
        try:
            envelope = read_envelope(data, max_bytes=self.max_bytes)
            unit = self._signer(envelope)
            payload = envelope.verify()
            if payload.agency.id != unit.id:
                raise BundleError(
                    RejectReason.KEY_MISMATCH,
                    f"signed with the key of {unit.id} but names {payload.agency.id}",
                )
            outcome = self._store(data, envelope, payload)
        except BundleError as exc:
            outcome = IngestOutcome(False, exc.reason, exc.detail)
        if outcome.accepted:
            log.info("accepted %s from %s (%s)", outcome.sweep_id, outcome.agency_id, source)
        else:
            reason = outcome.reason.value if outcome.reason else "?"
            log.warning("rejected bundle from %s: %s: %s", source, reason, outcome.detail)
        return outcome

    def _signer(self, envelope: Envelope) -> Unit:
        unit = self.hierarchy.unit_for_key(envelope.public_key)
        if unit is not None:
            return unit
        claimed = envelope.claimed_agency
        if claimed not in self.hierarchy.units:
            raise BundleError(
                RejectReason.UNKNOWN_UNIT,
                f"{str(claimed)[:64]!r} is not a unit of {self.hierarchy.province_id}",
            )
        raise BundleError(
            RejectReason.UNKNOWN_KEY,
            f"the signing key is not registered for {claimed} (register the key its "
            "'secposture keys show' prints)",
        )

    def _store(self, data: bytes, envelope: Envelope, payload: BundlePayload) -> IngestOutcome:
        agency, sweep_id = payload.agency.id, payload.sweep.sweep_id
        path = self.root / BUNDLES / agency / bundle_name(sweep_id)
        with locked(self.index_path):
            index = self._index_locked()
            rows = index["bundles"]
            same = next(
                (r for r in rows.values() if r["agency"] == agency and r["sweep_id"] == sweep_id),
                None,
            )
            if same is not None:
                if same["digest"] == envelope.digest:
                    raise BundleError(
                        RejectReason.DUPLICATE, f"{sweep_id} of {agency} is already stored"
                    )
                raise BundleError(
                    RejectReason.CONFLICT,
                    f"{sweep_id} of {agency} is already stored with other content",
                )
            row = summary_row(payload, envelope.digest, envelope.size, utcnow().isoformat())
            newest = max((r["started"] for r in rows.values() if r["agency"] == agency),
                         default="")
            # The file first, then the index: a crash between them leaves a file the next
            # rebuild picks up, never an index row without its file.
            atomic_write_bytes(path, data)
            rows[str(max((int(k) for k in rows), default=0) + 1)] = row
            atomic_write_bytes(self.index_path, encode_tables(index))
        latest = row["started"] > newest
        return IngestOutcome(True, None, "stored" if latest else "stored (older than the "
                             "latest sweep already held, which stays the latest)",
                             agency, sweep_id, latest)

    # -- reading ---------------------------------------------------------------------------
    def rows(self) -> list[dict[str, Any]]:
        """Every stored bundle's summary row, oldest sweep first (index rebuilt if lost)."""
        index = self._read_index()
        if index is None:
            with locked(self.index_path):
                index = self._index_locked()
        return sorted(index["bundles"].values(), key=lambda r: (r["started"], r["agency"]))

    def latest_rows(self) -> dict[str, dict[str, Any]]:
        """The newest stored sweep of each agency, by agency id."""
        latest: dict[str, dict[str, Any]] = {}
        for row in self.rows():  # oldest first, so the last one wins
            latest[row["agency"]] = row
        return latest

    def payload(self, row: dict[str, Any]) -> BundlePayload:
        """The content of a stored bundle whose digest still matches its index row.

        The file was verified against the registry when it came in and the index holds its
        digest, so a file changed since is refused here rather than verified again (the
        province report reads hundreds of bundles; a second signature check would double
        the cost of each)."""
        data = (self.root / row["file"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != row["digest"]:
            raise BundleError(
                RejectReason.BAD_SIGNATURE, f"{row['file']} changed since it was stored"
            )
        return BundlePayload.model_validate(json.loads(data)["payload"])

    # -- the index -------------------------------------------------------------------------
    def _read_index(self) -> Tables | None:
        """The index, or None when it is missing or damaged (and must be rebuilt)."""
        try:
            index = read_tables(self.index_path)
        except StoreError as exc:
            log.warning("index unreadable (%s); rebuilding it from the bundle files", exc)
            return None
        return index if index is not None and "bundles" in index else None

    def _index_locked(self) -> Tables:
        index = self._read_index()
        if index is None:
            index = {"bundles": self._rebuild()}
            atomic_write_bytes(self.index_path, encode_tables(index))
        return index

    def _rebuild(self) -> dict[str, Any]:
        """Index rows from the bundle files, each verified again against the registry."""
        rows: dict[str, Any] = {}
        for path in sorted((self.root / BUNDLES).glob(f"*/*{bundle_name('')}")):
            try:
                data = path.read_bytes()
                envelope = read_envelope(data, max_bytes=self.max_bytes)
                unit = self._signer(envelope)
                payload = envelope.verify()
                if payload.agency.id != unit.id or path.parent.name != unit.id:
                    raise BundleError(RejectReason.KEY_MISMATCH, f"not signed by {unit.id}")
            except (BundleError, OSError) as exc:
                log.warning("not indexed: %s: %s", path, exc)
                continue
            received = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
            rows[str(len(rows) + 1)] = summary_row(
                payload, envelope.digest, envelope.size, received
            )
        log.info("index rebuilt from %d bundle files", len(rows))
        return rows

