"""The secposture test lab: a demo commune LAN made of Linux network namespaces.

Everything scanning the lab runs through ``scanner_exec`` / ``scanner_popen`` (inside the
lab's scanner namespace); the root namespace never gets a route or an address into the lab.
"""

from secposture.lab.lab import (
    LabError,
    LabHostState,
    LabSecrets,
    LabState,
    add_host,
    demo_config_text,
    devices_config_text,
    down,
    down_all,
    lab_devices,
    load,
    status,
    up,
)
from secposture.lab.netns import (
    NetnsGuardError,
    current_netns_inode,
    inside_netns,
    netns_inode,
    require_inside,
    scanner_exec,
    scanner_popen,
)
from secposture.lab.topology import (
    DEFAULT_TOPOLOGY,
    DEMO_COMMUNE,
    DEVICE_AUDIT,
    LabHost,
    Topology,
)

__all__ = [
    "DEFAULT_TOPOLOGY",
    "DEMO_COMMUNE",
    "DEVICE_AUDIT",
    "LabError",
    "LabHost",
    "LabHostState",
    "LabSecrets",
    "LabState",
    "NetnsGuardError",
    "Topology",
    "add_host",
    "current_netns_inode",
    "demo_config_text",
    "devices_config_text",
    "down",
    "down_all",
    "inside_netns",
    "lab_devices",
    "load",
    "netns_inode",
    "require_inside",
    "scanner_exec",
    "scanner_popen",
    "status",
    "up",
]
