"""The namespace lab: nothing reaches it but from its scanner namespace; its state, config
and lifecycle (its services: test_lab_services.py)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import shutil
import stat
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from support.commands import in_scanner
from support.network import one_host_topology

from secposture.lab import (
    LabError,
    LabHost,
    LabState,
    NetnsGuardError,
    Topology,
    add_host,
    demo_config_text,
    down,
    inside_netns,
    load,
    require_inside,
    scanner_exec,
    services,
    status,
    up,
)
from secposture.lab.netns import STATE_ROOT, LabRef, netns_names
from secposture.lab.processes import pid_alive
from secposture.lab.topology import FTP_ANONYMOUS, HTTP_ADMIN

pytestmark = pytest.mark.lab

SMALL = one_host_topology(
    "small", LabHost("fileserver", "fileserver", "10.77.0.20", (FTP_ANONYMOUS,))
)


def lab_namespaces(lab_id: str) -> list[str]:
    return [name for name in netns_names() if name.startswith(f"{lab_id}-")]


def assert_gone(state: LabState) -> None:
    assert lab_namespaces(state.lab_id) == []
    assert not Path(state.state_dir).exists()
    alive = [
        key for key, pid in state.pids.items() if pid_alive(pid, state.pid_start_ticks.get(key))
    ]
    assert alive == []


# --------------------------------------------------------------------------- guards


def test_require_inside_refuses_in_the_root_namespace(lab: LabState) -> None:
    # Given this test process runs in the root namespace
    assert not inside_netns(lab.scanner_ns)
    # Then the guard refuses to let it send
    with pytest.raises(NetnsGuardError, match="not inside"):
        require_inside(lab.scanner_ns)


def test_require_inside_passes_only_inside_the_named_namespace(lab: LabState) -> None:
    code = (
        "import sys; from scanners.netns import require_inside, NetnsGuardError;"
        "require_inside(sys.argv[1]); print('inside');"
        "\ntry:\n require_inside(sys.argv[2])\nexcept NetnsGuardError:\n print('refused')"
    )
    result = in_scanner(lab, code, lab.scanner_ns, lab.hosts[0].ns)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["inside", "refused"]


def test_scanner_exec_refuses_anything_but_a_live_lab_scanner(
    lab: LabState, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    stray_id = f"sp{secrets.token_hex(3)}"
    not_a_lab = f"secposture-test-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", not_a_lab], check=True)
    subprocess.run(["ip", "netns", "add", f"{stray_id}-scan"], check=True)
    try:
        refused = [
            not_a_lab,  # a real namespace that no lab made
            f"{stray_id}-scan",  # lab-shaped and real, but no state file
            stray_id,
            lab.hosts[0].ns,  # a live lab's host namespace, not its scanner
            lab.switch_ns,
            "../netns/x",
            "",
        ]
        for name in refused:
            with pytest.raises(NetnsGuardError):
                scanner_exec(name, ["touch", str(marker)])
        with pytest.raises(NetnsGuardError):
            scanner_exec(lab, [])
        with pytest.raises(NetnsGuardError):
            scanner_exec(lab, "touch x")
    finally:
        subprocess.run(["ip", "netns", "del", not_a_lab], check=False)
        subprocess.run(["ip", "netns", "del", f"{stray_id}-scan"], check=False)
    assert not marker.exists()
    # And the lab's own scanner namespace, by id, by name or by state, is accepted
    accepted: list[LabRef] = [lab.lab_id, lab.scanner_ns, lab]
    for ref in accepted:
        assert scanner_exec(ref, ["true"]).returncode == 0


def test_root_namespace_has_no_lab_link_address_or_route(lab: LabState) -> None:
    links = json.loads(
        subprocess.run(["ip", "-j", "link"], capture_output=True, text=True, check=True).stdout
    )
    addrs = json.loads(
        subprocess.run(["ip", "-j", "addr"], capture_output=True, text=True, check=True).stdout
    )
    routes = json.loads(
        subprocess.run(
            ["ip", "-j", "route", "show", lab.subnet], capture_output=True, text=True, check=True
        ).stdout
    )
    names = {link["ifname"] for link in links}
    assert not any(name.startswith("v-") or name == lab.bridge for name in names)
    assert not any(info["local"].startswith("10.77.") for a in addrs for info in a["addr_info"])
    assert routes == []


# --------------------------------------------------------------------------- state, config


def test_secrets_are_private_distinct_and_kept_out_of_the_state_file(lab: LabState) -> None:
    password, enable = lab.secret_values()
    assert password != enable
    assert len(password) >= 20 and len(enable) >= 20
    for path in (lab.secrets.device_password_file, lab.secrets.device_enable_secret_file):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    state_text = lab.state_file.read_text()
    assert password not in state_text and enable not in state_text
    assert lab.credential_refs()["password"] == f"file:{lab.secrets.device_password_file}"


def test_state_round_trips_and_is_listed(lab: LabState) -> None:
    assert LabState.model_validate_json(lab.model_dump_json()) == lab
    assert lab.lab_id in {state.lab_id for state in status()}
    assert lab.state_file == STATE_ROOT / lab.lab_id / "state.json"


def test_demo_config_names_the_scanner_namespace(lab: LabState, tmp_path: Path) -> None:
    text = demo_config_text(lab, store_path=tmp_path / "store.json", report_dir=tmp_path / "r")
    config = tomllib.loads(text)
    assert config["agency"] == {
        "id": "demo-xa-lab",
        "name": "UBND xã Thí Điểm (phòng thí nghiệm)",
        "level": "commune",
        "parent": "demo-tinh-lab",
    }
    assert config["scan"] == {
        "scopes": ["10.77.0.0/24"],
        "exclude": ["10.77.0.1", "10.77.0.2"],
        "profile": "standard",
        "netns": lab.scanner_ns,
    }
    assert config["store"] == {"path": str(tmp_path / "store.json")}
    assert config["report"] == {"dir": str(tmp_path / "r"), "lang": "vi"}


def test_demo_config_escapes_awkward_paths(lab: LabState) -> None:
    text = demo_config_text(lab, store_path='/tmp/a"b\\c', report_dir="/tmp/d\ne")
    config = tomllib.loads(text)
    assert config["store"]["path"] == '/tmp/a"b\\c'
    assert config["report"]["dir"] == "/tmp/d\ne"


# --------------------------------------------------------------------------- lifecycle


def test_up_refuses_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(LabError, match="lab needs root"):
        up()


def test_down_removes_every_namespace_and_process_quickly(lab_available: None) -> None:
    # Given a fresh demo lab
    started = time.monotonic()
    state = up()
    up_seconds = time.monotonic() - started
    assert all(pid_alive(pid, state.pid_start_ticks[key]) for key, pid in state.pids.items())
    # When it is torn down
    started = time.monotonic()
    removed = down(state.lab_id)
    down_seconds = time.monotonic() - started
    # Then nothing of it remains, and both steps kept to their budget
    assert removed == [state.lab_id]
    assert_gone(state)
    assert up_seconds <= 10.0
    assert down_seconds <= 3.0
    # And tearing it down again is harmless
    assert down(state.lab_id) == []


def test_two_labs_up_at_once_do_not_collide(lab: LabState) -> None:
    # Given the session lab, when a second lab is built beside it
    second = up(topology=SMALL)
    try:
        # Then the two share no namespace, id or secret
        assert second.lab_id != lab.lab_id
        assert not set(second.namespaces) & set(lab.namespaces)
        assert second.secret_values()[0] != lab.secret_values()[0]
        # And the same address reaches each lab's own file server from each scanner
        code = (
            "import io, sys, ftplib; f = ftplib.FTP(sys.argv[1], timeout=5); f.login();"
            "b = io.BytesIO(); f.retrbinary('RETR README.txt', b.write);"
            "print(b.getvalue().decode())"
        )
        for state in (lab, second):
            result = in_scanner(state, code, "10.77.0.20")
            assert f"Lab {state.lab_id}" in result.stdout
    finally:
        down(second.lab_id)
    assert_gone(second)
    # And the session lab is untouched
    assert set(lab_namespaces(lab.lab_id)) == set(lab.namespaces)


def test_down_none_sweeps_a_crash_orphaned_lab_but_not_live_labs(lab: LabState) -> None:
    # Given a lab whose state dir vanished (its builder crashed), processes still running
    orphan = up(topology=SMALL)
    shutil.rmtree(orphan.state_dir)
    assert set(lab_namespaces(orphan.lab_id)) == set(orphan.namespaces)
    # And a state dir whose namespaces are gone
    ghost_id = f"sp{secrets.token_hex(3)}"
    ghost_dir = STATE_ROOT / ghost_id
    ghost_dir.mkdir(mode=0o700)
    ghost = lab.model_copy(
        update={
            "lab_id": ghost_id,
            "state_dir": str(ghost_dir),
            "namespaces": (f"{ghost_id}-sw",),
            "pids": {},
            "pid_start_ticks": {},
        }
    )
    (ghost_dir / "state.json").write_text(ghost.model_dump_json())
    # When orphans are swept
    removed = down(None)
    # Then both are gone, with every process of the orphan
    assert {orphan.lab_id, ghost_id} <= set(removed)
    assert_gone(orphan)
    assert not ghost_dir.exists()
    # And the live session lab is left alone
    assert lab.lab_id not in removed
    assert set(lab_namespaces(lab.lab_id)) == set(lab.namespaces)
    assert lab.state_file.exists()


def test_up_that_fails_halfway_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch, lab_available: None
) -> None:
    # Given a service that will never answer where the probe looks for it
    broken = dataclasses.replace(services.SERVICES[HTTP_ADMIN], port=8081)
    monkeypatch.setitem(services.SERVICES, HTTP_ADMIN, broken)
    topology = Topology(
        name="broken",
        subnet="10.77.0.0/24",
        scanner_ip="10.77.0.2",
        hosts=(LabHost("old-router", "router", "10.77.0.30", (HTTP_ADMIN,)),),
    )
    # When the lab is brought up, then the error names the lab, the host and the service
    with pytest.raises(LabError, match="old-router/http-admin") as failure:
        up(topology=topology, ready_timeout=1.0)
    match = re.search(r"lab (sp[0-9a-f]{6}) failed", str(failure.value))
    assert match is not None
    # And everything it built is gone
    assert lab_namespaces(match.group(1)) == []
    assert not (STATE_ROOT / match.group(1)).exists()


def test_add_host_puts_a_new_host_on_the_segment(lab_available: None) -> None:
    state = up(topology=SMALL)
    grown = state
    try:
        # When a host with an HTTP admin page is added later
        grown = add_host(state, LabHost("new-router", "router", "10.77.0.60", (HTTP_ADMIN,)))
        # Then it has its own namespace, is recorded, and answers from the scanner
        new = grown.host("new-router")
        assert new.ns in lab_namespaces(state.lab_id)
        assert set(grown.namespaces) == {*state.namespaces, new.ns}
        result = in_scanner(
            grown,
            "import sys, urllib.request;"
            "print(urllib.request.urlopen(f'http://{sys.argv[1]}/',"
            " timeout=5).status)",
            new.ip,
        )
        assert result.stdout.strip() == "200"
        assert load(state.lab_id) == grown
        # And a clashing address is refused without touching the lab
        with pytest.raises(LabError, match="already has"):
            add_host(grown, LabHost("dup", "server", "10.77.0.60"))
        assert load(state.lab_id) == grown
    finally:
        down(state.lab_id)
    assert_gone(grown)


def test_down_none_sweeps_a_lab_whose_builder_was_killed(lab_available: None) -> None:
    # Given a process building a lab is SIGKILLed half-way (namespaces made, services starting)
    before = {entry.name for entry in STATE_ROOT.iterdir()}
    builder = subprocess.Popen([sys.executable, "-c", "from secposture.lab import up; up()"])
    lab_id = None
    deadline = time.monotonic() + 15
    try:
        while lab_id is None and time.monotonic() < deadline:
            new = [d for d in STATE_ROOT.iterdir() if d.name not in before]
            if new and (new[0] / "building").exists() and f"{new[0].name}-h3" in netns_names():
                builder.kill()
                lab_id = new[0].name
            time.sleep(0.005)
    finally:
        builder.kill()
        builder.wait()
    assert lab_id is not None, "the builder never got half-way"
    assert lab_namespaces(lab_id)
    # When orphans are swept
    removed = down(None)
    # Then the half-built lab is gone
    assert lab_id in removed
    assert lab_namespaces(lab_id) == []
    assert not (STATE_ROOT / lab_id).exists()
