"""nmap XML → hosts, services and observations, through python-nmap's parser.

python-nmap's dict format is kept as the host entry every stage passes on; the two facts it
drops (a port's TLS tunnel, the summarised ``extraports``) are read from the same document.
"""

from __future__ import annotations

from typing import Any

from defusedxml import ElementTree

from scanners.attempt import ParseError
from scanners.nmap.scripts import observations_from_scripts
from secposture.model.records import Host, Observation, Service


def port_states(data: dict[str, Any], proto: str = "tcp") -> dict[int, str]:
    """Each listed port of one host entry and its state ("open", "closed", "filtered"…)."""
    return {int(p): str(v.get("state")) for p, v in data.get(proto, {}).items()}


def open_ports(data: dict[str, Any], proto: str = "tcp") -> list[int]:
    """The open ports of one host entry, in order."""
    return sorted(p for p, state in port_states(data, proto).items() if state == "open")


class NmapParseError(ParseError):
    """nmap's XML could not be read."""


def parse_nmap_xml(xml: str) -> dict[str, dict[str, Any]]:
    """Hosts of an nmap XML document in python-nmap's dict format, keyed by IP.

    python-nmap drops two facts the sweep needs, so they are read from the same document and
    added: ``tunnel`` on a port ("ssl" for HTTPS and other TLS services) and, per host,
    ``extraports`` (the states nmap summarised instead of listing: "1000 filtered" is what a
    host dropping everything looks like).
    """
    import nmap

    try:
        scanner = nmap.PortScanner.__new__(nmap.PortScanner)  # skip its `nmap -V` probe
        scanner._scan_result = {}
        result = scanner.analyse_nmap_xml_scan(nmap_xml_output=xml)
        root = ElementTree.fromstring(xml)
    except Exception as exc:  # python-nmap raises bare PortScannerError and ET errors
        raise NmapParseError(f"nmap XML could not be parsed: {exc}") from exc
    scan: dict[str, dict[str, Any]] = result.get("scan", {})
    for host in root.iter("host"):
        address = host.find("address")
        data = scan.get(str(address.get("addr"))) if address is not None else None
        if data is None:
            continue
        states: dict[str, int] = {}
        for extra in host.iter("extraports"):
            state = extra.get("state", "")
            states[state] = states.get(state, 0) + int(extra.get("count", "0") or 0)
        data["extraports"] = states
        for port in host.iter("port"):
            service = port.find("service")
            tunnel = service.get("tunnel") if service is not None else None
            entry = data.get(port.get("protocol", ""), {}).get(int(port.get("portid", "0")))
            if tunnel and entry is not None:
                entry["tunnel"] = tunnel
    return scan


def _text(value: Any) -> str:
    return str(value or "").strip()


def services_from_nmap(ip: str, data: dict[str, Any]) -> tuple[list[Service], list[Observation]]:
    """Open (and open|filtered UDP) services of one host entry, and their script evidence."""
    services: list[Service] = []
    observations: list[Observation] = []
    for proto in ("tcp", "udp"):
        for port, p in sorted(data.get(proto, {}).items()):
            state = p.get("state")
            # open|filtered UDP is kept: an SNMP agent ignoring 'public' looks exactly so.
            if state != "open" and not (proto == "udp" and state == "open|filtered"):
                continue
            cpe = _text(p.get("cpe"))
            services.append(
                Service(
                    port=int(port),
                    proto=proto,
                    state=str(state),
                    name=_text(p.get("name")),
                    product=_text(p.get("product")),
                    version=_text(p.get("version")),
                    extrainfo=_text(p.get("extrainfo")),
                    tunnel=_text(p.get("tunnel")),
                    cpe=(cpe,) if cpe else (),
                )
            )
            observations += observations_from_scripts(ip, int(port), proto, p.get("script") or {})
    for script in data.get("hostscript") or []:
        observations += observations_from_scripts(
            ip, None, None, {str(script.get("id")): str(script.get("output", ""))}
        )
    return services, observations


def os_guess(data: dict[str, Any]) -> Observation | None:
    """nmap's best OS match (deep profile) as an observation, or None when it made none."""
    matches = data.get("osmatch") or []
    if not matches:
        return None
    best = matches[0]
    classes = [
        {
            "type": _text(c.get("type")),
            "vendor": _text(c.get("vendor")),
            "family": _text(c.get("osfamily")),
        }
        for c in best.get("osclass") or []
    ]
    return Observation(
        kind="os.match",
        ip=str(data.get("addresses", {}).get("ipv4") or data.get("addresses", {}).get("ipv6")),
        source="nmap:-O",
        data={
            "name": _text(best.get("name")),
            "accuracy": int(best.get("accuracy") or 0),
            "classes": classes,
        },
    )


def host_from_nmap(
    ip: str, data: dict[str, Any], *, base: Host | None = None, scripts: bool = True
) -> tuple[Host, list[Observation]]:
    """Turn one python-nmap host entry into a Host and its observations (nmap XML import and
    single-run callers; the sweep assembles hosts from several runs in host_scan)."""
    services, observations = services_from_nmap(ip, data)
    if scripts:
        observations += ftp_refusals(ip, services, observations)
    guess = os_guess(data)
    if guess is not None:
        observations.append(guess)
    addresses = data.get("addresses", {})
    mac = _text(addresses.get("mac")).lower() or None
    vendor = _text((data.get("vendor") or {}).get(addresses.get("mac", ""), "")) or None
    hostname = next(
        (_text(h.get("name")) for h in data.get("hostnames", []) if h.get("name")), None
    )
    base = base or Host(ip=ip)
    host = base.model_copy(
        update={
            "services": tuple(services),
            "mac": base.mac or mac,
            "vendor": base.vendor or vendor,
            "hostname": base.hostname or hostname,
            "os": base.os or (str(guess.data["name"]) if guess is not None else None),
        }
    )
    return host, observations


def ftp_refusals(
    ip: str, services: list[Service], observations: list[Observation]
) -> list[Observation]:
    """ftp-anon prints nothing when the server refuses anonymous login: say so explicitly."""
    out: list[Observation] = []
    for svc in services:
        if (
            svc.proto == "tcp"
            and svc.name == "ftp"
            and not any(o.kind == "ftp.anonymous" and o.port == svc.port for o in observations)
        ):
            out.append(
                Observation(
                    kind="ftp.anonymous",
                    ip=ip,
                    port=svc.port,
                    proto="tcp",
                    source="nmap:ftp-anon",
                    data={"allowed": False},
                )
            )
    return out
