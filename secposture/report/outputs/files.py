"""The agency report of one sweep: report.html, findings.json, inventory.json, findings.csv.

Everything shown here may have come off the network (banners, page titles, hostnames), so
text is made safe in one place per output: the HTML template's ``finalize`` hook and Jinja2
autoescape for the page, formula neutralisation for the CSV, and lone-surrogate replacement for
every output so that writing UTF-8 never fails half-way through a report.

The page holds exactly one script, the inventory table's sort and filter
(``templates/_inventory_table.js.j2``, ours, never network text), and its Content-Security-Policy
allows that script by its SHA-256 and nothing else: no other script, no inline event handler,
no fetch of any kind.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from secposture import __version__
from secposture.checks.catalogue import load_catalogue
from secposture.config.sections import AgencyConfig, Lang
from secposture.model.i18n import t
from secposture.model.records import Finding, Record, SweepResult, utcnow
from secposture.model.score import Score
from secposture.report.view.context import ReportContext
from secposture.report.view.page import build_view, sorted_findings
from secposture.report.view.text import (
    MAX_NAME,
    MAX_SHOWN,
    VIETNAM_TIME,
    clean_text,
    clean_tree,
    format_time,
    ip_key,
    number,
    spreadsheet_cell,
    visible_text,
)
from secposture.scoring.score import posture_document

# The report lists weaknesses of the agency's network: readable by its owner and group only.
REPORT_MODE = 0o640
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
SCRIPT_TEMPLATE = "_inventory_table.js.j2"
# The collector's pages import the number format under its old name.
_number = number


class ReportPaths(Record):
    html: Path
    findings_json: Path
    inventory_json: Path
    findings_csv: Path


# --- machine-readable documents ------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def inventory_document(
    result: SweepResult, agency_id: str, *, generated: datetime | None = None
) -> dict[str, Any]:
    """The inventory.json document: hosts by IP, each with its services by proto/port."""
    hosts = [
        {
            "ip": host.ip,
            "mac": host.mac or None,
            "vendor": host.vendor or None,
            "hostname": host.hostname or None,
            "services": [
                {
                    "port": service.port,
                    "proto": service.proto,
                    "state": service.state,
                    "name": service.name or None,
                    "product": service.product or None,
                    "version": service.version or None,
                }
                for service in sorted(host.services, key=lambda s: (s.proto, s.port))
            ],
        }
        for host in sorted(result.hosts, key=lambda h: ip_key(h.ip))
    ]
    document = {
        "agency": agency_id,
        "sweep_id": result.sweep_id,
        "generated": _iso(generated or utcnow()),
        "hosts": hosts,
    }
    return dict(clean_tree(document))


def findings_document(
    result: SweepResult,
    findings: list[Finding],
    score: Score,
    agency_id: str,
    *,
    generated: datetime | None = None,
    context: ReportContext | None = None,
) -> dict[str, Any]:
    """The findings.json document: score, every finding, every attempt that did not complete,
    and the framework posture (``null`` when it was not computed)."""
    posture = context.posture if context else None
    document = {
        "agency": agency_id,
        "sweep_id": result.sweep_id,
        "generated": _iso(generated or utcnow()),
        "score": {
            "overall": score.overall,
            "coverage": score.coverage,
            "assessed": score.assessed,
            "applicable": score.applicable,
        },
        "findings": [
            {
                "check_id": f.check_id,
                "status": f.status.value,
                "severity": f.severity.value,
                "target": {"ip": f.target.ip, "port": f.target.port, "proto": f.target.proto},
                "evidence": f.evidence,
                "reason": f.reason,
                "waiver": f.waiver,  # the accepted-risk text when status is "waived"
            }
            for f in sorted_findings(findings)
        ],
        "attempts": [
            {
                "stage": a.stage,
                "target": a.target,
                "status": a.status.value,
                "reason": a.reason.value if a.reason else None,
                "detail": a.detail,
            }
            for a in result.attempts
            if not a.ok
        ],
        "posture": None if posture is None else posture_document(posture),
    }
    return dict(clean_tree(document))


def findings_csv(findings: Iterable[Finding], lang: str) -> str:
    """findings.csv: one row per finding, titles and remediation in ``lang``."""
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
                spreadsheet_cell(f.evidence),
                spreadsheet_cell(f.reason),
                spreadsheet_cell(meta.remediation(lang) if meta else ""),
            ]
        )
    return buffer.getvalue()


# --- the page ------------------------------------------------------------------------------


def render_html(
    result: SweepResult,
    findings: list[Finding],
    score: Score,
    config: AgencyConfig,
    lang: str,
    *,
    generated: datetime | None = None,
    context: ReportContext | None = None,
) -> str:
    """report.html as text: self-contained, one hashed script, no external resource.

    ``context`` adds what the sweep alone does not hold (posture, trend, changes, device
    history); each part left out is shown as not available."""
    lang = Lang(lang).value
    view = build_view(
        result, findings, score, config, lang, generated or utcnow(), context or ReportContext()
    )
    script, _ = inventory_script()
    template = _environment().get_template("report.html.j2")
    return template.render(
        view=view,
        lang=lang,
        t=_translator(lang),
        version=__version__,
        script=script,
        csp=content_security_policy(),
    )


def content_security_policy() -> str:
    """The report's Content-Security-Policy: nothing may be fetched, no form sent, no base
    changed, and the only script that may run is the inventory table's, by its hash (which
    also forbids inline event handlers: a hash source never allows them)."""
    _, digest = inventory_script()
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src {digest}; base-uri 'none'; form-action 'none'"
    )


@cache
def inventory_script() -> tuple[Markup, str]:
    """The inventory table's script and its CSP source (``'sha256-…'``).

    It is our own static file, not a template and never network text, so it goes into the
    page as it is; the hash lets the browser run exactly these bytes and nothing else."""
    text = resources.files("templates").joinpath(SCRIPT_TEMPLATE).read_text("utf-8")
    if "</" in text:  # would end the <script> element early
        raise ValueError(f"{SCRIPT_TEMPLATE} must not contain '</'")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return Markup(text), f"'sha256-{digest}'"  # noqa: S704 - our static file, see docstring


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
    paths = ReportPaths(
        html=out_dir / "report.html",
        findings_json=out_dir / "findings.json",
        inventory_json=out_dir / "inventory.json",
        findings_csv=out_dir / "findings.csv",
    )
    # Everything is rendered before anything is written: an error while rendering leaves the
    # previous report files as they were.
    html = render_html(result, findings, score, config, lang, generated=generated, context=context)
    contents = {
        paths.html: html.encode("utf-8"),
        paths.findings_json: _json_bytes(
            findings_document(
                result, findings, score, agency_id, generated=generated, context=context
            )
        ),
        paths.inventory_json: _json_bytes(
            inventory_document(result, agency_id, generated=generated)
        ),
        # The BOM lets Excel, which most agencies open CSV files with, read Vietnamese text.
        paths.findings_csv: findings_csv(findings, lang).encode("utf-8-sig"),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, data in contents.items():
        write_atomic(path, data)
    return paths


def _json_bytes(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n").encode()


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder so a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, REPORT_MODE)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(resources.files("templates"))),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _finalize(value: object) -> object:
    # Every {{ … }} passes here before autoescape, so no field, present or future, can bring
    # control or bidi-override characters into the page.
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible_text(value)
    return value


def _translator(lang: str) -> Callable[..., str]:
    def translate(key: str, **params: object) -> str:
        return t(key, lang, **params)

    return translate


__all__ = [
    "MAX_NAME",
    "MAX_SHOWN",
    "VIETNAM_TIME",
    "ReportContext",
    "ReportPaths",
    "clean_text",
    "content_security_policy",
    "findings_csv",
    "findings_document",
    "format_time",
    "inventory_document",
    "render_html",
    "visible_text",
    "write_atomic",
    "write_outputs",
]
