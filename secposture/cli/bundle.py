"""``secposture bundle …``: signed result bundles, exported, verified and pushed to the province."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import click

from secposture.cli.collector_common import load_collector
from secposture.cli.common import CONFIG_OPT, config_fail, emit_json, fail, load, message_lang
from secposture.config.errors import ConfigError
from secposture.model import exitcodes
from secposture.model.i18n import t
from secposture.model.score import Score
from secposture.report.view.text import cap_reason


@click.group("bundle")
def bundle_group() -> None:
    """Signed result bundles: export them, verify them, push them to the collector."""


@bundle_group.command("export")
@CONFIG_OPT
@click.option("--sweep", "sweeps", multiple=True, help="Sweep id to export (repeatable).")
@click.option("--all", "export_all", is_flag=True, help="Every sweep the store still holds.")
@click.option("--json", "as_json", is_flag=True)
def bundle_export(
    config_path: Path, sweeps: tuple[str, ...], export_all: bool, as_json: bool
) -> None:
    """Write one signed bundle per sweep into the outbox (default: the latest sweep).

    A bundle holds the agency's identity and place in the hierarchy, the sweep summary,
    findings, score, inventory of hosts and services, and the changes; no secrets, and raw
    device configs only with bundle.include_device_configs = true. Files already in the
    outbox, sent/ or rejected/ are not written again. Carry the files by hand, or send them
    with 'secposture bundle push'.
    """
    from inventory.storage import StoreError
    from inventory.store import Inventory
    from secposture.bundle.envelope import BundleError
    from secposture.bundle.export import exportable_sweeps
    from secposture.bundle.keys import KeyProblem
    from secposture.bundle.outbox import outbox_dir, queue_sweeps

    config = load(config_path)
    try:
        wanted: list[str] | None = list(sweeps) or None
        if export_all:
            inventory = Inventory.for_config(config)
            wanted = exportable_sweeps(inventory, inventory.read())
        written = queue_sweeps(config, wanted)
        folder = outbox_dir(config)
    except ConfigError as exc:
        config_fail(exc)
        return
    except (KeyProblem, BundleError, StoreError) as exc:
        fail(t("bundle.error", message_lang(), detail=str(exc)), exitcodes.USAGE)
    if as_json:
        emit_json({"outbox": str(folder), "written": [str(p) for p in written]})
        return
    if not written:
        click.echo(t("bundle.nothing_to_export", message_lang()))
        return
    for path in written:
        click.echo(str(path))
    click.echo(t("bundle.exported", message_lang(), count=len(written), folder=folder), err=True)


@bundle_group.command("verify")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--collector-config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also check that the signing key is registered for the unit the bundle names.",
)
@click.option("--json", "as_json", is_flag=True)
def bundle_verify(file: Path, collector_config: Path | None, as_json: bool) -> None:
    """Check a bundle offline: complete, unaltered, signed; exit 0 valid, 1 invalid.

    Without --collector-config it proves the bundle is intact and signed by the key it
    carries; with it, also that the key is the one the province registered for the unit.
    """
    from secposture.bundle.envelope import BundleError, RejectReason, open_bundle
    from secposture.bundle.keys import key_id
    from secposture.config.sections import DEFAULT_BUNDLE_MAX_BYTES
    from secposture.province.hierarchy import Hierarchy

    registry = load_collector(collector_config) if collector_config else None
    limit = registry.collector.max_bundle_bytes if registry else DEFAULT_BUNDLE_MAX_BYTES
    lang = message_lang()
    try:
        if file.stat().st_size > limit:  # refuse before reading a huge file into memory
            raise BundleError(RejectReason.TOO_LARGE, f"{file.stat().st_size} bytes > {limit}")
        envelope, payload = open_bundle(file.read_bytes(), max_bytes=limit)
        unit = None
        if registry is not None:
            unit = Hierarchy.from_config(registry).unit_for_key(envelope.public_key)
            if unit is None or unit.id != payload.agency.id:
                raise BundleError(
                    RejectReason.UNKNOWN_KEY,
                    f"key {key_id(envelope.public_key)} is not registered for {payload.agency.id}",
                )
    except BundleError as exc:
        if as_json:
            emit_json({"valid": False, "reason": exc.reason.value, "detail": exc.detail})
        else:
            click.echo(t("bundle.invalid", lang, reason=exc.reason.value, detail=exc.detail))
        raise SystemExit(exitcodes.FINDINGS) from None
    if as_json:
        emit_json(
            {
                "valid": True,
                "agency": payload.agency.model_dump(mode="json"),
                "sweep_id": payload.sweep.sweep_id,
                "score": payload.score.model_dump(mode="json"),
                "key_id": key_id(envelope.public_key),
                "registered_for": unit.id if unit else None,
                "digest": envelope.digest,
            }
        )
        return
    click.echo(
        t(
            "bundle.verified",
            lang,
            agency=payload.agency.id,
            level=payload.agency.level.value,
            sweep=payload.sweep.sweep_id,
            score=_headline(payload.score, lang),
            key_id=key_id(envelope.public_key),
        )
    )
    if unit is not None:
        click.echo(t("bundle.registered", lang, unit=unit.id))


def _headline(score: Score, lang: str) -> str:
    """The bundle's one headline score, with why it is capped (issue #13)."""
    if score.overall is None:
        return "—"
    shown = f"{score.overall:.0f}/100"
    return shown if score.cap is None else f"{shown} ({cap_reason(score.cap, lang)})"


@bundle_group.command("push")
@CONFIG_OPT
@click.option("--force", is_flag=True, help="Try every bundle now, ignoring the back-off.")
@click.option(
    "--wait",
    "wait_s",
    type=click.IntRange(min=0),
    default=0,
    help="Keep retrying (with back-off) for up to this many seconds until the outbox is empty.",
)
@click.option("--json", "as_json", is_flag=True)
def bundle_push(config_path: Path, force: bool, wait_s: int, as_json: bool) -> None:
    """Send the outbox to bundle.collector_url; exit 0 when empty, 3 when bundles still wait.

    A bundle leaves the outbox only when the collector has it. Failed pushes are retried with
    exponential back-off (1 minute doubling up to 6 hours); refused bundles move to
    rejected/ with the reason beside them.
    """
    from secposture.bundle.outbox import PushResult, push_outbox
    from secposture.model.records import utcnow

    config = load(config_path)
    lang = message_lang()
    deadline = time.monotonic() + wait_s
    delivered: list[str] = []
    rejected: list[tuple[str, str]] = []
    while True:
        try:
            result: PushResult = push_outbox(config, force=force)
        except ConfigError as exc:
            config_fail(exc)
            return
        force = False
        delivered += result.delivered
        rejected += result.rejected
        for name in result.delivered:
            if not as_json:
                click.echo(t("bundle.delivered", lang, name=name), err=True)
        if result.done or time.monotonic() >= deadline:
            break
        soonest = min(p.next_try for p in result.pending)
        pause = max(1.0, (soonest - utcnow()).total_seconds())
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
    if as_json:
        emit_json(
            {
                "delivered": delivered,
                "rejected": [{"name": n, "reason": r} for n, r in rejected],
                "pending": [p.as_json() for p in result.pending],
            }
        )
    else:
        for name, reason in rejected:
            click.echo(t("bundle.rejected", lang, name=name, reason=reason))
        for p in result.pending:
            click.echo(
                t(
                    "bundle.pending",
                    lang,
                    name=p.name,
                    reason=p.reason,
                    when=_when(p.next_try, lang),
                )
            )
        if result.done and not rejected:
            click.echo(t("bundle.outbox_empty", lang))
    if result.pending or rejected:
        raise SystemExit(exitcodes.INCOMPLETE)


def _when(moment: datetime, lang: str) -> str:
    from secposture.report.view.text import format_time

    return format_time(moment, lang)
