"""Frameworks over findings: per requirement, per section, per framework, with coverage.

The arithmetic, which each framework file's ``method_note`` repeats for the reader:

* **Requirement**: its checks' findings, severity-weighted (as in :func:`score_findings`):
  ``ratio = Σ w·credit / Σ w`` over assessed findings (pass 1, partial ½, fail 0);
  ``coverage = assessed / applicable``. Not-applicable and waived findings count in neither.
* **Section**: over requirements that apply at the agency's level, with their weights there:
  ``ratio = Σ wᵣ·ratioᵣ / Σ wᵣ`` over scored requirements, ``coverage = Σ wᵣ·coverageᵣ / Σ wᵣ``
  over applicable ones (an unassessed requirement adds weight but no coverage).
  Points: ``points = ratio × max_points``.
* **Framework**: the same over sections, each weighing its ``max_points`` (1 if it has none):
  ``score = max_score × Σ wₛ·ratioₛ / Σ wₛ`` over scored sections. A section that does not
  apply (GCI's national legal pillar) or could not be assessed is left out, so the score is
  renormalised over what applies and was seen; coverage says how much that was.
* **Conclusion method** (vn-baseline): a requirement meets when none of its assessed findings
  fails; a section meets when every requirement that applies meets, does not meet when any
  does not, and is not assessed otherwise. The framework's score is the share of assessed
  sections that meet.

A score whose coverage is below the framework's ``provisional_below`` is flagged provisional.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import TypeVar

from secposture.assess.selfassessment import AnswerState
from secposture.assess.waivers import WaiverState
from secposture.frameworks import AppliesBy, Framework, Method, Requirement, Section, SectionScope
from secposture.model.records import Finding
from secposture.scoring.score import (
    Conclusion,
    FrameworkPosture,
    ItemStatus,
    Posture,
    RequirementScore,
    SectionScore,
    Tally,
    TierResult,
    Unscored,
    merged,
    tally,
)

Weighted = list[tuple[float, float | None, float]]  # (weight, ratio or None, coverage)
Item = TypeVar("Item", RequirementScore, SectionScore)
# Reasons that make an item not applicable; any other reason leaves it not assessed.
NOT_APPLICABLE_BECAUSE = frozenset(
    {Unscored.NATIONAL, Unscored.NOT_AT_LEVEL, Unscored.NOTHING_APPLICABLE}
)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _combine(items: Weighted) -> tuple[float | None, float]:
    """Weighted ratio over the items that have one, and weighted coverage over all of them."""
    total = sum(w for w, _, _ in items)
    scored = [(w, r) for w, r, _ in items if r is not None]
    scored_weight = sum(w for w, _ in scored)
    ratio = sum(w * r for w, r in scored) / scored_weight if scored_weight > 0 else None
    coverage = sum(w * c for w, _, c in items) / total if total > 0 else 0.0
    return ratio, coverage


def _roll_up(
    scored: Sequence[tuple[Item, float | None, float]], weight: Callable[[Item], float]
) -> tuple[list[Item], float | None, float]:
    """The children that apply, with their weighted ratio and coverage."""
    applicable = [
        (item, r, c) for item, r, c in scored if item.status is not ItemStatus.NOT_APPLICABLE
    ]
    ratio, coverage = _combine([(weight(item), r, c) for item, r, c in applicable])
    return [item for item, _, _ in applicable], ratio, coverage


def _status(unscored: Unscored | None) -> ItemStatus:
    if unscored is None:
        return ItemStatus.SCORED
    if unscored in NOT_APPLICABLE_BECAUSE:
        return ItemStatus.NOT_APPLICABLE
    return ItemStatus.NOT_ASSESSED


def _conclude(conclusions: Iterable[Conclusion], *, complete: bool) -> Conclusion:
    """A group's (or framework's) conclusion from its parts'. "Meets" only when every part
    meets and the parts are all the source requires (``complete``); when what was assessed
    passes but something is missing, "no failure found"; one failure: "does not meet"."""
    found = list(conclusions)
    if not found:
        return Conclusion.NOT_APPLICABLE
    if Conclusion.DOES_NOT_MEET in found:
        return Conclusion.DOES_NOT_MEET
    if complete and all(c is Conclusion.MEETS for c in found):
        return Conclusion.MEETS
    if any(c in (Conclusion.MEETS, Conclusion.NO_FAILURE_FOUND) for c in found):
        return Conclusion.NO_FAILURE_FOUND
    return Conclusion.NOT_ASSESSED


def _score_requirement(
    fw: Framework,
    section: Section,
    req: Requirement,
    selector: str,
    by_check: Mapping[str, Tally],
) -> tuple[RequirementScore, float | None, float]:
    """The requirement's score, with its unrounded ratio and coverage for the sums above it."""
    weight = req.weight_at(selector, fw.selector_values())
    found = [by_check[check] for check in req.checks if check in by_check]
    t = merged(found)
    unscored: Unscored | None = None
    if section.scope is SectionScope.NATIONAL:
        unscored = Unscored.NATIONAL
    elif weight is None:
        unscored = Unscored.NOT_AT_LEVEL
    elif not req.checks:
        unscored = Unscored.NO_CHECKS
    elif not found:
        unscored = Unscored.NO_FINDINGS
    elif not t.applicable:
        unscored = Unscored.NOTHING_APPLICABLE
    elif not t.assessed:
        unscored = Unscored.NOTHING_ASSESSED
    status = _status(unscored)
    ratio = t.share if status is ItemStatus.SCORED else None
    conclusion: Conclusion | None = None
    if fw.info.method is Method.CONCLUSION:
        conclusion = {
            ItemStatus.NOT_APPLICABLE: Conclusion.NOT_APPLICABLE,
            ItemStatus.NOT_ASSESSED: Conclusion.NOT_ASSESSED,
            ItemStatus.SCORED: Conclusion.DOES_NOT_MEET
            if t.failed
            else Conclusion.MEETS
            if t.assessed == t.applicable
            else Conclusion.NO_FAILURE_FOUND,  # some of its findings could not be assessed
        }[status]
    coverage = t.coverage if status is not ItemStatus.NOT_APPLICABLE else 0.0
    score = RequirementScore(
        id=req.id,
        ref=req.ref,
        title_vi=req.title_vi,
        title_en=req.title_en,
        checks=req.checks,
        status=status,
        unscored=unscored,
        weight=weight,
        ratio=_round(ratio, 4),
        coverage=round(coverage, 3),
        assessed=t.assessed,
        applicable=t.applicable,
        counts=t.counts,
        conclusion=conclusion,
        provisional=status is ItemStatus.SCORED and coverage < fw.info.provisional_below,
        verified=req.verified,
        note=req.note,
    )
    return score, ratio, coverage


def _score_section(
    fw: Framework, section: Section, selector: str, by_check: Mapping[str, Tally]
) -> tuple[SectionScore, float | None, float]:
    """The section's score, with its unrounded ratio and coverage for the framework's sums."""
    scored = [
        _score_requirement(fw, section, req, selector, by_check)
        for req in fw.requirements_of(section.id)
    ]
    reqs = tuple(score for score, _, _ in scored)
    applicable, ratio, coverage = _roll_up(scored, lambda r: r.weight or 0.0)
    conclusion: Conclusion | None = None
    if fw.info.method is Method.CONCLUSION:
        conclusion = _conclude(
            (r.conclusion for r in applicable if r.conclusion is not None),
            complete=section.complete,
        )
        # A group's share is its conclusion: no failure (1; "meets" when complete) or a
        # failure (0); otherwise it is not assessed.
        ratio = {
            Conclusion.MEETS: 1.0,
            Conclusion.NO_FAILURE_FOUND: 1.0,
            Conclusion.DOES_NOT_MEET: 0.0,
        }.get(conclusion)
    unscored: Unscored | None = None
    if section.scope is SectionScope.NATIONAL:
        unscored = Unscored.NATIONAL
    elif not applicable:
        reasons = {r.unscored for r in reqs}
        only_level = reasons == {Unscored.NOT_AT_LEVEL}
        unscored = Unscored.NOT_AT_LEVEL if only_level else Unscored.NOTHING_APPLICABLE
    elif ratio is None:
        no_checks = all(r.unscored is Unscored.NO_CHECKS for r in applicable)
        unscored = Unscored.NO_CHECKS if no_checks else Unscored.NOTHING_ASSESSED
    status = _status(unscored)
    if status is ItemStatus.NOT_APPLICABLE:
        coverage = 0.0
    points = None
    if ratio is not None and section.max_points is not None:
        points = ratio * section.max_points
    score = SectionScore(
        id=section.id,
        ref=section.ref,
        title_vi=section.title_vi,
        title_en=section.title_en,
        scope=section.scope.value,
        status=status,
        unscored=unscored,
        max_points=section.max_points,
        points=_round(points, 2),
        percent=_round(None if ratio is None else 100.0 * ratio, 1),
        coverage=round(coverage, 3),
        provisional=status is ItemStatus.SCORED and coverage < fw.info.provisional_below,
        conclusion=conclusion,
        verified=section.verified,
        note=section.note,
        requirements=reqs,
    )
    return score, ratio, coverage


def _tier(fw: Framework, score: float | None) -> TierResult | None:
    if score is None:
        return None
    for tier in sorted(fw.tiers, key=lambda t: t.rank):
        if score >= tier.min_score:
            return TierResult(
                rank=tier.rank,
                id=tier.id,
                name_vi=tier.name_vi,
                name_en=tier.name_en,
                min_score=tier.min_score,
                verified=tier.verified,
                note=tier.note,
            )
    return None


def check_tallies(findings: Iterable[Finding]) -> dict[str, Tally]:
    """Each check's findings summed, once for every framework: a requirement adds up its
    checks' sums (issue #20: tallying each requirement's findings anew, framework after
    framework, was 0.3-0.5 s of a 10,000-host import)."""
    grouped: defaultdict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        grouped[f.check_id].append(f)
    return {check: tally(found) for check, found in grouped.items()}


def evaluate_framework(
    fw: Framework, findings: Iterable[Finding] | Mapping[str, Tally], selector: str
) -> FrameworkPosture:
    """One framework's posture for an agency standing at ``selector`` (its level), from the
    findings or from their :func:`check_tallies`."""
    by_check = findings if isinstance(findings, Mapping) else check_tallies(findings)
    scored = [_score_section(fw, s, selector, by_check) for s in fw.sections]
    sections = tuple(score for score, _, _ in scored)
    applicable, ratio, coverage = _roll_up(scored, lambda s: s.max_points or 1.0)
    score = None if ratio is None else ratio * fw.info.max_score
    conclusion: Conclusion | None = None
    if fw.info.method is Method.CONCLUSION:
        conclusion = _conclude(
            (s.conclusion for s in applicable if s.conclusion is not None),
            complete=all(section.complete for section in fw.sections),
        )
    by_section = Counter(
        (s.conclusion.value if s.conclusion is not None else s.status.value) for s in sections
    )
    by_requirement = Counter(
        (r.conclusion.value if r.conclusion is not None else r.status.value)
        for s in sections
        for r in s.requirements
    )
    info = fw.info
    return FrameworkPosture(
        id=info.id,
        version=info.version,
        title_vi=info.title_vi,
        title_en=info.title_en,
        method=info.method.value,
        applies_by=info.applies_by.value,
        applied_at=selector,
        section_label_vi=info.section_label_vi,
        section_label_en=info.section_label_en,
        requirement_label_vi=info.requirement_label_vi,
        requirement_label_en=info.requirement_label_en,
        method_note_vi=info.method_note_vi,
        method_note_en=info.method_note_en,
        max_score=info.max_score,
        score=_round(score, 1),
        coverage=round(coverage, 3),
        provisional=score is not None and coverage < info.provisional_below,
        provisional_below=info.provisional_below,
        tier=_tier(fw, None if score is None else round(score, 1)),
        conclusion=conclusion,
        sections_by_status=dict(by_section),
        requirements_by_status=dict(by_requirement),
        sections=sections,
    )


def evaluate_posture(
    frameworks: Iterable[Framework],
    findings: Iterable[Finding],
    *,
    agency_id: str,
    level: str,
    system_level: int,
    sweep_id: str,
    assessed_on: date,
    answers: tuple[AnswerState, ...] = (),
    waivers: tuple[WaiverState, ...] = (),
) -> Posture:
    """Every framework's posture for one agency, from one set of (waived) findings."""
    by_check = check_tallies(findings)
    selectors = {AppliesBy.AGENCY_LEVEL: level, AppliesBy.SYSTEM_LEVEL: str(system_level)}
    return Posture(
        agency_id=agency_id,
        level=level,
        system_level=system_level,
        sweep_id=sweep_id,
        assessed_on=assessed_on,
        frameworks=tuple(
            evaluate_framework(fw, by_check, selectors[fw.info.applies_by]) for fw in frameworks
        ),
        answers=answers,
        waivers=waivers,
    )
