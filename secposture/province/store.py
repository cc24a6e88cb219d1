"""The collector's file store from before issue #14: bundle files and a per-agency index.

The collector now keeps everything in its database (:mod:`secposture.province.db`); this
module stays for two things: ``secposture collector store migrate`` reads stores it made
(their layout below), and the ingest benchmark measures it as the baseline. The upload
reply (:class:`IngestOutcome`) and the per-check counts are shared with the database store.

Layout, one folder per agency::

    bundles/<agency>/<sweep>.bundle   the exact signed bytes the agency sent: the truth
    bundles/<agency>/index.json       one summary row per bundle of that agency (TinyDB,
                                      crash-safe storage, one writer at a time)

The index spares dedup, "latest per agency" and the province report from re-reading every
file. It is kept per agency so that storing a bundle rewrites that agency's few rows rather
than the whole province's (a single province-wide index made ingest quadratic), and so that
the bundle file, its index and the one folder fsync after both renames sit together. An
agency's index is rebuilt from its folder's files whenever it is missing, damaged or does not
account for exactly the files beside it (a crash between the two writes), so losing it loses
nothing. A process keeps the indexes it has read, checked against the file's identity.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inventory.storage import (
    StoreError,
    atomic_write_bytes,
    decode_tables,
    encode_tables,
    fsync_dir,
    locked,
)
from secposture.bundle.envelope import BundleError, Envelope, RejectReason, read_envelope
from secposture.bundle.export import SUFFIX, bundle_name
from secposture.bundle.model import BundlePayload
from secposture.model.records import Status, utcnow
from secposture.province.hierarchy import Hierarchy, Unit

log = logging.getLogger("secposture.province")

INDEX = "index.json"  # in each agency's folder
BUNDLES = "bundles"
FAILED = frozenset({Status.FAIL, Status.PARTIAL})
ASSESSED = FAILED | {Status.PASS}
PILLAR_FRAMEWORK = "gci"
Row = dict[str, Any]


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
        """The outcome as the upload reply's JSON body."""
        return {
            "status": "accepted" if self.accepted else "rejected",
            "reason": self.reason.value if self.reason else None,
            "detail": self.detail,
            "agency": self.agency_id,
            "sweep_id": self.sweep_id,
            "latest": self.latest,
        }


def check_counts(payload: BundlePayload) -> tuple[dict[str, int], dict[str, int], dict[str, str]]:
    """Per check: its failed targets, its assessed targets, and the severity of a failed one."""
    failed: Counter[str] = Counter()
    checked: Counter[str] = Counter()
    severity: dict[str, str] = {}
    for f in payload.findings:
        if f.status in ASSESSED:
            checked[f.check_id] += 1
        if f.status in FAILED:
            failed[f.check_id] += 1
            severity[f.check_id] = f.severity.value
    return dict(failed), dict(checked), severity


def summary_row(payload: BundlePayload, digest: str, size: int, received: str) -> dict[str, Any]:
    """The index row of one bundle: what the province report needs without the file."""
    failed, checked, severity = check_counts(payload)
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
        "failed": failed,
        "checked": checked,
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
        self._indexes: dict[str, AgencyIndex] = {}  # by agency, see _cached
        self._indexes_lock = threading.Lock()

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
        folder = self._folder(agency)
        with locked(folder / INDEX):
            index = self._index_locked(agency)
            same = next((r for r in index.rows if r["sweep_id"] == sweep_id), None)
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
            newest = max((r["started"] for r in index.rows), default="")
            # Under the lock no writer is between its temporary file and the rename, so a
            # temporary file here is one a killed writer left.
            for orphan in folder.glob(".*.tmp"):
                with contextlib.suppress(FileNotFoundError):
                    orphan.unlink()
            # The file first, then the index, then one fsync of the folder for both renames:
            # a crash in between leaves a file its index does not list, which the next read
            # notices and indexes; never an index row without its file.
            atomic_write_bytes(folder / bundle_name(sweep_id), data, sync_dir=False)
            self._write_index(agency, (*index.rows, row), index.unindexed)
        latest = row["started"] > newest
        return IngestOutcome(
            True,
            None,
            "stored"
            if latest
            else "stored (older than the latest sweep already held, which stays the latest)",
            agency,
            sweep_id,
            latest,
        )

    def _folder(self, agency: str) -> Path:
        folder = self.root / BUNDLES / agency
        if not folder.is_dir():
            folder.mkdir(parents=True, exist_ok=True)
            fsync_dir(folder.parent)  # the new folder's name must outlive a power cut too
        return folder

    # -- reading ---------------------------------------------------------------------------
    def rows(self) -> list[Row]:
        """Every stored bundle's summary row, oldest sweep first (indexes rebuilt if lost)."""
        try:
            with os.scandir(self.root / BUNDLES) as entries:
                agencies = sorted(e.name for e in entries if e.is_dir())
        except FileNotFoundError:
            return []
        rows = [row for agency in agencies for row in self._index(agency).rows]
        return sorted(rows, key=lambda r: (r["started"], r["agency"]))

    def latest_rows(self) -> dict[str, Row]:
        """The newest stored sweep of each agency, by agency id."""
        latest: dict[str, Row] = {}
        for row in self.rows():  # oldest first, so the last one wins
            latest[row["agency"]] = row
        return latest

    def payload(self, row: Row) -> BundlePayload:
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
        return BundlePayload.model_validate(read_envelope(data, max_bytes=len(data)).payload)

    # -- the per-agency indexes ------------------------------------------------------------
    def _index(self, agency: str) -> AgencyIndex:
        """An agency's index for reading: the cached one while its file is unchanged, else
        read from disk, else rebuilt under the lock."""
        index = self._cached(agency) or self._read_index(agency)
        if index is None:
            with locked(self.root / BUNDLES / agency / INDEX):
                index = self._index_locked(agency)
        return index

    def _index_locked(self, agency: str) -> AgencyIndex:
        index = self._cached(agency) or self._read_index(agency)
        if index is None:
            rows, unindexed = self._rebuild(agency)
            index = self._write_index(agency, rows, unindexed)
        return index

    def _cached(self, agency: str) -> AgencyIndex | None:
        index = self._indexes.get(agency)
        if index is None:
            return None
        try:
            stamp = _stamp(os.stat(self.root / BUNDLES / agency / INDEX))
        except FileNotFoundError:
            return None
        return index if index.stamp == stamp else None

    def _read_index(self, agency: str) -> AgencyIndex | None:
        """The agency's index from disk, or None when it is missing, damaged, or does not
        account for exactly the bundle files in its folder (it must then be rebuilt)."""
        folder = self.root / BUNDLES / agency
        path = folder / INDEX
        stamp = None
        try:
            with open(path, "rb") as fh:  # the stamp of the very bytes read
                stamp = _stamp(os.fstat(fh.fileno()))
                index = decode_tables(fh.read(), path)
        except FileNotFoundError:
            index = None
        except (OSError, StoreError) as exc:
            log.warning("%s: %s", path, exc)
            return None
        try:
            files = {n for n in os.listdir(folder) if n.endswith(SUFFIX) and n[0] != "."}
        except FileNotFoundError:
            files = set()
        if index is None:
            return AgencyIndex(None, (), ()) if not files else None
        try:
            rows = tuple(index["bundles"].values())
            unindexed = tuple(index.get("unindexed", {}).values())
            listed = {r["file"].rsplit("/", 1)[-1] for r in rows} | {u["file"] for u in unindexed}
        except (AttributeError, KeyError, TypeError):
            log.warning("%s: not an index of bundles", path)
            return None
        if listed != files:  # mid-write (the caller retries under the lock) or a crash
            return None
        return self._keep(agency, AgencyIndex(stamp, rows, unindexed))

    def _write_index(
        self, agency: str, rows: tuple[Row, ...], unindexed: tuple[Row, ...]
    ) -> AgencyIndex:
        path = self.root / BUNDLES / agency / INDEX
        tables = {
            "bundles": {str(n): row for n, row in enumerate(rows, start=1)},
            "unindexed": {str(n): item for n, item in enumerate(unindexed, start=1)},
        }
        atomic_write_bytes(path, encode_tables(tables))
        return self._keep(agency, AgencyIndex(_stamp(os.stat(path)), rows, unindexed))

    def _keep(self, agency: str, index: AgencyIndex) -> AgencyIndex:
        with self._indexes_lock:
            self._indexes[agency] = index
        return index

    def _rebuild(self, agency: str) -> tuple[tuple[Row, ...], tuple[Row, ...]]:
        """Index rows from an agency's bundle files, each verified again against the
        registry; the files that fail are listed as unindexed, with the reason."""
        log.warning(
            "the index of %s is missing, damaged or does not list every bundle file "
            "beside it: rebuilding it from those files",
            agency,
        )
        rows: list[Row] = []
        unindexed: list[Row] = []
        for path in sorted((self.root / BUNDLES / agency).glob(f"*{SUFFIX}")):
            if path.name.startswith("."):
                continue
            try:
                data = path.read_bytes()
                envelope = read_envelope(data, max_bytes=self.max_bytes)
                unit = self._signer(envelope)
                payload = envelope.verify()
                if payload.agency.id != unit.id or agency != unit.id:
                    raise BundleError(RejectReason.KEY_MISMATCH, f"not signed by {agency}")
                if bundle_name(payload.sweep.sweep_id) != path.name:
                    raise BundleError(RejectReason.MALFORMED, "named after another sweep")
            except (BundleError, OSError) as exc:
                log.warning("not indexed: %s: %s", path, exc)
                unindexed.append({"file": path.name, "reason": str(exc)})
                continue
            received = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()
            rows.append(summary_row(payload, envelope.digest, envelope.size, received))
        log.info("index of %s rebuilt from %d bundle files", agency, len(rows))
        return tuple(rows), tuple(unindexed)


@dataclass(frozen=True, slots=True)
class AgencyIndex:
    """One agency's index as this process last read or wrote it."""

    stamp: tuple[int, int, int] | None  # inode, size, mtime of the file it came from
    rows: tuple[Row, ...]
    unindexed: tuple[Row, ...]  # bundle files that failed verification at a rebuild


def _stamp(st: os.stat_result) -> tuple[int, int, int]:
    # The index is only ever replaced by rename (a new inode) and only grows between
    # rebuilds, so another process's write changes at least one of these.
    return (st.st_ino, st.st_size, st.st_mtime_ns)
