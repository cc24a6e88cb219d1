"""Staged configurations for the lab's other network devices (the weak switch is in
``fakenos_device``): a hardened Cisco IOS XE switch and a half-hardened Huawei VRP switch.

Each text is what the device shows for its running configuration and version. No text here
may contain ``{`` or ``}``: fakenos formats ``{base_prompt}`` in every output.
"""

from __future__ import annotations

import ipaddress
import secrets


def _netmask(prefix_len: int) -> str:
    return str(ipaddress.IPv4Network(f"0.0.0.0/{prefix_len}").netmask)


def _fake_hash(prefix: str, length: int = 43) -> str:
    # Looks like a stored hash; derived from nothing, so it gives nothing away.
    return prefix + secrets.token_urlsafe(length)[:length]


def hardened_ios_config(
    *, hostname: str, username: str, address: str, prefix_len: int, gateway: str | None
) -> str:
    """A Cisco IOS XE access switch configured along CIS IOS 12 v4.0.0 §1-2 and the NDM STIG."""
    gateway_line = f"ip default-gateway {gateway}\n" if gateway else ""
    body = (
        "!\n"
        "version 17.12\n"
        "service timestamps debug datetime msec localtime show-timezone\n"
        "service timestamps log datetime msec localtime show-timezone\n"
        "service password-encryption\n"
        "no service pad\n"
        "!\n"
        f"hostname {hostname}\n"
        "!\n"
        f"enable secret 9 {_fake_hash('$9$')}\n"
        "!\n"
        "aaa new-model\n"
        "aaa authentication login default local\n"
        "aaa authentication enable default enable\n"
        "aaa authorization exec default local\n"
        "!\n"
        f"username {username} privilege 15 secret 9 {_fake_hash('$9$')}\n"
        "!\n"
        "ip domain name xa-thidiem.local\n"
        "ip ssh version 2\n"
        "ip ssh time-out 60\n"
        "ip ssh authentication-retries 3\n"
        "no ip http server\n"
        "no ip http secure-server\n"
        "!\n"
        "interface Vlan1\n"
        f" ip address {address} {_netmask(prefix_len)}\n"
        "!\n"
        f"{gateway_line}"
        "ip access-list standard QUAN-TRI\n"
        " 10 permit 10.77.0.0 0.0.0.255\n"
        "!\n"
        "logging trap informational\n"
        "logging host 10.77.0.10\n"
        "logging host 10.77.0.11\n"
        "!\n"
        "banner login ^C\n"
        "Thiet bi mang cua UBND xa. Chi can bo duoc phan cong moi duoc truy cap.\n"
        "Moi truy cap deu duoc ghi nhat ky.\n"
        "^C\n"
        "!\n"
        "line con 0\n"
        " exec-timeout 5 0\n"
        " logging synchronous\n"
        "line vty 0 4\n"
        " access-class QUAN-TRI in\n"
        " exec-timeout 5 0\n"
        " transport input ssh\n"
        "line vty 5 15\n"
        " access-class QUAN-TRI in\n"
        " exec-timeout 5 0\n"
        " transport input ssh\n"
        "!\n"
        "ntp server 10.77.0.1\n"
        "ntp server 10.77.0.10\n"
        "!\n"
        "end\n"
    )
    return f"Building configuration...\n\nCurrent configuration : {len(body)} bytes\n{body}"


def hardened_ios_version(*, hostname: str) -> str:
    """``show version`` of a Catalyst 9200L on IOS XE 17.12.4."""
    return (
        "Cisco IOS XE Software, Version 17.12.04\n"
        "Cisco IOS Software [Dublin], Catalyst L3 Switch Software (CAT9K_LITE_IOSXE), "
        "Version 17.12.4, RELEASE SOFTWARE (fc2)\n"
        "Technical Support: http://www.cisco.com/techsupport\n"
        "Copyright (c) 1986-2024 by Cisco Systems, Inc.\n"
        "\n"
        f"{hostname} uptime is 12 weeks, 2 days, 3 hours, 5 minutes\n"
        'System image file is "flash:packages.conf"\n'
        "\n"
        "cisco C9200L-24T-4G (ARM64) processor with 600000K/3071K bytes of memory.\n"
        "Processor board ID JAE12345ABC\n"
        "Model number                       : C9200L-24T-4G\n"
        "System serial number               : JAE12345ABC\n"
        "\n"
        "Configuration register is 0x102\n"
    )


def vrp_config(
    *, hostname: str, username: str, address: str, prefix_len: int, write_community: str
) -> str:
    """A Huawei S5720 half hardened: AAA, SSHv2, logging and a banner, but telnet, HTTP, a
    reversible super password and SNMP v2c communities (``public`` and a write one)."""
    return (
        "!Software Version V200R019C10SPC500\n"
        f"!Last configuration was updated at 2025-03-03 08:12:44+07:00 by {username}\n"
        "#\n"
        f"sysname {hostname}\n"
        "#\n"
        "info-center loghost 10.77.0.10\n"
        "#\n"
        "telnet server enable\n"
        "http server enable\n"
        "#\n"
        f"super password level 15 cipher %^%#{secrets.token_urlsafe(24)}%^%#\n"
        "#\n"
        "aaa\n"
        " authentication-scheme default\n"
        " authorization-scheme default\n"
        " accounting-scheme default\n"
        " domain default\n"
        " domain default_admin\n"
        f" local-user {username} password irreversible-cipher {_fake_hash('$1a$', 40)}$\n"
        f" local-user {username} privilege level 15\n"
        f" local-user {username} service-type telnet terminal ssh http\n"
        "#\n"
        "interface Vlanif1\n"
        f" ip address {address} {_netmask(prefix_len)}\n"
        "#\n"
        "snmp-agent\n"
        "snmp-agent local-engineid 800007DB03707BE8000034\n"
        "snmp-agent community read public\n"
        f"snmp-agent community write {write_community}\n"
        "snmp-agent sys-info version v2c\n"
        "#\n"
        "undo ssh server compatible-ssh1x enable\n"
        "stelnet server enable\n"
        f"ssh user {username} authentication-type password\n"
        f"ssh user {username} service-type all\n"
        "#\n"
        'header login information "Thiet bi mang UBND xa - truy cap trai phep bi nghiem cam"\n'
        "#\n"
        "user-interface con 0\n"
        " authentication-mode aaa\n"
        " idle-timeout 5 0\n"
        "user-interface vty 0 4\n"
        " authentication-mode aaa\n"
        " user privilege level 15\n"
        " protocol inbound all\n"
        " idle-timeout 5 0\n"
        "#\n"
        "return\n"
    )


def vrp_version(*, hostname: str) -> str:
    """``display version`` of a Huawei S5720 on V200R019C10SPC500."""
    return (
        "Huawei Versatile Routing Platform Software\n"
        "VRP (R) software, Version 5.170 (S5720 V200R019C10SPC500)\n"
        "Copyright (C) 2000-2020 HUAWEI TECH Co., Ltd.\n"
        f"HUAWEI S5720-28X-SI-AC Routing Switch uptime is 0 week, 12 days, 3 hours, 8 minutes\n"
        "\n"
        "ES5D2T28S000 0(Master) : uptime is 0 week, 12 days, 3 hours, 7 minutes\n"
        "DDR             Memory Size : 512   M bytes\n"
        "FLASH Total     Memory Size : 512   M bytes\n"
        f"# {hostname}\n"
    )
