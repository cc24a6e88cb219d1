"""The namespace lab's real services answer from the scanner namespace as staged."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from support.commands import in_scanner

from secposture.lab import (
    LabState,
    scanner_exec,
    services,
)
from secposture.lab.fakenos_device import running_config

pytestmark = pytest.mark.lab


def nmap_open_ports(xml_text: str) -> dict[str, set[int]]:
    """Open ports per address from nmap's XML output."""
    found: dict[str, set[int]] = {}
    for host in ET.fromstring(xml_text).iter("host"):
        address = host.find("address")
        assert address is not None
        found[address.get("addr", "")] = {
            int(port.get("portid", "0"))
            for port in host.iter("port")
            if (state := port.find("state")) is not None and state.get("state") == "open"
        }
    return found


# --------------------------------------------------------------------------- services


def test_each_host_answers_on_its_service_ports(lab: LabState) -> None:
    # Given the demo lab, when nmap SYN-scans every host from the scanner namespace
    ports = "21,22,23,80,161,9100"
    targets = [host.ip for host in lab.hosts]
    result = scanner_exec(
        lab,
        ["nmap", "-n", "-Pn", "-sS", "-T4", "-p", ports, "-oX", "-", *targets],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    open_ports = nmap_open_ports(result.stdout)
    # Then exactly the TCP ports of each host's services are open, nothing else
    for host in lab.hosts:
        expected = {
            services.SERVICES[s].port for s in host.services if services.SERVICES[s].proto == "tcp"
        }
        assert open_ports[host.ip] == expected, host.name


SYS_DESCR, SYS_NAME = "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.5.0"


def test_printer_answers_snmp_v2c_with_community_public(lab: LabState) -> None:
    printer = lab.host("printer")
    # When the scanner asks for sysDescr with community "public"
    good = scanner_exec(
        lab,
        ["snmpget", "-v2c", "-c", "public", "-Ovq", "-t", "2", printer.ip, SYS_DESCR, SYS_NAME],
        capture_output=True,
        text=True,
        timeout=30,
    )
    # Then the printer describes itself
    assert good.returncode == 0, good.stderr
    assert good.stdout.splitlines() == [
        f'"{services.SNMP_SYS_DESCR}"',
        f'"{services.SNMP_SYS_NAME}"',
    ]
    # And a wrong community gets no answer at all
    bad = scanner_exec(
        lab,
        ["snmpget", "-v2c", "-c", "private", "-t", "0.5", "-r", "0", printer.ip, SYS_DESCR],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode != 0
    assert "Timeout" in bad.stderr + bad.stdout
    # And UDP 161 is open to nmap
    udp = scanner_exec(
        lab,
        ["nmap", "-n", "-Pn", "-sU", "-p", "161", printer.ip],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "161/udp open" in udp.stdout


# A client of each cleartext service, run from the scanner namespace against the host
# (argv[1]), and what its output must hold ("{lab_id}": the lab's own id).
CLIENTS = {
    "old router: a hostile <title> over cleartext HTTP": (
        "old-router",
        "import sys, urllib.request;"
        "r = urllib.request.urlopen(f'http://{sys.argv[1]}/', timeout=5);"
        "print(r.read().decode())",
        (
            "<title><script>alert('xss')</script> Router admin</title>",
            '<input type="password" name="password">',
        ),
    ),
    "old router: a telnet login": (
        "old-router",
        "import sys, warnings; warnings.simplefilter('ignore'); import telnetlib;"
        "tn = telnetlib.Telnet(sys.argv[1], 23, timeout=5);"
        "print(tn.read_until(b'Username: ', timeout=5).decode());"
        "tn.write(b'admin\\n'); print(tn.read_until(b'Password: ', timeout=5).decode());"
        "tn.write(b'admin\\n'); print(tn.read_until(b'invalid', timeout=5).decode())",
        ("User Access Verification", "% Login invalid"),
    ),
    "file server: anonymous FTP": (
        "fileserver",
        "import io, sys, ftplib; f = ftplib.FTP(sys.argv[1], timeout=5); print(f.login());"
        "b = io.BytesIO(); f.retrbinary('RETR README.txt', b.write); print(b.getvalue().decode())",
        ("230 Login successful", "Lab {lab_id}"),
    ),
}


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_cleartext_services_answer_their_clients(lab: LabState, client: str) -> None:
    host, code, wanted = CLIENTS[client]
    out = in_scanner(lab, code, lab.host(host).ip, check=True).stdout
    for fragment in wanted:
        assert fragment.format(lab_id=lab.lab_id) in out, out


def test_hardened_ssh_offers_public_keys_only(lab: LabState) -> None:
    server = lab.host("ssh-hardened")
    result = scanner_exec(
        lab,
        [
            *["ssh", "-v", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no"],
            *["-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5"],
            f"root@{server.ip}",
            "true",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "remote software version OpenSSH" in result.stderr
    assert "Authentications that can continue: publickey\n" in result.stderr


NETMIKO_SCRIPT = """
import json, sys
from netmiko import ConnectHandler
host, password_file, secret_file = sys.argv[1:4]
conn = ConnectHandler(device_type="cisco_ios", host=host, username="admin",
                      password=open(password_file).read().strip(),
                      secret=open(secret_file).read().strip(), conn_timeout=10)
conn.enable()
out = {"prompt": conn.find_prompt(), "config": conn.send_command("show running-config"),
       "version": conn.send_command("show version")}
conn.disconnect()
print(json.dumps(out))
"""


def test_core_switch_serves_its_weak_config_to_netmiko(lab: LabState) -> None:
    switch = lab.host("core-switch")
    password, enable = lab.secret_values()
    # When netmiko logs in from the scanner namespace and reads the running-config
    result = in_scanner(
        lab,
        NETMIKO_SCRIPT,
        switch.ip,
        lab.secrets.device_password_file,
        lab.secrets.device_enable_secret_file,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    config_lines = out["config"].splitlines()
    # Then it is the staged weak configuration, with this lab's own secrets in clear text
    assert out["prompt"] == "core-switch#"
    for line in (
        "no service password-encryption",
        "hostname core-switch",
        f"enable password {enable}",
        f"username admin privilege 15 password 0 {password}",
        " transport input telnet ssh",
        "ip http server",
        "snmp-server community public RO",
    ):
        assert line in config_lines, line
    assert not any(line.startswith(("logging host", "ntp server")) for line in config_lines)
    assert "Version 15.0(2)SE11" in out["version"]
    assert "core-switch uptime is" in out["version"]


def test_core_switch_announces_cisco_ssh(lab: LabState) -> None:
    result = in_scanner(
        lab,
        "import socket, sys;"
        "s = socket.create_connection((sys.argv[1], 22), timeout=5);"
        "print(s.recv(64).decode().strip())",
        lab.host("core-switch").ip,
    )
    assert result.stdout.strip() == "SSH-2.0-Cisco-1.25"


def test_running_config_is_weak_and_counts_its_bytes() -> None:
    text = running_config(
        hostname="sw",
        username="admin",
        user_password="u-pw",
        enable_password="e-pw",
        address="10.0.0.5",
        prefix_len=24,
        gateway=None,
    )
    header, _, body = text.partition("bytes\n")
    assert header.endswith(f"Current configuration : {len(body)} ")
    assert "enable password e-pw\n" in body
    assert " ip address 10.0.0.5 255.255.255.0\n" in body
    assert "ip default-gateway" not in body
