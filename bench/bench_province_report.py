"""The province report (``secposture aggregate``) from the collector's database.

Two shapes: 200 agencies × 50 hosts with four weekly bundles each (issue #8: ≤ 20 s, peak
memory ≤ 500 MB), and Tây Ninh as it is since 1/7/2025, 96 commune-level units (82 communes,
14 wards) and 25 departments of 20-200 hosts with twelve weekly bundles each (issue #14:
≤ 3 s). The store is the default SQLite database, filled through the collector's own ingest.
The report (province page, group pages and each agency's latest report) is written by a
child process so that its peak RSS is its own. Baseline, in the same run: reading and
verifying the latest bundles alone, the part no report can skip. The report's CPU seconds
and the load average are printed beside the wall time (the machine is shared).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from in_child import main_or_child, peak_rss_mb, run_child

TARGET_MB = 500
# name: (units, hosts per unit, weekly bundles per unit, target seconds)
SHAPES = {
    "report_200x50": (200, (50, 50), 4, 20.0),
    "report_tayninh": (121, (20, 200), 12, 3.0),
}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(config_path: str, out: str) -> None:
    from province_data import NOW

    from secposture.province.db.store import open_store
    from secposture.province.hierarchy import load_collector_config
    from secposture.province.pages import write_aggregate

    config = load_collector_config(config_path)
    store = open_store(config)
    t0 = time.perf_counter()
    for row in store.latest_rows().values():
        store.payload(row)
    read_s = time.perf_counter() - t0
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    paths = write_aggregate(config, Path(out), lang="vi", now=NOW)
    report_s, cpu_s = time.perf_counter() - t0, cpu_seconds() - cpu0
    peak_mb = peak_rss_mb()
    print(
        json.dumps(
            {
                "report_s": report_s,
                "cpu_s": cpu_s,
                "load": os.getloadavg()[0],
                "read_s": read_s,
                "peak_mb": peak_mb,
                "agencies": len(paths.agencies),
                "groups": len(paths.groups),
            }
        )
    )


def main() -> int:
    from inventory_data import machine

    missed = 0
    for name, (units, hosts, weeks, target_s) in SHAPES.items():
        missed += not measure(name, units, hosts, weeks, target_s, machine())
    return 1 if missed else 0


def measure(
    name: str, units: int, hosts: tuple[int, int], weeks: int, target_s: float, machine: str
) -> bool:
    from province_data import province_of, weekly_bundles, write_config

    from secposture.province.db.store import open_store
    from secposture.province.hierarchy import load_collector_config

    with tempfile.TemporaryDirectory(prefix="bench-province-") as tmp:
        t0 = time.perf_counter()
        province = province_of(units, hosts)
        config_path = write_config(province, Path(tmp))
        store = open_store(load_collector_config(config_path))
        for data in weekly_bundles(province, weeks):
            assert store.ingest(data, source="bench").accepted
        store.engine.dispose()
        setup_s = time.perf_counter() - t0
        db_mb = (Path(tmp) / "store" / "collector.sqlite3").stat().st_size / 1e6
        r = run_child(__file__, str(config_path), str(Path(tmp) / "out"))
        if r is None:
            return False
    levels = sorted({u.level.value for u in province.units})
    print(
        f"# {machine}; {len(province.units)} units ({', '.join(levels)}) × {hosts[0]}-{hosts[1]} "
        f"hosts, {weeks} weekly bundles each, SQLite {db_mb:.0f} MB (setup {setup_s:.0f} s); "
        f"load average {r['load']:.1f}"
    )
    print(
        f"province.{name}: {r['report_s']:.1f} s (target ≤ {target_s:g} s), "
        f"CPU {r['cpu_s']:.1f} s; {r['groups']} group pages, {r['agencies']} agency reports"
    )
    print(
        f"province.{name}.ratio: {r['report_s'] / r['read_s']:.2f} × reading and "
        f"verifying the latest bundles ({r['read_s']:.1f} s)"
    )
    print(f"province.{name}.peak_rss: {r['peak_mb']:.0f} MB (target ≤ {TARGET_MB} MB)")
    return bool(r["report_s"] <= target_s and r["peak_mb"] <= TARGET_MB)


if __name__ == "__main__":
    main_or_child(main, child)
