"""An existing nmap XML file as a sweep result: read safely, judged like any sweep.

The file comes from outside (another tool, another person), so it is first parsed with
defusedxml, which refuses entity expansion and external references (billion laughs, XXE);
only a document that passes is handed to python-nmap's parser (plain ElementTree). Nothing is
stored unless the whole file was read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException, ElementTree

from scanners.device_type import guess_device_type
from scanners.nmap.parse import NmapParseError, host_from_nmap, parse_nmap_xml
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


def read_nmap_xml(path: Path) -> tuple[str, dict[str, Any], dict[str, dict[str, Any]]]:
    """The document's text, its run info and its hosts; ``NmapImportError`` on anything wrong."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise NmapImportError(f"{size} bytes is more than the {MAX_BYTES} an import accepts")
        raw = path.read_bytes()
    except OSError as exc:
        raise NmapImportError(exc.strerror or str(exc)) from None
    try:
        root = ElementTree.fromstring(raw)  # nmap writes <!DOCTYPE nmaprun>; entities refused
    except DefusedXmlException as exc:
        raise NmapImportError(
            f"refused: the XML uses {type(exc).__name__} (DTD or entities)"
        ) from None
    except ElementTree.ParseError as exc:
        raise NmapImportError(f"not well-formed XML (truncated?): {exc}") from None
    if root.tag != "nmaprun":
        raise NmapImportError(f"not an nmap XML report (root element <{root.tag}>)")
    if root.find("runstats") is None:
        raise NmapImportError("the report has no <runstats>: nmap did not finish writing it")
    text = raw.decode("utf-8", errors="replace")
    try:
        hosts = parse_nmap_xml(text)
    except NmapParseError as exc:
        raise NmapImportError(str(exc)) from None
    run = {
        "args": root.get("args", ""),
        "start": root.get("start", ""),
        "scaninfo": {i.get("protocol", ""): i.get("services", "") for i in root.iter("scaninfo")},
    }
    return text, run, hosts


def sweep_from_nmap(
    path: Path, *, agency_id: str, sweep_id: str, scope: Scope
) -> tuple[SweepResult, int]:
    """The file as a sweep of in-scope hosts; also returns how many hosts were left out."""
    _text, run, parsed = read_nmap_xml(path)
    args = str(run["args"])
    scaninfo: dict[str, str] = run["scaninfo"]
    udp_known = tuple(_ports(scaninfo.get("udp", "")))
    started = utcnow()
    if str(run["start"]).isdigit():
        started = datetime.fromtimestamp(int(run["start"]), UTC)
    hosts: list[Host] = []
    observations: list[Observation] = []
    skipped = 0
    for ip, data in sorted(parsed.items()):
        if data.get("status", {}).get("state") != "up":
            continue
        if ip not in scope:
            skipped += 1
            continue
        # ftp-anon says nothing when anonymous login is refused: only a scan that ran it
        # may conclude "refused" from its silence.
        host, found = host_from_nmap(ip, data, scripts="ftp-anon" in args)
        host = host.model_copy(
            update={
                "discovered_by": ("nmap-import",),
                "ports_scanned": "tcp" in scaninfo,
                "udp_scanned": udp_known,
                "hostname_source": "nmap" if host.hostname else None,
            }
        )
        kind, reason = guess_device_type(host, found)
        hosts.append(
            host.model_copy(update={"device_type": kind.value, "device_type_reason": reason})
        )
        observations += found
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
