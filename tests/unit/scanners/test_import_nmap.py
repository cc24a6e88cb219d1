"""``secposture inventory import-nmap FILE`` (issue #3): real recorded nmap XML goes in; hostile,
truncated or foreign XML gives one line, exit 2, and leaves the store byte for byte as it was.
The file is read as a stream (issue #20): the same reasons, and nothing stored unless the whole
file was read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from inventory.store import Inventory
from secposture.cli import main
from secposture.model import exitcodes

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nmap"
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE nmaprun [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<nmaprun args="nmap">&lol3;</nmaprun>
"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE nmaprun [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<nmaprun args="nmap"><host><status state="up"/><address addr="10.77.0.9" addrtype="ipv4"/>
<hostnames><hostname name="&secret;"/></hostnames></host><runstats/></nmaprun>
"""

UNPARSED = (
    '<!DOCTYPE nmaprun [<!NOTATION n SYSTEM "x"><!ENTITY u SYSTEM "http://x/" NDATA n>]><nmaprun/>'
)
DETAIL = (FIXTURES / "detail-services.xml").read_text(encoding="utf-8")
_HOST = DETAIL[DETAIL.index("<host ") : DETAIL.index("</host>") + len("</host>")]
# 250 copies of the recorded server, 10.77.0.1-200 and 10.77.1.1-50, behind nmap's own prolog
MANY_HOSTS = (
    DETAIL[: DETAIL.index("<hosthint>")]
    + "\n".join(_HOST.replace("10.77.0.60", f"10.77.{i // 200}.{i % 200 + 1}") for i in range(250))
    + DETAIL[DETAIL.index("<runstats>") :]
)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "agency.toml"
    path.write_text(
        '[agency]\nid = "tn-xa-mau"\nname = "UBND xã Mẫu"\nlevel = "commune"\n'
        '[scan]\nscopes = ["10.77.0.0/24"]\nexclude = ["10.77.0.71"]\n'
        f'[store]\npath = "{tmp_path / "inventory.json"}"\n'
        f'[report]\ndir = "{tmp_path / "report"}"\n',
        encoding="utf-8",
    )
    return path


def run(config: Path, xml: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["--lang", "en", "inventory", "import-nmap", "-c", str(config), str(xml), *extra]
    )
    return result.exit_code, result.output


def test_a_recorded_report_becomes_a_sweep_with_its_evidence(config: Path) -> None:
    code, out = run(config, FIXTURES / "detail-services.xml", "--json")
    assert code == exitcodes.OK, out
    summary = json.loads(out)
    assert summary["hosts"] == 1 and summary["services"] == 9
    store = Inventory(config.parent / "inventory.json")
    result = store.latest_result()
    assert result is not None and result.profile == "import"
    host = result.host("10.77.0.60")
    assert host is not None and host.ports_scanned and host.device_type == "server"
    kinds = {o.kind for o in result.observations}
    assert {"ssh.algorithms", "smb.protocols", "rdp.security", "vnc.security"} <= kinds


def test_excluded_and_out_of_scope_hosts_are_left_out(config: Path) -> None:
    # host-timeout.xml holds 10.77.0.70 and 10.77.0.71; the config excludes .71.
    code, out = run(config, FIXTURES / "host-timeout.xml", "--json")
    assert code == exitcodes.OK, out
    assert json.loads(out)["left_out_of_scope"] == 1
    result = Inventory(config.parent / "inventory.json").latest_result()
    assert result is not None and [h.ip for h in result.hosts] == ["10.77.0.70"]


def test_silence_of_a_script_that_did_not_run_is_not_a_refusal(config: Path) -> None:
    # Given a report whose command line did not run ftp-anon ... (udp-snmp.xml has none)
    code, _ = run(config, FIXTURES / "udp-snmp.xml")
    assert code == exitcodes.OK
    result = Inventory(config.parent / "inventory.json").latest_result()
    assert result is not None
    assert not [o for o in result.observations if o.kind == "ftp.anonymous"]


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("laughs.xml", BILLION_LAUGHS, "EntitiesForbidden"),
        ("xxe.xml", XXE, "Forbidden"),
        ("truncated.xml", (FIXTURES / "detail-services.xml").read_text()[:2500], "truncated"),
        ("no-runstats.xml", '<?xml version="1.0"?><nmaprun args="nmap"></nmaprun>', "runstats"),
        ("other.xml", '<?xml version="1.0"?><html><body/></html>', "not an nmap XML"),
        ("empty.xml", "", "not well-formed"),
        # issue #20: what the stream refuses, as the whole-document parser did
        ("parameter.xml", '<!DOCTYPE nmaprun [<!ENTITY % p "x">]><nmaprun/>', "EntitiesForbidden"),
        ("unparsed.xml", UNPARSED, "EntitiesForbidden"),
        (
            "undeclared.xml",
            "<!DOCTYPE nmaprun><nmaprun>&x;<runstats/></nmaprun>",
            "not well-formed",
        ),
        ("cut-many.xml", MANY_HOSTS[: len(MANY_HOSTS) * 2 // 3], "truncated"),
        ("no-finished.xml", '<nmaprun args="nmap"><runstats/></nmaprun>', "<finished>"),
        ("bad-port.xml", DETAIL.replace('portid="22"', 'portid="ssh"'), "invalid literal"),
    ],
)
def test_bad_files_are_refused_and_change_nothing(
    config: Path, tmp_path: Path, name: str, content: str, says: str
) -> None:
    # Given a store holding one imported sweep
    assert run(config, FIXTURES / "detail-services.xml")[0] == exitcodes.OK
    store_file = config.parent / "inventory.json"
    before = store_file.read_bytes()
    bad = tmp_path / name
    bad.write_text(content, encoding="utf-8")
    # When a bad file is imported
    code, out = run(config, bad)
    # Then one line says why, exit 2, and the store is byte for byte the same
    assert code == exitcodes.USAGE
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0] and "unchanged" in lines[0], out
    assert store_file.read_bytes() == before


def test_nmaps_own_doctype_is_accepted_and_a_long_report_streams_in(
    config: Path, tmp_path: Path
) -> None:
    # Given nmap's report of 250 servers, 200 of them in the scope, with <!DOCTYPE nmaprun>
    assert "<!DOCTYPE nmaprun>" in MANY_HOSTS
    many = tmp_path / "many.xml"
    many.write_text(MANY_HOSTS, encoding="utf-8")
    # When it is imported
    code, out = run(config, many, "--json")
    # Then the hosts of the scope are each the recorded server, the others left out
    assert code == exitcodes.OK, out
    summary = json.loads(out)
    assert summary["hosts"] == 199 and summary["left_out_of_scope"] == 51  # and .71, excluded
    result = Inventory(config.parent / "inventory.json").latest_result()
    assert result is not None
    host = result.host("10.77.0.200")
    assert host is not None and len(host.services) == 9 and host.device_type == "server"


def test_a_missing_file_is_one_line(config: Path, tmp_path: Path) -> None:
    code, out = run(config, tmp_path / "nope.xml")
    assert code == exitcodes.USAGE and "nope.xml" in out and "Traceback" not in out
    assert not (config.parent / "inventory.json").exists()
