"""The secposture test lab: a demo commune LAN made of Linux network namespaces.

Everything scanning the lab runs through ``scanner_exec`` / ``scanner_popen`` (inside the
lab's scanner namespace); the root namespace never gets a route or an address into the lab.

Where things are: ``topology`` (the lab as data), ``services`` (the one table of service
kinds and how each starts), ``build`` (``up``, ``add_host``), ``readiness`` (waiting until a
scan would see them), ``teardown`` (``down``, ``down_all``, crash orphans), ``state`` (the
state files), ``processes`` (``ip`` and process helpers), ``demo`` (the demo agency config),
``netns`` (the scanner-namespace guard), ``fakenos_device`` and ``device_configs`` (the fake
network devices).
"""

from secposture.lab.build import add_host, up
from secposture.lab.demo import demo_config_text, devices_config_text, lab_devices
from secposture.lab.netns import (
    NetnsGuardError,
    current_netns_inode,
    inside_netns,
    netns_inode,
    require_inside,
    scanner_exec,
    scanner_popen,
)
from secposture.lab.state import LabError, LabHostState, LabSecrets, LabState, load, status
from secposture.lab.teardown import down, down_all
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
