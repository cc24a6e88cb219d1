"""One budget for every direct probe of a sweep: probes outstanding, per host, packets per second.

A probe mostly waits (a TCP handshake, a banner, an SNMP answer that may never come), so no
host may wait for another: the probes of all hosts run at once on one pool, and their cost is
one timeout per wave, not one per host. The caps keep that polite: at most ``outstanding``
probes in flight over the whole sweep, at most ``per_host`` at one device (small switches and
printers allow few sessions), and UDP sends paced to ``packets_per_s``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

OUTSTANDING = 64
PER_HOST = 4
PACKETS_PER_S = 2000.0


class Pacer:
    """A token bucket shared by every UDP send of a sweep (``burst`` sends, then the rate)."""

    def __init__(self, per_s: float, burst: int = 128) -> None:
        self.per_s = per_s
        self.burst = float(burst)
        self._tokens = float(burst)
        self._at = time.monotonic()
        self._lock = threading.Lock()

    def take(self) -> None:
        """Wait until one more packet may go out."""
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._at) * self.per_s)
                self._at = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                wait = (1.0 - self._tokens) / self.per_s
            time.sleep(wait)


class ProbeBudget:
    """The probes of one sweep: submitted from any host's stage, run on one shared pool."""

    def __init__(
        self,
        outstanding: int = OUTSTANDING,
        per_host: int = PER_HOST,
        packets_per_s: float = PACKETS_PER_S,
    ) -> None:
        self.outstanding = outstanding
        self.per_host = per_host
        self.pacer = Pacer(packets_per_s)
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._hosts: dict[str, threading.Semaphore] = {}

    def run_all(self, ip: str, probes: Sequence[Callable[[], T]]) -> list[T]:
        """Run the probes of host ``ip`` at once within the caps; results in their order.

        An exception of one probe is raised here (the caller's stage turns it into a ``bug``
        attempt)."""
        return self.run_hosts([(ip, probes)])[0]

    def run_hosts(self, asks: Sequence[tuple[str, Sequence[Callable[[], T]]]]) -> list[list[T]]:
        """The probes of several hosts, all at once within the caps: per host, its results in
        their order. An exception of one probe is raised here."""
        if sum(len(probes) for _ip, probes in asks) <= 1:
            return [[self._at_host(ip, probe) for probe in probes] for ip, probes in asks]
        pool = self._executor()
        futures = [
            [pool.submit(self._at_host, ip, probe) for probe in probes] for ip, probes in asks
        ]
        return [[future.result() for future in host] for host in futures]

    def close(self) -> None:
        """End the pool's threads (the sweep is over); a later probe starts a new pool."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.outstanding, thread_name_prefix="probe")
            return self._pool

    def _at_host(self, ip: str, probe: Callable[[], T]) -> T:
        with self._lock:
            gate = self._hosts.setdefault(ip, threading.BoundedSemaphore(self.per_host))
        with gate:
            return probe()
