"""Host names from reverse DNS, NetBIOS and mDNS: all hosts at once, bounded in time.

The system resolver (``gethostbyaddr``) blocks for its full timeout per address when no
server answers — 26 s on a /24 in the lab (reference/lab.md) — and cannot be abandoned. So
the three lookups here are plain UDP queries sent for every host from one socket each, and
whatever has answered when the time budget ends is what the sweep knows. NetBIOS and mDNS
queries go to the scanned hosts themselves (in scope); reverse DNS goes to the resolvers this
machine is configured with, carrying questions about in-scope addresses only.
"""

from __future__ import annotations

import ipaddress
import secrets
import select
import socket
import struct
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from scanners.scope import Scope

RESOLV_CONF = Path("/etc/resolv.conf")
PTR, A_CLASS_IN = 12, 1
NBSTAT = 0x21


@dataclass(frozen=True, slots=True)
class NameAnswer:
    """A host name found for an address, and how it was found."""

    ip: str
    name: str
    source: str  # "dns", "netbios" or "mdns"


def reverse_name(ip: str) -> str:
    """The PTR name of an address (``4.3.2.1.in-addr.arpa``)."""
    return ipaddress.ip_address(ip).reverse_pointer


def encode_name(name: str) -> bytes:
    """A DNS name in wire format (length-prefixed labels); ValueError on a bad label."""
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        if not 0 < len(raw) < 64:
            raise ValueError(f"bad DNS label in {name!r}")
        out += bytes([len(raw)]) + raw
    return out + b"\x00"


def dns_query(txid: int, name: str, qtype: int = PTR) -> bytes:
    """A standard query (recursion desired) for one name."""
    header = struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0)
    return header + encode_name(name) + struct.pack("!HH", qtype, A_CLASS_IN)


def _read_name(packet: bytes, offset: int, depth: int = 0) -> tuple[str, int]:
    """A possibly compressed name at ``offset``; returns it and the offset after it."""
    labels: list[str] = []
    while True:
        if offset >= len(packet) or depth > 20:
            raise ValueError("truncated or looping DNS name")
        length = packet[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(packet):
                raise ValueError("truncated DNS pointer")
            pointer = ((length & 0x3F) << 8) | packet[offset + 1]
            tail, _ = _read_name(packet, pointer, depth + 1)
            labels.append(tail)
            return ".".join(x for x in labels if x), offset + 2
        offset += 1
        if length == 0:
            return ".".join(labels), offset
        labels.append(packet[offset : offset + length].decode("ascii", errors="replace"))
        offset += length


def parse_ptr_answer(packet: bytes) -> tuple[int, str, str] | None:
    """(transaction id, question name, first PTR target) of a response, or None."""
    try:
        txid, flags, qdcount, ancount = struct.unpack("!HHHH", packet[:8])
        if not flags & 0x8000 or flags & 0x000F:  # not a response, or an error code
            return None
        offset = 12
        question = ""
        for _ in range(qdcount):
            question, offset = _read_name(packet, offset)
            offset += 4
        for _ in range(ancount):
            owner, offset = _read_name(packet, offset)
            rtype, _cls, _ttl, rdlength = struct.unpack("!HHIH", packet[offset : offset + 10])
            offset += 10
            if rtype == PTR:
                target, _ = _read_name(packet, offset)
                return txid, question or owner, target
            offset += rdlength
    except (ValueError, struct.error):
        return None
    return None


def nbstat_query(txid: int) -> bytes:
    """NetBIOS node-status request for the wildcard name '*' (RFC 1002 4.2.17)."""
    wildcard = b"*" + b"\x00" * 15
    encoded = bytes(c for b in wildcard for c in (0x41 + (b >> 4), 0x41 + (b & 0x0F)))
    header = struct.pack("!HHHHHH", txid, 0x0000, 1, 0, 0, 0)
    return header + b"\x20" + encoded + b"\x00" + struct.pack("!HH", NBSTAT, A_CLASS_IN)


def parse_nbstat(packet: bytes) -> str | None:
    """The workstation name (a unique name with suffix 0x00) of a node-status response."""
    try:
        _name, offset = _read_name(packet, 12)
        rtype = struct.unpack("!H", packet[offset : offset + 2])[0]
        if rtype != NBSTAT:
            return None
        offset += 10  # type, class, ttl, rdlength
        count = packet[offset]
        offset += 1
        for i in range(count):
            entry = packet[offset + 18 * i : offset + 18 * (i + 1)]
            if len(entry) < 18:
                break
            name = entry[:15].decode("ascii", errors="replace").strip()
            suffix, flags = entry[15], struct.unpack("!H", entry[16:18])[0]
            if suffix == 0x00 and not flags & 0x8000 and name:  # 0x8000: a group name
                return name
    except (ValueError, struct.error, IndexError):
        return None
    return None


def system_resolvers(path: Path = RESOLV_CONF) -> list[str]:
    """IPv4 nameservers from resolv.conf (``ip netns exec`` bind-mounts a namespace's own)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            try:
                if ipaddress.ip_address(parts[1]).version == 4:
                    out.append(parts[1])
            except ValueError:
                continue
    return out[:3]


def _exchange(
    sends: list[tuple[bytes, tuple[str, int]]],
    timeout: float,
) -> list[tuple[bytes, str, int]]:
    """Send every datagram from one socket; collect replies until ``timeout``."""
    replies: list[tuple[bytes, str, int]] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        for payload, addr in sends:
            try:
                sock.sendto(payload, addr)
            except OSError:
                continue  # no route (a resolver outside the namespace), full buffer: skip
        end = time.monotonic() + timeout
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                break
            try:
                data, (src, port) = sock.recvfrom(4096)
            except OSError:
                continue  # an ICMP error for an earlier datagram
            replies.append((data, src, port))
    return replies


def resolve_names(
    scope: Scope,
    ips: Iterable[str],
    *,
    timeout: float = 1.5,
    resolvers: list[str] | None = None,
    netbios: bool = True,
    mdns: bool = True,
) -> dict[str, NameAnswer]:
    """A name per address where any source answered within ``timeout`` (DNS first)."""
    targets = [scope.require(ip) for ip in ips if ipaddress.ip_address(ip).version == 4]
    if not targets:
        return {}
    servers = system_resolvers() if resolvers is None else resolvers
    base = secrets.randbelow(0x10000)
    ids = {(base + i) & 0xFFFF: ip for i, ip in enumerate(targets)}
    sends: list[tuple[bytes, tuple[str, int]]] = []
    for txid, ip in ids.items():
        query = dns_query(txid, reverse_name(ip))
        sends += [(query, (server, 53)) for server in servers]
        if netbios:
            sends.append((nbstat_query(txid), (ip, 137)))
        if mdns:
            # A query from a port other than 5353 is a "legacy unicast" one: the responder
            # answers straight back to us (RFC 6762 6.7), no multicast group needed.
            sends.append((dns_query(txid, reverse_name(ip)), (ip, 5353)))
    found: dict[str, NameAnswer] = {}
    rank = {"dns": 0, "mdns": 1, "netbios": 2}
    for data, src, port in _exchange(sends, timeout):
        answer = _answer(data, src, port, ids, set(servers))
        if answer is None:
            continue
        known = found.get(answer.ip)
        if known is None or rank[answer.source] < rank[known.source]:
            found[answer.ip] = answer
    return found


def _answer(
    data: bytes, src: str, port: int, ids: dict[int, str], servers: set[str]
) -> NameAnswer | None:
    """Which lookup a reply answers is told by where it came from: a resolver's port 53,
    the host's own 137 (NetBIOS) or 5353 (mDNS)."""
    if len(data) < 12:
        return None
    txid = struct.unpack("!H", data[:2])[0]
    ip = ids.get(txid)
    if ip is None:
        return None
    if src == ip and port == 137:
        name = parse_nbstat(data)
        if name:
            return NameAnswer(ip, name, "netbios")
    parsed = parse_ptr_answer(data)
    if parsed is None or parsed[1].lower() != reverse_name(ip):
        return None
    name = parsed[2].rstrip(".")[:253]
    if not name:
        return None
    if src in servers and port == 53:
        return NameAnswer(ip, name, "dns")
    if src == ip and port == 5353:
        return NameAnswer(ip, name, "mdns")
    return None
