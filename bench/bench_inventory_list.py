"""``secposture inventory list`` on a store of 21 sweeps of 5,000 hosts × 10 services (issue #5).

Target: ≤ 2 s for the whole command, as a user runs it (a fresh process: start-up, config, read,
5,000 lines printed). Baseline in the same run: a bare ``json.load`` of the same store file.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

TARGET_S = 2.0
CONFIG = """
[agency]
id = "tn-bench"
name = "Bench agency"
level = "commune"
[scan]
scopes = ["10.60.0.0/16"]
[store]
path = "{store}"
keep_sweeps = 21
[report]
dir = "out"
"""


def main() -> int:
    from inventory_data import machine, prepared_store

    store, _ = prepared_store()
    with tempfile.TemporaryDirectory(prefix="bench-list-") as tmp:
        config = Path(tmp) / "agency.toml"
        config.write_text(CONFIG.format(store=store), encoding="utf-8")
        argv = [sys.executable, "-m", "secposture", "inventory", "list", "-c", str(config)]
        runs, cpus = [], []
        for _ in range(3):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            proc = subprocess.run(argv, capture_output=True, text=True, check=False)
            runs.append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 1
        lines = proc.stdout.count("\n")
    t0 = time.perf_counter()
    with open(store, encoding="utf-8") as fh:
        json.load(fh)
    load_s = time.perf_counter() - t0
    best = min(runs)
    load = Path("/proc/loadavg").read_text().split()[0]
    print(
        f"# {machine()}; load average {load}; store {store.stat().st_size / 1e6:.1f} MB, "
        f"{lines} lines printed; wall {', '.join(f'{r:.2f}' for r in runs)} s, "
        f"CPU {', '.join(f'{c:.2f}' for c in cpus)} s"
    )
    print(
        f"inventory.list: {best:.2f} s (bare json.load {load_s:.2f} s) "
        f"ratio {best / load_s:.2f} (target ≤ {TARGET_S:g} s)"
    )
    return 0 if best <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
