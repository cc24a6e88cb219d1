"""Shared set-up for the bundle, collector and aggregate tests (issue #8).

An agency with a real inventory store and a real key, and a collector config registering it;
a real collector process on a free loopback port.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from factories import T0, host, obs, svc, sweep

from inventory.store import Inventory
from secposture.bundle.keys import create_key, public_key_text
from secposture.checks import run_checks
from secposture.config.loading import parse_config
from secposture.config.sections import AgencyConfig
from secposture.scoring.score import score_findings

AGENCY = "tn-xa-mau"
SECRET = "community-s3cr3t-do-not-leak"  # a secret that reaches the sweep's observations


def agency_config(tmp: Path, collector_url: str | None = None, **bundle: object) -> AgencyConfig:
    data: dict[str, object] = {
        "agency": {
            "id": AGENCY,
            "name": "UBND xã Mẫu",
            "level": "commune",
            "parent": "tn-tinh",
        },
        "scan": {"scopes": ["10.77.0.0/24"]},
        "store": {"path": str(tmp / "var" / "store.json")},
        "report": {"dir": str(tmp / "out")},
        "bundle": {"key": f"file:{tmp / 'keys' / 'agency.key'}", **bundle},
    }
    if collector_url:
        data["bundle"]["collector_url"] = collector_url  # type: ignore[index]
        if collector_url.startswith("http://"):  # the tests' collectors, on loopback
            data["bundle"].setdefault("allow_cleartext", True)  # type: ignore[attr-defined]
    return parse_config(data)


def make_key(config: AgencyConfig) -> str:
    """Create the agency key; the public half, as the province registers it."""
    assert config.bundle is not None
    return public_key_text(create_key(Path(config.bundle.key.removeprefix("file:"))))


def store_sweeps(config: AgencyConfig, count: int = 1) -> list[str]:
    """Commit ``count`` weekly sweeps of a small LAN (telnet open) into the agency store."""
    from datetime import timedelta

    inventory = Inventory.for_config(config)
    ids = []
    for n in range(count):
        s = sweep(
            host("10.77.0.1", svc(23, "telnet"), svc(22, "ssh"), mac="02:00:00:00:00:01"),
            host("10.77.0.20", svc(80, "http"), hostname="pc-ke-toan"),
            observations=(
                obs("snmp.community", "10.77.0.1", 161, "udp", community=SECRET),
                obs("device.config", "10.77.0.1", text="hostname core\n"),
            ),
            sweep_id=f"{AGENCY}-w{n}",
            started=T0 + timedelta(days=7 * n),
        ).model_copy(update={"agency_id": AGENCY})
        findings = run_checks(s)
        inventory.commit_sweep(s, findings, score_findings(findings))
        ids.append(s.sweep_id)
    return ids


def collector_config(tmp: Path, units: list[dict[str, object]], **collector: object) -> Path:
    """Write a collector TOML registering ``units`` directly under the province (two tiers
    since 1/7/2025)."""
    lines = ["[collector]", f'store = "{tmp / "collector"}"']
    lines += [f"{k} = {v!r}" if isinstance(v, str) else f"{k} = {v}" for k, v in collector.items()]
    lines += [
        "[province]",
        'id = "tn-tinh"',
        'name = "Tỉnh Mẫu"',
    ]
    for unit in units:
        lines.append("[[unit]]")
        for key, value in unit.items():
            lines.append(f"{key} = {value!r}".replace("'", '"'))
    path = tmp / "collector.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_collector(config: Path, port: int) -> Iterator[str]:
    """`secposture collector serve` in a subprocess on 127.0.0.1:port, until the block ends."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "secposture",
            "collector",
            "serve",
            "-c",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_PROXY": "*"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url + "/api/v1/health", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read() if proc.stderr else b""
                    raise RuntimeError(f"collector did not start: {err!r}") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
