"""Self-assessment: what a scan cannot see, declared by the agency with its evidence.

One questionnaire file per agency (TOML), in the GCI questionnaire's style (yes / no / partial
with supporting documents). Each answer names a catalogue check whose ``evaluates`` is
``self_assessment``, says ``yes | no | partial | n/a``, cites its evidence (document number and
date) and who answered when::

    agency = "tn-xa-mau"

    [[answer]]
    check = "org.security_officer"
    answer = "yes"
    evidence = "QĐ 15/QĐ-UBND ngày 03/02/2026"
    answered_by = "Nguyễn Văn A, công chức VP-TK"
    answered_on = 2026-02-05

An answer older than 12 months no longer counts: its check is ``not_assessed``, exactly like a
check nobody answered, so a stale "yes" never props up a score.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from secposture.checks.catalogue import CheckMeta, Evaluates, load_catalogue
from secposture.config.datafile import load_model
from secposture.config.errors import ConfigError
from secposture.model.i18n import said
from secposture.model.records import Finding, Record, Status, Target

# How long an answer counts: secposture's own choice (issue #13: a project choice, not a rule of
# any framework), said as such wherever a stale answer is reported.
VALID_MONTHS = 12


class AnswerValue(StrEnum):
    """What an agency may answer to a self-assessment question."""

    YES = "yes"
    NO = "no"
    PARTIAL = "partial"
    NOT_APPLICABLE = "n/a"


ANSWER_STATUS: dict[AnswerValue, Status] = {
    AnswerValue.YES: Status.PASS,
    AnswerValue.PARTIAL: Status.PARTIAL,
    AnswerValue.NO: Status.FAIL,
    AnswerValue.NOT_APPLICABLE: Status.NOT_APPLICABLE,
}


class Answer(Record):
    """One answered question: the check, the answer, its evidence, and who answered when."""

    check: str
    answer: AnswerValue
    evidence: str = ""  # document number and date, or where the proof is kept
    answered_by: str = Field(min_length=1)
    answered_on: date
    note: str = ""

    @field_validator("check")
    @classmethod
    def _self_assessment_check(cls, value: str, info: ValidationInfo) -> str:
        catalogue = _catalogue(info)
        meta = catalogue.get(value)
        if meta is None:
            raise ValueError(f"'{value}' is not in the check catalogue")
        if meta.evaluates is not Evaluates.SELF_ASSESSMENT:
            raise ValueError(f"'{value}' is a {meta.evaluates.value} check, not a question")
        return value

    @model_validator(mode="after")
    def _evidence_for_yes(self) -> Answer:
        # A claim of compliance without a document to show for it is not evidence.
        if self.answer in (AnswerValue.YES, AnswerValue.PARTIAL) and not self.evidence.strip():
            raise ValueError(
                f"evidence is required for a '{self.answer.value}' answer "
                "(document number and date)"
            )
        return self

    def current_until(self) -> date:
        """The last day this answer still counts."""
        return add_months(self.answered_on, VALID_MONTHS)

    def is_current(self, today: date) -> bool:
        """Does the answer still count on ``today`` (answered, and not yet out of date)?"""
        return self.answered_on <= today <= self.current_until()


class Questionnaire(Record):
    """An agency's answers, as read from its file (``[[answer]]`` tables)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, serialize_by_alias=True
    )

    agency: str | None = None
    answers: tuple[Answer, ...] = Field(default=(), alias="answer")

    @model_validator(mode="after")
    def _one_answer_per_check(self) -> Questionnaire:
        seen: set[str] = set()
        for answer in self.answers:
            if answer.check in seen:
                raise ValueError(f"answer: '{answer.check}' is answered twice")
            seen.add(answer.check)
        return self

    def by_check(self) -> dict[str, Answer]:
        """The answers by the check they answer."""
        return {a.check: a for a in self.answers}


class AnswerState(Record):
    """An answer as the posture shows it: does it still count on the day of assessment?"""

    answer: Answer
    current: bool


def _catalogue(info: ValidationInfo) -> dict[str, CheckMeta]:
    context: Any = info.context
    if isinstance(context, dict) and "catalogue" in context:
        catalogue: dict[str, CheckMeta] = context["catalogue"]
        return catalogue
    return load_catalogue()


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the 29th-31st fall back to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def load_questionnaire(
    path: Path, *, agency_id: str | None = None, catalogue: dict[str, CheckMeta] | None = None
) -> Questionnaire:
    """Read and validate a questionnaire file; a file for another agency is refused."""
    questionnaire = load_model(
        path, "selfassessment", Questionnaire, {"catalogue": catalogue or load_catalogue()}
    )
    if agency_id and questionnaire.agency and questionnaire.agency != agency_id:
        raise ConfigError(
            "selfassessment.agency",
            f"the file is for '{questionnaire.agency}', not '{agency_id}'",
            str(path),
        )
    return questionnaire


def self_assessment_findings(
    questionnaire: Questionnaire | None,
    agency_id: str,
    today: date,
    catalogue: dict[str, CheckMeta] | None = None,
) -> list[Finding]:
    """One finding per self-assessment check in the catalogue, answered or not.

    The target is the agency itself (``Target.ip`` holds its id): these checks judge the
    organisation, not a host.
    """
    catalogue = catalogue or load_catalogue()
    answers = questionnaire.by_check() if questionnaire else {}
    questions = sorted(
        (m for m in catalogue.values() if m.evaluates is Evaluates.SELF_ASSESSMENT),
        key=lambda m: m.id,
    )
    return [_finding(meta, answers.get(meta.id), agency_id, today) for meta in questions]


def _finding(meta: CheckMeta, answer: Answer | None, agency_id: str, today: date) -> Finding:
    target = Target(ip=agency_id)

    def finding(status: Status, evidence: str = "", reason: str = "") -> Finding:
        return Finding(
            check_id=meta.id,
            status=status,
            severity=meta.severity,
            target=target,
            evidence=evidence,
            reason=reason,
        )

    if answer is None:
        return finding(Status.NOT_ASSESSED, reason="not answered in the self-assessment")
    if answer.answered_on > today:
        return finding(
            Status.NOT_ASSESSED,
            reason=said("answer dated {day} is in the future", day=answer.answered_on.isoformat()),
        )
    if not answer.is_current(today):
        return finding(
            Status.NOT_ASSESSED,
            reason=said(
                "answer of {day} is older than {months} months",
                day=answer.answered_on.isoformat(),
                months=VALID_MONTHS,
            ),
        )
    evidence = _evidence(answer)
    status = ANSWER_STATUS[answer.answer]
    if status is Status.NOT_APPLICABLE:
        return finding(status, evidence=evidence, reason=answer.note or "answered n/a")
    return finding(status, evidence=evidence)


def _evidence(answer: Answer) -> str:
    who = f"{answer.answered_by}, {answer.answered_on.isoformat()}"
    proof = f": {answer.evidence}" if answer.evidence else ""
    note = f" — {answer.note}" if answer.note else ""
    return f"{answer.answer.value}{proof} ({who}){note}"


def answer_states(questionnaire: Questionnaire | None, today: date) -> tuple[AnswerState, ...]:
    """Every answer with whether it still counts, for the report."""
    if questionnaire is None:
        return ()
    return tuple(AnswerState(answer=a, current=a.is_current(today)) for a in questionnaire.answers)
