"""The agency report page: hostile network text, both languages, what each section shows, and
the labels the templates use.

The sample is :mod:`hostile_report`'s hand-built sweep; the whole visible text of a recorded
sweep is checked by tests/golden.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest
from hostile_report import (
    FORMULA,
    HOSTILE_TITLE,
    IMG,
    PWNED,
    SSTI,
    XSS,
    Page,
    agency_config,
    finding,
    hostile_findings,
    hostile_page,
    hostile_sweep,
    write_hostile,
)

import secposture.report as report_package
from inventory.store import ACTIVE, MISSING, STALE
from secposture.assess.selfassessment import AnswerValue
from secposture.config.sections import Level, Profile
from secposture.model.i18n import messages
from secposture.model.records import (
    AttemptStatus,
    ChangeKind,
    Reason,
    Severity,
    Status,
)
from secposture.model.score import Score
from secposture.report.outputs import ReportPaths, write_outputs
from secposture.report.outputs.html import inventory_script, render_html
from secposture.report.view.devices import DEVICE_FACTS
from secposture.report.view.inventory import DEVICE_TYPES
from secposture.report.view.text import MAX_NAME, MAX_SHOWN, format_time
from secposture.scoring.score import ItemStatus, score_findings

SCRIPT_TEXT, SCRIPT_HASH = inventory_script()
# Written out here, not taken from the code: this is the policy the page must carry.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    f"script-src {SCRIPT_HASH}; base-uri 'none'; form-action 'none'"
)


@pytest.fixture()
def written(tmp_path: Path) -> ReportPaths:
    return write_hostile(tmp_path)


# --- the page: hostile text ----------------------------------------------------------------


def test_hostile_network_text_is_shown_as_text_and_never_becomes_markup(
    written: ReportPaths,
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


def test_bidi_overrides_and_broken_utf8_are_made_visible(written: ReportPaths) -> None:
    html = written.html.read_text("utf-8")

    # U+202E would reverse the rest of the line on screen; it is named instead
    assert "\u202e" not in html
    assert "invoice[U+202E]gpj.exe" in html
    assert "bad\ufffd\ufffdutf8" in html


def test_very_long_network_strings_are_cut_and_can_wrap(written: ReportPaths) -> None:
    html = written.html.read_text("utf-8")
    page = Page(html)

    # Evidence is cut at MAX_SHOWN characters, a hostname at MAX_NAME; each says what is left
    evidence = "A" * (MAX_SHOWN - len("anonymous login allowed, listing: "))
    assert f"{evidence}… (còn 3034 ký tự, xem đầy đủ trong tệp JSON)" in page.section("issues")
    hostname = "A" * MAX_NAME
    assert f"{hostname}… (còn 4744 ký tự" in page.section("inventory")
    assert "A" * (MAX_SHOWN + 1) not in html
    # and what is shown wraps instead of widening the page
    assert "overflow-wrap: anywhere" in html


def test_page_is_self_contained_and_forbids_scripts(written: ReportPaths) -> None:
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
    page = hostile_page(tmp_path, generated=datetime(2026, 11, 27, 19, 5, tzinfo=UTC))

    assert ("html", {"lang": "vi"}) in page.tags
    assert "Vấn đề cần khắc phục" in page.text
    assert "Issues to fix" not in page.text
    assert "Dịch vụ Telnet (không mã hóa) đang mở" in page.text
    assert "Tắt Telnet trên thiết bị" in page.text  # remediation from the check catalogue
    assert "UBND xã Hòa Bình" in page.text
    assert "Cấp xã" in page.text
    assert "28/11/2026 02:00 – 02:42" in page.text  # sweep time in Vietnam time
    assert "28/11/2026 02:05" in page.text  # generated


def test_english_report_has_its_own_labels_times_and_check_texts(tmp_path: Path) -> None:
    page = hostile_page(tmp_path, "en")

    assert ("html", {"lang": "en"}) in page.tags
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

    assert page.classed["score-line"] == [expected]


def test_summary_says_when_no_score_could_be_computed(tmp_path: Path) -> None:
    findings = [f for f in hostile_findings() if f.status is Status.NOT_ASSESSED]
    score = score_findings(findings)
    assert score.overall is None

    page = Page(render_html(hostile_sweep(), findings, score, agency_config(tmp_path), "vi"))

    assert "score-value" not in page.classed
    [none] = page.classed["score-none"]
    assert none.startswith("Không tính được điểm")
    assert page.classed["score-coverage"] == ["độ bao phủ 0%"]


def test_summary_counts_issues_by_severity_and_warns_of_an_incomplete_sweep(
    tmp_path: Path,
) -> None:
    incomplete = hostile_page(tmp_path, complete=False)
    complete = hostile_page(tmp_path, complete=True)

    summary = incomplete.section("summary")
    assert "Lượt quét chưa đầy đủ" in summary
    assert "Có 1 bước quét không hoàn thành" in summary
    assert "Nghiêm trọng 0 Cao 3 Trung bình 1 Thấp 0" in summary
    assert "Lượt quét chưa đầy đủ" not in complete.text


def test_issues_are_grouped_by_severity_with_target_evidence_and_remediation(
    tmp_path: Path,
) -> None:
    page = hostile_page(tmp_path)
    issues = page.section("issues")
    rows = [row for row in page.rows["issues"] if row != ["Đối tượng", "Minh chứng"]]

    assert issues.index("Cao") < issues.index("Trung bình")
    # Each failed finding is one row: its target, then its evidence, in the report's language
    # (issue #13) with the banner inside it shown as text
    assert ["192.168.1.1:23/tcp", "Telnet mở ở cổng 23/tcp (invoice[U+202E]gpj.exe)"] in rows
    assert ["192.168.1.1:161/udp", FORMULA] in rows
    assert "Đổi hoặc xóa community mặc định" in issues
    # and only failed ones: passed, not-assessed and waived findings are not issues
    assert sorted(row[0] for row in rows) == sorted(
        ["192.168.1.1:23/tcp", "192.168.1.1:80/tcp", "192.168.1.1:161/udp", "192.168.1.100:21/tcp"]
    )


def test_not_assessed_section_shows_every_reason_and_every_failed_attempt(
    tmp_path: Path,
) -> None:
    page = hostile_page(tmp_path)
    rows = page.rows["not-assessed"]

    assert [
        "Dịch vụ Telnet (không mã hóa) đang mở",
        "chưa quét xong các cổng của thiết bị này",
        "192.168.1.5",
    ] in rows
    assert ["portscan", "192.168.1.5", "Lỗi Hết thời gian chờ", "host timeout after 300 s"] in rows
    assert "discovery" not in page.section("not-assessed")  # completed attempts are not listed


def test_passed_waived_and_inventory_are_listed(tmp_path: Path) -> None:
    page = hostile_page(tmp_path)

    # Passes are folded into one line per check, with every target that passed
    passed = page.rows["passed"]
    assert ["Dịch vụ Telnet (không mã hóa) đang mở 1", "192.168.1.20"] in passed
    assert [
        "Dịch vụ Telnet (không mã hóa) đang mở",
        "192.168.1.100",
        "Công văn 12/UBND: thiết bị cũ, thay thế trong quý 1",
    ] in passed
    hosts = {row[0]: row for row in page.rows["inventory"][1:]}
    assert list(hosts) == ["192.168.1.1", "192.168.1.5", "192.168.1.20", "192.168.1.100"]
    assert hosts["192.168.1.20"][3] == "22/tcp ssh OpenSSH 9.2p1"
    assert hosts["192.168.1.5"][3] == "Chưa quét được cổng"  # no port scan, not "no ports"
    inventory = page.section("inventory")
    assert f"Tiêu đề trang: {HOSTILE_TITLE}" in inventory
    assert f"Mô tả SNMP: {PWNED}" in inventory


def test_a_finding_of_a_check_missing_from_the_catalogue_still_renders(tmp_path: Path) -> None:
    missing = finding("net.not_yet_catalogued", Status.FAIL, Severity.LOW, "10.0.0.1")

    html = render_html(
        hostile_sweep(), [missing], score_findings([missing]), agency_config(tmp_path), "vi"
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
REPORT_TEMPLATES = (
    "agency/report.html.j2",
    "_shared/_styles.html.j2",
    "agency/_inventory_table.js.j2",
)
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
    package = Path(report_package.__file__).parent
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
