"""Scope arithmetic: which addresses a sweep may touch, and nothing else.

Every scanner that sends a packet asks the scope first (``Scope.require`` for one address,
``Scope.require_network`` for a network handed to nmap), so no code path can reach an address
the agency did not list, nor one it excluded. Public networks are refused here too, not only
in the config: a scope built by any other route (an import, a test, a future caller) gets the
same guard.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from typing import cast

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class ScopeError(ValueError):
    """A scope that may not be swept (public without permission, not a network)."""


class OutOfScopeError(RuntimeError):
    """A scanner was asked to send to an address outside the scope: a bug, never sent."""


def is_public(net: Network) -> bool:
    """True for networks that are neither private nor loopback (nor link-local)."""
    return not (net.is_private or net.is_loopback or net.is_link_local)


class Scope:
    """Scopes minus exclusions, with membership tests and host enumeration."""

    def __init__(
        self, scopes: Iterable[str], exclude: Iterable[str] = (), *, allow_public: bool = False
    ) -> None:
        try:
            self.networks: list[Network] = [ipaddress.ip_network(s, strict=False) for s in scopes]
            self.excluded: list[Network] = [ipaddress.ip_network(s, strict=False) for s in exclude]
        except ValueError as exc:
            raise ScopeError(str(exc)) from None
        public = [str(n) for n in self.networks if is_public(n)]
        if public and not allow_public:
            raise ScopeError(
                f"refusing public network(s) {', '.join(public)}: "
                "set scan.allow_public = true only if the agency owns them"
            )

    def __contains__(self, ip: object) -> bool:
        try:
            addr = ipaddress.ip_address(str(ip))
        except ValueError:
            return False
        return any(addr in n for n in self.networks) and not any(addr in n for n in self.excluded)

    def require(self, ip: str) -> str:
        """``ip`` itself when a scanner may send to it; ``OutOfScopeError`` otherwise."""
        if ip not in self:
            raise OutOfScopeError(f"{ip} is outside the sweep's scope; nothing was sent to it")
        return ip

    def require_network(self, target: str) -> str:
        """A network target for nmap: it must lie inside one scope network (exclusions are
        passed to nmap with ``--exclude``, see :meth:`nmap_exclude`)."""
        try:
            net = ipaddress.ip_network(target, strict=False)
        except ValueError:
            raise OutOfScopeError(f"{target!r} is not a network") from None
        if not any(
            net.version == n.version and net.subnet_of(n)  # type: ignore[arg-type]
            for n in self.networks
        ):
            raise OutOfScopeError(f"{target} is not inside the sweep's scope; nothing was sent")
        return target

    def nmap_exclude(self) -> list[str]:
        """``--exclude`` arguments for nmap runs over networks (empty when none)."""
        return ["--exclude", ",".join(str(n) for n in self.excluded)] if self.excluded else []

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

    def parts(self) -> list[Scope]:
        """One scope per scope network, each with the exclusions that touch it (so several
        scopes can be discovered concurrently)."""
        out: list[Scope] = []
        for net in self.networks:
            part = Scope.__new__(Scope)
            part.networks = [net]
            part.excluded = [
                x for x in self.excluded if x.version == net.version and x.overlaps(net)
            ]
            out.append(part)
        return out


def sort_ips(ips: Iterable[str]) -> list[str]:
    """Addresses in numeric order, IPv4 before IPv6."""
    return sorted(ips, key=lambda s: (ipaddress.ip_address(s).version, ipaddress.ip_address(s)))
