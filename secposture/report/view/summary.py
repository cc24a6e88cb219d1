"""The top of the report: the sweep's facts, then the summary (score beside its coverage, the
framework index, pillars, trend, the fixes worth most, issues by severity)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from secposture.config.sections import AgencyConfig, Profile
from secposture.model.i18n import t
from secposture.model.records import Finding, Severity, Status, SweepResult
from secposture.model.score import Score
from secposture.report.view.charts import PillarChart, TrendChart, TrendInput, trend_chart
from secposture.report.view.context import ReportContext, trend_points
from secposture.report.view.findings import SEVERITY_ORDER, FindingRows, SeverityIssues
from secposture.report.view.posture import (
    IndexHeadline,
    index_headline,
    pillar_framework,
    pillars,
)
from secposture.report.view.text import (
    Fact,
    format_time,
    number,
    percent,
    short_day,
    time_span,
)
from secposture.scoring.gains import top_fixes


@dataclass(frozen=True, slots=True)
class Summary:
    """The summary section; each part that could not be computed says why instead."""

    score: str | None
    coverage: str
    basis: str
    capped: str | None  # why the score is held down (issue #13), None when it is not
    method: str
    incomplete: str | None
    # None: no framework posture available
    index: IndexHeadline | None
    pillars: PillarChart | None
    # None: fewer than two sweeps, or no history available
    trend: TrendChart | None
    trend_note: str
    fixes: list[FixRow]
    severities: list[SeverityCount]
    stats: list[Fact]


@dataclass(frozen=True, slots=True)
class FixRow:
    """One of the fixes that raise the score most, with the points it is worth."""

    check_id: str
    title: str
    severity: str
    severity_label: str
    targets: str
    gain: str


@dataclass(frozen=True, slots=True)
class SeverityCount:
    """How many issues of one severity the sweep found."""

    severity: str
    label: str
    count: int


def header_facts(
    result: SweepResult, config: AgencyConfig, lang: str, generated: datetime
) -> list[Fact]:
    """The report's header: who was swept, when, with which profile and scopes."""
    agency = config.agency
    profile = (
        t(f"report.profile.{result.profile}", lang)
        if result.profile in {p.value for p in Profile}
        else result.profile
    )
    facts = [
        Fact(t("report.meta.agency_id", lang), agency.id),
        Fact(t("report.meta.level", lang), t(f"report.level.{agency.level.value}", lang)),
    ]
    if agency.parent:
        facts.append(Fact(t("report.meta.parent", lang), agency.parent))
    facts += [
        Fact(t("report.meta.time", lang), time_span(result.started, result.finished, lang)),
        Fact(t("report.meta.profile", lang), profile),
        Fact(t("report.meta.scopes", lang), ", ".join(result.scopes)),
    ]
    if result.exclude:
        facts.append(Fact(t("report.meta.exclude", lang), ", ".join(result.exclude)))
    facts += [
        Fact(t("report.meta.sweep_id", lang), result.sweep_id),
        Fact(t("report.meta.generated", lang), format_time(generated, lang)),
    ]
    return facts


def summary(
    result: SweepResult,
    findings: list[Finding],
    score: Score,
    issues: list[SeverityIssues],
    context: ReportContext,
    rows: FindingRows,
) -> Summary:
    """The summary of one sweep in ``rows.lang``."""
    lang = rows.lang
    failed_attempts = [a for a in result.attempts if not a.ok]
    incomplete = None
    if not result.complete:
        incomplete = (
            t("report.incomplete.body", lang, count=len(failed_attempts))
            if failed_attempts
            else t("report.incomplete.cut_short", lang)
        )
    by_severity = {group.severity: group.count for group in issues}
    severities = [
        SeverityCount(s.value, t(f"report.severity.{s.value}", lang), by_severity.get(s.value, 0))
        for s in SEVERITY_ORDER
        if s is not Severity.INFO or s.value in by_severity
    ]
    counts = result.counts
    stats = [
        Fact(t("report.stats.hosts", lang), str(counts.hosts_found)),
        Fact(t("report.stats.scanned", lang), f"{counts.hosts_scanned}/{counts.hosts_found}"),
        Fact(t("report.stats.services", lang), str(counts.services_open)),
        Fact(t("report.stats.passed", lang), str(score.counts.get(Status.PASS.value, 0))),
        Fact(
            t("report.stats.not_assessed", lang),
            str(score.counts.get(Status.NOT_ASSESSED.value, 0)),
        ),
    ]
    fixes = [
        FixRow(
            check_id=fix.check_id,
            title=rows.title(fix.check_id),
            severity=fix.severity.value,
            severity_label=t(f"report.severity.{fix.severity.value}", lang),
            targets=t("report.fixes.targets", lang, count=fix.targets),
            gain=t("report.fixes.gain", lang, points=number(fix.gain, lang)),
        )
        for fix in top_fixes(findings)
    ]
    fw = pillar_framework(context.posture)
    trend, trend_note = _trend(context, lang)
    return Summary(
        score=None if score.overall is None else number(score.overall, lang),
        coverage=percent(score.coverage),
        basis=t("report.score.basis", lang, assessed=score.assessed, applicable=score.applicable),
        capped=None
        if score.cap is None or score.raw is None
        else t(
            "report.score.capped",
            lang,
            at=number(score.cap.at, lang),
            raw=number(score.raw, lang),
            targets=score.cap.targets,
            checks=score.cap.checks,
            severity=t(f"report.severity.{score.cap.severity}", lang),
        ),
        method=t("report.score.method", lang),
        incomplete=incomplete,
        index=None if fw is None else index_headline(fw, lang),
        pillars=None if fw is None else pillars(fw, lang),
        trend=trend,
        trend_note=trend_note,
        fixes=fixes,
        severities=severities,
        stats=stats,
    )


def _trend(context: ReportContext, lang: str) -> tuple[TrendChart | None, str]:
    if context.history is None:
        return None, t("report.trend.not_available", lang)
    points = trend_points(context.history)
    if len(points) < 2:
        return None, t("report.trend.first", lang)
    labels = [short_day(p.started, lang) for p in points]
    if len(set(labels)) < len(labels):  # several sweeps a day: the hour tells them apart
        labels = [
            f"{day} {format_time(p.started, lang)[11:16]}"
            for day, p in zip(labels, points, strict=True)
        ]
    chart = trend_chart(
        [TrendInput(label, p.score, p.coverage) for label, p in zip(labels, points, strict=True)],
        ["—" if p.score is None else number(p.score, lang) for p in points],
    )
    return chart, t("report.trend.caption", lang, count=len(points))
