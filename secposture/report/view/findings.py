"""The findings as the report lists them: issues by severity, and the folded lists of what
passed, what could not be assessed and which scanner steps did not complete."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from secposture.checks.catalogue import CheckMeta
from secposture.model.i18n import source_text, t
from secposture.model.records import Attempt, Finding, Severity, Status
from secposture.report.view.text import MAX_NAME, shown, target_key, target_text

SEVERITY_ORDER = tuple(sorted(Severity, key=lambda s: s.rank, reverse=True))
ISSUE_STATUSES = frozenset({Status.FAIL, Status.PARTIAL})


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in the order every output lists them: by target, then by check id."""
    return sorted(findings, key=lambda f: (target_key(f.target), f.check_id))


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
    """The failed checks of one severity, and how many findings they hold."""

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
    """A scanner step that did not complete, and why."""

    stage: str
    target: str
    status: str
    status_label: str
    reason: str
    detail: str


class FindingRows:
    """Check titles and finding rows in one language, from the check catalogue."""

    def __init__(self, catalogue: dict[str, CheckMeta], lang: str) -> None:
        self.catalogue = catalogue
        self.lang = lang

    def title(self, check_id: str) -> str:
        """The check's title; its id when the catalogue does not know it."""
        meta = self.catalogue.get(check_id)
        return meta.title(self.lang) if meta else check_id

    def row(self, f: Finding) -> Row:
        """``f`` as a table row, its network text made safe to show."""
        lang = self.lang
        return Row(
            check_id=f.check_id,
            title=self.title(f.check_id),
            target=shown(target_text(f.target), lang),
            status=f.status.value,
            status_label=t(f"report.status.{f.status.value}", lang),
            evidence=shown(source_text(f.evidence, lang), lang),
            reason=shown(source_text(f.reason, lang), lang),
            waiver=shown(f.waiver, lang),
        )

    def issues(
        self, ordered: list[Finding], requirements: dict[str, list[str]]
    ) -> list[SeverityIssues]:
        """Failed findings by severity (most severe first), then by check (most targets first)."""
        lang = self.lang
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
                meta = self.catalogue.get(check_id)
                checks.append(
                    CheckIssues(
                        check_id=check_id,
                        title=self.title(check_id),
                        rationale=meta.rationale(lang) if meta else "",
                        remediation=meta.remediation(lang) if meta else "",
                        requirements=requirements.get(check_id, []),
                        rows=[self.row(f) for f in failed],
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

    def grouped(
        self, findings: Iterable[Finding], *, reason: bool = True, targets: bool = True
    ) -> list[CheckTargets]:
        """Findings folded into one line per check (and reason): a 2,000-host LAN has 2,000
        passes of each check, which a reader wants as one line, not 2,000."""
        lang = self.lang
        groups: dict[tuple[str, str], list[str]] = {}
        for f in findings:
            key = (f.check_id, f.reason if reason else "")
            groups.setdefault(key, []).append(shown(target_text(f.target), lang, MAX_NAME))
        return [
            CheckTargets(
                check_id=check_id,
                title=self.title(check_id),
                reason=shown(source_text(why, lang), lang),
                targets=found if targets else [],
            )
            for (check_id, why), found in sorted(
                groups.items(), key=lambda i: (self.title(i[0][0]), i[0])
            )
        ]


def attempt_row(a: Attempt, lang: str) -> AttemptRow:
    """A scanner step that did not complete, as a table row."""
    return AttemptRow(
        stage=shown(a.stage, lang),
        target=shown(a.target, lang),
        status=a.status.value,
        status_label=t(f"report.attempt.{a.status.value}", lang),
        reason=t(f"report.reason.{a.reason.value}", lang) if a.reason else "",
        detail=shown(source_text(a.detail, lang), lang),
    )
