"""The agency report's files, one module per output over :mod:`.base`: :mod:`.html`
(report.html), :mod:`.json` (findings.json, inventory.json), :mod:`.csv` (findings.csv) and
:mod:`.pdf` (report.pdf, on demand). :func:`write_outputs` writes the four files of a sweep."""

from __future__ import annotations

from pathlib import Path

from secposture.config.sections import AgencyConfig, Lang
from secposture.model.records import Finding, SweepResult, utcnow
from secposture.model.score import Score
from secposture.report.outputs.base import ReportPaths, write_all
from secposture.report.outputs.csv import csv_bytes
from secposture.report.outputs.html import render_html
from secposture.report.outputs.json import findings_document, inventory_document, json_bytes
from secposture.report.view.context import ReportContext


def write_outputs(
    result: SweepResult,
    findings: list[Finding],
    score: Score,
    config: AgencyConfig,
    out_dir: Path,
    lang: str | None = None,
    *,
    context: ReportContext | None = None,
) -> ReportPaths:
    """Write the four report files into ``out_dir``; each replaces its old copy atomically."""
    lang = Lang(lang or config.report.lang).value
    generated = utcnow()
    agency_id = config.agency.id
    paths = ReportPaths.in_folder(out_dir)
    html = render_html(result, findings, score, config, lang, generated=generated, context=context)
    findings_json = findings_document(
        result, findings, score, agency_id, generated=generated, context=context
    )
    write_all(
        {
            paths.html: html.encode("utf-8"),
            paths.findings_json: json_bytes(findings_json),
            paths.inventory_json: json_bytes(
                inventory_document(result, agency_id, generated=generated)
            ),
            paths.findings_csv: csv_bytes(findings, lang),
        }
    )
    return paths


__all__ = ["ReportPaths", "write_outputs"]
