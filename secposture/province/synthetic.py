"""A synthetic province: units, keys and signed bundles, for demos, tests and benchmarks.

Deterministic for a seed. Each unit gets its own Ed25519 key and a "hygiene" that sets how
often its hosts fail the real network checks of the catalogue, so rankings, heat maps and
common findings look like a province's and not like noise. Nothing here touches a network.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
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
    """A made-up unit with its signing key, LAN size and hygiene.

    A unit of level ``district`` (under the province, its communes under it) still makes a
    bundle: that is what a pre-reform, district-era bundle looks like."""

    id: str
    name: str
    level: Level
    parent: str
    key: Ed25519PrivateKey
    hosts: int
    hygiene: float  # 0 (everything open) … 1 (nothing open)
    groups: list[str] = field(default_factory=list)
    succeeds: list[str] = field(default_factory=list)  # old units merged into this one
    succeeds_on: date | None = None

    @property
    def public_key(self) -> str:
        """The unit's public key as the collector config writes it."""
        return public_key_text(self.key)


@dataclass
class SyntheticProvince:
    """A made-up province: its id, name, named groups (id, name) and units."""

    id: str
    name: str
    units: list[SyntheticUnit] = field(default_factory=list)
    groups: list[tuple[str, str]] = field(default_factory=list)

    def unit(self, unit_id: str) -> SyntheticUnit:
        """The unit with id ``unit_id``."""
        return next(u for u in self.units if u.id == unit_id)

    def config(self, store: str, **collector: Any) -> dict[str, Any]:
        """A collector config mapping registering every unit and its key (a unit of level
        district needs ``allow_district=True`` among ``collector``)."""
        data: dict[str, Any] = {
            "collector": {"store": store, **collector},
            "province": {"id": self.id, "name": self.name},
        }
        if self.groups:
            data["group"] = [{"id": gid, "name": name} for gid, name in self.groups]
        data["unit"] = [_unit_config(u) for u in self.units]
        return data


def _unit_config(unit: SyntheticUnit) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": unit.id,
        "name": unit.name,
        "level": unit.level.value,
        "parent": unit.parent,
    }
    if unit.groups:
        entry["groups"] = list(unit.groups)
    if unit.succeeds:
        entry["succeeds"] = list(unit.succeeds)
    if unit.succeeds_on is not None:
        entry["succeeds_on"] = unit.succeeds_on
    entry["keys"] = [unit.public_key]
    return entry


REFORM_DAY = date(2025, 7, 1)  # the two-tier local government (admin-units.md)
DEPARTMENTS_GROUP = ("khoi-so", "Khối sở, ngành")
# Three communes merged into the first new one on the reform day.
OLD_COMMUNES = (
    ("xa-cu-a", "UBND xã cũ A"),
    ("xa-cu-b", "UBND xã cũ B"),
    ("xa-cu-c", "UBND xã cũ C"),
)


def make_province(
    *,
    communes: int = 82,
    wards: int = 14,
    departments: int = 25,
    groups: int = 2,
    succession: bool = True,
    hosts: tuple[int, int] = (20, 200),
    seed: int = 8,
) -> SyntheticProvince:
    """A two-tier province as since 1/7/2025 (by default Tây Ninh's 82 communes and 14
    wards): departments ``so-NN``, communes ``xa-NNN`` and wards ``phuong-NN``, all directly
    under the province.

    ``groups`` named groups: with two or more, the last is "khoi-so" (every department) and
    the others ``cum-N``, each a former district's area (a share of the communes and one
    ward); the communes after the last area belong to no group. With ``succession``, three
    old communes ``xa-cu-a``, ``xa-cu-b``, ``xa-cu-c`` (still registered, with their own
    keys, in the first area) were merged into ``xa-001`` on 1/7/2025.
    """
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    province = SyntheticProvince("tinh-mau", "Tỉnh Mẫu")
    areas = groups - 1 if groups >= 2 else groups
    province.groups = [(f"cum-{n}", f"Cụm xã {n} (địa bàn huyện cũ)") for n in range(1, areas + 1)]
    if groups >= 2:
        province.groups.append(DEPARTMENTS_GROUP)
    per_area = communes // (areas + 1) if areas else 0

    def unit(uid: str, name: str, level: Level, groups: list[str]) -> SyntheticUnit:
        made = SyntheticUnit(
            uid,
            name,
            level,
            province.id,
            Ed25519PrivateKey.generate(),
            rng.randint(*hosts),
            round(rng.uniform(0.3, 0.97), 2),
            groups,
        )
        province.units.append(made)
        return made

    department_groups = [DEPARTMENTS_GROUP[0]] if groups >= 2 else []
    for d in range(1, departments + 1):
        unit(f"so-{d:02d}", f"Sở số {d}", Level.DEPARTMENT, list(department_groups))
    for c in range(1, communes + 1):
        area = (c - 1) // per_area + 1 if per_area else 0
        in_area = [f"cum-{area}"] if 1 <= area <= areas else []
        unit(f"xa-{c:03d}", f"UBND xã {c}", Level.COMMUNE, in_area)
    for w in range(1, wards + 1):
        unit(f"phuong-{w:02d}", f"UBND phường {w}", Level.WARD, [f"cum-{w}"] if w <= areas else [])
    if succession and communes:
        first = province.unit("xa-001")
        for uid, name in OLD_COMMUNES:
            unit(uid, name, Level.COMMUNE, list(first.groups))
        first.succeeds = [uid for uid, _ in OLD_COMMUNES]
        first.succeeds_on = REFORM_DAY
    return province


def add_district_era(
    province: SyntheticProvince,
    *,
    district: str = "huyen-cu",
    name: str = "Cũ",
    communes: int = 2,
    hosts: tuple[int, int] = (20, 200),
    seed: int = 1656,
) -> list[SyntheticUnit]:
    """Add a pre-reform district (level ``district``, under the province) and ``communes``
    communes under it, as a province's data from before 1/7/2025 looks; the collector config
    then needs ``allow_district=True``. The units added, the district first."""
    rng = random.Random(f"{district}/{seed}")  # noqa: S311 - synthetic data, not secrets
    made: list[SyntheticUnit] = []
    for uid, label, level, parent in [
        (district, f"UBND huyện {name}", Level.DISTRICT, province.id),
        *(
            (f"{district}-xa-{c:02d}", f"UBND xã {c}, huyện {name}", Level.COMMUNE, district)
            for c in range(1, communes + 1)
        ),
    ]:
        made.append(
            SyntheticUnit(
                uid,
                label,
                level,
                parent,
                Ed25519PrivateKey.generate(),
                rng.randint(*hosts),
                round(rng.uniform(0.3, 0.97), 2),
            )
        )
    province.units += made
    return made


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
