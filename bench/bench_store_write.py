"""Writing one 5,000-host × 10-service sweep into a store that holds 20 such sweeps (issue #5).

Targets: ≤ 5 s, ≤ 3 × a bare ``json.dump`` of the resulting store document (measured in the same
run), peak memory ≤ 500 MB. The write runs in a fresh child process whose peak RSS (VmHWM; not
ru_maxrss, which Linux carries over from the parent across exec) is its own: the child holds
the sweep and its findings, as the agent does, and commits them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from in_child import main_or_child

TARGET_S, TARGET_RATIO, TARGET_MB = 5.0, 3.0, 500


def _peak_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) / 1024


def child(store_path: str, sweep_path: str) -> None:
    from inventory.store import Inventory
    from secposture.checks import run_checks
    from secposture.model.records import SweepResult
    from secposture.scoring.score import score_findings

    result = SweepResult.model_validate_json(Path(sweep_path).read_bytes())
    findings = run_checks(result)
    score = score_findings(findings)
    held_mb = _peak_mb()
    store = Inventory(store_path, keep_sweeps=21)
    t0 = time.perf_counter()
    changes = store.commit_sweep(result, findings, score)
    write_s = time.perf_counter() - t0
    peak_mb = _peak_mb()
    # The baseline: the same resulting document, dumped bare with the standard library.
    doc = json.loads(Path(store_path).read_bytes())
    bare = Path(store_path).with_suffix(".bare.json")
    with open(bare, "w", encoding="utf-8") as fh:
        t0 = time.perf_counter()
        json.dump(doc, fh)
        dump_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    json.dumps(doc)
    dumps_s = time.perf_counter() - t0
    size_mb = Path(store_path).stat().st_size / 1e6
    print(
        json.dumps(
            {
                "write_s": write_s,
                "dump_s": dump_s,
                "dumps_s": dumps_s,
                "peak_mb": peak_mb,
                "held_mb": held_mb,
                "changes": len(changes),
                "size_mb": size_mb,
            }
        )
    )


def main() -> int:
    from inventory_data import HOSTS, PAST_SWEEPS, SERVICES, machine, prepared_store

    t0 = time.perf_counter()
    cached_store, sweep_path = prepared_store()
    setup_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        store_path = Path(tmp) / "store.json"
        shutil.copy(cached_store, store_path)
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(store_path), str(sweep_path)],
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return 1
    r = json.loads(proc.stdout)
    ratio = r["write_s"] / r["dump_s"]
    ok = r["write_s"] <= TARGET_S and ratio <= TARGET_RATIO and r["peak_mb"] <= TARGET_MB
    print(
        f"# {machine()}; store {r['size_mb']:.1f} MB after {PAST_SWEEPS + 1} sweeps of "
        f"{HOSTS} hosts × {SERVICES} services, {r['changes']} changes (setup {setup_s:.0f} s)"
    )
    print(
        f"store.write_sweep: {r['write_s']:.2f} s (bare json.dump {r['dump_s']:.2f} s) "
        f"ratio {ratio:.2f} (target ≤ {TARGET_RATIO:g}, ≤ {TARGET_S:g} s)"
    )
    print(
        f"store.write_sweep vs json.dumps: {r['write_s']:.2f} s (json.dumps {r['dumps_s']:.2f} s) "
        f"ratio {r['write_s'] / r['dumps_s']:.2f} (for information)"
    )
    print(
        f"store.write_sweep.peak_rss: {r['peak_mb']:.0f} MB, of which {r['held_mb']:.0f} MB "
        f"before the write (sweep and findings in memory) (target ≤ {TARGET_MB} MB)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    main_or_child(main, child)
