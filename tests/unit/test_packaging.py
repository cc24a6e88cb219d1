"""The systemd units under packaging/ are ones systemd accepts (`systemd-analyze verify`:
its only complaint here is that /opt/secposture is not installed on the test machine)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGING = Path(__file__).resolve().parents[2] / "packaging"


@pytest.mark.parametrize("unit", sorted(p.name for p in PACKAGING.glob("*.service")))
def test_systemd_accepts_the_unit(unit: str) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (package systemd)")
    found = subprocess.run(
        [analyze, "verify", str(PACKAGING / unit)], capture_output=True, text=True, check=False
    )
    complaints = [
        line
        for line in (found.stdout + found.stderr).splitlines()
        if line.strip() and "/opt/secposture/.venv/bin/secposture is not executable" not in line
    ]
    assert complaints == []


def test_the_collector_may_hold_many_connections() -> None:
    """Issue #17: with 256 open files, 247 idle connections locked every new client out."""
    text = (PACKAGING / "secposture-collector.service").read_text()
    assert "LimitNOFILE=65536" in text and "User=secposture" in text
