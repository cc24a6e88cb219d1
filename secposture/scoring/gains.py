"""The fixes that raise the agency's score most, computed with the score's own tally.

A fix is one check remediated on every target where it failed (or partly failed): the agency
turns Telnet off on each device that offers it, not on one. Its gain is exact, not estimated:
the score is the tally's weighted credit over its weight
(:func:`secposture.scoring.score.score_findings`), and fixing a finding gives it full credit
without changing any weight, so the gain of a check is the credit its failed findings miss
(:attr:`~secposture.scoring.score.Tally.missing`) over the weight of the whole sweep. Waived,
not-applicable and not-assessed findings are outside the score and so are not fixes
(answering a question may move the score either way; it is listed as not assessed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from secposture.model.records import Finding, Severity, Status
from secposture.scoring.score import ASSESSED, tally


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
    total = tally(findings).weight
    failed: dict[str, list[Finding]] = {}
    for f in findings:
        if f.status in ASSESSED and f.status is not Status.PASS:
            failed.setdefault(f.check_id, []).append(f)
    fixes = [
        Fix(
            check_id=check_id,
            severity=max((f.severity for f in found), key=lambda s: s.rank),
            targets=len(found),
            gain=100.0 * tally(found).missing / total if total > 0 else 0.0,
        )
        for check_id, found in failed.items()
    ]
    fixes.sort(key=lambda fix: (-fix.gain, -fix.severity.rank, fix.check_id))
    return fixes


# The summary lists this many: enough to plan the next weeks' work, few enough to read.
TOP_FIXES = 5


def top_fixes(findings: Iterable[Finding], count: int = TOP_FIXES) -> list[Fix]:
    """The ``count`` fixes worth most; a fix that gains nothing (severity info) is left out."""
    return [fix for fix in score_gains(findings) if fix.gain > 0][:count]
