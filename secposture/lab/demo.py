"""The demo agency's configuration for a lab: what ``secposture demo`` and the tests sweep."""

from __future__ import annotations

import os
from collections.abc import Iterable

from secposture.lab.state import LabState
from secposture.lab.topology import DEVICE_PLATFORMS, FAKENOS_IOS_LOCKED


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
        'parent = "demo-tinh-lab"\n'
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
