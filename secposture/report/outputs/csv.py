"""findings.csv: one row per finding for a spreadsheet, every cell a spreadsheet would run
forced to text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from secposture.checks.catalogue import load_catalogue
from secposture.model.i18n import source_text
from secposture.model.records import Finding
from secposture.report.view.findings import sorted_findings
from secposture.report.view.text import spreadsheet_cell

CSV_COLUMNS = (
    "check_id",
    "status",
    "severity",
    "ip",
    "port",
    "proto",
    "title",
    "evidence",
    "reason",
    "remediation",
)


def findings_csv(findings: Iterable[Finding], lang: str) -> str:
    """findings.csv: one row per finding; titles, remediation, evidence and reasons in
    ``lang`` (values inside the evidence as the sweep saw them)."""
    catalogue = load_catalogue()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for f in sorted_findings(findings):
        meta = catalogue.get(f.check_id)
        writer.writerow(
            [
                spreadsheet_cell(f.check_id),
                f.status.value,
                f.severity.value,
                spreadsheet_cell(f.target.ip),
                "" if f.target.port is None else f.target.port,
                spreadsheet_cell(f.target.proto or ""),
                spreadsheet_cell(meta.title(lang) if meta else f.check_id),
                spreadsheet_cell(source_text(f.evidence, lang)),
                spreadsheet_cell(source_text(f.reason, lang)),
                spreadsheet_cell(meta.remediation(lang) if meta else ""),
            ]
        )
    return buffer.getvalue()


def csv_bytes(findings: Iterable[Finding], lang: str) -> bytes:
    """findings.csv as the file holds it."""
    # The BOM lets Excel, which most agencies open CSV files with, read Vietnamese text.
    return findings_csv(findings, lang).encode("utf-8-sig")
