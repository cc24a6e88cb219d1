"""Facts from a VRP-style configuration (Huawei VRP, HP/H3C Comware), from its redacted copy.

``display current-configuration`` shows only what differs from the defaults, and several
defaults (telnet server, SSHv1 compatibility, HTTP server) changed between releases; where the
configuration does not say, the fact is ``None`` and the check says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# What every dialect reads alike is called as common.*: the rest here is this dialect's own.
from scanners.devices import common
from scanners.devices.common import Block
from scanners.devices.redact import Redacted
from secposture.model.device_facts import DeviceFacts, Flag, ManagementLine, OsInfo

_LINE = re.compile(r"^(?:user-interface|line)\s+(class\s+)?(con|console|vty|aux|tty)\b\s*(.*)$")
_VRP_VERSION = re.compile(r"Version\s+\S+\s+\(([^()]*?)\s*(V\d{3}R\d{3}[A-Za-z0-9]*)\)")
_COMWARE_VERSION = re.compile(r"Comware Software,\s*Version\s+([0-9.]+(?:,\s*Release\s+\S+)?)")
_UPTIME_MODEL = re.compile(
    r"^(?:HUAWEI|H3C|HPE|HP)\s+(.+?)\s+(?:Routing Switch\s+)?uptime is", re.MULTILINE
)
_CONFIG_VERSION = re.compile(r"^(?:!Software Version|version)\s+(.+)$")


def _os(platform: str, version_text: str, lines: list[str]) -> OsInfo:
    vendor = "Huawei" if platform == "huawei_vrp" else "HP/H3C"
    model_match = _UPTIME_MODEL.search(version_text)
    model = model_match.group(1) if model_match else ""
    version: str | None = None
    if platform == "huawei_vrp":
        match = _VRP_VERSION.search(version_text)
        if match is not None:
            version = match.group(2)
            model = model or match.group(1)
    else:
        comware = _COMWARE_VERSION.search(version_text)
        version = comware.group(1) if comware else None
    if version is None:
        version = next((m.group(1).strip() for h in lines if (m := _CONFIG_VERSION.match(h))), None)
    uptime, serial = common.uptime_and_serial(version_text)
    return OsInfo(vendor=vendor, model=model, version=version, serial=serial, uptime=uptime)


def _line_blocks(parsed: list[Block]) -> list[tuple[Block, str]]:
    """Each console/VTY line block with its kind, its settings completed by the class-wide
    ones (Comware's ``line class vty``) that it does not set itself."""
    defaults: dict[str, list[str]] = {}
    lines: list[tuple[Block, str]] = []
    for block in parsed:
        match = _LINE.match(block.head)
        if match is None:
            continue
        kind = "con" if match.group(2) == "console" else match.group(2)
        if match.group(1):
            defaults[kind] = block.body
        else:
            lines.append((block, kind))
    out = []
    for block, kind in lines:
        own = {c.split()[0] for c in block.body if c.split()}
        inherited = [c for c in defaults.get(kind, []) if c.split() and c.split()[0] not in own]
        out.append((Block(block.head, [*block.body, *inherited]), kind))
    return out


def _management_lines(parsed: list[Block]) -> Iterator[ManagementLine]:
    for block, kind in _line_blocks(parsed):
        protocol = next(
            (c.split(None, 2)[2] for c in block.body if c.startswith("protocol inbound ")), ""
        )
        telnet: bool | None = None
        if protocol:
            telnet = protocol.split()[0] in {"telnet", "all"}
        elif kind != "vty":
            telnet = False
        idle = next((c for c in block.body if c.startswith("idle-timeout ")), None)
        yield ManagementLine(
            name=block.head,
            kind=kind,
            telnet=telnet,
            transport=protocol,
            exec_timeout_s=common.timeout_s(idle.split()[1:]) if idle else None,
        )


def _telnet(commands: set[str], lines: list[ManagementLine]) -> Flag:
    if "undo telnet server enable" in commands or "telnet server disable" in commands:
        return Flag(value=False, evidence="undo telnet server enable")
    vty = [m for m in lines if m.kind == "vty"]
    if vty and all(m.telnet is False for m in vty):
        return Flag(value=False, evidence="every VTY: protocol inbound ssh")
    accepting = [m for m in vty if m.telnet]
    server_on = "telnet server enable" in commands
    if server_on and accepting:
        where = "; ".join(f"{m.name}: protocol inbound {m.transport}" for m in accepting)
        return Flag(value=True, evidence=f"telnet server enable; {where}")
    if server_on:
        return Flag(
            value=None,
            evidence="telnet server enable, but the VTY lines set no 'protocol inbound' "
            "(its default differs between releases)",
        )
    return Flag(
        value=None,
        evidence="the configuration neither enables nor disables the telnet server "
        "(its default differs between releases; set 'undo telnet server enable')",
    )


def _aaa(parsed: list[Block]) -> Flag:
    """Whether every VTY line authenticates through AAA ("aaa" on VRP, "scheme" on Comware)."""
    modes: dict[str, str] = {}
    for block, kind in _line_blocks(parsed):
        if kind != "vty":
            continue
        modes[block.head] = next(
            (c.split()[1] for c in block.body if c.startswith("authentication-mode ")), ""
        )
    weak = {name: mode for name, mode in modes.items() if mode in {"password", "none"}}
    if weak:
        return Flag(
            value=False,
            evidence="; ".join(
                f"{name}: authentication-mode {mode}" for name, mode in weak.items()
            ),
        )
    unset = [name for name, mode in modes.items() if not mode]
    if unset or not modes:
        return Flag(
            value=None,
            evidence=(", ".join(unset) or "no VTY lines") + ": no 'authentication-mode' set",
        )
    return Flag(
        value=True,
        evidence="every VTY: authentication-mode " + ", ".join(sorted(set(modes.values()))),
    )


def parse_vrp(redacted: Redacted, platform: str, version_text: str) -> DeviceFacts:
    """Facts of a Huawei VRP or HP/H3C Comware device from its redacted configuration."""
    parsed = common.blocks(redacted.lines)
    heads = [b.head for b in parsed]
    commands = set(heads)
    complete = any(h == "return" for h in heads[-3:])
    lines = list(_management_lines(parsed))
    comware = platform == "hp_comware"
    ssh = common.found_flag(
        commands,
        "undo ssh server compatible-ssh1x enable",
        "ssh server compatible-ssh1x enable",
        complete,
        "SSHv1 compatibility is not set; its default differs between releases",
        default=None,
    )
    if ssh.value is None and "undo ssh server compatible-ssh1x" in commands:
        ssh = Flag(value=True, evidence="undo ssh server compatible-ssh1x")
    # found_flag reads "on" as the good state here: SSHv1 compatibility disabled.
    http = (
        common.found_flag(
            commands,
            "ip http enable",
            "undo ip http enable",
            complete,
            "HTTP server not set; its default differs between releases",
            default=None,
        )
        if comware
        else common.found_flag(
            commands,
            "http server enable",
            "undo http server enable",
            complete,
            "HTTP server not set; its default differs between releases",
            default=None,
        )
    )
    return DeviceFacts(
        platform=platform,
        dialect="vrp",
        hostname=next((h.split(None, 1)[1] for h in heads if h.startswith("sysname ")), None),
        os=_os(platform, version_text, [line.text.strip() for line in redacted.lines]),
        complete=complete,
        lines_read=len(redacted.lines),
        secrets=common.stored_secrets(redacted, _privilege),
        password_encryption=Flag(
            value=None,
            applicable=False,
            evidence="VRP and Comware have no 'service password-encryption'; each password "
            "line says how it is stored",
        ),
        management=tuple(lines),
        telnet=_telnet(commands, lines),
        ssh_v2_only=ssh,
        http_server=http,
        snmp_communities=common.communities(redacted, rw_words={"write"}),
        logging_hosts=common.addresses_after(heads, ("info-center loghost ",)),
        logging_disabled="undo info-center enable" in commands,
        ntp_servers=common.addresses_after(
            heads, ("ntp-service unicast-server ", "sntp unicast-server ")
        ),
        login_banner=common.banner_flag(heads, ("header login", "header motd"), complete),
        aaa=_aaa(parsed),
    )


def _privilege(text: str) -> int | None:
    match = re.search(r"\blevel\s+(\d+)", text)
    return int(match.group(1)) if match else None
