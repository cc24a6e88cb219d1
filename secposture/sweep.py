"""One sweep of an agency's LAN: discover, port-scan, assemble. No verdicts here."""

from __future__ import annotations

import secrets
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from scanners.discovery import discover
from scanners.host_scan import HostScan, scan_host
from scanners.scope import Scope
from secposture.config import AgencyConfig
from secposture.models import (
    Attempt,
    AttemptStatus,
    Host,
    Observation,
    Reason,
    SweepResult,
    utcnow,
)

Progress = Callable[[str, dict[str, object]], None]


def _quiet(_event: str, _data: dict[str, object]) -> None:
    pass


def new_sweep_id(agency_id: str) -> str:
    return f"{agency_id}-{utcnow():%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


def guard_namespace(config: AgencyConfig) -> None:
    """Refuse to send a packet outside the namespace the config pins (the lab's scanner)."""
    if config.scan.netns:
        from secposture.lab.netns import require_inside

        require_inside(config.scan.netns)


def run_sweep(config: AgencyConfig, *, progress: Progress = _quiet) -> SweepResult:
    """Sweep the config's scopes minus exclusions; every failure becomes an attempt."""
    guard_namespace(config)
    scan = config.scan
    scope = Scope(scan.scopes, scan.exclude)
    started = utcnow()
    t0 = time.monotonic()
    progress("start", {"scopes": ", ".join(scan.scopes), "profile": scan.profile.value})

    found = discover(scope, timeout_s=min(scan.sweep_timeout_s, 1800))
    hosts = found.ordered()
    attempts: list[Attempt] = list(found.attempts)
    progress("discovered", {"count": len(hosts)})

    scanned: dict[str, Host] = {h.ip: h for h in hosts}
    observations: list[Observation] = []
    deadline = t0 + scan.sweep_timeout_s
    with ThreadPoolExecutor(max_workers=scan.concurrency, thread_name_prefix="scan") as pool:
        pending: dict[Future[HostScan], Host] = {
            pool.submit(
                scan_host, h.ip, scan.profile.value, host_timeout_s=scan.host_timeout_s, base=h
            ): h
            for h in hosts
        }
        done_count = 0
        while pending:
            remaining = deadline - time.monotonic()
            done, _ = wait(pending, timeout=max(remaining, 0), return_when=FIRST_COMPLETED)
            if not done:
                for fut, h in pending.items():
                    fut.cancel()
                    attempts.append(
                        Attempt(
                            stage="ports",
                            target=h.ip,
                            status=AttemptStatus.ERROR,
                            reason=Reason.TIMEOUT,
                            detail="sweep time limit reached",
                        )
                    )
                break
            for fut in done:
                host = pending.pop(fut)
                done_count += 1
                try:
                    result = fut.result()
                except Exception as exc:  # a bug in our code must not lose the sweep
                    attempts.append(
                        Attempt(
                            stage="ports",
                            target=host.ip,
                            status=AttemptStatus.ERROR,
                            reason=Reason.BUG,
                            detail=f"{exc!r}: {traceback.format_exc(limit=3)[-400:]}",
                        )
                    )
                    continue
                scanned[host.ip] = result.host
                observations += result.observations
                attempts += result.attempts
                progress(
                    "scanned",
                    {"done": done_count, "total": len(hosts), "elapsed": time.monotonic() - t0},
                )

    complete = not any(a.status is AttemptStatus.ERROR for a in attempts)
    return SweepResult(
        sweep_id=new_sweep_id(config.agency.id),
        agency_id=config.agency.id,
        profile=scan.profile.value,
        scopes=tuple(scan.scopes),
        exclude=tuple(scan.exclude),
        started=started,
        finished=utcnow(),
        hosts=tuple(scanned[h.ip] for h in hosts),
        observations=tuple(observations),
        attempts=tuple(attempts),
        complete=complete,
    )
