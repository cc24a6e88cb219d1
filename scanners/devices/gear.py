"""Whether a host the sweep found looks like a switch or router, so that one left out of
``[[devices]]`` is reported (not assessed: no credentials) instead of silently skipped.

A hint, not a verdict: a maker of network gear (by MAC vendor) with a management port open, or
a service banner or SNMP description that names a network operating system.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from secposture.model.i18n import said
from secposture.model.records import Host, Observation

# Makers whose MAC prefixes are mostly switches, routers and firewalls. Makers of everything
# (HP printers and laptops, Huawei phones) need a management port open as well, below.
NETWORK_VENDORS = re.compile(
    r"cisco|huawei|h3c|juniper|arista|routerboard|mikrotik|ubiquiti|fortinet|ruijie|zte|"
    r"tp-link|d-link|zyxel|netgear|aruba|extreme|allied telesis|brocade|ruckus|draytek",
    re.IGNORECASE,
)
NETWORK_OS = re.compile(
    r"cisco (?:ios|ssh|telnet)|\bios\b.*software|huawei|\bvrp\b|comware|h3c|arista|\beos\b|junos|"
    r"routeros|mikrotik|fortigate|fortios|procurve|edgeos|ruijie|\bzte\b|zxr10",
    re.IGNORECASE,
)
MANAGEMENT_PORTS = {22, 23}


def network_gear_hint(host: Host, observations: Iterable[Observation]) -> str | None:
    """Why ``host`` looks like network gear, or None when it does not."""
    # The scanner's own guess of the device type (issue #3), where it made one.
    guessed = getattr(host, "device_type", None)
    if guessed in {"router", "switch"}:
        why = getattr(host, "device_type_reason", "") or "the sweep's device-type guess"
        return said("classified as a {kind} ({why})", kind=guessed, why=why)
    open_tcp = {s.port for s in host.open_services("tcp")}
    for service in host.open_services():
        banner = " ".join(p for p in (service.product, service.version, service.extrainfo) if p)
        if banner and NETWORK_OS.search(banner):
            return said("{port} answers as {banner}", port=service.key, banner=banner)
    for obs in observations:
        descr = str(obs.data.get("sysdescr", "")) if obs.kind.startswith("snmp.") else ""
        if descr and NETWORK_OS.search(descr):
            return said("SNMP sysDescr: {descr}", descr=descr[:120])
    management = sorted(open_tcp & MANAGEMENT_PORTS)
    if host.vendor and NETWORK_VENDORS.search(host.vendor) and management:
        ports = ", ".join(f"{p}/tcp" for p in management)
        return said(
            "made by {vendor}, management port {ports} open", vendor=host.vendor, ports=ports
        )
    return None
