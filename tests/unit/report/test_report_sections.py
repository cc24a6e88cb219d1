"""The agency report's sections over a commune recorded for six weeks (issue #7).

The sweeps are committed to a real inventory store and judged by the real assessment
(report_samples.py), so each section is checked against what the store and the frameworks
actually hold: the changes against the store's record, the drift against the two stored
configurations (the summary's fixes and trend: test_report_summary.py).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hostile_report import Page, agency_config, hostile_findings, hostile_sweep, page_of
from report_samples import (
    CONFIG_LINE,
    DEVICE_HOSTNAME,
    StoredAgency,
)

from secposture.cli import main
from secposture.model.records import Finding, Observation, Severity, Status, Target
from secposture.report.outputs import write_outputs
from secposture.report.outputs.html import render_html
from secposture.report.view.context import ReportContext, SweepPoint, config_diff
from secposture.report.view.text import format_day
from secposture.scoring.score import score_findings

# --- findings, changes, devices ------------------------------------------------------------


def test_each_issue_names_the_framework_requirements_it_touches(page: Page) -> None:
    issues = page.section("issues")

    start = issues.index("Dịch vụ Telnet (không mã hóa) đang mở")
    telnet = issues[start : issues.index("Cách khắc phục", start) + 400]
    assert "Yêu cầu liên quan:" in telnet
    assert "gci · Kỹ thuật ·" in telnet
    assert "vn-baseline 4.5 · " in telnet  # level-2 system: the 4.x clause, not 5.x
    assert "vn-baseline 5.5" not in telnet
    assert "cis-v8-ig1 4.6 · " in telnet


def test_changes_since_the_last_sweep_are_those_the_store_recorded(
    agency: StoredAgency, page: Page
) -> None:
    recorded = [c for c in agency.store.changes() if c.sweep_id == agency.sweep.sweep_id]
    changes = page.section("changes")

    assert {c.kind.value for c in recorded} == {"new_device", "config_changed"}
    assert "Thiết bị mới: 1" in changes and "Cấu hình thay đổi: 1" in changes
    assert "Thiết bị mới 192.168.1.60" in changes
    # a configuration change shows short digests; the device section shows what changed
    assert "sha256 000000000000… sha256 000000000000…" in changes
    assert "0" * 64 not in changes


def test_a_device_shows_its_facts_and_the_drift_of_its_configuration(page: Page) -> None:
    devices = page.section("devices")

    assert f"192.168.1.2 · {DEVICE_HOSTNAME}" in devices
    assert "Nền tảng cisco_ios" in devices and "Số sê-ri FOC2233X0AB" in devices
    assert "cấu hình đã thay đổi so với lượt quét trước" in devices
    assert "+vlan 20" in devices and f"+{CONFIG_LINE}" in devices
    assert "-vlan" not in devices  # nothing was removed


def test_config_diff_marks_added_removed_and_context_lines() -> None:
    lines = config_diff("a\nb\nc\nd\n", "a\nB\nc\nd\ne\n")

    kinds = [(line.kind, line.text) for line in lines]
    assert ("remove", "-b") in kinds and ("add", "+B") in kinds and ("add", "+e") in kinds
    assert kinds[0][0] == "hunk"
    assert config_diff("same\n", "same\n") == []


def test_only_a_hash_means_the_drift_can_be_told_but_not_shown(
    agency: StoredAgency, tmp_path: Path
) -> None:
    # Given configurations of which only the digests were kept
    def hash_only(o: Observation) -> Observation:
        if o.kind != "device.config":
            return o
        return o.model_copy(update={"data": {"sha256": o.data["sha256"]}})

    previous = agency.context.previous_configs or {}
    context = ReportContext(
        posture=agency.context.posture,
        history=agency.context.history,
        changes=agency.context.changes,
        devices=agency.context.devices,
        previous_configs={ip: hash_only(o) for ip, o in previous.items()},
    )
    sweep = agency.sweep.model_copy(
        update={"observations": tuple(hash_only(o) for o in agency.sweep.observations)}
    )
    result = agency.assessment

    page = Page(
        render_html(sweep, result.findings, result.score, agency.config, "vi", context=context)
    )

    assert "nội dung không được lưu nên không hiển thị được phần khác biệt" in page.section(
        "devices"
    )


# --- inventory, frameworks, self-assessment ------------------------------------------------


def test_the_inventory_shows_history_and_the_device_that_went_missing(
    agency: StoredAgency, page: Page
) -> None:
    inventory = page.section("inventory")
    history = agency.context.history
    assert history is not None
    first, last = format_day(history[0].started, "vi"), format_day(history[-1].started, "vi")

    assert "Thêm 1 thiết bị đã biết nhưng không thấy trong lượt quét này" in inventory
    assert "laptop-chu-tich" in inventory
    assert "Vắng mặt" in inventory and "lần cuối thấy ngày" in inventory
    assert "Đang hoạt động" in inventory
    # the camera that joined in the last week was first seen then, the router in week one
    camera = inventory[inventory.index("192.168.1.60 ") :]
    assert f"Đang hoạt động {last}" in camera[:800]
    router = inventory[inventory.index("192.168.1.1 ") :]
    assert f"Đang hoạt động {first}" in router[:1500]


def test_every_framework_is_shown_with_its_sections_and_unscored_reasons(
    agency: StoredAgency, page: Page
) -> None:
    frameworks = page.section("frameworks")

    for fw in agency.assessment.posture.frameworks:
        assert fw.title_vi in frameworks
        assert f"{fw.id} {fw.version}" in frameworks
    assert "cấp quốc gia, không chấm cho cơ quan" in frameworks  # GCI's legal pillar
    assert "chưa có phép kiểm tra nào làm minh chứng" in frameworks
    assert "yêu cầu không áp dụng ở cấp này (không hiển thị)" in frameworks
    assert "Không đáp ứng" in frameworks  # vn-baseline concludes per group


def test_self_assessment_answers_show_their_evidence_and_staleness(
    agency: StoredAgency, page: Page
) -> None:
    section = page.section("self-assessment")
    answers = {a.answer.check: a for a in agency.assessment.posture.answers}

    backup = answers["org.backup_tested"].answer
    assert backup.evidence and backup.evidence in section
    assert format_day(backup.answered_on, "vi") in section
    assert "Một phần" in section
    # the officer's answer is over 12 months old: shown, and said not to count
    assert "quá 12 tháng: không còn được tính" in section
    assert "Câu hỏi chưa có câu trả lời còn hiệu lực 2" in section
    assert "chưa được trả lời trong phiếu tự đánh giá" in section  # the reason, in Vietnamese
    # waivers: the active one with its end date, the expired one said to no longer apply
    assert "Thư mục công khai cho người dân tải biểu mẫu" in section
    assert "đã hết hạn ngày" in section and "hiệu lực đến" in section


def test_english_report_uses_english_labels_and_iso_dates(agency: StoredAgency) -> None:
    page = page_of(agency, "en")

    assert "Five fixes that raise the score most" in page.section("summary")
    assert "Changes since the last sweep" in page.section("changes")
    assert "Self-assessment and waivers" in page.section("self-assessment")
    backup = next(
        a.answer for a in agency.assessment.posture.answers if a.answer.check == "org.backup_tested"
    )
    assert backup.answered_on.isoformat() in page.section("self-assessment")
    assert "Năm việc" not in page.text


def test_dates_follow_the_reader_language() -> None:
    late = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)  # already the 28th in Vietnam

    assert format_day(late, "vi") == "28/11/2026"
    assert format_day(late, "en") == "2026-11-27"
    assert format_day(date(2026, 2, 5), "vi") == "05/02/2026"


# --- machine outputs -----------------------------------------------------------------------


def test_findings_json_carries_the_posture(agency: StoredAgency, tmp_path: Path) -> None:
    result = agency.assessment
    paths = write_outputs(
        agency.sweep,
        result.findings,
        result.score,
        agency.config,
        tmp_path,
        context=agency.context,
    )

    document = json.loads(paths.findings_json.read_text("utf-8"))
    posture = document["posture"]
    assert posture["posture_schema"] == 1
    assert [fw["id"] for fw in posture["frameworks"]] == [fw.id for fw in result.posture.frameworks]
    assert len(document["findings"]) == len(result.findings)


# --- the report command --------------------------------------------------------------------


def test_report_command_re_renders_the_last_stored_sweep(
    agency: StoredAgency, tmp_path: Path
) -> None:
    config = agency.config.source
    assert config is not None
    out = tmp_path / "again"

    run = CliRunner().invoke(
        main, ["--lang", "en", "report", "-c", str(config), "--out", str(out), "--json"]
    )

    # The stored last sweep was incomplete: the report is written and the exit code says so
    assert run.exit_code == 3, run.output
    summary = json.loads(run.output)
    assert summary["sweep_id"] == agency.sweep.sweep_id
    assert set(summary["files"]) == {"html", "findings_json", "inventory_json", "findings_csv"}
    html = (out / "report.html").read_text("utf-8")
    assert '<html lang="en">' in html
    assert "Changes since the last sweep" in html and "New device" in html


def test_report_command_without_a_stored_sweep_exits_2(tmp_path: Path) -> None:
    from report_samples import config_file

    config = config_file(tmp_path)

    run = CliRunner().invoke(main, ["--lang", "en", "report", "-c", str(config)])

    assert run.exit_code == 2
    assert "No sweep stored" in run.output
    assert not (tmp_path / "report").exists()


def test_report_pdf_without_chromium_exits_4_and_keeps_the_html(
    agency: StoredAgency, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a machine without Chromium (PATH holds no browser; the real one is never run)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    config = agency.config.source
    assert config is not None
    out = tmp_path / "out"

    run = CliRunner().invoke(
        main, ["--lang", "en", "report", "-c", str(config), "--out", str(out), "--pdf"]
    )

    assert run.exit_code == 4
    last = run.output.strip().splitlines()[-1]
    assert last.startswith("Cannot print the PDF: chromium is not installed")
    assert (out / "report.html").exists() and not (out / "report.pdf").exists()


def test_sweeps_on_the_same_day_are_told_apart_by_their_hour(tmp_path: Path) -> None:
    # Given two sweeps on one day (a re-sweep after a fix), 02:00 and 09:30 UTC
    findings = hostile_findings()
    history = tuple(
        SweepPoint(f"s{i}", datetime(2026, 11, 28, hour, minute, tzinfo=UTC), score, 0.8, True)
        for i, (hour, minute, score) in enumerate(((2, 0, 40.0), (9, 30, 60.0)))
    )

    page = Page(
        render_html(
            hostile_sweep(),
            findings,
            score_findings(findings),
            agency_config(tmp_path),
            "vi",
            context=ReportContext(history=history),
        )
    )

    # Then each is dated with its Vietnam-time hour, not twice "28/11"
    summary = page.section("summary")
    assert "28/11 09:00" in summary and "28/11 16:30" in summary


def test_a_device_not_read_says_once_why_its_checks_are_not_assessed(tmp_path: Path) -> None:
    # Given a switch whose configuration was read (one check failed) and a router that the
    # audit could not log into (every device check not assessed, for one reason)
    why = "no_credentials: no credentials configured; classified as a router (SSH only)"
    # shown in the report's language (issue #13)
    said = (
        "thiếu thông tin đăng nhập: chưa cấu hình thông tin đăng nhập; "
        "được xếp loại là bộ định tuyến (chỉ mở SSH)"
    )
    findings = [
        Finding(check_id="dev.no_ntp", status=Status.NOT_ASSESSED, severity=Severity.LOW,
                target=Target(ip="10.0.0.1"), reason=why),
        Finding(check_id="dev.vty_telnet", status=Status.NOT_ASSESSED, severity=Severity.HIGH,
                target=Target(ip="10.0.0.1"), reason=why),
        Finding(check_id="dev.no_ntp", status=Status.PASS, severity=Severity.LOW,
                target=Target(ip="10.0.0.9"), evidence="sw: ntp server 10.0.0.1"),
        Finding(check_id="dev.vty_telnet", status=Status.FAIL, severity=Severity.HIGH,
                target=Target(ip="10.0.0.9"), evidence="sw: line vty 0 4: transport input telnet"),
    ]  # fmt: skip
    facts = Observation(
        kind="device.facts", ip="10.0.0.9", port=22, proto="tcp",
        data={"name": "sw", "facts": {"platform": "cisco_ios", "dialect": "ios",
                                      "hostname": "sw-core"}},
    )  # fmt: skip
    sweep = hostile_sweep().model_copy(update={"observations": (facts,)})

    page = Page(
        render_html(sweep, findings, score_findings(findings), agency_config(tmp_path), "vi")
    )
    devices = page.section("devices")

    # Then the read switch comes first, its failure before its pass...
    assert devices.index("10.0.0.9 · sw-core") < devices.index("10.0.0.1")
    switch = devices[devices.index("10.0.0.9") : devices.index("10.0.0.1")]
    assert switch.index("Không đạt") < switch.index("Đạt ")
    # ...and the router's two checks are one line with the reason, not two rows
    assert f"2 mục chưa đánh giá được {said}" in devices
    assert devices.count(said) == 1
