"""Typed records that flow through a sweep: observations, attempts, hosts, findings.

Scanners produce observations and attempts (never verdicts); checks turn them into findings.
Every model is frozen and forbids unknown fields so that what is stored round-trips exactly.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field


def utcnow() -> datetime:
    """Timezone-aware now, so stored times compare and sort without guessing zones."""
    return datetime.now(UTC)


def new_sweep_id(agency_id: str) -> str:
    """A fresh sweep id: the agency, the UTC time and a short random tail."""
    return f"{agency_id}-{utcnow():%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


# Per record class and number of fields given, the set objects shared (see model_post_init).
_FIELDS_SETS: dict[tuple[type, int], list[set[str]]] = {}


class Record(BaseModel):
    """Base for every stored model: immutable, strict about fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def model_post_init(self, context: Any, /) -> None:
        """Share the record's set of given field names with every record of the same shape.

        pydantic keeps that set per instance; for a Finding it is 728 of the 1,560 bytes the
        record costs, and a 10,000-host sweep makes 128,000 findings and 30,000 services
        (issue #20: an import in bounded memory). A frozen record's set is only read; a
        ``model_copy`` copies it before it adds to it, so the shared one never changes.
        """
        _share_fields_set(self)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """pydantic's copy, its set of given field names shared as a new record's is, and
        without the values cached from the original's fields (an index of the observations,
        the open services): pydantic copies them along, and after an update they would lie."""
        copied = super().model_copy(update=update, deep=deep)
        fields = type(self).model_fields
        for name in [key for key in copied.__dict__ if key not in fields]:
            del copied.__dict__[name]
        _share_fields_set(copied)
        return copied


def _share_fields_set(record: BaseModel) -> None:
    given = record.__pydantic_fields_set__
    shapes = _FIELDS_SETS.setdefault((type(record), len(given)), [])
    for shared in shapes:
        if shared == given:
            object.__setattr__(record, "__pydantic_fields_set__", shared)
            return
    if len(shapes) < 8:  # a record class has few shapes; beyond that, not worth sharing
        shapes.append(given)


class Severity(StrEnum):
    """How much a failed check matters, from info to critical."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """The position from info (0) to critical (4), for comparing severities."""
        return list(Severity).index(self)


class Status(StrEnum):
    """Outcome of one check on one target. Only PASS/FAIL/PARTIAL count towards a score."""

    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    PARTIAL = "partial"
    NOT_APPLICABLE = "not_applicable"
    NOT_ASSESSED = "not_assessed"
    WAIVED = "waived"


class AttemptStatus(StrEnum):
    """How one attempt at a scan stage ended."""

    COMPLETED = "completed"
    ERROR = "error"
    SKIPPED = "skipped"


class Reason(StrEnum):
    """Closed set of reasons a stage could not complete (after sslyze's attempt model)."""

    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    PRIVILEGE_REQUIRED = "privilege_required"
    TOOL_MISSING = "tool_missing"
    PARSE_ERROR = "parse_error"
    AUTH_FAILED = "auth_failed"
    ENABLE_FAILED = "enable_failed"
    UNSUPPORTED_PLATFORM = "unsupported_platform"
    OUT_OF_SCOPE = "out_of_scope"
    NO_CREDENTIALS = "no_credentials"
    INTERRUPTED = "interrupted"
    BUG = "bug"


class Attempt(Record):
    """One stage run against one target: what was tried, how it ended and why."""

    stage: str
    target: str
    status: AttemptStatus
    reason: Reason | None = None
    detail: str = ""
    started: datetime = Field(default_factory=utcnow)
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the attempt completed."""
        return self.status is AttemptStatus.COMPLETED


class Service(Record):
    """An open (or open|filtered) port as nmap reported it."""

    port: int
    proto: str = "tcp"
    state: str = "open"
    name: str = ""
    product: str = ""
    version: str = ""
    extrainfo: str = ""
    tunnel: str = ""  # "ssl" when nmap saw TLS in front of the service
    cpe: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """``port/proto``, e.g. ``443/tcp``."""
        return f"{self.port}/{self.proto}"


class Observation(Record):
    """A typed piece of evidence about a host or service. Never a verdict.

    ``kind`` names what was observed (for example ``ftp.anonymous`` or ``http.title``);
    ``data`` holds the facts; ``source`` says which probe produced them.
    """

    kind: str
    ip: str
    port: int | None = None
    proto: str | None = None
    source: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class Host(Record):
    """One device as seen in one sweep."""

    ip: str
    mac: str | None = None
    vendor: str | None = None
    hostname: str | None = None
    discovered_by: tuple[str, ...] = ()
    services: tuple[Service, ...] = ()
    ports_scanned: bool = False  # True only when the port scan of this host completed
    udp_scanned: tuple[int, ...] = ()  # UDP ports whose state is known from this sweep
    # Added with issue #3; the defaults keep stored sweeps from before loading.
    hostname_source: str | None = None  # "dns", "netbios", "mdns" or "nmap"
    os: str | None = None  # nmap's best OS match (deep profile)
    device_type: str | None = None  # router, switch, printer, camera, server, workstation, unknown
    device_type_reason: str = ""  # the evidence the guess rests on

    def service(self, port: int, proto: str = "tcp") -> Service | None:
        """The service on ``port``/``proto``, or None."""
        return next((s for s in self.services if s.port == port and s.proto == proto), None)

    def open_services(self, proto: str | None = None) -> tuple[Service, ...]:
        """The services whose state is open (not open|filtered), of ``proto`` when given."""
        return self._open_services.get(proto, ())

    @cached_property
    def _open_services(self) -> dict[str | None, tuple[Service, ...]]:
        # Every per-service check asks; a 10,000-host sweep asked 110,000 times (issue #20).
        found = tuple(s for s in self.services if s.state == "open")
        by_proto: dict[str | None, tuple[Service, ...]] = {None: found}
        for proto in {s.proto for s in found}:
            by_proto[proto] = tuple(s for s in found if s.proto == proto)
        return by_proto


class Target(Record):
    """What a finding is about: a host, or one port of it."""

    ip: str
    port: int | None = None
    proto: str | None = None


class Finding(Record):
    """The outcome of one check on one target; the one neutral record every output uses."""

    check_id: str
    status: Status
    severity: Severity
    target: Target
    evidence: str = ""
    reason: str = ""  # why not_assessed / not_applicable
    waiver: str | None = None


class SweepCounts(Record):
    """A sweep's counts of hosts, services and failed attempts."""

    hosts_found: int = 0
    hosts_scanned: int = 0
    services_open: int = 0
    attempts_failed: int = 0


class SweepResult(Record):
    """Everything one sweep collected: the input to checks, the store and the report."""

    sweep_id: str
    agency_id: str
    profile: str
    scopes: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    started: datetime
    finished: datetime | None = None
    hosts: tuple[Host, ...] = ()
    observations: tuple[Observation, ...] = ()
    attempts: tuple[Attempt, ...] = ()
    complete: bool = True  # False when any stage failed or the sweep was cut short

    def host(self, ip: str) -> Host | None:
        """The host with this IP, or None."""
        return next((h for h in self.hosts if h.ip == ip), None)

    @cached_property
    def _observations_by_ip(self) -> dict[str, list[Observation]]:
        # Checks ask per host; a scan of every observation per host is quadratic at 5,000 hosts.
        index: dict[str, list[Observation]] = {}
        for o in self.observations:
            index.setdefault(o.ip, []).append(o)
        return index

    def observations_for(self, ip: str, kind: str | None = None) -> list[Observation]:
        """The observations about ``ip``, only of ``kind`` when given."""
        found = self._observations_by_ip.get(ip, [])
        return [o for o in found if kind is None or o.kind == kind]

    @property
    def counts(self) -> SweepCounts:
        """The sweep's counts, computed from its hosts and attempts."""
        return SweepCounts(
            hosts_found=len(self.hosts),
            hosts_scanned=sum(1 for h in self.hosts if h.ports_scanned),
            services_open=sum(len(h.open_services()) for h in self.hosts),
            attempts_failed=sum(1 for a in self.attempts if a.status is AttemptStatus.ERROR),
        )


class ChangeKind(StrEnum):
    """What changed on the LAN between two sweeps."""

    NEW_DEVICE = "new_device"
    MISSING_DEVICE = "missing_device"
    PORT_OPENED = "port_opened"
    PORT_CLOSED = "port_closed"
    SERVICE_CHANGED = "service_changed"
    IP_CHANGED = "ip_changed"
    DEVICE_RETURNED = "device_returned"  # known device seen again after being missing
    CONFIG_CHANGED = "config_changed"  # hash of a network device's stored configuration


class Change(Record):
    """One difference between two consecutive sweeps of an agency."""

    sweep_id: str
    kind: ChangeKind
    device: str  # identity key: "mac:…" or "ip:…"
    ip: str
    port: int | None = None
    proto: str | None = None
    before: str = ""
    after: str = ""


def device_key(host: Host) -> str:
    """A device is its MAC where one is known, else its IP within the agency."""
    return f"mac:{host.mac.lower()}" if host.mac else f"ip:{host.ip}"
