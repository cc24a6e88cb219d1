"""Signed bundles (issue #8): export from a real store, verify offline, refuse what is wrong.

No network: bundles are built from an inventory store filled with hand-made sweeps.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from bundle_helpers import AGENCY, SECRET, agency_config, make_key, store_sweeps
from click.testing import CliRunner

from secposture.bundle.envelope import BundleError, RejectReason, canonical_json, open_bundle
from secposture.bundle.keys import KeyProblem, load_private_key, public_key_text
from secposture.bundle.outbox import next_delay, outbox_dir, queue_sweeps
from secposture.cli import main
from secposture.config.errors import ConfigError
from secposture.config.loading import parse_config

LIMIT = 16 * 1024 * 1024


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, bytes]:
    config = agency_config(tmp_path)
    make_key(config)
    store_sweeps(config, 2)
    [path] = queue_sweeps(config)
    return path, path.read_bytes()


def resign_free(data: bytes, change: dict[str, object]) -> bytes:
    """The bundle with its payload edited and the old signature kept (a tampered file)."""
    doc = json.loads(data)
    doc["payload"].update(change)
    return canonical_json(doc)


def test_export_writes_a_signed_bundle_of_the_latest_sweep_that_verifies(
    exported: tuple[Path, bytes],
) -> None:
    path, data = exported
    envelope, payload = open_bundle(data, max_bytes=LIMIT)
    assert path.name == f"{AGENCY}-w1.bundle"
    assert payload.agency.id == AGENCY and payload.agency.parent == "tn-tinh"
    assert payload.sweep.sweep_id == f"{AGENCY}-w1"
    # the findings, score, posture, inventory and changes all travel
    assert any(
        f.check_id == "net.telnet_exposed" and f.status.value == "fail" for f in payload.findings
    )
    assert payload.score.assessed > 0
    # Issue #13: the headline travels with its cap and the reason for it (telnet is high), and
    # the GCI-derived posture carries its qualified title
    cap = payload.score.cap
    assert cap is not None and cap.severity == "high" and cap.at == 59.0
    assert cap.targets >= 1 and cap.checks >= 1
    assert payload.score.overall <= cap.at < (payload.score.raw or 0.0)
    gci = payload.posture.framework("gci") if payload.posture else None
    assert gci is not None and "theo mô hình GCI (cấp cơ quan)" in gci.title_vi
    assert payload.posture is not None and payload.posture.framework("gci").sections
    assert {h.ip for h in payload.hosts} == {"10.77.0.1", "10.77.0.20"}
    assert payload.changes == ()  # the second sweep changed nothing
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert envelope.public_key.startswith("ed25519:")


def test_export_is_deterministic_and_skips_what_is_already_queued(tmp_path: Path) -> None:
    config = agency_config(tmp_path)
    make_key(config)
    store_sweeps(config, 2)
    first = queue_sweeps(config, [f"{AGENCY}-w0"])[0].read_bytes()
    assert queue_sweeps(config, [f"{AGENCY}-w0"]) == []  # already in the outbox
    (outbox_dir(config) / f"{AGENCY}-w0.bundle").unlink()
    again = queue_sweeps(config, [f"{AGENCY}-w0"])[0].read_bytes()
    # the same sweep gives the same bytes: the collector can tell a replay from a conflict
    assert first == again
    _, payload = open_bundle(first, max_bytes=LIMIT)
    assert {c.kind.value for c in payload.changes} == {"new_device"}


def test_no_secret_key_or_raw_config_in_a_bundle_unless_opted_in(tmp_path: Path) -> None:
    config = agency_config(tmp_path)
    make_key(config)
    store_sweeps(config, 1)
    data = queue_sweeps(config)[0].read_bytes()
    key_pem = (tmp_path / "keys" / "agency.key").read_bytes()
    assert SECRET.encode() not in data
    assert b"PRIVATE KEY" not in data and key_pem not in data
    assert b"hostname core" not in data
    # When the agency opts in, device configs travel, and still no community string
    opted = agency_config(tmp_path / "opt", include_device_configs=True)
    make_key(opted)
    store_sweeps(opted, 1)
    data = queue_sweeps(opted)[0].read_bytes()
    _, payload = open_bundle(data, max_bytes=LIMIT)
    assert [o.kind for o in payload.device_configs] == ["device.config"]
    assert SECRET.encode() not in data


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda d: resign_free(d, {"generator": "evil"}), RejectReason.BAD_SIGNATURE),
        (
            lambda d: d.replace(b'"status":"fail"', b'"status":"pass"', 1),
            RejectReason.BAD_SIGNATURE,
        ),
        (lambda d: d[: len(d) // 2], RejectReason.MALFORMED),
        (
            lambda d: d.replace(b'"signature":{', b'"signature":null,"x":{', 1),
            RejectReason.MALFORMED,
        ),
        (lambda d: canonical_json({**json.loads(d), "signature": None}), RejectReason.UNSIGNED),
        (
            lambda d: canonical_json({**json.loads(d), "format": "other/9"}),
            RejectReason.UNSUPPORTED_FORMAT,
        ),
        (lambda d: d.replace(b'{"format"', b'{"format":"x","format"', 1), RejectReason.MALFORMED),
        (lambda d: b"\xff\xfe" + d, RejectReason.MALFORMED),
        (lambda d: d + b" " * LIMIT, RejectReason.TOO_LARGE),
    ],
    ids=[
        "edited",
        "status-flipped",
        "truncated",
        "extra-field",
        "unsigned",
        "format",
        "duplicate-key",
        "not-utf8",
        "oversized",
    ],
)
def test_a_damaged_bundle_is_refused_with_its_reason(
    exported: tuple[Path, bytes], mangle: object, reason: RejectReason
) -> None:
    _, data = exported
    with pytest.raises(BundleError) as err:
        open_bundle(mangle(data), max_bytes=LIMIT)  # type: ignore[operator]
    assert err.value.reason is reason


def test_signed_by_another_key_is_a_bad_signature(exported: tuple[Path, bytes]) -> None:
    _, data = exported
    doc = json.loads(data)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = Ed25519PrivateKey.generate()
    doc["signature"]["public_key"] = public_key_text(other)  # claims a key it was not signed by
    with pytest.raises(BundleError) as err:
        open_bundle(canonical_json(doc), max_bytes=LIMIT)
    assert err.value.reason is RejectReason.BAD_SIGNATURE


def test_a_bundle_in_another_json_layout_verifies_to_the_same_content(
    exported: tuple[Path, bytes],
) -> None:
    # The reader verifies the payload's bytes where they stand when the file is laid out as
    # sign_payload writes it; any other layout is re-canonicalised first.
    _, data = exported
    _, payload = open_bundle(data, max_bytes=LIMIT)
    doc = json.loads(data)
    indented = json.dumps(doc, indent=2).encode()
    escaped = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()  # \u escapes
    assert escaped.startswith(data[:40]) and escaped != data  # same head, other payload bytes
    for relaid in (indented, escaped):
        assert open_bundle(relaid, max_bytes=LIMIT)[1] == payload


def test_a_duplicate_key_is_refused_even_in_the_bytes_the_signature_covers(
    exported: tuple[Path, bytes], tmp_path: Path
) -> None:
    # Given payload bytes with a key twice, signed as they are by the agency's own key
    _, data = exported
    doc = json.loads(data)
    key = load_private_key(f"file:{tmp_path / 'keys' / 'agency.key'}")
    signed = b'{"generator":"other",' + canonical_json(doc["payload"])[1:]
    signature = {**doc["signature"], "value": base64.b64encode(key.sign(signed)).decode()}
    forged = (
        b'{"format":"secposture-bundle/1","payload":'
        + signed
        + b',"signature":'
        + canonical_json(signature)
        + b"}\n"
    )
    # Then it is refused: two readers could take different values for that key
    with pytest.raises(BundleError, match="'generator' appears twice") as err:
        open_bundle(forged, max_bytes=LIMIT)
    assert err.value.reason is RejectReason.MALFORMED


def test_key_file_is_owner_only_never_replaced_and_refused_when_others_can_read(
    tmp_path: Path,
) -> None:
    config = agency_config(tmp_path)
    make_key(config)
    key = tmp_path / "keys" / "agency.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    with pytest.raises(KeyProblem, match="already exists"):
        make_key(config)
    key.chmod(0o644)
    with pytest.raises(KeyProblem, match="chmod 600"):
        load_private_key(f"file:{key}")


def test_env_key_reference_holds_the_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    monkeypatch.setenv("SECPOSTURE_TEST_KEY", base64.b64encode(seed).decode())
    assert public_key_text(load_private_key("env:SECPOSTURE_TEST_KEY")) == public_key_text(key)
    monkeypatch.setenv("SECPOSTURE_TEST_KEY", "not a key")
    with pytest.raises(KeyProblem, match="not an Ed25519"):
        load_private_key("env:SECPOSTURE_TEST_KEY")


def test_bundle_section_takes_a_reference_never_the_key_and_is_optional(tmp_path: Path) -> None:
    base = {
        "agency": {"id": AGENCY, "name": "x", "level": "commune"},
        "scan": {"scopes": ["10.0.0.0/24"]},
        "store": {"path": "s.json"},
        "report": {"dir": "out"},
    }
    assert parse_config(dict(base)).bundle is None  # existing configs stay valid
    with pytest.raises(ConfigError, match=r"bundle\.key: must be a reference"):
        parse_config({**base, "bundle": {"key": "-----BEGIN PRIVATE KEY-----"}})
    with pytest.raises(ConfigError, match=r"bundle\.collector_url"):
        parse_config({**base, "bundle": {"key": "env:K", "collector_url": "ftp://x"}})
    # a relative key file is taken from the config's folder
    cfg = tmp_path / "agency.toml"
    cfg.write_text(
        '[agency]\nid="tn-xa-mau"\nname="x"\nlevel="commune"\n[scan]\n'
        'scopes=["10.0.0.0/24"]\n[store]\npath="s.json"\n[report]\ndir="o"\n'
        '[bundle]\nkey="file:keys/a.key"\n',
        encoding="utf-8",
    )
    from secposture.config.loading import load_config

    assert load_config(cfg).bundle.key == f"file:{tmp_path / 'keys' / 'a.key'}"  # type: ignore[union-attr]


def test_back_off_doubles_from_a_minute_to_at_most_six_hours() -> None:
    assert next_delay(1, 1.0) == 60 and next_delay(2, 1.0) == 120 and next_delay(3, 1.0) == 240
    assert next_delay(30, 1.0) == 6 * 3600
    assert next_delay(1, 0.0) == 30  # jitter spreads agencies over [half, full] delay


def test_cli_keys_init_export_and_verify(tmp_path: Path) -> None:
    config = agency_config(tmp_path)
    toml = tmp_path / "agency.toml"
    toml.write_text(
        f'[agency]\nid="{AGENCY}"\nname="UBND xã Mẫu"\nlevel="commune"\nparent="tn-huyen-mau"\n'
        f'[scan]\nscopes=["10.77.0.0/24"]\n[store]\npath="var/store.json"\n[report]\ndir="out"\n'
        '[bundle]\nkey="file:keys/agency.key"\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    # keys init prints the public key the province registers
    result = runner.invoke(main, ["keys", "init", "-c", str(toml)])
    assert result.exit_code == 0, result.output
    public = result.stdout.strip().splitlines()[-1]
    assert public.startswith("ed25519:")
    assert runner.invoke(main, ["keys", "show", "-c", str(toml)]).stdout.strip() == public
    assert runner.invoke(main, ["keys", "init", "-c", str(toml)]).exit_code == 2
    store_sweeps(config, 1)
    result = runner.invoke(main, ["bundle", "export", "-c", str(toml), "--json"])
    assert result.exit_code == 0, result.output
    [written] = json.loads(result.stdout)["written"]
    result = runner.invoke(main, ["--lang", "en", "bundle", "verify", written])
    assert result.exit_code == 0 and "Valid: tn-xa-mau (commune)" in result.stdout
    # issue #13: the one headline score with its cap reason (telnet is a high finding)
    assert "score 59/100 (capped at 59: 1 High finding(s) open)" in result.stdout
    tampered = tmp_path / "tampered.bundle"
    tampered.write_bytes(Path(written).read_bytes().replace(b'"fail"', b'"pass"', 1))
    result = runner.invoke(main, ["--lang", "en", "bundle", "verify", str(tampered)])
    assert result.exit_code == 1 and "Invalid (bad_signature)" in result.stdout
    assert os.path.exists(written)
