"""Everything the agency report shows, prepared once: the template only lays it out.

The view is built from the sweep, its findings and score, and an optional
:class:`~secposture.report.view.context.ReportContext` (posture, history, changes, devices). Each
optional part that is missing becomes ``None`` here and "not available" on the page. Each
section's view and builder lives in its own module: :mod:`.summary`, :mod:`.findings`,
:mod:`.changes`, :mod:`.devices`, :mod:`.inventory` and :mod:`.posture`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from secposture.checks.catalogue import Evaluates, load_catalogue
from secposture.config.sections import AgencyConfig
from secposture.model.records import Finding, Status, SweepResult
from secposture.model.score import Score
from secposture.report.view.changes import ChangesView, changes_view
from secposture.report.view.context import ReportContext
from secposture.report.view.devices import DeviceAuditView, device_audit_ran, device_audits
from secposture.report.view.findings import (
    AttemptRow,
    CheckTargets,
    FindingRows,
    Row,
    SeverityIssues,
    attempt_row,
    sorted_findings,
)
from secposture.report.view.inventory import InventoryView, inventory_view
from secposture.report.view.posture import (
    AnswerRow,
    FrameworkView,
    WaiverRow,
    answer_rows,
    framework_views,
    requirements_by_check,
    waiver_rows,
)
from secposture.report.view.summary import Summary, header_facts, summary
from secposture.report.view.text import Fact


@dataclass(frozen=True, slots=True)
class ReportView:
    """The whole page of one sweep, section by section; ``None``: not available."""

    agency_name: str
    facts: list[Fact]
    summary: Summary
    issues: list[SeverityIssues]
    changes: ChangesView | None
    devices: list[DeviceAuditView]
    device_audit_ran: bool
    inventory: InventoryView
    frameworks: list[FrameworkView] | None
    answers: list[AnswerRow] | None
    unanswered: list[CheckTargets]
    waivers: list[WaiverRow] | None
    not_assessed: list[CheckTargets]
    not_assessed_count: int
    attempts: list[AttemptRow]
    passed: list[CheckTargets]
    passed_count: int
    waived: list[Row]


def build_view(
    result: SweepResult,
    findings: list[Finding],
    score: Score,
    config: AgencyConfig,
    lang: str,
    generated: datetime,
    context: ReportContext,
) -> ReportView:
    """The whole report of one sweep in ``lang``."""
    catalogue = load_catalogue()
    rows = FindingRows(catalogue, lang)
    ordered = sorted_findings(findings)
    posture = context.posture
    issues = rows.issues(ordered, requirements_by_check(posture, lang))
    questions = {m.id for m in catalogue.values() if m.evaluates is Evaluates.SELF_ASSESSMENT}
    not_assessed = [f for f in ordered if f.status is Status.NOT_ASSESSED]
    passed = [f for f in ordered if f.status is Status.PASS]
    return ReportView(
        agency_name=config.agency.name,
        facts=header_facts(result, config, lang, generated),
        summary=summary(result, findings, score, issues, context, rows),
        issues=issues,
        changes=None if context.changes is None else changes_view(context.changes, lang),
        devices=device_audits(result, ordered, context, rows),
        device_audit_ran=device_audit_ran(result, catalogue, ordered),
        inventory=inventory_view(result, context.devices, lang),
        frameworks=None if posture is None else framework_views(posture, lang),
        answers=None if posture is None else answer_rows(posture, catalogue, lang),
        unanswered=rows.grouped(
            (f for f in not_assessed if f.check_id in questions), targets=False
        ),
        waivers=None if posture is None else waiver_rows(posture, catalogue, lang),
        not_assessed=rows.grouped(not_assessed),
        not_assessed_count=len(not_assessed),
        attempts=[attempt_row(a, lang) for a in result.attempts if not a.ok],
        passed=rows.grouped(passed, reason=False),
        passed_count=len(passed),
        waived=[rows.row(f) for f in ordered if f.status is Status.WAIVED],
    )
