"""The agency job: sweep → inventory → checks → score → report, used by CLI and agent."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inventory.facts import inventory_facts
from inventory.store import Inventory
from secposture.checks.engine import run_inventory_checks
from secposture.config.sections import AgencyConfig
from secposture.job.assessment import Assessment, assess, load_inputs
from secposture.job.sweep import Progress, _quiet, run_sweep
from secposture.model.records import Change, Finding, SweepResult
from secposture.model.score import Score
from secposture.report.outputs import ReportPaths, write_outputs
from secposture.report.view.context import context_from_store
from secposture.scoring.score import Posture

__all__ = ["Assessment", "JobResult", "assess", "run_job"]


@dataclass(frozen=True, slots=True)
class JobResult:
    """What one sweep job produced: the sweep, its findings, score, changes and report files."""

    sweep: SweepResult
    findings: list[Finding]
    score: Score
    changes: list[Change]
    report: ReportPaths
    # Every framework's posture. run_job always sets it; the default keeps JobResults built
    # by hand (tests, stand-ins) valid.
    posture: Posture | None = None


def run_job(
    config: AgencyConfig,
    *,
    out_dir: Path | None = None,
    lang: str | None = None,
    progress: Progress = _quiet,
) -> JobResult:
    """Sweep the agency's LAN, remember it, judge it and write the report."""
    # Answers, waivers and frameworks are read first: a typo in one must not cost a sweep.
    inputs = load_inputs(config)
    sweep = run_sweep(config, progress=progress)
    store = Inventory.for_config(config)
    # Inventory-wide checks see the store as if this sweep were already in it.
    inventory = run_inventory_checks(inventory_facts(store, sweep, config.assets))
    result = assess(sweep, config, inputs=inputs, extra_findings=inventory)
    changes = store.commit_sweep(sweep, result.findings, result.score)
    # The report's trend, changes, device history and drift come from the store just written.
    context = context_from_store(store, sweep, posture=result.posture, changes=changes)
    paths = write_outputs(
        sweep,
        result.findings,
        result.score,
        config,
        out_dir or config.report.dir,
        lang,
        context=context,
    )
    return JobResult(sweep, result.findings, result.score, changes, paths, result.posture)
