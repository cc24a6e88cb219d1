"""Port, service and evidence scanning with nmap, parsed through python-nmap.

We run nmap ourselves (subprocess with a hard time limit, XML on stdout) and hand the XML to
python-nmap's parser: python-nmap's own ``scan()`` waits forever by default and checks its
arguments with ``assert`` (libraries.md B1).
"""

from __future__ import annotations

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
    tcp_scripts: tuple[str, ...]
    udp_scripts: tuple[str, ...] = ("snmp-sysdescr", "snmp-brute")
    os_detection: bool = False
    timing: str = "-T4"


PROFILES: dict[str, ProfileSpec] = {
    "quick": ProfileSpec(
        tcp_top=100, udp_ports=(161,), version_detection=False, tcp_scripts=("ftp-anon",)
    ),
    "standard": ProfileSpec(
        tcp_top=1000, udp_ports=UDP_PORTS, version_detection=True, tcp_scripts=("ftp-anon",)
    ),
    "deep": ProfileSpec(
        tcp_top=5000,
        udp_ports=UDP_PORTS,
        version_detection=True,
        tcp_scripts=(
            "ftp-anon",
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


def _common(spec: ProfileSpec, host_timeout_s: int) -> list[str]:
    return ["-n", "-Pn", spec.timing, f"--host-timeout={host_timeout_s}s"]


def tcp_discovery_args(profile: str, *, privileged: bool, host_timeout_s: int) -> list[str]:
    """Phase 1: which TCP ports are open (no version probes: those cost the time)."""
    spec = PROFILES[profile]
    args = [*_common(spec, host_timeout_s), "-sS" if privileged else "-sT"]
    tcp = top_tcp_ports(spec.tcp_top)
    if tcp is None:
        return [*args, "--top-ports", str(spec.tcp_top)]
    return [*args, "-p", "T:" + ",".join(map(str, tcp))]


def tcp_detail_args(
    profile: str, ports: list[int], *, privileged: bool, host_timeout_s: int
) -> list[str]:
    """Phase 2: versions, OS and evidence scripts on the ports found open."""
    spec = PROFILES[profile]
    args = [*_common(spec, host_timeout_s), "-sS" if privileged else "-sT"]
    args += ["-p", "T:" + ",".join(map(str, sorted(ports)))]
    if spec.version_detection:
        args.append("-sV")
    if spec.os_detection and privileged:
        args.append("-O")
    if spec.tcp_scripts:
        args += ["--script", ",".join(spec.tcp_scripts), "--script-timeout=60s"]
    return args


def udp_args(profile: str, *, host_timeout_s: int) -> list[str]:
    """UDP ports and SNMP evidence, run apart from TCP: nmap 7.93 with -sS -sU -sV together
    took 100 s on a printer that each half scans in under 8 s (measured on the lab)."""
    spec = PROFILES[profile]
    db = resources.files("secposture").joinpath("data/snmp-default-communities.txt")
    args = [*_common(spec, host_timeout_s), "-sU"]
    args += ["-p", "U:" + ",".join(map(str, spec.udp_ports))]
    if spec.version_detection:
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


@dataclass(slots=True)
class NmapRun:
    """One nmap process: its parsed host entry, or the attempt that says why not."""

    data: dict[str, Any] | None
    attempt: Attempt
    argv: list[str] = field(default_factory=list)


def run_nmap(stage: str, ip: str, args: list[str], *, timeout_s: int) -> NmapRun:
    """Run nmap on one target with a hard time limit; never raises for tool trouble."""
    start = time.monotonic()
    nmap = nmap_binary()
    if nmap is None:
        return NmapRun(
            None, _attempt(stage, ip, Reason.TOOL_MISSING, "nmap is not installed", start)
        )
    argv = [nmap, "-oX", "-", *args, ip]
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return NmapRun(
            None, _attempt(stage, ip, Reason.TIMEOUT, f"nmap overran {timeout_s}s", start), argv
        )
    if proc.returncode != 0 or not proc.stdout.strip():
        reason = Reason.PRIVILEGE_REQUIRED if "root privileges" in proc.stderr else Reason.BUG
        return NmapRun(None, _attempt(stage, ip, reason, proc.stderr.strip()[:500], start), argv)
    try:
        parsed = parse_nmap_xml(proc.stdout)
    except NmapParseError as exc:
        return NmapRun(None, _attempt(stage, ip, Reason.PARSE_ERROR, str(exc), start), argv)
    data = parsed.get(ip)
    if data is None or _timed_out(proc.stdout):
        return NmapRun(
            None,
            _attempt(stage, ip, Reason.TIMEOUT, "nmap gave up on the host (host timeout)", start),
            argv,
        )
    done = Attempt(
        stage=stage,
        target=ip,
        status=AttemptStatus.COMPLETED,
        duration_s=round(time.monotonic() - start, 3),
    )
    return NmapRun(data, done, argv)


def _timed_out(xml: str) -> bool:
    # nmap reports a host it abandoned at --host-timeout with timedout="true".
    return bool(re.search(r'<host [^>]*timedout="true"', xml))


def _attempt(stage: str, ip: str, reason: Reason, detail: str, start: float) -> Attempt:
    return Attempt(
        stage=stage,
        target=ip,
        status=AttemptStatus.ERROR,
        reason=reason,
        detail=detail,
        duration_s=round(time.monotonic() - start, 3),
    )


def open_ports(data: dict[str, Any], proto: str = "tcp") -> list[int]:
    return sorted(int(p) for p, v in data.get(proto, {}).items() if v.get("state") == "open")


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
            state = p.get("state")
            # open|filtered UDP is kept: an SNMP agent ignoring 'public' looks exactly so.
            if state != "open" and not (proto == "udp" and state == "open|filtered"):
                continue
            cpe = _text(p.get("cpe"))
            services.append(
                Service(
                    port=int(port),
                    proto=proto,
                    state=str(state),
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
