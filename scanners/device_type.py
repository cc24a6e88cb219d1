"""What kind of device a host is, from what the sweep saw, with the reason for the guess.

Evidence is weighed from the most specific to the least: the device describing itself (SNMP
sysDescr), nmap's OS fingerprint class, then the MAC vendor together with the open ports, then
the ports alone. The first rule that fires wins and its reason is stored beside the type, so
a wrong guess can be traced to the evidence that misled it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from secposture.model.i18n import said
from secposture.model.records import Host, Observation


class DeviceType(StrEnum):
    """The kinds of device a host is sorted into (``unknown`` when no rule fired)."""

    ROUTER = "router"
    SWITCH = "switch"
    PRINTER = "printer"
    CAMERA = "camera"
    SERVER = "server"
    WORKSTATION = "workstation"
    UNKNOWN = "unknown"


# Self-descriptions (SNMP sysDescr) → type. Order matters: a Cisco switch also says "IOS".
SYSDESCR_RULES: tuple[tuple[re.Pattern[str], DeviceType], ...] = (
    (re.compile(r"printer|laserjet|officejet|deskjet|jetdirect|imagerunner|bizhub|workcentre|"
                r"ecosys|mfp", re.I), DeviceType.PRINTER),
    (re.compile(r"camera|ipcam|network video|nvr|dvr|hikvision|dahua", re.I), DeviceType.CAMERA),
    (re.compile(r"switch|catalyst|c2960|c3560|c3750|c9[23]00|procurve|ex[234]\d{3}|"
                r"\bsg\d{3}|tl-sg|crs\d{3}", re.I), DeviceType.SWITCH),
    (re.compile(r"routeros|router|\bisr\d*|edgeos|draytek|fortigate|pfsense|openwrt|"
                r"ios software|ios-xe|junos", re.I), DeviceType.ROUTER),
    (re.compile(r"windows.*server|server.*windows", re.I), DeviceType.SERVER),
    (re.compile(r"windows", re.I), DeviceType.WORKSTATION),
    (re.compile(r"linux|freebsd|sunos|vmware esxi", re.I), DeviceType.SERVER),
)  # fmt: skip

# nmap OS class types (nmap-os-db "Class" lines) → type.
OS_CLASS_TYPES: dict[str, DeviceType] = {
    "router": DeviceType.ROUTER,
    "broadband router": DeviceType.ROUTER,
    "firewall": DeviceType.ROUTER,
    "wap": DeviceType.ROUTER,
    "switch": DeviceType.SWITCH,
    "printer": DeviceType.PRINTER,
    "print server": DeviceType.PRINTER,
    "webcam": DeviceType.CAMERA,
    "security-misc": DeviceType.CAMERA,
    "storage-misc": DeviceType.SERVER,
}

CAMERA_VENDORS = re.compile(r"hikvision|dahua|axis communications|uniview|vivotek|hanwha", re.I)
PRINTER_VENDORS = re.compile(r"brother|canon|epson|kyocera|lexmark|ricoh|xerox|konica|sharp", re.I)
NETWORK_VENDORS = re.compile(
    r"cisco|routerboard|mikrotik|tp-link|ubiquiti|juniper|aruba|d-link|zyxel|netgear|"
    r"huawei|h3c|ruckus|fortinet|draytek|hewlett packard enterprise",
    re.I,
)
WORKSTATION_VENDORS = re.compile(r"intel corporate|microsoft|apple|lenovo|asustek|micro-star", re.I)

PRINTER_PORTS = {9100: "raw printing", 515: "LPD", 631: "IPP"}
CAMERA_PORTS = {554: "RTSP", 37777: "Dahua DVR", 8000: "Hikvision SDK"}
WINDOWS_PORTS = {135, 139, 445}
SERVER_PORTS = {
    21: "FTP", 25: "SMTP", 53: "DNS", 88: "Kerberos", 110: "POP3", 143: "IMAP", 389: "LDAP",
    443: "HTTPS", 1433: "MSSQL", 3306: "MySQL", 5432: "PostgreSQL", 6379: "Redis",
    27017: "MongoDB", 2049: "NFS",
}  # fmt: skip
MANAGEMENT_PORTS = {22, 23, 80, 443, 161, 8080, 8291, 8443}


def _first(
    rules: Iterable[tuple[re.Pattern[str], DeviceType]], text: str
) -> tuple[str, DeviceType]:
    for pattern, kind in rules:
        match = pattern.search(text)
        if match:
            return match.group(0), kind
    return "", DeviceType.UNKNOWN


def _open_named(tcp: set[int], names: dict[int, str]) -> str:
    """'515 (LPD), 9100 (raw printing)': the ports of ``names`` open in ``tcp``; '' if none."""
    return ", ".join(f"{p} ({names[p]})" for p in sorted(tcp & names.keys()))


def guess_device_type(host: Host, observations: Iterable[Observation]) -> tuple[DeviceType, str]:
    """The device type and a one-line reason (English; the evidence is quoted as seen)."""
    obs = [o for o in observations if o.ip == host.ip]
    tcp = {s.port for s in host.open_services("tcp")}
    vendor = host.vendor or ""

    for o in obs:
        descr = str(o.data.get("sysdescr") or "") if o.kind == "snmp.sysdescr" else ""
        word, kind = _first(SYSDESCR_RULES, descr)
        if kind is not DeviceType.UNKNOWN:
            return kind, said("SNMP sysDescr mentions '{word}'", word=word)

    for o in obs:
        if o.kind != "os.match" or int(o.data.get("accuracy") or 0) < 85:
            continue
        for cls in o.data.get("classes") or []:
            os_kind = OS_CLASS_TYPES.get(str(cls.get("type", "")).lower())
            if os_kind is not None:
                return os_kind, said(
                    "nmap OS match '{name}' is a {kind}",
                    name=o.data.get("name"),
                    kind=cls.get("type"),
                )

    printing = _open_named(tcp, PRINTER_PORTS)
    if printing:
        return DeviceType.PRINTER, said("printing port open: TCP {ports}", ports=printing)
    if CAMERA_VENDORS.search(vendor):
        return DeviceType.CAMERA, said("MAC vendor {vendor}", vendor=vendor)
    video = _open_named(tcp, CAMERA_PORTS)
    if video:
        return DeviceType.CAMERA, said("video port open: TCP {ports}", ports=video)
    if PRINTER_VENDORS.search(vendor):
        return DeviceType.PRINTER, said("MAC vendor {vendor}", vendor=vendor)

    serving = sorted(p for p in tcp if p in SERVER_PORTS)
    if NETWORK_VENDORS.search(vendor) and not serving:
        if tcp & {23, 80, 8080, 8291}:
            return DeviceType.ROUTER, said(
                "MAC vendor {vendor} with a web or telnet management interface", vendor=vendor
            )
        return DeviceType.SWITCH, said(
            "MAC vendor {vendor} with management ports only", vendor=vendor
        )

    if tcp & WINDOWS_PORTS:
        if serving:
            names = ", ".join(SERVER_PORTS[p] for p in serving)
            return DeviceType.SERVER, said(
                "Windows file sharing with server ports ({names})", names=names
            )
        return DeviceType.WORKSTATION, "Windows file sharing / RPC ports without server ports"
    if serving:
        ports = _open_named(tcp, SERVER_PORTS)
        return DeviceType.SERVER, said("server ports open: TCP {ports}", ports=ports)
    if 22 in tcp and not tcp - MANAGEMENT_PORTS:
        return DeviceType.SERVER, "SSH only"
    if WORKSTATION_VENDORS.search(vendor):
        return DeviceType.WORKSTATION, said("MAC vendor {vendor}, no server ports", vendor=vendor)
    if not tcp:
        return DeviceType.UNKNOWN, "no open TCP port and no self-description"
    return DeviceType.UNKNOWN, "open ports fit no known device profile"
