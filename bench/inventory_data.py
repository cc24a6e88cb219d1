"""A synthetic agency for the inventory benchmarks: 5,000 hosts × 10 services, 20 past sweeps.

Services, versions, vendors and titles vary as on a real LAN (so compression is not flattered
by identical hosts), and 2 % of hosts change something between weekly sweeps.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inventory.store import Inventory  # noqa: E402
from secposture.checks import run_checks  # noqa: E402
from secposture.model.records import (  # noqa: E402
    Attempt,
    AttemptStatus,
    Host,
    Observation,
    Service,
    SweepResult,
)
from secposture.scoring.score import score_findings  # noqa: E402

HOSTS = 5_000
SERVICES = 10
PAST_SWEEPS = 20
CHURN = 0.02
T0 = datetime(2026, 1, 4, 19, 0, tzinfo=UTC)
CATALOGUE = [
    (21, "ftp", "vsftpd", ["2.3.4", "3.0.3", "3.0.5"]),
    (22, "ssh", "OpenSSH", ["7.4", "8.2p1", "8.9p1", "9.2p1", "9.6p1"]),
    (23, "telnet", "BusyBox telnetd", [""]),
    (25, "smtp", "Postfix smtpd", [""]),
    (53, "domain", "dnsmasq", ["2.80", "2.89"]),
    (80, "http", "nginx", ["1.18.0", "1.22.1", "1.24.0"]),
    (110, "pop3", "Dovecot pop3d", [""]),
    (135, "msrpc", "Microsoft Windows RPC", [""]),
    (139, "netbios-ssn", "Samba smbd", ["4.13", "4.17"]),
    (143, "imap", "Dovecot imapd", [""]),
    (443, "https", "Apache httpd", ["2.4.41", "2.4.57", "2.4.62"]),
    (445, "microsoft-ds", "Samba smbd", ["4.13", "4.17"]),
    (515, "printer", "", [""]),
    (631, "ipp", "CUPS", ["2.3", "2.4"]),
    (3306, "mysql", "MySQL", ["5.7.44", "8.0.36"]),
    (3389, "ms-wbt-server", "Microsoft Terminal Services", [""]),
    (5432, "postgresql", "PostgreSQL DB", ["13", "15", "16"]),
    (8080, "http-proxy", "Jetty", ["9.4.51", "10.0.20"]),
    (8443, "https-alt", "Apache Tomcat", ["9.0.85", "10.1.18"]),
    (9100, "jetdirect", "", [""]),
]
VENDORS = ["Dell", "HP", "Lenovo", "Cisco", "TP-Link", "Huawei", "Canon", "Asus", "Synology"]


def _service(rng: random.Random, entry: tuple[int, str, str, list[str]]) -> Service:
    port, name, product, versions = entry
    version = rng.choice(versions)
    return Service(
        port=port,
        name=name,
        product=product,
        version=version,
        cpe=(f"cpe:/a:{product.lower().replace(' ', '_')}:{version}",) if product else (),
    )


def _host(rng: random.Random, n: int) -> Host:
    mac = f"02:00:{n >> 24 & 255:02x}:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}"
    return Host(
        ip=f"10.{60 + n // 65536}.{n >> 8 & 255}.{n & 255}",
        mac=mac,
        vendor=rng.choice(VENDORS),
        hostname=f"pc-{rng.choice(['ketoan', 'motcua', 'vanphong', 'dichu'])}-{n:05d}",
        discovered_by=("arp",),
        services=tuple(_service(rng, e) for e in rng.sample(CATALOGUE, SERVICES)),
        ports_scanned=True,
    )


def _sweep(n: int, hosts: list[Host], rng: random.Random) -> SweepResult:
    started = T0 + timedelta(days=7 * n)
    observations = tuple(
        Observation(
            kind="http.title",
            ip=h.ip,
            port=80,
            proto="tcp",
            source="nmap",
            data={"title": f"Trang quản trị {h.hostname} {rng.random():.6f}"},
        )
        for h in hosts
        if h.service(80) is not None
    )
    attempts = tuple(
        Attempt(
            stage="ports",
            target=h.ip,
            status=AttemptStatus.COMPLETED,
            started=started,
            duration_s=round(rng.uniform(5, 60), 3),
        )
        for h in hosts
    )
    return SweepResult(
        sweep_id=f"bench-{n:03d}",
        agency_id="tn-bench",
        profile="standard",
        scopes=("10.60.0.0/16",),
        started=started,
        finished=started + timedelta(hours=2),
        hosts=tuple(hosts),
        observations=observations,
        attempts=attempts,
    )


def sweeps(count: int, seed: int = 5) -> list[SweepResult]:
    """``count`` consecutive weekly sweeps of the synthetic agency."""
    rng = random.Random(seed)
    hosts = [_host(rng, n) for n in range(HOSTS)]
    out = []
    for n in range(count):
        for i in rng.sample(range(HOSTS), int(HOSTS * CHURN)):
            hosts[i] = _host(rng, i + 100_000 * (n + 1)) if rng.random() < 0.3 else _host(rng, i)
        out.append(_sweep(n, hosts, rng))
    return out


def _build(folder: Path) -> None:
    all_sweeps = sweeps(PAST_SWEEPS + 1)
    store = Inventory(folder / "store.json", keep_sweeps=PAST_SWEEPS + 1)
    # Every past sweep stores the first sweep's findings: the checks take seconds per sweep
    # at this size and the stored bytes are alike.
    findings = run_checks(all_sweeps[0])
    score = score_findings(findings)
    for s in all_sweeps[:-1]:
        store.commit_sweep(s, findings, score)
    (folder / "next-sweep.json").write_text(all_sweeps[-1].model_dump_json())


def prepared_store() -> tuple[Path, Path]:
    """A store holding the 20 past sweeps and the 21st sweep as JSON, built once and cached
    (keyed by the code that shapes them) so each benchmark can copy it."""
    code = [*sorted((ROOT / "inventory").glob("*.py")), Path(__file__)]
    key = hashlib.sha256(b"".join(p.read_bytes() for p in code)).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"secposture-bench-inventory-{key}"
    if not (folder / "next-sweep.json").exists():
        work = Path(tempfile.mkdtemp(prefix=folder.name + "."))
        _build(work)
        try:
            work.rename(folder)
        except OSError:  # another run built it first
            shutil.rmtree(work)
    return folder / "store.json", folder / "next-sweep.json"


def machine() -> str:
    """nproc, CPU model and memory, for the figures' record."""
    import os

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown CPU",
    )
    mem = next(
        (
            int(line.split()[1]) // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    return f"{os.cpu_count()} CPUs, {cpu}, {mem} MB RAM"
