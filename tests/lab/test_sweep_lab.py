"""The walking skeleton against the real lab (issue #2): one sweep finds every host and
service, fails the four checks where deserved, spares the hardened host, shows the hostile
title as text, and sends nothing from the root namespace."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from conftest import SweptLab
from support.commands import in_scanner, secposture, start_tcpdump

from secposture.lab import LabState, scanner_exec
from secposture.model import exitcodes

pytestmark = pytest.mark.lab

HOSTILE_TITLE = "<script>alert('xss')</script> Router admin"

# What the lab serves (secposture/lab/topology.py), as "port/proto" per host.
EXPECTED_PORTS = {
    "10.77.0.10": {"22/tcp"},
    "10.77.0.20": {"21/tcp"},
    "10.77.0.30": {"23/tcp", "80/tcp"},
    "10.77.0.40": {"161/udp", "9100/tcp"},
    "10.77.0.50": {"22/tcp"},
}
EXPECTED_FAILS = {
    ("net.telnet_exposed", "10.77.0.30"),
    ("net.http_admin_cleartext", "10.77.0.30"),
    ("net.ftp_anonymous", "10.77.0.20"),
    ("net.snmp_default_community", "10.77.0.40"),
    # fakenos (paramiko) offers SHA-1 key exchange, CBC/3DES and MD5 MACs (issue #3 check).
    ("net.ssh_weak_algorithms", "10.77.0.50"),
}


def hosts_by_ip(swept: SweptLab) -> dict[str, Any]:
    return {h["ip"]: h for h in swept.document("inventory.json")["hosts"]}


def test_sweep_completes_inside_the_scanner_namespace(swept_lab: SweptLab) -> None:
    assert swept_lab.proc.returncode == exitcodes.OK, swept_lab.proc.stderr
    assert swept_lab.summary["complete"] is True
    assert swept_lab.summary["counts"]["hosts_found"] == 5


def test_every_lab_host_is_found_with_its_services(swept_lab: SweptLab) -> None:
    hosts = hosts_by_ip(swept_lab)
    # The gateway (.1) and the scanner (.2) are excluded by the demo config.
    assert set(hosts) == set(EXPECTED_PORTS)
    for ip, ports in EXPECTED_PORTS.items():
        found = {f"{s['port']}/{s['proto']}" for s in hosts[ip]["services"] if s["state"] == "open"}
        assert ports <= found, (ip, found)
        assert hosts[ip]["mac"], ip
    names = {(ip, s["port"]): s["name"] for ip, h in hosts.items() for s in h["services"]}
    assert names[("10.77.0.30", 23)] == "telnet"
    assert names[("10.77.0.30", 80)] == "http"
    assert names[("10.77.0.20", 21)] == "ftp"
    assert names[("10.77.0.40", 161)] == "snmp"
    assert names[("10.77.0.10", 22)] == "ssh"
    assert hosts["10.77.0.50"]["vendor"] and "cisco" in hosts["10.77.0.50"]["vendor"].lower()


def test_the_four_checks_fail_where_deserved_and_nowhere_on_the_hardened_host(
    swept_lab: SweptLab,
) -> None:
    findings = swept_lab.document("findings.json")["findings"]
    net = [f for f in findings if f["check_id"].startswith("net.")]
    fails = {(f["check_id"], f["target"]["ip"]) for f in net if f["status"] == "fail"}
    assert fails == EXPECTED_FAILS
    per_host: dict[str, set[str]] = defaultdict(set)
    for f in findings:
        per_host[f["target"]["ip"]].add(f["status"])
    assert "fail" not in per_host["10.77.0.10"]
    score = swept_lab.document("findings.json")["score"]
    assert 0 <= score["overall"] <= 100 and 0 < score["coverage"] <= 1


def test_hostile_title_is_text_not_markup(swept_lab: SweptLab) -> None:
    html = (swept_lab.report_dir / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(" in html
    assert "<script>alert(" not in html
    evidence = [
        f["evidence"]
        for f in swept_lab.document("findings.json")["findings"]
        if f["check_id"] == "net.http_admin_cleartext" and f["status"] == "fail"
    ]
    assert any(HOSTILE_TITLE in e for e in evidence)


def test_store_remembers_the_sweep(swept_lab: SweptLab) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "secposture",
            "inventory",
            "list",
            "-c",
            str(swept_lab.config),
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "10.77.0.30" in proc.stdout


def test_root_namespace_saw_no_lab_packet(swept_lab: SweptLab) -> None:
    # tcpdump in the root namespace watched 10.77.0.0/16 for the whole sweep.
    assert swept_lab.root_capture.strip() == ""


def test_sweep_refuses_outside_its_namespace(swept_lab: SweptLab) -> None:
    # Given the lab config pinned to the scanner namespace, when run from the root namespace
    proc = secposture("--lang", "en", "sweep", "-c", str(swept_lab.config), timeout=60)
    # Then it refuses before sending anything, in one line, exit 4
    assert proc.returncode == exitcodes.ENVIRONMENT, proc.stderr
    assert "Refusing to scan" in proc.stderr and "Traceback" not in proc.stderr


def test_demo_command_end_to_end(lab_available: None, tmp_path: Path) -> None:
    """`secposture demo`: its own lab up → sweep → report → lab down (what `make demo` runs)."""
    from secposture.lab import status

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "secposture",
            "demo",
            "--out",
            str(tmp_path / "out"),
            "--var",
            str(tmp_path / "var"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == exitcodes.OK, proc.stderr[-2000:]
    report = tmp_path / "out" / "report.html"
    assert str(report) in proc.stdout
    assert report.stat().st_size > 10_000
    # Its own lab is gone again (other sessions' labs may come and go meanwhile).
    match = re.search(r"lab (sp[0-9a-f]{6}) up", proc.stderr)
    assert match, proc.stderr[-2000:]
    assert match.group(1) not in {s.lab_id for s in status()}
    assert not Path(f"/run/netns/{match.group(1)}-scan").exists()


def test_lab_state_is_untouched(lab: LabState) -> None:
    # The shared lab is still up for the other lab tests.
    assert Path(f"/run/netns/{lab.scanner_ns}").exists()


def test_direct_snmp_probe_reads_the_printer(lab: LabState) -> None:
    """The fallback SNMP probe (used when nmap's scripts leave no evidence) on real snmpd."""
    code = (
        "import json; from scanners.probes.snmp import probe_snmp; "
        "print(json.dumps([o.model_dump(mode='json') for o in probe_snmp('10.77.0.40')]))"
    )
    proc = scanner_exec(
        lab, [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    accepted = {
        o["data"]["community"]: o["data"]["accepted"] for o in seen if o["kind"] == "snmp.community"
    }
    assert accepted == {"public": True, "private": False}
    assert any(o["kind"] == "snmp.sysname" and o["data"]["sysname"] == "printer-01" for o in seen)
    assert any(o["kind"] == "snmp.sysdescr" and "LaserJet" in o["data"]["sysdescr"] for o in seen)


def test_snmp_probe_asks_every_candidate_before_it_waits(lab: LabState) -> None:
    """(issue #20) One socket, every GET out before any wait: a batch costs one wait however
    many hosts stay silent, and the real snmpd's evidence is still read."""
    # Given four lab hosts with no SNMP agent and the printer's real snmpd, printer last
    silent = ["10.77.0.10", "10.77.0.20", "10.77.0.30", "10.77.0.50"]
    candidates = [*silent, "10.77.0.40"]
    code = (
        "import json, sys; from scanners.probes.snmp import probe_snmp_many\n"
        "trace = []\n"
        "found = probe_snmp_many(\n"
        "    sys.argv[1:], timeout=1.0, trace=lambda e, ip: trace.append([e, ip])\n"
        ")\n"
        "print(json.dumps({'trace': trace, 'found': {ip: [o.model_dump(mode='json') for o in obs]"
        " for ip, obs in found.items()}}))"
    )
    capture = start_tcpdump(
        ["ip", "netns", "exec", lab.scanner_ns, "tcpdump", "-n", "-l", "-i", "any", "udp port 161"]
    )
    try:
        # When the probe runs from the scanner namespace
        proc = in_scanner(lab, code, *candidates, check=True)
    finally:
        capture.terminate()
        wire, _ = capture.communicate(timeout=10)
    done = json.loads(proc.stdout)
    # Then it sent both communities to every candidate, and only then waited
    assert done["trace"] == [["send", ip] for ip in candidates for _ in range(2)] + [["wait", None]]
    # and the packets really left: on the wire, every request to the silent hosts comes before
    # the first answer (the printer is asked last, so no answer can come before them)
    lines = [line for line in wire.splitlines() if " IP " in f" {line}"]
    requests = [i for i, line in enumerate(lines) if re.search(r" > 10\.77\.0\.\d+\.161: ", line)]
    answers = [i for i, line in enumerate(lines) if re.search(r" 10\.77\.0\.40\.161 > ", line)]
    target = re.compile(r" > (10\.77\.0\.\d+)\.161: ")
    asked = {m.group(1) for i in requests if (m := target.search(lines[i]))}
    assert asked == set(candidates)
    assert answers, wire
    silent_requests = [i for i in requests if not re.search(r" > 10\.77\.0\.40\.161: ", lines[i])]
    assert len(silent_requests) == 2 * len(silent)
    assert max(silent_requests) < min(answers)
    # and the printer's evidence is found, the silent hosts accepted nothing
    printer = done["found"]["10.77.0.40"]
    accepted = {
        o["data"]["community"]: o["data"]["accepted"]
        for o in printer
        if o["kind"] == "snmp.community"
    }
    assert accepted == {"public": True, "private": False}
    assert any(
        o["kind"] == "snmp.sysname" and o["data"]["sysname"] == "printer-01" for o in printer
    )
    for ip in silent:
        assert [o["data"]["accepted"] for o in done["found"][ip]] == [False, False]
