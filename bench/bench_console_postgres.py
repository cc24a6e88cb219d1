"""The console's pages and API over real HTTP at national scale on PostgreSQL (issue #15).

4,000 units (20-200 hosts each) in Tây Ninh's proportions, three weekly sweeps each (12,000
signed bundles), ingested in-process into PostgreSQL by one worker process per CPU (the HTTP
ingest is bench_collector_postgres.py's figure, not this one's). PostgreSQL is Debian's server
started for the run in a temporary directory on a Unix socket (tests/helpers/postgres.py), its
default settings, fsync on; one VACUUM ANALYZE after the ingest, the state autovacuum reaches
a few minutes later (the planner's choices differ before it).
`secposture collector console` in a subprocess on loopback; a province account's session (and
a province token for the API). Each page and API call is asked once to warm up (the
overview's first, cold request is printed apart), then 30 times; the figure is its 95th
percentile. Target: the overview, the findings searches (and a group's page, when the console
has one) ≤ 1 s each. Baseline in the same run: `/api/v1/health`, the cost of one HTTP round
trip to the same server with no query.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "helpers"))

from bench_console import PASSWORD, connect, get, log_in, p95  # noqa: E402

TARGET_MS, ROUNDS = 1000.0, 30
UNITS, HOSTS, WEEKS = 4000, (20, 200), 3

# Set in the parent before the worker processes fork (the units' keys are random, so the
# workers must share the parent's province, not make their own).
_PROVINCE: Any = None
_STORE: Any = None


def _open_worker_store(config_path: Path) -> None:
    from secposture.province.db.store import open_store
    from secposture.province.hierarchy import load_collector_config

    global _STORE
    _STORE = open_store(load_collector_config(config_path))


def _ingest_unit(index: int) -> int:
    """Sign and store one unit's weekly sweeps, oldest first; the number accepted."""
    from province_data import NOW

    from secposture.bundle.envelope import sign_payload
    from secposture.province.synthetic import make_payload

    unit = _PROVINCE.units[index]
    base = make_payload(unit, NOW - timedelta(weeks=WEEKS))
    accepted = 0
    for week in range(WEEKS):
        started = NOW - timedelta(weeks=WEEKS - 1 - week, hours=20)
        sweep = base.sweep.model_copy(
            update={"sweep_id": f"{unit.id}-{started:%Y%m%dT%H%M%SZ}-0000",
                    "started": started, "finished": started + timedelta(minutes=20)}
        )  # fmt: skip
        data = sign_payload(base.model_copy(update={"sweep": sweep}), unit.key)
        accepted += _STORE.ingest(data, source="bench").accepted
    return accepted


def main() -> int:
    from bundle_helpers import free_port
    from inventory_data import machine
    from postgres import PostgresServer
    from province_data import province_of, write_config
    from sqlalchemy import text

    from secposture.province.accounts import Role, add_token, add_user
    from secposture.province.db.store import open_store
    from secposture.province.hierarchy import load_collector_config

    global _PROVINCE
    workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-console-pg-") as tmp, PostgresServer() as server:
        t0 = time.perf_counter()
        _PROVINCE = province = province_of(UNITS, HOSTS)
        url = server.create_database("province")
        config_path = write_config(province, Path(tmp))
        config_text = config_path.read_text("utf-8").replace(
            "[collector]\n", f'[collector]\ndatabase = "{url}"\n', 1
        )
        config_path.write_text(config_text, "utf-8")
        store = open_store(load_collector_config(config_path))  # the schema and the registry
        store.engine.dispose()  # no connection of the parent's into the forked workers
        t1 = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(
            workers, _open_worker_store, (config_path,)
        ) as pool:
            accepted = sum(pool.imap_unordered(_ingest_unit, range(len(province.units)), 20))
            pool.close()
            pool.join()
        ingest_s = time.perf_counter() - t1
        assert accepted == len(province.units) * WEEKS, accepted
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
        h = store.hierarchy
        add_user(store.engine, "tinh", Role.PROVINCE, PASSWORD, hierarchy=h)
        token = add_token(store.engine, "bench", Role.PROVINCE, hierarchy=h)
        with store.engine.connect() as conn:
            bundles = conn.scalar(text("SELECT count(*) FROM bundles"))
            finding_rows = conn.scalar(text("SELECT count(*) FROM findings"))
            db_gb = conn.scalar(text("SELECT pg_database_size(current_database())")) / 1e9
        hosts = sum(row["hosts"] for row in store.latest_rows().values())
        store.engine.dispose()
        setup_s = time.perf_counter() - t0
        port = free_port()
        log_path = Path(tmp) / "console.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "secposture", "collector", "console", "-c",
                 str(config_path), "--port", str(port)],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            conn = connect(port)
            cookie = log_in(conn)
            calls = {
                "health (baseline)": ("/api/v1/health", ""),
                "overview": ("/", cookie),
                "findings, every fail": ("/findings?status=fail", cookie),
                "findings, one check": ("/findings?check=net.telnet_exposed&status=fail", cookie),
                "findings, text": ("/findings?status=&q=telnet", cookie),
                "api findings": ("/api/v1/findings?severity=high", f"Bearer {token}"),
            }
            skipped = ""
            if h.groups:
                group = sorted(h.groups)[0]
                status = get(conn, f"/groups/{group}", cookie)
                if status == 200:
                    calls["group page"] = (f"/groups/{group}", cookie)
                else:
                    skipped = f"/groups/{group} answered {status}: the group page is skipped"
            else:
                skipped = "the registry has no groups: the group page is skipped"
            figures, cold = {}, {}
            for name, (path, credential) in calls.items():
                samples = []
                for _ in range(ROUNDS + 1):
                    t2 = time.perf_counter()
                    status = get(conn, path, credential)
                    samples.append((time.perf_counter() - t2) * 1000)
                    assert status == 200, (name, status)
                cold[name] = samples.pop(0)
                figures[name] = p95(samples)
        except BaseException:
            print(log_path.read_text("utf-8", errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            proc.terminate()
            proc.wait(10)
    base = figures.pop("health (baseline)")
    print(
        f"# {machine()}; PostgreSQL on a Unix socket; {len(province.units)} units × "
        f"{HOSTS[0]}-{HOSTS[1]} hosts ({hosts} hosts), {WEEKS} weekly sweeps each, {bundles} "
        f"bundles, {finding_rows} finding rows, {db_gb:.2f} GB (setup {setup_s:.0f} s, of which "
        f"ingest {ingest_s:.0f} s with {workers} processes); {ROUNDS} requests each after one "
        "warm-up, one keep-alive connection"
    )
    for name, ms in figures.items():
        print(
            f"console.postgres.p95.{name.replace(' ', '_').replace(',', '')}: {ms:.0f} ms "
            f"(target ≤ {TARGET_MS:g} ms); {ms / base:.1f} × /api/v1/health ({base:.1f} ms)"
        )
    print(
        f"console.postgres.first.overview: {cold['overview']:.0f} ms, the first request after "
        "the console started (the database's pages still cached from the ingest)"
    )
    if skipped:
        print(f"# {skipped}")
    return 0 if max(figures.values()) <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
