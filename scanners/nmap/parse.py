"""nmap XML → hosts, services and observations, one ``<host>`` at a time.

Each host entry keeps python-nmap's dict shape (``PortScanner.analyse_nmap_xml_scan``), the
format every stage passes on, plus the two facts python-nmap drops: a port's TLS ``tunnel`` and
the summarised ``extraports``. The document is read as a stream (issue #20): a sweep's small
output and a 10,000-host report imported from a file go through the same per-host converter,
and a host's elements are let go as soon as it has been converted.

The XML comes from nmap or from a file someone hands over, so entity declarations and external
references are refused as defusedxml refuses them (billion laughs, XXE) while ``<!DOCTYPE
nmaprun>``, which nmap writes, is accepted. Declarations can only stand in the prolog, before
the root element: a guard parser with defusedxml's handlers reads the prolog before the
(C-accelerated) element parser sees it, and steps aside once the root element starts.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import dataclass, field
from typing import Any, cast
from xml.parsers import expat

from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden

from scanners.attempt import ParseError
from scanners.nmap.scripts import observations_from_scripts
from scanners.nmap.sharing import shared
from secposture.model.records import Host, Observation, Service

CHUNK = 64 * 1024


def port_states(data: dict[str, Any], proto: str = "tcp") -> dict[int, str]:
    """Each listed port of one host entry and its state ("open", "closed", "filtered"…)."""
    return {int(p): str(v.get("state")) for p, v in data.get(proto, {}).items()}


def open_ports(data: dict[str, Any], proto: str = "tcp") -> list[int]:
    """The open ports of one host entry, in order."""
    return sorted(p for p, state in port_states(data, proto).items() if state == "open")


class NmapParseError(ParseError):
    """nmap's XML could not be read."""


def _required(element: ET.Element | None, what: str) -> ET.Element:
    if element is None:
        raise NmapParseError(f"nmap XML could not be parsed: a <host> has no <{what}>")
    return element


def host_entry(dhost: ET.Element) -> tuple[str, dict[str, Any]]:
    """One ``<host>`` element as its address and python-nmap's per-host dict, with ``tunnel``
    on the ports that have one and the host's ``extraports`` states.

    This follows ``analyse_nmap_xml_scan`` line for line, quirks included (an OS match's
    ``accuracy`` is that of its last class, as python-nmap reports it; a ``<service>`` without
    a name gives ``None``), so that entries read before and after issue #20 are equal;
    tests/unit/scanners/test_nmap_stream.py compares the two on every recorded fixture.
    """
    host: str | None = None
    address_block: dict[str, Any] = {}
    vendor_block: dict[str, Any] = {}
    for address in dhost.findall("address"):
        addtype = address.get("addrtype")
        address_block[str(addtype)] = address.get("addr")
        if addtype == "ipv4":
            host = address_block[addtype]
        elif addtype == "mac" and address.get("vendor") is not None:
            vendor_block[address_block[addtype]] = address.get("vendor")
    if host is None:
        host = _required(dhost.find("address"), "address").get("addr")
    hostnames = [
        {"name": h.get("name"), "type": h.get("type")} for h in dhost.findall("hostnames/hostname")
    ] or [{"name": "", "type": ""}]
    data: dict[str, Any] = {"hostnames": hostnames, "addresses": address_block}
    data["vendor"] = vendor_block
    for dstatus in dhost.findall("status"):
        data["status"] = {"state": dstatus.get("state"), "reason": dstatus.get("reason")}
    for duptime in dhost.findall("uptime"):
        data["uptime"] = {"seconds": duptime.get("seconds"), "lastboot": duptime.get("lastboot")}
    for dport in dhost.findall("ports/port"):
        proto = dport.get("protocol")
        port = int(str(dport.get("portid")))
        dstate = _required(dport.find("state"), "state")
        name: str | None = ""
        product = version = extrainfo = conf = ""
        cpe: str | None = ""
        for dname in dport.findall("service"):
            name = dname.get("name")
            product = dname.get("product") or product
            version = dname.get("version") or version
            extrainfo = dname.get("extrainfo") or extrainfo
            conf = dname.get("conf") or conf
            for dcpe in dname.findall("cpe"):
                cpe = dcpe.text
        entry: dict[str, Any] = {
            "state": dstate.get("state"),
            "reason": dstate.get("reason"),
            "name": name,
            "product": product,
            "version": version,
            "extrainfo": extrainfo,
            "conf": conf,
            "cpe": cpe,
        }
        data.setdefault(cast(str, proto), {})[port] = entry  # python-nmap keys by it as is
        for dscript in dport.findall("script"):
            entry.setdefault("script", {})[dscript.get("id")] = dscript.get("output")
        service = dport.find("service")
        tunnel = service.get("tunnel") if service is not None else None
        if tunnel:
            entry["tunnel"] = tunnel
    for dhostscript in dhost.findall("hostscript"):
        for dscript in dhostscript.findall("script"):
            data.setdefault("hostscript", []).append(
                {"id": dscript.get("id"), "output": dscript.get("output")}
            )
    for dos in dhost.findall("os"):
        data["portused"] = [
            {"state": u.get("state"), "proto": u.get("proto"), "portid": u.get("portid")}
            for u in dos.findall("portused")
        ]
        osmatch = []
        for dosmatch in dos.findall("osmatch"):
            accuracy = dosmatch.get("accuracy")
            osclass = []
            for dosclass in dosmatch.findall("osclass"):
                accuracy = dosclass.get("accuracy")  # python-nmap's: the last class's
                osclass.append(
                    {
                        "type": dosclass.get("type"),
                        "vendor": dosclass.get("vendor"),
                        "osfamily": dosclass.get("osfamily"),
                        "osgen": dosclass.get("osgen"),
                        "accuracy": accuracy,
                        "cpe": [c.text for c in dosclass.findall("cpe")],
                    }
                )
            osmatch.append(
                {
                    "name": dosmatch.get("name"),
                    "accuracy": accuracy,
                    "line": dosmatch.get("line"),
                    "osclass": osclass,
                }
            )
        data["osmatch"] = osmatch
    for dfingerprint in dhost.findall("osfingerprint"):
        data["fingerprint"] = dfingerprint.get("fingerprint")
    states: dict[str, int] = {}
    for extra in dhost.iter("extraports"):
        state = extra.get("state", "")
        states[state] = states.get(state, 0) + int(extra.get("count", "0") or 0)
    data["extraports"] = states
    return str(host), data


class _PrologGuard:
    """defusedxml's refusals (entity declarations, external references) over the prolog.

    The same handlers as ``defusedxml.ElementTree.DefusedXMLParser(forbid_dtd=False)``, on a
    bare expat parser that builds nothing. It is fed each chunk before the element parser;
    once the root element starts nothing can be declared any more, and it stops.
    """

    class _RootStarted(Exception):
        pass

    def __init__(self) -> None:
        self.done = False
        self._parser = expat.ParserCreate()
        self._parser.EntityDeclHandler = self._entity
        self._parser.UnparsedEntityDeclHandler = self._unparsed
        self._parser.ExternalEntityRefHandler = self._external
        self._parser.StartElementHandler = self._root

    @staticmethod
    def _entity(
        name: str,
        is_pe: int,
        value: str | None,
        base: str | None,
        sysid: str | None,
        pubid: str | None,
        notation: str | None,
    ) -> None:
        raise EntitiesForbidden(name, value, base, sysid, pubid, notation)

    @staticmethod
    def _unparsed(
        name: str, base: str | None, sysid: str | None, pubid: str | None, notation: str | None
    ) -> None:
        raise EntitiesForbidden(name, None, base, sysid, pubid, notation)

    @staticmethod
    def _external(context: str, base: str | None, sysid: str | None, pubid: str | None) -> int:
        raise ExternalReferenceForbidden(context, base, sysid, pubid)

    def _root(self, name: str, attrs: dict[str, str]) -> None:
        raise self._RootStarted

    def feed(self, chunk: bytes | str, final: bool = False) -> None:
        """Check ``chunk``; a malformed prolog is left to the element parser to report."""
        if self.done:
            return
        try:
            self._parser.Parse(chunk, final)
        except (self._RootStarted, expat.ExpatError):
            self.done = True


@dataclass(slots=True)
class NmapDocument:
    """An nmap XML document read chunk by chunk: its run facts and, as each ``<host>`` ends,
    that host's entry (``feed`` and ``close`` return the entries completed so far).

    Only direct children of the root are kept, and only until they end: the memory held is one
    host's elements, whatever the size of the document. A host that cannot be converted is
    remembered in ``error`` and no later host is read: the caller raises it after checking
    well-formedness, so that a cut-short file says so first, as a whole-document parser would.
    """

    root_tag: str | None = None
    args: str = ""
    start: str = ""
    scaninfo: dict[str, str] = field(default_factory=dict)
    runstats: bool = False  # a <runstats> was read
    finished: bool = False  # ... with its <finished> and <hosts>
    error: NmapParseError | None = None
    _guard: _PrologGuard = field(default_factory=_PrologGuard)
    _parser: ET.XMLPullParser[ET.Element] = field(
        default_factory=lambda: ET.XMLPullParser(events=("start", "end"))
    )
    _root: ET.Element | None = None
    _depth: int = 0

    def feed(self, chunk: bytes | str) -> list[tuple[str, dict[str, Any]]]:
        """Read one more piece of the document (``DefusedXmlException``, ``ET.ParseError``)."""
        self._guard.feed(chunk)
        self._parser.feed(chunk)
        return self._events()

    def close(self) -> list[tuple[str, dict[str, Any]]]:
        """The end of the document (``ET.ParseError`` when it is not whole). The caller then
        looks at ``root_tag``, ``finished`` and ``error``, in its own order."""
        self._guard.feed(b"", final=True)
        self._parser.close()
        return self._events()

    def _events(self) -> list[tuple[str, dict[str, Any]]]:
        hosts: list[tuple[str, dict[str, Any]]] = []
        depth = self._depth
        # The pull parser's own queue, read here rather than through read_events(): a
        # generator step per event was a tenth of a 10,000-host import's parse (issue #20).
        # The parser queues a syntax error as an item; it is raised as read_events() would.
        queue: deque[Any] = self._parser._events_queue  # type: ignore[attr-defined]
        pop = queue.popleft
        while queue:
            item = pop()
            if isinstance(item, Exception):
                raise item
            event, elem = item  # only start and end were asked
            if event == "start":
                depth += 1
                if depth == 1:
                    self._root = elem
                    self.root_tag = elem.tag
                    self.args, self.start = elem.get("args", ""), elem.get("start", "")
                continue
            depth -= 1
            if depth != 1 or self._root is None:
                continue
            self._root.remove(elem)  # the document keeps nothing of a child once read
            if self.root_tag != "nmaprun":
                continue
            if elem.tag == "host" and self.error is None:
                try:
                    hosts.append(host_entry(elem))
                except NmapParseError as exc:
                    self.error = exc
                except (ValueError, TypeError, AttributeError) as exc:
                    self.error = NmapParseError(f"nmap XML could not be parsed: {exc}")
            elif elem.tag == "scaninfo":
                self.scaninfo[elem.get("protocol", "")] = elem.get("services", "")
            elif elem.tag == "runstats":
                self.runstats = True
                self.finished = elem.find("finished") is not None and elem.find("hosts") is not None
        self._depth = depth
        return hosts


def parse_nmap_xml(xml: str) -> dict[str, dict[str, Any]]:
    """Hosts of an nmap XML document in python-nmap's dict format (see ``host_entry``), keyed
    by IP; ``NmapParseError`` when the document is refused, not whole, or not nmap's."""
    doc = NmapDocument()
    scan: dict[str, dict[str, Any]] = {}
    try:
        for at in range(0, len(xml), CHUNK):
            scan.update(doc.feed(xml[at : at + CHUNK]))
        scan.update(doc.close())
    except (DefusedXmlException, ET.ParseError) as exc:
        raise NmapParseError(f"nmap XML could not be parsed: {exc}") from exc
    if not doc.finished:
        raise NmapParseError(
            "nmap XML could not be parsed: no <runstats> with <finished> and <hosts>"
        )
    if doc.error is not None:
        raise doc.error
    return scan


# UDP states that leave a service possible because nmap heard nothing back: open|filtered is
# nmap's usual word for it; closed|filtered is what --defeat-icmp-ratelimit (the quick profile)
# says instead. A service in either state is kept, so that a check never reads it as closed.
UDP_UNDECIDED = ("open|filtered", "closed|filtered")


def _text(value: Any) -> str:
    return str(value or "").strip()


# Services as read, by what nmap said of them: a Service carries no address, so the thousandth
# host's "22/tcp open ssh OpenSSH 8.9p1" is the first's record (issue #20). Bounded like
# scanners.nmap.sharing: when full the table starts again.
_services: dict[tuple[Any, ...], Service] = {}
MAX_SERVICES = 20_000


def _service(port: int, proto: str, state: str, p: dict[str, Any]) -> Service:
    fields = ("name", "product", "version", "extrainfo", "tunnel", "cpe")
    key = (port, proto, state, *(_text(p.get(f)) for f in fields))
    found = _services.get(key)
    if found is None:
        if len(_services) >= MAX_SERVICES:
            _services.clear()
        name, product, version, extrainfo, tunnel, cpe = (shared(v) for v in key[3:])
        found = _services[key] = Service(
            port=port,
            proto=proto,
            state=shared(state),
            name=name,
            product=product,
            version=version,
            extrainfo=extrainfo,
            tunnel=tunnel,
            cpe=(cpe,) if cpe else (),
        )
    return found


def services_from_nmap(ip: str, data: dict[str, Any]) -> tuple[list[Service], list[Observation]]:
    """Open (and undecided UDP) services of one host entry, and their script evidence."""
    services: list[Service] = []
    observations: list[Observation] = []
    for proto in ("tcp", "udp"):
        for port, p in sorted(data.get(proto, {}).items()):
            state = p.get("state")
            # Undecided UDP is kept: an SNMP agent ignoring 'public' looks exactly so.
            if state != "open" and not (proto == "udp" and state in UDP_UNDECIDED):
                continue
            services.append(_service(int(port), proto, str(state), p))
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
    os_name = str(guess.data["name"]) if guess is not None else None
    if base is None:
        host = Host(
            ip=ip, services=tuple(services), mac=mac, vendor=vendor, hostname=hostname, os=os_name
        )
        return host, observations
    host = base.model_copy(
        update={
            "services": tuple(services),
            "mac": base.mac or mac,
            "vendor": base.vendor or vendor,
            "hostname": base.hostname or hostname,
            "os": base.os or os_name,
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
