"""Readiness: block until every started lab service answers from the scanner namespace."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from secposture.lab.netns import LabRef, scanner_popen
from secposture.lab.services import ServiceStartError, StartedService

# Runs inside the scanner namespace with `python -I -c`: no project imports, stdlib only.
_PROBE_SCRIPT = r"""
import json, socket, sys, time
checks = json.loads(sys.argv[1])
deadline = time.monotonic() + float(sys.argv[2])
# SNMPv2c GetRequest for sysDescr.0 with community "public", request-id 1.
SNMP_GET = bytes.fromhex(
    "302902010104067075626c6963a01c0204000000010201000201003"
    "00e300c06082b060102010101000500")
pending = {c["key"]: c for c in checks}
while pending and time.monotonic() < deadline:
    for key, c in list(pending.items()):
        try:
            if c["proto"] == "udp":
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.settimeout(0.3)
                    s.sendto(SNMP_GET, (c["ip"], c["port"]))
                    s.recv(4096)
            else:
                with socket.create_connection((c["ip"], c["port"]), timeout=0.5) as s:
                    want = bytes.fromhex(c["banner"])
                    got = b""
                    s.settimeout(1.0)
                    while len(got) < len(want):
                        chunk = s.recv(256)
                        if not chunk:
                            break
                        got += chunk
                    if not got.startswith(want):
                        continue
            del pending[key]
        except OSError:
            pass
    if pending:
        time.sleep(0.05)
print(json.dumps(sorted(pending)))
sys.exit(1 if pending else 0)
"""


def _log_tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _failure(service: StartedService, reason: str) -> ServiceStartError:
    return ServiceStartError(
        f"lab service {service.key} ({service.spec.proto}/{service.spec.port} on {service.ip}) "
        f"{reason}; last lines of {service.log_file}:\n{_log_tail(service.log_file)}"
    )


def wait_ready(lab: LabRef, started: Sequence[StartedService], timeout: float = 20.0) -> None:
    """Block until every started service answers from the scanner namespace.

    Raises ``ServiceStartError`` naming the first service that exited or never answered
    within ``timeout`` seconds.
    """
    if not started:
        return
    checks = [
        {
            "key": s.key,
            "ip": s.ip,
            "port": s.spec.port,
            "proto": s.spec.proto,
            "banner": s.spec.banner.hex(),
        }
        for s in started
        if s.spec.port is not None  # a service with no port of its own has nothing to probe
    ]
    if not checks:
        return
    probe = scanner_popen(
        lab,
        [sys.executable, "-I", "-c", _PROBE_SCRIPT, json.dumps(checks), str(timeout)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + timeout + 5.0
    try:
        while probe.poll() is None:
            for service in started:
                if service.process.poll() is not None:
                    raise _failure(service, f"exited with status {service.process.returncode}")
            if time.monotonic() > deadline:
                raise ServiceStartError(f"readiness probe did not finish within {timeout:.0f} s")
            time.sleep(0.05)
        out, err = probe.communicate()
    finally:
        if probe.poll() is None:
            probe.kill()
            probe.wait()
    if probe.returncode == 0:
        return
    try:
        pending = set(json.loads(out.decode() or "null") or [])
    except ValueError:
        pending = set()
    for service in started:
        if service.key in pending:
            raise _failure(service, f"did not answer within {timeout:.0f} s")
    raise ServiceStartError(f"readiness probe failed: {err.decode(errors='replace').strip()}")
