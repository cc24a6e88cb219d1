"""Host discovery: ARP on attached segments, nmap ping sweep for routed scopes; merged."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field

from scanners.attempt import Clock, completed, failed, nmap_exit_reason, reason_for, skipped
from scanners.context import ScanContext, Stopped
from scanners.discovery.arp import Segment, arp_sweep
from scanners.nmap.parse import NmapParseError, parse_nmap_xml
from scanners.nmap.run import nmap_argv, nmap_binary
from scanners.scope import Scope, sort_ips
from secposture.model.records import Attempt, Host, Reason

# ICMP echo and timestamp, TCP SYN to ports that Windows PCs, printers and gear usually answer
# on, and TCP ACK to the web ports (answered with a reset by hosts that drop SYNs).
PING_ARGS = [
    "-n", "-sn", "-PE", "-PP", "-PS21,22,23,80,443,445,3389,8080,9100", "-PA80,443", "-T4",
]  # fmt: skip
STAGE_PING = "discovery.ping"


@dataclass(slots=True)
class Discovery:
    """The live hosts of one scope (merged from every method that found them) and the attempts."""

    hosts: dict[str, Host] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)

    def add(self, ip: str, method: str, mac: str | None = None, vendor: str | None = None) -> None:
        """Record ``ip`` as found by ``method``, keeping what an earlier method learnt."""
        known = self.hosts.get(ip) or Host(ip=ip)
        self.hosts[ip] = known.model_copy(
            update={
                "mac": known.mac or mac,
                "vendor": known.vendor or vendor,
                "discovered_by": tuple(sorted({*known.discovered_by, method})),
            }
        )

    def ordered(self) -> list[Host]:
        """The hosts in address order."""
        return [self.hosts[ip] for ip in sort_ips(self.hosts)]


def discover(scope: Scope, ctx: ScanContext, segments: list[Segment]) -> Discovery:
    """Find live hosts in ``scope``. Every address touched is in it; nothing else."""
    found = Discovery()
    if not ctx.privileged:
        found.attempts.append(
            skipped(
                "discovery.arp",
                ", ".join(map(str, scope.networks)),
                Reason.PRIVILEGE_REQUIRED,
                "ARP needs root (or CAP_NET_RAW): nmap's unprivileged discovery (TCP "
                "connect) is used instead and misses hosts that answer only ARP",
            )
        )
    hits, attempts = arp_sweep(scope, segments if ctx.privileged else [])
    found.attempts += attempts
    for hit in hits:
        found.add(hit.ip, "arp", hit.mac, hit.vendor)
    routed = scope.remainder(s.network for s in segments) if ctx.privileged else scope.networks
    if routed:
        ping_sweep(scope, ctx, [str(n) for n in routed], found)
    return found


def ping_sweep(scope: Scope, ctx: ScanContext, targets: list[str], found: Discovery) -> None:
    """nmap host discovery (no port scan) of routed scope parts, exclusions passed to nmap."""
    clock = Clock()
    label = ",".join(targets)
    targets = [scope.require_network(t) for t in targets]  # OutOfScopeError: never sent

    def error(reason: Reason, detail: str) -> None:
        found.attempts.append(failed(STAGE_PING, label, reason, detail, clock=clock))

    nmap = nmap_binary()
    if nmap is None:
        error(Reason.TOOL_MISSING, "nmap is not installed")
        return
    argv = nmap_argv(nmap, [*PING_ARGS, *scope.nmap_exclude()], targets)
    limit = ctx.limit(max(ctx.host_timeout_s, 600))
    try:
        proc = ctx.procs.run(argv, timeout_s=limit)
    except subprocess.TimeoutExpired as exc:
        error(reason_for(exc), f"over {limit:.0f} s")
        return
    except Stopped as exc:
        error(reason_for(exc), "the sweep was stopped")
        return
    if proc.returncode != 0:
        error(nmap_exit_reason(proc.stderr), proc.stderr.strip()[:500])
        return
    try:
        hosts = parse_nmap_xml(proc.stdout)
    except NmapParseError as exc:
        error(reason_for(exc), str(exc))
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
    found.attempts.append(completed(STAGE_PING, label, f"{up} hosts up", clock=clock))
