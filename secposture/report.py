"""The agency report of one sweep: report.html, findings.json, inventory.json, findings.csv.

Everything shown here may have come off the network (banners, page titles, hostnames), so
text is made safe in one place per output: the HTML template's ``finalize`` hook and Jinja2
autoescape for the page, formula neutralisation for the CSV, and lone-surrogate replacement for
every output so that writing UTF-8 never fails half-way through a report.
"""

from __future__ import annotations

import contextlib
import csv
import io
import ipaddress
import json
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from secposture import __version__
from secposture.checks.catalogue import CheckMeta, load_catalogue
from secposture.config import AgencyConfig, Lang, Profile
from secposture.i18n import t
from secposture.models import (
    Finding,
    Record,
    Severity,
    Status,
    SweepResult,
    Target,
    utcnow,
)
from secposture.scoring import Score

# Vietnam keeps one offset all year (no daylight saving), so a fixed zone is exact.
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")
# Longest network text shown in the page (evidence; names and titles): the JSON files keep
# the full text, and one hostile DHCP hostname cannot stretch the inventory over pages.
MAX_SHOWN = 2000
MAX_NAME = 256
# The report lists weaknesses of the agency's network: readable by its owner and group only.
REPORT_MODE = 0o640
CSV_COLUMNS = (
    "check_id",
    "status",
    "severity",
    "ip",
    "port",
    "proto",
    "title",
    "evidence",
    "reason",
    "remediation",
)
SEVERITY_ORDER = tuple(sorted(Severity, key=lambda s: s.rank, reverse=True))
ISSUE_STATUSES = frozenset({Status.FAIL, Status.PARTIAL})

_SURROGATE = re.compile("[\ud800-\udfff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ReportPaths(Record):
    html: Path
    findings_json: Path
    inventory_json: Path
    findings_csv: Path


# --- text safety ---------------------------------------------------------------------------


def clean_text(value: object) -> str:
    """``value`` as text that always encodes to UTF-8 (bytes decoded, lone surrogates replaced)."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    # Lone surrogates are what invalid UTF-8 becomes under surrogateescape.
    return _SURROGATE.sub("\ufffd", str(value))


def visible_text(value: object) -> str:
    """Text for a human reader: control and format characters (U+202E and other bidi
    overrides, zero-width characters, NUL) are shown as ``[U+XXXX]`` so a banner can neither
    hide nor reorder what the report says."""
    text = clean_text(value)
    if text.isprintable():
        return text
    shown: list[str] = []
    for char in text.replace("\r\n", "\n"):
        if char in "\t\n" or unicodedata.category(char) not in ("Cc", "Cf"):
            shown.append(char)
        else:
            shown.append(f"[U+{ord(char):04X}]")
    return "".join(shown)


def _clean_tree(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {key: _clean_tree(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_tree(item) for item in value]
    return value


def _csv_cell(value: object) -> str:
    # A spreadsheet runs a cell starting with one of these as a formula; evidence comes off
    # the network, so such a cell is forced to text.
    text = visible_text(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


# --- formatting ----------------------------------------------------------------------------


def format_time(moment: datetime, lang: str) -> str:
    """``28/11/2026 09:00`` (Vietnam time) in Vietnamese, ``2026-11-28 02:00 UTC`` in English.

    A naive time is taken as UTC, which is how every model stores it."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if lang == "vi":
        return moment.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _time_span(start: datetime, end: datetime | None, lang: str) -> str:
    if end is None:
        return f"{format_time(start, lang)} – {t('report.meta.not_finished', lang)}"
    first, last = format_time(start, lang), format_time(end, lang)
    if first[:10] == last[:10]:  # same day: "dd/mm/yyyy HH:MM – HH:MM"
        if lang == "vi":
            return f"{first} – {last[11:16]}"
        return f"{first.removesuffix(' UTC')} – {last[11:]}"
    return f"{first} – {last}"


def _number(value: float, lang: str) -> str:
    text = f"{value:.1f}".removesuffix(".0")
    return text.replace(".", ",") if lang == "vi" else text


def _percent(fraction: float) -> str:
    # Rounded down: 99.7% coverage must not read as 100%.
    return f"{math.floor(round(fraction * 100, 6))}%"


def _ip_key(ip: str) -> tuple[int, int, str]:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return (99, 0, ip)
    return (address.version, int(address), "")


def _target_key(target: Target) -> tuple[tuple[int, int, str], int, str]:
    return (_ip_key(target.ip), -1 if target.port is None else target.port, target.proto or "")


def _target_text(target: Target) -> str:
    if target.port is None:
        return target.ip
    host = f"[{target.ip}]" if ":" in target.ip else target.ip
    return f"{host}:{target.port}" + (f"/{target.proto}" if target.proto else "")


# --- machine-readable documents ------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def inventory_document(
    result: SweepResult, agency_id: str, *, generated: datetime | None = None
) -> dict[str, Any]:
    """The inventory.json document: hosts by IP, each with its services by proto/port."""
    hosts = [
        {
            "ip": host.ip,
            "mac": host.mac or None,
            "vendor": host.vendor or None,
            "hostname": host.hostname or None,
            "services": [
                {
                    "port": service.port,
                    "proto": service.proto,
                    "state": service.state,
                    "name": service.name or None,
                    "product": service.product or None,
                    "version": service.version or None,
                }
                for service in sorted(host.services, key=lambda s: (s.proto, s.port))
            ],
        }
        for host in sorted(result.hosts, key=lambda h: _ip_key(h.ip))
    ]
    document = {
        "agency": agency_id,
        "sweep_id": result.sweep_id,
        "generated": _iso(generated or utcnow()),
        "hosts": hosts,
    }
    return dict(_clean_tree(document))


def findings_document(
    result: SweepResult,
    findings: list[Finding],
    score: Score,
    agency_id: str,
    *,
    generated: datetime | None = None,
) -> dict[str, Any]:
    """The findings.json document: score, every finding, and every attempt that did not complete."""
    document = {
        "agency": agency_id,
        "sweep_id": result.sweep_id,
        "generated": _iso(generated or utcnow()),
        "score": {
            "overall": score.overall,
            "coverage": score.coverage,
            "assessed": score.assessed,
            "applicable": score.applicable,
        },
        "findings": [
            {
                "check_id": f.check_id,
                "status": f.status.value,
                "severity": f.severity.value,
                "target": {"ip": f.target.ip, "port": f.target.port, "proto": f.target.proto},
                "evidence": f.evidence,
                "reason": f.reason,
            }
            for f in _sorted_findings(findings)
        ],
        "attempts": [
            {
                "stage": a.stage,
                "target": a.target,
                "status": a.status.value,
                "reason": a.reason.value if a.reason else None,
                "detail": a.detail,
            }
            for a in result.attempts
            if not a.ok
        ],
    }
    return dict(_clean_tree(document))


def findings_csv(findings: Iterable[Finding], lang: str) -> str:
    """findings.csv: one row per finding, titles and remediation in ``lang``."""
    catalogue = load_catalogue()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for f in _sorted_findings(findings):
        meta = catalogue.get(f.check_id)
        writer.writerow(
            [
                _csv_cell(f.check_id),
                f.status.value,
                f.severity.value,
                _csv_cell(f.target.ip),
                "" if f.target.port is None else f.target.port,
                _csv_cell(f.target.proto or ""),
                _csv_cell(meta.title(lang) if meta else f.check_id),
                _csv_cell(f.evidence),
                _csv_cell(f.reason),
                _csv_cell(meta.remediation(lang) if meta else ""),
            ]
        )
    return buffer.getvalue()


def _sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (_target_key(f.target), f.check_id))


# --- the page ------------------------------------------------------------------------------
# The template only lays out: everything it shows is prepared here, once.


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
    rows: list[Row]


@dataclass(frozen=True, slots=True)
class SeverityIssues:
    severity: str
    label: str
    count: int
    checks: list[CheckIssues]


@dataclass(frozen=True, slots=True)
class AttemptRow:
    stage: str
    target: str
    status: str
    status_label: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class ServiceRow:
    key: str
    state: str  # empty when simply "open"
    description: str
    page_title: str


@dataclass(frozen=True, slots=True)
class HostRow:
    ip: str
    mac: str
    vendor: str
    hostname: str
    sysdescr: str
    ports_scanned: bool
    services: list[ServiceRow]


@dataclass(frozen=True, slots=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class ReportView:
    agency_name: str
    facts: list[Fact]
    score: str | None
    coverage: str
    assessed: int
    applicable: int
    incomplete: str | None
    severity_counts: list[SeverityIssues]
    stats: list[Fact]
    issues: list[SeverityIssues]
    not_assessed: list[Row]
    attempts: list[AttemptRow]
    passed: list[Row]
    waived: list[Row]
    hosts: list[HostRow]
    hosts_summary: str


def render_html(
    result: SweepResult,
    findings: list[Finding],
    score: Score,
    config: AgencyConfig,
    lang: str,
    *,
    generated: datetime | None = None,
) -> str:
    """report.html as text: self-contained, no script, no external resource."""
    lang = Lang(lang).value
    view = _view(result, findings, score, config, lang, generated or utcnow())
    template = _environment().get_template("report.html.j2")
    return template.render(view=view, lang=lang, t=_translator(lang), version=__version__)


def write_outputs(
    result: SweepResult,
    findings: list[Finding],
    score: Score,
    config: AgencyConfig,
    out_dir: Path,
    lang: str | None = None,
) -> ReportPaths:
    """Write the four report files into ``out_dir``; each replaces its old copy atomically."""
    lang = Lang(lang or config.report.lang).value
    generated = utcnow()
    agency_id = config.agency.id
    paths = ReportPaths(
        html=out_dir / "report.html",
        findings_json=out_dir / "findings.json",
        inventory_json=out_dir / "inventory.json",
        findings_csv=out_dir / "findings.csv",
    )
    # Everything is rendered before anything is written: an error while rendering leaves the
    # previous report files as they were.
    html = render_html(result, findings, score, config, lang, generated=generated)
    contents = {
        paths.html: html.encode("utf-8"),
        paths.findings_json: _json_bytes(
            findings_document(result, findings, score, agency_id, generated=generated)
        ),
        paths.inventory_json: _json_bytes(
            inventory_document(result, agency_id, generated=generated)
        ),
        # The BOM lets Excel, which most agencies open CSV files with, read Vietnamese text.
        paths.findings_csv: findings_csv(findings, lang).encode("utf-8-sig"),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, data in contents.items():
        _write_atomic(path, data)
    return paths


def _json_bytes(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n").encode()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder so a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, REPORT_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(resources.files("templates"))),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _finalize(value: object) -> object:
    # Every {{ … }} passes here before autoescape, so no field, present or future, can bring
    # control or bidi-override characters into the page.
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible_text(value)
    return value


def _translator(lang: str) -> Callable[..., str]:
    def translate(key: str, **params: object) -> str:
        return t(key, lang, **params)

    return translate


def _shown(value: object, lang: str, limit: int = MAX_SHOWN) -> str:
    text = clean_text(value)
    if len(text) <= limit:
        return text
    return text[:limit] + t("report.truncated", lang, count=len(text) - limit)


def _view(
    result: SweepResult,
    findings: list[Finding],
    score: Score,
    config: AgencyConfig,
    lang: str,
    generated: datetime,
) -> ReportView:
    catalogue = load_catalogue()
    ordered = _sorted_findings(findings)

    def row(f: Finding) -> Row:
        meta = catalogue.get(f.check_id)
        return Row(
            check_id=f.check_id,
            title=meta.title(lang) if meta else f.check_id,
            target=_shown(_target_text(f.target), lang),
            status=f.status.value,
            status_label=t(f"report.status.{f.status.value}", lang),
            evidence=_shown(f.evidence, lang),
            reason=_shown(f.reason, lang),
            waiver=_shown(f.waiver, lang),
        )

    issues = _issues(ordered, catalogue, row, lang)
    failed_attempts = [a for a in result.attempts if not a.ok]
    incomplete = None
    if not result.complete:
        incomplete = (
            t("report.incomplete.body", lang, count=len(failed_attempts))
            if failed_attempts
            else t("report.incomplete.cut_short", lang)
        )
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
    by_severity = {group.severity: group for group in issues}
    severity_counts = [
        by_severity.get(s.value) or SeverityIssues(s.value, t(f"report.severity.{s}", lang), 0, [])
        for s in SEVERITY_ORDER
        if s is not Severity.INFO or s.value in by_severity
    ]
    return ReportView(
        agency_name=config.agency.name,
        facts=_facts(result, config, lang, generated),
        score=None if score.overall is None else _number(score.overall, lang),
        coverage=_percent(score.coverage),
        assessed=score.assessed,
        applicable=score.applicable,
        incomplete=incomplete,
        severity_counts=severity_counts,
        stats=stats,
        issues=issues,
        not_assessed=[row(f) for f in ordered if f.status is Status.NOT_ASSESSED],
        attempts=[
            AttemptRow(
                stage=_shown(a.stage, lang),
                target=_shown(a.target, lang),
                status=a.status.value,
                status_label=t(f"report.attempt.{a.status.value}", lang),
                reason=t(f"report.reason.{a.reason.value}", lang) if a.reason else "",
                detail=_shown(a.detail, lang),
            )
            for a in failed_attempts
        ],
        passed=[row(f) for f in ordered if f.status is Status.PASS],
        waived=[row(f) for f in ordered if f.status is Status.WAIVED],
        hosts=_hosts(result, lang),
        hosts_summary=t(
            "report.inventory.summary",
            lang,
            hosts=counts.hosts_found,
            services=counts.services_open,
        ),
    )


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
        Fact(t("report.meta.sweep_id", lang), result.sweep_id),
        Fact(t("report.meta.time", lang), _time_span(result.started, result.finished, lang)),
        Fact(t("report.meta.profile", lang), profile),
        Fact(t("report.meta.scopes", lang), ", ".join(result.scopes)),
    ]
    if result.exclude:
        facts.append(Fact(t("report.meta.exclude", lang), ", ".join(result.exclude)))
    facts.append(Fact(t("report.meta.generated", lang), format_time(generated, lang)))
    return facts


def _issues(
    ordered: list[Finding],
    catalogue: dict[str, CheckMeta],
    row: Callable[[Finding], Row],
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


def _hosts(result: SweepResult, lang: str) -> list[HostRow]:
    titles = {
        (o.ip, o.port): clean_text(o.data.get("title"))
        for o in result.observations
        if o.kind == "http.title" and o.data.get("title")
    }
    sysdescr = {
        o.ip: clean_text(o.data.get("sysdescr"))
        for o in result.observations
        if o.kind == "snmp.community" and o.data.get("sysdescr")
    }
    rows = []
    for host in sorted(result.hosts, key=lambda h: _ip_key(h.ip)):
        services = [
            ServiceRow(
                key=s.key,
                state="" if s.state == "open" else _shown(s.state, lang),
                description=_shown(
                    " ".join(p for p in (s.name, s.product, s.version) if p), lang, MAX_NAME
                ),
                page_title=_shown(titles.get((host.ip, s.port), ""), lang, MAX_NAME),
            )
            for s in sorted(host.services, key=lambda s: (s.proto, s.port))
        ]
        rows.append(
            HostRow(
                ip=_shown(host.ip, lang, MAX_NAME),
                mac=_shown(host.mac, lang, MAX_NAME),
                vendor=_shown(host.vendor, lang, MAX_NAME),
                hostname=_shown(host.hostname, lang, MAX_NAME),
                sysdescr=_shown(sysdescr.get(host.ip, ""), lang, MAX_NAME),
                ports_scanned=host.ports_scanned,
                services=services,
            )
        )
    return rows


__all__ = [
    "ReportPaths",
    "findings_csv",
    "findings_document",
    "format_time",
    "inventory_document",
    "render_html",
    "write_outputs",
]
