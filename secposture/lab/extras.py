"""Lab extensions for the scanner tests (issue #3), built on the lab's public API.

* a router namespace with a second subnet behind it (a routed scope);
* hosts that drop or reset everything (nftables inside their namespace);
* hosts with the services the evidence checks read: SMB with SMBv1 (Samba), TLS with an
  expired self-signed certificate (openssl s_server), RDP (xrdp), VNC without a password
  (TigerVNC), MariaDB, PostgreSQL, Redis without auth, OpenSSH offering weak algorithms,
  a DNS server answering reverse lookups, mDNS (Avahi);
* a namespace holding hundreds of addresses on a /22 (the quick-profile benchmark).

Every host is a namespace named ``<lab id>-…``, so ``lab.down()`` kills its processes and
deletes it with the rest of the lab; the few files kept outside the lab's state dir (where
PostgreSQL, which refuses to run as root, must reach them) are removed by :func:`cleanup`.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from secposture.lab.lab import LabError, LabState, add_host
from secposture.lab.netns import scanner_popen
from secposture.lab.topology import LabHost

ETC_NETNS = Path("/etc/netns")
OUTSIDE_ROOT = Path("/var/tmp/secposture-lab")  # noqa: S108 - for daemons refusing root-only dirs
SMB_NETBIOS_NAME = "FILESRV-XA"
MDNS_HOST_NAME = "nas-phong-ke-toan"

# Programs per extra service (tests skip what this machine lacks, and say so).
PROGRAMS: dict[str, tuple[str, ...]] = {
    "smb": ("smbd", "nmbd"),
    "tls-expired": (),
    "rdp": ("xrdp",),
    "vnc-noauth": ("Xtigervnc",),
    "mysql": ("mariadbd", "mariadb-install-db"),
    "postgresql": ("postgres", "initdb", "runuser"),
    "redis-noauth": ("redis-server",),
    "ssh-weak": ("/usr/sbin/sshd", "ssh-keygen"),
    "dns-ptr": (),
    "mdns": ("avahi-daemon",),
    "firewall": ("nft",),
    "print-any": ("socat",),
    # Stand-ins: neither SQL Server nor MongoDB is packaged for Debian 12 and no registry here
    # ships their binaries, so these only listen on their ports (exposure is judged by port).
    "mssql-port": ("socat",),
    "mongodb-port": ("socat",),
}
PORTS: dict[str, tuple[int, ...]] = {
    "smb": (139, 445),
    "tls-expired": (443,),
    "rdp": (3389,),
    "vnc-noauth": (5900,),
    "mysql": (3306,),
    "postgresql": (5432,),
    "redis-noauth": (6379,),
    "ssh-weak": (22,),
    "print-any": (9100,),
    "mssql-port": (1433,),
    "mongodb-port": (27017,),
}


def program(name: str) -> str | None:
    """A program's path; PostgreSQL's live in /usr/lib/postgresql/<version>/bin, off PATH."""
    found = shutil.which(name)
    if found is None:
        versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
        found = str(versions[-1]) if versions else None
    return found


def missing_programs(services: Sequence[str]) -> list[str]:
    """Programs the given extra services need that this machine lacks."""
    needed = {p for s in services for p in PROGRAMS[s]}
    return sorted(p for p in needed if program(p) is None)


@dataclass(frozen=True)
class ExtraHost:
    name: str
    ip: str
    ns: str


@dataclass(frozen=True)
class RoutedSubnet:
    """A second segment behind a router namespace: bridge ``bridge`` in the lab's switch."""

    router: ExtraHost
    subnet: str
    router_ip: str  # the router's address on the far side
    bridge: str


def _run(argv: Sequence[str], *, stdin: str | None = None) -> str:
    result = subprocess.run(list(argv), input=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise LabError(f"`{' '.join(argv)}` failed: {detail}")
    return result.stdout


def _ip(ns: str, *lines: str) -> None:
    _run(["ip", "-n", ns, "-batch", "-"], stdin="\n".join(lines) + "\n")


def _workdir(state: LabState, host: str, service: str) -> Path:
    path = Path(state.state_dir) / "extras" / host / service
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _log(state: LabState, host: str, service: str) -> Path:
    logs = Path(state.state_dir) / "logs"
    logs.mkdir(mode=0o700, exist_ok=True)
    return logs / f"{host}.{service}.log"


def add_plain_host(
    state: LabState, name: str, ip: str, *, role: str = "server", mac: str | None = None
) -> tuple[LabState, ExtraHost]:
    """A host namespace on the lab's bridge with no service yet (start them with ``start``)."""
    state = add_host(state, LabHost(name, role, ip, (), subnet=state.subnet, mac=mac))
    host = state.host(name)
    return state, ExtraHost(name, host.ip, host.ns)


def spawn(state: LabState, host: ExtraHost, label: str, argv: Sequence[str], cwd: Path) -> None:
    """Start ``argv`` inside the host's namespace, detached, logging to the lab's logs."""
    with open(_log(state, host.name, label), "ab") as log:
        subprocess.Popen(
            ["ip", "netns", "exec", host.ns, *argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
        )


# --------------------------------------------------------------------------- firewalls


def firewall(host: ExtraHost, mode: str) -> None:
    """Make the host drop (``drop``) or refuse (``reset``: TCP RST, ICMP unreachable) every
    IP packet addressed to it. ARP still works, as with a host firewall on a real PC."""
    verdict = {
        "drop": "drop",
        "reset": "meta l4proto tcp reject with tcp reset\n    reject",
    }[mode]
    rules = f"""table inet secposture_lab {{
  chain input {{
    type filter hook input priority 0; policy accept;
    iifname "lo" accept
    {verdict}
  }}
}}
"""
    _run(["ip", "netns", "exec", host.ns, "nft", "-f", "-"], stdin=rules)


# --------------------------------------------------------------------------- routing


def add_routed_subnet(
    state: LabState,
    *,
    router_name: str,
    router_lan_ip: str,
    subnet: str,
    router_far_ip: str,
    bridge: str = "br1",
) -> tuple[LabState, RoutedSubnet]:
    """A router namespace on the lab's bridge forwarding to a second bridge (``subnet``);
    the scanner namespace gets a route to it through the router."""
    state, router = add_plain_host(state, router_name, router_lan_ip, role="router")
    prefix = ipaddress.ip_network(subnet).prefixlen
    veth = f"v-{router.ns.rsplit('-', 1)[1]}x"
    _ip(
        state.switch_ns,
        f"link add {bridge} type bridge",
        f"link set {bridge} up",
        f"link add {veth} type veth peer name eth1 netns {router.ns}",
        f"link set {veth} master {bridge} up",
    )
    _ip(router.ns, f"addr add {router_far_ip}/{prefix} dev eth1", "link set eth1 up")
    _run(["ip", "netns", "exec", router.ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
    _ip(state.scanner_ns, f"route add {subnet} via {router_lan_ip}")
    return state, RoutedSubnet(router, subnet, router_far_ip, bridge)


def add_far_host(state: LabState, segment: RoutedSubnet, index: int, ip: str) -> ExtraHost:
    """A host on the routed subnet (namespace ``<lab id>-far<index>``), default route via
    the router. Not recorded in the lab's state; ``down()`` finds it by its name."""
    ns = f"{state.lab_id}-far{index}"
    prefix = ipaddress.ip_network(segment.subnet).prefixlen
    _run(["ip", "netns", "add", ns])
    veth = f"v-far{index}"
    _ip(
        state.switch_ns,
        f"link add {veth} type veth peer name eth0 netns {ns}",
        f"link set {veth} master {segment.bridge} up",
    )
    _ip(
        ns,
        f"addr add {ip}/{prefix} dev eth0",
        "link set eth0 up",
        "link set lo up",
        f"route add default via {segment.router_ip}",
    )
    return ExtraHost(f"far{index}", ip, ns)


def add_address_block(host: ExtraHost, network: str, count: int, *, skip: int = 10) -> list[str]:
    """Give the host ``count`` more addresses of ``network`` (the /22 benchmark), and let it
    answer as that many hosts would: no ICMP rate limit shared across its addresses."""
    net = ipaddress.ip_network(network)
    chosen = [str(a) for a in list(net.hosts())[skip : skip + count] if str(a) != host.ip]
    _ip(host.ns, *(f"addr add {a}/{net.prefixlen} dev eth0" for a in chosen))
    _run(["ip", "netns", "exec", host.ns, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0"])
    return chosen


# --------------------------------------------------------------------------- name services


def use_resolver(state: LabState, server: str) -> None:
    """Point the scanner namespace's resolver at ``server`` (``ip netns exec`` bind-mounts
    /etc/netns/<ns>/resolv.conf over /etc/resolv.conf)."""
    folder = ETC_NETNS / state.scanner_ns
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "resolv.conf").write_text(f"nameserver {server}\noptions timeout:1\n")


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


def start_dns(state: LabState, host: ExtraHost, names: dict[str, str]) -> None:
    """A DNS server on the host answering reverse lookups for ``names`` (ip → name)."""
    ptr = {ipaddress.ip_address(ip).reverse_pointer: name for ip, name in names.items()}
    work = _workdir(state, host.name, "dns")
    spawn(
        state,
        host,
        "dns",
        [sys.executable, "-I", "-c", _DNS_SCRIPT, host.ip, json.dumps(ptr)],
        work,
    )


# --------------------------------------------------------------------------- services

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


def _write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


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


def start(state: LabState, host: ExtraHost, service: str) -> None:
    """Start one extra service on the host (see ``PROGRAMS`` for the names)."""
    work = _workdir(state, host.name, service)
    ip = host.ip
    if service == "redis-noauth":
        argv = [
            "redis-server",
            "--bind",
            ip,
            "--port",
            "6379",
            "--protected-mode",
            "no",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(work),
        ]
    elif service == "tls-expired":
        cert, key = expired_certificate(work, f"{host.name}.lab")
        argv = [sys.executable, "-I", "-c", _TLS_SCRIPT, ip, str(cert), str(key)]
    elif service == "ssh-weak":
        argv = _ssh_weak(work, ip)
    elif service == "smb":
        _start_smb(state, host, work)
        return
    elif service == "rdp":
        argv = _xrdp(work, ip)
    elif service == "vnc-noauth":
        display = 100 + int.from_bytes(os.urandom(2), "big") % 800
        argv = [
            "Xtigervnc",
            f":{display}",
            "-rfbport",
            "5900",
            "-interface",
            ip,
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
    elif service == "mysql":
        argv = _mariadb(work, ip)
    elif service == "postgresql":
        argv = _postgres(state, host)
    elif service == "mdns":
        argv = _avahi(work)
    elif service == "print-any":
        argv = ["socat", "-u", "TCP-LISTEN:9100,fork,reuseaddr", "OPEN:/dev/null"]
    elif service in ("mssql-port", "mongodb-port"):
        port = PORTS[service][0]
        # One byte and close: a silent listener would make nmap -sV wait out every probe.
        argv = ["socat", f"TCP-LISTEN:{port},bind={ip},fork,reuseaddr", "SYSTEM:printf x"]
    else:
        raise LabError(f"unknown extra service {service!r}")
    spawn(state, host, service, argv, work)


def _ssh_weak(work: Path, ip: str) -> list[str]:
    key = work / "ssh_host_rsa_key"
    if not key.exists():
        _run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", str(key)])
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    config = _write(
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


def _start_smb(state: LabState, host: ExtraHost, work: Path) -> None:
    share = work / "share"
    share.mkdir(exist_ok=True)
    dirs = {name: work / name for name in ("lock", "state", "cache", "private", "pid", "ncalrpc")}
    for path in dirs.values():
        path.mkdir(exist_ok=True)
    config = _write(
        work / "smb.conf",
        f"""[global]
workgroup = UBND
netbios name = {SMB_NETBIOS_NAME}
server string = May chu tep
interfaces = {host.ip}/{state.subnet.rsplit("/", 1)[1]}
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
    spawn(
        state, host, "smbd", ["smbd", "--foreground", "--no-process-group", "-s", str(config)], work
    )
    spawn(
        state, host, "nmbd", ["nmbd", "--foreground", "--no-process-group", "-s", str(config)], work
    )


def _xrdp(work: Path, ip: str) -> list[str]:
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
    config = _write(work / "xrdp.ini", "\n".join(lines) + "\n", 0o644)
    # xrdp reads its RSA keys beside its ini file.
    shutil.copy("/etc/xrdp/rsakeys.ini", work / "rsakeys.ini")
    return ["xrdp", "--nodaemon", "--config", str(config)]


def _mariadb(work: Path, ip: str) -> list[str]:
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


def _postgres(state: LabState, host: ExtraHost) -> list[str]:
    # PostgreSQL refuses to run as root, and the postgres user cannot enter the lab's
    # root-only state dir: its data lives under OUTSIDE_ROOT, removed by cleanup().
    data = OUTSIDE_ROOT / state.lab_id / host.name / "pgdata"
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        shutil.chown(data, "postgres", "postgres")
        os.chmod(data, 0o700)
        for parent in data.parents:
            if parent == OUTSIDE_ROOT.parent:
                break
            os.chmod(parent, 0o755)  # noqa: S103 - postgres must traverse to its data
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
        f"listen_addresses={host.ip}",
        "-c",
        f"unix_socket_directories={data}",
        "-p",
        "5432",
    ]


def _avahi(work: Path) -> list[str]:
    config = _write(
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


# --------------------------------------------------------------------------- readiness


_READY_SCRIPT = r"""
import json, socket, sys, time
pending = {f"{ip}:{port}" for ip, port in json.loads(sys.argv[1])}
deadline = time.monotonic() + float(sys.argv[2])
while pending and time.monotonic() < deadline:
    for key in list(pending):
        ip, port = key.rsplit(":", 1)
        try:
            socket.create_connection((ip, int(port)), timeout=0.5).close()
            pending.discard(key)
        except OSError:
            pass
    if pending:
        time.sleep(0.1)
print(json.dumps(sorted(pending)))
"""


def wait_tcp(state: LabState, targets: Sequence[tuple[str, int]], timeout: float = 30.0) -> None:
    """Block until every (ip, port) accepts a TCP connection from the scanner namespace."""
    if not targets:
        return
    probe = scanner_popen(
        state,
        [sys.executable, "-I", "-c", _READY_SCRIPT, json.dumps(list(targets)), str(timeout)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = probe.communicate(timeout=timeout + 10)
    pending = json.loads(out or "[]") if probe.returncode == 0 else [err.strip()]
    if pending:
        raise LabError(f"lab services did not answer within {timeout:.0f} s: {pending}")


def cleanup(state: LabState) -> None:
    """Remove what the extras keep outside the lab's state dir (call after ``down()``)."""
    shutil.rmtree(OUTSIDE_ROOT / state.lab_id, ignore_errors=True)
    shutil.rmtree(ETC_NETNS / state.scanner_ns, ignore_errors=True)
