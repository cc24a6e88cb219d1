"""Build labs: ``up()`` makes a whole lab from a topology, ``add_host()`` grows a running one.

Layout of one lab (lab id ``sp`` + 6 hex digits, e.g. ``sp1a2b3c``)::

    <id>-sw     the switch: bridge br0 and one veth end per machine (v-scan, v-h1, ...)
    <id>-scan   the scanner: eth0 on the bridge; every scan runs here
    <id>-hN     one namespace per host: eth0 on the bridge, real services bound to its address

Every veth pair is created from inside the switch namespace with its peer placed straight in
the host namespace, so the root namespace never holds a lab link, address or route. The lab's
files live in ``/run/secposture-lab/<id>/`` (``state.json``, secrets, configs, logs).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from secposture.lab.netns import (
    STATE_ROOT,
    NetnsGuardError,
    lab_id_of_netns,
    netns_inode,
    netns_names,
)
from secposture.lab.processes import (
    ip_batch,
    pids_in_netns,
    process_start_ticks,
    require_root,
    run_ip,
    terminate,
)
from secposture.lab.readiness import wait_ready
from secposture.lab.services import (
    SERVICES,
    ServiceContext,
    ServiceStartError,
    StartedService,
    start_service,
)
from secposture.lab.state import (
    BUILDING_MARKER,
    LabError,
    LabHostState,
    LabSecrets,
    LabState,
    load,
    save,
    write_file,
)
from secposture.lab.teardown import teardown
from secposture.lab.topology import (
    DEFAULT_TOPOLOGY,
    FAKENOS_IOS_LOCKED,
    FAKENOS_VRP,
    LabHost,
    Topology,
    TopologyError,
)

BRIDGE = "br0"
IFACE = "eth0"
DEVICE_USERNAME = "admin"


def _require_programs(services: Iterable[str]) -> None:
    needed = {"ip"}
    for service in services:
        if service not in SERVICES:
            raise LabError(f"unknown lab service {service!r}")
        needed.update(SERVICES[service].programs)
    missing = sorted(p for p in needed if shutil.which(p) is None)
    if missing:
        raise LabError(f"lab needs these programs, which are missing: {', '.join(missing)}")


def _reserve_lab_id() -> tuple[str, Path]:
    """A fresh lab id whose state dir this process now owns (marked as being built)."""
    STATE_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
    taken = {lab_id_of_netns(name) for name in netns_names()}
    for _ in range(100):
        lab_id = f"sp{secrets.token_hex(3)}"
        if lab_id in taken:
            continue
        state_dir = STATE_ROOT / lab_id
        try:
            state_dir.mkdir(mode=0o700)  # atomic: two builders never get the same id
        except FileExistsError:
            continue
        me = os.getpid()
        write_file(state_dir / BUILDING_MARKER, f"{me} {process_start_ticks(me)}\n")
        return lab_id, state_dir
    raise LabError("could not find a free lab id")


def _new_secrets(state_dir: Path, services: Iterable[str] = ()) -> LabSecrets:
    secret_dir = state_dir / "secrets"
    secret_dir.mkdir(mode=0o700)
    password_file = secret_dir / "device-password"
    enable_file = secret_dir / "device-enable-secret"
    password = secrets.token_urlsafe(18)
    enable = secrets.token_urlsafe(18)
    while enable == password:  # pragma: no cover - 144 random bits
        enable = secrets.token_urlsafe(18)
    write_file(password_file, password + "\n")
    write_file(enable_file, enable + "\n")
    made = LabSecrets(
        device_username=DEVICE_USERNAME,
        device_password_file=str(password_file),
        device_enable_secret_file=str(enable_file),
    )
    return _device_audit_secrets(made, state_dir, services)


def _device_audit_secrets(made: LabSecrets, state_dir: Path, services: Iterable[str]) -> LabSecrets:
    """The extra secrets the device-audit hosts need, created once, when first needed."""
    wanted = set(services)
    update: dict[str, str] = {}
    for service, field, name in (
        (FAKENOS_IOS_LOCKED, "locked_password_file", "locked-device-password"),
        (FAKENOS_VRP, "snmp_write_community_file", "snmp-write-community"),
    ):
        if service in wanted and not getattr(made, field):
            path = state_dir / "secrets" / name
            write_file(path, secrets.token_urlsafe(18) + "\n")
            update[field] = str(path)
    return made.model_copy(update=update) if update else made


def _next_host_ns(state: LabState) -> tuple[str, str]:
    """Namespace name and switch-side veth name for the next host (``<id>-hN``, ``v-hN``)."""
    suffixes = (ns.rsplit("-", 1)[1] for ns in state.namespaces)
    index = max((int(s[1:]) for s in suffixes if s[:1] == "h" and s[1:].isdigit()), default=0) + 1
    return f"{state.lab_id}-h{index}", f"v-h{index}"


def _plug_into_switch(state: LabState, ns: str, veth: str, ip: str, mac: str | None) -> None:
    """Create ns's eth0 as the peer of ``veth`` in the switch namespace, address it, bring it up."""
    run_ip(["netns", "add", ns])
    # Created from inside the switch namespace, peer placed straight into the host namespace:
    # the pair never exists in the root namespace.
    ip_batch(
        state.switch_ns,
        [
            f"link add {veth} type veth peer name {IFACE} netns {ns}",
            f"link set {veth} master {state.bridge} up",
        ],
    )
    prefix_len = state.subnet.rsplit("/", 1)[1]
    ip_batch(
        ns,
        [
            *([f"link set {IFACE} address {mac}"] if mac else []),
            f"addr add {ip}/{prefix_len} dev {IFACE}",
            f"link set {IFACE} up",
            "link set lo up",
        ],
    )


def service_context(state: LabState, host: LabHost, ns: str) -> ServiceContext:
    """What a service of ``host`` (in namespace ``ns``) needs to know about the lab."""
    return ServiceContext(
        lab_id=state.lab_id,
        state_dir=Path(state.state_dir),
        netns=ns,
        host=host,
        gateway=next((h.ip for h in state.hosts if h.role == "gateway"), None),
        device_username=state.secrets.device_username,
        device_password_file=Path(state.secrets.device_password_file),
        device_enable_secret_file=Path(state.secrets.device_enable_secret_file),
        locked_password_file=_optional_path(state.secrets.locked_password_file),
        snmp_write_community_file=_optional_path(state.secrets.snmp_write_community_file),
    )


def _optional_path(path: str) -> Path | None:
    return Path(path) if path else None


def _with_started(state: LabState, started: Sequence[StartedService]) -> LabState:
    pids = dict(state.pids)
    ticks = dict(state.pid_start_ticks)
    for service in started:
        pids[service.key] = service.process.pid
        start = process_start_ticks(service.process.pid)
        if start is not None:
            ticks[service.key] = start
    return state.model_copy(update={"pids": pids, "pid_start_ticks": ticks})


def _start_all(state: LabState, hosts: Sequence[tuple[LabHost, str]]) -> list[StartedService]:
    started: list[StartedService] = []
    try:
        for host, ns in hosts:
            context = service_context(state, host, ns)
            started.extend(start_service(context, service) for service in host.services)
    except BaseException:
        for service in started:
            service.process.kill()
        raise
    return started


def _host_state(host: LabHost, ns: str) -> LabHostState:
    return LabHostState(
        name=host.name, role=host.role, ip=host.ip, ns=ns, services=host.services, mac=host.mac
    )


def up(*, topology: Topology = DEFAULT_TOPOLOGY, ready_timeout: float = 20.0) -> LabState:
    """Build a new lab and return once every service answers from the scanner namespace.

    Each call builds an independent lab with its own id, so earlier labs never collide with
    it. A failure part-way tears down whatever was built before the error is raised.
    """
    require_root()
    try:
        topology.validate()
    except TopologyError as exc:
        raise LabError(f"invalid topology: {exc}") from exc
    _require_programs(s for host in topology.hosts for s in host.services)

    lab_id, state_dir = _reserve_lab_id()
    try:
        host_ns = [f"{lab_id}-h{index}" for index in range(1, len(topology.hosts) + 1)]
        state = LabState(
            lab_id=lab_id,
            prefix=f"{lab_id}-",
            topology=topology.name,
            subnet=topology.subnet,
            scanner_ns=f"{lab_id}-scan",
            scanner_ip=topology.scanner_ip,
            scanner_iface=IFACE,
            switch_ns=f"{lab_id}-sw",
            bridge=BRIDGE,
            namespaces=(f"{lab_id}-sw", f"{lab_id}-scan", *host_ns),
            hosts=tuple(map(_host_state, topology.hosts, host_ns)),
            excluded=topology.excluded,
            pids={},
            pid_start_ticks={},
            state_dir=str(state_dir),
            secrets=_new_secrets(state_dir, (s for h in topology.hosts for s in h.services)),
            created_at=datetime.now(UTC),
        )
        # Recorded before anything is built, so a crash part-way leaves a full list to remove.
        save(state)

        run_ip(["netns", "add", state.switch_ns])
        ip_batch(state.switch_ns, [f"link add {BRIDGE} type bridge", f"link set {BRIDGE} up"])
        _plug_into_switch(
            state, state.scanner_ns, "v-scan", topology.scanner_ip, topology.scanner_mac
        )
        for host, ns in zip(topology.hosts, host_ns, strict=True):
            _plug_into_switch(state, ns, f"v-{ns.rsplit('-', 1)[1]}", host.ip, host.mac)

        started = _start_all(state, list(zip(topology.hosts, host_ns, strict=True)))
        state = _with_started(state, started)
        save(state)
        wait_ready(state, started, timeout=ready_timeout)
        (state_dir / BUILDING_MARKER).unlink()
        return state
    except BaseException as exc:
        teardown(lab_id)
        if isinstance(exc, ServiceStartError | subprocess.CalledProcessError | OSError):
            raise LabError(f"lab {lab_id} failed to come up: {exc}") from exc
        raise


def add_host(state: LabState, host: LabHost, *, ready_timeout: float = 20.0) -> LabState:
    """Add a host (namespace, veth on the bridge, its services) to a running lab.

    Returns the updated state (also saved to the state file). On failure the new host is
    removed again and the lab is left as it was.
    """
    require_root()
    current = load(state.lab_id)
    try:
        host.validate()
    except TopologyError as exc:
        raise LabError(f"invalid host: {exc}") from exc
    if host.subnet != current.subnet:
        raise LabError(f"host {host.name!r} is on {host.subnet}, the lab only has {current.subnet}")
    taken = {current.scanner_ip, *(h.ip for h in current.hosts), *(h.name for h in current.hosts)}
    if host.name in taken or host.ip in taken:
        raise LabError(f"lab {current.lab_id} already has {host.name!r} or {host.ip}")
    _require_programs(host.services)

    ns, veth = _next_host_ns(current)
    grown = current.model_copy(
        update={
            "secrets": _device_audit_secrets(
                current.secrets, Path(current.state_dir), host.services
            ),
            "namespaces": (*current.namespaces, ns),
            "hosts": (*current.hosts, _host_state(host, ns)),
        }
    )
    save(grown)
    started: list[StartedService] = []
    try:
        _plug_into_switch(grown, ns, veth, host.ip, host.mac)
        started = _start_all(grown, [(host, ns)])
        grown = _with_started(grown, started)
        save(grown)
        wait_ready(grown, started, timeout=ready_timeout)
        return grown
    except BaseException as exc:
        with suppress(NetnsGuardError):
            terminate(pids_in_netns({netns_inode(ns)}) | {s.process.pid for s in started})
        # Deleting the namespace destroys its eth0 and with it the peer on the bridge.
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        save(current)
        if isinstance(exc, ServiceStartError | OSError):
            raise LabError(f"could not add {host.name!r} to lab {current.lab_id}: {exc}") from exc
        raise
