"""The fixes that raise the agency's score most, computed with the score's own rules.

A fix is one check remediated on every target where it failed (or partly failed): the agency
turns Telnet off on each device that offers it, not on one. Its gain is exact, not estimated:
the headline score (:func:`secposture.scoring.score.headline`) is re-computed with that check
passing everywhere, its cap lifted if it was the last open finding of the capped severity, and
the gain is the difference. Waived, not-applicable and not-assessed findings are outside the
score and so are not fixes (answering a question may move the score either way; it is listed
as not assessed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from secposture.model.records import Finding, Severity
from secposture.scoring.score import CheckState, check_states, headline


@dataclass(frozen=True, slots=True)
class Fix:
    """One check to remediate, on ``targets`` targets, worth ``gain`` points of the score."""

    check_id: str
    severity: Severity
    targets: int
    gain: float  # points out of 100 the overall score rises by once every target is fixed


def score_gains(findings: Iterable[Finding]) -> list[Fix]:
    """Every check that has something to fix, largest gain first (ties: severity, then id)."""
    states = check_states(findings)
    now, _raw, _cap = headline(states)
    fixes = []
    for check_id, state in states.items():
        if not state.open:
            continue
        fixed = {**states, check_id: CheckState(state.severity)}
        after, _raw, _cap = headline(fixed)
        gain = (after or 0.0) - (now or 0.0)
        fixes.append(Fix(check_id, state.severity, state.open, round(gain, 1)))
    fixes.sort(key=lambda fix: (-fix.gain, -fix.severity.rank, fix.check_id))
    return fixes


# The summary lists this many: enough to plan the next weeks' work, few enough to read.
TOP_FIXES = 5


def top_fixes(findings: Iterable[Finding], count: int = TOP_FIXES) -> list[Fix]:
    """The ``count`` fixes worth most; a fix that gains nothing (severity info) is left out."""
    return [fix for fix in score_gains(findings) if fix.gain > 0][:count]
