"""What a framework file may say, and the rules it must keep (validated on load).

A framework is a two-level tree over the check catalogue: **sections** (GCI pillars,
TCVN 14423 groups, CIS controls) hold **requirements** (indicators, clauses, safeguards), and a
requirement lists the check ids that evidence it. Which requirements apply, and with what weight,
depends on where the agency stands: its administrative level (``applies_by = "agency_level"``)
or its information system's security level (``applies_by = "system_level"``).
"""

from __future__ import annotations

import math
from datetime import date
from enum import StrEnum
from itertools import pairwise
from typing import Annotated

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from secposture.checks.catalogue import load_catalogue
from secposture.config.sections import Level
from secposture.model.records import Record

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]
Text = Annotated[str, Field(min_length=1)]
Weight = Annotated[float, Field(gt=0)]


class AppliesBy(StrEnum):
    """What decides where a requirement applies: the agency's level or its system's level."""

    AGENCY_LEVEL = "agency_level"  # province | department | district | commune
    SYSTEM_LEVEL = "system_level"  # security level 1-5 of the agency's information system


SELECTOR_VALUES: dict[AppliesBy, tuple[str, ...]] = {
    # Weights name the tiers: a ward or special zone is weighed as a commune (Level.tier).
    AppliesBy.AGENCY_LEVEL: tuple(dict.fromkeys(level.tier.value for level in Level)),
    AppliesBy.SYSTEM_LEVEL: ("1", "2", "3", "4", "5"),
}


class Method(StrEnum):
    """How a framework concludes.

    ``points``: weighted share of passed evidence, per section out of its points, overall out of
    100, then a tier (GCI, CIS). ``conclusion``: each section meets or does not meet ("Đáp ứng /
    Không đáp ứng"), as QCVN 12:2026/BCA assesses each group.
    """

    POINTS = "points"
    CONCLUSION = "conclusion"


class FrameworkScope(StrEnum):
    """Which agencies a framework applies to.

    ``every_agency``: the default profile of every agency LAN. ``electronic_document_storage``:
    only where ``[assessment] stores_electronic_documents = true``, for a regulation whose own
    scope is narrower (QCVN 12:2026/BCA §1.1: information systems that store electronic
    documents in Party and State agencies).
    """

    EVERY_AGENCY = "every_agency"
    ELECTRONIC_DOCUMENT_STORAGE = "electronic_document_storage"


class SectionScope(StrEnum):
    """Where a section is measured: at the agency, or only nationally (shown, not scored)."""

    AGENCY = "agency"
    NATIONAL = "national"  # measured for the country, never at an agency: shown, not scored


class Sourced(Record):
    """Anything that carries a fact from frameworks.md: [U] items say verified = false."""

    verified: bool = True
    note: str = ""
    source: str = ""  # where the item itself is stated (issue #13: every claim traceable)

    @model_validator(mode="after")
    def _unverified_says_why(self) -> Sourced:
        if not self.verified and not self.note.strip():
            raise ValueError("note: an item with verified = false must say what is unverified")
        return self


class ChangelogEntry(Record):
    """One ``[[changelog]]`` entry of a framework file: version, date and what changed."""

    version: Text
    date: date
    changes: Text


class Info(Record):
    """``[framework]``: the framework's id, version, titles, labels and scoring method."""

    id: Slug
    version: Text
    title_vi: Text
    title_en: Text
    description_vi: Text
    description_en: Text
    method: Method
    applies_by: AppliesBy = AppliesBy.AGENCY_LEVEL
    section_label_vi: Text
    section_label_en: Text
    requirement_label_vi: Text
    requirement_label_en: Text
    # How the overall figure is computed, in words the report can print beside it.
    method_note_vi: Text
    method_note_en: Text
    max_score: Weight = 100.0
    # A score whose coverage is below this is shown as provisional (a project choice, not a
    # regulatory threshold; each framework file sets its own).
    provisional_below: Annotated[float, Field(ge=0, le=1)] = 0.5
    sources: tuple[str, ...] = ()
    applies_to: FrameworkScope = FrameworkScope.EVERY_AGENCY
    # Another framework whose sections and requirements this one starts from (one level; the
    # loader prepends them), so a regulation that cites a standard's groups and adds its own
    # does not copy them: QCVN 12:2026/BCA extends the TCVN 14423:2025 baseline.
    extends: Slug | None = None


class Tier(Sourced):
    """A named tier (e.g. a GCI tier) reached at a minimum overall score."""

    rank: Annotated[int, Field(ge=1)]
    id: Slug
    name_vi: Text
    name_en: Text
    min_score: Annotated[float, Field(ge=0)]


class Section(Sourced):
    """A group of requirements (a GCI pillar, a QCVN group), scored as one."""

    id: Slug
    title_vi: Text
    title_en: Text
    ref: str = ""  # the clause or control number as the source prints it
    scope: SectionScope = SectionScope.AGENCY
    max_points: Weight | None = None  # points method: this section's share of max_score
    # Conclusion method: true only when the file lists every minimum requirement the source
    # sets for the group; otherwise a group whose listed requirements pass is "no failure
    # found", never "meets" (issue #13: QCVN concludes Đáp ứng only when all were verified).
    complete: bool = False


class Requirement(Sourced):
    """One requirement of a framework and the checks that evidence it."""

    id: Slug
    section: Slug
    ref: str = ""  # the clause, indicator or safeguard number as the source prints it
    title_vi: Text
    title_en: Text
    checks: tuple[str, ...] = ()  # empty: nothing evidences it yet, so it is never assessed
    # Where it applies and with what weight, by agency level or system level. Give either
    # ``weights`` or ``levels`` (each with weight 1); neither means everywhere, weight 1.
    weights: dict[str, Weight] | None = None
    levels: tuple[str, ...] | None = None

    @field_validator("checks")
    @classmethod
    def _checks_exist(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        context = info.context
        catalogue = context.get("catalogue") if isinstance(context, dict) else None
        if catalogue is None:
            catalogue = load_catalogue()
        unknown = [check for check in value if check not in catalogue]
        if unknown:
            raise ValueError(f"not in the check catalogue: {', '.join(unknown)}")
        if len(set(value)) != len(value):
            raise ValueError("a check is listed twice")
        return value

    @model_validator(mode="after")
    def _one_way_to_say_where(self) -> Requirement:
        if self.weights is not None and self.levels is not None:
            raise ValueError("levels: give weights or levels, not both")
        return self

    @model_validator(mode="after")
    def _traceable(self) -> Requirement:
        # Issue #13: every claim traceable. A requirement says where it is stated, or that it
        # is not verified and why; a file with neither would show an invented item as a fact.
        if not self.source.strip() and self.verified:
            raise ValueError(
                "source: give where the requirement is stated, or verified = false with a note"
            )
        return self

    def weight_at(self, selector: str, values: tuple[str, ...]) -> float | None:
        """This requirement's weight where the agency stands, or None if it does not apply."""
        if self.weights is not None:
            return self.weights.get(selector)
        levels = self.levels if self.levels is not None else values
        return 1.0 if selector in levels else None


class Framework(Record):
    """A whole framework file: ``[framework]``, ``[[changelog]]``, ``[[tier]]``,
    ``[[section]]`` and ``[[requirement]]``."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_by_name=True, serialize_by_alias=True
    )

    info: Info = Field(alias="framework")
    changelog: Annotated[tuple[ChangelogEntry, ...], Field(min_length=1)]
    tiers: tuple[Tier, ...] = Field(default=(), alias="tier")
    sections: Annotated[tuple[Section, ...], Field(min_length=1, alias="section")]
    requirements: Annotated[tuple[Requirement, ...], Field(min_length=1, alias="requirement")]

    @property
    def id(self) -> str:
        """The framework's id (from ``[framework]``)."""
        return self.info.id

    def selector_values(self) -> tuple[str, ...]:
        """The values its requirements' weights or levels may name (agency or system levels)."""
        return SELECTOR_VALUES[self.info.applies_by]

    def requirements_of(self, section_id: str) -> tuple[Requirement, ...]:
        """The requirements of one section, in file order."""
        return tuple(r for r in self.requirements if r.section == section_id)

    @model_validator(mode="after")
    def _consistent(self) -> Framework:
        _unique("section", [s.id for s in self.sections])
        _unique("requirement", [r.id for r in self.requirements])
        _unique("tier", [t.id for t in self.tiers])
        _unique("tier", [str(t.rank) for t in self.tiers])
        self._check_tree()
        self._check_selectors()
        if self.info.method is Method.POINTS:
            self._check_points()
        self._check_tiers()
        self._check_changelog()
        return self

    def _check_tree(self) -> None:
        sections = {s.id for s in self.sections}
        for req in self.requirements:
            if req.section not in sections:
                raise ValueError(f"requirement: '{req.id}' names unknown section '{req.section}'")
        for section in self.sections:
            if not self.requirements_of(section.id):
                raise ValueError(f"section: '{section.id}' has no requirement")

    def _check_selectors(self) -> None:
        values = self.selector_values()
        for req in self.requirements:
            keys = list(req.weights or ()) + list(req.levels or ())
            bad = [k for k in keys if k not in values]
            if bad:
                raise ValueError(
                    f"requirement: '{req.id}' applies at {bad}, but {self.info.applies_by.value} "
                    f"is one of {list(values)}"
                )

    def _check_points(self) -> None:
        """With points, every section has them, they add up to max_score, and at each level the
        weights of a section's requirements add up to the section's points."""
        points = [s.max_points for s in self.sections]
        if any(p is None for p in points) and any(p is not None for p in points):
            raise ValueError("section: give max_points for every section or for none")
        if points[0] is None:
            return
        total = sum(p for p in points if p is not None)
        if not math.isclose(total, self.info.max_score):
            raise ValueError(
                f"section: max_points add up to {total:g}, not max_score {self.info.max_score:g}"
            )
        values = self.selector_values()
        for section in self.sections:
            for value in values:
                weights = [
                    w
                    for r in self.requirements_of(section.id)
                    if (w := r.weight_at(value, values)) is not None
                ]
                if weights and not math.isclose(sum(weights), section.max_points or 0.0):
                    raise ValueError(
                        f"requirement: weights in section '{section.id}' at {value} add up to "
                        f"{sum(weights):g}, not its max_points {section.max_points:g}"
                    )

    def _check_tiers(self) -> None:
        if self.tiers and self.info.method is not Method.POINTS:
            raise ValueError("tier: tiers need method = 'points'")
        ordered = sorted(self.tiers, key=lambda t: t.rank)
        for better, worse in pairwise(ordered):
            if worse.min_score >= better.min_score:
                raise ValueError(
                    f"tier: '{worse.id}' (rank {worse.rank}) must need less than "
                    f"'{better.id}' (rank {better.rank})"
                )

    def _check_changelog(self) -> None:
        if self.changelog[-1].version != self.info.version:
            raise ValueError(
                f"changelog: the last entry is {self.changelog[-1].version}, "
                f"but the framework is version {self.info.version}"
            )


def _unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"{what}: id '{item}' is used twice")
        seen.add(item)
