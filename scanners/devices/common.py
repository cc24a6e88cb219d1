"""Reading helpers shared by the dialect parsers: blocks, settings, secrets, communities."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from scanners.devices.redact import Redacted
from scanners.devices.structure import Line, Role
from secposture.model.device_facts import Flag, SecretForm, SnmpCommunity, StoredSecret

INCOMPLETE = "the configuration did not end as the platform ends it, so its absence proves nothing"
_ADDRESS = re.compile(
    r"^(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+|"
    r"[A-Za-z][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)+)$"
)
_ADDRESS_SKIP = {"ip", "ipv6", "ipv4", "host"}
_ADDRESS_SKIP_PAIR = {"vrf", "vpn-instance", "source", "source-interface", "-i", "-a"}


@dataclass(slots=True)
class Block:
    """A top-level command and the indented lines under it (stripped)."""

    head: str
    body: list[str] = field(default_factory=list)


def blocks(lines: Sequence[Line]) -> list[Block]:
    """Top-level commands with their bodies; separators, blanks and banner text left out."""
    out: list[Block] = []
    current: Block | None = None
    for line in lines:
        if line.role is Role.BANNER_TEXT:
            continue
        stripped = line.text.strip()
        if not stripped:
            continue
        if line.role is Role.BANNER_OPEN:
            out.append(Block(stripped))
            current = None
        elif stripped[0] in "!#":
            if not line.indented:
                current = None
        elif line.indented and line.block is not None and current is not None:
            current.body.append(stripped)
        else:
            current = Block(stripped)
            out.append(current)
    return out


def absent(complete: bool, value: bool | None, evidence: str) -> Flag:
    """A setting the configuration does not mention: the platform default, if it is whole."""
    if not complete:
        return Flag(value=None, evidence=f"{evidence}; {INCOMPLETE}")
    return Flag(value=value, evidence=evidence)


def found_flag(
    commands: set[str], on: str, off: str, complete: bool, missing: str, *, default: bool | None
) -> Flag:
    """True when ``on`` is configured, False for ``off``, else what ``absent`` says."""
    if on in commands:
        return Flag(value=True, evidence=on)
    if off in commands:
        return Flag(value=False, evidence=off)
    return absent(complete, default, missing)


def stored_secrets(
    redacted: Redacted, privilege: Callable[[str], int | None]
) -> tuple[StoredSecret, ...]:
    """Every credential the redaction found, with its form, owner and (for users) privilege."""
    out: list[StoredSecret] = []
    for found in redacted.found:
        if found.kind == "snmp-community" or found.form is None:
            continue
        text = redacted.lines[found.line].text if found.line < len(redacted.lines) else ""
        out.append(
            StoredSecret(
                kind=found.kind,
                form=found.form,
                owner=found.owner,
                privilege=privilege(text) if found.kind.startswith("user-") else None,
            )
        )
    return tuple(out)


def communities(redacted: Redacted, *, rw_words: set[str]) -> tuple[SnmpCommunity, ...]:
    """SNMP communities that grant access (not the ones a device sends its traps with)."""
    out: list[SnmpCommunity] = []
    for found in redacted.found:
        if found.kind != "snmp-community":
            continue
        text = redacted.lines[found.line].text.strip() if found.line < len(redacted.lines) else ""
        words = text.lower().split()
        if words[:2] in (["snmp-server", "host"], ["snmp-agent", "target-host"]):
            continue
        out.append(
            SnmpCommunity(
                access="rw" if rw_words & set(words) else "ro",
                default_name=found.default_name,
                readable=found.form is SecretForm.PLAINTEXT,
            )
        )
    return tuple(out)


def first_address(tokens: Sequence[str]) -> str | None:
    """The first address or host name among a command's arguments, options skipped."""
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.lower() in _ADDRESS_SKIP:
            i += 1
        elif token.lower() in _ADDRESS_SKIP_PAIR:
            i += 2
        else:
            return token if _ADDRESS.match(token) else None
    return None


_UPTIME = re.compile(r"^\S.*? uptime is (.+)$", re.MULTILINE)
_SERIAL = re.compile(
    r"^(?:System serial number|Serial number|DEVICE_SERIAL_NUMBER)\s*:\s*(\S+)"
    r"|^Processor board ID\s+(\S+)",
    re.MULTILINE | re.IGNORECASE,
)


def uptime_and_serial(version_text: str) -> tuple[str, str]:
    """The uptime sentence and the chassis serial number a version listing gives, if any."""
    uptime = _UPTIME.search(version_text)
    serial = _SERIAL.search(version_text)
    return (
        uptime.group(1).strip()[:120] if uptime else "",
        next((g for g in serial.groups() if g), "") if serial else "",
    )


def banner_flag(heads: Sequence[str], prefixes: tuple[str, ...], complete: bool) -> Flag:
    """Whether a warning banner is shown before login (``banner login``, ``header login``…)."""
    found = sorted({" ".join(h.split()[:2]) for h in heads if h.startswith(prefixes)})
    if found:
        return Flag(value=True, evidence=", ".join(found))
    return absent(complete, False, "no " + " or ".join(f"'{p}'" for p in prefixes))


def addresses_after(heads: Sequence[str], prefixes: tuple[str, ...]) -> tuple[str, ...]:
    """The address each command starting with one of ``prefixes`` (two words) points at."""
    return tuple(
        addr
        for h in heads
        if h.startswith(prefixes) and (addr := first_address(h.split()[2:])) is not None
    )


def timeout_s(tokens: Sequence[str]) -> int | None:
    """``M [S]`` (minutes, seconds) as seconds; None when it is not two small numbers."""
    if not tokens or not tokens[0].isdigit() or len(tokens[0]) > 6:
        return None
    seconds = tokens[1] if len(tokens) > 1 and tokens[1].isdigit() and len(tokens[1]) <= 6 else "0"
    return int(tokens[0]) * 60 + int(seconds)
