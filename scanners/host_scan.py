"""Everything a sweep learns about hosts, in phases that each cost what they must.

1. TCP port discovery (SYN scan, no version probes), many hosts per nmap process.
2. Beside it, UDP ports with the SNMP default-community probe, and host names.
3. Hosts with open ports: version detection and evidence scripts on those ports only, one
   nmap run for a group of hosts with the same open ports, and direct probes (telnet
   negotiation instead of nmap's slow telnet version probes; one HTTP GET per web service;
   TLS versions and certificate; Redis PING).
4. Assembly: services, observations, device type and its reason, one attempt per stage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from scanners.attempt import Clock, completed, skipped
from scanners.context import ScanContext
from scanners.device_type import guess_device_type
from scanners.nmap.parse import (
    UDP_UNDECIDED,
    ftp_refusals,
    open_ports,
    os_guess,
    services_from_nmap,
)
from scanners.nmap.profiles import PROFILES, tcp_detail_args, tcp_discovery_args, udp_args
from scanners.nmap.run import NmapRun, run_nmap
from scanners.probes.http import probe_http
from scanners.probes.names import NameAnswer
from scanners.probes.redis import probe_redis
from scanners.probes.snmp import probe_snmp_many
from scanners.probes.telnet import TelnetProbe, probe_telnet
from scanners.probes.tls import probe_tls
from secposture.model.records import (
    Attempt,
    AttemptStatus,
    Host,
    Observation,
    Reason,
    Service,
)

TELNET_PORTS = frozenset({23, 2323})
HTTP_NAMES = frozenset({"http", "http-alt", "http-proxy", "http-mgmt", "upnp"})
TLS_NAMES = frozenset({"https", "https-alt", "ssl", "imaps", "pop3s", "smtps", "ldaps", "ftps"})
# Without version detection (quick) TLS is recognised by its usual ports only.
TLS_PORTS = frozenset({443, 465, 636, 993, 995, 8443, 9443})
REDIS_PORTS = frozenset({6379})
BATCH_SLACK_S = 60  # nmap stops itself at --host-timeout; the process limit is a backstop


@dataclass(slots=True)
class HostScan:
    """Everything one host's scan produced: the host, its observations and its attempts."""

    host: Host
    observations: list[Observation] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)


def port_discovery(ctx: ScanContext, ips: list[str]) -> NmapRun:
    """Phase 1 over a batch of hosts: which TCP ports are open."""
    args = tcp_discovery_args(
        ctx.profile, privileged=ctx.privileged, host_timeout_s=ctx.host_timeout_s
    )
    args += [f"--min-hostgroup={len(ips)}"]  # one group: the batch ends within the host limit
    return run_nmap(ctx, "ports.tcp", ips, args, timeout_s=ctx.host_timeout_s + BATCH_SLACK_S)


# 161/udp states that leave an SNMP agent possible.
UNJUDGED_STATES = ("open", *UDP_UNDECIDED)


def udp_scan(ctx: ScanContext, ips: list[str]) -> NmapRun | None:
    """UDP ports of a batch (root only: nmap's UDP scan needs raw sockets)."""
    spec = PROFILES[ctx.profile]
    if not spec.udp_ports or not ctx.privileged:
        return None
    args = [
        *udp_args(ctx.profile, host_timeout_s=ctx.host_timeout_s),
        f"--min-hostgroup={len(ips)}",
    ]
    run = run_nmap(ctx, "ports.udp", ips, args, timeout_s=ctx.host_timeout_s + BATCH_SLACK_S)
    unjudged = []
    for ip in ips:
        data = run.host(ip)
        snmp = (data or {}).get("udp", {}).get(161, {})
        if snmp.get("state") in UNJUDGED_STATES and not _has_snmp_evidence(snmp):
            unjudged.append(ctx.scope.require(ip))
    if unjudged:
        # nmap's SNMP scripts left nothing (or, in the quick profile, did not run): ask these
        # hosts directly, all at once, rather than leave them unjudged. A host whose evidence
        # nmap's scripts gave is not asked again.
        run.extra |= probe_snmp_many(
            unjudged, timeout=ctx.limit(spec.snmp_wait_s), pacer=ctx.probes.pacer
        )
    return run


def _has_snmp_evidence(port: dict[str, Any]) -> bool:
    scripts = port.get("script") or {}
    return "snmp-sysdescr" in scripts or "Valid credentials" in str(scripts.get("snmp-brute", ""))


def tcp_stage_attempt(run: NmapRun, ip: str, ports_probed: int) -> tuple[Attempt, bool]:
    """The phase-1 attempt of one host, and whether its port states are known.

    A host that answered no probe at all (every port filtered) has not been port-scanned in
    any useful sense: its services are unknown, and saying "nothing open" would be a false pass.
    """
    attempt = run.attempts[ip]
    data = run.host(ip)
    if data is None:
        return attempt, False
    listed = data.get("tcp", {})
    summary = data.get("extraports", {})
    answered = sum(1 for p in listed.values() if p.get("state") in ("open", "closed"))
    answered += summary.get("closed", 0)
    if answered == 0:
        return attempt.model_copy(
            update={
                "status": AttemptStatus.ERROR,
                "reason": Reason.UNREACHABLE,
                "detail": f"no reply on any of {ports_probed} TCP ports (all filtered): "
                "a firewall drops everything, services unknown",
            }
        ), False
    n_open = len(open_ports(data))
    if n_open == 0 and summary.get("closed", 0) >= ports_probed:
        detail = f"all {ports_probed} TCP ports closed (the host resets every connection)"
    else:
        detail = f"{n_open} of {ports_probed} TCP ports open"
    return attempt.model_copy(update={"detail": detail}), True


# Hosts of one TCP batch with the same open ports share one nmap run of phase 3: each run
# costs nmap's start (service probes, NSE) and its slowest wait (-sV's probe of a silent port),
# so a batch of alike hosts in one run costs what one host does (issue #20). Groups stay small
# so that a slow host holds back few others.
DETAIL_GROUP = 16


@dataclass(slots=True)
class _Detail:
    """One host's phase 3 in progress: what the TCP batch and the telnet probe found."""

    out: HostScan
    tcp_data: dict[str, Any]
    services: list[Service]
    rest: list[int]  # open ports left for nmap's version detection and scripts


def detail_groups(hosts: list[tuple[Host, dict[str, Any]]]) -> list[list[tuple[Host, Any]]]:
    """The hosts in phase-3 groups: same open TCP ports, at most DETAIL_GROUP hosts each."""
    alike: dict[tuple[int, ...], list[tuple[Host, Any]]] = {}
    for host, data in hosts:
        alike.setdefault(tuple(open_ports(data)), []).append((host, data))
    return [
        same[i : i + DETAIL_GROUP]
        for same in alike.values()
        for i in range(0, len(same), DETAIL_GROUP)
    ]


def host_details(ctx: ScanContext, hosts: list[tuple[Host, dict[str, Any]]]) -> list[HostScan]:
    """Phase 3 for hosts whose open TCP ports are known, in their order: telnet negotiation,
    then nmap's version detection and scripts in one run for the hosts whose remaining open
    ports are the same, then each host's direct probes."""
    spec = PROFILES[ctx.profile]
    details: list[_Detail] = []
    for host, tcp_data in hosts:
        ctx.scope.require(host.ip)
        found = open_ports(tcp_data)
        details.append(_Detail(HostScan(host), tcp_data, [], found))
    telnet_asks = [
        (d.out.host.ip, [partial(probe_telnet, d.out.host.ip, p) for p in _telnet_ports(d.rest)])
        for d in details
    ]
    for d, asked in zip(details, ctx.probes.run_hosts(telnet_asks), strict=True):
        _take_telnet(d, dict(zip(_telnet_ports(d.rest), asked, strict=True)))

    runs: dict[tuple[int, ...], list[_Detail]] = {}
    for d in details:
        scripted = spec.version_detection or any(p == 21 for p in d.rest)
        if d.rest and scripted:
            runs.setdefault(tuple(d.rest), []).append(d)
        else:
            d.services += _phase1_services(d.tcp_data, d.rest)
    for ports, group in runs.items():
        _run_detail(ctx, list(ports), group)

    clock = Clock()
    # Every probe of every host at once, within the sweep's caps; observations in this order.
    asks = [
        (d.out.host.ip, _service_probes(d.out.host.ip, d.services, spec.version_detection))
        for d in details
    ]
    for d, answers in zip(details, ctx.probes.run_hosts(asks), strict=True):
        probed = [o for answer in answers for o in answer]
        if probed or d.services:
            d.out.observations += probed
            detail = f"{len(probed)} observations"
            d.out.attempts.append(completed("probes", d.out.host.ip, detail, clock=clock))
        d.out.host = d.out.host.model_copy(update={"services": tuple(d.services)})
    return [d.out for d in details]


def _telnet_ports(ports: list[int]) -> list[int]:
    return [p for p in ports if p in TELNET_PORTS]


def _take_telnet(d: _Detail, telnets: dict[int, TelnetProbe | None]) -> None:
    """Ports that negotiate telnet are telnet (nmap's version probes of them are slow)."""
    ip = d.out.host.ip
    direct = {p for p, probe in telnets.items() if probe is not None and probe.is_telnet}
    for port in sorted(direct):
        probe = telnets[port]
        d.services.append(Service(port=port, name="telnet", extrainfo="negotiates telnet"))
        d.out.observations.append(
            Observation(
                kind="telnet.banner",
                ip=ip,
                port=port,
                proto="tcp",
                source="probe:telnet",
                data={"banner": probe.banner if probe else ""},
            )
        )
    d.rest = [p for p in d.rest if p not in direct]


def _run_detail(ctx: ScanContext, ports: list[int], group: list[_Detail]) -> None:
    """One nmap run of phase 3 over hosts whose remaining open ports are ``ports``."""
    ips = [d.out.host.ip for d in group]
    args = tcp_detail_args(
        ctx.profile, ports, privileged=ctx.privileged, host_timeout_s=ctx.host_timeout_s
    )
    if len(ips) > 1:
        args.append(f"--min-hostgroup={len(ips)}")  # one group: it ends within the host limit
    detail = run_nmap(
        ctx, "ports.tcp.detail", ips, args, timeout_s=ctx.host_timeout_s + BATCH_SLACK_S
    )
    for d in group:
        ip = d.out.host.ip
        d.out.attempts.append(detail.attempts[ip])
        data = detail.host(ip)
        if data is None:
            # Versions unknown, but the ports are open: keep them, named from phase 1.
            d.services += _phase1_services(d.tcp_data, d.rest)
            continue
        named, observations = services_from_nmap(ip, data)
        d.services += [s for s in named if s.proto == "tcp" and s.port in d.rest]
        d.out.observations += observations + ftp_refusals(ip, named, observations)
        guess = os_guess(data)
        if guess is not None:
            d.out.observations.append(guess)
            d.out.host = d.out.host.model_copy(update={"os": guess.data["name"]})


def _service_probes(
    ip: str, services: list[Service], version_detection: bool
) -> list[Callable[[], list[Observation]]]:
    """The direct probes each open TCP service gets: HTTP, TLS (and HTTP over it), Redis."""
    probes: list[Callable[[], list[Observation]]] = []
    for svc in services:
        if svc.proto != "tcp":
            continue
        tls = (
            svc.tunnel == "ssl"
            or svc.name in TLS_NAMES
            or (not version_detection and svc.port in TLS_PORTS)
        )
        if svc.name in HTTP_NAMES and not tls:
            probes.append(partial(probe_http, ip, svc.port))
        elif tls:
            probes.append(partial(probe_tls, ip, svc.port))
            if svc.name in ("https", "https-alt", "http") or svc.port in (443, 8443):
                probes.append(partial(probe_http, ip, svc.port, tls=True))
        if svc.name == "redis" or (svc.port in REDIS_PORTS and not svc.name):
            probes.append(partial(probe_redis, ip, svc.port))
    return probes


def _phase1_services(tcp_data: dict[str, Any], ports: list[int]) -> list[Service]:
    tcp = tcp_data.get("tcp", {})
    return [Service(port=p, name=str(tcp.get(p, {}).get("name") or "")) for p in ports]


def assemble(
    host: Host,
    *,
    tcp_known: bool,
    detail: HostScan | None,
    udp: NmapRun | None,
    name: NameAnswer | None,
    udp_ports: tuple[int, ...],
) -> HostScan:
    """Everything about one host in one record: services, names, device type and why."""
    out = HostScan(host)
    services: list[Service] = []
    if detail is not None:
        out.host = detail.host
        services += [s for s in detail.host.services if s.proto == "tcp"]
        out.observations += detail.observations
        out.attempts += detail.attempts
    udp_known = False
    if udp is not None:
        out.attempts.append(udp.attempts[host.ip])
        data = udp.host(host.ip)
        if data is not None:
            udp_known = True
            named, observations = services_from_nmap(host.ip, data)
            services += [s for s in named if s.proto == "udp"]
            out.observations += observations + udp.extra.get(host.ip, [])
            netbios = next((o for o in observations if o.kind == "netbios.name"), None)
            if name is None and netbios is not None and netbios.data.get("name"):
                name = NameAnswer(host.ip, str(netbios.data["name"]), "netbios")
    elif udp_ports:
        out.attempts.append(
            skipped("ports.udp", host.ip, Reason.PRIVILEGE_REQUIRED, "UDP scans need root")
        )
    update: dict[str, Any] = {
        "services": tuple(sorted(services, key=lambda s: (s.proto, s.port))),
        "ports_scanned": tcp_known,
        "udp_scanned": udp_ports if udp_known else (),
    }
    if name is not None and not out.host.hostname:
        update |= {"hostname": name.name, "hostname_source": name.source}
    elif out.host.hostname and not out.host.hostname_source:
        update["hostname_source"] = "nmap"
    out.host = out.host.model_copy(update=update)
    said = (
        f"{name.source}: {name.name}"
        if name is not None
        else "no reverse DNS, NetBIOS or mDNS answer in time"
    )
    out.attempts.append(completed("names", host.ip, said))
    kind, reason = guess_device_type(out.host, out.observations)
    out.host = out.host.model_copy(update={"device_type": kind.value, "device_type_reason": reason})
    return out
