"""SNMP: direct SNMPv2c GETs with the default communities, when nmap's scripts said nothing.

One socket asks every candidate host of a batch at once and matches the answers as they come
(by the answering address and the community it echoes), so a batch costs one wait, however
many of its hosts never answer: on a LAN most hosts drop 161/udp silently (nmap then says
``open|filtered``), and asking them one after another cost a second or two each.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable

from scanners.probes.budget import Pacer
from secposture.model.records import Observation

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
COMMUNITIES = ("public", "private")
# What the probe did, in order, for a caller that wants to see it: ("send", ip) per packet,
# ("wait", None) when it starts waiting for answers.
Trace = Callable[[str, str | None], None]


def probe_snmp(
    ip: str,
    communities: tuple[str, ...] = COMMUNITIES,
    *,
    timeout: float = 1.0,
    port: int = 161,
) -> list[Observation]:
    """SNMPv2c GET sysDescr/sysName of one host with each default community."""
    return probe_snmp_many([ip], communities, timeout=timeout, port=port)[ip]


def probe_snmp_many(
    ips: Iterable[str],
    communities: tuple[str, ...] = COMMUNITIES,
    *,
    timeout: float = 1.0,
    port: int = 161,
    pacer: Pacer | None = None,
    trace: Trace | None = None,
) -> dict[str, list[Observation]]:
    """SNMPv2c GET sysDescr/sysName to every host with each community; one answer is proof.

    Every request goes out before the probe waits for any answer; then it waits once, at most
    ``timeout`` seconds, and stops as soon as every host has answered every community. nmap's
    own SNMP probe of the same port was the first try, so each host is asked once here.
    Returns, per host, an ``snmp.community`` observation per community (accepted or not) and
    the ``snmp.sysdescr`` / ``snmp.sysname`` it read."""
    targets = list(dict.fromkeys(ips))
    answers: dict[tuple[str, str], dict[str, str]] = {}
    wanted = {(ip, c) for ip in targets for c in communities}
    unsendable: set[str] = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        requests = {c: _get_request(c) for c in communities}
        for ip in targets:
            for community in communities:
                if pacer is not None:
                    pacer.take()
                try:
                    sock.sendto(requests[community], (ip, port))
                except OSError:
                    unsendable.add(ip)  # no route: nothing to wait for from this host
                    break
                if trace is not None:
                    trace("send", ip)
        wanted = {(ip, c) for ip, c in wanted if ip not in unsendable}
        if trace is not None:
            trace("wait", None)
        deadline = time.monotonic() + timeout
        while wanted - answers.keys():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            try:
                data, peer = sock.recvfrom(65535)
            except (TimeoutError, OSError):
                break
            answer = _read_answer(data)
            if answer is not None and (peer[0], answer[0]) in wanted:
                answers[(peer[0], answer[0])] = answer[1]
    return {
        ip: [] if ip in unsendable else _observations(ip, port, communities, answers)
        for ip in targets
    }


def _get_request(community: str) -> bytes:
    from scapy.asn1.asn1 import ASN1_OID
    from scapy.layers.snmp import SNMP, SNMPget, SNMPvarbind

    get = SNMP(
        community=community,
        PDU=SNMPget(
            varbindlist=[
                SNMPvarbind(oid=ASN1_OID(SYS_DESCR)),
                SNMPvarbind(oid=ASN1_OID(SYS_NAME)),
            ]
        ),
    )
    return bytes(get)


def _read_answer(data: bytes) -> tuple[str, dict[str, str]] | None:
    """The community and the values of one reply; None for anything that is not one."""
    from scapy.layers.snmp import SNMP

    try:
        reply = SNMP(data)
        community = reply.community.val.decode("utf-8", errors="replace")
        values = {str(vb.oid.val): _snmp_text(vb.value.val) for vb in reply.PDU.varbindlist}
    except Exception:  # a malformed reply is no evidence, whatever scapy raises
        return None
    return community, values


def _observations(
    ip: str,
    port: int,
    communities: tuple[str, ...],
    answers: dict[tuple[str, str], dict[str, str]],
) -> list[Observation]:
    out = []
    for community in communities:
        found = answers.get((ip, community))
        descr = (found or {}).get(SYS_DESCR, "")[:1000]
        out.append(
            Observation(
                kind="snmp.community",
                ip=ip,
                port=port,
                proto="udp",
                source="probe:snmp",
                data={"community": community, "accepted": found is not None, "sysdescr": descr},
            )
        )
        if found is not None and descr:
            out.append(
                Observation(
                    kind="snmp.sysdescr",
                    ip=ip,
                    port=port,
                    proto="udp",
                    source="probe:snmp",
                    data={"sysdescr": descr},
                )
            )
        if found is not None and found.get(SYS_NAME):
            out.append(
                Observation(
                    kind="snmp.sysname",
                    ip=ip,
                    port=port,
                    proto="udp",
                    source="probe:snmp",
                    data={"sysname": found[SYS_NAME][:255]},
                )
            )
    return out


def _snmp_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
