"""Checks: catalogue data plus small pure evaluators over a sweep's observations."""

from secposture.checks.catalogue import CheckMeta, load_catalogue
from secposture.checks.engine import run_checks
from secposture.checks.registry import Verdict, evaluator

__all__ = ["CheckMeta", "Verdict", "evaluator", "load_catalogue", "run_checks"]
