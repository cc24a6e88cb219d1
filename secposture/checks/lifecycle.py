"""Whether a device's software release is still supported, from a data table the province keeps.

The table (``data/device_os_lifecycle.toml``) is the only source: a release it does not list
is unknown, and unknown is ``not_assessed``, never a pass.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from secposture.config.datafile import load_model
from secposture.model.i18n import said
from secposture.model.records import Record


class Support(StrEnum):
    """What the table says of a release: still supported, support ended, or not listed."""

    SUPPORTED = "supported"
    ENDED = "ended"
    UNKNOWN = "unknown"


class Release(Record):
    """One row of the lifecycle table: a release pattern of a platform and its support."""

    platform: str
    match: str
    name: Annotated[str, Field(min_length=1)]
    ended: bool = False
    supported_until: date | None = None
    supported: bool = False
    review_by: date | None = None
    verified: bool = False
    source: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _one_statement(self) -> Release:
        re.compile(self.match)
        stated = [self.ended, self.supported_until is not None, self.supported]
        if sum(stated) != 1:
            raise ValueError(f"{self.name}: give exactly one of ended, supported_until, supported")
        if self.supported and self.review_by is None:
            raise ValueError(f"{self.name}: 'supported = true' needs a review_by date")
        return self


@dataclass(frozen=True, slots=True)
class Judgement:
    """Whether a device's release is supported, with the sentence that says why."""

    support: Support
    evidence: str


class LifecycleError(Exception):
    """The lifecycle table is malformed."""


def load_releases(path: Path | None = None) -> tuple[Release, ...]:
    """The release table (the shipped one unless ``path`` is given)."""
    if path is None:
        return _shipped()
    return _parse(path.read_text(encoding="utf-8"), str(path))


@cache
def _shipped() -> tuple[Release, ...]:
    text = (
        resources.files("secposture").joinpath("data/device_os_lifecycle.toml").read_text("utf-8")
    )
    return _parse(text, "device_os_lifecycle.toml")


def _parse(text: str, where: str) -> tuple[Release, ...]:
    try:
        return tuple(Release.model_validate(r) for r in tomllib.loads(text).get("release", []))
    except (tomllib.TOMLDecodeError, ValidationError, re.error) as exc:
        raise LifecycleError(f"{where}: {exc}") from exc


class Confirmation(Record):
    """The agency's word that it checked an unverified lifecycle entry against the vendor.

    A table entry marked ``verified = false`` is a recollection, not a fact, so the tool does
    not judge support on it (issue #13). An agency that has read the vendor's bulletin for the
    releases it runs says so, with the bulletin and who read it, and the entry then counts for
    that agency's sweeps; the evidence names the confirmation, so the report shows whose word
    the fail or pass rests on. The entry's own dates still decide (a ``supported = true``
    entry stops counting at its ``review_by`` as before), so a confirmation does not expire.
    """

    release: str = Field(min_length=1)  # the entry's name in the lifecycle table
    source: str = Field(min_length=1)  # the vendor bulletin read (URL or document reference)
    confirmed_by: str = Field(min_length=1)
    confirmed_on: date

    @field_validator("release")
    @classmethod
    def _listed(cls, value: str, info: ValidationInfo) -> str:
        context = info.context
        table = context.get("releases") if isinstance(context, dict) else None
        names = {r.name for r in (table if table is not None else load_releases())}
        if value not in names:
            raise ValueError(f"'{value}' is not the name of an entry of the lifecycle table")
        return value

    @field_validator("source", "confirmed_by")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class ConfirmationFile(Record):
    """A lifecycle confirmations file: ``[[confirm]]`` tables."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, serialize_by_alias=True
    )

    confirmations: tuple[Confirmation, ...] = Field(default=(), alias="confirm")

    @model_validator(mode="after")
    def _once_each(self) -> ConfirmationFile:
        names = [c.release for c in self.confirmations]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"confirm: '{twice[0]}' is confirmed twice")
        return self


Confirmations = Mapping[str, Confirmation]  # by the entry's name


def load_confirmations(path: Path, releases: tuple[Release, ...] | None = None) -> Confirmations:
    """Read and validate a confirmations file; raises ConfigError naming the file and key."""
    context = {"releases": releases} if releases is not None else None
    found = load_model(path, "lifecycle_confirmations", ConfirmationFile, context)
    return {c.release: c for c in found.confirmations}


def judge(
    platform: str,
    version: str | None,
    on: date,
    releases: tuple[Release, ...] | None = None,
    confirmed: Confirmations | None = None,
) -> Judgement:
    """Whether ``version`` on ``platform`` is supported on day ``on``, with the evidence.

    ``confirmed`` holds the agency's confirmations of unverified entries (see
    :class:`Confirmation`); without one such an entry is not judged."""
    if not version:
        return Judgement(Support.UNKNOWN, "the software version could not be read")
    table = releases if releases is not None else load_releases()
    entry = next((r for r in table if r.platform == platform and re.search(r.match, version)), None)
    if entry is None:
        return Judgement(
            Support.UNKNOWN,
            said(
                "release {version} is not in the lifecycle table (data/device_os_lifecycle.toml)",
                version=version,
            ),
        )
    confirmation = (confirmed or {}).get(entry.name)
    if not entry.verified and confirmation is None:
        # A high-severity fail, or a pass, resting on a recollection is a claim the tool cannot
        # make (issue #13): the entry counts once someone has read the vendor's bulletin and
        # set verified = true with its source, or the agency confirms it.
        return Judgement(
            Support.UNKNOWN,
            said(
                "{version}: {name}: its lifecycle entry is not verified against the vendor's "
                "bulletin, so support is not judged (data/device_os_lifecycle.toml)",
                version=version,
                name=entry.name,
            ),
        )
    judgement = _stated(entry, version, on)
    if confirmation is None or entry.verified or judgement.support is Support.UNKNOWN:
        return judgement
    return Judgement(
        judgement.support,
        said(
            "{text}; the agency confirmed this entry ({who}, {day}: {source})",
            text=judgement.evidence,
            who=confirmation.confirmed_by,
            day=confirmation.confirmed_on.isoformat(),
            source=confirmation.source,
        ),
    )


def _stated(entry: Release, version: str, on: date) -> Judgement:
    """What the entry itself says of ``version`` on day ``on``."""
    if entry.ended:
        return Judgement(
            Support.ENDED,
            said("{version}: {name}, support has ended", version=version, name=entry.name),
        )
    if entry.supported_until is not None:
        until = entry.supported_until.isoformat()
        if on > entry.supported_until:
            return Judgement(
                Support.ENDED,
                said(
                    "{version}: {name}, support ended {day}",
                    version=version,
                    name=entry.name,
                    day=until,
                ),
            )
        return Judgement(
            Support.SUPPORTED,
            said(
                "{version}: {name}, supported until {day}",
                version=version,
                name=entry.name,
                day=until,
            ),
        )
    review = entry.review_by.isoformat() if entry.review_by else ""
    if entry.review_by is not None and on > entry.review_by:
        return Judgement(
            Support.UNKNOWN,
            said(
                "{version}: the lifecycle entry for {name} was due for review on {day} and no "
                "longer counts",
                version=version,
                name=entry.name,
                day=review,
            ),
        )
    return Judgement(
        Support.SUPPORTED,
        said(
            "{version}: {name}, believed supported (review by {day})",
            version=version,
            name=entry.name,
            day=review,
        ),
    )
