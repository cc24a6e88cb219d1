"""Real services for the lab hosts, each started inside its host's namespace.

Every service binds the host's lab address only, keeps its configuration, keys, pid and log
files under the lab's state directory, and runs in the foreground under ``Popen`` so that the
lab owns its pid. ``SERVICES`` is the one table of service kinds the lab can start (the
scanner tests add theirs with :func:`register_service`); ``secposture.lab.readiness`` then
probes them all from the scanner namespace, so ``up()`` returns only when a scan would see them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from secposture.lab.state import write_file
from secposture.lab.topology import (
    FAKENOS_IOS,
    FAKENOS_IOS_HARDENED,
    FAKENOS_IOS_LOCKED,
    FAKENOS_VRP,
    FTP_ANONYMOUS,
    HTTP_ADMIN,
    JETDIRECT,
    SNMP_PUBLIC,
    SSHD_HARDENED,
    TELNET,
    LabHost,
)

# The project root, so `python -m secposture.lab.fakenos_device` imports this very checkout.
_PROJECT_ROOT = Path(__file__).resolve().parents[2]

HOSTILE_TITLE = "<script>alert('xss')</script> Router admin"
SNMP_COMMUNITY = "public"
SNMP_SYS_DESCR = "HP LaserJet Pro M404dn, FW 002.2209A, JetDirect"
SNMP_SYS_NAME = "printer-01"


class ServiceStartError(RuntimeError):
    """A lab service exited or never answered; the message names the host and service."""


@dataclass(frozen=True)
class ServiceContext:
    """Everything a service starter needs to know about its host and its lab."""

    lab_id: str
    state_dir: Path
    netns: str
    host: LabHost
    gateway: str | None
    device_username: str
    device_password_file: Path
    device_enable_secret_file: Path
    # The device-audit lab's extra secrets (None in labs without those devices).
    locked_password_file: Path | None = None
    snmp_write_community_file: Path | None = None

    def workdir(self, service: str) -> Path:
        """A private directory for one service of this host (config, keys, pid, data)."""
        path = self.state_dir / "hosts" / self.host.name / service
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path

    def log_file(self, service: str) -> Path:
        """Where the service's stdout and stderr go."""
        logs = self.state_dir / "logs"
        logs.mkdir(mode=0o700, exist_ok=True)
        return logs / f"{self.host.name}.{service}.log"


@dataclass(frozen=True)
class StartedService:
    """A service process the lab started, and where to probe it."""

    host: str
    ip: str
    spec: LabService
    process: subprocess.Popen[bytes]
    log_file: Path

    @property
    def key(self) -> str:
        """``host/service``: the key of this process in ``LabState.pids``."""
        return f"{self.host}/{self.spec.name}"


def _sshd_hardened(ctx: ServiceContext) -> list[str]:
    work = ctx.workdir(SSHD_HARDENED)
    key = work / "ssh_host_ed25519_key"
    if not key.exists():
        # Per-lab host keys: never touch /etc/ssh, and two labs never share a key.
        subprocess.run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                f"{ctx.host.name}@{ctx.lab_id}",
                "-f",
                str(key),
            ],
            check=True,
            capture_output=True,
        )
    # sshd insists on its privilege-separation directory even when nobody can log in.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    config = write_file(
        work / "sshd_config",
        f"""# Hardened OpenSSH for the secposture lab ({ctx.lab_id}); nobody can log in.
Port 22
ListenAddress {ctx.host.ip}
AddressFamily inet
HostKey {key}
PidFile {work / "sshd.pid"}
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
PubkeyAuthentication yes
AuthenticationMethods publickey
# No authorized keys and an allow-list naming no real account: the lab grants no shell.
AuthorizedKeysFile none
AllowUsers secposture-lab-nobody
UsePAM no
MaxAuthTries 3
LoginGraceTime 30
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitTunnel no
ClientAliveInterval 300
ClientAliveCountMax 2
KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org
Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com
MACs hmac-sha2-512-etm@openssh.com,hmac-sha2-256-etm@openssh.com
LogLevel VERBOSE
""",
    )
    return ["/usr/sbin/sshd", "-D", "-e", "-f", str(config)]


def anonymous_vsftpd(work: Path, address: str | None, settings: str) -> list[str]:
    """vsftpd serving anonymous FTP from ``work``: on ``address``, or every address when None.

    ``settings`` adds lines to the config (banner, logging, client limits)."""
    # vsftpd refuses an anonymous root the ftp user could write to: keep both dirs root 0755.
    anon_root = work / "anon"
    empty = work / "empty"
    for directory in (anon_root, empty):
        directory.mkdir(mode=0o755, exist_ok=True)
        os.chmod(directory, 0o755)  # noqa: S103 - world-readable on purpose: it is public FTP
    # No listen_address/pasv_address: every address, passive on the control connection's.
    bound = "" if address is None else f"listen_address={address}\n"
    passive = "" if address is None else f"pasv_address={address}\n"
    config = write_file(
        work / "vsftpd.conf",
        f"""listen=YES
listen_ipv6=NO
{bound}listen_port=21
background=NO
anonymous_enable=YES
no_anon_password=YES
anon_root={anon_root}
local_enable=NO
write_enable=NO
secure_chroot_dir={empty}
pasv_enable=YES
{passive}connect_from_port_20=NO
{settings}vsftpd_log_file={work / "vsftpd.log"}
""",
    )
    return ["vsftpd", str(config)]


def _ftp_anonymous(ctx: ServiceContext) -> list[str]:
    work = ctx.workdir(FTP_ANONYMOUS)
    command = anonymous_vsftpd(
        work,
        ctx.host.ip,
        "ftpd_banner=Welcome to the UBND xa Thi Diem file server.\nxferlog_enable=YES\n",
    )
    write_file(
        work / "anon" / "README.txt",
        f"May chu tep UBND xa Thi Diem - thu muc cong khai.\nLab {ctx.lab_id}\n",
        0o644,
    )
    return command


def _telnet(ctx: ServiceContext) -> list[str]:
    work = ctx.workdir(TELNET)
    # A fake router login instead of /bin/login: the lab must not expose this machine's accounts.
    login = write_file(
        work / "login.sh",
        """#!/bin/sh
printf '\\nUser Access Verification\\n\\nUsername: '
read -r user
printf 'Password: '
stty -echo 2>/dev/null
read -r pass
stty echo 2>/dev/null
printf '\\n%% Login invalid\\n\\n'
sleep 1
""",
        0o700,
    )
    # `nofork` hands telnetd the TCP socket itself, as inetd would; through socat's default
    # socketpair telnetd cannot see a network peer.
    return [
        "socat",
        f"TCP-LISTEN:23,bind={ctx.host.ip},fork,reuseaddr",
        f"EXEC:/usr/sbin/telnetd -h -E {login},nofork",
    ]


def admin_page_html() -> str:
    """The old router's admin page: a login form under a hostile ``<title>``."""
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>{HOSTILE_TITLE}</title>
</head>
<body>
<h1>Router admin</h1>
<form method="post" action="/login.cgi">
<label>Username <input type="text" name="username"></label>
<label>Password <input type="password" name="password"></label>
<input type="submit" value="Login">
</form>
</body>
</html>
"""


def _http_admin(ctx: ServiceContext) -> list[str]:
    www = ctx.workdir(HTTP_ADMIN) / "www"
    www.mkdir(mode=0o755, exist_ok=True)
    write_file(www / "index.html", admin_page_html(), 0o644)
    return [
        sys.executable,
        "-I",
        "-m",
        "http.server",
        "80",
        "--bind",
        ctx.host.ip,
        "--directory",
        str(www),
    ]


def _snmp_public(ctx: ServiceContext) -> list[str]:
    work = ctx.workdir(SNMP_PUBLIC)
    (work / "persist").mkdir(mode=0o700, exist_ok=True)
    config = write_file(
        work / "snmpd.conf",
        f"""agentAddress udp:{ctx.host.ip}:161
rocommunity {SNMP_COMMUNITY} default
sysDescr {SNMP_SYS_DESCR}
sysName {SNMP_SYS_NAME}
sysLocation Van phong UBND xa Thi Diem
sysContact it@xa-thidiem.example
sysObjectID .1.3.6.1.4.1.11.2.3.9.1
sysServices 72
[snmp] persistentDir {work / "persist"}
""",
    )
    return [
        "snmpd",
        "-f",
        "-C",
        "-c",
        str(config),
        "-p",
        str(work / "snmpd.pid"),
        "-Lf",
        str(work / "snmpd.log"),
    ]


def _jetdirect(ctx: ServiceContext) -> list[str]:
    # A raw print port: accept anything, print nothing.
    return ["socat", "-u", f"TCP-LISTEN:9100,bind={ctx.host.ip},fork,reuseaddr", "OPEN:/dev/null"]


def _fakenos_ios(ctx: ServiceContext) -> list[str]:
    return _fakenos(ctx, FAKENOS_IOS, "weak", ctx.device_password_file)


def _fakenos_ios_hardened(ctx: ServiceContext) -> list[str]:
    return _fakenos(ctx, FAKENOS_IOS_HARDENED, "hardened", ctx.device_password_file)


def _fakenos_ios_locked(ctx: ServiceContext) -> list[str]:
    # Its password is not the one the lab's configs reference: every login must fail.
    if ctx.locked_password_file is None:
        raise ServiceStartError(f"{ctx.host.name}: this lab has no locked-device password")
    return _fakenos(ctx, FAKENOS_IOS_LOCKED, "weak", ctx.locked_password_file)


def _fakenos_vrp(ctx: ServiceContext) -> list[str]:
    if ctx.snmp_write_community_file is None:
        raise ServiceStartError(f"{ctx.host.name}: this lab has no SNMP write community")
    return [
        *_fakenos(ctx, FAKENOS_VRP, "vrp", ctx.device_password_file),
        "--snmp-community-file",
        str(ctx.snmp_write_community_file),
    ]


def _fakenos(ctx: ServiceContext, service: str, profile: str, password_file: Path) -> list[str]:
    work = ctx.workdir(service)
    argv = [
        sys.executable,
        "-m",
        "secposture.lab.fakenos_device",
        "--address",
        ctx.host.ip,
        "--port",
        "22",
        "--hostname",
        ctx.host.name,
        "--prefix-len",
        str(ctx.host.prefix_len),
        "--username",
        ctx.device_username,
        "--password-file",
        str(password_file),
        "--enable-secret-file",
        str(ctx.device_enable_secret_file),
        "--workdir",
        str(work),
        "--profile",
        profile,
    ]
    if ctx.gateway:
        argv += ["--gateway", ctx.gateway]
    return argv


@dataclass(frozen=True)
class LabService:
    """One kind of lab service: the programs it needs, its command, where it answers."""

    name: str
    # Prepares the service's files and returns its foreground command line.
    command: Callable[[ServiceContext], list[str]]
    # The port the readiness probe waits on (None: nothing to probe), and its first bytes.
    port: int | None
    proto: Literal["tcp", "udp"] = "tcp"
    banner: bytes = b""
    programs: tuple[str, ...] = ()
    # Further TCP ports the service opens besides ``port`` (Samba's 139 beside 445).
    also_ports: tuple[int, ...] = ()

    @property
    def tcp_ports(self) -> tuple[int, ...]:
        """Every TCP port the service listens on."""
        first = (self.port,) if self.port is not None and self.proto == "tcp" else ()
        return (*first, *self.also_ports)


# The one table of service kinds the lab can start. Topologies name them (topology.py keeps
# the names, so that topologies stay data); the scanner tests add theirs (register_service).
SERVICES: dict[str, LabService] = {
    service.name: service
    for service in (
        LabService(
            SSHD_HARDENED,
            _sshd_hardened,
            22,
            banner=b"SSH-2.0-OpenSSH",
            programs=("/usr/sbin/sshd", "ssh-keygen"),
        ),
        LabService(FTP_ANONYMOUS, _ftp_anonymous, 21, banner=b"220", programs=("vsftpd",)),
        # telnetd opens with IAC negotiation.
        LabService(TELNET, _telnet, 23, banner=b"\xff", programs=("socat", "/usr/sbin/telnetd")),
        LabService(HTTP_ADMIN, _http_admin, 80),
        LabService(SNMP_PUBLIC, _snmp_public, 161, "udp", programs=("snmpd",)),
        LabService(JETDIRECT, _jetdirect, 9100, programs=("socat",)),
        LabService(FAKENOS_IOS, _fakenos_ios, 22, banner=b"SSH-2.0-Cisco"),
        LabService(FAKENOS_IOS_HARDENED, _fakenos_ios_hardened, 22, banner=b"SSH-2.0-Cisco"),
        LabService(FAKENOS_VRP, _fakenos_vrp, 22, banner=b"SSH-2.0-HUAWEI"),
        LabService(FAKENOS_IOS_LOCKED, _fakenos_ios_locked, 22, banner=b"SSH-2.0-Cisco"),
    )
}


def register_service(service: LabService) -> None:
    """Add a kind of service to :data:`SERVICES` (tests/lab/support adds the scanner tests').

    Registering the same entry again is harmless (a module imported twice); another entry
    under a name already taken is refused, so no one silently replaces a lab service.
    """
    known = SERVICES.get(service.name)
    if known is not None and known != service:
        raise ValueError(f"lab service {service.name!r} is already registered")
    SERVICES[service.name] = service


def start_service(ctx: ServiceContext, service: str) -> StartedService:
    """Prepare and start one service of ``ctx.host`` inside its namespace (does not wait)."""
    if service not in SERVICES:
        raise ServiceStartError(f"{ctx.host.name}: unknown service {service!r}")
    argv = SERVICES[service].command(ctx)
    log_file = ctx.log_file(service)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_PROJECT_ROOT), env.get("PYTHONPATH")]))
    with open(log_file, "ab") as log:
        process = subprocess.Popen(
            ["ip", "netns", "exec", ctx.netns, *argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ctx.workdir(service),
            env=env,
            # Own session: the lab outlives the command that built it, and a Ctrl-C in the
            # terminal that ran `lab up` does not take the services down.
            start_new_session=True,
        )
    return StartedService(ctx.host.name, ctx.host.ip, SERVICES[service], process, log_file)


__all__ = [
    "HOSTILE_TITLE",
    "SERVICES",
    "SNMP_COMMUNITY",
    "SNMP_SYS_DESCR",
    "SNMP_SYS_NAME",
    "LabService",
    "ServiceContext",
    "ServiceStartError",
    "StartedService",
    "admin_page_html",
    "register_service",
    "start_service",
]
