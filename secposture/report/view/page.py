"""Everything the agency report shows, prepared once: the template only lays it out.

The view is built from the sweep, its findings and score, and an optional
:class:`~secposture.report.view.context.ReportContext` (posture, history, changes, devices). Each
optional part that is missing becomes ``None`` here and "not available" on the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from secposture.checks.catalogue import CheckMeta, Evaluates, load_catalogue
from secposture.config.sections import AgencyConfig, Profile
from secposture.model.device_facts import FACTS_KIND
from secposture.model.i18n import source_text, t
from secposture.model.records import (
    Attempt,
    Change,
    Finding,
    Host,
    Observation,
    Service,
    Severity,
    Status,
    SweepResult,
    device_key,
)
from secposture.model.score import Score
from secposture.report.view.charts import PillarChart, TrendChart, TrendInput, trend_chart
from secposture.report.view.context import (
    DeviceRecord,
    DiffLine,
    ReportContext,
    config_diff,
    config_hash,
    config_text,
    configs_by_ip,
    trend_points,
)
from secposture.report.view.posture import (
    AnswerRow,
    FrameworkView,
    IndexHeadline,
    WaiverRow,
    answer_rows,
    framework_views,
    index_headline,
    pillar_framework,
    pillars,
    requirements_by_check,
    waiver_rows,
)
from secposture.report.view.text import (
    MAX_NAME,
    format_day,
    format_time,
    ip_key,
    number,
    percent,
    short_day,
    shown,
    target_key,
    target_text,
    time_span,
)
from secposture.scoring.gains import top_fixes

_SHA256 = re.compile(r"[0-9a-f]{64}")
SEVERITY_ORDER = tuple(sorted(Severity, key=lambda s: s.rank, reverse=True))
ISSUE_STATUSES = frozenset({Status.FAIL, Status.PARTIAL})
# Changes listed one by one; a first sweep of a big LAN adds every device, and the counts by
# kind above the table already say how many there are.
MAX_CHANGES = 300
# Network text the inventory shows per host or service, by observation data key.
SHOWN_TEXT = {
    "title": "report.inventory.page_title",
    "banner": "report.inventory.banner",
    "sysname": "report.inventory.sysname",
    "sysdescr": "report.inventory.sysdescr",
}
# Device facts the config audit records that the report shows (never credentials), as the
# audit stores them: data {"name", "facts": {"hostname", "platform", "os": {"vendor", ...}}}.
DEVICE_FACTS = ("hostname", "name", "platform", "vendor", "model", "version", "serial", "uptime")
DEVICE_TYPES = ("router", "switch", "printer", "camera", "server", "workstation", "unknown")
DEVICE_STATUS_RANK = {"active": 0, "missing": 1, "stale": 2}
# A device's check results, what needs doing first.
RESULT_ORDER = {
    Status.FAIL: 0,
    Status.PARTIAL: 1,
    Status.NOT_ASSESSED: 2,
    Status.WAIVED: 3,
    Status.PASS: 4,
    Status.NOT_APPLICABLE: 5,
}
NAME_SOURCES = {"dns": "DNS", "netbios": "NetBIOS", "mdns": "mDNS", "nmap": "nmap"}


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (target_key(f.target), f.check_id))


@dataclass(frozen=True, slots=True)
class Fact:
    label: str
    value: str


# --- summary -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FixRow:
    check_id: str
    title: str
    severity: str
    severity_label: str
    targets: str
    gain: str


@dataclass(frozen=True, slots=True)
class SeverityCount:
    severity: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class Summary:
    score: str | None
    coverage: str
    basis: str
    incomplete: str | None
    index: IndexHeadline | None  # None: no framework posture available
    pillars: PillarChart | None
    trend: TrendChart | None  # None: fewer than two sweeps, or no history available
    trend_note: str
    fixes: list[FixRow]
    severities: list[SeverityCount]
    stats: list[Fact]


# --- findings ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Row:
    """One finding as a table row."""

    check_id: str
    title: str
    target: str
    status: str
    status_label: str
    evidence: str
    reason: str
    waiver: str


@dataclass(frozen=True, slots=True)
class CheckIssues:
    """One failed check with every target it failed on."""

    check_id: str
    title: str
    rationale: str
    remediation: str
    requirements: list[str]
    rows: list[Row]


@dataclass(frozen=True, slots=True)
class SeverityIssues:
    severity: str
    label: str
    count: int
    checks: list[CheckIssues]


@dataclass(frozen=True, slots=True)
class CheckTargets:
    """One check with the targets that share a status and reason (passed, not assessed)."""

    check_id: str
    title: str
    reason: str
    targets: list[str]


@dataclass(frozen=True, slots=True)
class AttemptRow:
    stage: str
    target: str
    status: str
    status_label: str
    reason: str
    detail: str


# --- changes, devices, inventory -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChangeRow:
    kind: str
    kind_label: str
    ip: str
    port: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class ChangesView:
    counts: list[Fact]
    rows: list[ChangeRow]
    hidden: int


@dataclass(frozen=True, slots=True)
class DeviceAudit:
    """A network device whose configuration was read: facts, audit results, drift."""

    ip: str
    name: str
    facts: list[Fact]
    results: list[Row]  # what could be judged, fails first
    # What could not, folded by reason: a device the audit could not log into has every
    # check not assessed for the same reason, which a reader wants once, not fourteen times.
    unassessed: list[Fact]  # label: "14 mục kiểm tra", value: the reason
    drift: str  # changed | unchanged | first | hash_only | no_config
    drift_note: str
    diff: list[DiffLine]


@dataclass(frozen=True, slots=True)
class ServiceRow:
    key: str
    state: str  # empty when simply "open"
    description: str
    texts: list[Fact]  # page title, banner as the service sent them


@dataclass(frozen=True, slots=True)
class HostRow:
    ip: str
    ip_sort: str
    mac: str
    vendor: str
    hostname: str
    texts: list[Fact]  # SNMP name and description
    device_type: str
    ports_scanned: bool
    present: bool  # seen in this sweep
    services: list[ServiceRow]
    services_sort: str
    status: str
    status_label: str
    status_sort: str
    first_seen: str
    first_seen_sort: str
    last_seen: str


@dataclass(frozen=True, slots=True)
class InventoryView:
    hosts: list[HostRow]
    summary: str
    history: bool  # first/last seen come from the inventory store


@dataclass(frozen=True, slots=True)
class ReportView:
    agency_name: str
    facts: list[Fact]
    summary: Summary
    issues: list[SeverityIssues]
    changes: ChangesView | None
    devices: list[DeviceAudit]
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
    ordered = sorted_findings(findings)

    def title(check_id: str) -> str:
        meta = catalogue.get(check_id)
        return meta.title(lang) if meta else check_id

    def row(f: Finding) -> Row:
        return Row(
            check_id=f.check_id,
            title=title(f.check_id),
            target=shown(target_text(f.target), lang),
            status=f.status.value,
            status_label=t(f"report.status.{f.status.value}", lang),
            evidence=shown(source_text(f.evidence, lang), lang),
            reason=shown(source_text(f.reason, lang), lang),
            waiver=shown(f.waiver, lang),
        )

    posture = context.posture
    requirements = requirements_by_check(posture, lang)
    issues = _issues(ordered, catalogue, row, requirements, lang)
    questions = {m.id for m in catalogue.values() if m.evaluates is Evaluates.SELF_ASSESSMENT}
    not_assessed = [f for f in ordered if f.status is Status.NOT_ASSESSED]
    passed = [f for f in ordered if f.status is Status.PASS]
    return ReportView(
        agency_name=config.agency.name,
        facts=_facts(result, config, lang, generated),
        summary=_summary(result, findings, score, issues, context, lang, title),
        issues=issues,
        changes=None if context.changes is None else _changes(context.changes, lang),
        devices=_device_audits(result, ordered, catalogue, context, row, lang),
        device_audit_ran=_device_audit_ran(result, catalogue, ordered),
        inventory=_inventory(result, context.devices, lang),
        frameworks=None if posture is None else framework_views(posture, lang),
        answers=None if posture is None else answer_rows(posture, catalogue, lang),
        unanswered=_grouped(
            (f for f in not_assessed if f.check_id in questions), title, lang, targets=False
        ),
        waivers=None if posture is None else waiver_rows(posture, catalogue, lang),
        not_assessed=_grouped(not_assessed, title, lang),
        not_assessed_count=len(not_assessed),
        attempts=[_attempt(a, lang) for a in result.attempts if not a.ok],
        passed=_grouped(passed, title, lang, reason=False),
        passed_count=len(passed),
        waived=[row(f) for f in ordered if f.status is Status.WAIVED],
    )


# --- header --------------------------------------------------------------------------------


def _facts(result: SweepResult, config: AgencyConfig, lang: str, generated: datetime) -> list[Fact]:
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


# --- summary -------------------------------------------------------------------------------


def _summary(
    result: SweepResult,
    findings: list[Finding],
    score: Score,
    issues: list[SeverityIssues],
    context: ReportContext,
    lang: str,
    title: Callable[[str], str],
) -> Summary:
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
            title=title(fix.check_id),
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


# --- findings ------------------------------------------------------------------------------


def _issues(
    ordered: list[Finding],
    catalogue: dict[str, CheckMeta],
    row: Callable[[Finding], Row],
    requirements: dict[str, list[str]],
    lang: str,
) -> list[SeverityIssues]:
    """Failed findings by severity (most severe first), then by check (most targets first)."""
    groups: list[SeverityIssues] = []
    for severity in SEVERITY_ORDER:
        by_check: dict[str, list[Finding]] = {}
        for f in ordered:
            if f.severity is severity and f.status in ISSUE_STATUSES:
                by_check.setdefault(f.check_id, []).append(f)
        if not by_check:
            continue
        checks = []
        for check_id, failed in by_check.items():
            meta = catalogue.get(check_id)
            checks.append(
                CheckIssues(
                    check_id=check_id,
                    title=meta.title(lang) if meta else check_id,
                    rationale=meta.rationale(lang) if meta else "",
                    remediation=meta.remediation(lang) if meta else "",
                    requirements=requirements.get(check_id, []),
                    rows=[row(f) for f in failed],
                )
            )
        checks.sort(key=lambda c: (-len(c.rows), c.title))
        groups.append(
            SeverityIssues(
                severity=severity.value,
                label=t(f"report.severity.{severity.value}", lang),
                count=sum(len(c.rows) for c in checks),
                checks=checks,
            )
        )
    return groups


def _grouped(
    findings: Iterable[Finding],
    title: Callable[[str], str],
    lang: str,
    *,
    reason: bool = True,
    targets: bool = True,
) -> list[CheckTargets]:
    """Findings folded into one line per check (and reason): a 2,000-host LAN has 2,000
    passes of each check, which a reader wants as one line, not 2,000."""
    groups: dict[tuple[str, str], list[str]] = {}
    for f in findings:
        key = (f.check_id, f.reason if reason else "")
        groups.setdefault(key, []).append(shown(target_text(f.target), lang, MAX_NAME))
    return [
        CheckTargets(
            check_id=check_id,
            title=title(check_id),
            reason=shown(source_text(why, lang), lang),
            targets=found if targets else [],
        )
        for (check_id, why), found in sorted(groups.items(), key=lambda i: (title(i[0][0]), i[0]))
    ]


def _attempt(a: Attempt, lang: str) -> AttemptRow:
    return AttemptRow(
        stage=shown(a.stage, lang),
        target=shown(a.target, lang),
        status=a.status.value,
        status_label=t(f"report.attempt.{a.status.value}", lang),
        reason=t(f"report.reason.{a.reason.value}", lang) if a.reason else "",
        detail=shown(a.detail, lang),
    )


# --- changes -------------------------------------------------------------------------------


def _changes(changes: Iterable[Change], lang: str) -> ChangesView:
    found = sorted(changes, key=lambda c: (c.kind.value, ip_key(c.ip), c.port or -1))
    counts: dict[str, int] = {}
    for change in found:
        counts[change.kind.value] = counts.get(change.kind.value, 0) + 1
    rows = [
        ChangeRow(
            kind=c.kind.value,
            kind_label=t(f"report.change.{c.kind.value}", lang),
            ip=shown(c.ip, lang, MAX_NAME),
            port="" if c.port is None else f"{c.port}/{c.proto or 'tcp'}",
            before=_change_text(c.before, lang),
            after=_change_text(c.after, lang),
        )
        for c in found[:MAX_CHANGES]
    ]
    return ChangesView(
        counts=[Fact(t(f"report.change.{kind}", lang), str(n)) for kind, n in counts.items()],
        rows=rows,
        hidden=max(0, len(found) - MAX_CHANGES),
    )


def _change_text(value: str, lang: str) -> str:
    # A configuration change is recorded as two SHA-256 digests: a reader needs only to see
    # that they differ, and the device section shows what changed.
    if _SHA256.fullmatch(value):
        return f"sha256 {value[:12]}…"
    return shown(value, lang, MAX_NAME)


# --- devices (config audit) ----------------------------------------------------------------


def _device_checks(catalogue: dict[str, CheckMeta]) -> set[str]:
    return {m.id for m in catalogue.values() if m.evaluates is Evaluates.DEVICE}


def _device_audit_ran(
    result: SweepResult, catalogue: dict[str, CheckMeta], ordered: list[Finding]
) -> bool:
    device_checks = _device_checks(catalogue)
    return any(o.kind.startswith("device.") for o in result.observations) or any(
        f.check_id in device_checks for f in ordered
    )


def _device_audits(
    result: SweepResult,
    ordered: list[Finding],
    catalogue: dict[str, CheckMeta],
    context: ReportContext,
    row: Callable[[Finding], Row],
    lang: str,
) -> list[DeviceAudit]:
    device_checks = _device_checks(catalogue)
    facts = {o.ip: o for o in result.observations if o.kind == FACTS_KIND}
    configs = configs_by_ip(result.observations)
    results: dict[str, list[Finding]] = {}
    for f in ordered:
        if f.check_id in device_checks:
            results.setdefault(f.target.ip, []).append(f)
    audits = []
    # Devices whose configuration was read come first; then those the audit could not read.
    found = set(facts) | set(configs)
    for ip in sorted(found | set(results), key=lambda ip: (ip not in found, ip_key(ip))):
        host = result.host(ip)
        name = _fact_text(facts.get(ip), "hostname") or (host.hostname if host else "") or ""
        drift, note, diff = _drift(configs.get(ip), context, ip, lang)
        if (current := configs.get(ip)) is not None and current.data.get("truncated") is True:
            note += " " + t("report.device.truncated", lang)
        audits.append(
            DeviceAudit(
                ip=shown(ip, lang, MAX_NAME),
                name=shown(name, lang, MAX_NAME),
                facts=_device_facts(facts.get(ip), lang),
                results=[
                    row(f)
                    for f in sorted(results.get(ip, []), key=lambda f: RESULT_ORDER[f.status])
                    if f.status is not Status.NOT_ASSESSED
                ],
                unassessed=_unassessed(results.get(ip, []), lang),
                drift=drift,
                drift_note=note,
                diff=diff,
            )
        )
    return audits


def _unassessed(findings: list[Finding], lang: str) -> list[Fact]:
    by_reason: dict[str, int] = {}
    for f in findings:
        if f.status is Status.NOT_ASSESSED:
            by_reason[f.reason] = by_reason.get(f.reason, 0) + 1
    return [
        Fact(
            t("report.devices.unassessed", lang, count=count),
            shown(source_text(reason, lang), lang),
        )
        for reason, count in by_reason.items()
    ]


def _fact_text(observation: Observation | None, key: str) -> str:
    """A fact from the audit's nested record (``facts``, ``facts.os``) or the top level."""
    if observation is None:
        return ""
    facts = observation.data.get("facts")
    facts = facts if isinstance(facts, dict) else {}
    os_info = facts.get("os")
    os_info = os_info if isinstance(os_info, dict) else {}
    for place in (facts, os_info, observation.data):
        value = place.get(key)
        if isinstance(value, str | int | float) and str(value).strip():
            return str(value)
    return ""


def _device_facts(observation: Observation | None, lang: str) -> list[Fact]:
    return [
        Fact(t(f"report.device.{key}", lang), shown(text, lang, MAX_NAME))
        for key in DEVICE_FACTS
        if key != "hostname" and (text := _fact_text(observation, key))
    ]


def _drift(
    current: Observation | None, context: ReportContext, ip: str, lang: str
) -> tuple[str, str, list[DiffLine]]:
    """Did the configuration change since the previous sweep, and how?"""
    if current is None:
        return "no_config", t("report.drift.no_config", lang), []
    previous = None if context.previous_configs is None else context.previous_configs.get(ip)
    if previous is None:
        key = (
            "report.drift.not_available"
            if context.previous_configs is None
            else "report.drift.first"
        )
        return "first", t(key, lang), []
    before, after = config_text(previous), config_text(current)
    if before is not None and after is not None:
        if before == after:
            return "unchanged", t("report.drift.unchanged", lang), []
        diff = [DiffLine(d.kind, shown(d.text, lang, MAX_NAME)) for d in config_diff(before, after)]
        return "changed", t("report.drift.changed", lang), diff
    old, new = config_hash(previous), config_hash(current)
    if old is not None and old == new:
        return "unchanged", t("report.drift.unchanged", lang), []
    return "hash_only", t("report.drift.hash_only", lang), []


# --- inventory -----------------------------------------------------------------------------


def _inventory(
    result: SweepResult, devices: tuple[DeviceRecord, ...] | None, lang: str
) -> InventoryView:
    texts: dict[tuple[str, int | None], list[Fact]] = {}
    for o in result.observations:
        for key, label in SHOWN_TEXT.items():
            value = o.data.get(key)
            if not isinstance(value, str) or not value.strip():
                continue
            # SNMP facts belong to the host; a page title or banner to its service.
            where = (o.ip, None) if key.startswith("sys") else (o.ip, o.port)
            fact = Fact(t(label, lang), shown(value, lang, MAX_NAME))
            if fact not in texts.setdefault(where, []):
                texts[where].append(fact)
    records = {d.key: d for d in devices or ()}
    seen: set[str] = set()
    rows = []
    for host in result.hosts:
        key = device_key(host)
        seen.add(key)
        rows.append(_host_row(host, records.get(key), texts, lang))
    # Devices the inventory knows that this sweep did not see: missing or stale.
    for record in records.values():
        if record.key not in seen and record.status != "active":
            rows.append(_absent_row(record, lang))
    rows.sort(key=lambda r: r.ip_sort)
    counts = result.counts
    summary = t(
        "report.inventory.summary", lang, hosts=counts.hosts_found, services=counts.services_open
    )
    absent = sum(1 for r in rows if not r.present)
    if absent:
        summary += " " + t("report.inventory.absent", lang, count=absent)
    return InventoryView(
        hosts=rows,
        summary=summary,
        history=devices is not None,
    )


def _host_texts(host: Host, observed: list[Fact], lang: str) -> list[Fact]:
    """Where the name came from, the OS nmap matched, then what the host said of itself."""
    facts = []
    if host.hostname and host.hostname_source:
        source = NAME_SOURCES.get(host.hostname_source, host.hostname_source)
        facts.append(Fact(t("report.inventory.name_source", lang), source))
    if host.os:
        facts.append(Fact(t("report.inventory.os", lang), shown(host.os, lang, MAX_NAME)))
    return facts + observed


def _service_text(service: Service) -> str:
    words = " ".join(p for p in (service.name, service.product, service.version) if p)
    return f"{words} ({service.extrainfo})" if service.extrainfo else words


def _device_type(host: Host, lang: str) -> str:
    """``máy in (SNMP sysDescr: …)``: the scanner's guess with the evidence it rests on."""
    kind = host.device_type
    if not kind:
        return ""
    label = t(f"report.device_type.{kind}", lang) if kind in DEVICE_TYPES else kind
    reason = f" ({host.device_type_reason})" if host.device_type_reason else ""
    return shown(label + reason, lang, MAX_NAME)


def _status_label(status: str, lang: str) -> str:
    return t(f"report.device_status.{status}", lang) if status in DEVICE_STATUS_RANK else status


def _ip_sort(ip: str) -> str:
    version, value, text = ip_key(ip)
    return f"{version:02d}{value:040d}{text}"


def _host_row(
    host: Host,
    record: DeviceRecord | None,
    texts: dict[tuple[str, int | None], list[Fact]],
    lang: str,
) -> HostRow:
    services = [
        ServiceRow(
            key=s.key,
            state="" if s.state == "open" else shown(s.state, lang),
            description=shown(_service_text(s), lang, MAX_NAME),
            texts=texts.get((host.ip, s.port), []),
        )
        for s in sorted(host.services, key=lambda s: (s.proto, s.port))
    ]
    status = record.status if record else "active"
    return HostRow(
        ip=shown(host.ip, lang, MAX_NAME),
        ip_sort=_ip_sort(host.ip),
        mac=shown(host.mac, lang, MAX_NAME),
        vendor=shown(host.vendor, lang, MAX_NAME),
        hostname=shown(host.hostname, lang, MAX_NAME),
        texts=_host_texts(host, texts.get((host.ip, None), []), lang),
        device_type=_device_type(host, lang),
        ports_scanned=host.ports_scanned,
        present=True,
        services=services,
        services_sort=f"{len(services):06d}",
        status=status,
        status_label=_status_label(status, lang),
        status_sort=str(DEVICE_STATUS_RANK.get(status, 9)),
        first_seen=format_day(record.first_seen, lang) if record else "",
        first_seen_sort=record.first_seen.isoformat() if record else "",
        last_seen=format_day(record.last_seen, lang) if record else "",
    )


def _absent_row(record: DeviceRecord, lang: str) -> HostRow:
    return HostRow(
        ip=shown(record.ip, lang, MAX_NAME),
        ip_sort=_ip_sort(record.ip),
        mac=shown(record.mac, lang, MAX_NAME),
        vendor=shown(record.vendor, lang, MAX_NAME),
        hostname=shown(record.hostname, lang, MAX_NAME),
        texts=[],
        device_type="",
        ports_scanned=False,
        present=False,
        services=[],
        services_sort="",
        status=record.status,
        status_label=_status_label(record.status, lang),
        status_sort=str(DEVICE_STATUS_RANK.get(record.status, 9)),
        first_seen=format_day(record.first_seen, lang),
        first_seen_sort=record.first_seen.isoformat(),
        last_seen=format_day(record.last_seen, lang),
    )
