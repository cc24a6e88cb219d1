"""Evaluators for checks on network observations. Pure functions: no I/O, no network."""

from __future__ import annotations

import re
from collections.abc import Iterator

from secposture.checks.evaluators.services import (
    by_port,
    named,
    per_service,
    probed,
    product_of,
    serving,
)
from secposture.checks.registry import Verdict, evaluator
from secposture.model.i18n import said
from secposture.model.records import Host, Observation, Service, Status, SweepResult

# Words that mark a web page as a device's management interface (English and Vietnamese).
ADMIN_HINTS = re.compile(
    r"admin|login|log in|sign in|router|switch|printer|config|setup|management|manage|"
    r"web ?ui|dashboard|quản trị|đăng nhập|cấu hình",
    re.IGNORECASE,
)


def _is_telnet(service: Service) -> bool:
    return service.name == "telnet" or service.port == 23


@per_service(
    "net.telnet_exposed",
    find=serving(_is_telnet),
    absent=Verdict(Status.PASS, evidence="no telnet service among open TCP ports"),
)
def telnet_exposed(service: Service, host: Host, sweep: SweepResult) -> Verdict:
    """Telnet open at all is a fail: it carries passwords in clear text."""
    banner = product_of(service)
    return Verdict(
        Status.FAIL,
        evidence=said("telnet open on {port} ({banner})", port=service.key, banner=banner)
        if banner
        else said("telnet open on {port}", port=service.key),
    )


@per_service(
    "net.ftp_anonymous",
    find=serving(named("ftp", port=21)),
    absent=Verdict(Status.NOT_APPLICABLE, reason="no FTP service"),
)
@probed(
    "ftp.anonymous",
    unprobed=Verdict(
        Status.NOT_ASSESSED, reason="FTP found but the anonymous-login probe did not run"
    ),
)
def ftp_anonymous(obs: Observation, service: Service, sweep: SweepResult) -> Verdict:
    """An FTP server that lets anyone log in anonymously fails."""
    if obs.data.get("allowed"):
        return Verdict(
            Status.FAIL, evidence=str(obs.data.get("output") or "anonymous FTP login allowed")
        )
    return Verdict(Status.PASS, evidence="anonymous login refused")


@evaluator("net.snmp_default_community")
def snmp_default_community(host: Host, sweep: SweepResult) -> Iterator[Verdict]:
    """An SNMP agent answering a default community (public, private, ...) fails."""
    if 161 not in host.udp_scanned:
        yield Verdict(Status.NOT_ASSESSED, port=161, proto="udp", reason="UDP 161 was not probed")
        return
    probes = sweep.observations_for(host.ip, "snmp.community")
    accepted = [o for o in probes if o.data.get("accepted")]
    if accepted:
        names = sorted({str(o.data.get("community")) for o in accepted})
        descr = next((str(o.data["sysdescr"]) for o in accepted if o.data.get("sysdescr")), "")
        accepted_names = ", ".join(names)
        yield Verdict(
            Status.FAIL,
            port=161,
            proto="udp",
            evidence=said(
                "default community accepted: {names}; sysDescr: {descr}",
                names=accepted_names,
                descr=descr,
            )
            if descr
            else said("default community accepted: {names}", names=accepted_names),
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
        service.name.startswith("http")
        and service.name not in ("https", "https-alt")
        and service.tunnel != "ssl"
    )


@per_service(
    "net.http_admin_cleartext",
    find=serving(_is_cleartext_http),
    absent=Verdict(Status.NOT_APPLICABLE, reason="no cleartext HTTP service"),
)
def http_admin_cleartext(service: Service, host: Host, sweep: SweepResult) -> Verdict:
    """A management page, a password form or HTTP authentication over cleartext HTTP fails."""
    page = by_port(sweep, host, "http.title").get(service.port)
    title = str(page.data.get("title", "")) if page is not None else ""
    auth = by_port(sweep, host, "http.auth").get(service.port)
    forms = sweep.observations_for(host.ip, "http.login_form")
    if auth is not None and auth.data.get("schemes"):
        evidence = said(
            "HTTP authentication over cleartext: {schemes}", schemes=auth.data["schemes"]
        )
    elif any(o.port == service.port and o.data.get("present") for o in forms):
        evidence = (
            said("password form served over cleartext HTTP, title: {title}", title=title)
            if title
            else "password form served over cleartext HTTP, no title"
        )
    elif title and ADMIN_HINTS.search(title):
        evidence = said("management page over cleartext HTTP, title: {title}", title=title)
    elif page is not None:
        return Verdict(
            Status.PASS,
            evidence=said("no sign of a management page (title: {title})", title=title)
            if title
            else "no sign of a management page (no title)",
        )
    else:
        return Verdict(
            Status.NOT_ASSESSED, reason="cleartext HTTP found but its page could not be read"
        )
    return Verdict(Status.FAIL, evidence=evidence)
