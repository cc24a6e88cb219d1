"""``secposture keys|bundle|collector|aggregate``: signed bundles from agency to province."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from secposture.cli.common import (
    CONFIG_OPT,
    cli_context,
    config_fail,
    emit_json,
    fail,
    load,
    message_lang,
)
from secposture.config.errors import ConfigError
from secposture.model import exitcodes
from secposture.model.i18n import t

if TYPE_CHECKING:
    from secposture.province.hierarchy import CollectorConfig

COLLECTOR_OPT = click.option(
    "-c",
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Collector configuration file (TOML): store, listen address, the province's units "
    "and their public keys.",
)


def _collector_config(path: Path) -> CollectorConfig:
    from secposture.province.hierarchy import load_collector_config

    try:
        return load_collector_config(path)
    except ConfigError as exc:
        config_fail(exc)


# --- keys ----------------------------------------------------------------------------------


@click.group("keys")
def keys_group() -> None:
    """The agency's Ed25519 signing key for bundles (bundle.key in the config)."""


@keys_group.command("init")
@CONFIG_OPT
@click.option("--json", "as_json", is_flag=True)
def keys_init(config_path: Path, as_json: bool) -> None:
    """Create the signing key at bundle.key (file:PATH, mode 0600) and print its public key.

    The province registers the printed ``ed25519:…`` line for this agency in its collector
    config. An existing key is never replaced.
    """
    from secposture.bundle.export import bundle_section
    from secposture.bundle.keys import KeyProblem, create_key, key_file, key_id, public_key_text

    config = load(config_path)
    try:
        ref = bundle_section(config).key
    except ConfigError as exc:
        config_fail(exc)
        return
    path = key_file(ref)
    if path is None:
        fail(
            t(
                "bundle.error",
                message_lang(),
                detail="keys init writes a file: set bundle.key = "
                '"file:PATH" (an env: key is created by whoever sets the variable)',
            ),
            exitcodes.USAGE,
        )
    try:
        key = create_key(path)
    except KeyProblem as exc:
        fail(t("bundle.error", message_lang(), detail=str(exc)), exitcodes.USAGE)
    public = public_key_text(key)
    if as_json:
        emit_json(
            {
                "agency": config.agency.id,
                "path": str(path),
                "public_key": public,
                "key_id": key_id(public),
            }
        )
        return
    click.echo(t("bundle.key_created", message_lang(), path=path), err=True)
    click.echo(public)


@keys_group.command("show")
@CONFIG_OPT
@click.option("--json", "as_json", is_flag=True)
def keys_show(config_path: Path, as_json: bool) -> None:
    """Print the public key of bundle.key (what the province registers)."""
    from secposture.bundle.export import bundle_section
    from secposture.bundle.keys import KeyProblem, key_id, load_private_key, public_key_text

    config = load(config_path)
    try:
        public = public_key_text(load_private_key(bundle_section(config).key))
    except ConfigError as exc:
        config_fail(exc)
        return
    except KeyProblem as exc:
        fail(t("bundle.error", message_lang(), detail=str(exc)), exitcodes.USAGE)
    if as_json:
        emit_json({"agency": config.agency.id, "public_key": public, "key_id": key_id(public)})
        return
    click.echo(public)


# --- bundle --------------------------------------------------------------------------------


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

    registry = _collector_config(collector_config) if collector_config else None
    limit = registry.collector.max_bundle_bytes if registry else DEFAULT_BUNDLE_MAX_BYTES
    lang = message_lang()
    try:
        if file.stat().st_size > limit:  # refuse before reading a huge file into memory
            raise BundleError(RejectReason.TOO_LARGE, f"{file.stat().st_size} bytes > {limit}")
        envelope, payload = open_bundle(file.read_bytes(), max_bytes=limit)
        unit = None
        if registry is not None:
            unit = Hierarchy(registry).unit_for_key(envelope.public_key)
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
    score = payload.score.overall
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
            score="—" if score is None else f"{score:.0f}/100",
            key_id=key_id(envelope.public_key),
        )
    )
    if unit is not None:
        click.echo(t("bundle.registered", lang, unit=unit.id))


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
                "pending": [
                    {"name": p.name, "reason": p.reason, "next_try": p.next_try.isoformat()}
                    for p in result.pending
                ],
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
    from secposture.report.outputs.files import format_time

    return format_time(moment, lang)


# --- collector -----------------------------------------------------------------------------


@click.group("collector")
def collector_group() -> None:
    """The provincial collector: receives, verifies and stores the units' bundles."""


@collector_group.command("check")
@COLLECTOR_OPT
def collector_check(config_path: Path) -> None:
    """Validate the collector config (hierarchy, keys); one line naming the first error."""
    config = _collector_config(config_path)
    keys = sum(len(u.keys) for u in config.unit)
    click.echo(
        t(
            "collector.config_ok",
            message_lang(),
            province=config.province.id,
            units=len(config.unit),
            keys=keys,
        )
    )


@collector_group.command("serve")
@COLLECTOR_OPT
@click.option("--host", help="Listen address (default: collector.host).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: collector.port).")
def collector_serve(config_path: Path, host: str | None, port: int | None) -> None:
    """Serve the upload API (POST /api/v1/bundles) until interrupted.

    Over TLS when collector.tls_cert and tls_key are set. Only bundles signed by a key
    registered for the unit they name are stored; every refusal is logged with its reason
    in collector.log in the store folder.
    """
    from secposture.province.app import serve

    config = _collector_config(config_path)
    section = config.collector
    scheme = "https" if section.tls_cert else "http"
    url = f"{scheme}://{host or section.host}:{port or section.port}"
    click.echo(t("collector.serving", message_lang(), url=url), err=True)
    serve(config, host=host, port=port)


@collector_group.command("ingest")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@COLLECTOR_OPT
@click.option("--json", "as_json", is_flag=True)
def collector_ingest(folder: Path, config_path: Path, as_json: bool) -> None:
    """Ingest every *.bundle file in FOLDER (bundles carried by hand, or copied from mail).

    Same checks as the upload API. Exit 0 when all were accepted, 3 when any was rejected
    (the reasons are printed and logged; the files are left where they are).
    """
    from secposture.bundle.envelope import RejectReason
    from secposture.province.app import configure_logging
    from secposture.province.hierarchy import Hierarchy
    from secposture.province.store import CollectorStore, IngestOutcome

    config = _collector_config(config_path)
    section = config.collector
    configure_logging(section.store)
    store = CollectorStore(section.store, Hierarchy(config), max_bytes=section.max_bundle_bytes)
    lang = message_lang()
    results = []
    for path in sorted(folder.glob("*.bundle")):
        size = path.stat().st_size
        if size > section.max_bundle_bytes:  # refused from its size, never read
            outcome = IngestOutcome(
                False,
                RejectReason.TOO_LARGE,
                f"{size} bytes; the limit is {section.max_bundle_bytes}",
            )
        else:
            outcome = store.ingest(path.read_bytes(), source=str(path))
        results.append({"file": str(path), **outcome.as_dict()})
        if as_json:
            continue
        if outcome.accepted:
            click.echo(
                t(
                    "collector.ingested",
                    lang,
                    file=path.name,
                    agency=outcome.agency_id,
                    sweep=outcome.sweep_id,
                )
            )
        else:
            reason = outcome.reason.value if outcome.reason else "?"
            click.echo(
                t("collector.refused", lang, file=path.name, reason=reason, detail=outcome.detail)
            )
    # A bundle already stored is no failure: ingesting the same folder twice is harmless.
    rejected = sum(
        1
        for r in results
        if r["status"] != "accepted" and r["reason"] != RejectReason.DUPLICATE.value
    )
    if as_json:
        emit_json(results)
    else:
        accepted = sum(1 for r in results if r["status"] == "accepted")
        click.echo(
            t("collector.ingest_done", lang, accepted=accepted, rejected=len(results) - accepted),
            err=True,
        )
    if rejected:
        raise SystemExit(exitcodes.INCOMPLETE)


# --- aggregate -----------------------------------------------------------------------------


@click.command("aggregate")
@COLLECTOR_OPT
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for index.html (province), districts/ and agencies/.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
@click.option("--json", "as_json", is_flag=True)
def aggregate(config_path: Path, out: Path, quiet: bool, as_json: bool) -> None:
    """Write the province overview, one page per district and each unit's latest report.

    Built from the bundles in the collector's store (the index is rebuilt from the bundle
    files if it was lost). The province page shows the score distribution, ranking, tier
    counts, heat map by unit, common findings with the units affected, the weekly trend and
    the units overdue (collector.overdue_after_days). Language: --lang, else collector.lang.
    """
    from secposture.bundle.envelope import BundleError
    from secposture.province.pages import write_aggregate

    config = _collector_config(config_path)
    lang = cli_context().explicit or config.collector.lang.value

    def progress(done: int, total: int) -> None:
        if not (quiet or as_json) and (done == total or done % 25 == 0):
            click.echo(t("aggregate.progress", message_lang(), done=done, total=total), err=True)

    try:
        paths = write_aggregate(config, out, lang=lang, progress=progress)
    except BundleError as exc:  # a stored file altered after it was accepted
        fail(t("bundle.error", message_lang(), detail=str(exc)), exitcodes.USAGE)
    if as_json:
        emit_json(
            {
                "province": str(paths.province),
                "districts": [str(p) for p in paths.districts],
                "agencies": [str(p) for p in paths.agencies],
            }
        )
        return
    click.echo(
        t(
            "aggregate.done",
            message_lang(),
            path=paths.province,
            districts=len(paths.districts),
            agencies=len(paths.agencies),
        )
    )
