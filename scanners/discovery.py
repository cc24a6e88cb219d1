"""Host discovery: ARP on attached segments, nmap ping sweep for routed scopes; merged."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field

from scanners.arp import arp_sweep, attached_segments
from scanners.nmap_scan import NmapParseError, nmap_binary, parse_nmap_xml
from scanners.scope import Scope, sort_ips
from secposture.models import Attempt, AttemptStatus, Host, Reason

# ICMP echo plus TCP SYN/ACK to ports that Windows PCs, printers and gear usually answer on.
PING_ARGS = ["-n", "-sn", "-PE", "-PP", "-PS21,22,23,80,443,445,3389,8080", "-PA80,443", "-T4"]


@dataclass(slots=True)
class Discovery:
    hosts: dict[str, Host] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)

    def add(self, ip: str, method: str, mac: str | None = None, vendor: str | None = None) -> None:
        known = self.hosts.get(ip) or Host(ip=ip)
        self.hosts[ip] = known.model_copy(
            update={
                "mac": known.mac or mac,
                "vendor": known.vendor or vendor,
                "discovered_by": tuple(sorted({*known.discovered_by, method})),
            }
        )

    def ordered(self) -> list[Host]:
        return [self.hosts[ip] for ip in sort_ips(self.hosts)]


def discover(scope: Scope, *, timeout_s: int = 600) -> Discovery:
    """Find live hosts in scope. Every address touched is in ``scope``; nothing else."""
    found = Discovery()
    segments = attached_segments() if os.geteuid() == 0 else []
    hits, attempts = arp_sweep(scope, segments)
    found.attempts += attempts
    for hit in hits:
        found.add(hit.ip, "arp", hit.mac, hit.vendor)
    routed = scope.remainder(s.network for s in segments)
    if routed:
        ping_sweep(scope, [str(n) for n in routed], found, timeout_s=timeout_s)
    return found


def ping_sweep(scope: Scope, targets: list[str], found: Discovery, *, timeout_s: int) -> None:
    """nmap host discovery (no port scan) of routed scope parts, exclusions passed to nmap."""
    start = time.monotonic()
    label = ",".join(targets)
    nmap = nmap_binary()
    if nmap is None:
        found.attempts.append(_error(label, Reason.TOOL_MISSING, "nmap is not installed", start))
        return
    argv = [nmap, "-oX", "-", *PING_ARGS]
    if scope.excluded:
        argv += ["--exclude", ",".join(str(n) for n in scope.excluded)]
    argv += targets
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, errors="replace", timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        found.attempts.append(_error(label, Reason.TIMEOUT, f"over {timeout_s}s", start))
        return
    if proc.returncode != 0:
        found.attempts.append(_error(label, Reason.BUG, proc.stderr.strip()[:500], start))
        return
    try:
        hosts = parse_nmap_xml(proc.stdout)
    except NmapParseError as exc:
        found.attempts.append(_error(label, Reason.PARSE_ERROR, str(exc), start))
        return
    up = 0
    for ip, data in hosts.items():
        if data.get("status", {}).get("state") != "up" or ip not in scope:
            continue
        up += 1
        addresses = data.get("addresses", {})
        mac = (addresses.get("mac") or "").lower() or None
        vendor = (data.get("vendor") or {}).get(addresses.get("mac", "")) or None
        found.add(ip, "nmap-ping", mac, vendor)
    found.attempts.append(
        Attempt(
            stage="discovery.ping",
            target=label,
            status=AttemptStatus.COMPLETED,
            detail=f"{up} hosts up",
            duration_s=round(time.monotonic() - start, 3),
        )
    )


def _error(label: str, reason: Reason, detail: str, start: float) -> Attempt:
    return Attempt(
        stage="discovery.ping",
        target=label,
        status=AttemptStatus.ERROR,
        reason=reason,
        detail=detail,
        duration_s=round(time.monotonic() - start, 3),
    )
