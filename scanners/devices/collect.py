"""Network-device configuration audit over SSH (netmiko): read switches and routers.

For each ``[[devices]]`` entry: log in, enter privileged mode where the platform needs it,
read the version and the running configuration, redact it, read its facts, and emit typed
observations (``device.facts``, ``device.config``) with one attempt per device. Every failure
is an attempt with its reason (unreachable, auth_failed, timeout, enable_failed,
unsupported_platform); the sweep goes on. A host that looks like network gear but is not
listed gets a skipped attempt, ``no_credentials``. Secrets are read from their references
when the plan is made, sent only in the login, and scrubbed from anything kept.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from scanners.attempt import Clock, completed, failed, skipped
from scanners.devices.gear import network_gear_hint
from scanners.devices.reading import device_observations, read_device
from scanners.scope import Scope
from secposture.config.errors import ConfigError
from secposture.config.secrets import Secret, SecretError, resolve
from secposture.config.sections import AgencyConfig, DeviceSection
from secposture.model.i18n import said
from secposture.model.platforms import PLATFORMS, Platform, rejected
from secposture.model.records import Attempt, Host, Observation, Reason

STAGE = "device"
# Network gear allows few management sessions (IOS: five VTY lines) and the scanner's own
# threads are shared with the port scan; four devices at once keeps both comfortable.
DEVICE_SESSIONS = 4
# Password login only: no agent, no key files, no ~/.ssh/config of whoever runs the sweep,
# and no session log (it would hold the running-config). Host keys are not pinned (see
# README: what is left out).
_PASSWORD_LOGIN_ONLY: dict[str, Any] = {
    "use_keys": False,
    "allow_agent": False,
    "system_host_keys": False,
    "alt_host_keys": False,
    "ssh_config_file": None,
    "session_log": None,
}
_AUTHORIZATION_REFUSED = ("Command authorization failed", "% Authorization failed")

Progress = Callable[[str, dict[str, object]], None]


@dataclass(frozen=True, slots=True)
class DeviceTarget:
    """One device to read, with its credentials resolved (shown only as references)."""

    address: str
    platform: str
    port: int
    username: str
    # How the user name may be shown: itself, or its reference when it came from one.
    username_shown: str
    password: Secret
    secret: Secret | None
    name: str
    timeout_s: int
    read_timeout_s: int

    def known_secrets(self) -> list[str]:
        """The secret values this session holds, for the redaction backstop."""
        held = [self.password, self.secret]
        return [s.reveal() for s in held if s is not None]


@dataclass(slots=True)
class DeviceAudit:
    """One device's audit: its attempt and, when it completed, its observations."""

    ip: str
    attempt: Attempt
    observations: list[Observation] = field(default_factory=list)


class _Refused(Exception):
    """The session failed for a reason already sorted into the closed set."""

    def __init__(self, reason: Reason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(detail)


def plan_devices(config: AgencyConfig) -> list[DeviceTarget]:
    """The configured devices with their secrets read; ConfigError naming the key if one
    cannot be read (called before the sweep sends anything, so a typo costs no sweep)."""
    targets: list[DeviceTarget] = []
    for index, entry in enumerate(config.devices):
        targets.append(_target(index, entry, str(config.source) if config.source else None))
    return targets


def _target(index: int, entry: DeviceSection, where: str | None) -> DeviceTarget:
    key = f"devices[{index}]"
    try:
        username = (
            resolve(entry.username, key=f"{key}.username").reveal()
            if entry.username_is_reference
            else entry.username
        )
        password = resolve(entry.password, key=f"{key}.password")
        secret = resolve(entry.secret, key=f"{key}.secret") if entry.secret else None
    except SecretError as exc:
        raise ConfigError(exc.key, exc.reason, where) from None
    return DeviceTarget(
        address=entry.address,
        platform=entry.platform,
        port=entry.port,
        username=username,
        username_shown=entry.username if entry.username_is_reference else f"'{username}'",
        password=password,
        secret=secret,
        name=entry.name or entry.address,
        timeout_s=entry.timeout_s,
        read_timeout_s=entry.read_timeout_s,
    )


def _quiet_libraries() -> None:
    # netmiko logs every byte it reads at DEBUG, the running-config included: keep it (and
    # paramiko) at WARNING whatever the root logger says, so no log ever holds a secret.
    for name in ("netmiko", "paramiko"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _scrub(text: str, target: DeviceTarget) -> str:
    for value in sorted(target.known_secrets(), key=len, reverse=True):
        text = text.replace(value, "<redacted:credential>")
    return " ".join(text.split())[:300]


def _connection_failure(exc: BaseException, target: DeviceTarget) -> _Refused:
    """Sort a failed connect into the closed set of reasons (one place, as sslyze does)."""
    from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException
    from paramiko.ssh_exception import NoValidConnectionsError, SSHException

    where = f"{target.address}:{target.port}"
    if isinstance(exc, NetmikoAuthenticationException):
        return _Refused(
            Reason.AUTH_FAILED,
            said(
                "{where} refused the login of user {user}", where=where, user=target.username_shown
            ),
        )
    cause = exc.__context__ if isinstance(exc, NetmikoTimeoutException) else exc
    if isinstance(cause, NoValidConnectionsError) and cause.errors:
        cause = next(iter(cause.errors.values()))
    if isinstance(cause, ConnectionRefusedError):
        return _Refused(
            Reason.UNREACHABLE, said("{where}: connection refused (SSH is closed)", where=where)
        )
    if isinstance(cause, TimeoutError | socket.timeout):
        return _Refused(
            Reason.TIMEOUT,
            said(
                "{where}: no answer within {seconds} s (filtered or down)",
                where=where,
                seconds=target.timeout_s,
            ),
        )
    if isinstance(cause, OSError) and cause.errno in {
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.EHOSTDOWN,
    }:
        return _Refused(Reason.UNREACHABLE, f"{where}: {cause.strerror or 'no route'}")
    if isinstance(cause, SSHException | EOFError):
        return _Refused(
            Reason.UNREACHABLE,
            said(
                "{where}: the SSH handshake failed: {error}",
                where=where,
                error=_scrub(str(cause), target),
            ),
        )
    if isinstance(exc, NetmikoTimeoutException):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "timed out"
        return _Refused(Reason.TIMEOUT, f"{where}: {_scrub(first, target)}")
    if isinstance(exc, OSError):
        return _Refused(Reason.UNREACHABLE, f"{where}: {exc.strerror or type(exc).__name__}")
    return _Refused(Reason.BUG, f"{where}: {type(exc).__name__}")


def _connect(target: DeviceTarget) -> Any:
    from netmiko import ConnectHandler

    try:
        return ConnectHandler(
            device_type=target.platform,
            host=target.address,
            port=target.port,
            username=target.username,
            password=target.password.reveal(),
            secret=target.secret.reveal() if target.secret else "",
            conn_timeout=target.timeout_s,
            auth_timeout=target.timeout_s,
            banner_timeout=target.timeout_s,
            session_timeout=target.read_timeout_s,
            read_timeout_override=None,
            **_PASSWORD_LOGIN_ONLY,
        )
    except Exception as exc:  # netmiko and paramiko raise many types; all sorted here
        raise _connection_failure(exc, target) from None


def _command(conn: Any, platform: Platform, command: str, target: DeviceTarget) -> str:
    from netmiko.exceptions import NetmikoTimeoutException, ReadTimeout

    try:
        output = conn.send_command(command, read_timeout=target.read_timeout_s)
    except (ReadTimeout, NetmikoTimeoutException):
        raise _Refused(
            Reason.TIMEOUT,
            said(
                "'{command}' gave no complete answer within {seconds} s",
                command=command,
                seconds=target.read_timeout_s,
            ),
        ) from None
    except (OSError, EOFError) as exc:
        raise _Refused(
            Reason.UNREACHABLE,
            said(
                "connection lost during '{command}': {error}",
                command=command,
                error=type(exc).__name__,
            ),
        ) from None
    text = output if isinstance(output, str) else str(output)
    if any(marker in text[:300] for marker in _AUTHORIZATION_REFUSED):
        raise _Refused(
            Reason.ENABLE_FAILED, said("'{command}' was refused: not authorised", command=command)
        )
    if rejected(text):
        raise _Refused(
            Reason.UNSUPPORTED_PLATFORM,
            said(
                "the device did not understand '{command}': it does not behave as "
                "{platform} (check the platform in [[devices]])",
                command=command,
                platform=platform.name,
            ),
        )
    return text


def _enable(conn: Any, platform: Platform, target: DeviceTarget) -> None:
    from netmiko.exceptions import NetmikoTimeoutException, ReadTimeout

    if not platform.needs_enable:
        return
    try:
        if conn.check_enable_mode():
            return
        conn.enable()
    except (ValueError, ReadTimeout, NetmikoTimeoutException):
        held = "the enable secret was refused" if target.secret else "no enable secret configured"
        raise _Refused(
            Reason.ENABLE_FAILED,
            said("could not enter privileged (enable) mode: {why}", why=held),
        ) from None


def _read(target: DeviceTarget) -> tuple[str, str]:
    """(show version, running-config) text from one session; _Refused on any failure."""
    platform = PLATFORMS[target.platform]
    conn = _connect(target)
    try:
        _enable(conn, platform, target)
        version = _command(conn, platform, platform.version_command, target)
        config = _command(conn, platform, platform.config_command, target)
    finally:
        # A failed goodbye loses nothing already read.
        with contextlib.suppress(Exception):
            conn.disconnect()
    return version, config


def audit_device(target: DeviceTarget) -> DeviceAudit:
    """Read one device; never raises. The raw configuration never leaves this function."""
    _quiet_libraries()
    clock = Clock()

    def refused(reason: Reason, detail: str) -> DeviceAudit:
        return DeviceAudit(
            target.address, failed(STAGE, target.address, reason, detail, clock=clock)
        )

    if target.platform not in PLATFORMS:
        return refused(
            Reason.UNSUPPORTED_PLATFORM,
            f"platform '{target.platform}' is not supported ({', '.join(sorted(PLATFORMS))})",
        )
    try:
        version, config = _read(target)
    except _Refused as exc:
        return refused(exc.reason, exc.detail)
    except Exception as exc:  # a bug in our code must not lose the sweep, nor leak the text
        return refused(Reason.BUG, f"{type(exc).__name__} while reading")
    if not config.strip():
        return refused(Reason.PARSE_ERROR, "the device returned no configuration")
    try:
        reading = read_device(target.platform, config, version, known=target.known_secrets())
    except Exception as exc:
        return refused(Reason.PARSE_ERROR, said("{error} while parsing", error=type(exc).__name__))
    facts = reading.facts
    found = device_observations(reading, ip=target.address, port=target.port, name=target.name)
    detail = f"{target.platform} {facts.hostname or target.name}: {facts.lines_read} lines read"
    if not facts.complete:
        detail += "; the configuration did not end as expected (checks on absent lines skipped)"
    if reading.credentials_caught:
        detail += (
            f"; {reading.credentials_caught} credential occurrence(s) redacted by the backstop"
        )
    return DeviceAudit(target.address, completed(STAGE, target.address, detail, clock=clock), found)


@dataclass(slots=True)
class DeviceRun:
    """Every device's observations and attempts of one sweep."""

    observations: list[Observation] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)


def _timed_out(target: DeviceTarget, when: str) -> Attempt:
    return failed(
        STAGE, target.address, Reason.TIMEOUT, said("sweep time limit reached {when}", when=when)
    )


def audit_devices(
    targets: Sequence[DeviceTarget],
    hosts: Iterable[Host],
    observations: Sequence[Observation],
    *,
    scope: Scope,
    deadline: float,
    progress: Progress | None = None,
    sessions: int = DEVICE_SESSIONS,
) -> DeviceRun:
    """Read every in-scope device (``sessions`` at a time, until ``deadline`` on the
    monotonic clock) and report the unlisted hosts that look like network gear."""
    run = DeviceRun()
    listed = {t.address for t in targets}
    in_scope = [t for t in targets if t.address in scope]
    for target in targets:
        if target.address not in scope:
            run.attempts.append(
                skipped(
                    STAGE,
                    target.address,
                    Reason.OUT_OF_SCOPE,
                    "listed in [[devices]] but outside scan.scopes (or excluded); nothing sent",
                )
            )
    for host in hosts:
        if host.ip in listed:
            continue
        hint = network_gear_hint(host, [o for o in observations if o.ip == host.ip])
        if hint is not None:
            run.attempts.append(
                skipped(
                    STAGE,
                    host.ip,
                    Reason.NO_CREDENTIALS,
                    said("no credentials configured; {hint}", hint=hint),
                )
            )
    if not in_scope:
        return run
    if time.monotonic() >= deadline:
        run.attempts += [_timed_out(t, "before the device audit began") for t in in_scope]
        return run
    with ThreadPoolExecutor(
        max_workers=max(1, min(sessions, len(in_scope))), thread_name_prefix="device"
    ) as pool:
        pending: dict[Future[DeviceAudit], DeviceTarget] = {
            pool.submit(audit_device, t): t for t in in_scope
        }
        done_count = 0
        while pending:
            done, _ = wait(
                pending, timeout=max(deadline - time.monotonic(), 0), return_when=FIRST_COMPLETED
            )
            if not done:
                for fut, target in pending.items():
                    fut.cancel()  # a session already running ends within its own timeouts
                    run.attempts.append(_timed_out(target, "during the device audit"))
                break
            for fut in done:
                target = pending.pop(fut)
                done_count += 1
                audit = fut.result()  # audit_device never raises
                run.observations += audit.observations
                run.attempts.append(audit.attempt)
                if progress is not None:
                    progress(
                        "device", {"done": done_count, "total": len(in_scope), "name": target.name}
                    )
    return run
