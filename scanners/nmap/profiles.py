"""What each sweep profile asks nmap to do, as nmap command lines.

``quick``     top 100 TCP ports (SYN), UDP 161 with the SNMP default-community probe (sent by
              secposture to every host nmap did not find closed, all at once), no version
              detection; names come from nmap's port table. Seconds per /24.
``standard``  top 1000 TCP ports, then version detection and the evidence scripts (FTP
              anonymous, SSH algorithms, SMB dialects, VNC/RDP security) on the open ones;
              UDP 53, 123, 161, 1900; direct TLS, HTTP, telnet and Redis probes. ~25 s on the lab.
``deep``      top 5000 TCP ports, standard's work plus OS detection, full TLS cipher
              enumeration and certificate script, database info scripts, more UDP ports with
              version detection. Minutes per host on slow devices.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

NMAP_SERVICES = Path("/usr/share/nmap/nmap-services")
UDP_PORTS = (53, 123, 161, 1900)  # DNS, NTP, SNMP, SSDP: the UDP services that matter on a LAN
DEEP_UDP_PORTS = (53, 67, 69, 123, 137, 161, 500, 1900, 5353)
# Ports the checks need to see whatever the profile's top-N list holds: databases (Redis
# 6379, MongoDB 27017 and Elasticsearch 9200 are not in nmap's top 1000), remote desktop,
# telnet on its alternate port, printing, cameras, MikroTik's Winbox.
EVIDENCE_TCP_PORTS = (
    23,
    445,
    554,
    1433,
    1521,
    2323,
    3306,
    3389,
    5432,
    5900,
    5984,
    6379,
    8291,
    9100,
    9200,
    11211,
    27017,
    37777,
)
STANDARD_SCRIPTS = (
    "ftp-anon",
    "ssh2-enum-algos",
    "smb-protocols",
    "vnc-info",
    "rdp-enum-encryption",
)


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    """What a sweep profile asks nmap to do, and what it costs (see the module docstring)."""

    tcp_top: int
    udp_ports: tuple[int, ...]
    version_detection: bool
    tcp_scripts: tuple[str, ...]
    udp_scripts: tuple[str, ...] = ("snmp-sysdescr", "snmp-brute")
    udp_version_detection: bool = False
    os_detection: bool = False
    timing: str = "-T4"
    batch: int = 64  # hosts per nmap process in port discovery
    # How long the direct SNMP probe waits for the hosts of a batch that nmap's own SNMP
    # probe left unjudged (one wait per batch, asked once: nmap's probe was the first try).
    snmp_wait_s: float = 1.5
    # How long the name lookups of a batch (DNS PTR, NetBIOS, mDNS, all sent at once) wait for
    # answers. LAN responders answer in milliseconds; the wait is for a slow resolver, and the
    # quick profile's shorter one keeps it within its UDP stage (issue #20).
    name_wait_s: float = 1.5
    # nmap's --defeat-icmp-ratelimit: a UDP port that sends nothing back is left
    # closed|filtered at once instead of nmap slowing down to wait for ICMP errors that a
    # rate-limiting host holds back (on the /22 benchmark one UDP batch in three took 11 s
    # instead of 4). Only where every such port is then asked directly (the SNMP probe).
    udp_defeat_icmp_ratelimit: bool = False


PROFILES: dict[str, ProfileSpec] = {
    "quick": ProfileSpec(
        tcp_top=100,
        udp_ports=(161,),
        version_detection=False,
        tcp_scripts=("ftp-anon",),
        batch=128,
        # The port state alone from nmap; the evidence (public and private, sysDescr,
        # sysName) from the direct probe, every candidate host of a batch at once: nmap's
        # two SNMP scripts on 50 answering hosts cost 3.8 s of an 8.8 s sweep (issue #20).
        udp_scripts=(),
        snmp_wait_s=1.0,
        name_wait_s=1.0,
        udp_defeat_icmp_ratelimit=True,
    ),
    "standard": ProfileSpec(
        tcp_top=1000, udp_ports=UDP_PORTS, version_detection=True, tcp_scripts=STANDARD_SCRIPTS
    ),
    "deep": ProfileSpec(
        tcp_top=5000,
        udp_ports=DEEP_UDP_PORTS,
        version_detection=True,
        tcp_scripts=(
            *STANDARD_SCRIPTS,
            "ssl-enum-ciphers",
            "ssl-cert",
            "mysql-info",
            "ms-sql-info",
            "mongodb-info",
        ),
        udp_scripts=("snmp-sysdescr", "snmp-brute", "nbstat"),
        udp_version_detection=True,
        os_detection=True,
        batch=32,
        snmp_wait_s=2.0,
    ),
}


@cache
def top_tcp_ports(n: int) -> tuple[int, ...] | None:
    """The ``n`` most frequent TCP ports from nmap's own frequency table (as --top-ports)."""
    try:
        lines = NMAP_SERVICES.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    ranked: list[tuple[float, int]] = []
    for line in lines:
        if line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) >= 3 and parts[1].endswith("/tcp"):
            ranked.append((float(parts[2]), int(parts[1].split("/")[0])))
    ranked.sort(key=lambda r: (-r[0], r[1]))
    return tuple(sorted(p for _, p in ranked[:n]))


def _common(spec: ProfileSpec, host_timeout_s: int) -> list[str]:
    # -n: reverse DNS is done apart, in parallel and bounded (scanners/probes/names.py); nmap's own
    # lookups cost 26 s on a /24 with no resolver answering (reference/lab.md).
    return ["-n", "-Pn", spec.timing, f"--host-timeout={host_timeout_s}s"]


def tcp_discovery_ports(profile: str) -> tuple[int, ...] | None:
    """The TCP ports phase 1 probes: the profile's top ports plus the evidence ports."""
    tcp = top_tcp_ports(PROFILES[profile].tcp_top)
    return None if tcp is None else tuple(sorted({*tcp, *EVIDENCE_TCP_PORTS}))


def tcp_discovery_args(profile: str, *, privileged: bool, host_timeout_s: int) -> list[str]:
    """Phase 1: which TCP ports are open (no version probes: those cost the time)."""
    spec = PROFILES[profile]
    args = [*_common(spec, host_timeout_s), "-sS" if privileged else "-sT"]
    tcp = tcp_discovery_ports(profile)
    if tcp is None:
        return [*args, "--top-ports", str(spec.tcp_top)]
    return [*args, "-p", "T:" + ",".join(map(str, tcp))]


def tcp_detail_args(
    profile: str,
    ports: list[int],
    *,
    privileged: bool,
    host_timeout_s: int,
    scripts: tuple[str, ...] | None = None,
) -> list[str]:
    """Phase 2: versions, OS and evidence scripts on the ports found open."""
    spec = PROFILES[profile]
    args = [*_common(spec, host_timeout_s), "-sS" if privileged else "-sT"]
    os_scan = spec.os_detection and privileged
    # OS detection needs a closed port as well as an open one; tcpmux (1) is almost never open.
    scan_ports = sorted({*ports, 1}) if os_scan else sorted(ports)
    args += ["-p", "T:" + ",".join(map(str, scan_ports))]
    if spec.version_detection:
        args.append("-sV")
    if os_scan:
        args.append("-O")
    chosen = spec.tcp_scripts if scripts is None else scripts
    if chosen:
        args += ["--script", ",".join(chosen), "--script-timeout=60s"]
    return args


def udp_args(profile: str, *, host_timeout_s: int) -> list[str]:
    """UDP ports and SNMP evidence, run apart from TCP: nmap 7.93 with -sS -sU -sV together
    took 100 s on a printer that each half scans in under 8 s (measured on the lab)."""
    spec = PROFILES[profile]
    db = resources.files("secposture").joinpath("data/snmp-default-communities.txt")
    args = [*_common(spec, host_timeout_s), "-sU"]
    args += ["-p", "U:" + ",".join(map(str, spec.udp_ports))]
    if spec.udp_defeat_icmp_ratelimit:
        args.append("--defeat-icmp-ratelimit")
    if spec.udp_version_detection:
        args.append("-sV")
    if spec.udp_scripts:
        args += [
            "--script",
            ",".join(spec.udp_scripts),
            "--script-args",
            f"snmp-brute.communitiesdb={db},snmpcommunity=public",
            "--script-timeout=30s",
        ]
    return args
