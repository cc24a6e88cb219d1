"""Bundles into the collector's database: verified, stored once, summarised at arrival.

Ingest does in one transaction what the province pages and the console need later: the
signed bytes (addressed by their SHA-256, never changed), the sweep's summary row, one row per
finding, per host and per change. The reply "accepted" is sent only after that transaction
committed, so a collector killed at any moment has lost no bundle it accepted; a duplicate or
a conflicting second copy is told apart by the unique (unit, sweep) key, so two collector
processes on one PostgreSQL database never store a sweep twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from inventory.storage import StoreError, decode_tables
from secposture.bundle.envelope import BundleError, Envelope, RejectReason, read_envelope
from secposture.bundle.export import SUFFIX
from secposture.bundle.keys import key_id
from secposture.bundle.model import BundlePayload
from secposture.checks.catalogue import load_catalogue
from secposture.model.records import utcnow
from secposture.model.score import Score
from secposture.province.db import schema as t
from secposture.province.db.registry import load_hierarchy, moment, parse_moment, seed
from secposture.province.hierarchy import (
    CollectorConfig,
    Hierarchy,
    KeyRecord,
    Succession,
    key_refusal,
)
from secposture.province.store import INDEX, IngestOutcome, check_counts, pillars
from secposture.scoring.score import score_findings

log = logging.getLogger("secposture.province")

Row = dict[str, Any]
# How far ahead of the collector's clock a sweep may say it started: agency clocks drift, and
# a PC set to local time with the wrong zone runs 7 hours ahead.
FUTURE_TOLERANCE = timedelta(hours=12)


class BundlePruned(BundleError):
    """A stored sweep whose bytes retention removed: its summary row is all that is left."""


class SqlStore:
    """Accept, deduplicate and list one province's bundles in its database."""

    def __init__(self, engine: Engine, config: CollectorConfig, *, now: datetime | None = None):
        self.engine = engine
        self.province_id = config.province.id
        self.province_name = config.province.name
        self.max_bytes = config.collector.max_bundle_bytes
        try:
            with engine.begin() as conn:
                added = seed(conn, config, now or utcnow())
        except IntegrityError:
            # Another collector process seeded the same rows at the same moment: seed again,
            # now that they are there (what is present is never added twice).
            with engine.begin() as conn:
                added = seed(conn, config, now or utcnow())
        if added:
            log.info("registry: %d entries added from %s", added, config.source or "the config")

    @property
    def hierarchy(self) -> Hierarchy:
        """The registry as it is now (another process may have changed it)."""
        with self.engine.connect() as conn:
            return load_hierarchy(conn, self.province_id, self.province_name)

    # -- accepting -------------------------------------------------------------------------
    def ingest(
        self,
        data: bytes,
        *,
        source: str,
        now: datetime | None = None,
        key_state: bool = True,
    ) -> IngestOutcome:
        """Verify one bundle and store it unless it is refused; every refusal is logged.

        ``key_state=False`` skips the revocation and succession refusals (the signature and
        the key's owner are still checked): for bundles an earlier store already accepted."""
        now = now or utcnow()
        payload: BundlePayload | None = None
        try:
            envelope = read_envelope(data, max_bytes=self.max_bytes)
            unit_id = self._signer(envelope, now, key_state)
            payload = envelope.verify()
            if payload.agency.id != unit_id:
                raise BundleError(
                    RejectReason.KEY_MISMATCH,
                    f"signed with the key of {unit_id} but names {payload.agency.id}",
                )
            if key_state and payload.sweep.started > now + FUTURE_TOLERANCE:
                # Issue #17: a sweep "started" in 2999 stayed the unit's latest for ever.
                raise BundleError(
                    RejectReason.MALFORMED,
                    f"sweep.started {payload.sweep.started.isoformat()} is later than the "
                    f"collector's clock plus {FUTURE_TOLERANCE}: check the agency's clock",
                )
            outcome = self._store(data, envelope, payload, source, now)
        except BundleError as exc:
            outcome = IngestOutcome(False, exc.reason, exc.detail)
            if exc.reason is RejectReason.DUPLICATE and payload is not None:
                # Name the bundle, so an agent whose first reply was lost can tell this
                # "already held" is about its very bundle (issue #17).
                outcome = IngestOutcome(
                    False, exc.reason, exc.detail, payload.agency.id, payload.sweep.sweep_id
                )
        if outcome.accepted:
            log.info("accepted %s from %s (%s)", outcome.sweep_id, outcome.agency_id, source)
        else:
            reason = outcome.reason.value if outcome.reason else "?"
            log.warning("rejected bundle from %s: %s: %s", source, reason, outcome.detail)
        return outcome

    def _signer(self, envelope: Envelope, now: datetime, key_state: bool = True) -> str:
        with self.engine.connect() as conn:
            key = conn.execute(
                select(t.unit_keys).where(t.unit_keys.c.public_key == envelope.public_key)
            ).first()
            if key is None:
                claimed = envelope.claimed_agency
                known = claimed is not None and conn.scalar(
                    select(t.units.c.id).where(t.units.c.id == str(claimed)[:64])
                )
                # One answer whether the unit exists or not (issue #17): the reply must not
                # tell anyone which unit ids the province has. The log says which it was.
                log.info(
                    "unregistered key %s: %s",
                    key_id(envelope.public_key),
                    "the unit it names exists" if known else "it names no unit of the province",
                )
                raise BundleError(
                    RejectReason.UNKNOWN_KEY,
                    "the signing key is not registered for the unit the bundle names (the "
                    "province registers the key 'secposture keys show' prints)",
                )
            if not key_state:
                return str(key.unit_id)
            merged = conn.execute(
                select(t.successions).where(t.successions.c.predecessor == key.unit_id)
            ).first()
        record = KeyRecord(
            key.public_key,
            key.unit_id,
            parse_moment(key.added_at),
            parse_moment(key.revoked_at) if key.revoked_at else None,
        )
        succession = (
            Succession(merged.predecessor, merged.successor, date.fromisoformat(merged.effective))
            if merged is not None
            else None
        )
        refused = key_refusal(record, succession, now)
        if refused is not None:
            raise BundleError(RejectReason.UNKNOWN_KEY, refused)
        return str(key.unit_id)

    def _store(
        self,
        data: bytes,
        envelope: Envelope,
        payload: BundlePayload,
        source: str,
        now: datetime,
    ) -> IngestOutcome:
        agency, sweep = payload.agency.id, payload.sweep
        started = moment(sweep.started)
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(t.bundles).values(
                        digest=envelope.digest,
                        unit_id=agency,
                        sweep_id=sweep.sweep_id,
                        size=envelope.size,
                        received=moment(now),
                        source=source[:300],
                        data=zlib.compress(data, 1),
                    )
                )
                conn.execute(insert(t.sweeps).values(summary(payload, envelope.digest, now)))
                latest = _mark_latest(conn, agency, sweep.sweep_id, started)
                _insert_details(conn, payload)
        except IntegrityError:
            raise self._already(agency, sweep.sweep_id, envelope.digest) from None
        return IngestOutcome(
            True,
            None,
            "stored"
            if latest
            else "stored (older than the latest sweep already held, which stays the latest)",
            agency,
            sweep.sweep_id,
            latest,
        )

    def _already(self, agency: str, sweep_id: str, digest: str) -> BundleError:
        with self.engine.connect() as conn:
            held = conn.scalar(
                select(t.bundles.c.digest).where(
                    and_(t.bundles.c.unit_id == agency, t.bundles.c.sweep_id == sweep_id)
                )
            )
            same_bytes = conn.scalar(
                select(t.bundles.c.unit_id).where(t.bundles.c.digest == digest)
            )
        if held == digest or (held is None and same_bytes is not None):
            return BundleError(RejectReason.DUPLICATE, f"{sweep_id} of {agency} is already stored")
        return BundleError(
            RejectReason.CONFLICT, f"{sweep_id} of {agency} is already stored with other content"
        )

    # -- reading ---------------------------------------------------------------------------
    def rows(self, unit_ids: list[str] | None = None) -> list[Row]:
        """Every stored sweep's summary row, oldest sweep first."""
        query = select(t.sweeps, t.bundles.c.size).join(
            t.bundles, t.bundles.c.digest == t.sweeps.c.digest
        )
        if unit_ids is not None:
            query = query.where(t.sweeps.c.unit_id.in_(unit_ids))
        query = query.order_by(t.sweeps.c.started, t.sweeps.c.unit_id)
        with self.engine.connect() as conn:
            return [_row(r._mapping) for r in conn.execute(query)]

    def latest_rows(self) -> dict[str, Row]:
        """The newest stored sweep of each unit, by unit id, in one query."""
        latest = t.latest_sweeps
        query = (
            select(t.sweeps, t.bundles.c.size)
            .join(
                latest,
                and_(
                    latest.c.unit_id == t.sweeps.c.unit_id,
                    latest.c.sweep_id == t.sweeps.c.sweep_id,
                ),
            )
            .join(t.bundles, t.bundles.c.digest == t.sweeps.c.digest)
            .order_by(t.sweeps.c.unit_id)
        )
        with self.engine.connect() as conn:
            return {r.unit_id: _row(r._mapping) for r in conn.execute(query)}

    def payload(self, row: Row) -> BundlePayload:
        """The content of a stored bundle, its bytes checked against their digest."""
        data = self.payload_bytes(row)
        return BundlePayload.model_validate(read_envelope(data, max_bytes=len(data)).payload)

    def payload_bytes(self, row: Row) -> bytes:
        """The signed bytes of a stored bundle, exactly as they arrived (digest checked)."""
        with self.engine.connect() as conn:
            data = conn.scalar(select(t.bundles.c.data).where(t.bundles.c.digest == row["digest"]))
        if data is None:
            raise BundlePruned(
                RejectReason.MALFORMED,
                f"{row['sweep_id']} of {row['agency']}: its bytes were pruned (retention)",
            )
        try:
            data = zlib.decompress(data)
        except zlib.error:
            data = b""  # not what was stored: refused below like any other change
        if hashlib.sha256(data).hexdigest() != row["digest"]:
            raise BundleError(
                RejectReason.BAD_SIGNATURE,
                f"{row['sweep_id']} of {row['agency']} changed since it was stored",
            )
        return data

    # -- retention -------------------------------------------------------------------------
    def prune(self, keep_days: int, now: datetime | None = None) -> int:
        """Drop the bytes of bundles received more than ``keep_days`` ago, except each unit's
        latest; their summaries, findings, hosts and changes stay. Returns how many."""
        cutoff = moment((now or utcnow()) - timedelta(days=keep_days))
        latest = {(r["agency"], r["sweep_id"]) for r in self.latest_rows().values()}
        with self.engine.begin() as conn:
            old = conn.execute(
                select(t.bundles.c.digest, t.bundles.c.unit_id, t.bundles.c.sweep_id).where(
                    and_(t.bundles.c.received < cutoff, t.bundles.c.data.is_not(None))
                )
            ).all()
            doomed = [d for d, u, s in old if (u, s) not in latest]
            for start in range(0, len(doomed), 500):
                conn.execute(
                    update(t.bundles)
                    .where(t.bundles.c.digest.in_(doomed[start : start + 500]))
                    .values(data=None, pruned_at=moment(now or utcnow()))
                )
        return len(doomed)


def province_score(payload: BundlePayload) -> Score:
    """The unit's score as the province computes it from the bundle's findings (issue #17):
    a signature proves who sent a figure, not that it is right, so ``score.overall = 1e308``
    must not rank first. Each finding of a check the province knows counts at the severity
    the province's catalogue gives that check, not the one the bundle says."""
    catalogue = load_catalogue()
    findings = []
    for f in payload.findings:
        meta = catalogue.get(f.check_id)
        if meta is not None and meta.severity != f.severity:
            f = f.model_copy(update={"severity": meta.severity})
        findings.append(f)
    return score_findings(findings)


def summary(payload: BundlePayload, digest: str, received: datetime) -> dict[str, Any]:
    """The sweeps row of one bundle: what the province pages need without the bytes. The
    score is the province's (:func:`province_score`); the agency's own is kept beside it
    as ``claimed``, with ``mismatch`` when the two differ."""
    failed, checked, severity = check_counts(payload)
    sweep = payload.sweep
    computed = province_score(payload)
    score = computed.model_dump(mode="json")
    sent = payload.score
    # As text: for showing beside the province's figure, never for arithmetic (and 1e308
    # would come back from PostgreSQL's jsonb as a 309-digit integer).
    score["claimed"] = {
        "overall": None if sent.overall is None else f"{sent.overall:g}",
        "coverage": f"{sent.coverage:g}",
    }
    score["mismatch"] = (sent.overall != computed.overall) or (
        round(sent.coverage, 3) != round(computed.coverage, 3)
    )
    return {
        "unit_id": payload.agency.id,
        "sweep_id": sweep.sweep_id,
        "digest": digest,
        "started": moment(sweep.started),
        "finished": moment(sweep.finished) if sweep.finished else None,
        "received": moment(received),
        "complete": sweep.complete,
        "profile": sweep.profile[:32],
        "level": payload.agency.level.value,
        "hosts": sweep.counts.hosts_found,
        "services": sweep.counts.services_open,
        "overall": computed.overall,
        "coverage": computed.coverage,
        "score": score,
        "pillars": pillars(payload),
        "failed": failed,
        "checked": checked,
        "severity": severity,
    }


FINDING_COLUMNS = ("unit_id", "sweep_id", "check_id", "status", "severity", "ip", "port",
                   "proto", "evidence", "reason", "waiver")  # fmt: skip
HOST_COLUMNS = ("unit_id", "sweep_id", "ip", "mac", "vendor", "hostname", "os", "device_type",
                "services")  # fmt: skip
CHANGE_COLUMNS = ("unit_id", "sweep_id", "kind", "device", "ip", "port", "proto", "before",
                  "after")  # fmt: skip


def _mark_latest(conn: Connection, unit_id: str, sweep_id: str, started: str) -> bool:
    """Make this sweep its unit's latest unless a newer one is held (same start: the greater
    id, the pages' rule, so the upload reply and the pages agree); whether it now is. One
    statement, so two collectors storing the same unit's sweeps at once cannot both win:
    the database serialises the row."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    latest = t.latest_sweeps
    new = dialect.insert(latest).values(unit_id=unit_id, sweep_id=sweep_id, started=started)
    newer = or_(
        new.excluded.started > latest.c.started,
        and_(new.excluded.started == latest.c.started, new.excluded.sweep_id > latest.c.sweep_id),
    )
    conn.execute(
        new.on_conflict_do_update(
            index_elements=[latest.c.unit_id],
            set_={"sweep_id": new.excluded.sweep_id, "started": new.excluded.started},
            where=newer,
        )
    )
    held = conn.scalar(select(latest.c.sweep_id).where(latest.c.unit_id == unit_id))
    return held == sweep_id


def _insert_details(conn: Connection, payload: BundlePayload) -> None:
    """One row per finding, host and change of the bundle, in the ingest's transaction.

    The rows go to the driver as tuples (COPY on PostgreSQL, executemany on SQLite): built as
    dictionaries and passed through SQLAlchemy's per-row processing they were half the time
    of an ingest (bench_collector_ingest)."""
    unit, sweep_id = payload.agency.id, payload.sweep.sweep_id
    tables: list[tuple[Table, tuple[str, ...], list[tuple[object, ...]]]] = [
        (
            t.findings,
            FINDING_COLUMNS,
            [
                (unit, sweep_id, f.check_id[:64], f.status.value, f.severity.value,
                 f.target.ip[:300], f.target.port, f.target.proto, f.evidence, f.reason,
                 f.waiver)
                for f in payload.findings
            ],
        ),
        (
            t.hosts,
            HOST_COLUMNS,
            [
                (unit, sweep_id, h.ip[:64], h.mac, h.vendor, h.hostname, h.os, h.device_type,
                 json.dumps([{"port": s.port, "proto": s.proto, "name": s.name,
                              "product": s.product, "version": s.version}
                             for s in h.services if s.state == "open"], ensure_ascii=False))
                for h in payload.hosts
            ],
        ),
        (
            t.changes,
            CHANGE_COLUMNS,
            [
                (unit, sweep_id, c.kind.value, c.device[:300], c.ip[:64], c.port, c.proto,
                 c.before, c.after)
                for c in payload.changes
            ],
        ),
    ]  # fmt: skip
    postgres = conn.dialect.name == "postgresql"
    for table, columns, rows in tables:
        if not rows:
            continue
        names = ", ".join(columns)  # the module's own column names, never input
        if postgres:
            driver = conn.connection.driver_connection
            assert driver is not None
            statement = f"COPY {table.name} ({names}) FROM STDIN"
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)  # noqa: S608


def _row(r: Any) -> Row:
    """A sweeps row in the form the pages read (the file store's index row)."""
    return {
        "agency": r["unit_id"],
        "sweep_id": r["sweep_id"],
        "started": r["started"],
        "finished": r["finished"],
        "complete": r["complete"],
        "digest": r["digest"],
        "size": r["size"],
        "received": r["received"],
        "level": r["level"],
        "score": r["score"],
        "hosts": r["hosts"],
        "services": r["services"],
        "failed": r["failed"],
        "checked": r["checked"],
        "severity": r["severity"],
        "pillars": r["pillars"],
    }


@dataclass(frozen=True, slots=True)
class StoreCounts:
    """How much a database holds (``collector store status``)."""

    units: int
    bundles: int
    pruned: int
    findings: int
    hosts: int


def counts(engine: Engine) -> StoreCounts:
    """Row counts of the main tables."""
    with engine.connect() as conn:
        return StoreCounts(
            units=conn.scalar(select(func.count()).select_from(t.units)) or 0,
            bundles=conn.scalar(select(func.count()).select_from(t.bundles)) or 0,
            pruned=conn.scalar(
                select(func.count()).select_from(t.bundles).where(t.bundles.c.data.is_(None))
            )
            or 0,
            findings=conn.scalar(select(func.count()).select_from(t.findings)) or 0,
            hosts=conn.scalar(select(func.count()).select_from(t.hosts)) or 0,
        )


def open_store(config: CollectorConfig, *, now: datetime | None = None) -> SqlStore:
    """The store the config names: its ``database``, else SQLite in its store folder;
    ConfigError (one line) when that cannot be opened."""
    from secposture.province.db.engine import database_url, open_database

    url = database_url(config.collector.database_url(), config.collector.store)
    return SqlStore(open_database(url), config, now=now)


@dataclass(frozen=True, slots=True)
class MigrationResult:
    """What ``collector store migrate`` did with each bundle file of a file store."""

    moved: int
    already: int
    refused: list[tuple[str, str]]  # (file, reason: detail)


def migrate_file_store(store: SqlStore, root: Path) -> MigrationResult:
    """Copy every bundle file of the file store under ``root`` (``bundles/<unit>/*.bundle``,
    the layout before issue #14) into the database, each judged as of the day it arrived (its
    index row's ``received``, else the file's time), so a key revoked or a unit merged since
    does not refuse what was rightly accepted then (nor a key revocation or a merger the
    file store never knew of: what it accepted moves). The files are left where they are."""
    received = _received_times(root)
    moved = already = 0
    refused: list[tuple[str, str]] = []
    for path in sorted((root / "bundles").glob(f"*/*{SUFFIX}")):
        if path.name.startswith("."):
            continue
        when = received.get(path.relative_to(root).as_posix()) or datetime.fromtimestamp(
            path.stat().st_mtime, UTC
        )
        data = path.read_bytes()
        outcome = store.ingest(data, source=f"migrate:{path.name}", now=when, key_state=False)
        if outcome.accepted:
            moved += 1
        elif outcome.reason is RejectReason.DUPLICATE:
            already += 1
        else:
            reason = outcome.reason.value if outcome.reason else "?"
            refused.append((str(path), f"{reason}: {outcome.detail}"))
    return MigrationResult(moved, already, refused)


def _received_times(root: Path) -> dict[str, datetime]:
    """When each bundle arrived, from the file store's per-unit indexes where they can be read."""
    found: dict[str, datetime] = {}
    for index in (root / "bundles").glob(f"*/{INDEX}"):
        try:
            tables = decode_tables(index.read_bytes(), index)
            for row in (tables or {}).get("bundles", {}).values():
                found[str(row["file"])] = datetime.fromisoformat(str(row["received"]))
        except (OSError, StoreError, KeyError, TypeError, ValueError):
            continue  # the file's own time stands in
    return found
