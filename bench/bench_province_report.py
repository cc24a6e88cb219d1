"""The province report for 200 agencies × 50 hosts (issue #8): ≤ 20 s, peak memory ≤ 500 MB.

The store holds four weekly bundles per agency (800 bundles, for the trend). The report
(province page, group pages and each agency's latest report) is written by a child
process so that its peak RSS is its own. Baseline, in the same run: reading and verifying
the 200 latest bundles alone, the part no report can skip. The report's CPU seconds and the load
average are printed beside the wall time (the machine is shared).
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

TARGET_S, TARGET_MB = 20.0, 500
UNITS, HOSTS, WEEKS = 200, 50, 4


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(config_path: str, out: str) -> None:
    from province_data import NOW

    from secposture.province.hierarchy import Hierarchy, load_collector_config
    from secposture.province.pages import write_aggregate
    from secposture.province.store import CollectorStore

    config = load_collector_config(config_path)
    store = CollectorStore(config.collector.store, Hierarchy.from_config(config), max_bytes=2**24)
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
    from province_data import province_of, weekly_bundles, write_config

    from secposture.province.hierarchy import Hierarchy, load_collector_config
    from secposture.province.store import CollectorStore

    with tempfile.TemporaryDirectory(prefix="bench-province-") as tmp:
        t0 = time.perf_counter()
        province = province_of(UNITS, (HOSTS, HOSTS))
        config_path = write_config(province, Path(tmp))
        config = load_collector_config(config_path)
        store = CollectorStore(
            config.collector.store, Hierarchy.from_config(config), max_bytes=2**24
        )
        for data in weekly_bundles(province, WEEKS):
            store.ingest(data, source="bench")
        setup_s = time.perf_counter() - t0
        r = run_child(__file__, str(config_path), str(Path(tmp) / "out"))
        if r is None:
            return 1
    ok = r["report_s"] <= TARGET_S and r["peak_mb"] <= TARGET_MB
    print(
        f"# {machine()}; {len(province.units)} units × {HOSTS} hosts, {WEEKS} weekly "
        f"bundles each (setup {setup_s:.0f} s); load average {r['load']:.1f}"
    )
    print(
        f"province.report_200x50: {r['report_s']:.1f} s (target ≤ {TARGET_S:g} s), "
        f"CPU {r['cpu_s']:.1f} s; "
        f"{r['groups']} group pages, {r['agencies']} agency reports"
    )
    print(
        f"province.report_200x50.ratio: {r['report_s'] / r['read_s']:.2f} × reading and "
        f"verifying the latest bundles ({r['read_s']:.1f} s)"
    )
    print(f"province.report_200x50.peak_rss: {r['peak_mb']:.0f} MB (target ≤ {TARGET_MB} MB)")
    return 0 if ok else 1


if __name__ == "__main__":
    main_or_child(main, child)
