"""The framework posture as the agency report shows it: the GCI-style headline and pillars,
each framework's sections, the requirements a check touches, answers and waivers.

Everything comes from :class:`secposture.scoring.score.Posture`; nothing is re-scored here.
"""

from __future__ import annotations

from dataclasses import dataclass

from secposture.checks.catalogue import CheckMeta
from secposture.model.i18n import t
from secposture.report.view.charts import PillarChart, PillarInput, pillar_chart
from secposture.report.view.text import format_day, number, percent, shown
from secposture.scoring.score import (
    FrameworkPosture,
    ItemStatus,
    Posture,
    RequirementScore,
    SectionScore,
)

# The framework whose sections are the summary's pillars (GCI's five), if the agency has it.
PILLAR_FRAMEWORK = "gci"


def _pick(lang: str, vi: str, en: str) -> str:
    return vi if lang == "vi" else en


# --- the summary: headline index and pillars -----------------------------------------------


@dataclass(frozen=True, slots=True)
class IndexHeadline:
    """The pillar framework's score, tier and coverage, for the summary."""

    title: str
    score: str | None  # "69,6/100"; None when nothing could be scored
    coverage: str
    tier: str | None
    provisional: bool


def pillar_framework(posture: Posture | None) -> FrameworkPosture | None:
    """GCI if present, else the first points framework; None when there is none."""
    if posture is None:
        return None
    points = [fw for fw in posture.frameworks if fw.method == "points"]
    return next((fw for fw in points if fw.id == PILLAR_FRAMEWORK), points[0] if points else None)


def index_headline(fw: FrameworkPosture, lang: str) -> IndexHeadline:
    """The framework index's score, tier and coverage as the summary states them."""
    tier = None
    if (claimed := fw.claimed_tier) is not None:
        name = _pick(lang, claimed.name_vi, claimed.name_en)
        tier = t("posture.tier", lang, rank=claimed.rank, name=name)
    score = None
    if fw.score is not None:
        score = f"{number(fw.score, lang)}/{number(fw.max_score, lang)}"
    return IndexHeadline(
        # The framework's full title is a sentence; the summary line needs a name.
        title=t("report.index.gci", lang)
        if fw.id == PILLAR_FRAMEWORK
        else _pick(lang, fw.title_vi, fw.title_en),
        score=score,
        coverage=percent(fw.coverage),
        tier=tier,
        provisional=fw.provisional,
    )


def pillars(fw: FrameworkPosture, lang: str) -> PillarChart:
    """One bar per section of ``fw``: its percentage, or a word for why it has none."""
    inputs = []
    for section in fw.sections:
        if section.percent is not None and section.status is ItemStatus.SCORED:
            if section.points is not None and section.max_points is not None:
                value = f"{number(section.points, lang)}/{number(section.max_points, lang)}"
            else:
                value = f"{number(section.percent, lang)}%"
            inputs.append(
                PillarInput(
                    label=_pick(lang, section.title_vi, section.title_en),
                    percent=section.percent,
                    value=value,
                    provisional=section.provisional,
                )
            )
        else:
            inputs.append(
                PillarInput(
                    label=_pick(lang, section.title_vi, section.title_en),
                    percent=None,
                    value=t(f"report.pillar.{section.status.value}", lang),
                )
            )
    return pillar_chart(inputs)


# --- which requirements a check touches ----------------------------------------------------


def requirements_by_check(posture: Posture | None, lang: str) -> dict[str, list[str]]:
    """For each check id, the requirements it evidences where they apply to this agency:
    ``"gci · Kỹ thuật · Chuẩn hóa cấu hình an toàn"``, ``"vn-baseline 4.5 · Cấu hình …"``."""
    found: dict[str, list[str]] = {}
    if posture is None:
        return found
    for fw in posture.frameworks:
        for section in fw.sections:
            for req in section.requirements:
                if req.status is ItemStatus.NOT_APPLICABLE:
                    continue
                label = _requirement_label(fw, section, req, lang)
                for check in req.checks:
                    found.setdefault(check, []).append(label)
    return found


def _requirement_label(
    fw: FrameworkPosture, section: SectionScore, req: RequirementScore, lang: str
) -> str:
    title = _pick(lang, req.title_vi, req.title_en)
    if req.ref:
        return f"{fw.id} {req.ref} · {title}"
    return f"{fw.id} · {_pick(lang, section.title_vi, section.title_en)} · {title}"


# --- every framework, section by section ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequirementRow:
    """One requirement (indicator, clause, safeguard) of a framework section."""

    ref: str
    title: str
    value: str
    status: str  # scored | not_assessed | not_applicable | meets | does_not_meet
    coverage: str
    note: str
    unverified: bool


@dataclass(frozen=True, slots=True)
class SectionRow:
    """One section (pillar, group, control) with the requirements that apply."""

    ref: str
    title: str
    value: str
    status: str
    coverage: str
    note: str
    provisional: bool
    unverified: bool
    requirements: list[RequirementRow]
    hidden: int  # requirements that do not apply at this agency's level


@dataclass(frozen=True, slots=True)
class FrameworkView:
    """One framework's result, section by section."""

    id: str
    title: str
    version: str
    headline: str  # "69,6/100", "Không đáp ứng" or why there is no score
    status: str
    coverage: str
    tier: str | None
    provisional: bool
    method_note: str
    section_label: str
    requirement_label: str
    sections: list[SectionRow]


def framework_views(posture: Posture, lang: str) -> list[FrameworkView]:
    """Each framework with its sections and the requirements that apply at this level."""
    views = []
    for fw in posture.frameworks:
        headline = index_headline(fw, lang)
        if fw.conclusion is not None:
            value, status = t(f"conclusion.{fw.conclusion.value}", lang), fw.conclusion.value
        elif headline.score is not None:
            value, status = headline.score, "scored"
        else:
            value, status = t("score.no_score", lang), "not_assessed"
        views.append(
            FrameworkView(
                id=fw.id,
                title=_pick(lang, fw.title_vi, fw.title_en),
                version=fw.version,
                headline=value,
                status=status,
                coverage=headline.coverage,
                tier=headline.tier,
                provisional=fw.provisional,
                method_note=_pick(lang, fw.method_note_vi, fw.method_note_en),
                section_label=_pick(lang, fw.section_label_vi, fw.section_label_en),
                requirement_label=_pick(lang, fw.requirement_label_vi, fw.requirement_label_en),
                sections=[_section_row(s, lang) for s in fw.sections],
            )
        )
    return views


def _value(
    status: ItemStatus, conclusion: str | None, ratio: float | None, lang: str
) -> tuple[str, str]:
    """What to print for an item, and the state its colour comes from."""
    if conclusion is not None and status is ItemStatus.SCORED:
        return t(f"conclusion.{conclusion}", lang), conclusion
    if status is ItemStatus.SCORED and ratio is not None:
        return f"{number(100 * ratio, lang)}%", "scored"
    return t(f"posture.status.{status.value}", lang), status.value


def _note(unscored: object, lang: str) -> str:
    return "" if unscored is None else t(f"posture.unscored.{unscored}", lang)


def _section_row(section: SectionScore, lang: str) -> SectionRow:
    ratio = None if section.percent is None else section.percent / 100
    conclusion = section.conclusion.value if section.conclusion else None
    value, status = _value(section.status, conclusion, ratio, lang)
    if section.points is not None and section.max_points is not None:
        value = f"{number(section.points, lang)}/{number(section.max_points, lang)}"
    shown_reqs = [r for r in section.requirements if r.status is not ItemStatus.NOT_APPLICABLE]
    return SectionRow(
        ref=section.ref,
        title=_pick(lang, section.title_vi, section.title_en),
        value=value,
        status=status,
        coverage="" if section.status is ItemStatus.NOT_APPLICABLE else percent(section.coverage),
        note=_note(section.unscored.value if section.unscored else None, lang),
        provisional=section.provisional,
        unverified=not section.verified,
        requirements=[_requirement_row(r, lang) for r in shown_reqs],
        hidden=len(section.requirements) - len(shown_reqs),
    )


def _requirement_row(req: RequirementScore, lang: str) -> RequirementRow:
    conclusion = req.conclusion.value if req.conclusion else None
    value, status = _value(req.status, conclusion, req.ratio, lang)
    return RequirementRow(
        ref=req.ref,
        title=_pick(lang, req.title_vi, req.title_en),
        value=value,
        status=status,
        coverage=percent(req.coverage) if req.status is ItemStatus.SCORED else "",
        note=_note(req.unscored.value if req.unscored else None, lang),
        unverified=not req.verified,
    )


# --- self-assessment answers and waivers ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """One self-assessment answer as the report lists it."""

    check_id: str
    title: str
    answer: str  # yes | no | partial | na
    answer_label: str
    evidence: str
    answered_by: str
    answered_on: str
    current: bool
    note: str


@dataclass(frozen=True, slots=True)
class WaiverRow:
    """One accepted risk, with how many findings it waived."""

    check_id: str
    title: str
    target: str
    reason: str
    approver: str
    expires: str
    expired: bool
    matched: int


def answer_rows(posture: Posture, catalogue: dict[str, CheckMeta], lang: str) -> list[AnswerRow]:
    """Every answer in the questionnaire, in catalogue order, stale ones marked."""
    order = {check_id: i for i, check_id in enumerate(catalogue)}
    rows = []
    for state in sorted(posture.answers, key=lambda s: order.get(s.answer.check, len(order))):
        answer = state.answer
        meta = catalogue.get(answer.check)
        rows.append(
            AnswerRow(
                check_id=answer.check,
                title=meta.title(lang) if meta else answer.check,
                answer=_answer_key(answer.answer.value),
                answer_label=t(f"report.answer.{_answer_key(answer.answer.value)}", lang),
                evidence=shown(answer.evidence, lang),
                answered_by=shown(answer.answered_by, lang),
                answered_on=format_day(answer.answered_on, lang),
                current=state.current,
                note=shown(answer.note, lang),
            )
        )
    return rows


def _answer_key(value: str) -> str:
    return "na" if value == "n/a" else value


def waiver_rows(posture: Posture, catalogue: dict[str, CheckMeta], lang: str) -> list[WaiverRow]:
    """Every waiver in the waivers file, expired ones marked."""
    rows = []
    for state in posture.waivers:
        waiver = state.waiver
        meta = catalogue.get(waiver.check)
        target = waiver.target if waiver.port is None else f"{waiver.target}:{waiver.port}"
        rows.append(
            WaiverRow(
                check_id=waiver.check,
                title=meta.title(lang) if meta else waiver.check,
                target=shown(target, lang),
                reason=shown(waiver.reason, lang),
                approver=shown(waiver.approver, lang),
                expires=format_day(waiver.expires, lang),
                expired=state.expired,
                matched=state.matched,
            )
        )
    return rows
