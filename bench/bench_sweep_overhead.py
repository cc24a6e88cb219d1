"""Sweep overhead (issue #3): the standard sweep of the demo lab against the same nmap command
lines run bare from the same namespace, in the same run. Target: ratio ≤ 1.10.

The bare side replays every nmap command line the sweep ran (recorded as it ran), in the
sweep's own shape: discovery first, then every TCP and UDP batch at once within the same
concurrency, each batch's per-host detail runs as soon as its batch ends (scan_lab.replay_bare).
The sweep finds attached hosts with scapy ARP, the bare side with ``nmap -n -sn -PR``. Python's
work (ARP, name lookups, direct TLS/HTTP/telnet/Redis probes, parsing, assembly) is the
overhead measured. Three alternating rounds; the ratio of the medians is the figure.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scan_lab import machine, replay_bare, run_sweep_recorded, write_config

from secposture.lab import down, up

TARGET = 1.10
ROUNDS = 3


def main() -> int:
    state = up()
    try:
        folder = Path(tempfile.mkdtemp(prefix="bench-overhead-"))
        config = write_config(folder, state, [state.subnet], list(state.excluded), "standard")
        sweeps, bares = [], []
        for _ in range(ROUNDS):
            recorded = run_sweep_recorded(state, config)
            sweeps.append(recorded["wall"])
            bares.append(replay_bare(state, recorded, [state.subnet], list(state.excluded)))
        sweep_s, bare_s = statistics.median(sweeps), statistics.median(bares)
        ratio = sweep_s / bare_s
        runs = len(recorded["runs"])
        rounds = "/".join(f"{s:.1f}" for s in sweeps) + " vs " + "/".join(f"{b:.1f}" for b in bares)
        print(
            f"sweep_overhead: {sweep_s:.1f} s (bare nmap {bare_s:.1f} s, {runs} nmap runs) "
            f"ratio {ratio:.2f} (target ≤ {TARGET}); rounds {rounds} s; {machine()}"
        )
        return 0 if ratio <= TARGET else 1
    finally:
        down(state.lab_id)


if __name__ == "__main__":
    sys.exit(main())
