"""The province store at national scale on PostgreSQL (issue #14): 10,000 signed bundles of
4,000 units (20-200 hosts each) through the HTTP API with two collector processes.

Targets: the ingest ≤ 150 s wall; the province overview query (every unit's latest sweep and
the registry, what the province page and the console read first) for 4,000 units ≤ 1 s; the
store's growth per bundle stated. PostgreSQL is Debian's server started for the run in a
temporary directory on a Unix socket (tests/helpers/postgres.py), with its default settings
and fsync on. The uploads come from four client threads, alternating between the two
collectors. Baseline in the same run: verifying 1,000 of the same bundles in this process
(parse + signature + model), scaled to the 10,000, so the ratio shows what HTTP, two
processes and the database add to the work no collector can skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "helpers"))

TARGET_S, OVERVIEW_TARGET_S = 150.0, 1.0
UNITS, BUNDLES, CLIENTS, SAMPLE = 4000, 10_000, 4, 1000


def main() -> int:
    from bundle_helpers import free_port
    from inventory_data import machine
    from postgres import PostgresServer
    from province_data import NOW, province_of, write_config
    from sqlalchemy import text

    from secposture.bundle.envelope import open_bundle, sign_payload
    from secposture.bundle.outbox import post_bundle
    from secposture.province.db.engine import open_database
    from secposture.province.db.store import SqlStore
    from secposture.province.hierarchy import load_collector_config
    from secposture.province.synthetic import make_payload

    with tempfile.TemporaryDirectory(prefix="bench-pg-") as tmp, PostgresServer() as server:
        t0 = time.perf_counter()
        province = province_of(UNITS, (20, 200))
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        files: list[Path] = []
        weeks = -(-BUNDLES // UNITS)
        base = {u.id: make_payload(u, NOW - timedelta(weeks=weeks)) for u in province.units}
        for week in range(weeks):  # on disk, not in memory: 10,000 bundles are ~2 GB
            started = NOW - timedelta(weeks=weeks - 1 - week, hours=20)
            for unit in province.units:
                if len(files) == BUNDLES:
                    break
                payload = base[unit.id]
                sweep = payload.sweep.model_copy(
                    update={"sweep_id": f"{unit.id}-{started:%Y%m%dT%H%M%SZ}-0000",
                            "started": started, "finished": started + timedelta(minutes=20)}
                )  # fmt: skip
                path = inbox / f"{len(files):05d}.bundle"
                path.write_bytes(
                    sign_payload(payload.model_copy(update={"sweep": sweep}), unit.key)
                )
                files.append(path)
        size_gb = sum(p.stat().st_size for p in files) / 1e9
        t1 = time.perf_counter()
        for path in files[:SAMPLE]:
            open_bundle(path.read_bytes(), max_bytes=2**24)
        verify_s = (time.perf_counter() - t1) * BUNDLES / SAMPLE
        url = server.create_database("province")
        ports = [free_port(), free_port()]
        config_path = write_config(province, Path(tmp), ports[0])
        text_config = config_path.read_text("utf-8").replace(
            "[collector]\n", f'[collector]\ndatabase = "{url}"\n', 1
        )
        config_path.write_text(text_config, "utf-8")
        engine = open_database(url)  # the schema and the registry, before the collectors start
        config = load_collector_config(config_path)
        store = SqlStore(engine, config)
        with engine.connect() as conn:
            size0 = conn.scalar(text("SELECT pg_database_size(current_database())"))
        setup_s = time.perf_counter() - t0
        servers = [
            subprocess.Popen(
                [sys.executable, "-m", "secposture", "collector", "serve", "-c",
                 str(config_path), "--host", "127.0.0.1", "--port", str(port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            for port in ports
        ]  # fmt: skip
        try:
            for port in ports:
                wait_up(f"http://127.0.0.1:{port}")
            statuses: list[int] = []
            lock = threading.Lock()

            def client(mine: list[Path], port: int) -> None:
                for path in mine:
                    reply = post_bundle(f"http://127.0.0.1:{port}", path.read_bytes())
                    with lock:
                        statuses.append(reply.status)

            threads = [
                threading.Thread(target=client, args=(files[i::CLIENTS], ports[i % 2]))
                for i in range(CLIENTS)
            ]
            load = [os.getloadavg()[0]]
            t0 = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            ingest_s = time.perf_counter() - t0
            load.append(os.getloadavg()[0])
        finally:
            for proc in servers:
                proc.terminate()
                proc.wait(timeout=20)
        overview = []
        for _ in range(3):
            t0 = time.perf_counter()
            latest = store.latest_rows()
            hierarchy = store.hierarchy
            overview.append(time.perf_counter() - t0)
        with engine.connect() as conn:
            size1 = conn.scalar(text("SELECT pg_database_size(current_database())"))
            stored = conn.scalar(text("SELECT count(*) FROM bundles"))
            findings = conn.scalar(text("SELECT count(*) FROM findings"))
        engine.dispose()
    refused = sum(1 for s in statuses if s != 201)
    growth_kb = (size1 - size0) / stored / 1024 if stored else 0.0
    ok = (
        ingest_s <= TARGET_S
        and min(overview) <= OVERVIEW_TARGET_S
        and stored == BUNDLES
        and not refused
        and len(latest) == len(hierarchy.units) == UNITS
    )
    print(
        f"# {machine()}; PostgreSQL on a Unix socket; {BUNDLES} bundles of {UNITS} units "
        f"(20-200 hosts), {size_gb:.1f} GB (setup {setup_s:.0f} s); {CLIENTS} clients, "
        f"2 collector processes; load average {load[0]:.1f} → {load[1]:.1f}"
    )
    print(
        f"collector.postgres.ingest_10000: {ingest_s:.0f} s (target ≤ {TARGET_S:g} s); "
        f"{BUNDLES / ingest_s:.0f} bundles/s; stored {stored}, refused {refused}, "
        f"{findings} finding rows"
    )
    print(
        f"collector.postgres.ingest_10000.ratio: {ingest_s / verify_s:.2f} × in-process "
        f"verification ({verify_s:.0f} s, from {SAMPLE} of them)"
    )
    print(
        f"collector.postgres.overview_4000: {min(overview):.2f} s best of 3 "
        f"(target ≤ {OVERVIEW_TARGET_S:g} s): every unit's latest sweep and the registry"
    )
    print(
        f"collector.postgres.growth: {growth_kb:.0f} KiB per bundle "
        f"({(size1 - size0) / 1e9:.2f} GB for {stored} bundles; bytes kept compressed)"
    )
    return 0 if ok else 1


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/api/v1/health", timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"collector at {url} did not start") from None
            time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
