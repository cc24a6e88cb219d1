"""The check catalogue, loaded from data: ids, severities and both languages' texts."""

from __future__ import annotations

import tomllib
from enum import StrEnum
from functools import cache
from importlib import resources

from pydantic import Field

from secposture.model.records import Record, Severity


class Evaluates(StrEnum):
    """What a check judges, and so which evaluator table (or the self-assessment) serves it."""

    NETWORK = "network"
    DEVICE = "device"
    INVENTORY = "inventory"
    SELF_ASSESSMENT = "self_assessment"


class CheckMeta(Record):
    """One check of the catalogue: its id, severity and its texts in Vietnamese and English."""

    id: str = Field(pattern=r"^[a-z]+\.[a-z0-9_]+$")
    severity: Severity
    evaluates: Evaluates
    title_vi: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    rationale_vi: str = Field(min_length=1)
    rationale_en: str = Field(min_length=1)
    remediation_vi: str = Field(min_length=1)
    remediation_en: str = Field(min_length=1)
    references: tuple[str, ...] = ()

    def title(self, lang: str) -> str:
        """The check's title in ``lang`` (``"vi"``, or English otherwise)."""
        return self.title_vi if lang == "vi" else self.title_en

    def remediation(self, lang: str) -> str:
        """What to do about a failure, in ``lang`` (``"vi"``, or English otherwise)."""
        return self.remediation_vi if lang == "vi" else self.remediation_en

    def rationale(self, lang: str) -> str:
        """Why the check matters, in ``lang`` (``"vi"``, or English otherwise)."""
        return self.rationale_vi if lang == "vi" else self.rationale_en


class CatalogueError(Exception):
    """The shipped or supplied catalogue data is inconsistent."""


@cache
def load_catalogue() -> dict[str, CheckMeta]:
    """All checks by id, validated; duplicate ids are an error, not a silent overwrite."""
    raw = resources.files("secposture").joinpath("data/checks.toml").read_text("utf-8")
    checks: dict[str, CheckMeta] = {}
    for item in tomllib.loads(raw)["check"]:
        meta = CheckMeta.model_validate(item)
        if meta.id in checks:
            raise CatalogueError(f"duplicate check id {meta.id}")
        checks[meta.id] = meta
    return checks
