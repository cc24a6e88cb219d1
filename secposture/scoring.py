"""Posture score: weighted share of passed checks over what could be assessed.

What could not be assessed is left out of the denominator and reported as coverage, so a
sweep that saw little never looks better than one that saw everything.
"""

from __future__ import annotations

from collections.abc import Iterable

from secposture.models import Finding, Record, Severity, Status

# Weight of one finding by severity: a failed critical item costs ten low ones.
SEVERITY_WEIGHT: dict[Severity, float] = {
    Severity.CRITICAL: 10.0,
    Severity.HIGH: 6.0,
    Severity.MEDIUM: 3.0,
    Severity.LOW: 1.0,
    Severity.INFO: 0.0,
}
STATUS_CREDIT: dict[Status, float] = {Status.PASS: 1.0, Status.PARTIAL: 0.5, Status.FAIL: 0.0}
ASSESSED = frozenset(STATUS_CREDIT)


class Score(Record):
    overall: float | None  # 0-100, None when nothing could be assessed
    coverage: float  # assessed / applicable, 0-1
    assessed: int
    applicable: int
    counts: dict[str, int]


def score_findings(findings: Iterable[Finding]) -> Score:
    """Score a set of findings; waived ones count as neither pass nor fail."""
    weight = credit = 0.0
    assessed = applicable = 0
    counts = {s.value: 0 for s in Status}
    for f in findings:
        counts[f.status.value] += 1
        if f.status in (Status.NOT_APPLICABLE, Status.WAIVED):
            continue
        applicable += 1
        if f.status in ASSESSED:
            assessed += 1
            w = SEVERITY_WEIGHT[f.severity]
            weight += w
            credit += w * STATUS_CREDIT[f.status]
    overall = round(100.0 * credit / weight, 1) if weight > 0 else None
    coverage = round(assessed / applicable, 3) if applicable else 0.0
    return Score(
        overall=overall,
        coverage=coverage,
        assessed=assessed,
        applicable=applicable,
        counts=counts,
    )
