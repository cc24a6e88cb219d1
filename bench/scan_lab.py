"""Helpers for the scanner benchmarks (issue #3): a sweep run inside a lab's scanner namespace
with its nmap command lines recorded, and the same command lines replayed bare.

Everything that sends a packet runs inside the lab's scanner namespace (``scanner_exec``).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The lab's test-only helpers (tests/lab/support: extra services, address blocks, running
# code in the scanner namespace) are shared with the benchmarks, not shipped in the package.
sys.path.insert(0, str(ROOT / "tests" / "lab"))

from support.commands import in_scanner  # noqa: E402

from secposture.lab import LabState, scanner_exec  # noqa: E402

# Runs inside the scanner namespace: the sweep, with every external process it starts
# recorded (argv, start and end relative to the sweep's start).
SWEEP_CHILD = r"""
import json, sys, time
from scanners import context
from secposture.config.loading import load_config
from secposture.job.sweep import run_sweep
record = []
original = context.Processes.run
t0 = time.monotonic()
def recording(self, argv, *, timeout_s):
    start = time.monotonic() - t0
    try:
        return original(self, argv, timeout_s=timeout_s)
    finally:
        record.append({"argv": argv, "start": start, "end": time.monotonic() - t0})
context.Processes.run = recording
config = load_config(sys.argv[1])
t0 = time.monotonic()
result = run_sweep(config)
wall = time.monotonic() - t0
import resource
own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
cpu = {"self": own.ru_utime + own.ru_stime, "children": kids.ru_utime + kids.ru_stime}
result = json.loads(result.model_dump_json())
print(json.dumps({"wall": wall, "runs": record, "cpu": cpu, "result": result}))
"""

# Runs inside the scanner namespace with the standard library only: the recorded command
# lines, bare, in the sweep's own shape (discovery, then every TCP and UDP batch at once
# within the same concurrency, each batch's detail runs as soon as that batch ends).
BARE_CHILD = r"""
import json, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor, wait, FIRST_COMPLETED
plan = json.loads(open(sys.argv[1]).read())
def run(argv):
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
t0 = time.monotonic()
for argv in plan["discovery"]:
    run(argv)
with ThreadPoolExecutor(plan["concurrency"]) as pool:
    pending = {pool.submit(run, b["tcp"]): b["details"] for b in plan["batches"]}
    pending.update({pool.submit(run, argv): [] for argv in plan["udp"]})
    while pending:
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for fut in done:
            for argv in pending.pop(fut):
                pending[pool.submit(run, argv)] = []
import resource
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": time.monotonic() - t0, "cpu": kids.ru_utime + kids.ru_stime}))
"""


def write_config(
    folder: Path,
    state: LabState,
    scopes: list[str],
    exclude: list[str],
    profile: str,
    concurrency: int = 8,
) -> Path:
    path = folder / "agency.toml"
    path.write_text(
        '[agency]\nid = "bench-scan"\nname = "Benchmark"\nlevel = "commune"\n'
        f"[scan]\nscopes = {json.dumps(scopes)}\nexclude = {json.dumps(exclude)}\n"
        f'profile = "{profile}"\nnetns = "{state.scanner_ns}"\nconcurrency = {concurrency}\n'
        f'[store]\npath = "{folder / "inventory.json"}"\n[report]\ndir = "{folder / "r"}"\n',
        encoding="utf-8",
    )
    return path


def run_sweep_recorded(state: LabState, config: Path) -> dict[str, Any]:
    """The sweep's wall time (run_sweep alone), its nmap runs and its result."""
    proc = in_scanner(state, SWEEP_CHILD, str(config), timeout=1800, cwd=str(ROOT))
    if proc.returncode != 0:
        raise RuntimeError(f"sweep failed: {proc.stderr[-2000:]}")
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def bare_plan(
    runs: list[dict[str, Any]], discovery: list[list[str]], concurrency: int
) -> dict[str, Any]:
    """The sweep's nmap command lines in its shape: which detail runs follow which batch."""
    batches: list[dict[str, Any]] = []
    udp: list[list[str]] = []
    details: list[list[str]] = []
    for run in sorted(runs, key=lambda r: r["start"]):
        argv = run["argv"]
        if "-sn" in argv:
            discovery.append(argv)
        elif "-sU" in argv:
            udp.append(argv)
        elif "-sV" in argv or "--script" in argv or "-O" in argv:
            details.append(argv)  # phase 3: one host, or a group of alike hosts
        else:
            batches.append({"tcp": argv, "details": []})
    for argv in details:
        owner = next((b for b in batches if argv[-1] in b["tcp"]), None)
        if owner is None:
            raise RuntimeError(f"detail run without its batch: {argv}")
        owner["details"].append(argv)
    return {"discovery": discovery, "batches": batches, "udp": udp, "concurrency": concurrency}


def run_bare(
    state: LabState, plan: dict[str, Any], measured: dict[str, float] | None = None
) -> float:
    """Wall time of the plan's nmap command lines run bare from the scanner namespace; the CPU
    seconds the nmap processes used go into ``measured["cpu"]`` when it is given."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(plan, fh)
    proc = scanner_exec(
        state,
        [sys.executable, "-I", "-c", BARE_CHILD, fh.name],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    Path(fh.name).unlink()
    if proc.returncode != 0:
        raise RuntimeError(f"bare replay failed: {proc.stderr[-2000:]}")
    out = json.loads(proc.stdout)
    if measured is not None:
        measured["cpu"] = float(out["cpu"])
    return float(out["wall"])


def replay_bare(
    state: LabState,
    recorded: dict[str, Any],
    scopes: list[str],
    exclude: list[str],
    concurrency: int = 8,
    measured: dict[str, float] | None = None,
) -> float:
    """Wall time of a recorded sweep's nmap command lines replayed bare in the sweep's shape.

    The sweep finds attached hosts with scapy ARP, not nmap; the bare side discovers the same
    scope with nmap's own ARP discovery (``nmap -n -sn -PR``), what a bare nmap user would run.
    """
    discovery = [
        [
            "nmap",
            "-oX",
            "-",
            "-n",
            "-sn",
            "-PR",
            *(["--exclude", ",".join(exclude)] if exclude else []),
            *scopes,
        ]
    ]
    plan = bare_plan(recorded["runs"], discovery, concurrency)
    return run_bare(state, plan, measured)


def machine() -> str:
    load = Path("/proc/loadavg").read_text().split()[0]
    import os

    return f"{os.cpu_count()} CPUs, load average {load}"
