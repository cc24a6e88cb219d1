"""Fixtures for tests that need the network-namespace lab (root, iproute2, nmap, services)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from secposture.lab import LabState, down, up
from secposture.lab.services import REQUIRED_PROGRAMS

_PROGRAMS = ("ip", "nmap", *sorted({p for progs in REQUIRED_PROGRAMS.values() for p in progs}))


def lab_skip_reason() -> str | None:
    """Why the lab cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "the network-namespace lab needs root"
    missing = [program for program in _PROGRAMS if shutil.which(program) is None]
    if missing:
        return f"the network-namespace lab needs {', '.join(missing)}"
    return None


@pytest.fixture(scope="session")
def lab_available() -> None:
    """Skip the test unless this machine can build labs."""
    reason = lab_skip_reason()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def lab(lab_available: None) -> Iterator[LabState]:
    """The demo commune lab, built once per session and torn down at its end (even on failure).

    Tests must not change it (add hosts, stop services); build a private lab with ``up()`` for
    that, and tear it down in the test.
    """
    state = up()
    try:
        yield state
    finally:
        down(state.lab_id)
