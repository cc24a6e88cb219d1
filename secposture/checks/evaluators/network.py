"""Evaluators for checks on network observations. Pure functions: no I/O, no network."""

from __future__ import annotations

import re
from collections.abc import Iterator

from secposture.checks.engine import NOT_SCANNED, Verdict, evaluator
from secposture.model.records import Host, Service, Status, SweepResult

# Words that mark a web page as a device's management interface (English and Vietnamese).
ADMIN_HINTS = re.compile(
    r"admin|login|log in|sign in|router|switch|printer|config|setup|management|manage|"
    r"web ?ui|dashboard|quản trị|đăng nhập|cấu hình",
    re.IGNORECASE,
)


def _is_telnet(service: Service) -> bool:
    return service.proto == "tcp" and (service.name == "telnet" or service.port == 23)


@evaluator("net.telnet_exposed")
def telnet_exposed(host: Host, sweep: SweepResult) -> Iterator[Verdict]:
    if not host.ports_scanned:
        yield Verdict(Status.NOT_ASSESSED, reason=NOT_SCANNED)
        return
    telnets = [s for s in host.open_services() if _is_telnet(s)]
    for service in telnets:
        banner = " ".join(p for p in (service.product, service.version) if p)
        yield Verdict(
            Status.FAIL,
            port=service.port,
            proto=service.proto,
            evidence=f"telnet open on {service.key}" + (f" ({banner})" if banner else ""),
        )
    if not telnets:
        yield Verdict(Status.PASS, evidence="no telnet service among open TCP ports")


def _is_ftp(service: Service) -> bool:
    unnamed_21 = not service.name and service.port == 21
    return service.proto == "tcp" and (service.name == "ftp" or unnamed_21)


@evaluator("net.ftp_anonymous")
def ftp_anonymous(host: Host, sweep: SweepResult) -> Iterator[Verdict]:
    if not host.ports_scanned:
        yield Verdict(Status.NOT_ASSESSED, reason=NOT_SCANNED)
        return
    ftps = [s for s in host.open_services() if _is_ftp(s)]
    if not ftps:
        yield Verdict(Status.NOT_APPLICABLE, reason="no FTP service")
        return
    observed = {o.port: o for o in sweep.observations_for(host.ip, "ftp.anonymous")}
    for service in ftps:
        obs = observed.get(service.port)
        if obs is None:
            yield Verdict(
                Status.NOT_ASSESSED,
                port=service.port,
                proto="tcp",
                reason="FTP found but the anonymous-login probe did not run",
            )
        elif obs.data.get("allowed"):
            yield Verdict(
                Status.FAIL,
                port=service.port,
                proto="tcp",
                evidence=str(obs.data.get("output") or "anonymous FTP login allowed"),
            )
        else:
            yield Verdict(
                Status.PASS, port=service.port, proto="tcp", evidence="anonymous login refused"
            )


@evaluator("net.snmp_default_community")
def snmp_default_community(host: Host, sweep: SweepResult) -> Iterator[Verdict]:
    if 161 not in host.udp_scanned:
        yield Verdict(Status.NOT_ASSESSED, port=161, proto="udp", reason="UDP 161 was not probed")
        return
    probes = sweep.observations_for(host.ip, "snmp.community")
    accepted = [o for o in probes if o.data.get("accepted")]
    if accepted:
        names = sorted({str(o.data.get("community")) for o in accepted})
        descr = next((str(o.data["sysdescr"]) for o in accepted if o.data.get("sysdescr")), "")
        evidence = "default community accepted: " + ", ".join(names)
        yield Verdict(
            Status.FAIL,
            port=161,
            proto="udp",
            evidence=evidence + (f"; sysDescr: {descr}" if descr else ""),
        )
    elif probes:
        yield Verdict(Status.PASS, port=161, proto="udp", evidence="default communities refused")
    elif host.service(161, "udp") is None:
        yield Verdict(Status.PASS, port=161, proto="udp", evidence="UDP 161 closed: no SNMP agent")
    else:
        # Open or open|filtered but the community probe did not run: no verdict either way.
        yield Verdict(
            Status.NOT_ASSESSED,
            port=161,
            proto="udp",
            reason="SNMP port open but the default communities were not probed",
        )


def _is_cleartext_http(service: Service) -> bool:
    return (
        service.proto == "tcp"
        and service.name.startswith("http")
        and service.name not in ("https", "https-alt")
        and service.tunnel != "ssl"
    )


@evaluator("net.http_admin_cleartext")
def http_admin_cleartext(host: Host, sweep: SweepResult) -> Iterator[Verdict]:
    if not host.ports_scanned:
        yield Verdict(Status.NOT_ASSESSED, reason=NOT_SCANNED)
        return
    https = [s for s in host.open_services() if _is_cleartext_http(s)]
    if not https:
        yield Verdict(Status.NOT_APPLICABLE, reason="no cleartext HTTP service")
        return
    titles = {o.port: o for o in sweep.observations_for(host.ip, "http.title")}
    auths = {o.port: o for o in sweep.observations_for(host.ip, "http.auth")}
    forms = {
        o.port for o in sweep.observations_for(host.ip, "http.login_form") if o.data.get("present")
    }
    for service in https:
        title = str(titles[service.port].data.get("title", "")) if service.port in titles else ""
        auth = auths.get(service.port)
        if auth is not None and auth.data.get("schemes"):
            yield Verdict(
                Status.FAIL,
                port=service.port,
                proto="tcp",
                evidence=f"HTTP authentication over cleartext: {auth.data['schemes']}",
            )
        elif service.port in forms:
            yield Verdict(
                Status.FAIL,
                port=service.port,
                proto="tcp",
                evidence=f"password form served over cleartext HTTP, title: {title or 'none'}",
            )
        elif title and ADMIN_HINTS.search(title):
            yield Verdict(
                Status.FAIL,
                port=service.port,
                proto="tcp",
                evidence=f"management page over cleartext HTTP, title: {title}",
            )
        elif service.port in titles:
            yield Verdict(
                Status.PASS,
                port=service.port,
                proto="tcp",
                evidence=f"no sign of a management page (title: {title or 'none'})",
            )
        else:
            yield Verdict(
                Status.NOT_ASSESSED,
                port=service.port,
                proto="tcp",
                reason="cleartext HTTP found but its page could not be read",
            )


# The evidence checks of the deeper scan (issue #3) live in their own module; importing it
# here registers them wherever the network checks are registered.
from secposture.checks.evaluators import exposure  # noqa: E402, F401
