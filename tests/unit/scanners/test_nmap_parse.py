"""nmap XML → services, evidence and attempts, from XML recorded on the lab (issue #3).

The fixtures in tests/fixtures/nmap/ are nmap 7.93's own output against the lab's real
services (Samba, xrdp, TigerVNC, OpenSSH, MariaDB, PostgreSQL, Redis, vsftpd, snmpd, hosts
behind nftables drop/reject rules); the command line of each is in its <nmaprun args>.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners.context import ScanContext
from scanners.host_scan import tcp_stage_attempt
from scanners.nmap.parse import NmapParseError, host_from_nmap, parse_nmap_xml
from scanners.nmap.profiles import tcp_discovery_ports
from scanners.nmap.run import TIMED_OUT_HOST, NmapRun, run_nmap
from scanners.nmap.scripts import rdp_security, ssh_algorithms, tls_cert, tls_ciphers
from scanners.scope import OutOfScopeError, Scope
from secposture.model.records import Attempt, AttemptStatus, Reason

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nmap"


def load(name: str) -> dict[str, dict[str, object]]:
    return parse_nmap_xml((FIXTURES / name).read_text(encoding="utf-8"))


def test_services_keep_the_tls_tunnel_that_python_nmap_drops() -> None:
    data = load("detail-services.xml")["10.77.0.60"]
    host, _ = host_from_nmap("10.77.0.60", data)
    names = {s.port: s.name for s in host.services}
    assert names == {
        22: "ssh",
        139: "netbios-ssn",
        443: "http",
        445: "netbios-ssn",
        3306: "mysql",
        3389: "ms-wbt-server",
        5432: "postgresql",
        5900: "vnc",
        6379: "redis",
    }
    https = host.service(443)
    assert https is not None and https.tunnel == "ssl"


def test_script_output_becomes_typed_evidence() -> None:
    data = load("detail-services.xml")["10.77.0.60"]
    _, observations = host_from_nmap("10.77.0.60", data)
    by_kind = {o.kind: o for o in observations}
    ssh = by_kind["ssh.algorithms"].data
    assert ssh["kex"][:2] == ["diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1"]
    assert "3des-cbc" in ssh["ciphers"] and "hmac-md5" in ssh["macs"]
    smb = by_kind["smb.protocols"]
    assert smb.port is None and smb.data["smbv1"] is True  # a host script, not a port's
    assert "311" in smb.data["dialects"]
    rdp = by_kind["rdp.security"].data
    assert rdp["nla_supported"] and not rdp["nla_required"]  # Native RDP also accepted
    assert by_kind["vnc.security"].data["no_auth"] is True
    # Evidence only: nothing here says pass or fail.
    assert all("status" not in o.data for o in observations)


def test_snmp_communities_from_the_printer() -> None:
    data = load("udp-snmp.xml")["10.77.0.40"]
    _, observations = host_from_nmap("10.77.0.40", data)
    accepted = {
        o.data["community"]: o.data["accepted"] for o in observations if o.kind == "snmp.community"
    }
    assert accepted == {"public": True, "private": False}
    descr = next(o for o in observations if o.kind == "snmp.sysdescr")
    assert "LaserJet" in str(descr.data["sysdescr"])


def test_anonymous_ftp_and_its_refusal_when_the_script_ran() -> None:
    hosts = load("detail-ftp-telnet-http.xml")
    _, found = host_from_nmap("10.77.0.20", hosts["10.77.0.20"])
    assert [o.data["allowed"] for o in found if o.kind == "ftp.anonymous"] == [True]


def _completed(ips: list[str]) -> dict[str, Attempt]:
    return {ip: Attempt(stage="ports.tcp", target=ip, status=AttemptStatus.COMPLETED) for ip in ips}


def test_a_host_that_drops_everything_is_unreachable_not_clean() -> None:
    # Given nmap's report on a dropping host, a resetting host and an FTP server
    data = load("discovery-drop-reset.xml")
    run = NmapRun(data=data, attempts=_completed(list(data)))
    # When each host's port-discovery attempt is judged
    drop, drop_known = tcp_stage_attempt(run, "10.77.0.70", 8)
    reset, reset_known = tcp_stage_attempt(run, "10.77.0.71", 8)
    ftp, ftp_known = tcp_stage_attempt(run, "10.77.0.20", 8)
    # Then the dropping host's services are unknown, and the attempt says why
    assert (drop.status, drop.reason, drop_known) == (
        AttemptStatus.ERROR,
        Reason.UNREACHABLE,
        False,
    )
    assert "filtered" in drop.detail
    assert reset.ok and reset_known and ftp.ok and ftp_known
    assert "1 of 8" in ftp.detail


def test_all_ports_closed_is_said_from_nmaps_summary() -> None:
    data = load("host-timeout.xml")
    assert data["10.77.0.71"]["extraports"] == {"closed": 1000}
    run = NmapRun(data=data, attempts=_completed(["10.77.0.71"]))
    attempt, known = tcp_stage_attempt(run, "10.77.0.71", 1000)
    assert known and "all 1000 TCP ports closed" in attempt.detail


def test_a_host_nmap_gave_up_on_is_found_in_the_xml() -> None:
    xml = (FIXTURES / "host-timeout.xml").read_text(encoding="utf-8")
    assert TIMED_OUT_HOST.findall(xml) == ["10.77.0.70"]


def test_the_ping_sweep_report_lists_live_hosts() -> None:
    hosts = load("ping-sweep.xml")
    up = sorted(ip for ip, h in hosts.items() if h["status"]["state"] == "up")  # type: ignore[index]
    assert "10.77.0.10" in up and "10.77.0.1" not in up


@pytest.mark.parametrize("text", ["", "<nmaprun", "not xml at all", "<?xml version='1.0'?><x>"])
def test_unreadable_xml_is_a_parse_error(text: str) -> None:
    with pytest.raises(NmapParseError):
        parse_nmap_xml(text)


def test_text_parsers_on_their_documented_shapes() -> None:
    cert = tls_cert(
        "Subject: commonName=cam.lab\nIssuer: commonName=cam.lab\nPublic Key type: rsa\n"
        "Public Key bits: 2048\nNot valid before: 2020-01-01T00:00:00\n"
        "Not valid after:  2021-01-01T00:00:00\n"
    )
    assert cert["not_after"] == "2021-01-01T00:00:00" and cert["self_signed"]
    assert cert["key_bits"] == 2048
    ciphers = tls_ciphers(
        "\n  TLSv1.0: \n    ciphers: \n  TLSv1.2: \n    ciphers: \n  least strength: C\n"
    )
    assert ciphers == {"versions": ["TLSv1.0", "TLSv1.2"], "least_strength": "C"}
    assert ssh_algorithms("garbage") == {
        k: [] for k in ("kex", "host_key", "ciphers", "macs", "compression")
    }
    assert rdp_security("")["nla_required"] is False


def test_phase_one_always_probes_the_evidence_ports() -> None:
    ports = tcp_discovery_ports("standard")
    if ports is None:
        pytest.skip("nmap-services is not installed")
    # Redis and MongoDB are not among nmap's top 1000, yet the database check needs them.
    assert {6379, 27017, 3389, 5900, 445} <= set(ports)


def test_no_nmap_run_can_target_an_address_outside_the_scope() -> None:
    ctx = ScanContext(scope=Scope(["10.77.0.0/25"], ["10.77.0.80"]), profile="quick")
    for ip in ("10.77.0.80", "10.77.0.200", "8.8.8.8"):
        with pytest.raises(OutOfScopeError):
            run_nmap(ctx, "ports.tcp", [ip], ["-sn"], timeout_s=1)
