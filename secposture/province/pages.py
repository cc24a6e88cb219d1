"""Write the aggregated reports: the province page, one page per group of units, and each
unit's latest report, all self-contained HTML in the agency report's look.

Layout of the output folder::

    index.html                 the province overview
    groups/<id>.html           one per [[group]] (a former district's area, "khối sở", …)
    agencies/<id>.html         each unit's latest report, rebuilt from its bundle

Since 1/7/2025 every unit sits directly under the province (admin-units.md); a group is a
named set of units, not a level of government. A province that still keeps pre-reform
districts gets a group page per district too, rolling up the district and its communes.
A unit that succeeded others carries their rows: its trend runs on from theirs, and they
are no longer listed as units of their own (their latest reports are still written).

Everything is read from the collector's store (the index, rebuilt from the bundle files when
lost), one bundle at a time, so memory stays flat however many units the province has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from inventory.storage import atomic_write_bytes
from secposture.bundle.envelope import BundleError
from secposture.checks.catalogue import load_catalogue
from secposture.config.sections import Lang
from secposture.model.records import utcnow
from secposture.province.db.store import open_store
from secposture.province.hierarchy import CollectorConfig, Hierarchy, Unit
from secposture.province.render import agency_report, render_page, translator
from secposture.province.rows import PageScope, group_rows, lineage_history
from secposture.province.views import build_view, group_line
from secposture.report.outputs.html import environment

PAGE_MODE = 0o640  # the pages list the units' weaknesses
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class AggregatePaths:
    """The pages written: the province page, the group pages, the units' reports."""

    province: Path
    groups: list[Path]
    agencies: list[Path]
    # Units whose latest bundle could not be shown, and why (issue #17): their page says so,
    # and the rest of the province is written all the same.
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def districts(self) -> list[Path]:
        """The group pages, under their name from before 1/7/2025 (for callers not yet
        renamed)."""
        return self.groups


def page_groups(hierarchy: Hierarchy, on: date | None = None) -> list[tuple[str, str, list[Unit]]]:
    """Each group page's id, heading and units expected to report: the [[group]] tables in
    their order, then any pre-reform district (with the communes under it) that no group
    of the same id shadows. Units merged into another are left out: their successor stands
    for them."""
    current = {u.id for u in hierarchy.current(on)}
    out = [
        (gid, name, [u for u in hierarchy.members(gid) if u.id in current])
        for gid, name in hierarchy.groups.items()
    ]
    for district in hierarchy.districts():
        if district.id in hierarchy.groups:
            continue
        units = [district, *hierarchy.children(district.id)]
        out.append((district.id, district.name, [u for u in units if u.id in current]))
    return out


def write_aggregate(
    config: CollectorConfig,
    out_dir: Path,
    *,
    lang: str | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> AggregatePaths:
    """Write the province page, the group pages and every unit's latest report."""
    lang = Lang(lang or config.collector.lang).value
    now = now or utcnow()
    section = config.collector
    store = open_store(config)  # the registry and the sweeps, from the database
    hierarchy = store.hierarchy
    own = {
        unit_id: rows
        for unit_id, rows in group_rows(store.rows()).items()
        if unit_id in hierarchy.units  # units since removed from the registry are not shown
    }
    history = lineage_history(hierarchy, own)
    catalogue = load_catalogue()
    tr = translator(lang)
    common: dict[str, Any] = {
        "catalogue": catalogue,
        "now": now,
        "overdue_days": section.overdue_after_days,
        "lang": lang,
        "t": tr,
    }

    # Every unit with bundles of its own has its latest report, merged ones included.
    agencies = []
    skipped: list[tuple[str, str]] = []
    total = len(own)
    for done, (unit_id, rows) in enumerate(sorted(own.items()), start=1):
        try:
            payload = store.payload(rows[-1])
        except (BundleError, ValueError) as exc:  # altered in the database, or pruned
            reason = exc.detail if isinstance(exc, BundleError) else str(exc).splitlines()[0]
            skipped.append((unit_id, reason))
            html = unreadable_page(hierarchy.units.get(unit_id), unit_id, reason, lang)
        else:
            html = agency_report(payload, lang, now, history.get(unit_id, rows))
        agencies.append(_write(out_dir / "agencies" / f"{unit_id}.html", html))
        if progress:
            progress(done, total)

    group_paths = []
    group_lines = []
    for group_id, name, units in page_groups(hierarchy, now.date()):
        scope = PageScope(name, "group", sorted(units, key=lambda u: u.id), history, "../")
        view = build_view(scope, **common)
        path = _write(out_dir / "groups" / f"{group_id}.html", render_page(view, lang))
        group_paths.append(path)
        group_lines.append(group_line(scope, f"groups/{group_id}.html", lang))

    everyone: list[Unit] = sorted(hierarchy.current(now.date()), key=lambda u: u.id)
    province = PageScope(hierarchy.province_name, "province", everyone, history, "")
    view = build_view(province, groups=group_lines, **common)
    index = _write(out_dir / "index.html", render_page(view, lang))
    return AggregatePaths(index, group_paths, agencies, skipped)


def unreadable_page(unit: Unit | None, unit_id: str, reason: str, lang: str) -> str:
    """The page standing for a unit's report that cannot be shown: who, and why."""
    return (
        environment()
        .get_template("province/unreadable.html.j2")
        .render(lang=lang, t=translator(lang), name=unit.name if unit else unit_id,
                unit_id=unit_id, reason=reason)
    )  # fmt: skip


def _write(path: Path, html: str) -> Path:
    # Atomic, so a reader never sees half a page; not fsynced, since a page lost to a power
    # cut is written again by the next run (an fsync per page was a tenth of the report time).
    atomic_write_bytes(path, html.encode("utf-8"), durable=False)
    path.chmod(PAGE_MODE)
    return path


__all__ = ["AggregatePaths", "agency_report", "render_page", "write_aggregate"]
