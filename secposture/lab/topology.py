"""The lab as data: which hosts a demo commune LAN has, their addresses and their services."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

DEMO_SUBNET = "10.77.0.0/24"

# Service names understood by secposture.lab.services (kept here so topologies stay data).
SSHD_HARDENED = "sshd-hardened"
FTP_ANONYMOUS = "ftp-anonymous"
TELNET = "telnet"
HTTP_ADMIN = "http-admin"
SNMP_PUBLIC = "snmp-public"
JETDIRECT = "jetdirect"
FAKENOS_IOS = "fakenos-ios"
# The device-audit lab (issue #4): a hardened IOS switch, a Huawei VRP switch, and an IOS
# switch whose password is not the one the lab hands to configs (its login must fail).
FAKENOS_IOS_HARDENED = "fakenos-ios-hardened"
FAKENOS_VRP = "fakenos-vrp"
FAKENOS_IOS_LOCKED = "fakenos-ios-locked"
# The netmiko platform each fake device speaks.
DEVICE_PLATFORMS = {
    FAKENOS_IOS: "cisco_ios",
    FAKENOS_IOS_HARDENED: "cisco_ios",
    FAKENOS_VRP: "huawei_vrp",
    FAKENOS_IOS_LOCKED: "cisco_ios",
}

_HOST_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


class TopologyError(ValueError):
    """A topology that the lab cannot build (duplicate address, address outside its subnet...)."""


@dataclass(frozen=True)
class LabHost:
    """One machine of the lab: its own namespace, one interface on ``subnet``, some services.

    ``subnet`` names the segment the host sits on; today only the scanner's segment is built,
    and a host on another subnet will need a router namespace between the two bridges.
    ``mac`` pins the interface's address so that vendor lookup (OUI) gives a stable answer.
    """

    name: str
    role: str
    ip: str
    services: tuple[str, ...] = ()
    subnet: str = DEMO_SUBNET
    mac: str | None = None

    def validate(self) -> None:
        """Raise ``TopologyError`` when the host cannot be built as described."""
        if not _HOST_NAME_RE.match(self.name):
            raise TopologyError(f"host name {self.name!r} must be lower-case letters, digits, '-'")
        try:
            address = ipaddress.IPv4Address(self.ip)
            network = ipaddress.IPv4Network(self.subnet)
        except ValueError as exc:
            raise TopologyError(f"host {self.name!r}: {exc}") from exc
        edges = (network.network_address, network.broadcast_address)
        if address not in network or address in edges:
            raise TopologyError(f"host {self.name!r}: {self.ip} is not a host of {self.subnet}")
        if self.mac is not None and not _MAC_RE.match(self.mac):
            raise TopologyError(f"host {self.name!r}: MAC {self.mac!r} is not lower-case aa:bb:...")
        if len(set(self.services)) != len(self.services):
            raise TopologyError(f"host {self.name!r} lists a service twice")

    @property
    def prefix_len(self) -> int:
        """Prefix length of the host's subnet (24 for a /24)."""
        return ipaddress.IPv4Network(self.subnet).prefixlen


@dataclass(frozen=True)
class Topology:
    """A lab: one scanner on ``subnet`` and the hosts around it."""

    name: str
    subnet: str
    scanner_ip: str
    hosts: tuple[LabHost, ...]
    scanner_mac: str | None = None
    # Addresses the demo configuration leaves out of the sweep (the gateway, the scanner).
    excluded: tuple[str, ...] = field(default=())

    def validate(self) -> None:
        """Raise ``TopologyError`` unless every host can be built on this lab's one segment."""
        scanner = LabHost(
            name="scanner",
            role="scanner",
            ip=self.scanner_ip,
            subnet=self.subnet,
            mac=self.scanner_mac,
        )
        scanner.validate()
        names: set[str] = set()
        addresses = {self.scanner_ip}
        for host in self.hosts:
            host.validate()
            if host.subnet != self.subnet:
                raise TopologyError(
                    f"host {host.name!r} is on {host.subnet}; only the scanner's segment "
                    f"{self.subnet} is built so far (a second subnet needs a router namespace)"
                )
            if host.name in names:
                raise TopologyError(f"host name {host.name!r} is used twice")
            if host.ip in addresses:
                raise TopologyError(f"address {host.ip} is used twice")
            names.add(host.name)
            addresses.add(host.ip)

    def host(self, name: str) -> LabHost:
        """The host called ``name``."""
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)


DEMO_COMMUNE = Topology(
    name="demo-commune",
    subnet=DEMO_SUBNET,
    scanner_ip="10.77.0.2",
    scanner_mac="02:53:50:00:00:02",
    excluded=("10.77.0.1", "10.77.0.2"),
    # MAC prefixes are real vendors' (TP-Link, Dell, Synology, MikroTik, HP, Cisco) so that
    # OUI lookup names them as it would in a commune office.
    hosts=(
        # The commune's internet gateway: present on the segment, deliberately not swept.
        LabHost("gw", "gateway", "10.77.0.1", (), mac="50:c7:bf:00:00:01"),
        LabHost("ssh-hardened", "server", "10.77.0.10", (SSHD_HARDENED,), mac="f8:bc:12:00:00:0a"),
        LabHost(
            "fileserver", "fileserver", "10.77.0.20", (FTP_ANONYMOUS,), mac="00:11:32:00:00:14"
        ),
        LabHost(
            "old-router", "router", "10.77.0.30", (TELNET, HTTP_ADMIN), mac="e4:8d:8c:00:00:1e"
        ),
        LabHost(
            "printer", "printer", "10.77.0.40", (SNMP_PUBLIC, JETDIRECT), mac="3c:d9:2b:00:00:28"
        ),
        LabHost("core-switch", "switch", "10.77.0.50", (FAKENOS_IOS,), mac="00:1b:54:00:00:32"),
    ),
)

DEFAULT_TOPOLOGY = DEMO_COMMUNE

# The demo commune plus the network devices of the configuration audit. Kept apart from the
# default lab, whose host list other tests pin; built with ``up(topology=DEVICE_AUDIT)``.
DEVICE_HOSTS = (
    LabHost(
        "dist-switch", "switch", "10.77.0.51", (FAKENOS_IOS_HARDENED,), mac="00:1b:54:00:00:33"
    ),
    LabHost("huawei-switch", "switch", "10.77.0.52", (FAKENOS_VRP,), mac="70:7b:e8:00:00:34"),
    LabHost(
        "access-switch", "switch", "10.77.0.53", (FAKENOS_IOS_LOCKED,), mac="00:1b:54:00:00:35"
    ),
    # A router whose SSH is closed: listed in the config, it must come out "unreachable".
    LabHost("branch-router", "router", "10.77.0.54", (), mac="00:1b:54:00:00:36"),
)
DEVICE_AUDIT = Topology(
    name="device-audit",
    subnet=DEMO_SUBNET,
    scanner_ip=DEMO_COMMUNE.scanner_ip,
    scanner_mac=DEMO_COMMUNE.scanner_mac,
    excluded=DEMO_COMMUNE.excluded,
    hosts=(*DEMO_COMMUNE.hosts, *DEVICE_HOSTS),
)

__all__ = [
    "DEFAULT_TOPOLOGY",
    "DEMO_COMMUNE",
    "DEMO_SUBNET",
    "DEVICE_AUDIT",
    "DEVICE_HOSTS",
    "DEVICE_PLATFORMS",
    "FAKENOS_IOS",
    "FAKENOS_IOS_HARDENED",
    "FAKENOS_IOS_LOCKED",
    "FAKENOS_VRP",
    "FTP_ANONYMOUS",
    "HTTP_ADMIN",
    "JETDIRECT",
    "SNMP_PUBLIC",
    "SSHD_HARDENED",
    "TELNET",
    "LabHost",
    "Topology",
    "TopologyError",
]
