"""The demo lab, standard profile (issue #3): whole sweep ≤ 60 s, and ≥ 95 % of the open TCP
ports named with the right service.

The right names are what the lab serves (secposture/lab/topology.py and services.py), plus
the SMUX port (199) that snmpd opens beside SNMP. A port the sweep did not find open counts
as not named.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scan_lab import machine, run_sweep_recorded, write_config

from secposture.lab import down, up

TARGET_S, TARGET_NAMED = 60.0, 0.95
TRUTH = {
    ("10.77.0.10", 22): "ssh",
    ("10.77.0.20", 21): "ftp",
    ("10.77.0.30", 23): "telnet",
    ("10.77.0.30", 80): "http",
    ("10.77.0.40", 199): "smux",
    ("10.77.0.40", 9100): "jetdirect",
    ("10.77.0.50", 22): "ssh",
}


def main() -> int:
    state = up()
    try:
        folder = Path(tempfile.mkdtemp(prefix="bench-demo-"))
        config = write_config(folder, state, [state.subnet], list(state.excluded), "standard")
        recorded = run_sweep_recorded(state, config)
    finally:
        down(state.lab_id)
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
        + f"; {machine()}"
    )
    return 0 if wall <= TARGET_S and share >= TARGET_NAMED else 1


if __name__ == "__main__":
    sys.exit(main())
