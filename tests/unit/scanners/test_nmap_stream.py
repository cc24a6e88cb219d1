"""nmap XML read one ``<host>`` at a time (issue #20): the same entries as python-nmap's parser,
in any chunking, in memory bounded by one host, with defusedxml's refusals kept."""

from __future__ import annotations

import re
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from defusedxml import DefusedXmlException, ElementTree

from scanners.nmap.parse import NmapDocument, NmapParseError, parse_nmap_xml
from scanners.nmap.xml_import import read_nmap_xml, sweep_from_nmap
from scanners.scope import Scope

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nmap"
HOST_BLOCK = re.compile(r"<host[ >].*?</host>", re.S)
# What the recorded fixtures do not show: OS detection, uptime, host scripts, hostnames, a
# service without a name, two CPEs, a TLS tunnel, several extraports, an IPv6-only host.
RICH = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap -O -sV 10.77.0.0/24" start="1795830432">
<scaninfo type="syn" protocol="tcp" numservices="3" services="22,443,8443"/>
<host><status state="up" reason="syn-ack"/>
<address addr="10.77.0.90" addrtype="ipv4"/>
<address addr="AA:BB:CC:00:00:5A" addrtype="mac" vendor="Example &amp; Co"/>
<hostnames><hostname name="gw.lab" type="PTR"/><hostname name="gw" type="user"/></hostnames>
<ports><extraports state="filtered" count="990"><extrareasons reason="no-response"/></extraports>
<extraports state="closed" count="7"/>
<port protocol="tcp" portid="443"><state state="open" reason="syn-ack"/>
<service name="http" product="nginx" version="1.24" tunnel="ssl" method="probed" conf="10">
<cpe>cpe:/a:igor_sysoev:nginx:1.24</cpe><cpe>cpe:/o:linux:linux_kernel</cpe></service>
<script id="ssl-cert" output="Subject: commonName=gw.lab"/><script id="http-title" output="Gate"/>
</port>
<port protocol="tcp" portid="8443"><state state="open" reason="syn-ack"/><service conf="3"/></port>
<port protocol="udp" portid="161"><state state="open|filtered" reason="no-response"/>
<service name="snmp" method="table" conf="3"/></port>
</ports>
<os><portused state="open" proto="tcp" portid="443"/><portused state="closed" proto="tcp"
portid="1"/><osmatch name="Linux 5.0 - 5.14" accuracy="98" line="67">
<osclass type="general purpose" vendor="Linux" osfamily="Linux" osgen="5.X" accuracy="97">
<cpe>cpe:/o:linux:linux_kernel:5</cpe></osclass></osmatch>
<osmatch name="MikroTik RouterOS 7" accuracy="91" line="80"/>
<osfingerprint fingerprint="OS:SCAN(V=7.93)"/></os>
<uptime seconds="86400" lastboot="Fri Nov 27 01:47:12 2026"/>
<hostscript><script id="smb-protocols" output="dialects: 2.0.2"/><script id="nbstat"
output="NetBIOS name: GW"/></hostscript>
</host>
<host><status state="down" reason="no-response"/><address addr="fe80::1" addrtype="ipv6"/></host>
<runstats><finished time="1" timestr="x" elapsed="1.0"/><hosts up="1" down="1" total="2"/>
</runstats>
</nmaprun>
"""


def python_nmap(xml: str) -> dict[str, dict[str, Any]]:
    """The hosts as they were read before issue #20: python-nmap's parser on the whole text,
    then the tunnel and extraports it drops read from the same document."""
    import nmap

    scanner = nmap.PortScanner.__new__(nmap.PortScanner)  # skip its `nmap -V` probe
    scanner._scan_result = {}
    scan: dict[str, dict[str, Any]] = scanner.analyse_nmap_xml_scan(nmap_xml_output=xml)["scan"]
    for host in ElementTree.fromstring(xml).iter("host"):
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


DOCUMENTS = {p.name: p.read_text(encoding="utf-8") for p in sorted(FIXTURES.glob("*.xml"))}
DOCUMENTS["rich-host (inline)"] = RICH


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_fixture_gives_python_nmaps_entries_issue_20(name: str) -> None:
    # Given a recorded report, read by python-nmap as before issue #20 and by the stream
    xml = DOCUMENTS[name]
    before, after = python_nmap(xml), parse_nmap_xml(xml)
    # Then the entries are equal, key for key and in the same order
    assert after == before
    for ip, data in before.items():
        assert list(after[ip]) == list(data), ip
    assert before, "the fixture holds hosts"


def test_the_rich_host_keeps_what_the_checks_read() -> None:
    data = parse_nmap_xml(RICH)["10.77.0.90"]
    assert data["extraports"] == {"filtered": 990, "closed": 7}
    assert data["tcp"][443]["tunnel"] == "ssl" and data["tcp"][443]["cpe"].startswith("cpe:/o")
    assert data["tcp"][8443]["name"] is None  # a <service> without a name, as python-nmap
    assert data["osmatch"][0]["accuracy"] == "97"  # python-nmap's: the last class's accuracy
    assert data["vendor"] == {"AA:BB:CC:00:00:5A": "Example & Co"}
    assert (
        "fingerprint" not in data
    )  # python-nmap looks for it under <host>, nmap writes it in <os>


@pytest.mark.parametrize("size", [1, 7, 100, 4096])
def test_any_chunking_gives_the_same_entries(size: int) -> None:
    xml = DOCUMENTS["detail-services.xml"]
    doc = NmapDocument()
    hosts: dict[str, dict[str, Any]] = {}
    for at in range(0, len(xml), size):
        hosts.update(doc.feed(xml[at : at + size].encode()))
    hosts.update(doc.close())
    assert hosts == parse_nmap_xml(xml) and doc.finished and doc.error is None
    assert doc.args.startswith("nmap -oX") and doc.scaninfo["tcp"].startswith("22,139")


@pytest.mark.parametrize("size", [1, 5, 64])
@pytest.mark.parametrize(
    "xml",
    [
        '<?xml version="1.0"?>\n<!DOCTYPE nmaprun [\n <!ENTITY a "aa">\n]>\n<nmaprun>&a;</nmaprun>',
        '<!DOCTYPE nmaprun [<!ENTITY x SYSTEM "file:///etc/hostname">]><nmaprun>&x;</nmaprun>',
        '<!DOCTYPE nmaprun [<!ENTITY % p SYSTEM "http://127.0.0.1:9/">]><nmaprun/>',
    ],
)
def test_entities_are_refused_however_the_prolog_is_cut(xml: str, size: int) -> None:
    # Given a declaration split across chunks, the guard still sees it before any element
    doc = NmapDocument()
    with pytest.raises(DefusedXmlException):
        for at in range(0, len(xml), size):
            doc.feed(xml[at : at + size])
        doc.close()
    assert doc.root_tag is None  # the element parser never reached the root


def test_the_sweep_path_refuses_entities_too() -> None:
    bomb = '<!DOCTYPE nmaprun [<!ENTITY a "a">]><nmaprun>&a;<runstats/></nmaprun>'
    with pytest.raises(NmapParseError, match="EntitiesForbidden"):
        parse_nmap_xml(bomb)


def many_hosts(count: int) -> str:
    """A report of ``count`` hosts: the recorded server and NAS, re-addressed in 10.77.x.y."""
    blocks = [
        *HOST_BLOCK.findall(DOCUMENTS["detail-services.xml"]),
        *HOST_BLOCK.findall(DOCUMENTS["detail-ftp-telnet-http.xml"])[:1],
    ]
    head = DOCUMENTS["detail-services.xml"].split("<hosthint>")[0]  # its args run ftp-anon
    body = []
    for i in range(count):
        ip = f"10.77.{1 + i // 250}.{1 + i % 250}"
        block = re.sub(
            r'addr="10\.77\.0\.\d+" addrtype="ipv4"', f'addr="{ip}" addrtype="ipv4"', blocks[i % 2]
        )
        body.append(block)
    tail = '<runstats><finished time="1" elapsed="1"/><hosts up="1" down="0" total="1"/></runstats>'
    return head + "\n".join(body) + tail + "</nmaprun>\n"


def test_a_many_host_import_gives_each_host_as_the_small_fixture_does(tmp_path: Path) -> None:
    # Given the two recorded hosts imported alone, and 600 copies of them in one report
    scope = Scope(["10.77.0.0/16"], [])
    single: dict[str, Any] = {}
    for name, ip in (
        ("detail-services.xml", "10.77.0.60"),
        ("detail-ftp-telnet-http.xml", "10.77.0.20"),
    ):
        sweep, _ = sweep_from_nmap(FIXTURES / name, agency_id="a", sweep_id="s", scope=scope)
        host = sweep.host(ip)
        assert host is not None
        single[ip] = (host, [o for o in sweep.observations if o.ip == ip])
    report = tmp_path / "many.xml"
    report.write_text(many_hosts(600), encoding="utf-8")
    # When the big report is imported as a stream
    sweep, skipped = sweep_from_nmap(report, agency_id="a", sweep_id="s", scope=scope)
    # Then every host and its evidence is the recorded one, re-addressed
    assert len(sweep.hosts) == 600 and skipped == 0
    by_ip: dict[str, list[Any]] = {}
    for o in sweep.observations:
        by_ip.setdefault(o.ip, []).append(o)
    for i, host in enumerate(sorted(sweep.hosts, key=lambda h: tuple(map(int, h.ip.split("."))))):
        assert host.ip == f"10.77.{1 + i // 250}.{1 + i % 250}"
        alone, evidence = single["10.77.0.60" if i % 2 == 0 else "10.77.0.20"]
        assert host.model_dump(exclude={"ip"}) == alone.model_dump(exclude={"ip"})
        assert [o.model_dump(exclude={"ip"}) for o in by_ip[host.ip]] == [
            o.model_dump(exclude={"ip"}) for o in evidence
        ]


def peak_while_reading(report: Path) -> int:
    """The most memory Python held while reading ``report``, each entry dropped at once."""
    tracemalloc.start()
    try:
        read_nmap_xml(report, lambda doc, ip, data: None)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_memory_held_is_one_host_not_the_document(tmp_path: Path) -> None:
    # Given reports of 200 and 2,000 hosts (about 0.7 and 7 MB)
    small, big = tmp_path / "small.xml", tmp_path / "big.xml"
    small.write_text(many_hosts(200), encoding="utf-8")
    big.write_text(many_hosts(2000), encoding="utf-8")
    # When each is read with its entries dropped as soon as they are handed over
    small_peak, big_peak = peak_while_reading(small), peak_while_reading(big)
    # Then ten times the hosts is not ten times the memory: a chunk and one host are held,
    # where a whole tree would be about ten times the file (70 MB)
    assert big_peak < 1.5 * small_peak + 100_000, (small_peak, big_peak)
    assert big_peak < big.stat().st_size / 4
