"""Ingesting 1,000 signed bundles (agencies of 20–200 hosts) through the HTTP API.

Target: ≤ 20 s into the default SQLite database (issue #14; ≤ 60 s on one core was issue
#8's). The collector runs as `secposture collector serve` pinned to one core (taskset), the
uploads come one after another from this process over loopback. Measured in the same run:
verifying the same 1,000 bundles in-process (parse + signature + model), so the ratio shows
what HTTP and durable storage add, and the same bundles ingested in-process into the file
store the collector kept before issue #14 and into the SQLite store, side by side. The
collector's own CPU seconds during the uploads and the load average are printed beside the
wall time: on a shared machine the wall time says as much about the neighbours as about the
collector.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

TARGET_S = 20.0
UNITS, WEEKS = 250, 4  # 1,000 bundles


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process ``pid`` has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    from inventory_data import machine
    from province_data import province_of, weekly_bundles, write_config

    from secposture.bundle.envelope import open_bundle
    from secposture.bundle.outbox import post_bundle

    t0 = time.perf_counter()
    province = province_of(UNITS, (20, 200))
    bundles = weekly_bundles(province, WEEKS)
    setup_s = time.perf_counter() - t0
    size_mb = sum(len(b) for b in bundles) / 1e6

    t0 = time.perf_counter()
    for data in bundles:
        open_bundle(data, max_bytes=2**24)
    verify_s = time.perf_counter() - t0
    file_s, sqlite_s = in_process(province, bundles)

    with tempfile.TemporaryDirectory(prefix="bench-collector-") as tmp:
        port = free_port()
        config = write_config(province, Path(tmp), port)
        server = subprocess.Popen(
            ["taskset", "-c", "0", sys.executable, "-m", "secposture", "collector", "serve",
             "-c", str(config)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.sched_setaffinity(0, {1 % (os.cpu_count() or 1)})  # the client on the other core
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(url + "/api/v1/health", timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        print("collector did not start", file=sys.stderr)
                        return 1
                    time.sleep(0.1)
            load = [os.getloadavg()[0]]
            cpu0, t0 = cpu_seconds(server.pid), time.perf_counter()
            refused = [a for a in (post_bundle(url, b) for b in bundles) if a.status != 201]
            ingest_s = time.perf_counter() - t0
            server_cpu_s = cpu_seconds(server.pid) - cpu0
            load.append(os.getloadavg()[0])
            stored = stored_count(config)
        finally:
            server.terminate()
            server.wait(timeout=10)
    ok = ingest_s <= TARGET_S and not refused and stored == len(bundles)
    print(
        f"# {machine()}; {len(bundles)} bundles of {len(province.units)} units, "
        f"{size_mb:.0f} MB in all (setup {setup_s:.0f} s); load average "
        f"{load[0]:.1f} → {load[1]:.1f}"
    )
    print(
        f"collector.ingest_1000: {ingest_s:.1f} s (target ≤ {TARGET_S:g} s on one core); "
        f"{len(bundles) / ingest_s:.0f} bundles/s, collector CPU {server_cpu_s:.1f} s; "
        f"stored {stored}, refused {len(refused)}"
    )
    print(
        f"collector.ingest_1000.ratio: {ingest_s / verify_s:.2f} × in-process verification "
        f"({verify_s:.1f} s)"
    )
    print(
        f"collector.ingest_1000.in_process: SQLite store {sqlite_s:.1f} s, the file store "
        f"before issue #14 {file_s:.1f} s ({sqlite_s / file_s:.2f} ×), no HTTP"
    )
    return 0 if ok else 1


def stored_count(config: Path) -> int:
    from secposture.province.db.store import counts, open_store
    from secposture.province.hierarchy import load_collector_config

    store = open_store(load_collector_config(config))
    try:
        return counts(store.engine).bundles
    finally:
        store.engine.dispose()


def in_process(province: object, bundles: list[bytes]) -> tuple[float, float]:
    """Seconds to ingest ``bundles`` into the old file store and into the SQLite store, each in
    this process and each into a fresh folder."""
    from province_data import write_config

    from secposture.province.db.store import open_store
    from secposture.province.hierarchy import Hierarchy, load_collector_config
    from secposture.province.store import CollectorStore

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        config = load_collector_config(write_config(province, Path(tmp)))  # type: ignore[arg-type]
        files = CollectorStore(Path(tmp) / "files", Hierarchy.from_config(config), max_bytes=2**24)
        t0 = time.perf_counter()
        for data in bundles:
            files.ingest(data, source="bench")
        file_s = time.perf_counter() - t0
        store = open_store(config)
        t0 = time.perf_counter()
        for data in bundles:
            store.ingest(data, source="bench")
        sqlite_s = time.perf_counter() - t0
        store.engine.dispose()
    return file_s, sqlite_s


if __name__ == "__main__":
    sys.exit(main())
