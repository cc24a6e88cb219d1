"""The agency report of a real lab sweep, hostile text and all, in a real browser (issue #7).

A private lab (the shared one must not change): the demo's old router, whose admin page title
carries ``<script>``, and one more host whose every answer is hostile: an HTTP title, an SNMP
sysDescr, an FTP and an SSH banner, and the name reverse DNS gives for it. The sweep runs
inside the lab's scanner namespace; the report is then re-rendered in Vietnamese with
``secposture report`` and opened in headless Chromium over the DevTools pipe.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from inventory.store import Inventory
from secposture.lab import LabState, add_host, demo_config_text, down, scanner_exec, up
from secposture.lab.services import HOSTILE_TITLE
from secposture.lab.topology import DEMO_SUBNET, HTTP_ADMIN, LabHost, Topology
from secposture.model.records import SweepResult

pytestmark = pytest.mark.lab


from cdp_browser import Browser, have_chromium  # noqa: E402

HOSTILE_IP = "10.77.0.66"
TITLE = '<img src=x onerror="window.__pwned=1">{{7*7}} \u202eadmin'
SYSDESCR = "Linux nas <script>window.__pwned=2</script> {{7*7}}"
# nmap reads these two as versions ("220 vsFTPd (.*) ready..." and OpenSSH's banner), so the
# device's text reaches the report through the service's version, as on a real LAN.
FTP_PAYLOAD = "<script>window.__pwned=3</script>javascript:alert(1)"
FTP_BANNER = f"220 vsFTPd 3.0.3 {FTP_PAYLOAD} ready..."
SSH_PAYLOAD = "<img src=x onerror=alert(4)>"
SSH_BANNER = f"SSH-2.0-OpenSSH_9.2p1 Debian-2 {SSH_PAYLOAD}"
HOSTNAME = "<svg onload=alert(5)>.hoabinh"  # what reverse DNS answers for the host

TOPOLOGY = Topology(
    name="report-hostile",
    subnet=DEMO_SUBNET,
    scanner_ip="10.77.0.2",
    scanner_mac="02:53:50:00:00:02",
    excluded=("10.77.0.2",),
    hosts=(LabHost("old-router", "router", "10.77.0.30", (HTTP_ADMIN,), mac="e4:8d:8c:00:00:1e"),),
)

# A banner server: sends its line, then waits for the client as a real daemon does.
BANNER_SERVER = """
import socket, sys, threading
server = socket.create_server((sys.argv[1], int(sys.argv[2])))
def serve(conn):
    with conn:
        conn.settimeout(8)
        conn.sendall(sys.argv[3].encode() + b"\\r\\n")
        try:
            conn.recv(1024)
        except OSError:
            pass
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
"""

# A reverse-DNS server: answers every PTR question with the name in argv[2].
PTR_SERVER = """
import socket, struct, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((sys.argv[1], 53))
target = b"".join(bytes([len(l)]) + l.encode() for l in sys.argv[2].split(".")) + b"\\0"
while True:
    query, peer = sock.recvfrom(512)
    try:  # nmap's own UDP probes of port 53 are not questions: ignore them
        end = query.index(b"\\0", 12) + 5
    except ValueError:
        continue
    header = query[:2] + struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0)
    answer = struct.pack("!HHHIH", 0xC00C, 12, 1, 60, len(target)) + target
    sock.sendto(header + query[12:end] + answer, peer)
"""


def _spawn(host_ns: str, log: Path, argv: list[str]) -> None:
    """Start a process inside a lab host's namespace; the lab's teardown ends it."""
    with log.open("ab") as out:
        subprocess.Popen(
            ["ip", "netns", "exec", host_ns, *argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _wait_tcp(state: LabState, port: int) -> None:
    probe = (
        "import socket, time\nfor _ in range(50):\n    try:\n"
        f"        socket.create_connection(('{HOSTILE_IP}', {port}), 0.2).close()\n"
        "        break\n    except OSError:\n        time.sleep(0.1)\n"
        "else:\n    raise SystemExit(1)\n"
    )
    scanner_exec(state, [sys.executable, "-c", probe], check=True, timeout=30)


@pytest.fixture(scope="module")
def hostile_lab(lab_available: None) -> Iterator[LabState]:
    """The private lab with the hostile host, its services up and reverse DNS pointing at it."""
    if shutil.which("snmpd") is None:
        pytest.skip("snmpd is not installed")
    state = up(topology=TOPOLOGY)
    resolv = Path("/etc/netns") / state.scanner_ns
    try:
        state = add_host(
            state, LabHost("hostile", "server", HOSTILE_IP, (), mac="00:11:32:00:00:42")
        )
        ns = state.host("hostile").ns
        work = Path(state.state_dir) / "hostile"
        (work / "www").mkdir(parents=True)
        (work / "www" / "index.html").write_text(
            f"<html><head><title>{TITLE}</title></head><body>NAS</body></html>", "utf-8"
        )
        (work / "snmpd.conf").write_text(
            f"agentAddress udp:{HOSTILE_IP}:161\nrocommunity public default\n"
            f"sysDescr {SYSDESCR}\nsysName nas\n[snmp] persistentDir {work}\n",
            "utf-8",
        )
        python = [sys.executable, "-I"]
        _spawn(ns, work / "http.log", [*python, "-m", "http.server", "80", "--bind", HOSTILE_IP,
                                       "--directory", str(work / "www")])  # fmt: skip
        _spawn(ns, work / "snmpd.log", ["snmpd", "-f", "-C", "-c", str(work / "snmpd.conf"),
                                        "-p", str(work / "snmpd.pid"), "-Lo"])  # fmt: skip
        _spawn(ns, work / "ftp.log", [*python, "-c", BANNER_SERVER, HOSTILE_IP, "21", FTP_BANNER])
        _spawn(ns, work / "ssh.log", [*python, "-c", BANNER_SERVER, HOSTILE_IP, "22", SSH_BANNER])
        _spawn(ns, work / "dns.log", [*python, "-c", PTR_SERVER, HOSTILE_IP, HOSTNAME])
        # `ip netns exec` gives the scanner namespace this resolv.conf: its reverse lookups
        # go to the hostile host, inside the lab.
        resolv.mkdir(parents=True, exist_ok=True)
        (resolv / "resolv.conf").write_text(f"nameserver {HOSTILE_IP}\n", "utf-8")
        for port in (21, 22, 80):
            _wait_tcp(state, port)
        # snmpd answers over UDP: ask it for its sysDescr until it does
        snmpget = ["snmpget", "-v2c", "-c", "public", "-t", "0.5", "-r", "0", HOSTILE_IP,
                   "1.3.6.1.2.1.1.1.0"]  # fmt: skip
        for _ in range(20):
            if scanner_exec(state, snmpget, capture_output=True, check=False).returncode == 0:
                break
            time.sleep(0.25)
        yield state
    finally:
        shutil.rmtree(resolv, ignore_errors=True)
        down(state.lab_id)


@pytest.fixture(scope="module")
def lab_report(hostile_lab: LabState, tmp_path_factory: pytest.TempPathFactory) -> SweptReport:
    """Sweep the hostile lab from its scanner namespace, then re-render the report in vi."""
    folder = tmp_path_factory.mktemp("hostile-lab")
    config = folder / "agency.toml"
    config.write_text(
        demo_config_text(
            hostile_lab, store_path=folder / "inventory.json", report_dir=folder / "report"
        ),
        encoding="utf-8",
    )
    sweep = scanner_exec(
        hostile_lab,
        [sys.executable, "-m", "secposture", "--lang", "en", "sweep", "-c", str(config), "-q"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert sweep.returncode == 0, sweep.stderr[-2000:]
    # Re-rendering reads the store only: it runs in the root namespace and sends nothing.
    report = subprocess.run(
        [sys.executable, "-m", "secposture", "--lang", "vi", "report", "-c", str(config),
         "--json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr[-2000:]
    stored = Inventory(folder / "inventory.json").latest_result()
    assert stored is not None
    return SweptReport(Path(json.loads(report.stdout)["files"]["html"]), stored)


@dataclass(frozen=True)
class SweptReport:
    html: Path
    sweep: SweepResult


def words(text: str) -> str:
    """Text as the page lays it out: runs of white space are one space."""
    return " ".join(text.split())


def recorded_texts(sweep: SweepResult) -> dict[str, str]:
    """Every piece of text the sweep took from a device that the report shows."""
    found = {}
    for o in sweep.observations:
        for key in ("title", "banner", "sysdescr", "sysname"):
            value = o.data.get(key)
            if isinstance(value, str) and value.strip():
                found[f"{o.kind} {key} of {o.ip}"] = value
    for host in sweep.hosts:
        if host.hostname:
            found[f"hostname of {host.ip}"] = host.hostname
        for service in host.services:
            if service.version:
                found[f"version of {host.ip}:{service.key}"] = service.version
    return found


@pytest.mark.skipif(not have_chromium(), reason="chromium is not installed")
def test_a_swept_lab_report_shows_every_hostile_answer_as_text_and_runs_none(
    lab_report: SweptReport, tmp_path: Path
) -> None:
    with Browser(tmp_path / "profile") as browser:
        url = lab_report.html.as_uri()
        browser.load(url)

        # Nothing ran, nothing was fetched, nothing was logged
        assert browser.evaluate("typeof window.__pwned") == "undefined"
        assert browser.dialogs() == []
        assert browser.console_errors() == []
        assert browser.requests() == [url]
        assert browser.evaluate("document.querySelectorAll('img, iframe, object').length") == 0
        assert browser.evaluate("document.scripts.length") == 1  # the page's own
        text = words(browser.evaluate("document.body.innerText"))
        assert "Báo cáo an toàn thông tin mạng nội bộ".upper() in text

    # The hostile answers the scanner records every time are on screen, as text...
    for where, payload in {
        "the lab router's page title": HOSTILE_TITLE,
        "an HTTP title": TITLE.replace("\u202e", "[U+202E]"),
        "an FTP banner": FTP_PAYLOAD,
        "an SSH banner": SSH_PAYLOAD,
        "a reverse-DNS hostname": HOSTNAME,
    }.items():
        assert payload in text, where
    # ...and so is everything else a device said that the sweep kept (the SNMP sysDescr
    # among them when the scanner's SNMP scripts answered)
    for where, value in recorded_texts(lab_report.sweep).items():
        assert words(value.replace("\u202e", "[U+202E]")) in text, where
    assert "\u202e" not in text
