"""One sweep of an agency's LAN: discover, port-scan, assemble. No verdicts here."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from scanners.context import ScanContext
from scanners.devices.collect import audit_devices, plan_devices
from scanners.discovery.arp import attached_segments
from scanners.nmap.run import nmap_binary
from scanners.runner import HostSweep
from scanners.scope import Scope, ScopeError, sort_ips
from secposture.config.sections import AgencyConfig
from secposture.model.records import (
    Attempt,
    AttemptStatus,
    Host,
    Observation,
    SweepResult,
    new_sweep_id,
    utcnow,
)

Progress = Callable[[str, dict[str, object]], None]
SCOPE_CONCURRENCY = 4  # scopes discovered at once; their hosts share the scan pool


class ScannerUnavailable(RuntimeError):
    """The sweep cannot run on this machine (nmap missing, scope refused); one line for the user."""


def _quiet(_event: str, _data: dict[str, object]) -> None:
    pass


def guard_namespace(config: AgencyConfig) -> None:
    """Refuse to send a packet outside the namespace the config pins (the lab's scanner)."""
    if config.scan.netns:
        from scanners.netns import require_inside

        require_inside(config.scan.netns)


def eta_s(done: int, total: int, scanning_for: float, discovering: bool) -> float | None:
    """Seconds left at the rate hosts have been finishing; None until one has (or while
    scopes are still being discovered, when the total is not known yet)."""
    if discovering or done == 0 or scanning_for <= 0:
        return None
    return round((total - done) * scanning_for / done, 1)


def run_sweep(config: AgencyConfig, *, progress: Progress = _quiet) -> SweepResult:
    """Sweep the config's scopes minus exclusions; every failure becomes an attempt."""
    guard_namespace(config)
    # Device credentials are read before anything is sent: a bad reference costs no sweep.
    devices = plan_devices(config)
    scan = config.scan
    if nmap_binary() is None:
        raise ScannerUnavailable("nmap is not installed (Debian: apt-get install nmap)")
    try:
        scope = Scope(scan.scopes, scan.exclude, allow_public=scan.allow_public)
    except ScopeError as exc:
        raise ScannerUnavailable(str(exc)) from None
    started = utcnow()
    t0 = time.monotonic()
    ctx = ScanContext(
        scope=scope,
        profile=scan.profile.value,
        host_timeout_s=scan.host_timeout_s,
        deadline=t0 + scan.sweep_timeout_s,
        privileged=os.geteuid() == 0,
    )
    progress("start", {"scopes": ", ".join(scan.scopes), "profile": scan.profile.value})
    if not ctx.privileged:
        progress("unprivileged", {})

    segments = attached_segments() if ctx.privileged else []
    sweep = HostSweep(
        ctx, scope, segments, concurrency=scan.concurrency, scope_concurrency=SCOPE_CONCURRENCY
    )
    hosts: dict[str, Host] = {}
    order: list[str] = []
    observations: list[Observation] = []
    attempts: list[Attempt] = []
    scopes_left = len(sweep.parts)
    done = 0
    first_host_at: float | None = None

    def state(elapsed: float) -> dict[str, object]:
        scanning_for = elapsed - (first_host_at - t0) if first_host_at is not None else 0.0
        return {
            "done": done,
            "total": len(order),
            "elapsed": round(elapsed, 1),
            "eta": eta_s(done, len(order), scanning_for, scopes_left > 0),
            "scopes_left": scopes_left,
        }

    for event in sweep.events():
        elapsed = time.monotonic() - t0
        if event.kind == "discovered":
            scopes_left -= 1
            attempts += event.attempts
            for host in event.hosts:
                hosts[host.ip] = host
                order.append(host.ip)
            if event.hosts and first_host_at is None:
                first_host_at = time.monotonic()
            progress(
                "discovered",
                {"scope": event.scope, "count": len(event.hosts), **state(elapsed)},
            )
        elif event.kind == "scanned" and event.scan is not None:
            done += 1
            hosts[event.scan.host.ip] = event.scan.host
            observations += event.scan.observations
            attempts += event.scan.attempts
            progress("scanned", {"host": event.scan.host.ip, **state(elapsed)})
        else:
            progress("scanning", state(elapsed))

    # --- network-device configuration audit (issue #4) --------------------------------
    # After the port scan, so that an unlisted host that looks like a switch is named.
    audit = audit_devices(
        devices,
        [hosts[ip] for ip in order],
        observations,
        scope=scope,
        deadline=ctx.deadline,
        progress=progress,
    )
    observations += audit.observations
    attempts += audit.attempts
    # --- end of the device audit --------------------------------------------------------

    complete = not any(a.status is AttemptStatus.ERROR for a in attempts)
    return SweepResult(
        sweep_id=new_sweep_id(config.agency.id),
        agency_id=config.agency.id,
        profile=scan.profile.value,
        scopes=tuple(scan.scopes),
        exclude=tuple(scan.exclude),
        started=started,
        finished=utcnow(),
        hosts=tuple(hosts[ip] for ip in sort_ips(order)),
        observations=tuple(observations),
        attempts=tuple(attempts),
        complete=complete,
    )
