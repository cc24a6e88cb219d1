"""Device type from ports, vendor, OS and SNMP sysDescr, with the reason (issue #3)."""

from __future__ import annotations

import pytest
from factories import host, obs, svc

from scanners.device_type import guess_device_type
from secposture.model.records import Host, Observation

IP = "10.77.0.9"
CASES: list[tuple[str, Host, list[Observation], str, str]] = [
    (
        "sysdescr printer",
        host(IP, svc(80, "http")),
        [obs("snmp.sysdescr", IP, 161, "udp", sysdescr="HP LaserJet Pro M404dn")],
        "printer",
        "LaserJet",
    ),
    (
        "sysdescr Cisco switch beats IOS router",
        host(IP, svc(22, "ssh")),
        [
            obs(
                "snmp.sysdescr",
                IP,
                161,
                "udp",
                sysdescr="Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M)",
            )
        ],
        "switch",
        "C2960",
    ),
    (
        "sysdescr MikroTik",
        host(IP),
        [obs("snmp.sysdescr", IP, 161, "udp", sysdescr="RouterOS CCR1009")],
        "router",
        "RouterOS",
    ),
    (
        "sysdescr Windows server",
        host(IP),
        [
            obs(
                "snmp.sysdescr",
                IP,
                161,
                "udp",
                sysdescr="Hardware: x86 - Software: Windows Server 2019",
            )
        ],
        "server",
        "Windows Server",
    ),
    (
        "nmap OS class",
        host(IP, svc(80, "http")),
        [
            obs(
                "os.match",
                IP,
                None,
                name="MikroTik RouterOS 6",
                accuracy=95,
                classes=[{"type": "router", "vendor": "MikroTik", "family": "RouterOS"}],
            )
        ],
        "router",
        "nmap OS match",
    ),
    (
        "weak OS match ignored",
        host(IP, svc(9100, "jetdirect")),
        [obs("os.match", IP, None, name="Linux", accuracy=60, classes=[{"type": "router"}])],
        "printer",
        "9100",
    ),
    ("raw printing port", host(IP, svc(9100, "jetdirect"), svc(80, "http")), [], "printer", "9100"),
    (
        "camera vendor",
        host(IP, svc(80, "http"), vendor="Hangzhou Hikvision Digital Technology"),
        [],
        "camera",
        "Hikvision",
    ),
    ("RTSP port", host(IP, svc(554, "rtsp")), [], "camera", "RTSP"),
    (
        "network vendor, web admin",
        host(IP, svc(23, "telnet"), svc(80, "http"), vendor="Routerboard.com"),
        [],
        "router",
        "Routerboard",
    ),
    (
        "network vendor, ssh only",
        host(IP, svc(22, "ssh"), vendor="Cisco Systems, Inc"),
        [],
        "switch",
        "management ports only",
    ),
    (
        "Windows PC",
        host(IP, svc(135, "msrpc"), svc(445, "microsoft-ds"), svc(3389, "ms-wbt-server")),
        [],
        "workstation",
        "Windows",
    ),
    (
        "Windows server",
        host(IP, svc(445, "microsoft-ds"), svc(1433, "ms-sql-s")),
        [],
        "server",
        "MSSQL",
    ),
    (
        "database server",
        host(IP, svc(22, "ssh"), svc(5432, "postgresql")),
        [],
        "server",
        "PostgreSQL",
    ),
    ("ssh only", host(IP, svc(22, "ssh"), vendor="Dell Inc."), [], "server", "SSH only"),
    ("silent host", host(IP), [], "unknown", "no open TCP port"),
]


@pytest.mark.parametrize(
    ("label", "target", "evidence", "kind", "why"), CASES, ids=[c[0] for c in CASES]
)
def test_device_type_and_reason(
    label: str, target: Host, evidence: list[Observation], kind: str, why: str
) -> None:
    guessed, reason = guess_device_type(target, evidence)
    assert guessed.value == kind, (label, reason)
    assert why in reason


def test_evidence_about_another_host_is_not_used() -> None:
    other = [obs("snmp.sysdescr", "10.77.0.99", 161, "udp", sysdescr="HP LaserJet")]
    assert guess_device_type(host(IP), other)[0].value == "unknown"


def test_old_hosts_without_the_new_fields_still_load() -> None:
    # A host stored before issue #3 has no device_type/os/hostname_source: defaults apply.
    old = Host.model_validate({"ip": IP, "services": [], "ports_scanned": True})
    assert old.device_type is None and old.device_type_reason == "" and old.os is None
    assert Host.model_validate_json(old.model_dump_json()) == old
