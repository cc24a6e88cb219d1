"""What many units fail: the common findings and the heat maps of checks and pillars."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from secposture.checks.catalogue import CheckMeta
from secposture.config.sections import Level
from secposture.model.records import Severity
from secposture.province.hierarchy import Unit
from secposture.province.ranking import UnitLine
from secposture.province.rows import PageScope, Translate
from secposture.report.view.text import number
from secposture.scoring.tiers import share_percent, share_step

HEAT_COLUMNS = 8
TOP_FINDINGS = 10
Catalogue = dict[str, CheckMeta]
# The levels a common finding counts its units by: the commune level, the departments, then
# the districts of data from before 1/7/2025 (each named only when one of its units fails).
LEVEL_ORDER = (Level.COMMUNE, Level.WARD, Level.SPECIAL_ZONE, Level.DEPARTMENT, Level.DISTRICT)


def _title(check_id: str, catalogue: Catalogue, lang: str) -> str:
    meta = catalogue.get(check_id)
    return meta.title(lang) if meta else check_id


def _failing(scope: PageScope) -> dict[str, list[tuple[Unit, int]]]:
    """Each failed check with the units (and their failed-target counts) failing it."""
    failing: dict[str, list[tuple[Unit, int]]] = {}
    for unit in scope.units:
        row = scope.latest(unit.id)
        for check_id, targets in row["failed"].items() if row else ():
            failing.setdefault(check_id, []).append((unit, targets))
    return failing


def _most_failed(failing: dict[str, list[tuple[Unit, int]]], catalogue: Catalogue) -> list[str]:
    """Failed checks, most units first, then the most severe, then by id."""

    def key(check_id: str) -> tuple[int, int, str]:
        meta = catalogue.get(check_id)
        return (-len(failing[check_id]), -(meta.severity.rank if meta else 0), check_id)

    return sorted(failing, key=key)


@dataclass(frozen=True, slots=True)
class AffectedUnit:
    """A unit failing a common finding, with how many of its targets fail."""

    name: str
    href: str | None
    targets: str


@dataclass(frozen=True, slots=True)
class CommonFinding:
    """A check many units fail, with the units failing it."""

    check_id: str
    title: str
    severity: str
    severity_label: str
    headline: str
    levels: str
    units: list[AffectedUnit]


def common_findings(
    scope: PageScope, catalogue: Catalogue, lang: str, t: Translate
) -> list[CommonFinding]:
    """The checks the most units fail, each with the units failing it, most targets first."""
    failing = _failing(scope)
    out = []
    for check_id in _most_failed(failing, catalogue)[:TOP_FINDINGS]:
        units = sorted(failing[check_id], key=lambda ut: (-ut[1], ut[0].name))
        by_level = Counter(u.level for u, _ in units)
        levels = " · ".join(
            t("agg.findings.levels", count=by_level[level], level=t(f"agg.level.{level.value}"))
            for level in LEVEL_ORDER
            if by_level.get(level)
        )
        meta = catalogue.get(check_id)
        severity = meta.severity.value if meta else Severity.INFO.value
        title = _title(check_id, catalogue, lang)
        out.append(
            CommonFinding(
                check_id=check_id,
                title=title,
                severity=severity,
                severity_label=t(f"report.severity.{severity}"),
                headline=t("agg.findings.headline", count=len(units), title=title),
                levels=levels,
                units=[
                    AffectedUnit(u.name, scope.href(u.id), t("agg.findings.targets", count=n))
                    for u, n in units
                ],
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Heat:
    """A heat map: units down, checks or pillars across."""

    columns: list[str]
    column_ids: list[str]
    rows: list[HeatRow]


@dataclass(frozen=True, slots=True)
class HeatRow:
    """One unit's row of a heat map."""

    name: str
    href: str | None
    cells: list[HeatCell]


@dataclass(frozen=True, slots=True)
class HeatCell:
    """One cell of a heat map."""

    text: str
    level: str  # css class: h0 (none) … h4 (many), na (no report)


NO_REPORT = HeatCell("", "na")


def check_heat(scope: PageScope, ranking: list[UnitLine], catalogue: Catalogue, lang: str) -> Heat:
    """Units × the most common failed checks, each cell the share of the unit's assessed
    targets that fail (a share, so a 200-host department and a 20-host commune compare)."""
    columns = _most_failed(_failing(scope), catalogue)[:HEAT_COLUMNS]
    rows = []
    for line in ranking:
        row = scope.latest(line.id)
        cells = []
        for check_id in columns:
            share = None
            if row is not None:
                failed = int(row["failed"].get(check_id, 0))
                share = share_percent(failed, int(row["checked"].get(check_id, 0)))
            cells.append(NO_REPORT if share is None else HeatCell(f"{share:.0f}%", _level(share)))
        rows.append(HeatRow(line.name, line.href, cells))
    return Heat([_title(c, catalogue, lang) for c in columns], columns, rows)


def pillar_heat(scope: PageScope, ranking: list[UnitLine], lang: str) -> Heat | None:
    """Units × GCI pillars, each cell the unit's pillar score in percent."""
    first = next(
        (row["pillars"] for line in ranking if (row := scope.latest(line.id)) and row["pillars"]),
        None,
    )
    if first is None:
        return None
    ids = [p["id"] for p in first]
    titles = [p["title_vi"] if lang == "vi" else p["title_en"] for p in first]
    rows = []
    for line in ranking:
        row = scope.latest(line.id)
        percent = {p["id"]: p["percent"] for p in row["pillars"]} if row else {}
        cells = []
        for pillar in ids:
            value = percent.get(pillar)
            if value is None:
                cells.append(NO_REPORT)
            else:
                # The colour is for the points the pillar misses, as a check's is for failures.
                cells.append(HeatCell(number(value, lang), _level(100.0 - value)))
        rows.append(HeatRow(line.name, line.href, cells))
    return Heat(titles, ids, rows)


def _level(share: float) -> str:
    """The css class of a heat cell's colour step."""
    return f"h{share_step(share)}"
