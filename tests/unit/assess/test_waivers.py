"""Waivers: accepted risks stay visible as ``waived``; expired ones stop applying (issue #6)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from assessment_factories import AGENCY, TODAY, waiver_text, write

from secposture.assess.waivers import Waiver, WaiverFile, apply_waivers, load_waivers
from secposture.config.errors import ConfigError
from secposture.model.records import Finding, Severity, Status, Target
from secposture.scoring.score import score_findings


def finding(
    status: Status, ip: str = "10.77.0.5", port: int | None = 23, check: str = "net.telnet_exposed"
) -> Finding:
    return Finding(
        check_id=check,
        status=status,
        severity=Severity.HIGH,
        target=Target(ip=ip, port=port, proto="tcp" if port else None),
        evidence="telnet open on 23/tcp",
    )


def waiver(**kw: object) -> Waiver:
    fields: dict[str, object] = {
        "check": "net.telnet_exposed",
        "target": "10.77.0.5",
        "reason": "old printer",
        "approver": "Trần Thị B",
        "expires": date(2026, 12, 31),
    }
    return Waiver.model_validate(fields | kw)


def test_active_waiver_marks_the_failure_waived_and_keeps_its_evidence() -> None:
    findings, states = apply_waivers([finding(Status.FAIL)], [waiver()], TODAY)
    (waived,) = findings
    assert waived.status is Status.WAIVED
    assert waived.evidence == "telnet open on 23/tcp"
    assert waived.waiver == "old printer (Trần Thị B, ≤ 2026-12-31)"
    assert states[0].matched == 1 and not states[0].expired


def test_waiver_counts_through_its_expiry_day_then_stops() -> None:
    on_the_day, _ = apply_waivers([finding(Status.FAIL)], [waiver(expires=TODAY)], TODAY)
    assert on_the_day[0].status is Status.WAIVED
    after, states = apply_waivers(
        [finding(Status.FAIL)], [waiver(expires=date(2026, 11, 27))], TODAY
    )
    assert after[0].status is Status.FAIL and after[0].waiver is None
    assert states[0].expired and states[0].matched == 1


@pytest.mark.parametrize("status", [Status.PASS, Status.NOT_ASSESSED, Status.NOT_APPLICABLE])
def test_only_failures_can_be_waived(status: Status) -> None:
    # A waiver must never hide that something could not be assessed.
    findings, states = apply_waivers([finding(status)], [waiver()], TODAY)
    assert findings[0].status is status and states[0].matched == 0


def test_partial_can_be_waived() -> None:
    findings, _ = apply_waivers([finding(Status.PARTIAL)], [waiver()], TODAY)
    assert findings[0].status is Status.WAIVED


@pytest.mark.parametrize(
    ("target", "port", "ip", "matches"),
    [
        ("10.77.0.5", None, "10.77.0.5", True),
        ("10.77.0.5", None, "10.77.0.6", False),
        ("10.77.0.0/24", None, "10.77.0.6", True),
        ("10.77.1.0/24", None, "10.77.0.6", False),
        ("*", None, "10.77.0.6", True),
        ("10.77.0.5", 23, "10.77.0.5", True),
        ("10.77.0.5", 2323, "10.77.0.5", False),
    ],
)
def test_target_and_port_matching(target: str, port: int | None, ip: str, matches: bool) -> None:
    assert waiver(target=target, port=port).matches(finding(Status.FAIL, ip=ip)) is matches


def test_agency_level_answer_is_waived_by_agency_id() -> None:
    answer = finding(Status.FAIL, ip=AGENCY, port=None, check="org.backup_tested")
    rule = waiver(check="org.backup_tested", target=AGENCY)
    assert rule.matches(answer)
    assert not rule.matches(
        finding(Status.FAIL, ip="tn-xa-khac", port=None, check="org.backup_tested")
    )


def test_waived_findings_leave_the_score() -> None:
    # one high check failing on one of its two targets is as good as that target: 0 (issue
    # #13); with the failure waived only the pass is left = 100
    plain = [finding(Status.FAIL), finding(Status.PASS, ip="10.77.0.6")]
    waived, _ = apply_waivers(plain, [waiver()], TODAY)
    assert score_findings(plain).overall == 0.0
    score = score_findings(waived)
    assert score.overall == 100.0 and score.applicable == 1
    assert score.counts["waived"] == 1


def test_load_waivers_file(tmp_path: Path) -> None:
    path = write(
        tmp_path / "waivers.toml",
        waiver_text() + "\n" + waiver_text("org.backup_tested", AGENCY, "2027-01-31"),
    )
    waivers = load_waivers(path)
    assert [w.check for w in waivers] == ["net.telnet_exposed", "org.backup_tested"]
    assert waivers[1].expires == date(2027, 1, 31)
    document = WaiverFile(waivers=waivers).model_dump(mode="json")
    assert WaiverFile.model_validate(document).waivers == waivers


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (waiver_text(check="net.telnet"), "waiver[0].check", "not in the check catalogue"),
        (waiver_text().replace("Trần Thị B", " "), "waiver[0].approver", "blank"),
        (waiver_text(expires='"soon"'), "waiver[0].expires", "date"),
        (waiver_text(extra="approved_on = 2027-01-01\n"), "waiver[0].expires", "approved_on"),
        (waiver_text(extra="port = 70000\n"), "waiver[0].port", "65535"),
        (waiver_text().replace("expires = 2026-12-31\n", ""), "waiver[0].expires", "required"),
        (waiver_text(extra="owner = 3\n"), "waiver[0].owner", "not a known setting"),
    ],
)
def test_a_bad_waiver_names_its_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_waivers(write(tmp_path / "waivers.toml", text))
    assert err.value.key == key and words in err.value.reason


def test_the_documented_example_loads() -> None:
    example = Path(__file__).parents[3] / "docs/examples/waivers.toml"
    waivers = load_waivers(example)
    assert [w.check for w in waivers] == ["net.telnet_exposed", "org.backup_tested"]
    assert waivers[1].target == AGENCY
