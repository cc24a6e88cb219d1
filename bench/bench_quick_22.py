"""A /22 with ≥ 500 live addresses, quick profile (issue #3): the sweep completes in ≤ 2 × the
time of bare ``nmap -n -sS -T4`` over the same scope, measured in the same run.

One namespace holds 600 addresses of 10.80.0.0/22 (tests/lab/support/network.py: add_address_block),
with a raw-print port open on all of them, so every address answers ARP and has a service;
its ICMP rate limit is lifted so that it answers as 600 separate hosts would. The bare side is
nmap's default run over the same scope minus the scanner's address: ARP discovery, then its
top 1000 TCP ports on every live address. The sweep does discovery, the top 100 TCP ports
plus the evidence ports, UDP 161 with the SNMP community probe, names and device types.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# scan_lab also puts tests/lab on sys.path, for the lab's test-only helpers (support).
from scan_lab import machine, run_sweep_recorded, write_config
from support.network import add_address_block, start

from secposture.lab import down, scanner_exec, up
from secposture.lab.readiness import wait_ready
from secposture.lab.topology import LabHost, Topology

TARGET, LIVE = 2.0, 600
SUBNET, SCANNER = "10.80.0.0/22", "10.80.0.2"


def main() -> int:
    topology = Topology(
        "bench-22",
        SUBNET,
        SCANNER,
        hosts=(LabHost("many", "server", "10.80.0.10", (), subnet=SUBNET),),
    )
    state = up(topology=topology)
    try:
        many = state.host("many")
        add_address_block(many, SUBNET, LIVE - 1)
        # One listener on every address of the host: when it answers on one, it does on all.
        wait_ready(state, [start(state, many, "print-any")], timeout=30.0)
        folder = Path(tempfile.mkdtemp(prefix="bench-22-"))
        config = write_config(folder, state, [SUBNET], [SCANNER], "quick")
        t0 = time.monotonic()
        bare = scanner_exec(
            state,
            [
                "nmap",
                "-n",
                "-sS",
                "-T4",
                "--exclude",
                SCANNER,
                "-oX",
                str(folder / "bare.xml"),
                SUBNET,
            ],
            capture_output=True,
            text=True,
            timeout=3600,
            check=False,
        )
        bare_s = time.monotonic() - t0
        if bare.returncode != 0:
            raise RuntimeError(bare.stderr)
        recorded = run_sweep_recorded(state, config)
    finally:
        down(state.lab_id)
    hosts = recorded["result"]["hosts"]
    scanned = sum(1 for h in hosts if h["ports_scanned"])
    with_service = sum(1 for h in hosts if any(s["port"] == 9100 for s in h["services"]))
    ratio = recorded["wall"] / bare_s
    print(
        f"quick_22: {recorded['wall']:.1f} s for {len(hosts)} hosts ({scanned} scanned, "
        f"{with_service} with 9100 open) (bare nmap -sS -T4 {bare_s:.1f} s) ratio {ratio:.2f} "
        f"(target ≤ {TARGET:.0f}); {machine()}"
    )
    ok = ratio <= TARGET and len(hosts) >= 500 and scanned == len(hosts) == with_service
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
