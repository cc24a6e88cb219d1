"""The configuration audit of network devices: each device's facts, its audit results and how
its configuration drifted since the previous sweep."""

from __future__ import annotations

from dataclasses import dataclass

from secposture.checks.catalogue import CheckMeta, Evaluates
from secposture.model.device_facts import FACTS_KIND
from secposture.model.i18n import source_text, t
from secposture.model.records import Finding, Observation, Status, SweepResult
from secposture.report.view.context import (
    DiffLine,
    ReportContext,
    config_diff,
    config_hash,
    config_text,
    configs_by_ip,
)
from secposture.report.view.findings import FindingRows, Row
from secposture.report.view.text import MAX_NAME, Fact, ip_key, shown

# Device facts the config audit records that the report shows (never credentials), as the
# audit stores them: data {"name", "facts": {"hostname", "platform", "os": {"vendor", ...}}}.
DEVICE_FACTS = ("hostname", "name", "platform", "vendor", "model", "version", "serial", "uptime")
# A device's check results, what needs doing first.
RESULT_ORDER = {
    Status.FAIL: 0,
    Status.PARTIAL: 1,
    Status.NOT_ASSESSED: 2,
    Status.WAIVED: 3,
    Status.PASS: 4,
    Status.NOT_APPLICABLE: 5,
}


@dataclass(frozen=True, slots=True)
class DeviceAuditView:
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


def _device_checks(catalogue: dict[str, CheckMeta]) -> set[str]:
    return {m.id for m in catalogue.values() if m.evaluates is Evaluates.DEVICE}


def device_audit_ran(
    result: SweepResult, catalogue: dict[str, CheckMeta], ordered: list[Finding]
) -> bool:
    """Whether the sweep read any device or judged any device check."""
    device_checks = _device_checks(catalogue)
    return any(o.kind.startswith("device.") for o in result.observations) or any(
        f.check_id in device_checks for f in ordered
    )


def device_audits(
    result: SweepResult, ordered: list[Finding], context: ReportContext, rows: FindingRows
) -> list[DeviceAuditView]:
    """Every device the audit read or judged: those it read first, by address."""
    lang = rows.lang
    device_checks = _device_checks(rows.catalogue)
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
            DeviceAuditView(
                ip=shown(ip, lang, MAX_NAME),
                name=shown(name, lang, MAX_NAME),
                facts=_device_facts(facts.get(ip), lang),
                results=[
                    rows.row(f)
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
