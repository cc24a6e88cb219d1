"""ARP discovery with scapy on the segments this machine is directly attached to."""

from __future__ import annotations

import ipaddress
import json
import os
import select
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

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
            answered = ask(seg, targets, timeout=timeout, retry=retry)
        except OSError as exc:  # PermissionError included: privilege_required, else unreachable
            attempts.append(failed(STAGE, label, reason_for(exc), str(exc), clock=clock))
            continue
        for ip, mac in answered.items():
            if ip in scope:  # a proxy-ARP reply for an out-of-scope address is ignored
                hits[ip] = ArpHit(ip=ip, mac=mac, vendor=vendor_of(mac))
        detail = f"{len(targets)} addresses asked, {len(answered)} answered"
        attempts.append(completed(STAGE, label, detail, clock=clock))
    return list(hits.values()), attempts


ETH_P_ARP = 0x0806
PDST_AT = 14 + 24  # the target address in an Ethernet + ARP who-has frame
ARP_REPLY = 2
DRAIN_EVERY = 64  # requests sent between two reads of the replies already queued
RCVBUF = 1 << 21  # replies to a /22 arrive while its requests are still being sent


def ask(seg: Segment, targets: list[str], *, timeout: float, retry: int) -> dict[str, str]:
    """Who-has for each target on the segment, from one ARP socket: each address's MAC.

    scapy's ``srp`` matches every reply against every request (all ARP requests hash alike),
    which cost 1.5 s of 3.1 for a /22 with 300 hosts (issue #20); here a reply is matched by
    the address it speaks for. Requests go out as fast as the socket takes them; after each
    round, ``timeout`` seconds for the last replies, and the unanswered are asked ``retry``
    more times. Replies are read between sends too, so that none is dropped from a full
    buffer. Only replies from addresses that were asked count.
    """
    from scapy.arch import get_if_hwaddr
    from scapy.config import conf
    from scapy.layers.l2 import ARP

    own_mac = get_if_hwaddr(seg.iface)
    pending = set(targets)
    found: dict[str, str] = {}

    def take(sock: Any, until: float | None) -> None:
        """Read the replies: those already queued (``until`` None), or up to ``until``."""
        while pending:
            wait = 0.0 if until is None else until - time.monotonic()
            if wait < 0 or not select.select([sock], [], [], wait)[0]:
                return
            reply = sock.recv()
            arp = reply.getlayer(ARP) if reply is not None else None
            if arp is not None and arp.op == ARP_REPLY and arp.psrc in pending:
                pending.discard(arp.psrc)
                found[str(arp.psrc)] = str(arp.hwsrc).lower()

    with conf.L2socket(iface=seg.iface, type=ETH_P_ARP) as sock:
        sock.ins.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        for _round in range(1 + retry):
            asking = [t for t in targets if t in pending]
            for n, frame in enumerate(who_has_frames(own_mac, seg.own_ip, asking), start=1):
                sock.ins.send(frame)  # its one packet socket; scapy types send() for Packets
                if n % DRAIN_EVERY == 0:
                    take(sock, None)
            take(sock, time.monotonic() + timeout)
            if not pending:
                break
    return found


def who_has_frames(own_mac: str, own_ip: str, targets: list[str]) -> Iterator[bytes]:
    """Broadcast who-has frames for ``targets``: scapy builds the first, the others are it with
    the target address changed (building each with scapy was 0.4 s of a /22's ARP)."""
    from scapy.layers.l2 import ARP, Ether

    template = bytes(
        Ether(dst="ff:ff:ff:ff:ff:ff", src=own_mac)
        / ARP(op=1, hwsrc=own_mac, psrc=own_ip, pdst="0.0.0.0")  # noqa: S104 - a placeholder
    )
    # Padded to Ethernet's 60-byte minimum: some drivers refuse a shorter frame (EINVAL).
    template = template.ljust(60, b"\x00")
    head, tail = template[:PDST_AT], template[PDST_AT + 4 :]
    for ip in targets:
        yield head + socket.inet_aton(ip) + tail
