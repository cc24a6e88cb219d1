"""Everything a sweep learns about one host, in phases that each cost what they must.

1. TCP port discovery (SYN scan, no version probes).
2. In parallel: version detection and evidence scripts on the open TCP ports, and the UDP
   ports with the SNMP default-community probe.
3. Direct probes: telnet negotiation (instead of nmap's slow telnet version probes) and one
   HTTP GET per cleartext web service (page title, authentication, login form).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from scanners.nmap_scan import (
    PROFILES,
    NmapRun,
    host_from_nmap,
    open_ports,
    run_nmap,
    tcp_detail_args,
    tcp_discovery_args,
    udp_args,
)
from scanners.probes import probe_http, probe_telnet
from secposture.models import Attempt, AttemptStatus, Host, Observation, Reason, Service

TELNET_PORTS = frozenset({23, 2323})
HTTP_NAMES = frozenset({"http", "http-alt", "http-proxy", "http-mgmt", "upnp"})


@dataclass(slots=True)
class HostScan:
    host: Host
    observations: list[Observation] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)


def scan_host(
    ip: str, profile: str, *, host_timeout_s: int = 300, base: Host | None = None
) -> HostScan:
    """Port, service and evidence scan of one host; failures become attempts."""
    start = time.monotonic()
    host = base or Host(ip=ip)
    spec = PROFILES[profile]
    privileged = os.geteuid() == 0
    limit = host_timeout_s + 30  # nmap stops itself at --host-timeout; this is the backstop
    out = HostScan(host)

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"host-{ip}") as pool:
        udp_future = (
            pool.submit(
                run_nmap,
                "ports.udp",
                ip,
                udp_args(profile, host_timeout_s=host_timeout_s),
                timeout_s=limit,
            )
            if privileged and spec.udp_ports
            else None
        )
        tcp = run_nmap(
            "ports.tcp",
            ip,
            tcp_discovery_args(profile, privileged=privileged, host_timeout_s=host_timeout_s),
            timeout_s=limit,
        )
        out.attempts.append(tcp.attempt)
        services: list[Service] = []
        if tcp.data is not None:
            found = open_ports(tcp.data)
            telnets = {p: probe_telnet(ip, p) for p in found if p in TELNET_PORTS}
            direct = {p for p, probe in telnets.items() if probe is not None and probe.is_telnet}
            for port in sorted(direct):
                probe = telnets[port]
                services.append(Service(port=port, name="telnet", extrainfo="negotiates telnet"))
                out.observations.append(
                    Observation(
                        kind="telnet.banner",
                        ip=ip,
                        port=port,
                        proto="tcp",
                        source="probe:telnet",
                        data={"banner": probe.banner if probe else ""},
                    )
                )
            rest = [p for p in found if p not in direct]
            detail: NmapRun | None = None
            if rest:
                detail = run_nmap(
                    "ports.tcp.detail",
                    ip,
                    tcp_detail_args(
                        profile, rest, privileged=privileged, host_timeout_s=host_timeout_s
                    ),
                    timeout_s=limit,
                )
                out.attempts.append(detail.attempt)
            if detail is not None and detail.data is not None:
                scanned, observations = host_from_nmap(ip, detail.data, base=host)
                services += scanned.services
                out.observations += observations
                host = scanned
            elif rest:
                # Versions unknown, but the ports are open: keep them, unnamed.
                services += [Service(port=p) for p in rest]
        udp = udp_future.result() if udp_future is not None else None

    if udp is not None:
        out.attempts.append(udp.attempt)
        if udp.data is not None:
            scanned_udp, observations = host_from_nmap(ip, udp.data, base=host)
            services += [s for s in scanned_udp.services if s.proto == "udp"]
            out.observations += observations
    elif spec.udp_ports:
        out.attempts.append(
            Attempt(
                stage="ports.udp",
                target=ip,
                status=AttemptStatus.SKIPPED,
                reason=Reason.PRIVILEGE_REQUIRED,
                detail="UDP scans need root",
            )
        )

    for svc in services:
        if svc.proto == "tcp" and svc.name in HTTP_NAMES and svc.tunnel != "ssl":
            out.observations += probe_http(ip, svc.port)
        elif svc.proto == "tcp" and (svc.name == "https" or svc.tunnel == "ssl"):
            out.observations += probe_http(ip, svc.port, tls=True)

    udp_known = udp is not None and udp.data is not None
    out.host = host.model_copy(
        update={
            "services": tuple(sorted(services, key=lambda s: (s.proto, s.port))),
            "ports_scanned": tcp.data is not None,
            "udp_scanned": spec.udp_ports if udp_known else (),
        }
    )
    if tcp.data is not None:
        out.attempts.append(
            Attempt(
                stage="ports",
                target=ip,
                status=AttemptStatus.COMPLETED,
                detail=f"{len(out.host.open_services())} open",
                duration_s=round(time.monotonic() - start, 3),
            )
        )
    return out
