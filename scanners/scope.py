"""Scope arithmetic: which addresses a sweep may touch, and nothing else."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from typing import cast

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Scope:
    """Scopes minus exclusions, with membership tests and host enumeration."""

    def __init__(self, scopes: Iterable[str], exclude: Iterable[str] = ()) -> None:
        self.networks: list[Network] = [ipaddress.ip_network(s, strict=False) for s in scopes]
        self.excluded: list[Network] = [ipaddress.ip_network(s, strict=False) for s in exclude]

    def __contains__(self, ip: object) -> bool:
        try:
            addr = ipaddress.ip_address(str(ip))
        except ValueError:
            return False
        return any(addr in n for n in self.networks) and not any(addr in n for n in self.excluded)

    def addresses(self, within: Network | None = None) -> Iterator[Address]:
        """Every in-scope host address, optionally only those inside ``within``."""
        seen: set[Address] = set()
        for net in self.networks:
            part = net
            if within is not None:
                if not net.overlaps(within):
                    continue
                part = net if net.prefixlen >= within.prefixlen else within
            hosts = part.hosts() if part.num_addresses > 2 else iter(part)
            for raw in hosts:
                addr = cast(Address, raw)
                if addr in seen or (within is not None and addr not in within):
                    continue
                if any(addr in n for n in self.excluded):
                    continue
                seen.add(addr)
                yield addr

    def remainder(self, attached: Iterable[Network]) -> list[Network]:
        """Scope networks not covered by directly attached segments (reached by routing)."""
        attached = list(attached)
        out: list[Network] = []
        for net in self.networks:
            parts: list[Network] = [net]
            for seg in attached:
                nxt: list[Network] = []
                for p in parts:
                    if p.version != seg.version or not p.overlaps(seg):
                        nxt.append(p)
                    elif seg.prefixlen <= p.prefixlen:
                        continue  # fully covered
                    else:
                        nxt.extend(p.address_exclude(seg))  # type: ignore[arg-type]
                parts = nxt
            out.extend(parts)
        return out


def sort_ips(ips: Iterable[str]) -> list[str]:
    return sorted(ips, key=lambda s: (ipaddress.ip_address(s).version, ipaddress.ip_address(s)))
