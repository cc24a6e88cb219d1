"""Where this process sends packets from: the network-namespace guard of every sweep.

A sweep configured with ``scan.netns`` refuses to send a packet unless the process runs inside
that namespace (the lab's scanner namespace when we test, an agency's chosen namespace in
production). Dependency-free, so scanners and the sweep import it without the lab builder.
"""

from __future__ import annotations

from pathlib import Path

NETNS_DIR = Path("/run/netns")


class NetnsGuardError(RuntimeError):
    """Raised instead of sending a packet from the wrong network namespace."""


def netns_path(name: str) -> Path:
    """Where the named network namespace is mounted (``/run/netns/NAME``); a bad name raises."""
    # A name with a slash could point stat() anywhere; namespace names never contain one.
    if not name or "/" in name or name in {".", ".."}:
        raise NetnsGuardError(f"invalid network namespace name {name!r}")
    return NETNS_DIR / name


def netns_inode(name: str) -> int:
    """Inode of the named network namespace (``/run/netns/NAME``)."""
    try:
        return netns_path(name).stat().st_ino
    except FileNotFoundError:
        raise NetnsGuardError(f"network namespace {name!r} does not exist") from None


def current_netns_inode() -> int:
    """Inode of the network namespace this process runs in."""
    return Path("/proc/self/ns/net").stat().st_ino


def inside_netns(name: str) -> bool:
    """True when this process runs inside the named network namespace."""
    try:
        named = netns_path(name).stat()
    except (FileNotFoundError, NetnsGuardError):
        return False
    current = Path("/proc/self/ns/net").stat()
    # Both live on nsfs; comparing the device too rules out an unrelated file with that inode.
    return (named.st_dev, named.st_ino) == (current.st_dev, current.st_ino)


def require_inside(name: str) -> None:
    """Raise ``NetnsGuardError`` unless this process runs inside namespace ``name``."""
    if not inside_netns(name):
        raise NetnsGuardError(
            f"refusing to send packets: this process is not inside network namespace {name!r}"
            " (the lab runs it through secposture.lab.netns.scanner_exec)"
        )
