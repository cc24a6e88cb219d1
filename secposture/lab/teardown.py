"""Tear labs down: one lab by id, every lab, and the orphans a crashed run left behind."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from contextlib import suppress
from pathlib import Path

from secposture.lab.netns import (
    LAB_ID_RE,
    STATE_ROOT,
    NetnsGuardError,
    lab_id_of_netns,
    netns_inode,
    netns_names,
)
from secposture.lab.processes import pid_alive, pids_in_netns, require_root, terminate
from secposture.lab.state import (
    BUILDING_MARKER,
    LabError,
    LabState,
    load_dir,
    require_lab_id,
    status,
)

# A state dir with neither state.json nor a build marker is left alone this long (it may be
# a lab being reserved right now by another process).
_FRESH_DIR_GRACE_S = 60.0


def _lab_namespaces(lab_id: str, state: LabState | None) -> list[str]:
    existing = set(netns_names())
    names = {name for name in existing if lab_id_of_netns(name) == lab_id}
    if state is not None:
        names.update(name for name in state.namespaces if name in existing)
    # Hosts first, the switch last: purely cosmetic, deleting any of them frees its links.
    return sorted(names, key=lambda name: name.endswith("-sw"))


def teardown(lab_id: str) -> list[str]:
    """Kill every process of the lab, delete its namespaces and its state dir (no orphan sweep)."""
    state_dir = STATE_ROOT / lab_id
    state = load_dir(state_dir)
    names = _lab_namespaces(lab_id, state)
    inodes: set[int] = set()
    for name in names:
        with suppress(NetnsGuardError):
            inodes.add(netns_inode(name))
    victims = pids_in_netns(inodes)
    if state is not None:
        # A recorded pid is killed only if it is still the process we started.
        victims.update(
            pid
            for key, pid in state.pids.items()
            if pid_alive(pid, state.pid_start_ticks.get(key, -1))
        )
    victims.discard(os.getpid())
    terminate(victims)
    for name in names:
        result = subprocess.run(["ip", "netns", "del", name], capture_output=True, text=True)
        if result.returncode != 0 and (Path("/run/netns") / name).exists():
            raise LabError(f"could not delete namespace {name}: {result.stderr.strip()}")
    shutil.rmtree(state_dir, ignore_errors=True)
    return names


def _builder_alive(state_dir: Path) -> bool:
    try:
        pid_text, ticks_text = (state_dir / BUILDING_MARKER).read_text(encoding="utf-8").split()
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
        if (state_dir / BUILDING_MARKER).exists():
            if not _builder_alive(state_dir):
                orphans.add(lab_id)  # up() died (SIGKILL, power cut) before it finished
            continue
        state = load_dir(state_dir)
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
    require_root()
    targets = _orphans()
    if lab_id is not None:
        require_lab_id(lab_id)
        targets.add(lab_id)
    removed = []
    for target in sorted(targets):
        had_something = (STATE_ROOT / target).exists() or bool(_lab_namespaces(target, None))
        teardown(target)
        if had_something:
            removed.append(target)
    return removed


def down_all() -> list[str]:
    """Tear down every lab on this machine and every orphan; returns the lab ids removed."""
    require_root()
    removed = set(down(None))
    for state in status():
        removed.update(down(state.lab_id))
    return sorted(removed)
