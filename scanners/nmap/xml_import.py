"""An existing nmap XML file as a sweep result: read safely, in bounded memory, judged like any
sweep.

The file comes from outside (another tool, another person), so entity declarations and external
references are refused as defusedxml refuses them (billion laughs, XXE); nmap's own ``<!DOCTYPE
nmaprun>`` is accepted. The file is read as a stream, one ``<host>`` at a time (issue #20):
each host becomes its Host record as soon as it ends and its elements are let go, so a
10,000-host report never stands in memory as a document. Nothing is returned, and so nothing is
stored, unless the whole file was read and found to be a finished nmap report.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException

from scanners.device_type import guess_device_type
from scanners.nmap.parse import CHUNK, NmapDocument, host_from_nmap
from scanners.scope import Scope
from secposture.model.records import Attempt, AttemptStatus, Host, Observation, SweepResult, utcnow

MAX_BYTES = 200 * 1024 * 1024
MAX_LISTED_UDP = 1024  # UDP ports recorded as "state known" when the scan listed them


class NmapImportError(ValueError):
    """The file cannot be imported; the message says why in one line."""


def _ports(spec: str) -> list[int]:
    """'53,123,161-163' → [53, 123, 161, 162, 163] (empty when the list is too long)."""
    out: list[int] = []
    for part in spec.split(","):
        low, _, high = part.partition("-")
        if not low.strip().isdigit():
            continue
        first, last = int(low), int(high) if high.strip().isdigit() else int(low)
        out.extend(range(first, last + 1))
        if len(out) > MAX_LISTED_UDP:
            return []
    return out


@contextmanager
def no_full_collections() -> Iterator[None]:
    """No full garbage collection while the hosts pile up; the thresholds restored after.

    Each full collection walks every object alive, and ten thousand hosts with their evidence
    and findings are many: on the 10,000-host report of bench/bench_import_10k.py they took
    1.2 s of the command's 5.6 s. The garbage an import makes has no cycles (elements, dicts,
    records), so it is freed as it goes; young collections still run. The import command holds
    this over its whole run (parse, checks, store), as the parse alone holds it here.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], 1 << 30)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def read_nmap_xml(
    path: Path, on_host: Callable[[NmapDocument, str, dict[str, Any]], None]
) -> NmapDocument:
    """Read the file, handing each host's entry (python-nmap's dict format) to ``on_host`` as
    it ends; the document's run facts once it was read to its end. ``NmapImportError`` on
    anything wrong, in this order: unreadable or too large, refused (DTD entities, external
    references), not well-formed, not nmap's, not finished, a host that cannot be read."""
    doc = NmapDocument()
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise NmapImportError(f"{size} bytes is more than the {MAX_BYTES} an import accepts")
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                for ip, data in doc.feed(chunk):
                    on_host(doc, ip, data)
            for ip, data in doc.close():
                on_host(doc, ip, data)
    except OSError as exc:
        raise NmapImportError(exc.strerror or str(exc)) from None
    except DefusedXmlException as exc:
        raise NmapImportError(
            f"refused: the XML uses {type(exc).__name__} (DTD or entities)"
        ) from None
    except ParseError as exc:
        raise NmapImportError(f"not well-formed XML (truncated?): {exc}") from None
    if doc.root_tag != "nmaprun":
        raise NmapImportError(f"not an nmap XML report (root element <{doc.root_tag}>)")
    if not doc.runstats:
        raise NmapImportError("the report has no <runstats>: nmap did not finish writing it")
    if not doc.finished:
        raise NmapImportError(
            "nmap XML could not be parsed: its <runstats> has no <finished> and <hosts>"
        )
    if doc.error is not None:
        raise NmapImportError(str(doc.error))
    return doc


def sweep_from_nmap(
    path: Path, *, agency_id: str, sweep_id: str, scope: Scope
) -> tuple[SweepResult, int]:
    """The file as a sweep of in-scope hosts; also returns how many hosts were left out."""
    # Per address, the last entry the file gives for it (as a dict keyed by address keeps it):
    # a host that is not up, one outside the scope, or its record and evidence.
    found: dict[str, tuple[Host, list[Observation]] | str] = {}

    def on_host(doc: NmapDocument, ip: str, data: dict[str, Any]) -> None:
        if data.get("status", {}).get("state") != "up":
            found[ip] = "down"
        elif ip not in scope:
            found[ip] = "outside"
        else:
            # ftp-anon says nothing when anonymous login is refused: only a scan that ran it
            # may conclude "refused" from its silence.
            found[ip] = host_from_nmap(ip, data, scripts="ftp-anon" in doc.args)

    with no_full_collections():
        doc = read_nmap_xml(path, on_host)
        args = doc.args
        udp_known = tuple(_ports(doc.scaninfo.get("udp", "")))
        started = utcnow()
        if doc.start.isdigit():
            started = datetime.fromtimestamp(int(doc.start), UTC)
        hosts: list[Host] = []
        observations: list[Observation] = []
        skipped = 0
        for _ip, entry in sorted(found.items()):
            if entry == "outside":
                skipped += 1
            if isinstance(entry, str):
                continue
            host, evidence = entry
            kind, reason = guess_device_type(host, evidence)  # services, vendor and evidence
            host = host.model_copy(
                update={
                    "discovered_by": ("nmap-import",),
                    "ports_scanned": "tcp" in doc.scaninfo,
                    "udp_scanned": udp_known,
                    "hostname_source": "nmap" if host.hostname else None,
                    "device_type": kind.value,
                    "device_type_reason": reason,
                }
            )
            hosts.append(host)
            observations += evidence
    attempt = Attempt(
        stage="import.nmap",
        target=path.name,
        status=AttemptStatus.COMPLETED,
        detail=f"{len(hosts)} hosts imported, {skipped} outside the scope left out; "
        f"nmap {args[:300]}",
        started=started,
    )
    sweep = SweepResult(
        sweep_id=sweep_id,
        agency_id=agency_id,
        profile="import",
        scopes=tuple(str(n) for n in scope.networks),
        exclude=tuple(str(n) for n in scope.excluded),
        started=started,
        finished=started,
        hosts=tuple(hosts),
        observations=tuple(observations),
        attempts=(attempt,),
        complete=True,
    )
    return sweep, skipped
