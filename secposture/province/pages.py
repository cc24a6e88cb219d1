"""Write the aggregated reports: the province page, one page per district, and each unit's
latest report, all self-contained HTML in the agency report's look.

Layout of the output folder::

    index.html                 the province overview
    districts/<id>.html        one per district, rolling up its communes
    agencies/<id>.html         each unit's latest report, rebuilt from its bundle

Everything is read from the collector's store (the index, rebuilt from the bundle files when
lost), one bundle at a time, so memory stays flat however many units the province has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from inventory.storage import atomic_write_bytes
from secposture import __version__
from secposture.bundle.model import BundlePayload
from secposture.checks.catalogue import load_catalogue
from secposture.config.sections import AgencyConfig, Lang
from secposture.model.records import SweepResult, utcnow
from secposture.province.aggregate import (
    AggregateView,
    Scope,
    build_view,
    district_line,
    group_rows,
)
from secposture.province.hierarchy import CollectorConfig, Hierarchy, Unit
from secposture.province.store import CollectorStore
from secposture.report.outputs.html import environment, render_html, translator

PAGE_MODE = 0o640  # the pages list the units' weaknesses
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class AggregatePaths:
    province: Path
    districts: list[Path]
    agencies: list[Path]


def render_page(view: AggregateView, lang: str) -> str:
    """One province or district page as HTML text (no script, nothing fetched)."""
    # The agency report's environment: autoescape, and every value passes its finalize hook
    # that shows control and bidi characters as [U+XXXX]; bundles are untrusted text too.
    template = environment().get_template(f"{view.kind}.html.j2")
    return template.render(view=view, lang=lang, t=translator(lang), version=__version__)


def agency_report(payload: BundlePayload, lang: str, generated: datetime) -> str:
    """A unit's latest report, rendered by the agency report writer from its bundle."""
    sweep = payload.sweep
    result = SweepResult(
        sweep_id=sweep.sweep_id,
        agency_id=payload.agency.id,
        profile=sweep.profile,
        scopes=sweep.scopes,
        exclude=sweep.exclude,
        started=sweep.started,
        finished=sweep.finished,
        hosts=payload.hosts,
        attempts=sweep.failed_attempts,
        complete=sweep.complete,
    )
    agency = payload.agency
    config = AgencyConfig.model_validate(
        {
            "agency": {
                "id": agency.id,
                "name": agency.name,
                "level": agency.level,
                "parent": agency.parent,
            },
            # The report shows the scopes the agency swept; the collector scans nothing.
            "scan": {"scopes": list(sweep.scopes) or ["0.0.0.0/32"], "allow_public": True},
            "store": {"path": "unused"},
            "report": {"dir": "unused", "lang": lang},
        }
    )
    return render_html(
        result, list(payload.findings), payload.score, config, lang, generated=generated
    )


def write_aggregate(
    config: CollectorConfig,
    out_dir: Path,
    *,
    lang: str | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> AggregatePaths:
    """Write the province page, the district pages and every unit's latest report."""
    lang = Lang(lang or config.collector.lang).value
    now = now or utcnow()
    section = config.collector
    hierarchy = Hierarchy(config)
    store = CollectorStore(section.store, hierarchy, max_bytes=section.max_bundle_bytes)
    history = {
        unit_id: rows
        for unit_id, rows in group_rows(store.rows()).items()
        if unit_id in hierarchy.units  # units since removed from the config are not shown
    }
    catalogue = load_catalogue()
    tr = translator(lang)
    common: dict[str, Any] = {
        "catalogue": catalogue,
        "now": now,
        "overdue_days": section.overdue_after_days,
        "lang": lang,
        "t": tr,
    }

    agencies = []
    total = len(history)
    for done, (unit_id, rows) in enumerate(sorted(history.items()), start=1):
        html = agency_report(store.payload(rows[-1]), lang, now)
        agencies.append(_write(out_dir / "agencies" / f"{unit_id}.html", html))
        if progress:
            progress(done, total)

    district_paths = []
    district_lines = []
    for district in hierarchy.districts():
        units = [district, *hierarchy.children(district.id)]
        scope = Scope(district.name, "district", units, history, "../")
        view = build_view(scope, **common)
        path = _write(out_dir / "districts" / f"{district.id}.html", render_page(view, lang))
        district_paths.append(path)
        district_lines.append(district_line(scope, f"districts/{district.id}.html", lang))

    everyone: list[Unit] = sorted(hierarchy.units.values(), key=lambda u: u.id)
    province = Scope(hierarchy.province_name, "province", everyone, history, "")
    view = build_view(province, districts=district_lines, **common)
    index = _write(out_dir / "index.html", render_page(view, lang))
    return AggregatePaths(index, district_paths, agencies)


def _write(path: Path, html: str) -> Path:
    # Atomic, so a reader never sees half a page; not fsynced, since a page lost to a power
    # cut is written again by the next run (an fsync per page was a tenth of the report time).
    atomic_write_bytes(path, html.encode("utf-8"), durable=False)
    path.chmod(PAGE_MODE)
    return path


__all__ = ["AggregatePaths", "agency_report", "render_page", "write_aggregate"]
