"""Fixtures for tests that need the network-namespace lab (root, iproute2, nmap, services)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.commands import start_tcpdump

from secposture.lab import DEVICE_AUDIT, LabState, demo_config_text, down, scanner_exec, up
from secposture.lab.services import SERVICES

# What the shared labs' services need (DEVICE_AUDIT holds every host of the demo lab too).
_PROGRAMS = (
    "ip",
    "nmap",
    *sorted(
        {p for host in DEVICE_AUDIT.hosts for s in host.services for p in SERVICES[s].programs}
    ),
)


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


class SweptLab:
    """One standard sweep of the shared lab, run from inside its scanner namespace."""

    def __init__(
        self,
        state: LabState,
        folder: Path,
        proc: subprocess.CompletedProcess[str],
        root_capture: str,
    ) -> None:
        self.state = state
        self.folder = folder
        self.config = folder / "agency.toml"
        self.store = folder / "inventory.json"
        self.report_dir = folder / "report"
        self.proc = proc
        self.summary: dict[str, Any] = json.loads(proc.stdout) if proc.stdout.strip() else {}
        self.root_capture = root_capture  # what tcpdump in the root namespace saw meanwhile

    def document(self, name: str) -> Any:
        return json.loads((self.report_dir / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def swept_lab(lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> SweptLab:
    """Sweep the demo lab once per session (standard profile); tests read its outputs."""
    folder = tmp_path_factory.mktemp("swept-lab")
    (folder / "agency.toml").write_text(
        demo_config_text(lab, store_path=folder / "inventory.json", report_dir=folder / "report"),
        encoding="utf-8",
    )
    # Watch the root namespace while the sweep runs: no packet to the lab's addresses may
    # appear there (it has no route into the lab; the sweep runs inside the scanner namespace).
    capture = start_tcpdump(["tcpdump", "-n", "-i", "any", "-l", "net", "10.77.0.0/16"])
    try:
        proc = scanner_exec(
            lab,
            [
                sys.executable,
                "-m",
                "secposture",
                "--lang",
                "en",
                "sweep",
                "-c",
                str(folder / "agency.toml"),
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        capture.terminate()
        seen, _ = capture.communicate(timeout=10)
    return SweptLab(lab, folder, proc, seen)
