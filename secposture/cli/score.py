"""``secposture frameworks list`` and ``secposture score``: the frameworks, and the agency's
posture against them re-computed from its last stored sweep."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from inventory.facts import inventory_facts
from inventory.storage import StoreError
from inventory.store import Inventory
from secposture.checks.engine import run_inventory_checks
from secposture.cli.common import (
    CONFIG_OPT,
    config_fail,
    config_option,
    emit_json,
    exit_on_findings,
    fail,
    load,
    message_lang,
)
from secposture.config.errors import ConfigError
from secposture.config.sections import AgencyConfig
from secposture.frameworks import Framework, FrameworkScope, SectionScope, load_frameworks
from secposture.job.assessment import Assessment, assess, load_inputs
from secposture.model import exitcodes
from secposture.model.i18n import t
from secposture.model.records import Severity, SweepResult
from secposture.scoring.score import FrameworkPosture, ItemStatus, SectionScore, posture_document


def _percent(value: float) -> str:
    return f"{value:.0%}"


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


# -- frameworks list ------------------------------------------------------------------------


@click.group("frameworks")
def frameworks_group() -> None:
    """The frameworks scores are measured against (GCI-style, vn-baseline, vn-qcvn12, CIS IG1)."""


@frameworks_group.command("list")
@config_option(
    "Agency config: include the province's own files from [assessment] frameworks_dir.",
    required=False,
)
@click.option("--json", "as_json", is_flag=True, help="Every framework file's full data.")
def frameworks_list(config_path: Path | None, as_json: bool) -> None:
    """List each framework with its sections, requirements and the checks that evidence them."""
    override = load(config_path).assessment.frameworks_dir if config_path else None
    try:
        frameworks = load_frameworks(override)
    except ConfigError as exc:
        config_fail(exc)
    if as_json:
        emit_json([fw.model_dump(mode="json") for fw in frameworks.values()])
        return
    for fw in frameworks.values():
        _print_framework(fw, message_lang())


def _print_framework(fw: Framework, lang: str) -> None:
    info = fw.info
    vi = lang == "vi"
    click.echo(
        t(
            "frameworks.header",
            lang,
            id=info.id,
            version=info.version,
            title=info.title_vi if vi else info.title_en,
            sections=len(fw.sections),
            section_label=(info.section_label_vi if vi else info.section_label_en).lower(),
            requirements=len(fw.requirements),
            requirement_label=(
                info.requirement_label_vi if vi else info.requirement_label_en
            ).lower(),
        )
    )
    extends = t("frameworks.extends", lang, parent=info.extends) if info.extends else ""
    if info.applies_to is FrameworkScope.ELECTRONIC_DOCUMENT_STORAGE:
        click.echo(t("frameworks.scoped", lang, extends=extends))
    for section in fw.sections:
        marks = [t("frameworks.national", lang)] if section.scope is SectionScope.NATIONAL else []
        if not section.verified:
            marks.append(t("frameworks.unverified", lang))
        title = section.title_vi if vi else section.title_en
        click.echo(f"  {section.id:<24} {title}" + (f" ({', '.join(marks)})" if marks else ""))
        for req in fw.requirements_of(section.id):
            title = req.title_vi if vi else req.title_en
            checks = ", ".join(req.checks) or f"({t('frameworks.no_checks', lang)})"
            flag = "" if req.verified else f" [{t('frameworks.unverified', lang)}]"
            click.echo(f"    {req.ref or req.id}  {title}{flag}")
            click.echo(f"      → {checks}")
    click.echo()


# -- score ------------------------------------------------------------------------------------


def assess_latest(config: AgencyConfig, lang: str) -> tuple[Inventory, SweepResult, Assessment]:
    """The store, its last committed sweep and that sweep judged today; exits 2 on bad input."""
    try:
        inputs = load_inputs(config)
    except ConfigError as exc:
        fail(t("error.config", lang, detail=str(exc)), exitcodes.USAGE)
    store = Inventory.for_config(config)
    try:
        sweep = store.latest_result()
        if sweep is None:
            fail(t("score.no_sweep", lang, path=store.path), exitcodes.USAGE)
        inventory = run_inventory_checks(inventory_facts(store, sweep, config.assets))
    except StoreError as exc:
        fail(str(exc), exitcodes.USAGE)
    return store, sweep, assess(sweep, config, inputs=inputs, extra_findings=inventory)


@click.command("score")
@CONFIG_OPT
@click.option(
    "--fail-on",
    type=click.Choice([s.value for s in Severity]),
    help="Exit 1 when a failed (not waived) finding has this severity or higher.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the posture as JSON.")
def score(config_path: Path, fail_on: str | None, as_json: bool) -> None:
    """Re-score the last stored sweep with the current frameworks, answers and waivers.

    Nothing is scanned: the checks run again over what the last sweep observed, the
    self-assessment answers and waivers are read as of today, and every framework is scored.
    Exit codes: 0 ok · 1 failed findings at or above --fail-on · 2 usage or config error
    (including a bad questionnaire, waivers or framework file) · 3 the sweep was incomplete.
    """
    config = load(config_path)
    lang = message_lang()
    _store, sweep, result = assess_latest(config, lang)
    if as_json:
        emit_json(
            {
                "sweep_id": sweep.sweep_id,
                "complete": sweep.complete,
                "score": result.score.model_dump(mode="json"),
                "posture": posture_document(result.posture),
            }
        )
    else:
        _print_posture(sweep, result, lang)
    if not sweep.complete:
        sys.exit(exitcodes.INCOMPLETE)
    exit_on_findings(result.findings, fail_on)


def _print_posture(sweep: SweepResult, result: Assessment, lang: str) -> None:
    posture = result.posture
    click.echo(t("score.sweep", lang, sweep=sweep.sweep_id, started=sweep.started.isoformat()))
    if not sweep.complete:
        click.echo(t("score.incomplete", lang, sweep=sweep.sweep_id))
    expired = sum(1 for w in posture.waivers if w.expired)
    if expired:
        click.echo(t("score.waivers_expired", lang, count=expired))
    stale = sum(1 for a in posture.answers if not a.current)
    if stale:
        click.echo(t("score.answers_stale", lang, count=stale))
    for fw in posture.frameworks:
        click.echo()
        _print_framework_posture(fw, lang)


def _print_framework_posture(fw: FrameworkPosture, lang: str) -> None:
    vi = lang == "vi"
    click.echo(
        t(
            "score.framework",
            lang,
            title=fw.title_vi if vi else fw.title_en,
            id=fw.id,
            version=fw.version,
            applied_at=fw.applied_at,
        )
    )
    coverage = _percent(fw.coverage)
    if fw.conclusion is not None:
        counts = fw.sections_by_status
        line = t(
            "score.conclusion",
            lang,
            conclusion=t(f"conclusion.{fw.conclusion.value}", lang),
            meets=counts.get("meets", 0),
            clean=counts.get("no_failure_found", 0),
            fails=counts.get("does_not_meet", 0),
            unknown=counts.get("not_assessed", 0),
            coverage=coverage,
        )
    elif fw.score is None:
        line = t("score.no_score", lang)
    else:
        line = t(
            "score.points",
            lang,
            score=_number(fw.score),
            max=_number(fw.max_score),
            coverage=coverage,
        )
    extras = []
    if (claimed := fw.claimed_tier) is not None:
        name = claimed.name_vi if vi else claimed.name_en
        extras.append(t("posture.tier", lang, rank=claimed.rank, name=name))
    elif fw.tier is not None:
        # The figure falls in a tier the tool may not name: say why instead (issue #13).
        why = "provisional" if fw.provisional else "unverified"
        extras.append(t(f"posture.tier_withheld.{why}", lang))
    if fw.provisional:
        extras.append(t("posture.provisional", lang))
    click.echo("  " + " · ".join([line, *extras]))
    for section in fw.sections:
        click.echo("    " + _section_line(section, lang))


def _section_line(section: SectionScore, lang: str) -> str:
    title = section.title_vi if lang == "vi" else section.title_en
    if section.conclusion is not None:
        value = t(f"conclusion.{section.conclusion.value}", lang)
    elif section.points is not None and section.max_points is not None:
        value = f"{_number(section.points)}/{_number(section.max_points)}"
    elif section.percent is not None:
        value = f"{_number(section.percent)}%"
    else:
        value = "—"
    if section.status is ItemStatus.SCORED:
        detail = t("score.coverage", lang, coverage=_percent(section.coverage))
        if section.provisional:
            detail += f", {t('posture.provisional', lang)}"
    elif section.unscored is not None:
        detail = t(f"posture.unscored.{section.unscored.value}", lang)
    else:
        detail = ""
    return f"{title[:40]:<40} {value:<14} {detail}"
