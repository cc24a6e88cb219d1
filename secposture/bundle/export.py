"""Build an agency's bundles from its inventory store: one signed file per sweep.

Everything comes from what the store kept of the sweep (result, findings, score, changes),
never from the network again, so exporting the same sweep twice gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from inventory.storage import Tables, atomic_write_bytes
from inventory.store import Inventory
from secposture import __version__
from secposture.bundle.envelope import BundleError, RejectReason, sign_payload
from secposture.bundle.model import BundleAgency, BundlePayload, BundleSweep
from secposture.checks.catalogue import load_catalogue
from secposture.config.errors import ConfigError
from secposture.config.sections import AgencyConfig, BundleSection
from secposture.frameworks import frameworks_for
from secposture.model.records import AttemptStatus, Finding, Observation, SweepResult
from secposture.model.score import Score
from secposture.report.view.text import VIETNAM_TIME
from secposture.scoring.posture import evaluate_posture
from secposture.scoring.score import Posture

SUFFIX = ".bundle"
# Observation kinds that hold a device's raw configuration (sent only when opted in).
DEVICE_CONFIG_PREFIX = "device.config"


def bundle_name(sweep_id: str) -> str:
    """The bundle's file name for a sweep."""
    return f"{sweep_id}{SUFFIX}"


def exportable_sweeps(inventory: Inventory, data: Tables) -> list[str]:
    """Committed sweeps whose full data the store still holds, in commit order."""
    retained = {row["sweep_id"] for row in data["sweep_data"].values()}
    return [s["sweep_id"] for s in inventory.committed(data) if s["sweep_id"] in retained]


def build_payload(
    config: AgencyConfig, inventory: Inventory, data: Tables, sweep_id: str
) -> BundlePayload:
    """The bundle content for one stored sweep; KeyError when the store no longer has it."""
    summary = next((s for s in inventory.committed(data) if s["sweep_id"] == sweep_id), None)
    record = inventory.sweep_record(sweep_id, data)
    if summary is None or record is None:
        raise KeyError(sweep_id)
    result = SweepResult.model_validate(record["result"])
    findings = tuple(Finding.model_validate(f) for f in record["findings"])
    changes = tuple(c for c in inventory.changes(data=data) if c.sweep_id == sweep_id)
    section = bundle_section(config)
    agency = config.agency
    return BundlePayload(
        generator=f"secposture {__version__}",
        agency=BundleAgency(
            id=agency.id, name=agency.name, level=agency.level, parent=agency.parent
        ),
        sweep=_sweep_summary(result),
        score=Score.model_validate(summary["score"]),
        posture=posture_of(config, result, findings),
        findings=findings,
        hosts=result.hosts,
        changes=changes,
        device_configs=_device_configs(result.observations)
        if section.include_device_configs
        else (),
    )


def posture_of(config: AgencyConfig, result: SweepResult, findings: tuple[Finding, ...]) -> Posture:
    """The frameworks' verdict on the stored findings (waivers and answers already in them),
    as of the sweep's day so that exporting again later gives the same bundle."""
    frameworks = frameworks_for(config.assessment, catalogue=load_catalogue())
    return evaluate_posture(
        frameworks.values(),
        findings,
        agency_id=config.agency.id,
        level=config.agency.level.value,
        system_level=config.assessment.system_level,
        sweep_id=result.sweep_id,
        assessed_on=result.started.astimezone(VIETNAM_TIME).date(),
    )


def _device_configs(observations: tuple[Observation, ...]) -> tuple[Observation, ...]:
    return tuple(o for o in observations if o.kind.startswith(DEVICE_CONFIG_PREFIX))


def bundle_section(config: AgencyConfig) -> BundleSection:
    """The config's [bundle] section, or ConfigError saying it is needed."""
    if config.bundle is None:
        raise ConfigError(
            "bundle", 'is required to export bundles (key = "file:PATH")', str(config.source)
        )
    return config.bundle


def export_sweep(
    config: AgencyConfig,
    inventory: Inventory,
    data: Tables,
    sweep_id: str,
    key: Ed25519PrivateKey,
) -> bytes:
    """Signed bundle bytes for one sweep, refused when larger than bundle.max_bytes."""
    bundle = sign_payload(build_payload(config, inventory, data, sweep_id), key)
    limit = bundle_section(config).max_bytes
    if len(bundle) > limit:
        raise BundleError(
            RejectReason.TOO_LARGE,
            f"sweep {sweep_id} makes a {len(bundle)}-byte bundle; bundle.max_bytes is {limit}",
        )
    return bundle


def write_bundle(folder: Path, sweep_id: str, data: bytes) -> Path:
    """Write a bundle file atomically; readable by owner and group only (it lists weaknesses)."""
    path = folder / bundle_name(sweep_id)
    atomic_write_bytes(path, data)
    path.chmod(0o640)
    return path


def _sweep_summary(result: SweepResult) -> BundleSweep:
    """The sweep's own fields as they are, and of its attempts only those that failed."""
    failed = tuple(a for a in result.attempts if a.status is AttemptStatus.ERROR)
    shared = {
        name: getattr(result, name)
        for name in BundleSweep.model_fields.keys() - {"failed_attempts"}
    }
    return BundleSweep(**shared, failed_attempts=failed)
