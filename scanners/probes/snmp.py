"""SNMP: a direct SNMPv2c GET with the default communities, when nmap's scripts said nothing."""

from __future__ import annotations

import socket
import time

from secposture.model.records import Observation

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"


def probe_snmp(
    ip: str,
    communities: tuple[str, ...] = ("public", "private"),
    *,
    timeout: float = 1.0,
    tries: int = 2,
    port: int = 161,
) -> list[Observation]:
    """SNMPv2c GET sysDescr/sysName with each default community; one answer is proof.

    Used when nmap's SNMP scripts left no evidence on a port that is open or open|filtered:
    an unanswered UDP probe is lost easily when many nmap processes share a link, and
    without evidence the check can only say not_assessed."""
    from scapy.asn1.asn1 import ASN1_OID
    from scapy.layers.snmp import SNMP, SNMPget, SNMPvarbind

    answers: dict[str, dict[str, str]] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        for _ in range(tries):
            pending = [c for c in communities if c not in answers]
            if not pending:
                break
            for community in pending:
                get = SNMP(
                    community=community,
                    PDU=SNMPget(
                        varbindlist=[
                            SNMPvarbind(oid=ASN1_OID(SYS_DESCR)),
                            SNMPvarbind(oid=ASN1_OID(SYS_NAME)),
                        ]
                    ),
                )
                try:
                    sock.sendto(bytes(get), (ip, port))
                except OSError:
                    return []
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and len(answers) < len(communities):
                try:
                    data, peer = sock.recvfrom(65535)
                except (TimeoutError, OSError):
                    break
                if peer[0] != ip:
                    continue
                try:
                    reply = SNMP(data)
                    community = reply.community.val.decode("utf-8", errors="replace")
                    values = {
                        str(vb.oid.val): _snmp_text(vb.value.val) for vb in reply.PDU.varbindlist
                    }
                except Exception:  # noqa: S112 - a malformed reply is no evidence
                    continue
                if community in communities:
                    answers[community] = values
    out = []
    for community in communities:
        found = answers.get(community)
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
