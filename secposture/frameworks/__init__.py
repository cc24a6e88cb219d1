"""Frameworks as data: GCI-style pillars, the Vietnamese baseline and CIS IG1 over the checks."""

from secposture.frameworks.loader import (
    SHIPPED,
    applicable,
    frameworks_for,
    load_frameworks,
    shipped_frameworks,
)
from secposture.frameworks.model import (
    AppliesBy,
    Framework,
    FrameworkScope,
    Method,
    Requirement,
    Section,
    SectionScope,
)

__all__ = [
    "SHIPPED",
    "AppliesBy",
    "Framework",
    "FrameworkScope",
    "Method",
    "Requirement",
    "Section",
    "SectionScope",
    "applicable",
    "frameworks_for",
    "load_frameworks",
    "shipped_frameworks",
]
