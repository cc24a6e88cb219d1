"""Posture scores: weighted share of passed checks over what could be assessed.

What could not be assessed is left out of the denominator and reported as coverage, so a
sweep that saw little never looks better than one that saw everything.

Two levels live here. :func:`score_findings` gives one flat :class:`Score` over a sweep's
findings (the report's headline and the inventory's history use it). :class:`Posture` is the
framework view that :mod:`secposture.scoring.posture` builds: per framework, per section
(GCI pillar, TCVN group, CIS control) and per requirement (indicator, clause, safeguard), each
score with its coverage beside it and a provisional flag when coverage is low.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from secposture.assess.selfassessment import AnswerState
from secposture.assess.waivers import WaiverState
from secposture.model.records import Finding, Record, Severity, Status
from secposture.model.score import Cap, Score


@dataclass(frozen=True, slots=True)
class Rules:
    """The headline score's rules from data/scoring.toml: the project's choices, not a norm."""

    weights: dict[Severity, float]
    caps: tuple[tuple[Severity, float], ...]  # most severe first
    note: str


@cache
def load_rules() -> Rules:
    """The shipped rules; a broken file is a packaging bug and raises."""
    raw = resources.files("secposture").joinpath("data/scoring.toml").read_text("utf-8")
    data = tomllib.loads(raw)
    weights = {Severity(k): float(v) for k, v in data["weights"].items()}
    if set(weights) != set(Severity):
        raise ValueError("data/scoring.toml: [weights] must give every severity")
    caps = sorted(
        ((Severity(c["severity"]), float(c["at"])) for c in data.get("cap", [])),
        key=lambda cap: -cap[0].rank,
    )
    return Rules(weights=weights, caps=tuple(caps), note=str(data.get("note", "")))


# Weight of one check by severity: a failed critical item costs ten low ones (data/scoring.toml).
SEVERITY_WEIGHT: dict[Severity, float] = load_rules().weights
STATUS_CREDIT: dict[Status, float] = {Status.PASS: 1.0, Status.PARTIAL: 0.5, Status.FAIL: 0.0}
ASSESSED = frozenset(STATUS_CREDIT)
# Neither evidence for nor against: an accepted risk is a decision, not a gap in what was seen.
NOT_COUNTED = frozenset({Status.NOT_APPLICABLE, Status.WAIVED})


@dataclass(slots=True)
class Tally:
    """Findings summed up: severity-weighted credit over what was assessed, and the counts."""

    weight: float = 0.0
    credit: float = 0.0
    plain_credit: float = 0.0  # unweighted, for items whose findings are all severity info
    assessed: int = 0
    applicable: int = 0
    failed: int = 0  # fail or partial: enough for "does not meet"
    counts: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Status})

    @property
    def ratio(self) -> float | None:
        """Share of credit, 0-1; None when nothing was assessed."""
        if self.weight > 0:
            return self.credit / self.weight
        return None

    @property
    def share(self) -> float | None:
        """Like :attr:`ratio`, but unweighted when every assessed finding weighs nothing."""
        if self.weight > 0 or not self.assessed:
            return self.ratio
        return self.plain_credit / self.assessed

    @property
    def coverage(self) -> float:
        """Assessed findings over applicable ones, 0-1 (0 when nothing applied)."""
        return self.assessed / self.applicable if self.applicable else 0.0

    @property
    def missing(self) -> float:
        """Weighted credit the assessed findings lack: what passing all of them would add."""
        return self.weight - self.credit


def tally(findings: Iterable[Finding]) -> Tally:
    """Sum findings: waived and not-applicable ones count as neither pass nor fail."""
    result = Tally()
    for f in findings:
        result.counts[f.status] += 1  # a StrEnum finds its value's key (.value is slow)
        if f.status in NOT_COUNTED:
            continue
        result.applicable += 1
        if f.status in ASSESSED:
            result.assessed += 1
            w = SEVERITY_WEIGHT[f.severity]
            result.weight += w
            result.credit += w * STATUS_CREDIT[f.status]
            result.plain_credit += STATUS_CREDIT[f.status]
            result.failed += f.status is not Status.PASS
    return result


def merged(tallies: Iterable[Tally]) -> Tally:
    """The tally of several groups of findings, from the groups' tallies (a sum, field by field)."""
    result = Tally()
    for t in tallies:
        result.weight += t.weight
        result.credit += t.credit
        result.plain_credit += t.plain_credit
        result.assessed += t.assessed
        result.applicable += t.applicable
        result.failed += t.failed
        for status, n in t.counts.items():
            result.counts[status] += n
    return result


@dataclass(slots=True)
class CheckState:
    """One check over every target it was assessed on: as good as its worst target."""

    severity: Severity
    credit: float = 1.0  # the lowest credit of its assessed findings
    open: int = 0  # targets where it failed or partly failed

    @property
    def weight(self) -> float:
        return SEVERITY_WEIGHT[self.severity]


def check_states(findings: Iterable[Finding]) -> dict[str, CheckState]:
    """Per check with at least one assessed finding, its worst outcome and open targets."""
    states: dict[str, CheckState] = {}
    for f in findings:
        if f.status not in ASSESSED:
            continue
        state = states.get(f.check_id)
        if state is None:
            state = states[f.check_id] = CheckState(f.severity)
        elif f.severity.rank > state.severity.rank:
            state.severity = f.severity
        credit = STATUS_CREDIT[f.status]
        if credit < 1.0:
            state.open += 1
            state.credit = min(state.credit, credit)
    return states


def headline(states: dict[str, CheckState]) -> tuple[float | None, float | None, Cap | None]:
    """The headline score of these check states: (capped, raw, cap).

    Each check counts once, as good as its worst target, weighted by its severity: a clean host
    adds no credit to a check another host fails, so a larger LAN cannot dilute an exposure.
    An open finding of a capped severity then holds the score at that cap."""
    weight = sum(s.weight for s in states.values())
    if weight <= 0:
        return None, None, None
    raw = round(100.0 * sum(s.weight * s.credit for s in states.values()) / weight, 1)
    for severity, at in load_rules().caps:
        failing = [s for s in states.values() if s.severity is severity and s.open]
        if failing and raw > at:
            cap = Cap(
                severity=severity.value,
                at=at,
                checks=len(failing),
                targets=sum(s.open for s in failing),
            )
            return at, raw, cap
    return raw, raw, None


def score_findings(findings: Iterable[Finding]) -> Score:
    """The headline score of a set of findings; waived and not-applicable ones count as
    neither pass nor fail, and what could not be assessed shows only in the coverage."""
    findings = list(findings)
    t = tally(findings)
    overall, raw, cap = headline(check_states(findings))
    return Score(
        overall=overall,
        coverage=round(t.coverage, 3),
        assessed=t.assessed,
        applicable=t.applicable,
        counts=t.counts,
        raw=raw,
        cap=cap,
    )


# -- the framework view --------------------------------------------------------------------


class ItemStatus(StrEnum):
    """Whether a requirement or section got a score, and if not, which kind of gap it is."""

    SCORED = "scored"
    NOT_ASSESSED = "not_assessed"
    NOT_APPLICABLE = "not_applicable"


class Conclusion(StrEnum):
    """QCVN 12:2026/BCA's per-group conclusion (Đáp ứng / Không đáp ứng), plus the two states
    that keep "could not tell" apart from either."""

    MEETS = "meets"
    # What was assessed passes, but not everything the source requires was (issue #13)
    NO_FAILURE_FOUND = "no_failure_found"
    DOES_NOT_MEET = "does_not_meet"
    NOT_ASSESSED = "not_assessed"
    NOT_APPLICABLE = "not_applicable"


class Unscored(StrEnum):
    """Why an item has no score. Message keys ``posture.unscored.<value>`` say it in words."""

    NATIONAL = "national"  # measured for the country, not an agency (GCI legal pillar)
    NOT_AT_LEVEL = "not_at_level"  # the framework does not ask it at this agency's level
    NO_CHECKS = "no_checks"  # no check evidences it yet
    NO_FINDINGS = "no_findings"  # its checks produced nothing (e.g. no host was found)
    NOTHING_APPLICABLE = "nothing_applicable"  # every finding not applicable or waived
    NOTHING_ASSESSED = "nothing_assessed"  # findings exist, none could be assessed


class RequirementScore(Record):
    """One indicator / clause / safeguard where this agency stands."""

    id: str
    ref: str
    title_vi: str
    title_en: str
    checks: tuple[str, ...]
    status: ItemStatus
    unscored: Unscored | None = None
    weight: float | None  # its weight at this agency's level; None where it does not apply
    ratio: float | None  # severity-weighted share of credit, 0-1
    coverage: float  # assessed / applicable findings, 0-1
    assessed: int
    applicable: int
    counts: dict[str, int]  # findings by status
    conclusion: Conclusion | None = None  # conclusion method only
    provisional: bool = False
    verified: bool = True
    note: str = ""


class SectionScore(Record):
    """One pillar / group / control."""

    id: str
    ref: str
    title_vi: str
    title_en: str
    scope: str  # agency | national
    status: ItemStatus
    unscored: Unscored | None = None
    max_points: float | None  # points method with points per section (GCI: 20)
    points: float | None  # ratio × max_points
    percent: float | None  # ratio × 100
    coverage: float  # weight-averaged coverage of its applicable requirements
    provisional: bool = False
    conclusion: Conclusion | None = None
    verified: bool = True
    note: str = ""
    requirements: tuple[RequirementScore, ...]


class TierResult(Record):
    """The GCI-style tier a framework score falls in, with whether its cut-offs are verified."""

    rank: int
    id: str
    name_vi: str
    name_en: str
    min_score: float
    verified: bool
    note: str = ""


class FrameworkPosture(Record):
    """One framework's result for one agency."""

    id: str
    version: str
    title_vi: str
    title_en: str
    method: str  # points | conclusion
    applies_by: str  # agency_level | system_level
    applied_at: str  # the level used: "commune", or the system level "2"
    section_label_vi: str
    section_label_en: str
    requirement_label_vi: str
    requirement_label_en: str
    method_note_vi: str
    method_note_en: str
    max_score: float
    score: float | None  # 0-max_score over assessed sections; None when nothing assessed
    coverage: float
    provisional: bool
    provisional_below: float
    tier: TierResult | None = None
    conclusion: Conclusion | None = None
    sections_by_status: dict[str, int]  # by conclusion for the conclusion method
    requirements_by_status: dict[str, int]
    sections: tuple[SectionScore, ...]

    @property
    def claimed_tier(self) -> TierResult | None:
        """The tier an output may name: none while the figure is provisional or the tier's
        cut-offs are unverified, since a tier name is a claim about where the agency stands
        (issue #13; the GCI cut-offs are [U] in frameworks.md)."""
        if self.tier is None or not self.tier.verified or self.provisional:
            return None
        return self.tier

    def section(self, section_id: str) -> SectionScore:
        """The section with this id; KeyError if the framework has none."""
        for section in self.sections:
            if section.id == section_id:
                return section
        raise KeyError(section_id)


class Posture(Record):
    """Everything the frameworks say about one agency after one sweep."""

    agency_id: str
    level: str
    system_level: int
    sweep_id: str
    assessed_on: date  # answers and waivers are judged as of this day
    frameworks: tuple[FrameworkPosture, ...]
    answers: tuple[AnswerState, ...] = ()
    waivers: tuple[WaiverState, ...] = ()

    def framework(self, framework_id: str) -> FrameworkPosture:
        """The posture for this framework id; KeyError if it was not scored."""
        for framework in self.frameworks:
            if framework.id == framework_id:
                return framework
        raise KeyError(framework_id)


POSTURE_SCHEMA = 1


def posture_document(posture: Posture) -> dict[str, Any]:
    """The posture as plain JSON data (for findings.json and ``secposture score --json``)."""
    return {"posture_schema": POSTURE_SCHEMA, **posture.model_dump(mode="json")}
