"""Whether a device's software release is still supported, from a data table the province keeps.

The table (``data/device_os_lifecycle.toml``) is the only source: a release it does not list
is unknown, and unknown is ``not_assessed``, never a pass.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, model_validator

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


def judge(
    platform: str, version: str | None, on: date, releases: tuple[Release, ...] | None = None
) -> Judgement:
    """Whether ``version`` on ``platform`` is supported on day ``on``, with the evidence."""
    if not version:
        return Judgement(Support.UNKNOWN, "the software version could not be read")
    table = releases if releases is not None else load_releases()
    entry = next((r for r in table if r.platform == platform and re.search(r.match, version)), None)
    if entry is None:
        return Judgement(
            Support.UNKNOWN,
            f"release {version} is not in the lifecycle table (data/device_os_lifecycle.toml)",
        )
    if not entry.verified:
        # A high-severity fail, or a pass, resting on a recollection is a claim the tool cannot
        # make (issue #13): the entry counts once someone has read the vendor's bulletin and
        # set verified = true with its source in the lifecycle table.
        return Judgement(
            Support.UNKNOWN,
            f"{version}: {entry.name}: its lifecycle entry is not verified against the vendor's "
            "bulletin, so support is not judged (data/device_os_lifecycle.toml)",
        )
    caveat = ""
    if entry.ended:
        return Judgement(Support.ENDED, f"{version}: {entry.name}, support has ended{caveat}")
    if entry.supported_until is not None:
        until = entry.supported_until
        if on > until:
            return Judgement(
                Support.ENDED, f"{version}: {entry.name}, support ended {until}{caveat}"
            )
        return Judgement(
            Support.SUPPORTED, f"{version}: {entry.name}, supported until {until}{caveat}"
        )
    if entry.review_by is not None and on > entry.review_by:
        return Judgement(
            Support.UNKNOWN,
            f"{version}: the lifecycle entry for {entry.name} was due for review on "
            f"{entry.review_by} and no longer counts",
        )
    return Judgement(
        Support.SUPPORTED,
        f"{version}: {entry.name}, believed supported (review by {entry.review_by}){caveat}",
    )
