"""The services the scanner tests need beside the demo lab's (issue #3), as lab services.

Each is a ``LabService`` registered in the lab's one table (``secposture.lab.services``) when
this module is imported, so ``start`` in ``support.network`` (or a topology naming it) starts
it like any lab service: inside its host's namespace, files under the lab's state dir.
PostgreSQL, which refuses to run as root, keeps its data under :data:`OUTSIDE_ROOT` instead;
``support.network.cleanup`` removes it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from secposture.lab.services import (
    SERVICES,
    LabService,
    ServiceContext,
    anonymous_vsftpd,
    register_service,
)
from secposture.lab.state import LabError, write_file

OUTSIDE_ROOT = Path("/var/tmp/secposture-lab")
SMB_NETBIOS_NAME = "FILESRV-XA"
MDNS_HOST_NAME = "nas-phong-ke-toan"
DNS_NAMES_FILE = "names.json"  # in the dns-ptr service's workdir: reverse pointer → name


def program(name: str) -> str | None:
    """A program's path; PostgreSQL's live in /usr/lib/postgresql/<version>/bin, off PATH."""
    found = shutil.which(name)
    if found is None:
        versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
        found = str(versions[-1]) if versions else None
    return found


def missing_programs(services: Sequence[str], programs: Sequence[str] = ()) -> list[str]:
    """Programs the given lab services (and ``programs``) need that this machine lacks."""
    needed = {*programs, *(p for s in services for p in SERVICES[s].programs)}
    return sorted(p for p in needed if program(p) is None)


def _run(argv: Sequence[str]) -> None:
    result = subprocess.run(list(argv), capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise LabError(f"`{' '.join(argv)}` failed: {detail}")


def expired_certificate(folder: Path, common_name: str) -> tuple[Path, Path]:
    """A self-signed RSA certificate that expired a year ago; returns (cert, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=730))
        .not_valid_after(now - timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    cert_path = folder / "cert.pem"
    key_path = folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    os.chmod(key_path, 0o600)
    return cert_path, key_path


# A reverse-DNS server (stdlib only): answers PTR questions from a JSON map, NXDOMAIN else.
_DNS_SCRIPT = r"""
import json, socket, struct, sys
names = json.loads(sys.argv[2])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((sys.argv[1], 53))
def qname(p, o):
    labels = []
    while p[o]:
        labels.append(p[o + 1:o + 1 + p[o]].decode()); o += 1 + p[o]
    return ".".join(labels), o + 1
while True:
    p, peer = sock.recvfrom(512)
    try:
        name, end = qname(p, 12)
    except Exception:
        continue
    question = p[12:end + 4]
    target = names.get(name.lower())
    if target:
        rdata = b"".join(bytes([len(x)]) + x.encode() for x in target.split(".")) + b"\0"
        answer = b"\xc0\x0c" + struct.pack("!HHIH", 12, 1, 60, len(rdata)) + rdata
        head = struct.pack("!HHHHHH", struct.unpack("!H", p[:2])[0], 0x8580, 1, 1, 0, 0)
    else:
        answer = b""
        head = struct.pack("!HHHHHH", struct.unpack("!H", p[:2])[0], 0x8583, 1, 0, 0, 0)
    sock.sendto(head + question + answer, peer)
"""


# An HTTPS server (stdlib: threaded http.server behind ssl) that, like old embedded gear,
# still accepts TLS 1.0 and 1.1. openssl s_server serves one connection at a time, which
# made nmap's version scripts queue behind each other for 35 s.
_TLS_SCRIPT = r"""
import http.server, ssl, sys, warnings
warnings.simplefilter("ignore", DeprecationWarning)
ip, cert, key = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1
ctx.set_ciphers("ALL:@SECLEVEL=0")
ctx.load_cert_chain(cert, key)
class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html><head><title>Camera web</title></head><body>ok</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class Server(http.server.ThreadingHTTPServer):
    def get_request(self):
        sock, addr = super().get_request()
        sock.settimeout(10)
        return ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr
    def handle_error(self, request, client_address):
        pass
Server((ip, 443), Page).serve_forever()
"""


def _ssh_weak(ctx: ServiceContext) -> list[str]:
    work, ip = ctx.workdir("ssh-weak"), ctx.host.ip
    key = work / "ssh_host_rsa_key"
    if not key.exists():
        _run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(key)])
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    config = write_file(
        work / "sshd_config",
        f"""# An old appliance's SSH: SHA-1 key exchange, CBC ciphers, MD5/SHA-1 MACs.
ListenAddress {ip}
HostKey {key}
PidFile {work / "sshd.pid"}
KexAlgorithms diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,curve25519-sha256
Ciphers aes128-cbc,3des-cbc,aes128-ctr
MACs hmac-md5,hmac-sha1,hmac-sha2-256
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile none
AllowUsers secposture-lab-nobody
UsePAM no
""",
    )
    return ["/usr/sbin/sshd", "-D", "-e", "-f", str(config)]


def _smb(ctx: ServiceContext) -> list[str]:
    work = ctx.workdir("smb")
    share = work / "share"
    share.mkdir(exist_ok=True)
    dirs = {name: work / name for name in ("lock", "state", "cache", "private", "pid", "ncalrpc")}
    for path in dirs.values():
        path.mkdir(exist_ok=True)
    config = write_file(
        work / "smb.conf",
        f"""[global]
workgroup = UBND
netbios name = {SMB_NETBIOS_NAME}
server string = May chu tep
interfaces = {ctx.host.ip}/{ctx.host.prefix_len}
bind interfaces only = yes
# SMBv1 left on, as on the old file servers the check is for.
server min protocol = NT1
lanman auth = no
map to guest = Bad User
lock directory = {dirs["lock"]}
state directory = {dirs["state"]}
cache directory = {dirs["cache"]}
private dir = {dirs["private"]}
pid directory = {dirs["pid"]}
ncalrpc dir = {dirs["ncalrpc"]}
log file = {work / "log.%m"}
disable spoolss = yes
load printers = no
[public]
path = {share}
read only = yes
guest ok = yes
""",
        0o644,
    )
    # nmbd answers the NetBIOS name queries the scan reads the host name from; both
    # daemons live and die with the host's namespace.
    flags = "--foreground --no-process-group"
    return ["sh", "-c", f'nmbd {flags} -s "$1" & exec smbd {flags} -s "$1"', "smb", str(config)]


def _xrdp(ctx: ServiceContext) -> list[str]:
    work, ip = ctx.workdir("rdp"), ctx.host.ip
    cert, key = expired_certificate(work, "rdp.lab")
    template = Path("/etc/xrdp/xrdp.ini").read_text(encoding="utf-8")
    lines = []
    for line in template.splitlines():
        if line == "port=3389":  # [Globals]; the session sections have their own ports
            line = f"port=tcp://{ip}:3389"
        if line.startswith("certificate="):
            line = f"certificate={cert}"
        if line.startswith("key_file="):
            line = f"key_file={key}"
        if line.startswith("security_layer="):
            line = "security_layer=negotiate"
        lines.append(line)
    config = write_file(work / "xrdp.ini", "\n".join(lines) + "\n", 0o644)
    # xrdp reads its RSA keys beside its ini file.
    shutil.copy("/etc/xrdp/rsakeys.ini", work / "rsakeys.ini")
    return ["xrdp", "--nodaemon", "--config", str(config)]


def _mariadb(ctx: ServiceContext) -> list[str]:
    work, ip = ctx.workdir("mysql"), ctx.host.ip
    data = work / "data"
    if not (data / "mysql").exists():
        _run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={data}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ]
        )
    return [
        "mariadbd",
        "--no-defaults",
        f"--datadir={data}",
        "--user=root",
        f"--bind-address={ip}",
        "--port=3306",
        f"--socket={work / 'mysqld.sock'}",
        f"--pid-file={work / 'mysqld.pid'}",
        "--skip-log-bin",
        "--skip-name-resolve",
        "--innodb-buffer-pool-size=16M",
    ]


def _postgres(ctx: ServiceContext) -> list[str]:
    # PostgreSQL refuses to run as root, and the postgres user cannot enter the lab's
    # root-only state dir: its data lives under OUTSIDE_ROOT, removed by cleanup().
    data = OUTSIDE_ROOT / ctx.lab_id / ctx.host.name / "pgdata"
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        shutil.chown(data, "postgres", "postgres")
        os.chmod(data, 0o700)
        for parent in data.parents:
            if parent == OUTSIDE_ROOT.parent:
                break
            os.chmod(parent, 0o755)
        _run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(program("initdb")),
                "-D",
                str(data),
                "--auth=trust",
                "-U",
                "postgres",
                "--no-sync",
            ]
        )
    return [
        "runuser",
        "-u",
        "postgres",
        "--",
        str(program("postgres")),
        "-D",
        str(data),
        "-c",
        f"listen_addresses={ctx.host.ip}",
        "-c",
        f"unix_socket_directories={data}",
        "-p",
        "5432",
    ]


def _avahi(ctx: ServiceContext) -> list[str]:
    work = ctx.workdir("mdns")
    config = write_file(
        work / "avahi-daemon.conf",
        f"""[server]
host-name={MDNS_HOST_NAME}
domain-name=local
use-ipv4=yes
use-ipv6=no
allow-interfaces=eth0
enable-dbus=no
[publish]
publish-addresses=yes
publish-hinfo=no
publish-workstation=no
[reflector]
[rlimits]
""",
        0o644,
    )
    # Avahi keeps its pid file in /run/avahi-daemon whatever it is told; a private tmpfs in
    # this process's own mount namespace (ip netns exec made one) keeps labs apart.
    return [
        "sh",
        "-c",
        "mount -t tmpfs tmpfs /run/avahi-daemon 2>/dev/null || "
        "mkdir -p /run/avahi-daemon; exec avahi-daemon --no-drop-root --no-chroot "
        f"--no-rlimits -f {config}",
    ]


def _dns_ptr(ctx: ServiceContext) -> list[str]:
    # The names come from a file ``support.network.start_dns`` writes first.
    names = (ctx.workdir("dns-ptr") / DNS_NAMES_FILE).read_text(encoding="utf-8")
    return [sys.executable, "-I", "-c", _DNS_SCRIPT, ctx.host.ip, json.dumps(json.loads(names))]


def _tls_expired(ctx: ServiceContext) -> list[str]:
    cert, key = expired_certificate(ctx.workdir("tls-expired"), f"{ctx.host.name}.lab")
    return [sys.executable, "-I", "-c", _TLS_SCRIPT, ctx.host.ip, str(cert), str(key)]


def _redis_noauth(ctx: ServiceContext) -> list[str]:
    return [
        "redis-server",
        "--bind",
        ctx.host.ip,
        "--port",
        "6379",
        "--protected-mode",
        "no",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(ctx.workdir("redis-noauth")),
    ]


def _vnc_noauth(ctx: ServiceContext) -> list[str]:
    display = 100 + int.from_bytes(os.urandom(2), "big") % 800
    return [
        "Xtigervnc",
        f":{display}",
        "-rfbport",
        "5900",
        "-interface",
        ctx.host.ip,
        "-SecurityTypes",
        "None",
        "-geometry",
        "800x600",
        "-nolisten",
        "unix",
        # Scanners open many odd connections; TigerVNC blacklists such a client.
        "-BlacklistThreshold",
        "1000000",
    ]


def _print_any(ctx: ServiceContext) -> list[str]:
    # Every address of the host (an address block answers on all of them).
    return ["socat", "-u", "TCP-LISTEN:9100,fork,reuseaddr", "OPEN:/dev/null"]


# Services on every address of their host (the /22 benchmarks give a host an address block):
# one listener answers for all of the block's addresses.
ANY_HTTP_TITLE = "Router admin - login"
ANY_SNMP_SYS_DESCR = "Linux lab-agent 6.1 (secposture /22 benchmark)"


def _ssh_any(ctx: ServiceContext) -> list[str]:
    work = ctx.workdir("ssh-any")
    key = work / "ssh_host_ed25519_key"
    if not key.exists():
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    config = write_file(
        work / "sshd_config",
        f"""ListenAddress 0.0.0.0
HostKey {key}
PidFile {work / "sshd.pid"}
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile none
AllowUsers secposture-lab-nobody
UsePAM no
MaxStartups 100:30:200
""",
    )
    return ["/usr/sbin/sshd", "-D", "-e", "-f", str(config)]


def _http_any(ctx: ServiceContext) -> list[str]:
    www = ctx.workdir("http-any") / "www"
    www.mkdir(mode=0o755, exist_ok=True)
    page = (
        f"<!DOCTYPE html><html><head><title>{ANY_HTTP_TITLE}</title></head><body>"
        '<form method="post" action="/login.cgi"><input name="username">'
        '<input type="password" name="password"></form></body></html>\n'
    )
    write_file(www / "index.html", page, 0o644)
    return [sys.executable, "-I", "-m", "http.server", "80", "--directory", str(www)]


def _ftp_any(ctx: ServiceContext) -> list[str]:
    # Every address of the host, as many clients as a /22 sweep opens at once.
    settings = "max_clients=0\nmax_per_ip=0\nxferlog_enable=NO\n"
    return anonymous_vsftpd(ctx.workdir("ftp-any"), None, settings)


def _snmp_any(ctx: ServiceContext) -> list[str]:
    work = ctx.workdir("snmp-any")
    (work / "persist").mkdir(mode=0o700, exist_ok=True)
    config = write_file(
        work / "snmpd.conf",
        f"""agentAddress udp:161
rocommunity public default
sysDescr {ANY_SNMP_SYS_DESCR}
sysName {ctx.host.name}
smuxsocket 127.0.0.1
[snmp] persistentDir {work / "persist"}
""",
    )
    pid, log = work / "snmpd.pid", work / "snmpd.log"
    return ["snmpd", "-f", "-C", "-c", str(config), "-p", str(pid), "-Lf", str(log)]


def _port_stand_in(port: int) -> Callable[[ServiceContext], list[str]]:
    def command(ctx: ServiceContext) -> list[str]:
        # One byte and close: a silent listener would make nmap -sV wait out every probe.
        return ["socat", f"TCP-LISTEN:{port},bind={ctx.host.ip},fork,reuseaddr", "SYSTEM:printf x"]

    return command


# What the readiness probe waits on is the service's port (TCP connect); the services with
# none (the name servers) answer over UDP and are not waited on.
SCANNER_TEST_SERVICES = (
    LabService("smb", _smb, 445, programs=("smbd", "nmbd")),
    LabService("tls-expired", _tls_expired, 443),
    LabService("rdp", _xrdp, 3389, programs=("xrdp",)),
    LabService("vnc-noauth", _vnc_noauth, 5900, programs=("Xtigervnc",)),
    LabService("mysql", _mariadb, 3306, programs=("mariadbd", "mariadb-install-db")),
    LabService("postgresql", _postgres, 5432, programs=("postgres", "initdb", "runuser")),
    LabService("redis-noauth", _redis_noauth, 6379, programs=("redis-server",)),
    LabService("ssh-weak", _ssh_weak, 22, programs=("/usr/sbin/sshd", "ssh-keygen")),
    LabService("dns-ptr", _dns_ptr, None),
    LabService("mdns", _avahi, None, programs=("avahi-daemon",)),
    LabService("print-any", _print_any, 9100, programs=("socat",)),
    LabService("ssh-any", _ssh_any, 22, banner=b"SSH-2.0-", programs=("/usr/sbin/sshd",)),
    LabService("http-any", _http_any, 80),
    LabService("ftp-any", _ftp_any, 21, banner=b"220", programs=("vsftpd",)),
    LabService("snmp-any", _snmp_any, 161, "udp", programs=("snmpd",)),
    # Stand-ins: neither SQL Server nor MongoDB is packaged for Debian 12 and no registry here
    # ships their binaries, so these only listen on their ports (exposure is judged by port).
    LabService("mssql-port", _port_stand_in(1433), 1433, programs=("socat",)),
    LabService("mongodb-port", _port_stand_in(27017), 27017, programs=("socat",)),
)
for _service in SCANNER_TEST_SERVICES:
    register_service(_service)
