"""A commune LAN recorded over six weekly sweeps, for the agency report's tests.

Every sweep is committed to a real inventory store and judged by the real assessment (checks,
self-assessment answers, waivers, frameworks), so the report sees what a real agency's report
sees: a trend, the changes of the last sweep, devices that went missing, device configurations
that drifted. Hostile text sits wherever a device on the LAN chooses what the report shows:
HTTP titles, SNMP sysDescr and sysName, hostnames, FTP and SSH banners, a network device's own
hostname and its configuration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from assessment_factories import answers_as_of, questionnaire_text, write
from factories import host, timed_out

from inventory.facts import inventory_facts
from inventory.store import Inventory
from secposture.checks.engine import run_inventory_checks
from secposture.config.loading import load_config
from secposture.config.sections import AgencyConfig
from secposture.job.assessment import Assessment, assess
from secposture.model.records import (
    Attempt,
    AttemptStatus,
    Change,
    Host,
    Observation,
    Service,
    SweepResult,
)
from secposture.report.view.context import ReportContext, context_from_store

# --- the hostile corpus --------------------------------------------------------------------
# Each payload that could run would set window.__pwned or open a dialog; the browser tests
# check that neither ever happens and that each payload is on screen as text.
SCRIPT = "<script>window.__pwned = 'script'; alert('xss')</script>"
IMG = '"><img src=x onerror="window.__pwned=\'img\';alert(1)">'
SVG = "<svg onload=\"window.__pwned='svg'\"></svg>"
JS_URL = "javascript:window.__pwned='url';alert(document.domain)"
LINK = f'<a href="{JS_URL}">bấm vào đây</a>'
SSTI = "{{7*7}} {% raw %}${7*7}"
STYLE = "<style>body{display:none}</style>"
RTL = "invoice\u202egpj.exe"
LONG = "A" * 5000
BROKEN = "bad\udcff\ud800utf8"  # invalid UTF-8 read with surrogateescape, and a lone surrogate
PAYLOADS = (SCRIPT, IMG, SVG, JS_URL, LINK, SSTI, STYLE)

HTTP_TITLE = f"{SCRIPT} Router admin {LINK}"
SNMP_DESCR = f"RouterOS 6.49 {IMG}"
SNMP_NAME = f"gw-{SVG}"
ROUTER_HOSTNAME = f"{SSTI}.hoabinh.local"
FTP_BANNER = f"220 {STYLE} FTP {JS_URL}"
SSH_BANNER = f"SSH-2.0-Cisco-1.25 {SCRIPT}"
DEVICE_HOSTNAME = f"core-sw{IMG}"
CONFIG_LINE = f"banner motd ^C{SCRIPT}^C"
# Where each payload is placed, to say which one failed when a test does.
PLACED = {
    "http title": HTTP_TITLE,
    "snmp sysDescr": SNMP_DESCR,
    "snmp sysName": SNMP_NAME,
    "hostname": ROUTER_HOSTNAME,
    "ftp banner": FTP_BANNER,
    "ssh banner": SSH_BANNER,
    "device type reason": SNMP_DESCR,
    "device hostname": DEVICE_HOSTNAME,
}

AGENCY = "hb-xa-hoa-binh"
WEEKS = 6


def config_file(tmp: Path, lang: str = "vi") -> Path:
    """The commune's config file, with a questionnaire and waivers answered as of today."""
    today = date.today()
    write(
        tmp / "selfassessment.toml",
        questionnaire_text(answers_as_of(today), agency=AGENCY),
    )
    write(
        tmp / "waivers.toml",
        (
            '[[waiver]]\ncheck = "net.ftp_anonymous"\ntarget = "192.168.1.10"\n'
            'reason = "Thư mục công khai cho người dân tải biểu mẫu; chuyển sang cổng dịch vụ '
            'công trong quý 1"\n'
            f'approver = "Trần Thị B, Phó Chủ tịch UBND xã"\nexpires = {today + timedelta(90)}\n'
            '\n[[waiver]]\ncheck = "net.telnet_exposed"\ntarget = "192.168.1.200"\n'
            'reason = "Thiết bị thử nghiệm"\napprover = "Trần Thị B"\n'
            f"expires = {today - timedelta(30)}\n"
        ),
    )
    return write(
        tmp / "agency.toml",
        f"""[agency]
id = "{AGENCY}"
name = "UBND xã Hòa Bình"
level = "commune"
parent = "hb-huyen-lac-son"

[scan]
scopes = ["192.168.1.0/24"]
exclude = ["192.168.1.254"]

[store]
path = "inventory.json"

[report]
dir = "report"
lang = "{lang}"

[assessment]
selfassessment = "selfassessment.toml"
waivers = "waivers.toml"
""",
    )


def agency_config(tmp: Path, lang: str = "vi") -> AgencyConfig:
    """The commune's config as the CLI would load it."""
    return load_config(config_file(tmp, lang))


def _svc(
    port: int,
    name: str,
    product: str = "",
    version: str = "",
    proto: str = "tcp",
    extrainfo: str = "",
) -> Service:
    return Service(
        port=port, proto=proto, name=name, product=product, version=version, extrainfo=extrainfo
    )


def _obs(
    kind: str, ip: str, port: int | None = None, proto: str = "tcp", **data: object
) -> Observation:
    return Observation(kind=kind, ip=ip, port=port, proto=proto, source="recorded", data=data)


def _config_text(week: int) -> str:
    """The core switch's (redacted) running-config; week 5 adds a hostile banner and a VLAN."""
    lines = [
        "hostname core-sw",
        "service password-encryption",
        "username admin privilege 15 secret <redacted>",
        "ip ssh version 2",
        "vlan 10",
        " name VAN-PHONG",
    ]
    if week >= 5:
        lines += ["vlan 20", " name KHACH", CONFIG_LINE]
    lines += ["line vty 0 4", " transport input ssh" if week >= 3 else " transport input all"]
    return "\n".join(lines) + "\n"


def lan_sweep(
    sweep_id: str,
    started: datetime,
    hosts: Iterable[Host],
    observations: Iterable[Observation] = (),
    attempts: Iterable[Attempt] = (),
    *,
    agency_id: str = AGENCY,
    scopes: tuple[str, ...] = ("192.168.1.0/24",),
    exclude: tuple[str, ...] = (),
    minutes: int = 38,
    complete: bool | None = None,
) -> SweepResult:
    """A standard-profile sweep that took ``minutes``; complete unless told otherwise or one
    of its attempts failed."""
    attempts = tuple(attempts)
    return SweepResult(
        sweep_id=sweep_id,
        agency_id=agency_id,
        profile="standard",
        scopes=scopes,
        exclude=exclude,
        started=started,
        finished=started + timedelta(minutes=minutes),
        hosts=tuple(hosts),
        observations=tuple(observations),
        attempts=attempts,
        complete=all(a.ok for a in attempts) if complete is None else complete,
    )


def week_sweep(week: int, started: datetime) -> SweepResult:
    """The LAN in week ``week`` (0-5): the router's telnet appears in week 2 and is still there,
    a laptop leaves after week 3, a camera joins in week 5, the last sweep has one timeout."""
    last = week == WEEKS - 1
    router_services = [
        _svc(80, "http", "lighttpd", "1.4.59"),
        _svc(161, "snmp", proto="udp"),
    ]
    if week >= 2:
        router_services.insert(0, _svc(23, "telnet", "MikroTik router telnetd"))
    hosts = [
        host(
            "192.168.1.1",
            *router_services,
            mac="e4:8d:8c:00:00:01",
            vendor="Routerboard.com",
            hostname=ROUTER_HOSTNAME if last else "gw.hoabinh.local",
            hostname_source="dns",
            device_type="router",
            device_type_reason=f"SNMP sysDescr: {SNMP_DESCR}" if last else "SNMP sysDescr",
        ),
        host(
            "192.168.1.2",
            # nmap reads the product out of the banner: what the device sent is what shows
            _svc(22, "ssh", "Cisco SSH", "1.25", extrainfo=SSH_BANNER if last else ""),
            mac="00:1b:54:00:00:02",
            vendor="Cisco Systems, Inc",
            device_type="switch",
            device_type_reason="MAC vendor Cisco with SSH only",
        ),
        host(
            "192.168.1.10",
            _svc(21, "ftp", "vsftpd", "3.0.3", extrainfo=FTP_BANNER if last else ""),
            _svc(445, "microsoft-ds", "Samba smbd"),
            mac="00:11:32:00:00:10",
            vendor="Synology Incorporated",
            hostname="nas-vanphong",
        ),
        host(
            "192.168.1.20",
            _svc(22, "ssh", "OpenSSH", "9.2p1"),
            mac="f8:bc:12:00:00:20",
            vendor="Dell Inc.",
            hostname=BROKEN if last else "pc-ketoan",
        ),
        host(
            "192.168.1.40",
            _svc(80, "http", "HP HTTP Server"),
            _svc(9100, "jetdirect"),
            mac="3c:d9:2b:00:00:40",
            vendor="Hewlett Packard",
            hostname="printer-01",
        ),
        host(
            "192.168.1.100",
            _svc(3389, "ms-wbt-server", "Microsoft Terminal Services"),
            mac="f8:bc:12:00:01:00",
            vendor="Dell Inc.",
            hostname=f"pc-motcua-{RTL}" if last else "pc-motcua",
        ),
    ]
    if week <= 3:
        hosts.append(
            host(
                "192.168.1.150",
                mac="3c:22:fb:00:01:50",
                vendor="Apple, Inc.",
                hostname="laptop-chu-tich",
            )
        )
    if week >= 5:
        hosts.append(
            host(
                "192.168.1.60",
                _svc(554, "rtsp"),
                _svc(80, "http"),
                scanned=False,
                mac="c0:56:e3:00:00:60",
                vendor="Hikvision",
                hostname=LONG,
            )
        )
    observations = [
        _obs(
            "http.title",
            "192.168.1.1",
            80,
            title=HTTP_TITLE if last else "Router admin",
            status=200,
            server="lighttpd",
            tls=False,
        ),
        _obs("http.login_form", "192.168.1.1", 80, present=True),
        _obs(
            "snmp.sysdescr",
            "192.168.1.1",
            161,
            "udp",
            sysdescr=SNMP_DESCR if last else "RouterOS 6.49",
        ),
        _obs("snmp.sysname", "192.168.1.1", 161, "udp", sysname=SNMP_NAME if last else "gw"),
        _obs(
            "snmp.community",
            "192.168.1.1",
            161,
            "udp",
            community="public",
            accepted=True,
            sysdescr=SNMP_DESCR if last else "RouterOS 6.49",
        ),
        _obs(
            "ftp.anonymous",
            "192.168.1.10",
            21,
            allowed=week != 1,
            output="Anonymous FTP login allowed (FTP code 230)",
        ),
        _obs("ftp.banner", "192.168.1.10", 21, banner=FTP_BANNER if last else "220 FTP"),
        _obs("ssh.banner", "192.168.1.2", 22, banner=SSH_BANNER if last else "SSH-2.0-Cisco-1.25"),
        _obs(
            "http.title", "192.168.1.40", 80, title="HP LaserJet Pro M404dn", status=200, tls=False
        ),
        # As the config audit (scanners/devices/collect.py) records a device it has read
        _obs(
            "device.facts",
            "192.168.1.2",
            22,
            name="core-sw",
            facts={
                "platform": "cisco_ios",
                "dialect": "ios",
                "hostname": DEVICE_HOSTNAME if last else "core-sw",
                "os": {
                    "vendor": "Cisco",
                    "model": "WS-C2960X-24TS-L",
                    "version": "15.2(7)E8",
                    "serial": "FOC2233X0AB",
                    "uptime": "12 weeks, 3 days",
                },
                "complete": True,
                "lines_read": _config_text(week).count("\n"),
            },
        ),
        _obs(
            "device.config",
            "192.168.1.2",
            22,
            name="core-sw",
            platform="cisco_ios",
            hostname=DEVICE_HOSTNAME if last else "core-sw",
            sha256=f"{week // 2 + (week >= 5):064x}",
            chars=len(_config_text(week)),
            truncated=False,
            text=_config_text(week),
        ),
    ]
    attempts = [
        Attempt(stage="discovery.arp", target="192.168.1.0/24", status=AttemptStatus.COMPLETED),
    ]
    if last:
        attempts.append(timed_out("ports.tcp", "192.168.1.60"))
    return lan_sweep(
        f"{AGENCY}-w{week}",
        started,
        hosts,
        observations,
        attempts,
        exclude=("192.168.1.254",),
    )


@dataclass(frozen=True)
class StoredAgency:
    """The commune after its sweeps: config, store, last sweep, its assessment and context."""

    config: AgencyConfig
    store: Inventory
    sweep: SweepResult
    assessment: Assessment
    changes: list[Change]
    context: ReportContext


def commit(
    store: Inventory, sweep: SweepResult, config: AgencyConfig
) -> tuple[Assessment, list[Change]]:
    """What the sweep job does after sweeping: inventory checks, assessment, commit."""
    inventory = run_inventory_checks(inventory_facts(store, sweep, config.assets))
    result = assess(sweep, config, extra_findings=inventory)
    return result, store.commit_sweep(sweep, result.findings, result.score)


def stored_agency(tmp: Path, *, lang: str = "vi", weeks: int = WEEKS) -> StoredAgency:
    """Commit ``weeks`` weekly sweeps (the last one three days ago) and judge the last."""
    config = agency_config(tmp, lang)
    store = Inventory.for_config(config)
    last_start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    first = WEEKS - weeks
    result, changes, sweep = None, [], None
    for week in range(first, WEEKS):
        sweep = week_sweep(week, last_start - timedelta(weeks=WEEKS - 1 - week))
        result, changes = commit(store, sweep, config)
    if result is None or sweep is None:
        raise ValueError("weeks must be at least 1")
    context = context_from_store(store, sweep, posture=result.posture, changes=changes)
    return StoredAgency(config, store, sweep, result, changes, context)
