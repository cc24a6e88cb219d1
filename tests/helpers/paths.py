"""Where the test tree's shared parts are, for tests and the child processes they start."""

from __future__ import annotations

import os
from pathlib import Path

HELPERS = Path(__file__).resolve().parent
TESTS = HELPERS.parent
ROOT = TESTS.parent
FIXTURES = TESTS / "fixtures"


def child_env(**extra: str) -> dict[str, str]:
    """This environment with the helpers (factories, stand-in jobs) on a child's import path."""
    paths = [str(HELPERS), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p), **extra}
