"""Runs discovery and the host phases of several scopes on bounded pools, as events.

Scopes are discovered concurrently (a few at a time); as soon as one scope's hosts are known
their port discovery starts, in batches, on the shared scan pool, so a slow routed scope does
not hold up an attached one. Each host is finished (assembled) when its TCP, detail, UDP and
name stages are all in. The caller (``secposture.job.sweep``) iterates the events in its own
thread, which is where progress is reported and where a stop may be raised; closing the
iterator early kills the nmap processes still running.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from scanners.attempt import bug, failed
from scanners.context import ScanContext
from scanners.discovery.arp import Segment
from scanners.discovery.run import Discovery, discover
from scanners.host_scan import (
    HostScan,
    assemble,
    detail_groups,
    host_details,
    port_discovery,
    tcp_stage_attempt,
    udp_scan,
)
from scanners.nmap.parse import open_ports
from scanners.nmap.profiles import PROFILES, tcp_discovery_ports
from scanners.nmap.run import NmapRun
from scanners.probes.names import NameAnswer, resolve_names
from scanners.scope import Scope, sort_ips
from secposture.model.records import Attempt, Host, Reason

HEARTBEAT_S = 5.0


@dataclass(slots=True)
class Event:
    """What the sweep learnt: a scope discovered, a host scanned, or a heartbeat tick."""

    kind: str  # "discovered", "scanned" or "tick"
    scope: str = ""
    hosts: list[Host] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    scan: HostScan | None = None


@dataclass(slots=True)
class _HostState:
    host: Host
    tcp_attempt: Attempt | None = None
    tcp_known: bool = False
    detail: HostScan | None = None
    detail_done: bool = False
    udp: NmapRun | None = None
    udp_done: bool = False
    name: NameAnswer | None = None
    names_done: bool = False
    finished: bool = False

    @property
    def ready(self) -> bool:
        return self.detail_done and self.udp_done and self.names_done and not self.finished


class HostSweep:
    """The scanning half of one sweep over ``scope`` (discovery, ports, evidence)."""

    def __init__(
        self,
        ctx: ScanContext,
        scope: Scope,
        segments: list[Segment],
        *,
        concurrency: int,
        scope_concurrency: int = 4,
    ) -> None:
        self.ctx = ctx
        self.parts = scope.parts()
        self.segments = segments
        self.concurrency = concurrency
        self.scope_concurrency = max(1, min(scope_concurrency, len(self.parts)))
        spec = PROFILES[ctx.profile]
        self.batch = spec.batch
        tcp = tcp_discovery_ports(ctx.profile)
        self.ports_probed = len(tcp) if tcp else spec.tcp_top
        self.states: dict[str, _HostState] = {}
        self._futures: dict[Future[Any], tuple[str, Any]] = {}
        self._extra: dict[str, list[Attempt]] = {}  # bug attempts of stages with no result

    def events(self) -> Iterator[Event]:
        """Discovery and scan events until every host is finished or time runs out."""
        scan_pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="scan")
        # Discovery and name lookups mostly wait on the network: their own small pool, so
        # they never queue behind nmap runs.
        wait_pool = ThreadPoolExecutor(self.scope_concurrency + 2, thread_name_prefix="discover")
        self._pools = (scan_pool, wait_pool)
        finished_normally = False
        try:
            for part in self.parts:
                self._submit(wait_pool, "discovered", part, discover, part, self.ctx, self.segments)
            while self._futures:
                left = self.ctx.remaining()
                if left <= 0:
                    yield from self._time_is_up()
                    break
                done, _ = wait(
                    self._futures, timeout=min(HEARTBEAT_S, left), return_when=FIRST_COMPLETED
                )
                if not done:
                    yield Event("tick")
                    continue
                for fut in done:
                    kind, payload = self._futures.pop(fut)
                    yield from self._handle(kind, payload, fut)
            finished_normally = True
        finally:
            if not finished_normally:
                self.ctx.procs.stop()
            for pool in self._pools:
                pool.shutdown(wait=finished_normally, cancel_futures=True)
            self.ctx.probes.close()

    # -- scheduling ------------------------------------------------------------------------
    def _submit(
        self, pool: ThreadPoolExecutor, kind: str, payload: Any, fn: Callable[..., Any], *args: Any
    ) -> None:
        self._futures[pool.submit(fn, *args)] = (kind, payload)

    def _start_hosts(self, hosts: list[Host]) -> None:
        scan_pool, wait_pool = self._pools
        ips = [h.ip for h in hosts]
        batches = [ips[i : i + self.batch] for i in range(0, len(ips), self.batch)]
        # Every TCP batch before any UDP one: phase 3, the long part of a sweep, waits on its
        # TCP batch and on nothing from UDP; a TCP batch queued behind UDP runs delays it.
        for batch in batches:
            self._submit(scan_pool, "tcp", batch, port_discovery, self.ctx, batch)
        for batch in batches:
            self._submit(scan_pool, "udp", batch, udp_scan, self.ctx, batch)
        name_wait = PROFILES[self.ctx.profile].name_wait_s
        for batch in batches:
            name_timeout = min(name_wait, max(self.ctx.remaining(), 0.1))
            lookup = partial(resolve_names, timeout=name_timeout)
            self._submit(wait_pool, "names", batch, lookup, self.ctx.scope, batch)

    # -- results -----------------------------------------------------------------------------
    def _handle(self, kind: str, payload: Any, fut: Future[Any]) -> Iterator[Event]:
        try:
            result = fut.result()
        except Exception as exc:  # a bug in our code must not lose the sweep
            yield from self._failed(kind, payload, exc)
            return
        if kind == "discovered":
            yield from self._discovered(payload, result)
        elif kind == "tcp":
            run = result
            open_hosts: list[tuple[Host, dict[str, Any]]] = []
            for ip in payload:
                state = self.states[ip]
                state.tcp_attempt, state.tcp_known = tcp_stage_attempt(run, ip, self.ports_probed)
                data = run.host(ip)
                if state.tcp_known and data is not None and open_ports(data):
                    open_hosts.append((state.host, data))
                else:
                    state.detail_done = True
            for group in detail_groups(open_hosts):
                ips = [host.ip for host, _data in group]
                self._submit(self._pools[0], "detail", ips, host_details, self.ctx, group)
        elif kind == "udp":
            for ip in payload:
                self.states[ip].udp, self.states[ip].udp_done = result, True
        elif kind == "names":
            for ip in payload:
                self.states[ip].name, self.states[ip].names_done = result.get(ip), True
        elif kind == "detail":
            for ip, scan in zip(payload, result, strict=True):
                self.states[ip].detail, self.states[ip].detail_done = scan, True
        yield from self._finish_ready()

    def _discovered(self, part: Scope, found: Discovery) -> Iterator[Event]:
        fresh = [h for h in found.ordered() if h.ip not in self.states]
        for host in fresh:
            self.states[host.ip] = _HostState(host)
        self._start_hosts(fresh)
        yield Event(
            "discovered",
            scope=", ".join(map(str, part.networks)),
            hosts=fresh,
            attempts=found.attempts,
        )

    def _failed(self, kind: str, payload: Any, exc: Exception) -> Iterator[Event]:
        if kind == "discovered":
            label = ", ".join(map(str, payload.networks))
            yield Event("discovered", scope=label, attempts=[bug("discovery", label, exc)])
            return
        ips = [payload] if isinstance(payload, str) else list(payload)
        for ip in ips:
            state = self.states[ip]
            broken = bug(f"ports.{kind}", ip, exc)
            if kind == "tcp":
                state.tcp_attempt, state.detail_done = broken, True
            elif kind == "detail":
                state.detail = HostScan(state.host, attempts=[broken])
                state.detail_done = True
            elif kind == "udp":
                state.udp_done = True
                self._extra.setdefault(ip, []).append(broken)
            else:
                state.names_done = True
        yield from self._finish_ready()

    def _finish_ready(self) -> Iterator[Event]:
        for ip in sort_ips(ip for ip, s in self.states.items() if s.ready):
            yield Event("scanned", scan=self._finish(self.states[ip]))

    def _finish(self, state: _HostState) -> HostScan:
        state.finished = True
        scan = assemble(
            state.host,
            tcp_known=state.tcp_known,
            detail=state.detail,
            udp=state.udp,
            name=state.name,
            udp_ports=PROFILES[self.ctx.profile].udp_ports,
        )
        if state.tcp_attempt is not None:
            scan.attempts.insert(0, state.tcp_attempt)
        scan.attempts += self._extra.get(state.host.ip, [])
        return scan

    def _time_is_up(self) -> Iterator[Event]:
        """The sweep's time limit: stop every process, finish every host with what is known."""
        self.ctx.procs.stop()
        unfinished = list(self._futures.values())
        for fut in self._futures:
            fut.cancel()
        self._futures.clear()
        for kind, part in unfinished:
            if kind == "discovered":  # a scope still being discovered: say so, not nothing
                label = ", ".join(map(str, part.networks))
                why = "sweep time limit reached before this scope's discovery ended"
                late = failed("discovery", label, Reason.TIMEOUT, why)
                yield Event("discovered", scope=label, attempts=[late])
        for ip in sort_ips(ip for ip, s in self.states.items() if not s.finished):
            state = self.states[ip]
            if not state.detail_done:
                # Services half-known are not known: no check may pass on a partial list.
                state.tcp_known = False
            state.detail_done = state.udp_done = state.names_done = True
            scan = self._finish(state)
            why = "sweep time limit reached before this host was finished"
            scan.attempts.append(failed("ports", ip, Reason.TIMEOUT, why))
            yield Event("scanned", scan=scan)
