"""``secposture collector …`` and ``secposture aggregate``: the provincial side of bundles."""

from __future__ import annotations

from pathlib import Path

import click

from secposture.cli.accounts import tokens_group, users_group
from secposture.cli.collector_common import COLLECTOR_OPT, load_collector, open_or_fail
from secposture.cli.common import (
    cli_context,
    config_fail,
    emit_json,
    fail,
    message_lang,
)
from secposture.cli.registry import store_group, units_group
from secposture.config.errors import ConfigError
from secposture.model import exitcodes
from secposture.model.i18n import t


@click.group("collector")
def collector_group() -> None:
    """The provincial collector: receives, verifies and stores the units' bundles."""


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
    from secposture.province.service import serve

    config = load_collector(config_path)
    section = config.collector
    scheme = "https" if section.tls_cert else "http"
    url = f"{scheme}://{host or section.host}:{port or section.port}"
    click.echo(t("collector.serving", message_lang(), url=url), err=True)
    serve(config, host=host, port=port)


@collector_group.command("console")
@COLLECTOR_OPT
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address.")
@click.option("--port", type=click.IntRange(1, 65535), default=8444, show_default=True)
@click.option(
    "--behind-proxy",
    is_flag=True,
    help="Reached through the province's HTTPS reverse proxy on this machine: cookies are "
    "Secure, and the client address is taken from X-Forwarded-For sent by 127.0.0.1 only.",
)
def collector_console(config_path: Path, host: str, port: int, behind_proxy: bool) -> None:
    """Serve the provincial team's console (accounts, overview, findings and inventory search,
    read-only API) until interrupted; on its own address, apart from the upload endpoint.

    Over TLS when collector.tls_cert and tls_key are set (cookies are then Secure)."""
    import uvicorn

    from secposture.province.console.app import create_console

    config = load_collector(config_path)
    section = config.collector
    tls = section.tls_cert is not None
    try:
        app = create_console(config, secure_cookies=tls or behind_proxy)
    except ConfigError as exc:
        config_fail(exc)
    url = f"{'https' if tls else 'http'}://{host}:{port}"
    click.echo(t("collector.console_serving", message_lang(), url=url), err=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        ssl_certfile=str(section.tls_cert) if section.tls_cert else None,
        ssl_keyfile=str(section.tls_key) if section.tls_key else None,
        server_header=False,
        timeout_keep_alive=5,
        log_level="warning",
        # Without the proxy no forwarded header is believed: the audit log's source is the
        # connection's own address, which a client cannot forge.
        proxy_headers=behind_proxy,
        forwarded_allow_ips="127.0.0.1" if behind_proxy else None,
    )


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
    from secposture.province.service import configure_logging
    from secposture.province.store import IngestOutcome

    config = load_collector(config_path)
    section = config.collector
    configure_logging(section.store)
    store = open_or_fail(config)
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
            agency, sweep = outcome.agency_id, outcome.sweep_id
            line = t("collector.ingested", lang, file=path.name, agency=agency, sweep=sweep)
        else:
            reason = outcome.reason.value if outcome.reason else "?"
            line = t(
                "collector.refused", lang, file=path.name, reason=reason, detail=outcome.detail
            )
        click.echo(line)
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


@collector_group.command("check")
@COLLECTOR_OPT
def collector_check(config_path: Path) -> None:
    """Validate the collector config (hierarchy, keys); one line naming the first error."""
    config = load_collector(config_path)
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


@click.command("aggregate")
@COLLECTOR_OPT
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for index.html (province), groups/ and agencies/.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress lines.")
@click.option("--json", "as_json", is_flag=True)
def aggregate(config_path: Path, out: Path, quiet: bool, as_json: bool) -> None:
    """Write the province overview, one page per group of units and each unit's latest report.

    Built from the bundles in the collector's store (the index is rebuilt from the bundle
    files if it was lost). The province page shows the score distribution, ranking, tier
    counts, heat map by unit, common findings with the units affected, the weekly trend and
    the units overdue (collector.overdue_after_days). Language: --lang, else collector.lang.
    """
    from secposture.bundle.envelope import BundleError
    from secposture.province.pages import write_aggregate

    config = load_collector(config_path)
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
                "groups": [str(p) for p in paths.groups],
                "agencies": [str(p) for p in paths.agencies],
                "skipped": [{"unit": u, "reason": r} for u, r in paths.skipped],
            }
        )
    else:
        click.echo(
            t(
                "aggregate.done",
                message_lang(),
                path=paths.province,
                groups=len(paths.groups),
                agencies=len(paths.agencies),
            )
        )
        for unit_id, reason in paths.skipped:
            click.echo(t("aggregate.skipped", message_lang(), unit=unit_id, reason=reason),
                       err=True)  # fmt: skip
    if paths.skipped:  # written, but not every unit could be shown: not a silent "ok"
        raise SystemExit(exitcodes.INCOMPLETE)


@collector_group.group("receipt-key")
def receipt_key_group() -> None:
    """The collector's receipt key: it signs each upload's receipt, which agencies verify
    with its public half ([bundle] collector_key) before a bundle leaves their outbox."""


@receipt_key_group.command("init")
@COLLECTOR_OPT
def receipt_key_init(config_path: Path) -> None:
    """Create the receipt key at collector.receipt_key (file:PATH, mode 0600) and print the
    public line every agency pins as [bundle] collector_key. An existing key is kept."""
    from secposture.bundle.keys import KeyProblem, create_key, key_file, public_key_text

    config = load_collector(config_path)
    ref = config.collector.receipt_key
    path = key_file(ref) if ref else None
    if path is None:
        fail(t("collector.receipt_key_ref", message_lang()), exitcodes.USAGE)
    try:
        key = create_key(path)
    except KeyProblem as exc:
        fail(t("bundle.error", message_lang(), detail=str(exc)), exitcodes.USAGE)
    click.echo(t("collector.receipt_key_created", message_lang(), path=path), err=True)
    click.echo(public_key_text(key))


@receipt_key_group.command("show")
@COLLECTOR_OPT
def receipt_key_show(config_path: Path) -> None:
    """Print the public line agencies pin as [bundle] collector_key."""
    from secposture.bundle.keys import KeyProblem, load_private_key, public_key_text

    config = load_collector(config_path)
    ref = config.collector.receipt_key
    if ref is None:
        fail(t("collector.receipt_key_ref", message_lang()), exitcodes.USAGE)
    try:
        click.echo(public_key_text(load_private_key(ref)))
    except KeyProblem as exc:
        fail(t("bundle.error", message_lang(), detail=str(exc)), exitcodes.USAGE)


collector_group.add_command(units_group)
collector_group.add_command(store_group)
collector_group.add_command(users_group)
collector_group.add_command(tokens_group)
