"""One device's configuration as the inventory keeps it: redacted text, its hash, its facts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from scanners.devices.ios import parse_ios
from scanners.devices.redact import redact
from scanners.devices.vrp import parse_vrp
from secposture.model.device_facts import CONFIG_KIND, FACTS_KIND, DeviceFacts
from secposture.model.platforms import PLATFORMS, Dialect
from secposture.model.records import Observation

# A stored copy larger than this is cut (real configurations are far smaller); its hash is
# still taken over the whole redacted text, so drift is seen either way.
MAX_STORED_CHARS = 1_000_000
TRUNCATION_NOTE = "\n<truncated: the stored copy keeps the first {kept} of {total} characters>\n"


@dataclass(frozen=True, slots=True)
class DeviceReading:
    """One device's configuration as kept: its facts and its redacted text, with counts."""

    facts: DeviceFacts
    text: str  # the redacted configuration as stored (maybe truncated)
    sha256: str  # of the whole redacted configuration
    chars: int  # length of the whole redacted configuration
    truncated: bool
    credentials_caught: int  # session credentials found outside the redaction rules


def read_device(
    platform: str, config_text: str, version_text: str = "", known: Iterable[str] = ()
) -> DeviceReading:
    """Redact ``config_text`` and read its facts; ``known`` are the session's own secrets.

    Never raises for odd text: unknown lines are ignored and what cannot be told is None.
    ``platform`` must be one of ``secposture.model.platforms.PLATFORMS``.
    """
    dialect = PLATFORMS[platform].dialect
    redacted = redact(config_text, dialect, known)
    if dialect is Dialect.IOS:
        facts = parse_ios(redacted, platform, version_text)
    else:
        facts = parse_vrp(redacted, platform, version_text)
    text = redacted.text
    digest = hashlib.sha256(text.encode("utf-8", errors="replace")).hexdigest()
    stored = text
    if len(text) > MAX_STORED_CHARS:
        stored = text[:MAX_STORED_CHARS] + TRUNCATION_NOTE.format(
            kept=MAX_STORED_CHARS, total=len(text)
        )
    return DeviceReading(
        facts=facts,
        text=stored,
        sha256=digest,
        chars=len(text),
        truncated=stored is not text,
        credentials_caught=redacted.known_replaced,
    )


def device_observations(
    reading: DeviceReading, *, ip: str, port: int, name: str
) -> list[Observation]:
    """The typed observations one device reading gives: its facts and its stored config."""
    facts = reading.facts
    named = {"name": name, "hostname": facts.hostname or "", "platform": facts.platform}
    summary = {  # what the report shows beside the audit results
        "model": facts.os.model,
        "version": facts.os.version or "",
        "serial": facts.os.serial,
        "uptime": facts.os.uptime,
    }
    stored = {
        "sha256": reading.sha256,
        "chars": reading.chars,
        "truncated": reading.truncated,
        "text": reading.text,
    }
    return [
        Observation(
            kind=kind,
            ip=ip,
            port=port,
            proto="tcp",
            source=f"netmiko:{facts.platform}",
            data={**named, **data},
        )
        for kind, data in (
            (FACTS_KIND, {**summary, "facts": facts.model_dump(mode="json")}),
            (CONFIG_KIND, stored),
        )
    ]
