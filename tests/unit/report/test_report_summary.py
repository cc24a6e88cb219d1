"""The agency report's summary over the commune recorded for six weeks (issue #7): the five
fixes against a re-score, the index and pillars against the posture, the trend against the
stored sweeps."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_report import Page, agency_config, hostile_findings, hostile_sweep, page_of
from report_samples import (
    WEEKS,
    StoredAgency,
    stored_agency,
)

from secposture.checks.catalogue import load_catalogue
from secposture.model.records import Finding, Severity, Status, Target
from secposture.report.outputs.html import render_html
from secposture.report.view.charts import PillarInput, TrendInput, pillar_chart, trend_chart
from secposture.report.view.text import format_day, number
from secposture.scoring.gains import score_gains, top_fixes
from secposture.scoring.score import score_findings

# --- the five fixes ------------------------------------------------------------------------


def finding(check: str, status: Status, severity: Severity, ip: str) -> Finding:
    return Finding(check_id=check, status=status, severity=severity, target=Target(ip=ip))


def fixed(findings: list[Finding], check_id: str) -> list[Finding]:
    """The findings once ``check_id`` is fixed on every target where it failed."""
    return [
        f.model_copy(update={"status": Status.PASS})
        if f.check_id == check_id and f.status in (Status.FAIL, Status.PARTIAL)
        else f
        for f in findings
    ]


def test_each_fix_gains_exactly_what_re_scoring_the_fixed_findings_gains(
    agency: StoredAgency,
) -> None:
    findings = agency.assessment.findings
    before = score_findings(findings).overall
    assert before is not None

    gains = score_gains(findings)

    assert gains, "the sample has failures to fix"
    for fix in gains:
        after = score_findings(fixed(findings, fix.check_id)).overall
        assert after is not None
        # score_findings rounds to one decimal; the gain is exact
        assert fix.gain == pytest.approx(after - before, abs=0.051), fix.check_id


def test_fixes_are_ranked_by_gain_and_skip_what_is_outside_the_score() -> None:
    findings = [
        finding("net.telnet_exposed", Status.FAIL, Severity.HIGH, "10.0.0.1"),
        finding("net.telnet_exposed", Status.FAIL, Severity.HIGH, "10.0.0.2"),
        finding("net.http_admin_cleartext", Status.FAIL, Severity.MEDIUM, "10.0.0.1"),
        finding("org.backup_tested", Status.PARTIAL, Severity.HIGH, "agency"),
        finding("net.ftp_anonymous", Status.PASS, Severity.HIGH, "10.0.0.1"),
        finding("net.snmp_default_community", Status.NOT_ASSESSED, Severity.HIGH, "10.0.0.3"),
        finding("asset.unknown_device", Status.WAIVED, Severity.MEDIUM, "10.0.0.4"),
        finding("net.info_only", Status.FAIL, Severity.INFO, "10.0.0.5"),
    ]

    fixes = top_fixes(findings)

    # Per check (issue #13): telnet 6 (credit 0), http 3 (0), backup 6 (½), ftp 6 (1), info 0:
    # 9 / 21 = 42.9. Fixing telnet: 15 / 21 = 71.4, held at 59 by the partial high backup
    # check: +16.1. Fixing backup or http: 12 / 21 = 57.1 (under the cap): +14.2 each; a tie
    # goes to the more severe check.
    assert [(f.check_id, f.targets) for f in fixes] == [
        ("net.telnet_exposed", 2),
        ("org.backup_tested", 1),
        ("net.http_admin_cleartext", 1),
    ]
    assert [f.gain for f in fixes] == [16.1, 14.2, 14.2]
    assert top_fixes([]) == []


def test_the_summary_lists_five_fixes_with_their_points(agency: StoredAgency, page: Page) -> None:
    summary = page.section("summary")
    fixes = top_fixes(agency.assessment.findings)

    assert "Năm việc nâng điểm nhiều nhất" in summary
    assert len(fixes) == 5
    catalogue = load_catalogue()
    for fix in fixes:
        gain = number(fix.gain, "vi")
        assert f"+{gain} điểm {catalogue[fix.check_id].title_vi}" in summary
    first = fixes[0]
    label = {"critical": "Nghiêm trọng", "high": "Cao", "medium": "Trung bình"}[first.severity]
    assert f"{catalogue[first.check_id].title_vi} {label} {first.targets} đối tượng" in summary


# --- summary: index, pillars, trend --------------------------------------------------------


def test_the_summary_has_one_number_and_names_the_gci_model_with_its_qualifier(
    agency: StoredAgency, page: Page
) -> None:
    # Issue #13: one headline number per unit; the GCI-style figure lives in its own section,
    # always named "theo mô hình GCI (cấp cơ quan)", and no tier name while its cut-offs are [U]
    gci = agency.assessment.posture.framework("gci")
    summary = page.section("summary")
    frameworks = page.section("frameworks")

    assert gci.tier is not None and not gci.tier.verified
    assert "Chỉ số GCI" not in page.text
    assert "Theo mô hình GCI (cấp cơ quan)" in summary
    assert f"{gci.score:.1f}/100".replace(".", ",") not in summary  # not a second headline
    assert f"{gci.score:.1f}/100".replace(".", ",") in frameworks
    assert f"Bậc {gci.tier.rank}" not in page.text  # the cut-offs are [U] in frameworks.md
    assert "tạm tính" in summary  # coverage below the framework's provisional_below
    # one bar per pillar; the national legal pillar is shown, and not scored
    for section in gci.sections:
        assert section.title_vi in summary
    assert "Pháp lý không áp dụng" in summary


def test_pillar_bars_are_as_long_as_their_scores() -> None:
    chart = pillar_chart(
        [
            PillarInput("A", 50.0, "10/20"),
            PillarInput("B", None, "chưa đánh giá"),
            PillarInput("C", 140.0, "x"),
        ]
    )

    widths = [bar.width for bar in chart.bars]
    assert widths == [chart.bar_width / 2, 0.0, chart.bar_width]
    assert [bar.scored for bar in chart.bars] == [True, False, True]
    assert chart.height == 3 * (chart.bars[1].y - chart.bars[0].y)


def test_the_trend_line_breaks_where_a_sweep_had_no_score() -> None:
    sweeps = [
        TrendInput("01/11", 40.0, 0.5),
        TrendInput("08/11", 60.0, 0.8),
        TrendInput("15/11", None, 0.0),
        TrendInput("22/11", 80.0, 1.0),
        TrendInput("29/11", 100.0, 1.0),
    ]

    chart = trend_chart(sweeps, ["40", "60", "—", "80", "100"])

    assert len(chart.lines) == 2  # 40→60, then 80→100
    assert chart.lines[0].startswith("M") and " L" in chart.lines[0]
    ys = [p.y for p in chart.points]
    assert ys[2] is None
    assert ys[0] is not None and ys[1] is not None and ys[0] > ys[1]  # higher score, higher up
    assert chart.points[-1].y == chart.grid[-1].y  # 100 sits on the 100 line
    assert chart.points[-1].show_label  # the newest sweep is always dated


def test_the_trend_shows_the_stored_sweeps_and_ends_at_the_headline_score(
    agency: StoredAgency, page: Page
) -> None:
    history = agency.context.history
    assert history is not None and len(history) == WEEKS
    assert history[-1].sweep_id == agency.sweep.sweep_id
    assert history[-1].score == agency.assessment.score.overall
    stored = [s["sweep_id"] for s in agency.store.committed()]
    assert [p.sweep_id for p in history] == stored
    summary = page.section("summary")
    assert f"{WEEKS} lượt quét gần nhất" in summary
    assert format_day(history[0].started, "vi")[:5] in summary  # dd/mm under the first point


def test_a_report_without_history_or_posture_says_what_is_not_available(tmp_path: Path) -> None:
    # Given the bare sweep the collector has (no store, no posture)
    findings = hostile_findings()
    html = render_html(
        hostile_sweep(), findings, score_findings(findings), agency_config(tmp_path), "vi"
    )
    page = Page(html)

    # Then every part it lacks says so instead of looking empty or failing
    assert "Chưa có kết quả theo khung đánh giá" in page.section("summary")
    assert "Không có dữ liệu điểm theo trụ cột" in page.section("summary")
    assert "Không có lịch sử các lượt quét" in page.section("summary")
    assert "Không có dữ liệu thay đổi" in page.section("changes")
    assert "Chưa có kết quả kiểm tra cấu hình thiết bị mạng" in page.section("devices")
    assert "Không có kết quả theo khung đánh giá" in page.section("frameworks")
    assert "Không có dữ liệu tự đánh giá" in page.section("self-assessment")
    assert "không có dữ liệu khung đánh giá" in page.section("issues")
    assert "Không có dữ liệu lịch sử thiết bị" in page.section("inventory")


def test_a_first_sweep_says_the_trend_starts_with_the_second(tmp_path: Path) -> None:
    first = stored_agency(tmp_path, weeks=1)

    page = page_of(first)

    assert "Đây là lượt quét đầu tiên được lưu" in page.section("summary")
    assert "chưa có cấu hình của lượt quét trước để so sánh" in page.section("devices")
