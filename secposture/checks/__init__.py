"""Checks: catalogue data plus small pure evaluators over a sweep's observations."""

from secposture.checks.catalogue import CheckMeta, load_catalogue
from secposture.checks.engine import Verdict, evaluator, run_checks

__all__ = ["CheckMeta", "Verdict", "evaluator", "load_catalogue", "run_checks"]
