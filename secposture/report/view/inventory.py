"""The inventory table: every host the sweep saw with its services and what it said of itself,
and the devices the inventory knows that this sweep did not see."""

from __future__ import annotations

from dataclasses import dataclass

from secposture.model.i18n import source_text, t
from secposture.model.records import Host, Service, SweepResult, device_key
from secposture.report.view.context import DeviceRecord
from secposture.report.view.text import MAX_NAME, Fact, format_day, ip_key, shown

# Network text the inventory shows per host or service, by observation data key.
SHOWN_TEXT = {
    "title": "report.inventory.page_title",
    "banner": "report.inventory.banner",
    "sysname": "report.inventory.sysname",
    "sysdescr": "report.inventory.sysdescr",
}
DEVICE_TYPES = ("router", "switch", "printer", "camera", "server", "workstation", "unknown")
DEVICE_STATUS_RANK = {"active": 0, "missing": 1, "stale": 2}
NAME_SOURCES = {"dns": "DNS", "netbios": "NetBIOS", "mdns": "mDNS", "nmap": "nmap"}
Texts = dict[tuple[str, int | None], list[Fact]]


@dataclass(frozen=True, slots=True)
class ServiceRow:
    """One service of a host, with the texts it sent (page title, banner)."""

    key: str
    state: str  # empty when simply "open"
    description: str
    texts: list[Fact]  # page title, banner as the service sent them


@dataclass(frozen=True, slots=True)
class HostRow:
    """One host of the inventory table; the ``*_sort`` fields are the table script's keys."""

    ip: str
    ip_sort: str
    mac: str
    vendor: str
    hostname: str
    texts: list[Fact]  # SNMP name and description
    device_type: str
    ports_scanned: bool
    present: bool  # seen in this sweep
    services: list[ServiceRow]
    services_sort: str
    status: str
    status_label: str
    status_sort: str
    first_seen: str
    first_seen_sort: str
    last_seen: str


@dataclass(frozen=True, slots=True)
class InventoryView:
    """The inventory section: its rows and the line that sums them up."""

    hosts: list[HostRow]
    summary: str
    history: bool  # first/last seen come from the inventory store


def inventory_view(
    result: SweepResult, devices: tuple[DeviceRecord, ...] | None, lang: str
) -> InventoryView:
    """The hosts of this sweep and the inventory's missing or stale devices, by address."""
    texts: Texts = {}
    for o in result.observations:
        for key, label in SHOWN_TEXT.items():
            value = o.data.get(key)
            if not isinstance(value, str) or not value.strip():
                continue
            # SNMP facts belong to the host; a page title or banner to its service.
            where = (o.ip, None) if key.startswith("sys") else (o.ip, o.port)
            fact = Fact(t(label, lang), shown(value, lang, MAX_NAME))
            if fact not in texts.setdefault(where, []):
                texts[where].append(fact)
    records = {d.key: d for d in devices or ()}
    seen: set[str] = set()
    rows = []
    for host in result.hosts:
        key = device_key(host)
        seen.add(key)
        rows.append(_host_row(host, records.get(key), texts, lang))
    # Devices the inventory knows that this sweep did not see: missing or stale.
    for record in records.values():
        if record.key not in seen and record.status != "active":
            rows.append(_absent_row(record, lang))
    rows.sort(key=lambda r: r.ip_sort)
    counts = result.counts
    summary = t(
        "report.inventory.summary", lang, hosts=counts.hosts_found, services=counts.services_open
    )
    absent = sum(1 for r in rows if not r.present)
    if absent:
        summary += " " + t("report.inventory.absent", lang, count=absent)
    return InventoryView(hosts=rows, summary=summary, history=devices is not None)


def _host_texts(host: Host, observed: list[Fact], lang: str) -> list[Fact]:
    """Where the name came from, the OS nmap matched, then what the host said of itself."""
    facts = []
    if host.hostname and host.hostname_source:
        source = NAME_SOURCES.get(host.hostname_source, host.hostname_source)
        facts.append(Fact(t("report.inventory.name_source", lang), source))
    if host.os:
        facts.append(Fact(t("report.inventory.os", lang), shown(host.os, lang, MAX_NAME)))
    return facts + observed


def _service_text(service: Service) -> str:
    words = " ".join(p for p in (service.name, service.product, service.version) if p)
    return f"{words} ({service.extrainfo})" if service.extrainfo else words


def _device_type(host: Host, lang: str) -> str:
    """``máy in (SNMP sysDescr: …)``: the scanner's guess with the evidence it rests on."""
    kind = host.device_type
    if not kind:
        return ""
    label = t(f"report.device_type.{kind}", lang) if kind in DEVICE_TYPES else kind
    why = source_text(host.device_type_reason, lang)
    reason = f" ({why})" if why else ""
    return shown(label + reason, lang, MAX_NAME)


def _ip_sort(ip: str) -> str:
    version, value, text = ip_key(ip)
    return f"{version:02d}{value:040d}{text}"


def _row(
    identity: Host | DeviceRecord,
    record: DeviceRecord | None,
    lang: str,
    *,
    texts: list[Fact],
    device_type: str,
    ports_scanned: bool,
    services: list[ServiceRow],
) -> HostRow:
    """A row for a host seen now or a device only the inventory remembers: what both share
    (address, names, inventory status and dates) is filled in here."""
    status = record.status if record else "active"
    return HostRow(
        ip=shown(identity.ip, lang, MAX_NAME),
        ip_sort=_ip_sort(identity.ip),
        mac=shown(identity.mac, lang, MAX_NAME),
        vendor=shown(identity.vendor, lang, MAX_NAME),
        hostname=shown(identity.hostname, lang, MAX_NAME),
        texts=texts,
        device_type=device_type,
        ports_scanned=ports_scanned,
        present=isinstance(identity, Host),
        services=services,
        services_sort=f"{len(services):06d}" if isinstance(identity, Host) else "",
        status=status,
        status_label=(
            t(f"report.device_status.{status}", lang) if status in DEVICE_STATUS_RANK else status
        ),
        status_sort=str(DEVICE_STATUS_RANK.get(status, 9)),
        first_seen=format_day(record.first_seen, lang) if record else "",
        first_seen_sort=record.first_seen.isoformat() if record else "",
        last_seen=format_day(record.last_seen, lang) if record else "",
    )


def _host_row(host: Host, record: DeviceRecord | None, texts: Texts, lang: str) -> HostRow:
    services = [
        ServiceRow(
            key=s.key,
            state="" if s.state == "open" else shown(s.state, lang),
            description=shown(_service_text(s), lang, MAX_NAME),
            texts=texts.get((host.ip, s.port), []),
        )
        for s in sorted(host.services, key=lambda s: (s.proto, s.port))
    ]
    return _row(
        host,
        record,
        lang,
        texts=_host_texts(host, texts.get((host.ip, None), []), lang),
        device_type=_device_type(host, lang),
        ports_scanned=host.ports_scanned,
        services=services,
    )


def _absent_row(record: DeviceRecord, lang: str) -> HostRow:
    return _row(record, record, lang, texts=[], device_type="", ports_scanned=False, services=[])
