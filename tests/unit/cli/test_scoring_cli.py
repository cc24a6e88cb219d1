"""`secposture checks list`, `frameworks list` and `score`: the catalogue shown, and the stored
sweep re-scored with exit codes cron can read (issue #6)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from assessment_factories import (
    answers_as_of,
    config_file,
    questionnaire_text,
    two_host_sweep,
    waiver_text,
    write,
)
from click.testing import CliRunner, Result
from factories import sweep

from inventory.store import Inventory
from secposture.checks import load_catalogue
from secposture.cli import main
from secposture.config.loading import load_config
from secposture.frameworks import SHIPPED, shipped_frameworks
from secposture.job.assessment import assess
from secposture.model import exitcodes
from secposture.model.records import Attempt, AttemptStatus, Reason, SweepResult


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, ["--lang", "en", *args])


def stored(tmp_path: Path, result: SweepResult, assessment: str = "") -> Path:
    """A config whose store holds ``result`` as its last sweep."""
    path = config_file(tmp_path, "district", assessment)
    config = load_config(path)
    judged = assess(result, config)
    Inventory.for_config(config).commit_sweep(result, judged.findings, judged.score)
    return path


def test_checks_list_shows_every_check_of_the_catalogue() -> None:
    result = invoke("checks", "list")
    assert result.exit_code == 0
    for check_id in load_catalogue():
        assert check_id in result.output
    assert "org.security_officer" in result.output


def test_frameworks_list_shows_the_catalogue_tree() -> None:
    result = invoke("frameworks", "list")
    assert result.exit_code == 0, result.output
    for fid, fw in shipped_frameworks().items():
        assert f"\n{fid} {fw.info.version} — " in f"\n{result.output}"
    assert "legal" in result.output and "(national" in result.output
    lines = result.output.splitlines()
    safeguard = lines.index("    4.6  Securely Manage Enterprise Assets and Software")
    assert lines[safeguard + 1].startswith("      → net.telnet_exposed, net.http_admin_cleartext")
    assert "(no check yet)" in result.output
    # QCVN 12:2026/BCA says where it applies (issue #13: its own section 1.1 scope)
    assert (
        "  applies only where [assessment] stores_electronic_documents = true "
        "(QCVN 12:2026/BCA section 1.1 scope); extends vn-baseline"
    ) in lines


def test_frameworks_list_json_is_the_data(tmp_path: Path) -> None:
    data = json.loads(invoke("frameworks", "list", "--json").output)
    assert [fw["framework"]["id"] for fw in data] == list(SHIPPED)
    gci = data[0]
    assert sum(s["max_points"] for s in gci["section"]) == 100
    assert all(not t["verified"] for t in gci["tier"])


def test_frameworks_list_with_a_config_shows_the_province_file(tmp_path: Path) -> None:
    own = tmp_path / "province"
    shipped = Path(__file__).parents[3] / "secposture/data/frameworks/cis-v8-ig1.toml"
    version = shipped_frameworks()["cis-v8-ig1"].info.version
    # the province's own version, with its changelog entry (an array of tables may go last)
    text = (
        shipped.read_text("utf-8").replace(
            f'version = "{version}"\ntitle_vi', 'version = "9.0.0"\ntitle_vi', 1
        )
        + '\n[[changelog]]\nversion = "9.0.0"\ndate = 2027-01-01\nchanges = "provincial"\n'
    )
    write(own / "cis.toml", text)
    path = config_file(tmp_path, assessment=f'[assessment]\nframeworks_dir = "{own}"\n')
    result = invoke("frameworks", "list", "-c", str(path))
    assert result.exit_code == 0, result.output
    assert "cis-v8-ig1 9.0.0 — " in result.output


def test_score_prints_every_framework_with_coverage(tmp_path: Path) -> None:
    # `score` judges answers as of the real date: the answers move with it
    answers = write(tmp_path / "answers.toml", questionnaire_text(answers_as_of(date.today())))
    path = stored(tmp_path, two_host_sweep(), f'[assessment]\nselfassessment = "{answers.name}"\n')
    result = invoke("score", "-c", str(path))
    assert result.exit_code == exitcodes.OK, result.output
    # What the command prints is the posture the library computes for the stored sweep (the
    # figures themselves are hand-checked in test_scoring_posture.py).
    posture = assess(two_host_sweep(), load_config(path)).posture
    gci, vn = posture.framework("gci"), posture.framework("vn-baseline")
    assert gci.score is not None and gci.tier is not None
    assert "Re-scoring sweep s1" in result.output
    assert f"[gci {gci.version}, applied at: district]" in result.output
    # Issue #13: the figure falls in a tier whose cut-offs are unverified, so no tier is named
    assert not gci.tier.verified and gci.claimed_tier is None
    why = "while the score is provisional" if gci.provisional else "the tier cut-offs are not"
    assert f"Score {gci.score:.1f}/100 · coverage {gci.coverage:.0%} · no tier named" in (
        result.output
    )
    assert why in result.output
    assert f"Tier {gci.tier.rank}" not in result.output and gci.tier.name_en not in result.output
    assert "Legal" in result.output and "national, not scored for an agency" in result.output
    counts = vn.sections_by_status
    assert (
        f"Conclusion: Does not meet — {counts.get('meets', 0)} groups meet, "
        f"{counts['no_failure_found']} with no failure found, "
        f"{counts['does_not_meet']} do not, {counts['not_assessed']} not assessed"
    ) in result.output
    assert "1 self-assessment answer(s) are older than 12 months" in result.output


def test_score_json_and_fail_on(tmp_path: Path) -> None:
    path = stored(tmp_path, two_host_sweep())
    result = invoke("score", "-c", str(path), "--json", "--fail-on", "high")
    # telnet on 10.77.0.5 is a failed high finding
    assert result.exit_code == exitcodes.FINDINGS
    data = json.loads(result.output)
    posture = data["posture"]
    assert posture["posture_schema"] == 1 and posture["sweep_id"] == "s1"
    # an ordinary agency LAN: QCVN 12:2026/BCA is outside its scope (issue #13)
    assert [fw["id"] for fw in posture["frameworks"]] == [f for f in SHIPPED if f != "vn-qcvn12"]
    for fw in posture["frameworks"]:
        assert 0.0 <= fw["coverage"] <= 1.0
    assert invoke("score", "-c", str(path), "--fail-on", "critical").exit_code == exitcodes.OK


def test_score_respects_waivers_for_fail_on(tmp_path: Path) -> None:
    waivers = write(tmp_path / "waivers.toml", waiver_text(expires="2099-12-31"))
    path = stored(tmp_path, two_host_sweep(), f'[assessment]\nwaivers = "{waivers}"\n')
    assert invoke("score", "-c", str(path), "--fail-on", "high").exit_code == exitcodes.OK
    expired = write(tmp_path / "waivers.toml", waiver_text(expires="2020-01-01"))
    assert expired.exists()
    result = invoke("score", "-c", str(path), "--fail-on", "high")
    assert result.exit_code == exitcodes.FINDINGS
    assert "1 waiver(s) have expired" in result.output


def test_incomplete_sweep_exits_3(tmp_path: Path) -> None:
    broken = Attempt(
        stage="ports", target="10.77.0.5", status=AttemptStatus.ERROR, reason=Reason.TIMEOUT
    )
    path = stored(tmp_path, two_host_sweep(attempts=(broken,)))
    result = invoke("score", "-c", str(path), "--fail-on", "high")
    assert result.exit_code == exitcodes.INCOMPLETE
    assert "was incomplete" in result.output


def test_no_stored_sweep_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke("score", "-c", str(config_file(tmp_path)))
    assert result.exit_code == exitcodes.USAGE
    assert "No sweep stored" in result.output


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("waivers", waiver_text(check="net.nope"), "waiver[0].check"),
        ("selfassessment", 'agency = "tn-xa-khac"\n', "selfassessment.agency"),
    ],
)
def test_bad_input_file_is_one_line_exit_2(
    tmp_path: Path, name: str, text: str, words: str
) -> None:
    bad = write(tmp_path / f"{name}.toml", text)
    path = stored(tmp_path, sweep(), "")
    path.write_text(path.read_text("utf-8") + f'[assessment]\n{name} = "{bad}"\n', "utf-8")
    result = invoke("score", "-c", str(path))
    assert result.exit_code == exitcodes.USAGE
    assert words in result.output and len(result.output.strip().splitlines()) == 1


def test_sweep_refuses_a_bad_waiver_before_scanning(tmp_path: Path) -> None:
    # A typo in a waiver must not cost a sweep: it is refused before anything is sent. The
    # config also pins a namespace that does not exist, so were the order ever wrong the
    # sweep would still refuse to send (exit 4), never scan from this machine.
    bad = write(tmp_path / "waivers.toml", waiver_text(check="net.nope"))
    path = config_file(tmp_path, assessment=f'[assessment]\nwaivers = "{bad}"\n')
    text = path.read_text("utf-8").replace(
        'scopes = ["10.77.0.0/24"]\n', 'scopes = ["10.77.0.0/24"]\nnetns = "secposture-nowhere"\n'
    )
    path.write_text(text, "utf-8")
    result = invoke("sweep", "-c", str(path))
    assert result.exit_code == exitcodes.USAGE, result.output
    assert "waiver[0].check" in result.output
    assert not (tmp_path / "store.json").exists()
