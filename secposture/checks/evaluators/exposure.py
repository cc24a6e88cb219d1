"""Evaluators for the evidence the deeper scan collects (issue #3): SMB dialects, remote
desktop, databases, Redis, TLS and SSH algorithms. Pure functions of the sweep's records.

Each says ``not_assessed`` when the service was seen but its evidence was not collected, and
``not_applicable`` when the host has no such service; never ``pass`` for want of evidence.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from secposture.checks.evaluators.services import (
    by_port,
    named,
    open_tcp,
    per_service,
    probed,
    product_of,
    serving,
)
from secposture.checks.registry import Verdict
from secposture.model.i18n import said
from secposture.model.records import Host, Observation, Service, Status, SweepResult

SMB_PORTS = frozenset({139, 445})
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


def _is_smb(service: Service) -> bool:
    return service.port in SMB_PORTS or service.name == "microsoft-ds"


def _smb_once(host: Host, sweep: SweepResult) -> list[Service]:
    # The dialect probe speaks for the whole host, so it is judged once, at the lowest SMB port.
    smb = serving(_is_smb)(host, sweep)
    return [min(smb, key=lambda s: s.port)] if smb else []


@per_service(
    "net.smbv1_enabled",
    find=_smb_once,
    absent=Verdict(Status.NOT_APPLICABLE, reason="no SMB service"),
)
def smbv1_enabled(service: Service, host: Host, sweep: SweepResult) -> Verdict:
    """A host that still accepts the SMBv1 dialect (EternalBlue, WannaCry) fails."""
    probes = sweep.observations_for(host.ip, "smb.protocols")
    if not probes:
        return Verdict(Status.NOT_ASSESSED, reason="SMB found but its dialects were not probed")
    dialects = ", ".join(str(d) for o in probes for d in o.data.get("dialects") or [])
    if any(o.data.get("smbv1") for o in probes):
        return Verdict(
            Status.FAIL,
            evidence=said("SMBv1 (NT LM 0.12) accepted; dialects: {dialects}", dialects=dialects),
        )
    return Verdict(
        Status.PASS, evidence=said("SMBv1 refused; dialects: {dialects}", dialects=dialects)
    )


_is_rdp = named("ms-wbt-server", "rdp", port=3389)


def _is_vnc(service: Service) -> bool:
    return service.name.startswith("vnc") or (not service.name and service.port == 5900)


def _remote_desktops(host: Host, sweep: SweepResult) -> list[Service]:
    return serving(_is_rdp)(host, sweep) + serving(_is_vnc)(host, sweep)


@per_service(
    "net.rdp_exposed",
    find=_remote_desktops,
    absent=Verdict(Status.PASS, evidence="no RDP or VNC among open TCP ports"),
)
def rdp_exposed(service: Service, host: Host, sweep: SweepResult) -> Verdict:
    """Remote desktop that shows a login screen, or lets anyone in, before authenticating fails."""
    if _is_rdp(service):
        return _rdp(by_port(sweep, host, "rdp.security").get(service.port))
    return _vnc(by_port(sweep, host, "vnc.security").get(service.port))


def _rdp(obs: Observation | None) -> Verdict:
    if obs is None:
        return Verdict(
            Status.NOT_ASSESSED, reason="RDP found but its security layers were not probed"
        )
    if obs.data.get("nla_required"):
        return Verdict(Status.PASS, evidence="RDP requires network-level authentication (CredSSP)")
    layers = ", ".join(k for k, ok in (obs.data.get("layers") or {}).items() if ok)
    return Verdict(
        Status.FAIL,
        evidence=said(
            "RDP shows its login screen before authentication "
            "(NLA not required; layers accepted: {layers})",
            layers=layers,
        ),
    )


def _vnc(obs: Observation | None) -> Verdict:
    if obs is None:
        return Verdict(
            Status.NOT_ASSESSED, reason="VNC found but its security types were not probed"
        )
    if obs.data.get("no_auth"):
        return Verdict(
            Status.FAIL,
            evidence="VNC accepts connections without a password (security type None)",
        )
    types = ", ".join(str(t) for t in obs.data.get("security_types") or [])
    return Verdict(Status.PASS, evidence=said("VNC asks for authentication ({types})", types=types))


def _database(service: Service) -> str:
    """The database engine a service is, by name or else by its usual port; empty if none."""
    return DATABASES.get(service.name or DATABASE_PORTS.get(service.port, ""), "")


@per_service(
    "net.database_exposed",
    find=serving(lambda s: bool(_database(s))),
    absent=Verdict(Status.PASS, evidence="no database port among open TCP ports"),
)
def database_exposed(service: Service, host: Host, sweep: SweepResult) -> Verdict:
    """A database port reachable from the LAN fails: it should listen only where it is used."""
    product = product_of(service)
    engine, port = _database(service), service.key
    return Verdict(
        Status.FAIL,
        evidence=said(
            "{engine} reachable from the LAN on {port} ({product})",
            engine=engine,
            port=port,
            product=product,
        )
        if product
        else said("{engine} reachable from the LAN on {port}", engine=engine, port=port),
    )


@per_service(
    "net.redis_noauth",
    find=serving(lambda s: _database(s) == "Redis"),
    absent=Verdict(Status.NOT_APPLICABLE, reason="no Redis service"),
)
@probed(
    "redis.auth",
    unprobed=Verdict(Status.NOT_ASSESSED, reason="Redis found but the PING probe did not run"),
)
def redis_noauth(obs: Observation, service: Service, sweep: SweepResult) -> Verdict:
    """A Redis server that answers without a password fails."""
    if obs.data.get("required") is False:
        version = str(obs.data.get("version") or "")
        return Verdict(
            Status.FAIL,
            evidence=said(
                "Redis answered PING without authentication (version {version})", version=version
            )
            if version
            else "Redis answered PING without authentication",
        )
    return Verdict(
        Status.PASS,
        evidence=said(
            "Redis refused an unauthenticated command: {reply}", reply=obs.data.get("reply")
        ),
    )


def _tls_services(host: Host, sweep: SweepResult) -> list[Service]:
    """TCP ports that spoke TLS: named so by nmap, or answered our TLS probe."""
    ports = {s.port for s in open_tcp(host) if s.tunnel == "ssl" or s.name in ("https", "ssl")}
    ports |= {
        o.port
        for o in sweep.observations_for(host.ip)
        if o.kind.startswith("tls.") and o.port is not None
    }
    # A port only the TLS probe saw has no scanned service; the judgements need just its port.
    return [Service(port=p) for p in sorted(ports)]


NO_TLS = Verdict(Status.NOT_APPLICABLE, reason="no TLS service")


@per_service("net.tls_weak", find=_tls_services, absent=NO_TLS)
def tls_weak(service: Service, host: Host, sweep: SweepResult) -> Verdict:
    """A TLS service that still accepts SSL or TLS 1.0/1.1 fails."""
    probes = [
        o
        for kind in ("tls.versions", "tls.ciphers")
        if (o := by_port(sweep, host, kind).get(service.port)) is not None
    ]
    if not probes:
        return Verdict(
            Status.NOT_ASSESSED,
            reason="TLS service found but its protocol versions were not probed",
        )
    seen = [str(v) for o in probes for v in o.data.get("versions") or []]
    weak = sorted({v for v in seen if v in WEAK_TLS})
    if weak:
        return Verdict(
            Status.FAIL,
            evidence=said("outdated TLS accepted: {versions}", versions=", ".join(weak)),
        )
    return Verdict(
        Status.PASS, evidence=said("accepts only {versions}", versions=", ".join(sorted(set(seen))))
    )


def _when(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # nmap prints UTC, no zone


@per_service("net.cert_expired", find=_tls_services, absent=NO_TLS)
def cert_expired(service: Service, host: Host, sweep: SweepResult) -> Verdict:
    """A TLS service whose certificate expired before the sweep fails."""
    obs = by_port(sweep, host, "tls.cert").get(service.port)
    until = _when(str(obs.data.get("not_after", ""))) if obs is not None else None
    if obs is None or until is None:
        return Verdict(
            Status.NOT_ASSESSED, reason="TLS service found but its certificate could not be read"
        )
    if until < sweep.started:
        return Verdict(
            Status.FAIL,
            evidence=said(
                "certificate '{subject}' expired on {day}",
                subject=obs.data.get("subject"),
                day=f"{until:%Y-%m-%d}",
            ),
        )
    return Verdict(
        Status.PASS, evidence=said("certificate valid until {day}", day=f"{until:%Y-%m-%d}")
    )


@per_service(
    "net.ssh_weak_algorithms",
    find=serving(named("ssh", port=22)),
    absent=Verdict(Status.NOT_APPLICABLE, reason="no SSH service"),
)
@probed(
    "ssh.algorithms",
    unprobed=Verdict(Status.NOT_ASSESSED, reason="SSH found but its algorithms were not listed"),
)
def ssh_weak_algorithms(obs: Observation, service: Service, sweep: SweepResult) -> Verdict:
    """An SSH server offering SHA-1 key exchange, CBC/3DES/RC4 ciphers or weak MACs fails."""
    weak = [
        f"{kind}: {', '.join(bad)}"
        for kind, pattern in WEAK_SSH.items()
        if (bad := [str(a) for a in obs.data.get(kind) or [] if pattern.search(str(a))])
    ]
    if weak:
        return Verdict(
            Status.FAIL, evidence=said("weak algorithms offered — {weak}", weak="; ".join(weak))
        )
    return Verdict(
        Status.PASS,
        evidence="no SHA-1 key exchange, CBC/3DES/RC4 cipher or MD5/96-bit MAC offered",
    )
