"""Waivers: risks the agency has accepted, in writing, until a date.

A waiver names a check, a target, the reason, who approved it and when it expires::

    [[waiver]]
    check = "net.telnet_exposed"
    target = "10.77.0.30"          # an address, a network ("10.77.0.0/24"), the agency id, or "*"
    port = 23                       # optional: only this port of the target
    reason = "Máy in cũ chỉ quản trị được bằng Telnet; thay thế trong quý 3"
    approver = "Trần Thị B, Phó Chủ tịch UBND xã"
    expires = 2026-09-30

As with prowler's mutelist, a waived finding stays in every output: its status becomes
``waived`` and it carries the waiver's text, so nobody mistakes it for a pass. Only a ``fail`` or
``partial`` can be waived (there is nothing to accept in a pass, and a waiver must not hide
that something could not be assessed). A waiver counts up to and including its expiry day; after
that it stops applying and the finding is a plain ``fail`` again.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from secposture.checks.catalogue import CheckMeta, load_catalogue
from secposture.config.datafile import load_model
from secposture.model.records import Finding, Record, Status

WAIVABLE = frozenset({Status.FAIL, Status.PARTIAL})
ANY_TARGET = "*"


class Waiver(Record):
    """One accepted risk."""

    check: str
    target: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=0, le=65535)
    reason: str = Field(min_length=1)
    approver: str = Field(min_length=1)
    expires: date
    approved_on: date | None = None

    @field_validator("check")
    @classmethod
    def _known_check(cls, value: str, info: ValidationInfo) -> str:
        context = info.context
        catalogue = context.get("catalogue") if isinstance(context, dict) else None
        if value not in (catalogue or load_catalogue()):
            raise ValueError(f"'{value}' is not in the check catalogue")
        return value

    @field_validator("reason", "approver")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @model_validator(mode="after")
    def _expires_after_approval(self) -> Waiver:
        if self.approved_on is not None and self.expires < self.approved_on:
            raise ValueError("expires: is before approved_on")
        return self

    def active(self, today: date) -> bool:
        """Is the waiver still in force on ``today``?"""
        return today <= self.expires

    def matches(self, finding: Finding) -> bool:
        """Does this waiver cover the finding's check and target (and port, if given)?"""
        if finding.check_id != self.check:
            return False
        if self.port is not None and finding.target.port != self.port:
            return False
        return _target_matches(self.target, finding.target.ip)

    def text(self) -> str:
        """What a waived finding carries: the reason, who approved it and until when."""
        return f"{self.reason} ({self.approver}, ≤ {self.expires.isoformat()})"


def _target_matches(pattern: str, target: str) -> bool:
    if pattern in (ANY_TARGET, target):
        return True
    try:
        network = ipaddress.ip_network(pattern, strict=False)
        address = ipaddress.ip_address(target)
    except ValueError:
        return False  # an agency id or a non-address target matches only exactly
    return address in network


class WaiverFile(Record):
    """A waivers file: ``[[waiver]]`` tables."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, serialize_by_alias=True
    )

    waivers: tuple[Waiver, ...] = Field(default=(), alias="waiver")


class WaiverState(Record):
    """A waiver as the posture shows it: still in force, and how many findings it covered."""

    waiver: Waiver
    expired: bool
    # Findings it waived; for an expired waiver, the findings it would have waived.
    matched: int


def load_waivers(
    path: Path, *, catalogue: dict[str, CheckMeta] | None = None
) -> tuple[Waiver, ...]:
    """Read and validate a waivers file (every check id must exist in the catalogue)."""
    context = {"catalogue": catalogue or load_catalogue()}
    return load_model(path, "waivers", WaiverFile, context).waivers


def apply_waivers(
    findings: Iterable[Finding], waivers: Iterable[Waiver], today: date
) -> tuple[list[Finding], tuple[WaiverState, ...]]:
    """Mark each fail/partial finding that an unexpired waiver covers as ``waived``.

    Returns the findings (same order) and, for each waiver, whether it has expired and how many
    findings it covered, so the report can show accepted risks and lapsed ones.
    """
    waivers = tuple(waivers)
    if not waivers:
        return list(findings), ()  # most agencies keep none; a 10,000-host sweep has 118,000
    matched = [0] * len(waivers)
    out: list[Finding] = []
    for finding in findings:
        hits = (
            [i for i, w in enumerate(waivers) if w.matches(finding)]
            if finding.status in WAIVABLE
            else []
        )
        for i in hits:
            matched[i] += 1
        live = next((waivers[i] for i in hits if waivers[i].active(today)), None)
        if live is None:
            out.append(finding)
        else:
            out.append(finding.model_copy(update={"status": Status.WAIVED, "waiver": live.text()}))
    states = tuple(
        WaiverState(waiver=w, expired=not w.active(today), matched=n)
        for w, n in zip(waivers, matched, strict=True)
    )
    return out, states
