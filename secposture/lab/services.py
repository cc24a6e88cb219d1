"""Real services for the lab hosts, each started inside its host's namespace.

Every service binds the host's lab address only, keeps its configuration, keys, pid and log
files under the lab's state directory, and runs in the foreground under ``Popen`` so that the
lab owns its pid. ``wait_ready`` then probes them all from the scanner namespace, so ``up()``
returns only when a scan would see them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from secposture.lab.netns import LabRef, scanner_popen
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
class ServiceSpec:
    """What a service listens on, and what its first bytes look like (for the readiness probe)."""

    name: str
    port: int
    proto: Literal["tcp", "udp"]
    banner: bytes = b""


SERVICES: Mapping[str, ServiceSpec] = {
    SSHD_HARDENED: ServiceSpec(SSHD_HARDENED, 22, "tcp", b"SSH-2.0-OpenSSH"),
    FTP_ANONYMOUS: ServiceSpec(FTP_ANONYMOUS, 21, "tcp", b"220"),
    TELNET: ServiceSpec(TELNET, 23, "tcp", b"\xff"),  # telnetd opens with IAC negotiation
    HTTP_ADMIN: ServiceSpec(HTTP_ADMIN, 80, "tcp"),
    SNMP_PUBLIC: ServiceSpec(SNMP_PUBLIC, 161, "udp"),
    JETDIRECT: ServiceSpec(JETDIRECT, 9100, "tcp"),
    FAKENOS_IOS: ServiceSpec(FAKENOS_IOS, 22, "tcp", b"SSH-2.0-Cisco"),
    FAKENOS_IOS_HARDENED: ServiceSpec(FAKENOS_IOS_HARDENED, 22, "tcp", b"SSH-2.0-Cisco"),
    FAKENOS_VRP: ServiceSpec(FAKENOS_VRP, 22, "tcp", b"SSH-2.0-HUAWEI"),
    FAKENOS_IOS_LOCKED: ServiceSpec(FAKENOS_IOS_LOCKED, 22, "tcp", b"SSH-2.0-Cisco"),
}

# Programs each service needs; up() checks them before building anything.
REQUIRED_PROGRAMS: Mapping[str, tuple[str, ...]] = {
    SSHD_HARDENED: ("/usr/sbin/sshd", "ssh-keygen"),
    FTP_ANONYMOUS: ("vsftpd",),
    TELNET: ("socat", "/usr/sbin/telnetd"),
    HTTP_ADMIN: (),
    SNMP_PUBLIC: ("snmpd",),
    JETDIRECT: ("socat",),
    FAKENOS_IOS: (),
    FAKENOS_IOS_HARDENED: (),
    FAKENOS_VRP: (),
    FAKENOS_IOS_LOCKED: (),
}


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
    spec: ServiceSpec
    process: subprocess.Popen[bytes]
    log_file: Path

    @property
    def key(self) -> str:
        """``host/service``: the key of this process in ``LabState.pids``."""
        return f"{self.host}/{self.spec.name}"


def _write(path: Path, text: str, mode: int = 0o600) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, mode)
    return path


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
    config = _write(
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


def _ftp_anonymous(ctx: ServiceContext) -> list[str]:
    work = ctx.workdir(FTP_ANONYMOUS)
    # vsftpd refuses an anonymous root the ftp user could write to: keep both dirs root 0755.
    anon_root = work / "anon"
    empty = work / "empty"
    for directory in (anon_root, empty):
        directory.mkdir(mode=0o755, exist_ok=True)
        os.chmod(directory, 0o755)  # noqa: S103 - world-readable on purpose: it is public FTP
    _write(
        anon_root / "README.txt",
        f"May chu tep UBND xa Thi Diem - thu muc cong khai.\nLab {ctx.lab_id}\n",
        0o644,
    )
    config = _write(
        work / "vsftpd.conf",
        f"""listen=YES
listen_ipv6=NO
listen_address={ctx.host.ip}
listen_port=21
background=NO
anonymous_enable=YES
no_anon_password=YES
anon_root={anon_root}
local_enable=NO
write_enable=NO
secure_chroot_dir={empty}
pasv_enable=YES
pasv_address={ctx.host.ip}
connect_from_port_20=NO
ftpd_banner=Welcome to the UBND xa Thi Diem file server.
xferlog_enable=YES
vsftpd_log_file={work / "vsftpd.log"}
""",
    )
    return ["vsftpd", str(config)]


def _telnet(ctx: ServiceContext) -> list[str]:
    work = ctx.workdir(TELNET)
    # A fake router login instead of /bin/login: the lab must not expose this machine's accounts.
    login = _write(
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
    _write(www / "index.html", admin_page_html(), 0o644)
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
    config = _write(
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


_STARTERS: Mapping[str, Callable[[ServiceContext], list[str]]] = {
    SSHD_HARDENED: _sshd_hardened,
    FTP_ANONYMOUS: _ftp_anonymous,
    TELNET: _telnet,
    HTTP_ADMIN: _http_admin,
    SNMP_PUBLIC: _snmp_public,
    JETDIRECT: _jetdirect,
    FAKENOS_IOS: _fakenos_ios,
    FAKENOS_IOS_HARDENED: _fakenos_ios_hardened,
    FAKENOS_VRP: _fakenos_vrp,
    FAKENOS_IOS_LOCKED: _fakenos_ios_locked,
}


def start_service(ctx: ServiceContext, service: str) -> StartedService:
    """Prepare and start one service of ``ctx.host`` inside its namespace (does not wait)."""
    if service not in _STARTERS:
        raise ServiceStartError(f"{ctx.host.name}: unknown service {service!r}")
    argv = _STARTERS[service](ctx)
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


# Runs inside the scanner namespace with `python -I -c`: no project imports, stdlib only.
_PROBE_SCRIPT = r"""
import json, socket, sys, time
checks = json.loads(sys.argv[1])
deadline = time.monotonic() + float(sys.argv[2])
# SNMPv2c GetRequest for sysDescr.0 with community "public", request-id 1.
SNMP_GET = bytes.fromhex(
    "302902010104067075626c6963a01c0204000000010201000201003"
    "00e300c06082b060102010101000500")
pending = {c["key"]: c for c in checks}
while pending and time.monotonic() < deadline:
    for key, c in list(pending.items()):
        try:
            if c["proto"] == "udp":
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.settimeout(0.3)
                    s.sendto(SNMP_GET, (c["ip"], c["port"]))
                    s.recv(4096)
            else:
                with socket.create_connection((c["ip"], c["port"]), timeout=0.5) as s:
                    want = bytes.fromhex(c["banner"])
                    got = b""
                    s.settimeout(1.0)
                    while len(got) < len(want):
                        chunk = s.recv(256)
                        if not chunk:
                            break
                        got += chunk
                    if not got.startswith(want):
                        continue
            del pending[key]
        except OSError:
            pass
    if pending:
        time.sleep(0.05)
print(json.dumps(sorted(pending)))
sys.exit(1 if pending else 0)
"""


def _log_tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def _failure(service: StartedService, reason: str) -> ServiceStartError:
    return ServiceStartError(
        f"lab service {service.key} ({service.spec.proto}/{service.spec.port} on {service.ip}) "
        f"{reason}; last lines of {service.log_file}:\n{_log_tail(service.log_file)}"
    )


def wait_ready(lab: LabRef, started: Sequence[StartedService], timeout: float = 20.0) -> None:
    """Block until every started service answers from the scanner namespace.

    Raises ``ServiceStartError`` naming the first service that exited or never answered
    within ``timeout`` seconds.
    """
    if not started:
        return
    checks = [
        {
            "key": s.key,
            "ip": s.ip,
            "port": s.spec.port,
            "proto": s.spec.proto,
            "banner": s.spec.banner.hex(),
        }
        for s in started
    ]
    probe = scanner_popen(
        lab,
        [sys.executable, "-I", "-c", _PROBE_SCRIPT, json.dumps(checks), str(timeout)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + timeout + 5.0
    try:
        while probe.poll() is None:
            for service in started:
                if service.process.poll() is not None:
                    raise _failure(service, f"exited with status {service.process.returncode}")
            if time.monotonic() > deadline:
                raise ServiceStartError(f"readiness probe did not finish within {timeout:.0f} s")
            time.sleep(0.05)
        out, err = probe.communicate()
    finally:
        if probe.poll() is None:
            probe.kill()
            probe.wait()
    if probe.returncode == 0:
        return
    try:
        pending = set(json.loads(out.decode() or "null") or [])
    except ValueError:
        pending = set()
    for service in started:
        if service.key in pending:
            raise _failure(service, f"did not answer within {timeout:.0f} s")
    raise ServiceStartError(f"readiness probe failed: {err.decode(errors='replace').strip()}")


__all__ = [
    "HOSTILE_TITLE",
    "REQUIRED_PROGRAMS",
    "SERVICES",
    "SNMP_COMMUNITY",
    "SNMP_SYS_DESCR",
    "SNMP_SYS_NAME",
    "ServiceContext",
    "ServiceSpec",
    "ServiceStartError",
    "StartedService",
    "admin_page_html",
    "start_service",
    "wait_ready",
]
