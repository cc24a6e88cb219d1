"""HTML of the province's pages, in the agency report's look and with its writer.

The one module that borrows the agency report's rendering helpers: the other province modules
take the number and time formats from here, so a rename in the report is repointed in one
place.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from secposture import __version__
from secposture.bundle.model import BundlePayload
from secposture.config.sections import AgencyConfig
from secposture.model.records import SweepResult
from secposture.report.outputs.html import environment, render_html, translator

if TYPE_CHECKING:
    from secposture.province.views import AggregateView

# The sweep's own fields, which the agency report reads under the same names.
SWEEP_FIELDS = ("sweep_id", "profile", "scopes", "exclude", "started", "finished", "complete")


def render_page(view: AggregateView, lang: str) -> str:
    """One province or district page as HTML text (no script, nothing fetched)."""
    # The agency report's environment: autoescape, and every value passes its finalize hook
    # that shows control and bidi characters as [U+XXXX]; bundles are untrusted text too.
    template = environment().get_template(f"province/{view.kind}.html.j2")
    return template.render(view=view, lang=lang, t=translator(lang), version=__version__)


def agency_report(payload: BundlePayload, lang: str, generated: datetime) -> str:
    """A unit's latest report, rendered by the agency report writer from its bundle."""
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
    return render_html(
        result, list(payload.findings), payload.score, config, lang, generated=generated
    )


__all__ = ["agency_report", "render_page", "translator"]
