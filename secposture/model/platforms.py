"""What each supported network-device platform needs: commands, privilege, how it says "no".

Names are netmiko ``device_type`` values. Two configuration dialects cover them: IOS-style
(Cisco IOS, Arista EOS) and VRP-style (Huawei VRP and HP/H3C Comware, which grew from it).
Pure data, no netmiko import, so the config loader can validate against it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Dialect(StrEnum):
    """The command-line dialect a device speaks (Cisco IOS-like or Huawei VRP-like)."""

    IOS = "ios"
    VRP = "vrp"


@dataclass(frozen=True, slots=True)
class Platform:
    """A supported device platform: vendor, dialect and the commands that read it."""

    name: str  # netmiko device_type
    vendor: str
    dialect: Dialect
    version_command: str
    config_command: str
    # IOS-style devices show the running-config only in privileged (enable) mode.
    needs_enable: bool


# Output that means the device did not understand the command. Any vendor's wording counts:
# a device listed under the wrong platform answers in its own.
REJECTIONS = (
    "% Invalid input detected",
    "% Unknown command",
    "% Incomplete command",
    "Error: Unrecognized command",
    "% Unrecognized command",
    "Error: Wrong parameter",
    "% Wrong parameter",
)

PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform("cisco_ios", "Cisco", Dialect.IOS, "show version", "show running-config", True),
        Platform("arista_eos", "Arista", Dialect.IOS, "show version", "show running-config", True),
        Platform("huawei_vrp", "Huawei", Dialect.VRP, "display version",
                 "display current-configuration", False),
        Platform("hp_comware", "HP/H3C", Dialect.VRP, "display version",
                 "display current-configuration", False),
    )
}  # fmt: skip


def supported() -> list[str]:
    """The platform names a ``[[devices]]`` entry may use."""
    return sorted(PLATFORMS)


def rejected(output: str) -> bool:
    """True when ``output`` is the device refusing a command rather than answering it."""
    head = output.lstrip()[:300]
    return any(marker in head for marker in REJECTIONS)
