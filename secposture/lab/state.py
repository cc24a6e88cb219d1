"""What the lab records about itself: ``/run/secposture-lab/<lab id>/state.json`` and friends.

A lab's state directory holds ``state.json`` (a :class:`LabState`), the lab's secrets, its
services' configurations and logs, and — while ``up()`` is still building — a ``building``
marker naming the builder's pid, so that a crash part-way can be told from a build under way.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from secposture.lab.netns import LAB_ID_RE, STATE_FILE_NAME, STATE_ROOT

BUILDING_MARKER = "building"


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


def write_file(path: Path, text: str, mode: int = 0o600) -> Path:
    """Write ``text`` to ``path`` with ``mode`` (private by default: secrets, state, configs)."""
    # Opened with the mode, so a secret is never readable by others even for an instant.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, mode)  # an existing file keeps its old mode through os.open
    return path


def save(state: LabState) -> None:
    """Record ``state`` in its state file."""
    # Write then rename: a reader (the netns guard, another process) never sees half a file.
    tmp = state.state_file.with_suffix(".tmp")
    write_file(tmp, state.model_dump_json(indent=2) + "\n")
    os.replace(tmp, state.state_file)


def load_dir(state_dir: Path) -> LabState | None:
    """The state recorded in ``state_dir``, or None when it has no readable state file."""
    try:
        return LabState.model_validate_json((state_dir / STATE_FILE_NAME).read_bytes())
    except (OSError, ValidationError):
        return None


def require_lab_id(lab_id: str) -> None:
    """``LabError`` unless ``lab_id`` has the shape of a lab id (``sp`` + 6 hex digits)."""
    if not LAB_ID_RE.match(lab_id):
        raise LabError(f"{lab_id!r} is not a lab id")


def load(lab_id: str) -> LabState:
    """The recorded state of lab ``lab_id``; ``LabError`` if there is no such lab."""
    require_lab_id(lab_id)
    state = load_dir(STATE_ROOT / lab_id)
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
        if LAB_ID_RE.match(entry.name) and (state := load_dir(entry)) is not None
    ]
    return sorted(states, key=lambda s: s.created_at)
