"""Sweep progress lines (hosts found, scanned, elapsed, ETA) and the one-line refusals when
the sweep cannot run here (issue #3)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from factories import agency_toml

from secposture.cli.progress import SweepProgressText, duration
from secposture.job.sweep import eta_s
from secposture.model import exitcodes


def test_eta_is_unknown_until_the_total_is_known_and_a_host_finished() -> None:
    assert eta_s(0, 10, 5.0, discovering=False) is None
    assert eta_s(2, 10, 5.0, discovering=True) is None
    assert eta_s(2, 10, 5.0, discovering=False) == 20.0
    assert eta_s(10, 10, 30.0, discovering=False) == 0.0


def test_progress_lines_in_both_languages() -> None:
    en, vi = SweepProgressText("en"), SweepProgressText("vi")
    data: dict[str, object] = {"done": 3, "total": 12, "elapsed": 65.0, "eta": 195.0}
    assert en("scanned", data) == "Scanned 3/12 hosts · elapsed 1 m 05 s · ETA 3 m 15 s"
    assert "3/12" in str(vi("scanned", data)) and "còn khoảng" in str(vi("scanned", data))
    assert en("scanned", {**data, "eta": None}) is not None
    assert "unknown" in str(en("scanned", {**data, "eta": None}))
    found = {"scope": "10.77.0.0/24", "count": 5, "total": 5}
    assert en("discovered", found) == "10.77.0.0/24: found 5 live hosts (5 in all)"
    # Heartbeats print only after a quiet spell; a line was just printed.
    assert en("scanning", data) is None
    assert duration(7300) == "2 h 01 m"


def test_nmap_missing_is_one_line_and_exit_4(tmp_path: Path) -> None:
    # Given a machine where nmap is not on PATH (the real CLI, in a child process)
    config = tmp_path / "agency.toml"
    config.write_text(
        agency_toml(store=str(tmp_path / "inv.json"), report=str(tmp_path / "r")),
        encoding="utf-8",
    )
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": str(tmp_path / "empty-bin")}
    # When a sweep is asked for (nothing is sent: the check comes before any packet)
    proc = subprocess.run(
        [str(bin_dir / "python"), "-m", "secposture", "--lang", "en", "sweep", "-c", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    # Then one line says what is missing, exit 4, no traceback, no store written
    assert proc.returncode == exitcodes.ENVIRONMENT, proc.stderr
    assert "nmap is not installed" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "inv.json").exists()
