"""The demo lab (issues #3 and #20), two figures from one lab:

``demo_sweep_standard``  standard profile: whole sweep ≤ 15 s, and ≥ 95 % of the open TCP
                         ports named with the right service. The right names are what the lab
                         serves (secposture/lab/topology.py and services.py), plus the SMUX
                         port (199) that snmpd opens beside SNMP. A port the sweep did not find
                         open counts as not named.
``demo_quick``           quick profile: sweep wall time ÷ bare ``nmap -n -sS -T4 -p PORTS`` over
                         the same scope (the lab's subnet, its exclusions passed as
                         ``--exclude``), PORTS being the TCP ports the quick profile probes
                         (scanners/nmap/profiles.py: tcp_discovery_ports), ≤ 1.5; median of 3
                         alternating rounds, the bare run first in each. Both are given what the
                         agency's config gives: a subnet whose live hosts must be found (as in
                         bench_quick_22). Printed beside it, for information: bare nmap given
                         the live hosts' addresses, which skips finding them.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scan_lab import machine, run_sweep_recorded, write_config

from scanners.nmap.profiles import tcp_discovery_ports
from secposture.lab import LabState, down, scanner_exec, up

TARGET_S, TARGET_NAMED, TARGET_QUICK, QUICK_ROUNDS = 15.0, 0.95, 1.5, 3
TRUTH = {
    ("10.77.0.10", 22): "ssh",
    ("10.77.0.20", 21): "ftp",
    ("10.77.0.30", 23): "telnet",
    ("10.77.0.30", 80): "http",
    ("10.77.0.40", 199): "smux",
    ("10.77.0.40", 9100): "jetdirect",
    ("10.77.0.50", 22): "ssh",
}


def bare_quick(state: LabState, targets: list[str], exclude: list[str]) -> tuple[float, int]:
    """Wall time of bare nmap over ``targets`` (less ``exclude``) on the quick profile's TCP
    ports, and how many open ports it found (so that a fast baseline is seen to have scanned)."""
    ports = tcp_discovery_ports("quick")
    if ports is None:
        raise RuntimeError("no nmap-services file: the quick profile's ports are unknown")
    argv = ["nmap", "-n", "-sS", "-T4", "-p", ",".join(map(str, ports)), "-oX", "-", *targets]
    if exclude:
        argv += ["--exclude", ",".join(exclude)]
    t0 = time.monotonic()
    proc = scanner_exec(state, argv, capture_output=True, text=True, timeout=600, check=False)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"bare nmap failed: {proc.stderr[-2000:]}")
    return wall, proc.stdout.count('<state state="open"')


def standard_figure(recorded: dict[str, Any]) -> bool:
    found = {
        (h["ip"], s["port"]): s["name"]
        for h in recorded["result"]["hosts"]
        for s in h["services"]
        if s["proto"] == "tcp" and s["state"] == "open"
    }
    right = sum(1 for key, name in TRUTH.items() if found.get(key) == name)
    extra = sorted(set(found) - set(TRUTH))
    share = right / len(TRUTH)
    wall = recorded["wall"]
    print(
        f"demo_sweep_standard: {wall:.1f} s (target ≤ {TARGET_S:.0f} s); "
        f"open TCP ports named right {right}/{len(TRUTH)} = {share:.0%} (target ≥ 95 %)"
        + (f"; unexpected ports {extra}" if extra else "")
        + f"; {machine()}",
        flush=True,
    )
    return wall <= TARGET_S and share >= TARGET_NAMED


def main() -> int:
    state = up()
    try:
        folder = Path(tempfile.mkdtemp(prefix="bench-demo-"))
        config = write_config(folder, state, [state.subnet], list(state.excluded), "standard")
        ok = standard_figure(run_sweep_recorded(state, config))
        (folder / "quick").mkdir()
        quick = write_config(folder / "quick", state, [state.subnet], list(state.excluded), "quick")
        hosts = [h.ip for h in state.hosts if h.ip not in state.excluded]
        sweeps, bares, listed, found, tcp_open, bare_open = [], [], [], 0, 0, 0
        for _ in range(QUICK_ROUNDS):
            bare_s, bare_open = bare_quick(state, [state.subnet], list(state.excluded))
            bares.append(bare_s)
            listed.append(bare_quick(state, hosts, [])[0])
            recorded = run_sweep_recorded(state, quick)
            sweeps.append(recorded["wall"])
            found = sum(1 for h in recorded["result"]["hosts"] if h["ports_scanned"])
            tcp_open = sum(
                1
                for h in recorded["result"]["hosts"]
                for s in h["services"]
                if s["proto"] == "tcp" and s["state"] == "open"
            )
    finally:
        down(state.lab_id)
    sweep_s, bare_s = statistics.median(sweeps), statistics.median(bares)
    listed_s = statistics.median(listed)
    ratio = sweep_s / bare_s
    rounds = "/".join(f"{s:.2f}" for s in sweeps) + " vs " + "/".join(f"{b:.2f}" for b in bares)
    print(
        f"demo_quick: {sweep_s:.1f} s for {found}/{len(hosts)} hosts scanned, {tcp_open} open "
        f"TCP ports (bare: {bare_open}) "
        f"(baseline bare nmap -n -sS -T4 -p <{len(tcp_discovery_ports('quick') or ())} quick "
        f"TCP ports> {state.subnet} --exclude <{len(state.excluded)}> {bare_s:.2f} s) "
        f"ratio {ratio:.2f} (target ≤ {TARGET_QUICK}); for information, bare nmap given the "
        f"{len(hosts)} live addresses {listed_s:.2f} s (ratio {sweep_s / listed_s:.1f}); "
        f"rounds {rounds} s; {machine()}",
        flush=True,
    )
    ok = ok and ratio <= TARGET_QUICK and found == len(hosts)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
