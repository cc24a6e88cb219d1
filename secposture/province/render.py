"""HTML of the province's pages, in the agency report's look and with its writer.

The one module that borrows the agency report's rendering helpers: the other province modules
take the number and time formats from here, so a rename in the report is repointed in one
place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from secposture import __version__
from secposture.bundle.model import BundlePayload
from secposture.config.sections import AgencyConfig
from secposture.model.records import SweepResult
from secposture.province.db.registry import moment
from secposture.report.outputs.html import environment, render_html, translator
from secposture.report.view.context import ReportContext, SweepPoint

if TYPE_CHECKING:
    from secposture.province.views import AggregateView

# The sweep's own fields, which the agency report reads under the same names.
SWEEP_FIELDS = ("sweep_id", "profile", "scopes", "exclude", "started", "finished", "complete")


def render_page(view: AggregateView, lang: str) -> str:
    """One province or group page as HTML text (no script, nothing fetched)."""
    # The agency report's environment: autoescape, and every value passes its finalize hook
    # that shows control and bidi characters as [U+XXXX]; bundles are untrusted text too.
    template = environment().get_template(f"province/{view.kind}.html.j2")
    return template.render(view=view, lang=lang, t=translator(lang), version=__version__)


def agency_report(
    payload: BundlePayload,
    lang: str,
    generated: datetime,
    history: Sequence[Mapping[str, Any]] = (),
) -> str:
    """A unit's latest report, rendered by the agency report writer from its bundle: with the
    posture per framework, the self-assessment answers and waivers the bundle carries, the
    changes since the unit's previous sweep, and the trend of ``history`` (the stored rows
    of the unit and its predecessors, oldest first)."""
    sweep = payload.sweep
    fields: dict[str, Any] = {name: getattr(sweep, name) for name in SWEEP_FIELDS}
    result = SweepResult(
        **fields,
        agency_id=payload.agency.id,
        hosts=payload.hosts,
        attempts=sweep.failed_attempts,
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
    points = tuple(
        SweepPoint(
            sweep_id=row["sweep_id"],
            started=datetime.fromisoformat(row["started"]),
            score=row["score"]["overall"],
            coverage=row["score"]["coverage"],
            complete=row["complete"],
        )
        for row in history
        if row["started"] <= moment(sweep.started)
    )
    context = ReportContext(
        posture=payload.posture, changes=payload.changes, history=points or None
    )
    return render_html(
        result,
        list(payload.findings),
        payload.score,
        config,
        lang,
        generated=generated,
        context=context,
    )


__all__ = ["agency_report", "render_page", "translator"]
