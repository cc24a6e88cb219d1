"""Port, service and evidence scanning with nmap, parsed through python-nmap.

We run nmap ourselves (subprocess with a hard time limit, XML on stdout) and hand the XML to
python-nmap's parser: python-nmap's own ``scan()`` waits forever by default and checks its
arguments with ``assert`` (libraries.md B1). One nmap process may cover many hosts (a batch):
nmap parallelises hosts itself, and one process per host costs ~0.2 s of start-up each, which
on a /22 is most of the sweep. Each host of a batch still gets its own attempt.

Profiles (what each asks nmap to do, and what it costs on the demo lab):

``quick``     top 100 TCP ports (SYN), UDP 161 with the SNMP default-community probe, no
              version detection; names come from nmap's port table. Seconds per /24.
``standard``  top 1000 TCP ports, then version detection and the evidence scripts (FTP
              anonymous, SSH algorithms, SMB dialects, VNC/RDP security) on the open ones;
              UDP 53, 123, 161, 1900; direct TLS, HTTP, telnet and Redis probes. ~25 s on the lab.
``deep``      top 5000 TCP ports, standard's work plus OS detection, full TLS cipher
              enumeration and certificate script, database info scripts, more UDP ports with
              version detection. Minutes per host on slow devices.
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

from defusedxml import ElementTree

from scanners.context import ScanContext, Stopped
from scanners.nmap.scripts import observations_from_scripts
from secposture.model.records import (
    Attempt,
    AttemptStatus,
    Host,
    Observation,
    Reason,
    Service,
    utcnow,
)

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


PROFILES: dict[str, ProfileSpec] = {
    "quick": ProfileSpec(
        tcp_top=100, udp_ports=(161,), version_detection=False, tcp_scripts=("ftp-anon",), batch=128
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
    # -n: reverse DNS is done apart, in parallel and bounded (scanners/names.py); nmap's own
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


@dataclass(slots=True)
class NmapRun:
    """One nmap process over one or more hosts: each host's parsed entry or its attempt."""

    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    attempts: dict[str, Attempt] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    xml: str = ""
    # Evidence from direct probes run with this stage (e.g. the SNMP fallback), per host.
    extra: dict[str, list[Observation]] = field(default_factory=dict)

    def host(self, ip: str) -> dict[str, Any] | None:
        """The parsed entry of ``ip`` when its stage completed, else None."""
        attempt = self.attempts.get(ip)
        return self.data.get(ip) if attempt is not None and attempt.ok else None


def nmap_argv(nmap: str, args: list[str], targets: list[str]) -> list[str]:
    return [nmap, "-oX", "-", *args, *targets]


def run_nmap(
    ctx: ScanContext, stage: str, targets: list[str], args: list[str], *, timeout_s: float
) -> NmapRun:
    """Run nmap on in-scope targets with a hard time limit; never raises for tool trouble."""
    started, start = utcnow(), time.monotonic()
    run = NmapRun()
    targets = [ctx.scope.require(ip) for ip in targets]  # OutOfScopeError: a bug, never sent

    def fail_all(reason: Reason, detail: str) -> NmapRun:
        took = round(time.monotonic() - start, 3)
        for ip in targets:
            run.attempts[ip] = Attempt(
                stage=stage,
                target=ip,
                status=AttemptStatus.ERROR,
                reason=reason,
                detail=detail,
                started=started,
                duration_s=took,
            )
        run.duration_s = took
        return run

    nmap = nmap_binary()
    if nmap is None:
        return fail_all(Reason.TOOL_MISSING, "nmap is not installed")
    run.argv = nmap_argv(nmap, args, targets)
    limit = ctx.limit(timeout_s)
    if limit <= 0:
        return fail_all(Reason.TIMEOUT, "sweep time limit reached before this stage")
    try:
        proc = ctx.procs.run(run.argv, timeout_s=limit)
    except subprocess.TimeoutExpired:
        return fail_all(Reason.TIMEOUT, f"nmap overran {limit:.0f} s and was stopped")
    except Stopped:
        return fail_all(Reason.INTERRUPTED, "the sweep was stopped")
    except OSError as exc:
        return fail_all(Reason.TOOL_MISSING, f"nmap could not be started: {exc}")
    if proc.returncode < 0:  # a signal from outside (the agent stopping the sweep)
        return fail_all(Reason.INTERRUPTED, f"nmap was stopped by signal {-proc.returncode}")
    if proc.returncode != 0 or not proc.stdout.strip():
        reason = Reason.PRIVILEGE_REQUIRED if "root privileges" in proc.stderr else Reason.BUG
        return fail_all(reason, proc.stderr.strip()[:500] or f"nmap exited {proc.returncode}")
    run.xml = proc.stdout
    try:
        parsed = parse_nmap_xml(proc.stdout)
    except NmapParseError as exc:
        return fail_all(Reason.PARSE_ERROR, str(exc))
    timed_out = set(TIMED_OUT_HOST.findall(proc.stdout))
    took = round(time.monotonic() - start, 3)
    for ip in targets:
        data = parsed.get(ip)
        if data is None or ip in timed_out:
            detail = (
                "nmap gave up on the host (host timeout)"
                if ip in timed_out
                else ("nmap reported nothing for the host")
            )
            run.attempts[ip] = Attempt(
                stage=stage,
                target=ip,
                status=AttemptStatus.ERROR,
                reason=Reason.TIMEOUT if ip in timed_out else Reason.UNREACHABLE,
                detail=detail,
                started=started,
                duration_s=took,
            )
            continue
        run.data[ip] = data
        run.attempts[ip] = Attempt(
            stage=stage, target=ip, status=AttemptStatus.COMPLETED, started=started, duration_s=took
        )
    run.duration_s = took
    return run


# nmap marks a host it abandoned at --host-timeout with timedout="true" on <host>.
TIMED_OUT_HOST = re.compile(
    r'<host [^>]*timedout="true"[^>]*>\s*(?:<status[^>]*/>\s*)?<address addr="([^"]+)"'
)


def port_states(data: dict[str, Any], proto: str = "tcp") -> dict[int, str]:
    return {int(p): str(v.get("state")) for p, v in data.get(proto, {}).items()}


def open_ports(data: dict[str, Any], proto: str = "tcp") -> list[int]:
    return sorted(p for p, state in port_states(data, proto).items() if state == "open")


class NmapParseError(Exception):
    pass


def parse_nmap_xml(xml: str) -> dict[str, dict[str, Any]]:
    """Hosts of an nmap XML document in python-nmap's dict format, keyed by IP.

    python-nmap drops two facts the sweep needs, so they are read from the same document and
    added: ``tunnel`` on a port ("ssl" for HTTPS and other TLS services) and, per host,
    ``extraports`` (the states nmap summarised instead of listing: "1000 filtered" is what a
    host dropping everything looks like).
    """
    import nmap

    try:
        scanner = nmap.PortScanner.__new__(nmap.PortScanner)  # skip its `nmap -V` probe
        scanner._scan_result = {}
        result = scanner.analyse_nmap_xml_scan(nmap_xml_output=xml)
        root = ElementTree.fromstring(xml)
    except Exception as exc:  # python-nmap raises bare PortScannerError and ET errors
        raise NmapParseError(f"nmap XML could not be parsed: {exc}") from exc
    scan: dict[str, dict[str, Any]] = result.get("scan", {})
    for host in root.iter("host"):
        address = host.find("address")
        data = scan.get(str(address.get("addr"))) if address is not None else None
        if data is None:
            continue
        states: dict[str, int] = {}
        for extra in host.iter("extraports"):
            state = extra.get("state", "")
            states[state] = states.get(state, 0) + int(extra.get("count", "0") or 0)
        data["extraports"] = states
        for port in host.iter("port"):
            service = port.find("service")
            tunnel = service.get("tunnel") if service is not None else None
            entry = data.get(port.get("protocol", ""), {}).get(int(port.get("portid", "0")))
            if tunnel and entry is not None:
                entry["tunnel"] = tunnel
    return scan


def _text(value: Any) -> str:
    return str(value or "").strip()


def services_from_nmap(ip: str, data: dict[str, Any]) -> tuple[list[Service], list[Observation]]:
    """Open (and open|filtered UDP) services of one host entry, and their script evidence."""
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
    for script in data.get("hostscript") or []:
        observations += observations_from_scripts(
            ip, None, None, {str(script.get("id")): str(script.get("output", ""))}
        )
    return services, observations


def os_guess(data: dict[str, Any]) -> Observation | None:
    """nmap's best OS match (deep profile) as an observation, or None when it made none."""
    matches = data.get("osmatch") or []
    if not matches:
        return None
    best = matches[0]
    classes = [
        {
            "type": _text(c.get("type")),
            "vendor": _text(c.get("vendor")),
            "family": _text(c.get("osfamily")),
        }
        for c in best.get("osclass") or []
    ]
    return Observation(
        kind="os.match",
        ip=str(data.get("addresses", {}).get("ipv4") or data.get("addresses", {}).get("ipv6")),
        source="nmap:-O",
        data={
            "name": _text(best.get("name")),
            "accuracy": int(best.get("accuracy") or 0),
            "classes": classes,
        },
    )


def host_from_nmap(
    ip: str, data: dict[str, Any], *, base: Host | None = None, scripts: bool = True
) -> tuple[Host, list[Observation]]:
    """Turn one python-nmap host entry into a Host and its observations (nmap XML import and
    single-run callers; the sweep assembles hosts from several runs in host_scan)."""
    services, observations = services_from_nmap(ip, data)
    if scripts:
        observations += ftp_refusals(ip, services, observations)
    guess = os_guess(data)
    if guess is not None:
        observations.append(guess)
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
            "os": base.os or (str(guess.data["name"]) if guess is not None else None),
        }
    )
    return host, observations


def ftp_refusals(
    ip: str, services: list[Service], observations: list[Observation]
) -> list[Observation]:
    """ftp-anon prints nothing when the server refuses anonymous login: say so explicitly."""
    out: list[Observation] = []
    for svc in services:
        if (
            svc.proto == "tcp"
            and svc.name == "ftp"
            and not any(o.kind == "ftp.anonymous" and o.port == svc.port for o in observations)
        ):
            out.append(
                Observation(
                    kind="ftp.anonymous",
                    ip=ip,
                    port=svc.port,
                    proto="tcp",
                    source="nmap:ftp-anon",
                    data={"allowed": False},
                )
            )
    return out
