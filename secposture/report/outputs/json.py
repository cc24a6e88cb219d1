"""findings.json and inventory.json: the report for machines, network text kept as it was
(only made encodable)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from secposture.model.records import Finding, SweepResult, utcnow
from secposture.model.score import Score
from secposture.report.outputs.base import clean_document
from secposture.report.view.context import ReportContext
from secposture.report.view.findings import sorted_findings
from secposture.report.view.text import ip_key
from secposture.scoring.score import posture_document


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
    return clean_document(document)


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
            # Issue #13: the value before the cap, and the cap's reason (null when none holds)
            "raw": score.raw,
            "cap": None if score.cap is None else score.cap.model_dump(mode="json"),
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
    return clean_document(document)


def json_bytes(document: dict[str, Any]) -> bytes:
    """A document as the files hold it: UTF-8, indented, no NaN."""
    return (json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n").encode()
