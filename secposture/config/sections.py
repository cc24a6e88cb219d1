"""The agency configuration's TOML sections as pydantic models, one class per ``[section]``.

Reading the file and turning validation errors into one-line messages is
:mod:`secposture.config.loading`'s work.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)


class Level(StrEnum):
    """Where the agency stands in the administration.

    Since 1/7/2025 local government has two tiers: the province (with its departments: sở,
    ban, ngành) and the commune level, which is a commune (xã), a ward (phường) or a special
    zone (đặc khu) (admin-units.md). ``district`` (huyện) is kept so that configs and bundles
    made before the reform still read; the collector refuses it for new units unless its
    config says the province still uses it.
    """

    PROVINCE = "province"
    DEPARTMENT = "department"
    DISTRICT = "district"
    COMMUNE = "commune"
    WARD = "ward"
    SPECIAL_ZONE = "special_zone"

    @property
    def tier(self) -> Level:
        """The level a framework's weights name for this one: a ward or a special zone is a
        commune-level unit, weighed as a commune."""
        return Level.COMMUNE if self in COMMUNE_LEVEL else self


COMMUNE_LEVEL = frozenset({Level.COMMUNE, Level.WARD, Level.SPECIAL_ZONE})


AGENCY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgencySection(_Section):
    """``[agency]``: who the agency is and where it stands in the hierarchy."""

    id: str
    name: Annotated[str, Field(min_length=1)]
    level: Level
    parent: str | None = None

    @field_validator("id", "parent")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        if value is not None and not AGENCY_ID.match(value):
            raise ValueError(
                "must be lower-case letters, digits and '-' (2-63 chars), e.g. 'tn-xa-mau'"
            )
        return value


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(value: str) -> Network:
    try:
        return ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not an IP network or address") from exc


class Profile(StrEnum):
    """How thoroughly a sweep scans: quick, standard or deep."""

    QUICK = "quick"
    STANDARD = "standard"
    DEEP = "deep"


class ScanSection(_Section):
    """``[scan]``: what may be scanned, how thoroughly, and how long each part may take."""

    scopes: Annotated[list[str], Field(min_length=1)]
    exclude: list[str] = Field(default_factory=list)
    profile: Profile = Profile.STANDARD
    # Public addresses are refused unless the agency says so: scanning someone else's
    # network from a government LAN is an incident, not a finding.
    allow_public: bool = False
    # When set, the sweep refuses to send a packet unless it runs inside this network
    # namespace (the test lab sets it; real agencies leave it out).
    netns: str | None = None
    host_timeout_s: Annotated[int, Field(gt=0, le=3600)] = 300
    sweep_timeout_s: Annotated[int, Field(gt=0, le=86400)] = 4 * 3600
    concurrency: Annotated[int, Field(ge=1, le=64)] = 8

    @field_validator("scopes", "exclude")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        return [str(_network(v)) for v in values]

    @model_validator(mode="after")
    def _public_scopes(self) -> ScanSection:
        for scope in self.scopes:
            net = _network(scope)
            if not self.allow_public and not (net.is_private or net.is_loopback):
                raise ValueError(
                    f"scopes: '{scope}' is a public network; set scan.allow_public = true "
                    "only if the agency owns it"
                )
        return self

    def networks(self) -> list[Network]:
        """The scopes as networks."""
        return [_network(s) for s in self.scopes]

    def excluded(self) -> list[Network]:
        """The excluded addresses and networks as networks."""
        return [_network(s) for s in self.exclude]


class StoreSection(_Section):
    """``[store]``: where the inventory lives and how long it remembers."""

    path: Path
    stale_after_days: Annotated[int, Field(ge=1)] = 30
    keep_sweeps: Annotated[int, Field(ge=1)] = 20


MAC = re.compile(r"^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$")


class ApprovedAsset(_Section):
    """One device approved on the agency's LAN, by MAC or IP, with its owner and purpose."""

    mac: str | None = None
    ip: str | None = None
    owner: Annotated[str, Field(min_length=1)]
    purpose: Annotated[str, Field(min_length=1)]
    name: str = ""

    @field_validator("mac")
    @classmethod
    def _mac(cls, value: str | None) -> str | None:
        if value is None:
            return None
        mac = value.strip().lower()
        if not MAC.match(mac):
            raise ValueError(f"'{value}' is not a MAC address (e.g. '00:1a:2b:3c:4d:5e')")
        return mac.replace("-", ":")

    @field_validator("ip")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise ValueError(f"'{value}' is not an IP address") from None

    @model_validator(mode="after")
    def _identified(self) -> ApprovedAsset:
        if self.mac is None and self.ip is None:
            raise ValueError("mac: an approved device needs a mac or an ip")
        return self

    @property
    def label(self) -> str:
        """The name to show: the given name, else the MAC, else the IP."""
        return self.name or self.mac or self.ip or "?"


class AssetsSection(_Section):
    """The approved asset register: a device not on it raises ``asset.unknown_device``."""

    # An approved device unseen for this many days raises ``asset.missing_approved``.
    missing_after_days: Annotated[int, Field(ge=1)] = 14
    approved: list[ApprovedAsset] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> AssetsSection:
        seen: set[str] = set()
        for ident in (i for e in self.approved for i in (e.mac, e.ip) if i is not None):
            if ident in seen:
                raise ValueError(f"approved: {ident} is listed twice")
            seen.add(ident)
        return self


class Lang(StrEnum):
    """A language the report is written in."""

    VI = "vi"
    EN = "en"


class ReportSection(_Section):
    """``[report]``: the folder the report is written to and its language."""

    dir: Path
    lang: Lang = Lang.VI


SECRET_REF = re.compile(r"^(file|env):.+$")
# A bundle larger than this is refused by the exporter and by the collector alike.
DEFAULT_BUNDLE_MAX_BYTES = 16 * 1024 * 1024


class BundleSection(_Section):
    """Signed result bundles for the provincial collector (secposture.bundle)."""

    # The agency's Ed25519 private key, by reference only: "file:PATH" or "env:NAME".
    key: str
    collector_url: str | None = None
    # CA certificate file that signs the collector's TLS certificate, when it is a private CA.
    collector_ca: Path | None = None
    # Bundles wait here until the collector accepts them (default: <store folder>/outbox).
    outbox: Path | None = None
    # Raw device configurations stay at the agency unless it opts in.
    include_device_configs: bool = False
    max_bytes: Annotated[int, Field(ge=64 * 1024, le=256 * 1024 * 1024)] = DEFAULT_BUNDLE_MAX_BYTES
    # Issue #17: the public half of the collector's receipt key ("ed25519:…", printed by
    # `secposture collector receipt-key init`): a bundle counts as delivered only on a
    # receipt it signed.
    collector_key: str | None = None
    # http:// sends the findings in clear: refused unless the config says so.
    allow_cleartext: bool = False

    @field_validator("key")
    @classmethod
    def _reference(cls, value: str) -> str:
        if not SECRET_REF.match(value):
            raise ValueError("must be a reference, 'file:PATH' or 'env:NAME', never the key itself")
        return value

    @field_validator("collector_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must start with https:// (or http:// on a trusted link)")
        return value

    @field_validator("collector_key")
    @classmethod
    def _collector_key(cls, value: str | None) -> str | None:
        # The form `secposture collector receipt-key init` prints: 32 bytes of key in base64.
        if value is not None and not re.fullmatch(r"ed25519:[A-Za-z0-9+/]{43}=", value):
            raise ValueError("must be the 'ed25519:…' line the collector printed")
        return value

    @model_validator(mode="after")
    def _cleartext(self) -> BundleSection:
        if (
            self.collector_url
            and self.collector_url.startswith("http://")
            and not (self.allow_cleartext)
        ):
            raise ValueError(
                "collector_url: http:// sends the findings in clear; use https:// "
                "(or set allow_cleartext = true for a link the province trusts)"
            )
        return self


class DeviceSection(_Section):
    """A switch or router whose configuration is read over SSH (``[[devices]]``).

    Credentials by reference only: ``password = "env:NAME"`` or ``"file:PATH"`` (a file only
    its owner can read); a literal password is refused when the config is loaded.
    """

    address: str
    platform: str  # netmiko device_type: cisco_ios, arista_eos, huawei_vrp, hp_comware
    username: Annotated[str, Field(min_length=1)]
    password: str
    secret: str | None = None  # the enable secret, where the platform has one
    name: str = ""
    port: Annotated[int, Field(ge=1, le=65535)] = 22
    # Connect, SSH banner and login each get this long; a command's answer gets read_timeout_s
    # (a large configuration on a slow switch takes a while).
    timeout_s: Annotated[int, Field(ge=1, le=300)] = 15
    read_timeout_s: Annotated[int, Field(ge=5, le=1800)] = 120

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise ValueError(f"'{value}' is not an IP address") from None

    @field_validator("platform")
    @classmethod
    def _platform(cls, value: str) -> str:
        from secposture.model.platforms import supported

        if value not in supported():
            raise ValueError(f"'{value}' is not supported; use one of {', '.join(supported())}")
        return value

    @field_validator("password", "secret")
    @classmethod
    def _reference(cls, value: str | None) -> str | None:
        from secposture.config.secrets import check_reference

        return None if value is None else check_reference(value)

    @property
    def username_is_reference(self) -> bool:
        """True when the username is itself a ``file:``/``env:`` reference."""
        from secposture.config.secrets import is_reference

        return is_reference(self.username)


# Day names only: cron counts 0 as Sunday but APScheduler's day_of_week (and its from_crontab)
# counts 0 as Monday, so a number here would sweep on the wrong day without anyone noticing.
_DAY = r"(mon|tue|wed|thu|fri|sat|sun)"
_DAY_NAMES = re.compile(rf"^(\*|{_DAY}(-{_DAY})?(,{_DAY}(-{_DAY})?)*)$")


class ScheduleSection(_Section):
    """When ``secposture agent run`` sweeps: a cron-style time in the agency's time zone.

    The sweep starts at a random moment in [day hour:minute, + jitter_minutes) so that a
    province's agents do not all start at once. Fields take APScheduler cron expressions."""

    day_of_week: str = "sun"
    hour: str = "1"
    minute: str = "0"
    second: str = "0"
    jitter_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 180
    timezone: str = "Asia/Ho_Chi_Minh"
    # A run missed while the machine was off still happens if the agent is back within this
    # time (APScheduler's default is one second, which silently drops a late weekly sweep).
    # 72 h covers an office machine switched off from Friday evening to Monday morning.
    misfire_grace_hours: Annotated[float, Field(gt=0, le=167)] = 72

    @field_validator("hour", "minute", "second", mode="before")
    @classmethod
    def _number_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("day_of_week")
    @classmethod
    def _day_names(cls, value: str) -> str:
        value = value.strip().lower()
        if not _DAY_NAMES.match(value):
            raise ValueError(
                "use day names mon..sun, ranges or lists (e.g. 'sun', 'sat,sun') or '*'; "
                "numbers are refused because cron's 0 is Sunday and APScheduler's 0 is Monday"
            )
        return value

    @field_validator("hour", "minute", "second")
    @classmethod
    def _cron_field(cls, value: str, info: ValidationInfo) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger(**{str(info.field_name): value}, timezone="UTC")
        except ValueError as exc:
            raise ValueError(
                f"'{value}' is not a cron expression for {info.field_name}: {exc}"
            ) from None
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"'{value}' is not a known time zone (e.g. 'Asia/Ho_Chi_Minh')"
            ) from None
        return value


class AssessmentSection(_Section):
    """What the scores are measured with: declared answers, accepted risks, framework files.

    Every file is optional. Without a questionnaire the self-assessment checks are
    not_assessed; without waivers nothing is waived; without ``frameworks_dir`` the shipped
    frameworks apply. A ``*.toml`` file in ``frameworks_dir`` replaces the shipped framework
    with the same id (a province's own indicator set), or adds a new one.
    """

    selfassessment: Path | None = None
    waivers: Path | None = None
    frameworks_dir: Path | None = None
    # The agency's confirmations of unverified device lifecycle entries ([[confirm]] tables,
    # see secposture.checks.lifecycle.Confirmation): without one such an entry is not judged.
    lifecycle_confirmations: Path | None = None
    # Security level (cấp độ 1-5) of the agency's information system: it decides which
    # TCVN 14423:2025 clauses vn-baseline and vn-qcvn12 apply (levels 1-2 → 4.x, levels
    # 3-5 → 5.x, as cited by QCVN 12:2026/BCA). The default 2 is an assumption, not a fact
    # about the agency: a commune LAN whose internal systems handle personal data is typically
    # level 2 (Decree 85/2016 Arts. 8-9, frameworks.md §2.1; may be superseded by Decree
    # 331/2026, §8.3); set the level the agency's dossier approved.
    system_level: Annotated[int, Field(ge=1, le=5)] = 2
    # QCVN 12:2026/BCA §1.1 limits that regulation to information systems that store
    # electronic documents in Party and State agencies: only an agency that says its system
    # does is scored against it (vn-qcvn12). Every agency gets the general baseline.
    stores_electronic_documents: bool = False


class AgencyConfig(_Section):
    """One agency's whole configuration file, validated."""

    agency: AgencySection
    scan: ScanSection
    store: StoreSection
    report: ReportSection
    assessment: AssessmentSection = Field(default_factory=AssessmentSection)
    assets: AssetsSection | None = None  # no register: the asset checks are not_assessed
    bundle: BundleSection | None = None
    schedule: ScheduleSection = Field(default_factory=ScheduleSection)
    devices: list[DeviceSection] = Field(default_factory=list)  # read over SSH (issue #4)
    source: Path | None = Field(default=None, exclude=True)

    @field_validator("devices")
    @classmethod
    def _one_entry_per_device(cls, devices: list[DeviceSection]) -> list[DeviceSection]:
        seen: set[str] = set()
        for device in devices:
            if device.address in seen:
                raise ValueError(f"{device.address} is listed twice")
            seen.add(device.address)
        return devices
