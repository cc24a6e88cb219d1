"""Fake network devices served over real SSH by fakenos: by default the Cisco IOS switch with
a deliberately weak configuration; ``--profile hardened`` a hardened Cisco IOS XE switch;
``--profile vrp`` a half-hardened Huawei VRP switch (see ``device_configs``).

Run inside the host's namespace by the lab (``ip netns exec NS python -m
secposture.lab.fakenos_device --address ADDR ...``). The login password and the enable
secret are read from files (mode 0600) so that they never appear on a command line.

fakenos replaces a whole platform when a plugin with a known platform name is registered, so
the YAML written here is a complete platform: the prompts and commands netmiko's driver
needs, plus the staged running configuration and version.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

from secposture.lab.device_configs import (
    hardened_ios_config,
    hardened_ios_version,
    vrp_config,
    vrp_version,
)

INITIAL_PROMPT = "{base_prompt}>"
ENABLE_PROMPT = "{base_prompt}#"
BOTH_PROMPTS = [INITIAL_PROMPT, ENABLE_PROMPT]
INVALID_INPUT = "% Invalid input detected at '^' marker."
# A pre-authentication banner like an agency's; fakenos's default would name fakenos itself.
LOGIN_BANNER = "UBND xa Thi Diem - thiet bi mang noi bo. Truy cap trai phep bi nghiem cam."
# What an IOS 15 SSH server announces; nmap -sV then says "Cisco SSH 1.25" as on real gear.
SSH_SOFTWARE_VERSION = "Cisco-1.25"
# What Huawei VRP announces.
VRP_SSH_SOFTWARE_VERSION = "HUAWEI-1.5"
VRP_PROMPT = "<{base_prompt}>"
VRP_UNKNOWN = "Error: Unrecognized command found at '^' position."
PROFILES = ("weak", "hardened", "vrp")


def running_config(
    *,
    hostname: str,
    username: str,
    user_password: str,
    enable_password: str,
    address: str,
    prefix_len: int,
    gateway: str | None,
) -> str:
    """The weak running-config the switch serves (plaintext secrets, telnet, HTTP, public SNMP)."""
    netmask = ipaddress.IPv4Network(f"0.0.0.0/{prefix_len}").netmask
    gateway_line = f"ip default-gateway {gateway}\n" if gateway else ""
    access_ports = "".join(
        f"interface FastEthernet0/{port}\n switchport access vlan 10\n switchport mode access\n"
        " spanning-tree portfast\n!\n"
        for port in range(1, 9)
    )
    body = (
        "!\n"
        f"! Last configuration change at 08:12:44 ICT Mon Mar 3 2025 by {username}\n"
        "!\n"
        "version 15.0\n"
        "no service pad\n"
        "service timestamps debug datetime msec\n"
        "service timestamps log datetime msec\n"
        "no service password-encryption\n"
        "!\n"
        f"hostname {hostname}\n"
        "!\n"
        "boot-start-marker\n"
        "boot-end-marker\n"
        "!\n"
        f"enable password {enable_password}\n"
        "!\n"
        f"username {username} privilege 15 password 0 {user_password}\n"
        "no aaa new-model\n"
        "clock timezone ICT 7 0\n"
        "system mtu routing 1500\n"
        "!\n"
        "ip domain-name xa-thidiem.local\n"
        "!\n"
        "spanning-tree mode pvst\n"
        "spanning-tree extend system-id\n"
        "!\n"
        "vlan internal allocation policy ascending\n"
        "!\n"
        "vlan 10\n"
        " name VAN-PHONG\n"
        "!\n"
        f"{access_ports}"
        "interface GigabitEthernet0/1\n"
        " description UPLINK-HUYEN\n"
        " switchport mode trunk\n"
        "!\n"
        "interface GigabitEthernet0/2\n"
        " shutdown\n"
        "!\n"
        "interface Vlan1\n"
        f" ip address {address} {netmask}\n"
        "!\n"
        f"{gateway_line}"
        "ip http server\n"
        "no ip http secure-server\n"
        "!\n"
        "snmp-server community public RO\n"
        "!\n"
        "line con 0\n"
        "line vty 0 4\n"
        " login local\n"
        " transport input telnet ssh\n"
        "line vty 5 15\n"
        " login local\n"
        " transport input telnet ssh\n"
        "!\n"
        "end\n"
    )
    return f"Building configuration...\n\nCurrent configuration : {len(body)} bytes\n{body}"


def show_version(*, hostname: str) -> str:
    """``show version`` of an old Catalyst 2960 on IOS 15.0(2)SE11 (end of support)."""
    return (
        "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 15.0(2)SE11, "
        "RELEASE SOFTWARE (fc3)\n"
        "Technical Support: http://www.cisco.com/techsupport\n"
        "Copyright (c) 1986-2017 by Cisco Systems, Inc.\n"
        "Compiled Sat 19-Aug-17 09:34 by prod_rel_team\n"
        "\n"
        "ROM: Bootstrap program is C2960 boot loader\n"
        "BOOTLDR: C2960 Boot Loader (C2960-HBOOT-M) Version 12.2(53r)SEY3, RELEASE SOFTWARE (fc1)\n"
        "\n"
        f"{hostname} uptime is 2 years, 14 weeks, 3 days, 4 hours, 12 minutes\n"
        "System returned to ROM by power-on\n"
        "System restarted at 07:58:12 ICT Tue Nov 23 2021\n"
        'System image file is "flash:/c2960-lanbasek9-mz.150-2.SE11.bin"\n'
        "\n"
        "cisco WS-C2960-24TT-L (PowerPC405) processor (revision B0) with 65536K bytes of memory.\n"
        "Processor board ID FOC1234X5YZ\n"
        "Last reset from power-on\n"
        "1 Virtual Ethernet interface\n"
        "24 FastEthernet interfaces\n"
        "2 Gigabit Ethernet interfaces\n"
        "The password-recovery mechanism is enabled.\n"
        "\n"
        "64K bytes of flash-simulated non-volatile configuration memory.\n"
        "Base ethernet MAC Address       : 00:1B:54:00:00:32\n"
        "Motherboard assembly number     : 73-10390-03\n"
        "Power supply part number        : 341-0097-02\n"
        "Motherboard serial number       : FOC12345ABC\n"
        "Power supply serial number      : AZS1234567Z\n"
        "Model revision number           : B0\n"
        "Motherboard revision number     : B0\n"
        "Model number                    : WS-C2960-24TT-L\n"
        "System serial number            : FOC1234X5YZ\n"
        "Top Assembly Part Number        : 800-27221-02\n"
        "Top Assembly Revision Number    : A0\n"
        "Version ID                      : V02\n"
        "CLEI Code Number                : COM3L00BRA\n"
        "Hardware Board Revision Number  : 0x01\n"
        "\n"
        "\n"
        "Switch Ports Model              SW Version            SW Image\n"
        "------ ----- -----              ----------            ----------\n"
        "*    1 26    WS-C2960-24TT-L    15.0(2)SE11           C2960-LANBASEK9-M\n"
        "\n"
        "\n"
        "Configuration register is 0xF\n"
    )


def show_ip_interface_brief(*, address: str) -> str:
    """``show ip interface brief`` consistent with the running-config above."""
    rows = [
        f"FastEthernet0/{port:<14}unassigned      YES unset  up                    up"
        for port in range(1, 9)
    ]
    return "\n".join(
        [
            "Interface              IP-Address      OK? Method Status                Protocol",
            f"Vlan1                  {address:<15} YES NVRAM  up                    up",
            *rows,
            "GigabitEthernet0/1     unassigned      YES unset  up                    up",
            "GigabitEthernet0/2     unassigned      YES unset  administratively down down",
        ]
    )


def _command(output: str | None, help_text: str, prompt: object) -> dict[str, Any]:
    return {"output": output, "help": help_text, "prompt": prompt}


def _ios_platform(config: str, version: str, more: dict[str, Any]) -> dict[str, Any]:
    """A ``cisco_ios`` fakenos platform serving ``config`` and ``version``, plus ``more``."""
    # fakenos formats "{base_prompt}" in prompts and outputs; braces in the texts are none.
    commands: dict[str, Any] = {
        "enable": {
            **_command(None, "Turn on privileged commands", INITIAL_PROMPT),
            "new_prompt": ENABLE_PROMPT,
        },
        "terminal length 0": _command("", "Set number of lines on a screen", BOTH_PROMPTS),
        "terminal width 511": _command("", "Set width of the display terminal", BOTH_PROMPTS),
        "show running-config": _command(config, "Current operating configuration", ENABLE_PROMPT),
        "show version": _command(version, "System hardware and software status", BOTH_PROMPTS),
        **more,
        "_default_": _command(INVALID_INPUT, "Output to print for unknown commands", BOTH_PROMPTS),
    }
    return {"name": "cisco_ios", "initial_prompt": INITIAL_PROMPT, "commands": commands}


def platform_plugin(*, config: str, hostname: str, address: str) -> dict[str, Any]:
    """The weak switch's ``cisco_ios`` fakenos platform (as a dict ready for YAML)."""
    return _ios_platform(
        config,
        show_version(hostname=hostname),
        {
            "disable": {
                **_command(None, "Turn off privileged commands", ENABLE_PROMPT),
                "new_prompt": INITIAL_PROMPT,
            },
            # An alias entry must carry no output of its own: fakenos merges it over the target.
            "show run": {
                "alias": "show running-config",
                "help": "Current operating configuration",
                "prompt": ENABLE_PROMPT,
            },
            "show ip interface brief": _command(
                show_ip_interface_brief(address=address), "Brief summary of IP status", BOTH_PROMPTS
            ),
        },
    )


def hardened_plugin(*, config: str, hostname: str) -> dict[str, Any]:
    """The ``cisco_ios`` platform of the hardened switch (IOS XE 17.12 on a Catalyst 9200L)."""
    return _ios_platform(config, hardened_ios_version(hostname=hostname), {})


def vrp_plugin(*, config: str, hostname: str) -> dict[str, Any]:
    """The ``huawei_vrp`` platform of the Huawei switch (prompt ``<name>``, no enable mode)."""
    commands: dict[str, Any] = {
        "screen-length 0 temporary": _command(
            "Info: The configuration takes effect on the current user terminal interface only.",
            "Set the number of lines displayed on a screen",
            VRP_PROMPT,
        ),
        "display version": _command(
            vrp_version(hostname=hostname), "Display the software version", VRP_PROMPT
        ),
        "display current-configuration": _command(
            config, "Display the running configuration", VRP_PROMPT
        ),
        "_default_": _command(VRP_UNKNOWN, "Output to print for unknown commands", VRP_PROMPT),
    }
    return {"name": "huawei_vrp", "initial_prompt": VRP_PROMPT, "commands": commands}


def _read_secret(path: str) -> str:
    value = Path(path).read_text(encoding="utf-8").strip()
    if not value:
        raise SystemExit(f"secret file {path} is empty")
    return value


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m secposture.lab.fakenos_device",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--address", required=True, help="lab address to bind")
    parser.add_argument("--port", type=int, default=22)
    parser.add_argument("--hostname", required=True, help="device hostname and prompt")
    parser.add_argument("--prefix-len", type=int, default=24)
    parser.add_argument("--gateway", default=None)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password-file", required=True, help="login password (0600 file)")
    parser.add_argument("--enable-secret-file", required=True, help="enable password (0600 file)")
    parser.add_argument("--workdir", required=True, help="where the platform YAML is written")
    parser.add_argument("--profile", choices=PROFILES, default="weak", help="which device")
    parser.add_argument(
        "--snmp-community-file", default=None, help="the vrp profile's write community (0600)"
    )
    return parser.parse_args(argv)


class _Identity(TypedDict):
    """What every staged configuration is built from: the device's name, user and address."""

    hostname: str
    username: str
    address: str
    prefix_len: int


def _plugin(args: argparse.Namespace, password: str) -> dict[str, Any]:
    device = _Identity(
        hostname=args.hostname,
        username=args.username,
        address=args.address,
        prefix_len=args.prefix_len,
    )
    if args.profile == "hardened":
        config = hardened_ios_config(**device, gateway=args.gateway)
        return hardened_plugin(config=config, hostname=args.hostname)
    if args.profile == "vrp":
        if not args.snmp_community_file:
            raise SystemExit("--profile vrp needs --snmp-community-file")
        community = _read_secret(args.snmp_community_file)
        return vrp_plugin(
            config=vrp_config(**device, write_community=community), hostname=args.hostname
        )
    config = running_config(
        **device,
        user_password=password,
        enable_password=_read_secret(args.enable_secret_file),
        gateway=args.gateway,
    )
    return platform_plugin(config=config, hostname=args.hostname, address=args.address)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the device until SIGTERM or SIGINT."""
    args = _parse_args(argv)
    # Imported here: the pure functions above must stay importable without the lab extra.
    import paramiko
    import yaml
    from fakenos import FakeNOS

    password = _read_secret(args.password_file)
    plugin = _plugin(args, password)
    platform = str(plugin["name"])
    workdir = Path(args.workdir)
    workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    plugin_file = workdir / f"{platform}.yaml"
    # The YAML carries the staged secrets: create it 0600 before writing a byte.
    fd = os.open(plugin_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        yaml.safe_dump(plugin, handle, sort_keys=False, allow_unicode=True, width=1000)

    inventory = {
        "hosts": {
            args.hostname: {
                "username": args.username,
                "password": password,
                "port": args.port,
                "platform": platform,
                "server": {
                    "plugin": "ParamikoSshServer",
                    "configuration": {
                        "address": args.address,
                        "ssh_banner": LOGIN_BANNER,
                        "timeout": 1,
                    },
                },
                "shell": {"plugin": "CMDShell", "configuration": {"intro": ""}},
            }
        }
    }
    # paramiko builds its version string from this class attribute at Transport creation.
    paramiko.Transport._CLIENT_ID = (
        VRP_SSH_SOFTWARE_VERSION if platform == "huawei_vrp" else SSH_SOFTWARE_VERSION
    )

    stop = threading.Event()

    def _on_signal(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    net = FakeNOS(inventory=inventory, plugins=[str(plugin_file)])
    net.start()
    print(f"fakenos {platform} {args.hostname} listening on {args.address}:{args.port}", flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        net.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
