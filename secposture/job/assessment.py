"""Judging one sweep: its checks, the agency's answers and waivers, then every framework.

The sweep job and ``secposture score`` both come here, so a stored sweep re-scored today with
the current frameworks, answers and waivers gives what a fresh sweep would have given for the
same observations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from secposture.assess.selfassessment import (
    Questionnaire,
    answer_states,
    load_questionnaire,
    self_assessment_findings,
)
from secposture.assess.waivers import Waiver, apply_waivers, load_waivers
from secposture.checks import load_catalogue, run_checks
from secposture.checks.lifecycle import load_confirmations
from secposture.checks.registry import CheckOptions
from secposture.config.sections import AgencyConfig
from secposture.frameworks import Framework, frameworks_for
from secposture.model.records import Finding, SweepResult
from secposture.model.score import Score
from secposture.scoring.posture import evaluate_posture
from secposture.scoring.score import Posture, score_findings


@dataclass(frozen=True, slots=True)
class AssessmentInputs:
    """What the agency and the province supply besides the sweep, validated."""

    frameworks: dict[str, Framework]
    questionnaire: Questionnaire | None
    waivers: tuple[Waiver, ...]
    # What the agency's files add to the checks (lifecycle confirmations).
    checks: CheckOptions = field(default_factory=CheckOptions)


@dataclass(frozen=True, slots=True)
class Assessment:
    """A sweep judged: its findings, the headline score and the posture per framework."""

    findings: list[Finding]  # network, device, inventory and self-assessment; waivers applied
    score: Score  # the flat headline score over all findings
    posture: Posture  # per framework, section and requirement


def load_inputs(config: AgencyConfig) -> AssessmentInputs:
    """Read the frameworks, questionnaire and waivers the config names.

    Raises :class:`~secposture.config.errors.ConfigError` naming the file and key. The sweep
    job calls this before sweeping, so a typo in a waiver never costs a sweep.
    """
    section = config.assessment
    catalogue = load_catalogue()
    questionnaire = None
    if section.selfassessment is not None:
        questionnaire = load_questionnaire(
            section.selfassessment, agency_id=config.agency.id, catalogue=catalogue
        )
    waivers: tuple[Waiver, ...] = ()
    if section.waivers is not None:
        waivers = load_waivers(section.waivers, catalogue=catalogue)
    checks = CheckOptions()
    if section.lifecycle_confirmations is not None:
        checks = CheckOptions(
            lifecycle_confirmations=load_confirmations(section.lifecycle_confirmations)
        )
    return AssessmentInputs(
        frameworks=frameworks_for(section, catalogue=catalogue),
        questionnaire=questionnaire,
        waivers=waivers,
        checks=checks,
    )


def assess(
    sweep: SweepResult,
    config: AgencyConfig,
    *,
    inputs: AssessmentInputs | None = None,
    today: date | None = None,
    extra_findings: Iterable[Finding] = (),
) -> Assessment:
    """Findings for the sweep (host checks, ``extra_findings`` such as the inventory-wide
    checks, self-assessment answers), waivers applied, and the posture for every framework."""
    inputs = inputs if inputs is not None else load_inputs(config)
    findings = [*run_checks(sweep, inputs.checks), *extra_findings]
    return judge(findings, config, sweep_id=sweep.sweep_id, inputs=inputs, today=today)


def judge(
    findings: Iterable[Finding],
    config: AgencyConfig,
    *,
    sweep_id: str,
    inputs: AssessmentInputs | None = None,
    today: date | None = None,
) -> Assessment:
    """Add the self-assessment answers to findings already made, apply the waivers, and score
    every framework.

    ``today`` decides which answers are stale and which waivers have expired (default: the
    machine's local date, the date the agency's documents are dated in).
    """
    inputs = inputs if inputs is not None else load_inputs(config)
    today = today or date.today()
    answers = self_assessment_findings(inputs.questionnaire, config.agency.id, today)
    judged, waiver_states = apply_waivers([*findings, *answers], inputs.waivers, today)
    posture = evaluate_posture(
        inputs.frameworks.values(),
        judged,
        agency_id=config.agency.id,
        level=config.agency.level.tier.value,
        system_level=config.assessment.system_level,
        sweep_id=sweep_id,
        assessed_on=today,
        answers=answer_states(inputs.questionnaire, today),
        waivers=waiver_states,
    )
    return Assessment(findings=judged, score=score_findings(judged), posture=posture)
