"""The fixes that raise the agency's score most, computed from the scoring weights.

A fix is one check remediated on every target where it failed (or partly failed): the agency
turns Telnet off on each device that offers it, not on one. Its gain is exact, not estimated:
the score is ``100 × Σ w·credit / Σ w`` over assessed findings
(:func:`secposture.scoring.score.score_findings`), and fixing a finding moves its credit to 1
without changing any weight, so the gain of a check is ``100 × Σ w·(1 − credit) / Σ w`` over
its failed findings. Waived, not-applicable and not-assessed findings are outside the score
and so are not fixes (answering a question may move the score either way; it is listed as not
assessed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from secposture.model.records import Finding, Severity, Status
from secposture.scoring.score import ASSESSED, SEVERITY_WEIGHT, STATUS_CREDIT

TOP_FIXES = 5


@dataclass(frozen=True, slots=True)
class Fix:
    """One check to remediate, on ``targets`` targets, worth ``gain`` points of the score."""

    check_id: str
    severity: Severity
    targets: int
    gain: float  # points out of 100 the overall score rises by once every target is fixed


def score_gains(findings: Iterable[Finding]) -> list[Fix]:
    """Every check that has something to fix, largest gain first (ties: severity, then id)."""
    findings = list(findings)
    total = sum(SEVERITY_WEIGHT[f.severity] for f in findings if f.status in ASSESSED)
    missing: dict[str, float] = {}
    targets: dict[str, int] = {}
    severity: dict[str, Severity] = {}
    for f in findings:
        if f.status not in ASSESSED or f.status is Status.PASS:
            continue
        missing[f.check_id] = missing.get(f.check_id, 0.0) + SEVERITY_WEIGHT[f.severity] * (
            1.0 - STATUS_CREDIT[f.status]
        )
        targets[f.check_id] = targets.get(f.check_id, 0) + 1
        if f.severity.rank > severity.get(f.check_id, Severity.INFO).rank:
            severity[f.check_id] = f.severity
        else:
            severity.setdefault(f.check_id, f.severity)
    fixes = [
        Fix(
            check_id=check_id,
            severity=severity[check_id],
            targets=targets[check_id],
            gain=100.0 * lost / total if total > 0 else 0.0,
        )
        for check_id, lost in missing.items()
    ]
    fixes.sort(key=lambda fix: (-fix.gain, -fix.severity.rank, fix.check_id))
    return fixes


def top_fixes(findings: Iterable[Finding], count: int = TOP_FIXES) -> list[Fix]:
    """The ``count`` fixes worth most; a fix that gains nothing (severity info) is left out."""
    return [fix for fix in score_gains(findings) if fix.gain > 0][:count]
