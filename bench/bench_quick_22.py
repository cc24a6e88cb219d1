"""A /22 with ≥ 500 live addresses, quick profile (issues #3 and #20): the sweep completes in
≤ 0.8 × the time of bare ``nmap -n -sS -T4`` over the same scope, measured in the same run,
in two variants, each in its own lab: three rounds of a bare run then a sweep, the figure
being the median sweep ÷ the median bare run (one round on this shared machine has ranged
from 0.66 to 1.21 for the same code):

``quick_22``       one namespace holds 600 addresses of 10.80.0.0/22
                   (tests/lab/support/network.py: add_address_block) with a raw-print port open
                   on all of them; nothing answers on 161/udp.
``quick_22_snmp``  550 such addresses in one namespace, and 50 more in a second namespace
                   with the raw-print port and a real snmpd (community ``public``) bound to all
                   of its addresses; the sweep must find SNMP evidence on all 50.

Every address answers ARP and has a service; the ICMP rate limit is lifted so that each
namespace answers as that many separate hosts would. The bare side is nmap's default run over
the same scope minus the scanner's address: ARP discovery, then its top 1000 TCP ports on
every live address. The sweep does discovery, the top 100 TCP ports plus the evidence ports,
UDP 161 with the SNMP community probe, names and device types.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# scan_lab also puts tests/lab on sys.path, for the lab's test-only helpers (support).
from scan_lab import machine, run_sweep_recorded, write_config
from support.network import add_address_block, start

from secposture.lab import LabState, down, scanner_exec, up
from secposture.lab.readiness import wait_ready
from secposture.lab.services import StartedService
from secposture.lab.topology import LabHost, Topology

TARGET, LIVE, SNMP_LIVE, ROUNDS = 0.8, 600, 50, 3
SUBNET, SCANNER = "10.80.0.0/22", "10.80.0.2"
# The SNMP namespace's addresses start at 10.80.3.10, clear of the first block's.
SNMP_IP, SNMP_SKIP = "10.80.3.10", 778


def bare_nmap(state: LabState, folder: Path) -> float:
    """Wall time of bare ``nmap -n -sS -T4`` over the scope minus the scanner."""
    argv = ["nmap", "-n", "-sS", "-T4", "--exclude", SCANNER, "-oX", str(folder / "bare.xml")]
    t0 = time.monotonic()
    bare = scanner_exec(
        state, [*argv, SUBNET], capture_output=True, text=True, timeout=3600, check=False
    )
    wall = time.monotonic() - t0
    if bare.returncode != 0:
        raise RuntimeError(bare.stderr)
    return wall


def measure(snmp: bool) -> tuple[list[float], list[dict[str, Any]], set[str]]:
    """Build the variant's lab, run bare nmap then the sweep ROUNDS times, tear it down."""
    hosts = [LabHost("many", "server", "10.80.0.10", (), subnet=SUBNET)]
    if snmp:
        hosts.append(LabHost("snmp", "printer", SNMP_IP, (), subnet=SUBNET))
    state = up(topology=Topology("bench-22", SUBNET, SCANNER, hosts=tuple(hosts)))
    try:
        many = state.host("many")
        add_address_block(many, SUBNET, LIVE - (SNMP_LIVE if snmp else 0) - 1)
        # One listener on every address of the host: when it answers on one, it does on all.
        started: list[StartedService] = [start(state, many, "print-any")]
        snmp_ips: set[str] = set()
        if snmp:
            agent = state.host("snmp")
            snmp_ips = {agent.ip, *add_address_block(agent, SUBNET, SNMP_LIVE - 1, skip=SNMP_SKIP)}
            started += [start(state, agent, "print-any"), start(state, agent, "snmp-any")]
        wait_ready(state, started, timeout=30.0)
        bares, sweeps = [], []
        for i in range(ROUNDS):
            folder = Path(tempfile.mkdtemp(prefix=f"bench-22-{i}-"))
            config = write_config(folder, state, [SUBNET], [SCANNER], "quick")
            bares.append(bare_nmap(state, folder))
            sweeps.append(run_sweep_recorded(state, config))
    finally:
        down(state.lab_id)
    return bares, sweeps, snmp_ips


def snmp_evidence(result: dict[str, Any]) -> set[str]:
    """Addresses with an accepted community or a sysDescr among the sweep's observations."""
    return {
        o["ip"]
        for o in result["observations"]
        if o["kind"] == "snmp.sysdescr"
        or (o["kind"] == "snmp.community" and o["data"].get("accepted") is True)
    }


def report(name: str, bares: list[float], sweeps: list[dict[str, Any]], snmp_ips: set[str]) -> bool:
    """Print the variant's figure; every round must have found and judged every host."""
    ok, notes = True, []
    for recorded in sweeps:
        hosts = recorded["result"]["hosts"]
        scanned = sum(1 for h in hosts if h["ports_scanned"])
        with_service = sum(1 for h in hosts if any(s["port"] == 9100 for s in h["services"]))
        ok = ok and len(hosts) >= 500 and scanned == len(hosts) == with_service
        note = f"{len(hosts)} hosts, {scanned} scanned, {with_service} with 9100 open"
        if snmp_ips:
            found = snmp_evidence(recorded["result"]) & snmp_ips
            note += f", SNMP evidence on {len(found)}/{len(snmp_ips)} snmpd addresses"
            ok = ok and found == snmp_ips
        notes.append(note)
    sweep_s = statistics.median(r["wall"] for r in sweeps)
    bare_s = statistics.median(bares)
    ratio = sweep_s / bare_s
    rounds = (
        "/".join(f"{r['wall']:.1f}" for r in sweeps) + " vs " + "/".join(f"{b:.1f}" for b in bares)
    )
    print(
        f"{name}: {sweep_s:.1f} s (median of {len(sweeps)}; {'; '.join(sorted(set(notes)))}) "
        f"(baseline bare nmap -sS -T4 {bare_s:.1f} s) ratio {ratio:.2f} (target ≤ {TARGET}); "
        f"rounds {rounds} s; {machine()}",
        flush=True,
    )
    return ok and ratio <= TARGET


def main() -> int:
    ok = report("quick_22", *measure(snmp=False))
    ok = report("quick_22_snmp", *measure(snmp=True)) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
