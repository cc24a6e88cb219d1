"""Port, service and evidence scanning with nmap, parsed through python-nmap.

We run nmap ourselves (subprocess with a hard time limit, XML on stdout) and hand the XML to
python-nmap's parser: python-nmap's own ``scan()`` waits forever by default and checks its
arguments with ``assert`` (libraries.md B1).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from secposture.models import Attempt, AttemptStatus, Host, Observation, Reason, Service

NMAP_SERVICES = Path("/usr/share/nmap/nmap-services")
UDP_PORTS = (53, 123, 161, 1900)  # DNS, NTP, SNMP, SSDP: the UDP services that matter on a LAN


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    """What a sweep profile asks nmap to do, and what it costs (see README)."""

    tcp_top: int
    udp_ports: tuple[int, ...]
    version_detection: bool
    scripts: tuple[str, ...]
    os_detection: bool = False
    timing: str = "-T4"


PROFILES: dict[str, ProfileSpec] = {
    "quick": ProfileSpec(tcp_top=100, udp_ports=(161,), version_detection=False, scripts=()),
    "standard": ProfileSpec(
        tcp_top=1000,
        udp_ports=UDP_PORTS,
        version_detection=True,
        scripts=("ftp-anon", "http-title", "http-auth", "snmp-sysdescr", "snmp-brute"),
    ),
    "deep": ProfileSpec(
        tcp_top=5000,
        udp_ports=UDP_PORTS,
        version_detection=True,
        scripts=(
            "ftp-anon",
            "http-title",
            "http-auth",
            "snmp-sysdescr",
            "snmp-brute",
            "ssh2-enum-algos",
            "ssl-enum-ciphers",
            "ssl-cert",
            "smb-protocols",
        ),
        os_detection=True,
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


def nmap_binary() -> str | None:
    return shutil.which("nmap")


def port_scan_args(profile: str, *, privileged: bool, host_timeout_s: int) -> list[str]:
    """nmap options (without target) for one host's port/service scan in ``profile``."""
    spec = PROFILES[profile]
    args = ["-n", "-Pn", spec.timing, f"--host-timeout={host_timeout_s}s"]
    tcp = top_tcp_ports(spec.tcp_top)
    udp = spec.udp_ports if privileged else ()
    args.append("-sS" if privileged else "-sT")
    if udp:
        args.append("-sU")
    if tcp is None:
        args += ["--top-ports", str(spec.tcp_top)]
    else:
        ports = "T:" + ",".join(map(str, tcp))
        if udp:
            ports += ",U:" + ",".join(map(str, udp))
        args += ["-p", ports]
    if spec.version_detection:
        args.append("-sV")
    if spec.os_detection and privileged:
        args.append("-O")
    if spec.scripts:
        db = resources.files("secposture").joinpath("data/snmp-default-communities.txt")
        args += [
            "--script",
            ",".join(spec.scripts),
            "--script-args",
            f"snmp-brute.communitiesdb={db},snmpcommunity=public",
            "--script-timeout=60s",
        ]
    return args


@dataclass(slots=True)
class HostScan:
    host: Host
    observations: list[Observation] = field(default_factory=list)
    attempt: Attempt | None = None


def scan_host(
    ip: str,
    profile: str,
    *,
    host_timeout_s: int = 300,
    base: Host | None = None,
) -> HostScan:
    """Port/service scan of one host; never raises for network or tool trouble."""
    start = time.monotonic()
    host = base or Host(ip=ip)
    nmap = nmap_binary()
    if nmap is None:
        return HostScan(
            host, attempt=_attempt(ip, Reason.TOOL_MISSING, "nmap is not installed", start)
        )
    privileged = os.geteuid() == 0
    argv = [
        nmap,
        "-oX",
        "-",
        *port_scan_args(profile, privileged=privileged, host_timeout_s=host_timeout_s),
        ip,
    ]
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=host_timeout_s + 60,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return HostScan(
            host, attempt=_attempt(ip, Reason.TIMEOUT, "nmap overran its time limit", start)
        )
    if proc.returncode != 0 or not proc.stdout.strip():
        reason = Reason.PRIVILEGE_REQUIRED if "root privileges" in proc.stderr else Reason.BUG
        return HostScan(host, attempt=_attempt(ip, reason, proc.stderr.strip()[:500], start))
    try:
        parsed = parse_nmap_xml(proc.stdout)
    except NmapParseError as exc:
        return HostScan(host, attempt=_attempt(ip, Reason.PARSE_ERROR, str(exc), start))
    data = parsed.get(ip)
    if data is None or _timed_out(proc.stdout, ip):
        return HostScan(
            host,
            attempt=_attempt(
                ip, Reason.TIMEOUT, f"host did not finish within {host_timeout_s}s", start
            ),
        )
    scanned, observations = host_from_nmap(
        ip, data, base=host, scripts=bool(PROFILES[profile].scripts)
    )
    udp = PROFILES[profile].udp_ports if privileged else ()
    scanned = scanned.model_copy(update={"ports_scanned": True, "udp_scanned": tuple(udp)})
    attempt = Attempt(
        stage="ports",
        target=ip,
        status=AttemptStatus.COMPLETED,
        detail=f"{len(scanned.open_services())} open",
        duration_s=round(time.monotonic() - start, 3),
    )
    if not privileged:
        attempt = attempt.model_copy(update={"detail": attempt.detail + "; UDP skipped (not root)"})
    return HostScan(scanned, observations, attempt)


def _timed_out(xml: str, ip: str) -> bool:
    # nmap marks a host it gave up on with a <hosthint> but no <host>, or with a
    # "timedout" attribute on <host> in newer versions.
    return bool(re.search(r'<host [^>]*timedout="true"', xml))


def _attempt(ip: str, reason: Reason, detail: str, start: float) -> Attempt:
    return Attempt(
        stage="ports",
        target=ip,
        status=AttemptStatus.ERROR,
        reason=reason,
        detail=detail,
        duration_s=round(time.monotonic() - start, 3),
    )


class NmapParseError(Exception):
    pass


def parse_nmap_xml(xml: str) -> dict[str, dict[str, Any]]:
    """Hosts of an nmap XML document in python-nmap's dict format, keyed by IP."""
    import nmap

    try:
        scanner = nmap.PortScanner.__new__(nmap.PortScanner)  # skip its `nmap -V` probe
        scanner._scan_result = {}
        result = scanner.analyse_nmap_xml_scan(nmap_xml_output=xml)
    except Exception as exc:  # python-nmap raises bare PortScannerError and ET errors
        raise NmapParseError(f"nmap XML could not be parsed: {exc}") from exc
    scan: dict[str, dict[str, Any]] = result.get("scan", {})
    return scan


def _text(value: Any) -> str:
    return str(value or "").strip()


def host_from_nmap(
    ip: str, data: dict[str, Any], *, base: Host | None = None, scripts: bool = True
) -> tuple[Host, list[Observation]]:
    """Turn one python-nmap host entry into a Host and its observations."""
    services: list[Service] = []
    observations: list[Observation] = []
    for proto in ("tcp", "udp"):
        for port, p in sorted(data.get(proto, {}).items()):
            if p.get("state") != "open":
                continue
            cpe = _text(p.get("cpe"))
            services.append(
                Service(
                    port=int(port),
                    proto=proto,
                    state="open",
                    name=_text(p.get("name")),
                    product=_text(p.get("product")),
                    version=_text(p.get("version")),
                    extrainfo=_text(p.get("extrainfo")),
                    tunnel=_text(p.get("tunnel")),
                    cpe=(cpe,) if cpe else (),
                )
            )
            observations += observations_from_scripts(ip, int(port), proto, p.get("script") or {})
    for svc in services:
        if (
            scripts
            and svc.proto == "tcp"
            and svc.name == "ftp"
            and not any(o.kind == "ftp.anonymous" and o.port == svc.port for o in observations)
        ):
            # ftp-anon prints nothing when the server refuses anonymous login.
            observations.append(
                Observation(
                    kind="ftp.anonymous",
                    ip=ip,
                    port=svc.port,
                    proto="tcp",
                    source="nmap:ftp-anon",
                    data={"allowed": False},
                )
            )
    addresses = data.get("addresses", {})
    mac = _text(addresses.get("mac")).lower() or None
    vendor = _text((data.get("vendor") or {}).get(addresses.get("mac", ""), "")) or None
    hostname = next(
        (_text(h.get("name")) for h in data.get("hostnames", []) if h.get("name")), None
    )
    base = base or Host(ip=ip)
    host = base.model_copy(
        update={
            "services": tuple(services),
            "mac": base.mac or mac,
            "vendor": base.vendor or vendor,
            "hostname": base.hostname or hostname,
        }
    )
    return host, observations


VALID_COMMUNITY = re.compile(r"^\s*(\S+)\s+-\s+Valid credentials", re.MULTILINE)


def observations_from_scripts(
    ip: str, port: int, proto: str, scripts: dict[str, str]
) -> list[Observation]:
    """Typed observations from NSE script output (the evidence the checks read)."""
    out: list[Observation] = []

    def add(kind: str, source: str, **data: Any) -> None:
        out.append(Observation(kind=kind, ip=ip, port=port, proto=proto, source=source, data=data))

    if "ftp-anon" in scripts:
        text = scripts["ftp-anon"]
        add(
            "ftp.anonymous",
            "nmap:ftp-anon",
            allowed="Anonymous FTP login allowed" in text,
            output=text.strip()[:2000],
        )
    if "http-title" in scripts:
        text = scripts["http-title"].strip()
        title = "" if text.startswith("Site doesn't have a title") else text.splitlines()[0]
        add("http.title", "nmap:http-title", title=title[:1000])
    if "http-auth" in scripts:
        add("http.auth", "nmap:http-auth", schemes=scripts["http-auth"].strip()[:1000])
    if "snmp-sysdescr" in scripts:
        add("snmp.sysdescr", "nmap:snmp-sysdescr", sysdescr=scripts["snmp-sysdescr"].strip()[:1000])
    if "snmp-brute" in scripts or "snmp-sysdescr" in scripts:
        valid = set(VALID_COMMUNITY.findall(scripts.get("snmp-brute", "")))
        if "snmp-sysdescr" in scripts:
            valid.add("public")  # snmp-sysdescr only answers when 'public' was accepted
        descr = scripts.get("snmp-sysdescr", "").strip()[:1000]
        for community in ("public", "private"):
            add(
                "snmp.community",
                "nmap:snmp-brute",
                community=community,
                accepted=community in valid,
                sysdescr=descr if community in valid else "",
            )
    return out
