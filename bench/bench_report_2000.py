"""The agency report of a 2,000-host LAN (issue #7): rendered in ≤ 3 s, report.html ≤ 5 MB.

The sweep is synthetic but shaped like a large department's LAN: 2,000 hosts with 1-8 services
each (varying products, versions, vendors, hostnames), an HTTP title on every web host (some
hostile), SNMP descriptions on printers and switches, twenty switches whose configuration was
read, one host in fifty unreachable. Findings and the posture come from the real checks and
the real assessment; the context holds twelve sweeps of history, 2 % churn as changes and the
inventory's 2,050 device records (50 of them missing). The figure is ``write_outputs`` (all
four files: HTML, findings.json with the posture, inventory.json, CSV) in this process; the
baseline, in the same run, is ``json.dumps`` of the two JSON documents alone.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

# The project, and the tests' sample builders this synthetic LAN shares with the report tests.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "helpers")]

from factories import timed_out  # noqa: E402
from report_samples import lan_sweep  # noqa: E402

from secposture.config.loading import parse_config  # noqa: E402
from secposture.job.assessment import assess  # noqa: E402
from secposture.model.records import (  # noqa: E402
    Change,
    ChangeKind,
    Host,
    Observation,
    Service,
    SweepResult,
)
from secposture.report.outputs import write_outputs  # noqa: E402
from secposture.report.outputs.json import findings_document, inventory_document  # noqa: E402
from secposture.report.view.context import DeviceRecord, ReportContext, SweepPoint  # noqa: E402
from secposture.scoring.score import Posture  # noqa: E402

HOSTS = 2_000
TARGET_S, TARGET_MB = 3.0, 5.0
NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
SERVICES = [
    (21, "ftp", "vsftpd", ["2.3.4", "3.0.3", "3.0.5"]),
    (22, "ssh", "OpenSSH", ["7.4", "8.2p1", "8.9p1", "9.2p1"]),
    (23, "telnet", "BusyBox telnetd", [""]),
    (53, "domain", "dnsmasq", ["2.80", "2.89"]),
    (80, "http", "nginx", ["1.18.0", "1.22.1", "1.24.0"]),
    (135, "msrpc", "Microsoft Windows RPC", [""]),
    (139, "netbios-ssn", "Samba smbd", ["4.13", "4.17"]),
    (443, "https", "Apache httpd", ["2.4.41", "2.4.57"]),
    (445, "microsoft-ds", "Samba smbd", ["4.13", "4.17"]),
    (631, "ipp", "CUPS", ["2.3", "2.4"]),
    (3389, "ms-wbt-server", "Microsoft Terminal Services", [""]),
    (8080, "http-proxy", "Jetty", ["9.4.51", "10.0.20"]),
    (9100, "jetdirect", "", [""]),
]
VENDORS = ["Dell Inc.", "Hewlett Packard", "Lenovo", "Cisco Systems, Inc", "TP-Link", "Huawei"]
HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{7*7}}", "\u202e"]


def sweep_of(rng: random.Random) -> SweepResult:
    hosts, observations, attempts = [], [], []
    for n in range(HOSTS):
        ip = f"10.{20 + n // 65536}.{n >> 8 & 255}.{n & 255 or 1}"
        reachable = n % 50 != 7
        chosen = rng.sample(SERVICES, rng.randint(1, 8)) if reachable else []
        services = tuple(
            Service(port=p, name=name, product=prod, version=rng.choice(vers))
            for p, name, prod, vers in sorted(chosen)
        )
        hosts.append(
            Host(
                ip=ip,
                mac=f"02:00:00:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:{n & 255:02x}",
                vendor=rng.choice(VENDORS),
                hostname=f"pc-{rng.choice(['ketoan', 'motcua', 'vanphong'])}-{n:04d}",
                services=services,
                ports_scanned=reachable,
                udp_scanned=(161,) if reachable else (),
            )
        )
        if any(s.port == 80 for s in services):
            title = f"Admin {n} {rng.choice(HOSTILE) if n % 10 == 0 else 'login'}"
            observations.append(
                Observation(kind="http.title", ip=ip, port=80, proto="tcp", data={"title": title})
            )
        if any(s.port == 9100 for s in services):
            observations.append(
                Observation(
                    kind="snmp.sysdescr",
                    ip=ip,
                    port=161,
                    proto="udp",
                    data={"sysdescr": f"HP LaserJet {n} FW 2309"},
                )
            )
        if n % 100 == 3:  # a switch whose configuration was read
            config = "\n".join(f"interface Gi0/{i}\n description port {i}" for i in range(48))
            observations += [
                Observation(
                    kind="device.facts",
                    ip=ip,
                    port=22,
                    proto="tcp",
                    data={"hostname": f"sw-{n}", "platform": "cisco_ios", "version": "15.2(7)E8"},
                ),
                Observation(
                    kind="device.config",
                    ip=ip,
                    port=22,
                    proto="tcp",
                    data={"text": config, "sha256": f"{n:064x}"},
                ),
            ]
        if not reachable:
            attempts.append(timed_out("ports.tcp", ip))
    return lan_sweep(
        "bench-w12",
        NOW,
        hosts,
        observations,
        attempts,
        agency_id="bench-so",
        scopes=("10.20.0.0/16",),
        minutes=50,
    )


def context_of(sweep: SweepResult, posture: Posture, rng: random.Random) -> ReportContext:
    history = tuple(
        SweepPoint(
            f"bench-w{i}",
            NOW - timedelta(weeks=11 - i),
            60 + rng.random() * 20,
            0.7 + rng.random() * 0.2,
            True,
        )
        for i in range(12)
    )
    changes = tuple(
        Change(
            sweep_id=sweep.sweep_id,
            kind=rng.choice(list(ChangeKind)),
            device=f"ip:{h.ip}",
            ip=h.ip,
            port=80,
            proto="tcp",
            before="nginx 1.18.0",
            after="nginx 1.24.0",
        )
        for h in rng.sample(sweep.hosts, HOSTS // 50)
    )
    devices = [
        DeviceRecord(
            f"mac:{h.mac}",
            h.ip,
            h.mac,
            h.vendor,
            h.hostname,
            NOW - timedelta(weeks=rng.randint(0, 40)),
            NOW,
            "active",
            12,
        )
        for h in sweep.hosts
    ] + [
        DeviceRecord(
            f"mac:02:00:01:00:00:{i:02x}",
            f"10.30.0.{i + 1}",
            None,
            "Apple, Inc.",
            f"laptop-{i}",
            NOW - timedelta(weeks=20),
            NOW - timedelta(weeks=2),
            "missing",
            5,
        )
        for i in range(50)
    ]
    previous = {
        o.ip: o.model_copy(update={"data": {"text": str(o.data["text"]).replace("port 7", "x")}})
        for o in sweep.observations
        if o.kind == "device.config"
    }
    return ReportContext(posture, history, changes, tuple(devices), previous)


def main() -> int:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        config = parse_config(
            {
                "agency": {"id": "bench-so", "name": "Sở TT&TT", "level": "department"},
                "scan": {"scopes": ["10.20.0.0/16"]},
                "store": {"path": str(Path(tmp) / "store.json")},
                "report": {"dir": str(Path(tmp) / "report"), "lang": "vi"},
            }
        )
        sweep = sweep_of(rng)
        result = assess(sweep, config)
        context = context_of(sweep, result.posture, rng)

        t0 = time.perf_counter()
        json.dumps(
            findings_document(sweep, result.findings, result.score, "bench-so", context=context),
            ensure_ascii=False,
            indent=2,
        )
        json.dumps(inventory_document(sweep, "bench-so"), ensure_ascii=False, indent=2)
        baseline = time.perf_counter() - t0

        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            paths = write_outputs(
                sweep,
                result.findings,
                result.score,
                config,
                Path(tmp) / "report",
                context=context,
            )
            runs.append(time.perf_counter() - t0)
        took = min(runs)
        size_mb = paths.html.stat().st_size / 1e6
    findings = len(result.findings)
    print(
        f"report_2000_hosts: {took:.2f} s best of 3 ({findings} findings; all four files) "
        f"(target ≤ {TARGET_S:.0f} s) ratio to target {took / TARGET_S:.2f}; "
        f"baseline json.dumps of the two JSON documents {baseline:.2f} s, "
        f"ratio {took / baseline:.2f}"
    )
    print(
        f"report_2000_hosts_html: {size_mb:.2f} MB (target ≤ {TARGET_MB:.0f} MB) "
        f"ratio to target {size_mb / TARGET_MB:.2f}"
    )
    return 0 if took <= TARGET_S and size_mb <= TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
