"""The agency job: sweep → inventory → checks → score → report, used by CLI and agent."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inventory.store import Inventory
from secposture.checks import run_checks
from secposture.config import AgencyConfig
from secposture.models import Change, Finding, SweepResult
from secposture.report import ReportPaths, write_outputs
from secposture.scoring import Score, score_findings
from secposture.sweep import Progress, _quiet, run_sweep


@dataclass(frozen=True, slots=True)
class JobResult:
    sweep: SweepResult
    findings: list[Finding]
    score: Score
    changes: list[Change]
    report: ReportPaths


def assess(sweep: SweepResult) -> tuple[list[Finding], Score]:
    findings = run_checks(sweep)
    return findings, score_findings(findings)


def run_job(
    config: AgencyConfig,
    *,
    out_dir: Path | None = None,
    lang: str | None = None,
    progress: Progress = _quiet,
) -> JobResult:
    """Sweep the agency's LAN, remember it, judge it and write the report."""
    sweep = run_sweep(config, progress=progress)
    findings, score = assess(sweep)
    store = Inventory(config.store.path, keep_sweeps=config.store.keep_sweeps)
    changes = store.commit_sweep(sweep, findings, score)
    paths = write_outputs(sweep, findings, score, config, out_dir or config.report.dir, lang)
    return JobResult(sweep, findings, score, changes, paths)
