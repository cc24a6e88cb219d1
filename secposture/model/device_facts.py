"""What a network device's configuration says, as facts the checks read. Never a secret value.

A fact that the configuration does not settle is ``None`` with the reason in its evidence,
so that a check can say ``not_assessed`` instead of guessing a ``pass``.
"""

from __future__ import annotations

from enum import StrEnum

from secposture.model.records import Record

# Observation kinds of a device audit. device.config data is {"sha256", "text", …}: what drift
# detection and the report's configuration diff compare; device.facts data holds DeviceFacts.
FACTS_KIND = "device.facts"
CONFIG_KIND = "device.config"


class SecretForm(StrEnum):
    """How a configuration stores a secret."""

    PLAINTEXT = "plaintext"  # readable as is (IOS type 0, VRP/Comware "simple")
    REVERSIBLE = "reversible"  # encoded but decodable (IOS type 7, VRP/Comware "cipher")
    HASHED = "hashed"  # one-way (IOS type 5/8/9, sha512, "irreversible-cipher", "hash")


class Flag(Record):
    """A yes/no setting read from the configuration.

    ``value`` is None when the configuration does not settle it; ``applicable`` is False when
    the platform has no such setting (Arista EOS has no ``service password-encryption``).
    """

    value: bool | None
    evidence: str = ""
    applicable: bool = True


class StoredSecret(Record):
    """A credential the configuration holds (an enable password, a local user's password)."""

    kind: str  # "enable-password", "enable-secret", "super-password", "user-password", ...
    form: SecretForm
    owner: str = ""  # the user name for a local user; empty for device-wide secrets
    privilege: int | None = None


class ManagementLine(Record):
    """A way in for an administrator: console, VTY lines, an SSH server section."""

    name: str  # "vty 0 4", "con 0", "user-interface vty 0 4", "management ssh"
    kind: str  # "vty", "con", "aux", "tty", "ssh"
    telnet: bool | None  # accepts telnet (None: the configuration does not say)
    transport: str = ""  # the transport line as written ("telnet ssh", "all", ...)
    exec_timeout_s: int | None = None  # None: not set; 0: never times out


class SnmpCommunity(Record):
    """An SNMP v1/v2c community, named only when it is a well-known default."""

    access: str  # "ro", "rw"
    default_name: str | None = None  # "public", "private"... ; None: not a known default
    readable: bool = True  # False when the device stores it encrypted (cannot tell the name)


class OsInfo(Record):
    """What ``show version`` / ``display version`` says about the device and its software."""

    vendor: str = ""
    model: str = ""
    version: str | None = None
    image: str = ""
    serial: str = ""
    uptime: str = ""


class DeviceFacts(Record):
    """Everything the ``dev.*`` checks need from one device's configuration and version."""

    platform: str
    dialect: str
    hostname: str | None = None
    os: OsInfo = OsInfo()
    # The configuration ended the way the platform ends it ("end", "return"): only then does
    # the absence of a line mean the setting is absent.
    complete: bool = False
    lines_read: int = 0
    secrets: tuple[StoredSecret, ...] = ()
    password_encryption: Flag = Flag(value=None)
    management: tuple[ManagementLine, ...] = ()
    telnet: Flag = Flag(value=None)
    ssh_v2_only: Flag = Flag(value=None)
    http_server: Flag = Flag(value=None)
    snmp_communities: tuple[SnmpCommunity, ...] = ()
    logging_hosts: tuple[str, ...] = ()
    logging_disabled: bool = False
    ntp_servers: tuple[str, ...] = ()
    login_banner: Flag = Flag(value=None)
    aaa: Flag = Flag(value=None)

    def secrets_of(self, *kinds: str) -> list[StoredSecret]:
        """The stored secrets of the given kinds."""
        return [s for s in self.secrets if s.kind in kinds]
