"""ARP discovery with scapy on the segments this machine is directly attached to."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
from dataclasses import dataclass

from scanners.attempt import Clock, completed, failed, reason_for, skipped
from scanners.scope import Scope
from secposture.model.records import Attempt, Reason

STAGE = "discovery.arp"


@dataclass(frozen=True, slots=True)
class Segment:
    """An IPv4 segment this machine is attached to: interface, network and our own address."""

    iface: str
    network: ipaddress.IPv4Network
    own_ip: str


@dataclass(frozen=True, slots=True)
class ArpHit:
    """One ARP reply: the address, its MAC and the MAC's vendor when known."""

    ip: str
    mac: str
    vendor: str | None


def attached_segments() -> list[Segment]:
    """IPv4 segments on this machine's interfaces (``ip -j addr``, else scapy's routes).

    iproute2 answers in milliseconds; ``scapy.route`` costs ~0.75 s of imports, a tenth of a
    small LAN's whole discovery (libraries.md B6)."""
    try:
        proc = subprocess.run(
            ["ip", "-j", "-4", "addr", "show", "up"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        links = json.loads(proc.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return _segments_from_scapy()
    segments: dict[tuple[str, str], Segment] = {}
    for link in links:
        iface = str(link.get("ifname", ""))
        if "LOOPBACK" in link.get("flags", []):
            continue
        for info in link.get("addr_info", []):
            if info.get("family") != "inet" or info.get("scope") != "global":
                continue
            network = ipaddress.IPv4Network(f"{info['local']}/{info['prefixlen']}", strict=False)
            if network.prefixlen < 32:
                segments[(iface, str(network))] = Segment(iface, network, str(info["local"]))
    return list(segments.values())


def _segments_from_scapy() -> list[Segment]:
    import scapy.route  # noqa: F401 - fills conf.route
    from scapy.config import conf

    segments: dict[tuple[str, str], Segment] = {}
    for net, mask, gw, iface, addr, _metric in conf.route.routes:
        # A route without a gateway is a directly attached segment.
        direct = gw == "0.0.0.0"  # noqa: S104 - a routing-table value, not a bind address
        if not direct or iface == "lo" or not addr or addr.startswith("127."):
            continue
        network = ipaddress.IPv4Network(
            (ipaddress.IPv4Address(net), bin(mask).count("1")), strict=False
        )
        if network.prefixlen in (0, 32):
            continue
        segments[(iface, str(network))] = Segment(iface, network, addr)
    return list(segments.values())


def vendor_of(mac: str) -> str | None:
    """Vendor from scapy's offline OUI database; None when the prefix is unknown."""
    from scapy.config import conf

    db = conf.manufdb
    if db is None:
        return None
    name = db._get_manuf(mac)
    # _get_manuf echoes the MAC back when it does not know the prefix.
    return None if not name or name.lower() == mac.lower() else str(name)


def arp_sweep(
    scope: Scope, segments: list[Segment], *, timeout: float = 0.5, retry: int = 1
) -> tuple[list[ArpHit], list[Attempt]]:
    """ARP-ping every in-scope address on each attached segment; one attempt per segment.

    One resend of the unanswered requests (``retry``): replies lost in a bulk send are
    re-asked (scapy #4219) at the cost of one more ``timeout``."""
    hits: dict[str, ArpHit] = {}
    attempts: list[Attempt] = []
    for seg in segments:
        targets = [
            scope.require(str(a))
            for a in scope.addresses(within=seg.network)
            if str(a) != seg.own_ip
        ]
        if not targets:
            continue
        label = f"{seg.network}@{seg.iface}"
        clock = Clock()
        if os.geteuid() != 0:
            attempts.append(
                skipped(
                    STAGE,
                    label,
                    Reason.PRIVILEGE_REQUIRED,
                    "ARP needs root or CAP_NET_RAW; using nmap host discovery instead",
                )
            )
            continue
        try:
            from scapy.layers.l2 import ARP, Ether
            from scapy.sendrecv import srp

            answered, _ = srp(
                Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst=targets),
                iface=seg.iface,  # explicit: scapy #1891/#621 send out of conf.iface otherwise
                timeout=timeout,
                retry=retry,
                verbose=0,
            )
        except OSError as exc:  # PermissionError included: privilege_required, else unreachable
            attempts.append(failed(STAGE, label, reason_for(exc), str(exc), clock=clock))
            continue
        for _sent, reply in answered:
            ip = str(reply.psrc)
            if ip in scope:  # a proxy-ARP reply for an out-of-scope address is ignored
                mac = str(reply.hwsrc).lower()
                hits[ip] = ArpHit(ip=ip, mac=mac, vendor=vendor_of(mac))
        detail = f"{len(targets)} addresses asked, {len(answered)} answered"
        attempts.append(completed(STAGE, label, detail, clock=clock))
    return list(hits.values()), attempts
