"""Evaluators for the evidence the deeper scan collects (issue #3): SMB dialects, remote
desktop, databases, Redis, TLS and SSH algorithms. Pure functions of the sweep's records.

Each says ``not_assessed`` when the service was seen but its evidence was not collected, and
``not_applicable`` when the host has no such service; never ``pass`` for want of evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

from secposture.checks.engine import NOT_SCANNED, Verdict, evaluator
from secposture.model.records import Host, Observation, Service, Status, SweepResult

SMB_PORTS = frozenset({139, 445})
RDP_NAMES = frozenset({"ms-wbt-server", "rdp"})
DATABASES = {
    "mysql": "MySQL/MariaDB",
    "postgresql": "PostgreSQL",
    "ms-sql-s": "Microsoft SQL Server",
    "oracle-tns": "Oracle",
    "mongodb": "MongoDB",
    "mongod": "MongoDB",
    "redis": "Redis",
    "couchdb": "CouchDB",
    "elasticsearch": "Elasticsearch",
    "memcached": "memcached",
}
# Used when version detection did not name the service (quick profile, failed probe).
DATABASE_PORTS = {
    3306: "mysql",
    5432: "postgresql",
    1433: "ms-sql-s",
    1521: "oracle-tns",
    27017: "mongodb",
    6379: "redis",
    5984: "couchdb",
    9200: "elasticsearch",
    11211: "memcached",
}
WEAK_TLS = ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1")
WEAK_SSH = {
    "kex": re.compile(r"-sha1$|-sha1-|group1-|^rsa1024|^gss-"),
    "ciphers": re.compile(r"-cbc|^3des|^des|arcfour|blowfish|cast128|^none$"),
    "macs": re.compile(r"md5|-96|^umac-64|^none$"),
    "host_key": re.compile(r"^ssh-dss$"),
}


def _by_port(sweep: SweepResult, host: Host, kind: str) -> dict[int | None, Observation]:
    return {o.port: o for o in sweep.observations_for(host.ip, kind)}


def _tcp(host: Host) -> list[Service]:
    return [s for s in host.open_services() if s.proto == "tcp"]


@evaluator("net.smbv1_enabled")
def smbv1_enabled(host: Host, sweep: SweepResult) -> Iterator[Verdict]:
    if not host.ports_scanned:
        yield Verdict(Status.NOT_ASSESSED, reason=NOT_SCANNED)
        return
    smb = [s for s in _tcp(host) if s.port in SMB_PORTS or s.name == "microsoft-ds"]
    if not smb:
        yield Verdict(Status.NOT_APPLICABLE, reason="no SMB service")
        return
    probes = sweep.observations_for(host.ip, "smb.protocols")
    port = min(s.port for s in smb)
    if not probes:
        yield Verdict(
            Status.NOT_ASSESSED,
            port=port,
            proto="tcp",
            reason="SMB found but its dialects were not probed",
        )
        return
    dialects = [str(d) for o in probes for d in o.data.get("dialects") or []]
    if any(o.data.get("smbv1") for o in probes):
        yield Verdict(
            Status.FAIL,
            port=port,
            proto="tcp",
            evidence="SMBv1 (NT LM 0.12) accepted; dialects: " + ", ".join(dialects),
        )
    else:
        yield Verdict(
            Status.PASS,
            port=port,
            proto="tcp",
            evidence="SMBv1 refused; dialects: " + ", ".join(dialects),
        )


@evaluator("net.rdp_exposed")
def rdp_exposed(host: Host, sweep: SweepResult) -> Iterator[Verdict]:
    if not host.ports_scanned:
        yield Verdict(Status.NOT_ASSESSED, reason=NOT_SCANNED)
        return
    rdps = [s for s in _tcp(host) if s.name in RDP_NAMES or (not s.name and s.port == 3389)]
    vncs = [s for s in _tcp(host) if s.name.startswith("vnc") or (not s.name and s.port == 5900)]
    if not rdps and not vncs:
        yield Verdict(Status.PASS, evidence="no RDP or VNC among open TCP ports")
        return
    rdp_probe, vnc_probe = (
        _by_port(sweep, host, "rdp.security"),
        _by_port(sweep, host, "vnc.security"),
    )
    for svc in rdps:
        obs = rdp_probe.get(svc.port)
        if obs is None:
            yield Verdict(
                Status.NOT_ASSESSED,
                port=svc.port,
                proto="tcp",
                reason="RDP found but its security layers were not probed",
            )
        elif obs.data.get("nla_required"):
            yield Verdict(
                Status.PASS,
                port=svc.port,
                proto="tcp",
                evidence="RDP requires network-level authentication (CredSSP)",
            )
        else:
            layers = ", ".join(k for k, ok in (obs.data.get("layers") or {}).items() if ok)
            yield Verdict(
                Status.FAIL,
                port=svc.port,
                proto="tcp",
                evidence="RDP shows its login screen before authentication "
                f"(NLA not required; layers accepted: {layers})",
            )
    for svc in vncs:
        obs = vnc_probe.get(svc.port)
        if obs is None:
            yield Verdict(
                Status.NOT_ASSESSED,
                port=svc.port,
                proto="tcp",
                reason="VNC found but its security types were not probed",
            )
        elif obs.data.get("no_auth"):
            yield Verdict(
                Status.FAIL,
                port=svc.port,
                proto="tcp",
                evidence="VNC accepts connections without a password (security type None)",
            )
        else:
            types = ", ".join(str(t) for t in obs.data.get("security_types") or [])
            yield Verdict(
                Status.PASS,
                port=svc.port,
                proto="tcp",
                evidence=f"VNC asks for authentication ({types})",
            )


def _database(service: Service) -> str | None:
    name = service.name or DATABASE_PORTS.get(service.port, "")
    return DATABASES.get(name)


@evaluator("net.database_exposed")
def database_exposed(host: Host, sweep: SweepResult) -> Iterator[Verdict]:
    if not host.ports_scanned:
        yield Verdict(Status.NOT_ASSESSED, reason=NOT_SCANNED)
        return
    found = [(s, engine) for s in _tcp(host) if (engine := _database(s)) is not None]
    if not found:
        yield Verdict(Status.PASS, evidence="no database port among open TCP ports")
        return
    for svc, engine in found:
        product = " ".join(p for p in (svc.product, svc.version) if p)
        yield Verdict(
            Status.FAIL,
            port=svc.port,
            proto="tcp",
            evidence=f"{engine} reachable from the LAN on {svc.key}"
            + (f" ({product})" if product else ""),
        )


@evaluator("net.redis_noauth")
def redis_noauth(host: Host, sweep: SweepResult) -> Iterator[Verdict]:
    if not host.ports_scanned:
        yield Verdict(Status.NOT_ASSESSED, reason=NOT_SCANNED)
        return
    redis = [s for s in _tcp(host) if _database(s) == "Redis"]
    if not redis:
        yield Verdict(Status.NOT_APPLICABLE, reason="no Redis service")
        return
    probes = _by_port(sweep, host, "redis.auth")
    for svc in redis:
        obs = probes.get(svc.port)
        if obs is None:
            yield Verdict(
                Status.NOT_ASSESSED,
                port=svc.port,
                proto="tcp",
                reason="Redis found but the PING probe did not run",
            )
        elif obs.data.get("required") is False:
            version = str(obs.data.get("version") or "")
            yield Verdict(
                Status.FAIL,
                port=svc.port,
                proto="tcp",
                evidence="Redis answered PING without authentication"
                + (f" (version {version})" if version else ""),
            )
        else:
            yield Verdict(
                Status.PASS,
                port=svc.port,
                proto="tcp",
                evidence=f"Redis refused an unauthenticated command: {obs.data.get('reply')}",
            )


def _tls_services(host: Host, sweep: SweepResult) -> list[int]:
    """TCP ports that spoke TLS: named so by nmap, or answered our TLS probe."""
    ports = {s.port for s in _tcp(host) if s.tunnel == "ssl" or s.name in ("https", "ssl")}
    ports |= {
        o.port
        for o in sweep.observations_for(host.ip)
        if o.kind.startswith("tls.") and o.port is not None
    }
    return sorted(p for p in ports if p is not None)


@evaluator("net.tls_weak")
def tls_weak(host: Host, sweep: SweepResult) -> Iterator[Verdict]:
    if not host.ports_scanned:
        yield Verdict(Status.NOT_ASSESSED, reason=NOT_SCANNED)
        return
    ports = _tls_services(host, sweep)
    if not ports:
        yield Verdict(Status.NOT_APPLICABLE, reason="no TLS service")
        return
    versions = _by_port(sweep, host, "tls.versions")
    ciphers = _by_port(sweep, host, "tls.ciphers")
    for port in ports:
        seen = [
            str(v)
            for o in (versions.get(port), ciphers.get(port))
            if o is not None
            for v in o.data.get("versions") or []
        ]
        if port not in versions and port not in ciphers:
            yield Verdict(
                Status.NOT_ASSESSED,
                port=port,
                proto="tcp",
                reason="TLS service found but its protocol versions were not probed",
            )
            continue
        weak = sorted({v for v in seen if v in WEAK_TLS})
        if weak:
            yield Verdict(
                Status.FAIL,
                port=port,
                proto="tcp",
                evidence="outdated TLS accepted: " + ", ".join(weak),
            )
        else:
            yield Verdict(
                Status.PASS,
                port=port,
                proto="tcp",
                evidence="accepts only " + ", ".join(sorted(set(seen))),
            )


def _when(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # nmap prints UTC, no zone


@evaluator("net.cert_expired")
def cert_expired(host: Host, sweep: SweepResult) -> Iterator[Verdict]:
    if not host.ports_scanned:
        yield Verdict(Status.NOT_ASSESSED, reason=NOT_SCANNED)
        return
    ports = _tls_services(host, sweep)
    if not ports:
        yield Verdict(Status.NOT_APPLICABLE, reason="no TLS service")
        return
    certs = _by_port(sweep, host, "tls.cert")
    for port in ports:
        obs = certs.get(port)
        until = _when(str(obs.data.get("not_after", ""))) if obs is not None else None
        if obs is None or until is None:
            yield Verdict(
                Status.NOT_ASSESSED,
                port=port,
                proto="tcp",
                reason="TLS service found but its certificate could not be read",
            )
        elif until < sweep.started:
            yield Verdict(
                Status.FAIL,
                port=port,
                proto="tcp",
                evidence=f"certificate '{obs.data.get('subject')}' expired on {until:%Y-%m-%d}",
            )
        else:
            yield Verdict(
                Status.PASS,
                port=port,
                proto="tcp",
                evidence=f"certificate valid until {until:%Y-%m-%d}",
            )


@evaluator("net.ssh_weak_algorithms")
def ssh_weak_algorithms(host: Host, sweep: SweepResult) -> Iterator[Verdict]:
    if not host.ports_scanned:
        yield Verdict(Status.NOT_ASSESSED, reason=NOT_SCANNED)
        return
    sshs = [s for s in _tcp(host) if s.name == "ssh" or (not s.name and s.port == 22)]
    if not sshs:
        yield Verdict(Status.NOT_APPLICABLE, reason="no SSH service")
        return
    probes = _by_port(sweep, host, "ssh.algorithms")
    for svc in sshs:
        obs = probes.get(svc.port)
        if obs is None:
            yield Verdict(
                Status.NOT_ASSESSED,
                port=svc.port,
                proto="tcp",
                reason="SSH found but its algorithms were not listed",
            )
            continue
        weak = [
            f"{kind}: {', '.join(bad)}"
            for kind, pattern in WEAK_SSH.items()
            if (bad := [str(a) for a in obs.data.get(kind) or [] if pattern.search(str(a))])
        ]
        if weak:
            yield Verdict(
                Status.FAIL,
                port=svc.port,
                proto="tcp",
                evidence="weak algorithms offered — " + "; ".join(weak),
            )
        else:
            yield Verdict(
                Status.PASS,
                port=svc.port,
                proto="tcp",
                evidence="no SHA-1 key exchange, CBC/3DES/RC4 cipher or MD5/96-bit MAC offered",
            )
