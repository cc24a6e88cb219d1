"""Network-namespace guards: the one way anything scanning reaches the lab.

The development machines may send packets only to loopback and to namespaces a test built
itself; anything else is flagged. So every scanning command runs through ``scanner_exec`` /
``scanner_popen``, which enter the lab's scanner namespace, and packet-sending code calls
``require_inside`` first. This module stays small and dependency-free so that the sweep can
import it without pulling in the lab builder.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from scanners.netns import (
    NETNS_DIR,
    NetnsGuardError,
    current_netns_inode,
    inside_netns,
    netns_inode,
    netns_path,
    require_inside,
)

STATE_ROOT = Path("/run/secposture-lab")
STATE_FILE_NAME = "state.json"

# A lab id is "sp" + 6 hex digits; every namespace of that lab is "<lab id>-<role>".
LAB_ID_RE = re.compile(r"^sp[0-9a-f]{6}$")
LAB_NETNS_RE = re.compile(r"^(sp[0-9a-f]{6})-([a-z][a-z0-9]{0,7})$")


class SupportsLabId(Protocol):
    """Anything that names a lab (a ``LabState``, for instance)."""

    @property
    def lab_id(self) -> str:
        """The lab's id (``sp`` + 6 hex digits)."""
        ...


LabRef = str | SupportsLabId


def lab_id_of_netns(name: str) -> str | None:
    """The lab id a namespace name belongs to, or None when it is not a lab name."""
    match = LAB_NETNS_RE.match(name)
    return match.group(1) if match else None


def state_dir_of(lab_id: str) -> Path:
    """The state directory of a lab (it may not exist)."""
    if not LAB_ID_RE.match(lab_id):
        raise NetnsGuardError(f"{lab_id!r} is not a lab id (expected sp + 6 hex digits)")
    return STATE_ROOT / lab_id


def scanner_netns(lab: LabRef) -> str:
    """Name of the scanner namespace of a live lab; ``NetnsGuardError`` if there is none.

    ``lab`` is a lab id, the scanner namespace name itself, or a ``LabState``. The lab counts
    as live when its state file exists, names this scanner namespace, and the namespace exists.
    """
    ref = lab if isinstance(lab, str) else lab.lab_id
    lab_id = ref if LAB_ID_RE.match(ref) else lab_id_of_netns(ref)
    if lab_id is None:
        raise NetnsGuardError(f"{ref!r} is neither a lab id nor a lab namespace name")
    state_file = state_dir_of(lab_id) / STATE_FILE_NAME
    try:
        recorded = json.loads(state_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NetnsGuardError(f"no live lab {lab_id!r}: {state_file} is missing") from None
    except (OSError, ValueError) as exc:
        raise NetnsGuardError(f"lab {lab_id!r} has an unreadable state file: {exc}") from exc
    scanner = recorded.get("scanner_ns") if isinstance(recorded, dict) else None
    if not isinstance(scanner, str) or lab_id_of_netns(scanner) != lab_id:
        raise NetnsGuardError(f"lab {lab_id!r} state file names no scanner namespace of its own")
    if ref != lab_id and ref != scanner:
        raise NetnsGuardError(f"{ref!r} is not the scanner namespace of lab {lab_id!r}")
    if not netns_path(scanner).exists():
        raise NetnsGuardError(f"scanner namespace {scanner!r} of lab {lab_id!r} does not exist")
    return scanner


def scanner_argv(lab: LabRef, argv: Sequence[str]) -> list[str]:
    """``argv`` prefixed so that it runs inside the lab's scanner namespace."""
    if isinstance(argv, str) or not argv:
        raise NetnsGuardError("argv must be a non-empty sequence of arguments, not a string")
    return ["ip", "netns", "exec", scanner_netns(lab), *argv]


def scanner_exec(
    lab: LabRef, argv: Sequence[str], **subprocess_kwargs: Any
) -> subprocess.CompletedProcess[Any]:
    """Run ``argv`` inside the lab's scanner namespace (``subprocess.run`` semantics)."""
    return subprocess.run(scanner_argv(lab, argv), **subprocess_kwargs)


def scanner_popen(
    lab: LabRef, argv: Sequence[str], **subprocess_kwargs: Any
) -> subprocess.Popen[Any]:
    """Start ``argv`` inside the lab's scanner namespace (``subprocess.Popen`` semantics)."""
    return subprocess.Popen(scanner_argv(lab, argv), **subprocess_kwargs)


def netns_names() -> list[str]:
    """Names of all named network namespaces on this machine."""
    try:
        return sorted(entry.name for entry in NETNS_DIR.iterdir())
    except FileNotFoundError:
        return []


__all__ = [
    "NETNS_DIR",
    "STATE_ROOT",
    "LabRef",
    "NetnsGuardError",
    "SupportsLabId",
    "current_netns_inode",
    "inside_netns",
    "lab_id_of_netns",
    "netns_inode",
    "netns_names",
    "require_inside",
    "scanner_argv",
    "scanner_exec",
    "scanner_netns",
    "scanner_popen",
    "state_dir_of",
]
