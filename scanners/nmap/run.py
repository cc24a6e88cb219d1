"""Running nmap: one process with a hard time limit, XML on stdout, one attempt per host.

We run nmap ourselves (subprocess with a hard time limit, XML on stdout) and hand the XML to
python-nmap's parser: python-nmap's own ``scan()`` waits forever by default and checks its
arguments with ``assert`` (libraries.md B1). One nmap process may cover many hosts (a batch):
nmap parallelises hosts itself, and one process per host costs ~0.2 s of start-up each, which
on a /22 is most of the sweep. Each host of a batch still gets its own attempt.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

from scanners.attempt import Clock, completed, failed, nmap_exit_reason, reason_for
from scanners.context import ScanContext, Stopped
from scanners.nmap.parse import NmapParseError, parse_nmap_xml
from secposture.model.records import Attempt, Observation, Reason

# nmap marks a host it abandoned at --host-timeout with timedout="true" on <host>.
TIMED_OUT_HOST = re.compile(
    r'<host [^>]*timedout="true"[^>]*>\s*(?:<status[^>]*/>\s*)?<address addr="([^"]+)"'
)


def nmap_binary() -> str | None:
    """Where nmap is installed, or None when it is not on PATH."""
    return shutil.which("nmap")


def nmap_argv(nmap: str, args: list[str], targets: list[str]) -> list[str]:
    """The full command line: XML on stdout, the profile's arguments, then the targets."""
    return [nmap, "-oX", "-", *args, *targets]


@dataclass(slots=True)
class NmapRun:
    """One nmap process over one or more hosts: each host's parsed entry or its attempt."""

    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    attempts: dict[str, Attempt] = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    xml: str = ""
    # Evidence from direct probes run with this stage (e.g. the SNMP fallback), per host.
    extra: dict[str, list[Observation]] = field(default_factory=dict)

    def host(self, ip: str) -> dict[str, Any] | None:
        """The parsed entry of ``ip`` when its stage completed, else None."""
        attempt = self.attempts.get(ip)
        return self.data.get(ip) if attempt is not None and attempt.ok else None


def run_nmap(
    ctx: ScanContext, stage: str, targets: list[str], args: list[str], *, timeout_s: float
) -> NmapRun:
    """Run nmap on in-scope targets with a hard time limit; never raises for tool trouble."""
    clock = Clock()
    run = NmapRun()
    targets = [ctx.scope.require(ip) for ip in targets]  # OutOfScopeError: a bug, never sent

    def fail_all(reason: Reason, detail: str) -> NmapRun:
        ended = clock.stop()
        for ip in targets:
            run.attempts[ip] = failed(stage, ip, reason, detail, clock=ended)
        run.duration_s = ended.elapsed()
        return run

    nmap = nmap_binary()
    if nmap is None:
        return fail_all(Reason.TOOL_MISSING, "nmap is not installed")
    run.argv = nmap_argv(nmap, args, targets)
    limit = ctx.limit(timeout_s)
    if limit <= 0:
        return fail_all(Reason.TIMEOUT, "sweep time limit reached before this stage")
    try:
        proc = ctx.procs.run(run.argv, timeout_s=limit)
    except subprocess.TimeoutExpired as exc:
        return fail_all(reason_for(exc), f"nmap overran {limit:.0f} s and was stopped")
    except Stopped as exc:
        return fail_all(reason_for(exc), "the sweep was stopped")
    except OSError as exc:
        return fail_all(reason_for(exc, starting_tool=True), f"nmap could not be started: {exc}")
    if proc.returncode < 0:  # a signal from outside (the agent stopping the sweep)
        return fail_all(Reason.INTERRUPTED, f"nmap was stopped by signal {-proc.returncode}")
    if proc.returncode != 0 or not proc.stdout.strip():
        return fail_all(
            nmap_exit_reason(proc.stderr),
            proc.stderr.strip()[:500] or f"nmap exited {proc.returncode}",
        )
    run.xml = proc.stdout
    try:
        parsed = parse_nmap_xml(proc.stdout)
    except NmapParseError as exc:
        return fail_all(reason_for(exc), str(exc))
    timed_out = set(TIMED_OUT_HOST.findall(proc.stdout))
    ended = clock.stop()
    for ip in targets:
        data = parsed.get(ip)
        if ip in timed_out:
            reason, detail = Reason.TIMEOUT, "nmap gave up on the host (host timeout)"
        elif data is None:
            reason, detail = Reason.UNREACHABLE, "nmap reported nothing for the host"
        else:
            run.data[ip] = data
            run.attempts[ip] = completed(stage, ip, clock=ended)
            continue
        run.attempts[ip] = failed(stage, ip, reason, detail, clock=ended)
    run.duration_s = ended.elapsed()
    return run
