"""Build, list and tear down the demo commune LAN made of network namespaces.

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
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from secposture.lab.netns import (
    LAB_ID_RE,
    STATE_FILE_NAME,
    STATE_ROOT,
    NetnsGuardError,
    lab_id_of_netns,
    netns_inode,
    netns_names,
)
from secposture.lab.services import (
    REQUIRED_PROGRAMS,
    ServiceContext,
    ServiceStartError,
    StartedService,
    start_service,
    wait_ready,
)
from secposture.lab.topology import (
    DEFAULT_TOPOLOGY,
    DEVICE_PLATFORMS,
    FAKENOS_IOS_LOCKED,
    FAKENOS_VRP,
    LabHost,
    Topology,
    TopologyError,
)

BRIDGE = "br0"
IFACE = "eth0"
DEVICE_USERNAME = "admin"
_BUILDING_MARKER = "building"
# A state dir with neither state.json nor a build marker is left alone this long (it may be
# a lab being reserved right now by another process).
_FRESH_DIR_GRACE_S = 60.0
_TERM_GRACE_S = 0.5
_KILL_GRACE_S = 1.5


class LabError(RuntimeError):
    """The lab could not be built, found or torn down."""


class LabHostState(BaseModel):
    """One host of a running lab."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    role: str
    ip: str
    ns: str
    services: tuple[str, ...]
    mac: str | None = None


class LabSecrets(BaseModel):
    """Where the lab's secrets are: file paths only, never the values."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    device_username: str
    device_password_file: str
    device_enable_secret_file: str
    # Only in labs with the device-audit hosts: the locked switch's own password (configs
    # never reference it) and the Huawei switch's SNMP write community. Empty otherwise.
    locked_password_file: str = ""
    snmp_write_community_file: str = ""


class LabState(BaseModel):
    """A lab on this machine, as recorded in ``/run/secposture-lab/<lab_id>/state.json``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lab_id: str
    prefix: str
    topology: str
    subnet: str
    scanner_ns: str
    scanner_ip: str
    scanner_iface: str
    switch_ns: str
    bridge: str
    namespaces: tuple[str, ...]
    hosts: tuple[LabHostState, ...]
    excluded: tuple[str, ...]
    pids: dict[str, int]
    pid_start_ticks: dict[str, int]
    state_dir: str
    secrets: LabSecrets
    created_at: datetime

    @property
    def state_file(self) -> Path:
        """Path of this lab's ``state.json``."""
        return Path(self.state_dir) / STATE_FILE_NAME

    def host(self, name: str) -> LabHostState:
        """The host called ``name``; ``KeyError`` if the lab has none."""
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)

    def credential_refs(self) -> dict[str, str]:
        """The core switch's credentials as a config would reference them (``file:PATH``)."""
        return {
            "username": self.secrets.device_username,
            "password": f"file:{self.secrets.device_password_file}",
            "enable_secret": f"file:{self.secrets.device_enable_secret_file}",
        }

    def secret_values(self) -> list[str]:
        """Every secret value this lab uses, read from its files (for leak checks in tests)."""
        paths = (
            self.secrets.device_password_file,
            self.secrets.device_enable_secret_file,
            self.secrets.locked_password_file,
            self.secrets.snmp_write_community_file,
        )
        return [Path(path).read_text(encoding="utf-8").strip() for path in paths if path]


# --------------------------------------------------------------------------- small helpers


def _require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("lab needs root")


def _require_programs(topology_services: Iterable[str]) -> None:
    needed = {"ip"}
    for service in topology_services:
        if service not in REQUIRED_PROGRAMS:
            raise LabError(f"unknown lab service {service!r}")
        needed.update(REQUIRED_PROGRAMS[service])
    missing = sorted(p for p in needed if shutil.which(p) is None)
    if missing:
        raise LabError(f"lab needs these programs, which are missing: {', '.join(missing)}")


def _run_ip(args: Sequence[str], *, stdin: str | None = None) -> None:
    result = subprocess.run(["ip", *args], input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise LabError(f"`ip {' '.join(args)}` failed: {detail}")


def _ip_batch(netns: str | None, lines: Sequence[str]) -> None:
    """Run several ``ip`` commands in one process, inside ``netns`` when given."""
    if lines:
        _run_ip([*(["-n", netns] if netns else []), "-batch", "-"], stdin="\n".join(lines) + "\n")


def _proc_stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # The command name may hold spaces and parentheses; the fields after the last ')' do not.
    return raw.rpartition(")")[2].split()


def process_start_ticks(pid: int) -> int | None:
    """Start time of a process in clock ticks since boot (tells a reused pid apart)."""
    fields = _proc_stat_fields(pid)
    return int(fields[19]) if fields and len(fields) > 19 else None


def _alive(pid: int) -> bool:
    # Reap it first if it is our own child, or it would linger as a zombie.
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    fields = _proc_stat_fields(pid)
    return fields is not None and bool(fields) and fields[0] not in {"Z", "X"}


def pid_alive(pid: int, start_ticks: int | None = None) -> bool:
    """True while ``pid`` runs (and, given ``start_ticks``, is still the same process)."""
    if not _alive(pid):
        return False
    return start_ticks is None or process_start_ticks(pid) == start_ticks


def _pids_in_netns(inodes: set[int]) -> set[int]:
    """Processes whose network namespace is one of ``inodes`` (like ``ip netns pids``)."""
    found: set[int] = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            link = os.readlink(f"/proc/{entry.name}/ns/net")  # "net:[4026532301]"
        except OSError:
            continue
        if int(link[5:-1]) in inodes:
            found.add(int(entry.name))
    found.discard(os.getpid())
    return found


def _terminate(pids: set[int]) -> None:
    """SIGTERM, a short grace, then SIGKILL; returns when all are gone (or after the grace)."""
    for sig, grace in ((signal.SIGTERM, _TERM_GRACE_S), (signal.SIGKILL, _KILL_GRACE_S)):
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while True:
            pids = {pid for pid in pids if _alive(pid)}
            if not pids or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        if not pids:
            return


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _save(state: LabState) -> None:
    # Write then rename: a reader (the netns guard, another process) never sees half a file.
    tmp = state.state_file.with_suffix(".tmp")
    _write_private(tmp, state.model_dump_json(indent=2) + "\n")
    os.replace(tmp, state.state_file)


def _load_dir(state_dir: Path) -> LabState | None:
    try:
        return LabState.model_validate_json((state_dir / STATE_FILE_NAME).read_bytes())
    except (OSError, ValidationError):
        return None


def load(lab_id: str) -> LabState:
    """The recorded state of lab ``lab_id``; ``LabError`` if there is no such lab."""
    if not LAB_ID_RE.match(lab_id):
        raise LabError(f"{lab_id!r} is not a lab id")
    state = _load_dir(STATE_ROOT / lab_id)
    if state is None:
        raise LabError(f"no lab {lab_id!r} on this machine")
    return state


def status() -> list[LabState]:
    """Every lab recorded on this machine, oldest first."""
    if not STATE_ROOT.is_dir():
        return []
    states = [
        state
        for entry in sorted(STATE_ROOT.iterdir())
        if LAB_ID_RE.match(entry.name) and (state := _load_dir(entry)) is not None
    ]
    return sorted(states, key=lambda s: s.created_at)


# --------------------------------------------------------------------------- building


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
        _write_private(state_dir / _BUILDING_MARKER, f"{me} {process_start_ticks(me)}\n")
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
    _write_private(password_file, password + "\n")
    _write_private(enable_file, enable + "\n")
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
            _write_private(path, secrets.token_urlsafe(18) + "\n")
            update[field] = str(path)
    return made.model_copy(update=update) if update else made


def _gateway_of(hosts: Iterable[LabHostState]) -> str | None:
    return next((h.ip for h in hosts if h.role == "gateway"), None)


def _next_host_ns(state: LabState) -> tuple[str, str]:
    """Namespace name and switch-side veth name for the next host (``<id>-hN``, ``v-hN``)."""
    suffixes = (ns.rsplit("-", 1)[1] for ns in state.namespaces)
    index = max((int(s[1:]) for s in suffixes if s[:1] == "h" and s[1:].isdigit()), default=0) + 1
    return f"{state.lab_id}-h{index}", f"v-h{index}"


def _plug_into_switch(state: LabState, ns: str, veth: str, ip: str, mac: str | None) -> None:
    """Create ns's eth0 as the peer of ``veth`` in the switch namespace, address it, bring it up."""
    _run_ip(["netns", "add", ns])
    # Created from inside the switch namespace, peer placed straight into the host namespace:
    # the pair never exists in the root namespace.
    _ip_batch(
        state.switch_ns,
        [
            f"link add {veth} type veth peer name {IFACE} netns {ns}",
            f"link set {veth} master {state.bridge} up",
        ],
    )
    prefix_len = state.subnet.rsplit("/", 1)[1]
    _ip_batch(
        ns,
        [
            *([f"link set {IFACE} address {mac}"] if mac else []),
            f"addr add {ip}/{prefix_len} dev {IFACE}",
            f"link set {IFACE} up",
            "link set lo up",
        ],
    )


def _service_context(state: LabState, host: LabHost, ns: str) -> ServiceContext:
    return ServiceContext(
        lab_id=state.lab_id,
        state_dir=Path(state.state_dir),
        netns=ns,
        host=host,
        gateway=_gateway_of(state.hosts),
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
            context = _service_context(state, host, ns)
            started.extend(start_service(context, service) for service in host.services)
    except BaseException:
        for service in started:
            service.process.kill()
        raise
    return started


def up(*, topology: Topology = DEFAULT_TOPOLOGY, ready_timeout: float = 20.0) -> LabState:
    """Build a new lab and return once every service answers from the scanner namespace.

    Each call builds an independent lab with its own id, so earlier labs never collide with
    it. A failure part-way tears down whatever was built before the error is raised.
    """
    _require_root()
    try:
        topology.validate()
    except TopologyError as exc:
        raise LabError(f"invalid topology: {exc}") from exc
    _require_programs(s for host in topology.hosts for s in host.services)

    lab_id, state_dir = _reserve_lab_id()
    try:
        host_ns = [f"{lab_id}-h{index}" for index in range(1, len(topology.hosts) + 1)]
        hosts = tuple(
            LabHostState(name=h.name, role=h.role, ip=h.ip, ns=ns, services=h.services, mac=h.mac)
            for h, ns in zip(topology.hosts, host_ns, strict=True)
        )
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
            hosts=hosts,
            excluded=topology.excluded,
            pids={},
            pid_start_ticks={},
            state_dir=str(state_dir),
            secrets=_new_secrets(state_dir, (s for h in topology.hosts for s in h.services)),
            created_at=datetime.now(UTC),
        )
        # Recorded before anything is built, so a crash part-way leaves a full list to remove.
        _save(state)

        _run_ip(["netns", "add", state.switch_ns])
        _ip_batch(state.switch_ns, [f"link add {BRIDGE} type bridge", f"link set {BRIDGE} up"])
        _plug_into_switch(
            state, state.scanner_ns, "v-scan", topology.scanner_ip, topology.scanner_mac
        )
        for host, ns in zip(topology.hosts, host_ns, strict=True):
            _plug_into_switch(state, ns, f"v-{ns.rsplit('-', 1)[1]}", host.ip, host.mac)

        started = _start_all(state, list(zip(topology.hosts, host_ns, strict=True)))
        state = _with_started(state, started)
        _save(state)
        wait_ready(state, started, timeout=ready_timeout)
        (state_dir / _BUILDING_MARKER).unlink()
        return state
    except BaseException as exc:
        _teardown(lab_id)
        if isinstance(exc, ServiceStartError | subprocess.CalledProcessError | OSError):
            raise LabError(f"lab {lab_id} failed to come up: {exc}") from exc
        raise


def add_host(state: LabState, host: LabHost, *, ready_timeout: float = 20.0) -> LabState:
    """Add a host (namespace, veth on the bridge, its services) to a running lab.

    Returns the updated state (also saved to the state file). On failure the new host is
    removed again and the lab is left as it was.
    """
    _require_root()
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
            "hosts": (
                *current.hosts,
                LabHostState(
                    name=host.name,
                    role=host.role,
                    ip=host.ip,
                    ns=ns,
                    services=host.services,
                    mac=host.mac,
                ),
            ),
        }
    )
    _save(grown)
    started: list[StartedService] = []
    try:
        _plug_into_switch(grown, ns, veth, host.ip, host.mac)
        started = _start_all(grown, [(host, ns)])
        grown = _with_started(grown, started)
        _save(grown)
        wait_ready(grown, started, timeout=ready_timeout)
        return grown
    except BaseException as exc:
        with suppress(NetnsGuardError):
            _terminate(_pids_in_netns({netns_inode(ns)}) | {s.process.pid for s in started})
        # Deleting the namespace destroys its eth0 and with it the peer on the bridge.
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        _save(current)
        if isinstance(exc, ServiceStartError | OSError):
            raise LabError(f"could not add {host.name!r} to lab {current.lab_id}: {exc}") from exc
        raise


# --------------------------------------------------------------------------- tearing down


def _lab_namespaces(lab_id: str, state: LabState | None) -> list[str]:
    existing = set(netns_names())
    names = {name for name in existing if lab_id_of_netns(name) == lab_id}
    if state is not None:
        names.update(name for name in state.namespaces if name in existing)
    # Hosts first, the switch last: purely cosmetic, deleting any of them frees its links.
    return sorted(names, key=lambda name: name.endswith("-sw"))


def _teardown(lab_id: str) -> list[str]:
    """Kill every process of the lab, delete its namespaces and its state dir."""
    state_dir = STATE_ROOT / lab_id
    state = _load_dir(state_dir)
    names = _lab_namespaces(lab_id, state)
    inodes: set[int] = set()
    for name in names:
        with suppress(NetnsGuardError):
            inodes.add(netns_inode(name))
    victims = _pids_in_netns(inodes)
    if state is not None:
        # A recorded pid is killed only if it is still the process we started.
        victims.update(
            pid
            for key, pid in state.pids.items()
            if pid_alive(pid, state.pid_start_ticks.get(key, -1))
        )
    victims.discard(os.getpid())
    _terminate(victims)
    for name in names:
        result = subprocess.run(["ip", "netns", "del", name], capture_output=True, text=True)
        if result.returncode != 0 and (Path("/run/netns") / name).exists():
            raise LabError(f"could not delete namespace {name}: {result.stderr.strip()}")
    shutil.rmtree(state_dir, ignore_errors=True)
    return names


def _builder_alive(state_dir: Path) -> bool:
    try:
        pid_text, ticks_text = (state_dir / _BUILDING_MARKER).read_text(encoding="utf-8").split()
        return pid_alive(int(pid_text), int(ticks_text))
    except (OSError, ValueError):
        return False


def _orphans() -> set[str]:
    """Lab ids left by a crash: nobody is building them and they are not whole labs."""
    orphans: set[str] = set()
    by_lab: dict[str, list[str]] = {}
    for name in netns_names():
        lab_id = lab_id_of_netns(name)
        if lab_id is not None:
            by_lab.setdefault(lab_id, []).append(name)
    # Namespaces whose state dir is gone (up() makes the dir before any namespace).
    orphans.update(lab_id for lab_id in by_lab if not (STATE_ROOT / lab_id).is_dir())
    if not STATE_ROOT.is_dir():
        return orphans
    for state_dir in STATE_ROOT.iterdir():
        lab_id = state_dir.name
        if not LAB_ID_RE.match(lab_id) or not state_dir.is_dir():
            continue
        if (state_dir / _BUILDING_MARKER).exists():
            if not _builder_alive(state_dir):
                orphans.add(lab_id)  # up() died (SIGKILL, power cut) before it finished
            continue
        state = _load_dir(state_dir)
        if state is None:
            with suppress(OSError):
                if time.time() - state_dir.stat().st_mtime > _FRESH_DIR_GRACE_S:
                    orphans.add(lab_id)
            continue
        if lab_id not in by_lab:
            orphans.add(lab_id)  # a state dir whose namespaces are all gone
    return orphans


def down(lab_id: str | None = None) -> list[str]:
    """Tear down lab ``lab_id`` (if given) and sweep every orphan left by a crash.

    An orphan is a lab namespace whose state dir is missing, a state dir whose namespaces are
    all gone, or a lab whose ``up()`` died half-way. Whole labs other than ``lab_id`` are left
    running: another test session may be using them (``down_all()`` removes those too).
    Returns the ids of the labs removed, sorted.
    """
    _require_root()
    targets = _orphans()
    if lab_id is not None:
        if not LAB_ID_RE.match(lab_id):
            raise LabError(f"{lab_id!r} is not a lab id")
        targets.add(lab_id)
    removed = []
    for target in sorted(targets):
        had_something = (STATE_ROOT / target).exists() or bool(_lab_namespaces(target, None))
        _teardown(target)
        if had_something:
            removed.append(target)
    return removed


def down_all() -> list[str]:
    """Tear down every lab on this machine and every orphan; returns the lab ids removed."""
    _require_root()
    removed = set(down(None))
    for state in status():
        removed.update(down(state.lab_id))
    return sorted(removed)


# --------------------------------------------------------------------------- demo config


def _toml_string(value: str) -> str:
    # A TOML basic string takes the same escapes as JSON for quotes, backslashes and controls.
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if c >= " " or c == "\t" else f"\\u{ord(c):04x}" for c in escaped) + '"'


def lab_devices(state: LabState) -> list[str]:
    """Names of the lab's network devices whose credentials the lab hands to configs (every
    fake device but the locked one, whose own password no config references)."""
    return [
        host.name
        for host in state.hosts
        if any(s in DEVICE_PLATFORMS and s != FAKENOS_IOS_LOCKED for s in host.services)
    ]


def devices_config_text(state: LabState, names: Iterable[str]) -> str:
    """``[[devices]]`` entries for the named lab hosts, credentials by reference.

    Every entry uses the lab's device credentials (``credential_refs``): right for the fake
    devices, wrong by design for the locked one, and a host without a fake device (SSH closed)
    is listed as a Cisco IOS router.
    """
    refs = state.credential_refs()
    out = []
    for name in names:
        host = state.host(name)
        platform = next(
            (DEVICE_PLATFORMS[s] for s in host.services if s in DEVICE_PLATFORMS), "cisco_ios"
        )
        out.append(
            "[[devices]]\n"
            f"name = {_toml_string(host.name)}\n"
            f"address = {_toml_string(host.ip)}\n"
            f"platform = {_toml_string(platform)}\n"
            f"username = {_toml_string(refs['username'])}\n"
            f"password = {_toml_string(refs['password'])}\n"
            f"secret = {_toml_string(refs['enable_secret'])}\n"
            "timeout_s = 5\n"
        )
    return "".join(out)


def demo_config_text(
    state: LabState,
    *,
    store_path: str | os.PathLike[str],
    report_dir: str | os.PathLike[str],
    devices: Iterable[str] | None = None,
) -> str:
    """The secposture agency TOML for sweeping this lab from its scanner namespace.

    ``devices`` names the lab hosts listed under ``[[devices]]`` (their configurations are read
    over SSH); by default every fake device the lab's credentials open (:func:`lab_devices`).
    """
    exclude = ", ".join(_toml_string(address) for address in state.excluded)
    listed = devices_config_text(state, lab_devices(state) if devices is None else devices)
    return (
        "[agency]\n"
        'id = "demo-xa-lab"\n'
        'name = "UBND xã Thí Điểm (phòng thí nghiệm)"\n'
        'level = "commune"\n'
        'parent = "demo-huyen-lab"\n'
        "[scan]\n"
        f"scopes = [{_toml_string(state.subnet)}]\n"
        f"exclude = [{exclude}]\n"
        'profile = "standard"\n'
        f"netns = {_toml_string(state.scanner_ns)}"
        "   # the sweep refuses to run unless it is inside this namespace\n"
        "[store]\n"
        f"path = {_toml_string(os.fspath(store_path))}\n"
        "[report]\n"
        f"dir = {_toml_string(os.fspath(report_dir))}\n"
        'lang = "vi"\n'
        f"{listed}"
    )
