"""Facts from an IOS-style configuration (Cisco IOS, Arista EOS), read from its redacted copy.

Unknown lines are ignored. What the configuration leaves unsaid is ``None`` unless the
platform's default is known and the configuration is complete (it ended with ``end``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# What every dialect reads alike is called as common.*: the rest here is this dialect's own.
from scanners.devices import common
from scanners.devices.common import Block
from scanners.devices.redact import Redacted
from secposture.model.device_facts import DeviceFacts, Flag, ManagementLine, OsInfo

_LINE = re.compile(r"^line\s+(con|console|vty|aux|tty)\s*(.*)$")
_LOGGING_HOST = re.compile(
    r"^logging\s+(?:vrf\s+\S+\s+)?(?:host\s+)?(?:ipv6\s+)?([0-9A-Fa-f:.]+|[A-Za-z][\w.-]*)"
)
_LOGGING_NOT_HOST = {
    "on",
    "buffered",
    "console",
    "monitor",
    "trap",
    "facility",
    "source-interface",
    "history",
    "rate-limit",
    "origin-id",
    "event",
    "userinfo",
    "queue-limit",
    "discriminator",
    "persistent",
    "count",
    "exception",
    "level",
    "format",
    "synchronous",
    "file",
    "timestamp",
    "host",
    "relay",
    "esm",
    "filter",
    "message-counter",
    "snmp-trap",
    "cns-events",
    "reload",
    "delimiter",
    "hidekeys",
    "server-arp",
    "buginf",
    "dmvpn",
    "alarm",
    "policy-firewall",
    "ipv6",
    "vrf",
}
_IOS_VERSION = re.compile(
    r"(?:IOS|IOS-XE|IOS XE)[^\n]*?Version\s+([0-9][0-9A-Za-z.()]*[0-9A-Za-z)])"
)
_IOS_IMAGE = re.compile(r"Software \(([A-Za-z0-9_-]+)\)")
_IOS_MODEL = re.compile(r"^[Cc]isco\s+(\S+)\s+\([^)]*\)\s+processor", re.MULTILINE)
_MODEL_NUMBER = re.compile(r"^Model number\s*:\s*(\S+)", re.MULTILINE)
_EOS_VERSION = re.compile(r"Software image version:\s*(\S+)")
_EOS_MODEL = re.compile(r"^Arista\s+(\S+)", re.MULTILINE)
_CONFIG_VERSION = re.compile(r"^version\s+(\S+)")


def _os(platform: str, version_text: str) -> OsInfo:
    uptime, serial = common.uptime_and_serial(version_text)
    if platform == "arista_eos":
        version = _EOS_VERSION.search(version_text)
        model = _EOS_MODEL.search(version_text)
        return OsInfo(
            vendor="Arista",
            model=model.group(1) if model else "",
            version=version.group(1) if version else None,
            serial=serial,
            uptime=uptime,
        )
    version = _IOS_VERSION.search(version_text)
    image = _IOS_IMAGE.search(version_text)
    model = _MODEL_NUMBER.search(version_text) or _IOS_MODEL.search(version_text)
    return OsInfo(
        vendor="Cisco",
        model=model.group(1) if model else "",
        version=version.group(1) if version else None,
        image=image.group(1) if image else "",
        serial=serial,
        uptime=uptime,
    )


def _management_lines(parsed: list[Block], eos: bool) -> Iterator[ManagementLine]:
    for block in parsed:
        head = block.head
        match = _LINE.match(head)
        if match is not None:
            kind = "con" if match.group(1) == "console" else match.group(1)
            transport = next(
                (c.split(None, 2)[2] for c in block.body if c.startswith("transport input ")), ""
            )
            telnet: bool | None = None
            if transport:
                words = set(transport.split())
                telnet = bool(words & {"telnet", "all"})
            elif kind != "vty":
                telnet = False  # console, aux and tty lines are not reached over the network
            yield ManagementLine(
                name=head.removeprefix("line ").strip(),
                kind=kind,
                telnet=telnet,
                transport=transport,
                exec_timeout_s=_exec_timeout(block.body),
            )
        elif eos and head in {"management ssh", "management console", "management telnet"}:
            kind = head.split()[1].replace("console", "con")
            idle = next((c for c in block.body if c.startswith("idle-timeout ")), None)
            minutes = idle.split()[1] if idle else None
            seconds = int(minutes) * 60 if minutes and minutes.isdigit() else None
            yield ManagementLine(
                name=head,
                kind="vty" if kind == "telnet" else kind,
                telnet=(kind == "telnet" and "no shutdown" in block.body) or False,
                exec_timeout_s=seconds,
            )


def _exec_timeout(body: list[str]) -> int | None:
    for line in body:
        if line == "no exec-timeout":
            return 0
        if line.startswith("exec-timeout "):
            return common.timeout_s(line.split()[1:])
    return None


def _telnet(lines: list[ManagementLine], complete: bool, eos: bool) -> Flag:
    if eos:
        on = [m.name for m in lines if m.name == "management telnet" and m.telnet]
        if on:
            return Flag(value=True, evidence="management telnet: no shutdown")
        return common.absent(complete, False, "management telnet is not enabled (EOS default: off)")
    vty = [m for m in lines if m.kind == "vty"]
    accepting = [m for m in vty if m.telnet]
    if accepting:
        return Flag(
            value=True,
            evidence="; ".join(f"line {m.name}: transport input {m.transport}" for m in accepting),
        )
    unset = [m for m in vty if m.telnet is None]
    if unset:
        names = ", ".join(f"line {m.name}" for m in unset)
        return Flag(
            value=None,
            evidence=f"{names} set no 'transport input'; whether telnet is accepted then "
            "depends on the IOS release (set 'transport input ssh')",
        )
    if not vty:
        return common.absent(complete, False, "no VTY lines configured")
    return Flag(
        value=False,
        evidence="every VTY line: transport input " + ", ".join(sorted({m.transport for m in vty})),
    )


def parse_ios(redacted: Redacted, platform: str, version_text: str) -> DeviceFacts:
    """Facts of an IOS-style device from its redacted running-config and ``show version``."""
    eos = platform == "arista_eos"
    parsed = common.blocks(redacted.lines)
    heads = [b.head for b in parsed]
    commands = set(heads)
    complete = any(h == "end" for h in heads[-3:])
    lines = list(_management_lines(parsed, eos))
    if eos and complete and not any(m.name == "management ssh" for m in lines):
        # SSH is on by default in EOS and then has no block of its own (idle-timeout 0).
        lines.append(ManagementLine(name="management ssh", kind="ssh", telnet=False))
    hostname = next((h.split(None, 1)[1] for h in heads if h.startswith("hostname ")), None)
    os_info = _os(platform, version_text)
    if os_info.version is None and not eos:
        version = next((m.group(1) for h in heads if (m := _CONFIG_VERSION.match(h))), None)
        os_info = os_info.model_copy(update={"version": version})

    if eos:
        password_encryption = Flag(
            value=None, applicable=False, evidence="EOS has no 'service password-encryption'"
        )
        ssh = Flag(value=True, evidence="Arista EOS speaks SSH version 2 only")
        aaa = Flag(value=None, applicable=False, evidence="EOS always authenticates through AAA")
        http = _eos_http(parsed, complete)
    else:
        password_encryption = common.found_flag(
            commands,
            "service password-encryption",
            "no service password-encryption",
            complete,
            "no 'service password-encryption' (IOS default: off)",
            default=False,
        )
        ssh = _ios_ssh(commands, complete)
        aaa = common.found_flag(
            commands,
            "aaa new-model",
            "no aaa new-model",
            complete,
            "no 'aaa new-model' (IOS default: AAA off)",
            default=False,
        )
        http = common.found_flag(
            commands,
            "ip http server",
            "no ip http server",
            complete,
            "neither 'ip http server' nor 'no ip http server': the default depends on the release",
            default=None,
        )

    logging_hosts = tuple(
        m.group(1)
        for h in heads
        if (m := _LOGGING_HOST.match(h)) and m.group(1) not in _LOGGING_NOT_HOST
    )
    return DeviceFacts(
        platform=platform,
        dialect="ios",
        hostname=hostname,
        os=os_info,
        complete=complete,
        lines_read=len(redacted.lines),
        secrets=common.stored_secrets(redacted, _privilege),
        password_encryption=password_encryption,
        management=tuple(lines),
        telnet=_telnet(lines, complete, eos),
        ssh_v2_only=ssh,
        http_server=http,
        snmp_communities=common.communities(redacted, rw_words={"rw"}),
        logging_hosts=logging_hosts,
        logging_disabled="no logging on" in commands,
        ntp_servers=common.addresses_after(heads, ("ntp server ", "sntp server ")),
        login_banner=common.banner_flag(heads, ("banner login", "banner motd"), complete),
        aaa=aaa,
    )


def _privilege(text: str) -> int | None:
    match = re.search(r"\bprivilege\s+(\d+)", text)
    return int(match.group(1)) if match else None


def _ios_ssh(commands: set[str], complete: bool) -> Flag:
    if "ip ssh version 2" in commands:
        return Flag(value=True, evidence="ip ssh version 2")
    if "ip ssh version 1" in commands:
        return Flag(value=False, evidence="ip ssh version 1")
    return common.absent(
        complete, False, "no 'ip ssh version 2': IOS then also accepts SSH version 1 (1.99)"
    )


def _eos_http(parsed: list[Block], complete: bool) -> Flag:
    for block in parsed:
        if block.head in {"management api http-commands", "management http-server"}:
            body = set(block.body)
            enabled = "no shutdown" in body or block.head == "management http-server"
            if enabled and "protocol http" in body:
                return Flag(value=True, evidence=f"{block.head}: protocol http")
    return common.absent(complete, False, "no cleartext HTTP management API (protocol http)")
