"""Self-assessment answers: what they count as, when they go stale, what a bad file says
(issue #6)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from assessment_factories import AGENCY, ANSWERS, TODAY, questionnaire_text, write

from secposture.assess.selfassessment import (
    Questionnaire,
    add_months,
    load_questionnaire,
    self_assessment_findings,
)
from secposture.checks import load_catalogue
from secposture.checks.catalogue import Evaluates
from secposture.config.errors import ConfigError
from secposture.model.records import Status

QUESTIONS = sorted(
    m.id for m in load_catalogue().values() if m.evaluates is Evaluates.SELF_ASSESSMENT
)


def load(tmp_path: Path, text: str) -> Questionnaire:
    return load_questionnaire(write(tmp_path / "answers.toml", text), agency_id=AGENCY)


def statuses(questionnaire: Questionnaire | None, today: date = TODAY) -> dict[str, Status]:
    return {f.check_id: f.status for f in self_assessment_findings(questionnaire, AGENCY, today)}


def test_answers_map_to_statuses(tmp_path: Path) -> None:
    found = statuses(load(tmp_path, questionnaire_text()))
    assert found == {
        "org.incident_response": Status.PASS,
        "org.system_level_approved": Status.FAIL,
        "org.backup_tested": Status.PARTIAL,
        "org.security_officer": Status.NOT_ASSESSED,  # answered 2025-10-01: stale
        "org.security_regulation": Status.PASS,
        "org.four_layer_model": Status.NOT_APPLICABLE,
        "org.staff_training": Status.PASS,
        "org.monitoring_connected": Status.NOT_ASSESSED,  # not answered
    }


def test_finding_names_the_agency_the_evidence_and_who_answered(tmp_path: Path) -> None:
    findings = self_assessment_findings(load(tmp_path, questionnaire_text()), AGENCY, TODAY)
    training = next(f for f in findings if f.check_id == "org.staff_training")
    assert training.target.ip == AGENCY
    assert "QĐ" in training.evidence and "Nguyễn Văn A" in training.evidence
    assert "2026-06-01" in training.evidence
    assert training.severity is load_catalogue()["org.staff_training"].severity


def test_without_a_questionnaire_every_question_is_not_assessed() -> None:
    findings = self_assessment_findings(None, AGENCY, TODAY)
    assert [f.check_id for f in findings] == QUESTIONS
    assert {f.status for f in findings} == {Status.NOT_ASSESSED}
    assert all(f.reason == "not answered in the self-assessment" for f in findings)


@pytest.mark.parametrize(
    ("answered_on", "today", "current"),
    [
        (date(2025, 11, 28), date(2026, 11, 28), True),  # exactly 12 months: still counts
        (date(2025, 11, 27), date(2026, 11, 28), False),  # one day more: stale
        (date(2024, 2, 29), date(2025, 2, 28), True),  # leap day → 28 February
        (date(2024, 2, 29), date(2025, 3, 1), False),
        (date(2026, 11, 29), date(2026, 11, 28), False),  # dated tomorrow
    ],
)
def test_answer_counts_for_twelve_months(
    tmp_path: Path, answered_on: date, today: date, current: bool
) -> None:
    text = questionnaire_text({"org.staff_training": ("yes", answered_on.isoformat())})
    finding = self_assessment_findings(load(tmp_path, text), AGENCY, today)
    training = next(f for f in finding if f.check_id == "org.staff_training")
    assert (training.status is Status.PASS) is current
    if not current:
        assert training.status is Status.NOT_ASSESSED and training.reason


def test_add_months_keeps_the_day_or_falls_back_to_month_end() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 12, 15), 12) == date(2027, 12, 15)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (
            '[[answer]]\ncheck = "org.nope"\nanswer = "no"\nanswered_by = "A"\n'
            "answered_on = 2026-01-01\n",
            "answer[0].check",
            "not in the check catalogue",
        ),
        (
            '[[answer]]\ncheck = "net.telnet_exposed"\nanswer = "no"\nanswered_by = "A"\n'
            "answered_on = 2026-01-01\n",
            "answer[0].check",
            "network check, not a question",
        ),
        (
            '[[answer]]\ncheck = "org.staff_training"\nanswer = "yes"\nanswered_by = "A"\n'
            "answered_on = 2026-01-01\n",
            "answer[0]",
            "evidence is required",
        ),
        (
            '[[answer]]\ncheck = "org.staff_training"\nanswer = "maybe"\nanswered_by = "A"\n'
            "answered_on = 2026-01-01\n",
            "answer[0].answer",
            "must be one of",
        ),
        (
            '[[answer]]\ncheck = "org.staff_training"\nanswer = "no"\nanswered_by = "A"\n'
            'answered_on = "last year"\n',
            "answer[0].answered_on",
            "date",
        ),
        (
            '[[answer]]\ncheck = "org.staff_training"\nanswer = "no"\nanswered_on = 2026-01-01\n',
            "answer[0].answered_by",
            "is required",
        ),
        (
            '[[answer]]\ncheck = "org.staff_training"\nanswer = "no"\nanswered_by = "A"\n'
            'answered_on = 2026-01-01\n[[answer]]\ncheck = "org.staff_training"\nanswer = "no"\n'
            'answered_by = "B"\nanswered_on = 2026-02-01\n',
            "answer",
            "answered twice",
        ),
        ('agency = "tn-xa-khac"\n', "selfassessment.agency", "not 'tn-xa-mau'"),
        ("agency = ", "selfassessment", "not valid TOML"),
    ],
)
def test_a_bad_questionnaire_names_its_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, text)
    assert err.value.key == key and words in err.value.reason
    assert err.value.source == str(tmp_path / "answers.toml")


def test_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_questionnaire(tmp_path / "absent.toml")
    assert str(err.value) == f"selfassessment: file not found ({tmp_path / 'absent.toml'})"


def test_questionnaire_round_trips(tmp_path: Path) -> None:
    questionnaire = load(tmp_path, questionnaire_text())
    assert len(questionnaire.answers) == len(ANSWERS)
    dumped = questionnaire.model_dump(mode="json")
    assert "answer" in dumped  # the file's own key
    assert Questionnaire.model_validate(dumped) == questionnaire


def test_the_documented_example_loads() -> None:
    example = Path(__file__).parents[3] / "docs/examples/selfassessment.toml"
    questionnaire = load_questionnaire(example, agency_id=AGENCY)
    assert {a.check for a in questionnaire.answers} == set(QUESTIONS)
