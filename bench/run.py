"""Run every benchmark (bench/bench_*.py), each in its own process, and print its figures.

Each script prints its result lines (``name: 1.23 s (baseline 0.61 s) ratio 2.02 (target ≤ 3)``)
and exits non-zero when a target is missed. ``bench/run.py store list`` runs only the scripts
whose names contain one of the words. Exit status: 0 when every target is met.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main(words: list[str]) -> int:
    scripts = sorted(BENCH.glob("bench_*.py"))
    if words:
        scripts = [s for s in scripts if any(w in s.stem for w in words)]
    if not scripts:
        print(f"no benchmark matches {' '.join(words)}", file=sys.stderr)
        return 2
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(f"# {len(scripts)} benchmarks on {os.cpu_count()} CPUs (load average {load})")
    missed = []
    for script in scripts:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, check=False
        )
        for line in proc.stdout.splitlines():
            print(line, flush=True)
        if proc.returncode != 0:
            missed.append(script.stem)
            tail = proc.stderr.strip().splitlines()[-5:]
            print(f"{script.stem}: FAILED or target missed (exit {proc.returncode})")
            for line in tail:
                print(f"  {line}")
        print(f"# {script.stem} took {time.perf_counter() - t0:.0f} s", flush=True)
    if missed:
        print(f"# targets missed or failures: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
