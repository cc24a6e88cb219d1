"""Change detection on the lab (issue #5): a service stopped between two sweeps shows as "port
closed", and a host added in a new namespace shows as "new device".

Uses a private lab (the shared one must not be changed), swept from its scanner namespace.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.commands import secposture
from support.network import one_host_topology

from inventory.store import Inventory
from secposture.lab import (
    LabHost,
    LabState,
    add_host,
    demo_config_text,
    down,
    up,
)
from secposture.lab.topology import FTP_ANONYMOUS, HTTP_ADMIN

pytestmark = pytest.mark.lab

OFFICE = one_host_topology(
    "inventory", LabHost("fileserver", "fileserver", "10.77.0.20", (FTP_ANONYMOUS, HTTP_ADMIN))
)


def sweep(state: LabState, config: Path) -> subprocess.CompletedProcess[str]:
    return secposture("sweep", "-c", str(config), "--json", lab=state)


def test_stopped_service_is_port_closed_and_added_host_is_new_device(
    lab_available: None, tmp_path: Path
) -> None:
    state = up(topology=OFFICE)
    try:
        config = tmp_path / "agency.toml"
        text = demo_config_text(state, store_path=tmp_path / "store.json", report_dir=tmp_path)
        config.write_text(text.replace('profile = "standard"', 'profile = "quick"'), "utf-8")
        # Given a first sweep saw the file server with FTP and HTTP open
        first = sweep(state, config)
        store = Inventory(tmp_path / "store.json")
        server = store.device("10.77.0.20")
        assert server is not None, first.stderr
        assert {"21/tcp", "80/tcp"} <= set(server["services"]), server
        # When its FTP server stops and a router is plugged in before the next sweep
        ftp = state.pids[f"fileserver/{FTP_ANONYMOUS}"]
        os.kill(ftp, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{ftp}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        state = add_host(state, LabHost("new-router", "router", "10.77.0.60", (HTTP_ADMIN,)))
        second = sweep(state, config)
        assert len(store.committed()) == 2, second.stderr
        # Then the diff of the latest sweep names exactly those two events
        diff = subprocess.run(
            [sys.executable, "-m", "secposture", "inventory", "diff", "-c", str(config), "--json"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        changes = {(c["kind"], c["ip"], c.get("port")) for c in json.loads(diff.stdout)}
        assert ("port_closed", "10.77.0.20", 21) in changes, changes
        assert ("new_device", "10.77.0.60", None) in changes, changes
        assert not any(kind == "port_closed" and port == 80 for kind, _, port in changes)
        assert store.device("10.77.0.60")["first_seen"] == store.committed()[1]["started"]  # type: ignore[index]
    finally:
        down(state.lab_id)
