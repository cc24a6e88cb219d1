"""A synthetic province: units, keys and signed bundles, for demos, tests and benchmarks.

Deterministic for a seed. Each unit gets its own Ed25519 key and a "hygiene" that sets how
often its hosts fail the real network checks of the catalogue, so rankings, heat maps and
common findings look like a province's and not like noise. Nothing here touches a network.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secposture.bundle.envelope import sign_payload
from secposture.bundle.keys import public_key_text
from secposture.bundle.model import BundleAgency, BundlePayload, BundleSweep
from secposture.config.sections import AssessmentSection, Level
from secposture.frameworks import applicable, shipped_frameworks
from secposture.model.records import (
    Finding,
    Host,
    Service,
    Severity,
    Status,
    SweepCounts,
    Target,
)
from secposture.scoring.posture import evaluate_posture
from secposture.scoring.score import score_findings

# (port, name, check that fails when the service is exposed, its severity)
SERVICES: tuple[tuple[int, str, str, Severity], ...] = (
    (23, "telnet", "net.telnet_exposed", Severity.HIGH),
    (21, "ftp", "net.ftp_anonymous", Severity.HIGH),
    (161, "snmp", "net.snmp_default_community", Severity.HIGH),
    (80, "http", "net.http_admin_cleartext", Severity.MEDIUM),
)


@dataclass
class SyntheticUnit:
    """A made-up unit with its signing key, LAN size and hygiene."""

    id: str
    name: str
    level: Level
    parent: str
    key: Ed25519PrivateKey
    hosts: int
    hygiene: float  # 0 (everything open) … 1 (nothing open)

    @property
    def public_key(self) -> str:
        """The unit's public key as the collector config writes it."""
        return public_key_text(self.key)


@dataclass
class SyntheticProvince:
    """A made-up province: its id, name and units."""

    id: str
    name: str
    units: list[SyntheticUnit] = field(default_factory=list)

    def config(self, store: str, **collector: Any) -> dict[str, Any]:
        """A collector config mapping registering every unit and its key."""
        return {
            "collector": {"store": store, **collector},
            "province": {"id": self.id, "name": self.name},
            "unit": [
                {
                    "id": u.id,
                    "name": u.name,
                    "level": u.level.value,
                    "parent": u.parent,
                    "keys": [u.public_key],
                }
                for u in self.units
            ],
        }


def make_province(
    *,
    districts: int = 3,
    communes_per_district: int = 7,
    departments: int = 3,
    hosts: tuple[int, int] = (20, 200),
    seed: int = 8,
) -> SyntheticProvince:
    """Units of a province: departments, districts, communes under each district."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    province = SyntheticProvince("tinh-mau", "Tỉnh Mẫu")

    def unit(uid: str, name: str, level: Level, parent: str) -> None:
        province.units.append(
            SyntheticUnit(
                uid,
                name,
                level,
                parent,
                Ed25519PrivateKey.generate(),
                rng.randint(*hosts),
                round(rng.uniform(0.3, 0.97), 2),
            )
        )

    for d in range(1, departments + 1):
        unit(f"so-{d:02d}", f"Sở số {d}", Level.DEPARTMENT, province.id)
    for d in range(1, districts + 1):
        district = f"huyen-{d:02d}"
        unit(district, f"UBND huyện {d}", Level.DISTRICT, province.id)
        for c in range(1, communes_per_district + 1):
            unit(f"xa-{d:02d}-{c:02d}", f"UBND xã {d}.{c}", Level.COMMUNE, district)
    return province


def make_payload(unit: SyntheticUnit, started: datetime, seed: int = 0) -> BundlePayload:
    """One sweep of ``unit`` at ``started``: hosts, services and the findings they cause."""
    rng = random.Random(f"{unit.id}/{started.isoformat()}/{seed}")  # noqa: S311
    hosts: list[Host] = []
    findings: list[Finding] = []
    for i in range(unit.hosts):
        ip = f"10.{(i >> 8) & 255}.{i & 255}.{10 + i % 200}"
        services = [Service(port=22, name="ssh", product="OpenSSH", version="9.2")]
        for port, name, check_id, severity in SERVICES:
            proto = "udp" if port == 161 else "tcp"
            exposed = rng.random() > unit.hygiene
            if exposed:
                services.append(Service(port=port, proto=proto, name=name))
            findings.append(
                Finding(
                    check_id=check_id,
                    status=Status.FAIL if exposed else Status.PASS,
                    severity=severity,
                    target=Target(ip=ip, port=port, proto=proto),
                    evidence=f"{name} open on {ip}" if exposed else "",
                )
            )
        hosts.append(
            Host(
                ip=ip,
                mac=f"02:00:00:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}",
                hostname=f"pc-{i}",
                services=tuple(services),
                ports_scanned=True,
                discovered_by=("arp",),
            )
        )
    counts = SweepCounts(
        hosts_found=len(hosts),
        hosts_scanned=len(hosts),
        services_open=sum(len(h.services) for h in hosts),
    )
    sweep_id = f"{unit.id}-{started:%Y%m%dT%H%M%SZ}-{seed:04x}"
    return BundlePayload(
        generator="secposture synthetic",
        agency=BundleAgency(id=unit.id, name=unit.name, level=unit.level, parent=unit.parent),
        sweep=BundleSweep(
            sweep_id=sweep_id,
            profile="standard",
            scopes=("10.0.0.0/16",),
            started=started,
            finished=started + timedelta(minutes=20),
            complete=True,
            counts=counts,
        ),
        score=score_findings(findings),
        posture=evaluate_posture(
            # an ordinary agency LAN: the frameworks a default [assessment] applies
            applicable(shipped_frameworks(), AssessmentSection()).values(),
            findings,
            agency_id=unit.id,
            level=unit.level.value,
            system_level=2,
            sweep_id=sweep_id,
            assessed_on=started.date(),
        ),
        findings=tuple(findings),
        hosts=tuple(hosts),
        changes=(),
    )


def make_bundle(unit: SyntheticUnit, started: datetime, seed: int = 0) -> bytes:
    """A signed bundle file's bytes for one synthetic sweep."""
    return sign_payload(make_payload(unit, started, seed), unit.key)
