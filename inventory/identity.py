"""Which stored device a host seen in a sweep is: by MAC where one is known, else by IP.

A MAC is the device (runZero and Lansweeper key non-Windows assets the same way); an IP is
only where it was. A host seen without a MAC (across a router, or without root) is matched to
the device last seen at that IP, so a change of discovery method does not invent a new device.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from secposture.model.device_facts import CONFIG_KIND
from secposture.model.records import Host, Observation, Service


@dataclass(frozen=True, slots=True)
class Known:
    """What the inventory last knew of one device: the baseline a new sweep is compared with."""

    key: str
    ip: str
    mac: str | None = None
    present: bool = True  # seen by the latest sweep
    # "port/proto" → description, from the last completed port scan; None: never scanned
    services: Mapping[str, str] | None = None
    config_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """A host of the sweep and the device it is; ``former`` is an IP key it replaces."""

    key: str
    host: Host
    former: str | None = None
    services: dict[str, str] | None = None  # service_map(host), computed once per sweep


def describe(service: Service) -> str:
    """A service as one comparable line, as nmap prints it ("ssl/http nginx 1.24")."""
    name = f"ssl/{service.name}" if service.tunnel == "ssl" and service.name else service.name
    return " ".join(p for p in (name, service.product, service.version) if p)


def service_map(host: Host) -> dict[str, str] | None:
    """Open services of a host by "port/proto"; None when its port scan did not complete."""
    if not host.ports_scanned:
        return None
    return {s.key: describe(s) for s in host.open_services()}


def config_hashes(observations: Iterable[Observation]) -> dict[str, str]:
    """The configuration hash the config audit recorded for each device IP."""
    return {
        o.ip: str(o.data["sha256"])
        for o in observations
        if o.kind == CONFIG_KIND and o.data.get("sha256")
    }


class Identity:
    """Resolves the hosts of one sweep to device keys against what the store knows."""

    def __init__(self, known: Iterable[Known]) -> None:
        self.known = {k.key: k for k in known}
        # The MAC device last seen at each IP; present devices win over missing ones.
        self._mac_at: dict[str, str] = {}
        for k in sorted(self.known.values(), key=lambda k: k.present):
            if k.mac:
                self._mac_at[k.ip] = k.key

    def resolve(self, hosts: Iterable[Host]) -> list[Match]:
        """One match per host. A MAC answering for several IPs (proxy ARP, a router's
        secondary addresses) is the device only at its first IP; the others are keyed by IP."""
        claimed: set[str] = set()
        out: list[Match] = []
        for host in hosts:
            key, former = self._one(host)
            if key in claimed:
                key, former = f"ip:{host.ip}", None
            claimed.add(key)
            out.append(Match(key, host, former, service_map(host)))
        return out

    def _one(self, host: Host) -> tuple[str, str | None]:
        by_ip = f"ip:{host.ip}"
        if host.mac:
            key = f"mac:{host.mac.lower()}"
            if key not in self.known and by_ip in self.known:
                return key, by_ip  # an IP-keyed device now seen with its MAC
            return key, None
        if by_ip in self.known:
            return by_ip, None
        return self._mac_at.get(host.ip, by_ip), None
