"""Province and district views over the stored bundles' index rows.

Pure functions: rows in, view objects out, every number and every label prepared here and in
the section modules (:mod:`.ranking`, :mod:`.findings`, :mod:`.trend`), so the templates only
lay them out. The numbers themselves (tiers, medians, means) come from
:mod:`secposture.scoring.tiers`.
"""

from __future__ import annotations

from datetime import datetime

from secposture.checks.catalogue import CheckMeta
from secposture.config.sections import Level
from secposture.province.findings import check_heat, common_findings, pillar_heat
from secposture.province.ranking import distribution, overdue, ranking, tiers
from secposture.province.render import format_time, number
from secposture.province.rows import PageScope
from secposture.province.trend import trend
from secposture.province.views import AggregateView, DistrictLine, Translate
from secposture.report.view.page import Fact
from secposture.scoring.tiers import median_score


def build_view(
    scope: PageScope,
    *,
    catalogue: dict[str, CheckMeta],
    now: datetime,
    overdue_days: int,
    lang: str,
    t: Translate,
    districts: list[DistrictLine] | None = None,
) -> AggregateView:
    """The province or district page for ``scope``."""
    lines = ranking(scope, lang, t)
    scores = scope.scores()
    reported = scope.reported()
    bars, gridlines = distribution(scores)
    facts = [
        Fact(t("agg.meta.generated"), format_time(now, lang)),
        Fact(t("agg.meta.units"), str(len(scope.units))),
        Fact(t("agg.meta.reported"), f"{reported}/{len(scope.units)}"),
    ]
    return AggregateView(
        kind=scope.kind,
        heading=scope.heading,
        facts=facts,
        reported=reported,
        total=len(scope.units),
        median=_median(scores, lang),
        bars=bars,
        bar_gridlines=gridlines,
        tiers=tiers(scope, t),
        ranking=lines,
        pillars=pillar_heat(scope, lines, lang),
        heat=check_heat(scope, lines, catalogue, lang),
        findings=common_findings(scope, catalogue, lang, t),
        trend=trend(scope, now, lang),
        overdue=overdue(scope, now, overdue_days, lang, t),
        districts=districts or [],
        back_href=None if scope.kind == "province" else f"{scope.prefix}index.html",
    )


def district_line(scope: PageScope, href: str, lang: str) -> DistrictLine:
    """One row of the province page's district table."""
    return DistrictLine(
        name=scope.heading,
        href=href,
        communes=sum(1 for u in scope.units if u.level is Level.COMMUNE),
        reported=f"{scope.reported()}/{len(scope.units)}",
        median=_median(scope.scores(), lang),
    )


def _median(scores: list[float], lang: str) -> str:
    median = median_score(scores)
    return "—" if median is None else number(median, lang)
