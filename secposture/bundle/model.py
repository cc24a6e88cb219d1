"""What a bundle carries: one sweep of one agency, judged, without secrets.

A bundle is the agency's word to the province, so it holds the agency's identity and place
in the hierarchy, the sweep's summary, every finding, the score, an inventory of the hosts
seen (services, no raw observations) and the changes since the previous sweep. Raw device
configurations are included only when the agency's config opts in.
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import AwareDatetime, Field, field_validator

from secposture.config.sections import AGENCY_ID, Level
from secposture.model.records import (
    Attempt,
    Change,
    Finding,
    Host,
    Observation,
    Record,
    SweepCounts,
)
from secposture.model.score import Score
from secposture.scoring.score import Posture

FORMAT = "secposture-bundle/1"
# Sweep ids become file names at the collector: letters, digits, '.', '_' and '-' only.
SWEEP_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


class BundleAgency(Record):
    """Who sent the bundle: the agency's id, name and place in the hierarchy."""

    id: str = Field(pattern=AGENCY_ID.pattern)
    name: str = Field(min_length=1, max_length=300)
    level: Level
    parent: str | None = Field(default=None, pattern=AGENCY_ID.pattern)


class BundleSweep(Record):
    """The sweep's summary: when, what was scanned, the counts and the attempts that failed."""

    sweep_id: str = Field(pattern=SWEEP_ID)
    profile: str
    scopes: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    # With their offset (issue #17): a naive time cannot be ordered against the others, and
    # made `aggregate` fail for the whole province.
    started: AwareDatetime
    finished: AwareDatetime | None = None
    complete: bool
    counts: SweepCounts
    # Only the attempts that did not complete: they explain the coverage beside the score.
    failed_attempts: tuple[Attempt, ...] = ()

    @field_validator("scopes", "exclude")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for scope in value:  # a scope that is not a network broke the province pages
            try:
                ipaddress.ip_network(scope, strict=False)
            except ValueError:
                raise ValueError(f"{scope[:60]!r} is not a network") from None
        return value


class BundlePayload(Record):
    """The signed content of a bundle file."""

    format: Literal["secposture-bundle/1"] = "secposture-bundle/1"
    generator: str
    agency: BundleAgency
    sweep: BundleSweep
    score: Score
    # Per framework, section (GCI pillar) and requirement, as the agency scored it.
    posture: Posture | None = None
    findings: tuple[Finding, ...]
    hosts: tuple[Host, ...]
    changes: tuple[Change, ...]
    device_configs: tuple[Observation, ...] = ()
