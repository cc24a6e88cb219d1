"""Frameworks as data: GCI-style pillars, the Vietnamese baseline and CIS IG1 over the checks."""

from secposture.frameworks.loader import SHIPPED, load_frameworks, shipped_frameworks
from secposture.frameworks.model import (
    AppliesBy,
    Framework,
    Method,
    Requirement,
    Section,
    SectionScope,
)

__all__ = [
    "SHIPPED",
    "AppliesBy",
    "Framework",
    "Method",
    "Requirement",
    "Section",
    "SectionScope",
    "load_frameworks",
    "shipped_frameworks",
]
