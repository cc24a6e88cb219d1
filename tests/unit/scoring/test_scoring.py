"""Scores use assessed findings only; coverage shows what was left out (issue #2)."""

from __future__ import annotations

from secposture.model.records import Finding, Severity, Status, Target
from secposture.scoring.score import score_findings


def f(status: Status, severity: Severity = Severity.HIGH, check: str = "net.x") -> Finding:
    return Finding(check_id=check, status=status, severity=severity, target=Target(ip="10.0.0.1"))


def test_hand_computed_score_and_coverage() -> None:
    # checks: high pass (6) + medium fail (3) + low pass (1): credit 7 / weight 10 → 70
    findings = [
        f(Status.PASS, check="net.a"),
        f(Status.FAIL, Severity.MEDIUM, check="net.b"),
        f(Status.PASS, Severity.LOW, check="net.c"),
        f(Status.NOT_ASSESSED, check="net.d"),
        f(Status.NOT_APPLICABLE, check="net.e"),
    ]
    score = score_findings(findings)
    assert score.overall == 70.0
    assert score.assessed == 3 and score.applicable == 4
    assert score.coverage == 0.75


def test_not_assessed_never_counts_as_pass() -> None:
    score = score_findings([f(Status.FAIL), f(Status.NOT_ASSESSED), f(Status.NOT_ASSESSED)])
    assert score.overall == 0.0
    assert score.coverage == round(1 / 3, 3)


def test_nothing_assessed_gives_no_score() -> None:
    score = score_findings([f(Status.NOT_ASSESSED)])
    assert score.overall is None and score.coverage == 0.0
