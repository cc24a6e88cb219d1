"""``secposture inventory import-nmap FILE``: an existing nmap XML report into the store.

The command joins the ``inventory`` group in :mod:`secposture.cli.inventory`.
"""

from __future__ import annotations

from pathlib import Path

import click

from inventory.facts import inventory_facts
from inventory.storage import StoreError
from inventory.store import Inventory, pack_sweep
from scanners.nmap.xml_import import NmapImportError, no_full_collections, sweep_from_nmap
from scanners.scope import Scope, ScopeError
from secposture.checks.engine import run_inventory_checks
from secposture.cli.common import CONFIG_OPT, config_fail, emit_json, fail, load, message_lang
from secposture.config.errors import ConfigError
from secposture.job.assessment import assess, load_inputs
from secposture.model import exitcodes
from secposture.model.i18n import t
from secposture.model.records import new_sweep_id


@click.command("import-nmap")
@CONFIG_OPT
@click.argument("xml_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def import_nmap(config_path: Path, xml_file: Path, as_json: bool) -> None:
    """Import an nmap XML report (nmap -oX) as a sweep: devices, services, script evidence.

    Hosts outside the config's scopes (or excluded) are left out. The file is read with
    defusedxml: a report with entities or external references, or one cut short, is refused
    with one line and the store is left exactly as it was (exit 2).
    """
    # The sweep read lives until the command ends, and a 10,000-host one is millions of
    # objects: full collections walking them cost a fifth of the run (issue #20).
    with no_full_collections():
        _import(config_path, xml_file, as_json)


def _import(config_path: Path, xml_file: Path, as_json: bool) -> None:
    lang = message_lang()
    config = load(config_path)
    try:
        scope = Scope(
            config.scan.scopes, config.scan.exclude, allow_public=config.scan.allow_public
        )
        sweep, skipped = sweep_from_nmap(
            xml_file,
            agency_id=config.agency.id,
            sweep_id=new_sweep_id(config.agency.id),
            scope=scope,
        )
        inputs = load_inputs(config)
    except (NmapImportError, ScopeError) as exc:
        fail(t("import.error", lang, file=xml_file, detail=str(exc)), exitcodes.USAGE)
    except ConfigError as exc:
        config_fail(exc)
    store = Inventory.for_config(config)
    try:
        inventory = run_inventory_checks(inventory_facts(store, sweep, config.assets))
        result = assess(sweep, config, inputs=inputs, extra_findings=inventory)
        packed, score = pack_sweep(sweep, result.findings), result.score
        # The findings are in `packed` now; a 10,000-host report's are ~40 MB that the store's
        # read and write can use instead (issue #20).
        del result, inventory
        changes = store.commit_sweep(sweep, packed, score)
    except StoreError as exc:
        fail(t("inventory.error.store", lang, detail=str(exc)), exitcodes.ENVIRONMENT)
    counts = sweep.counts
    if as_json:
        emit_json(
            {
                "sweep_id": sweep.sweep_id,
                "hosts": counts.hosts_found,
                "services": counts.services_open,
                "left_out_of_scope": skipped,
                "changes": len(changes),
            }
        )
        return
    click.echo(
        t(
            "import.done",
            lang,
            hosts=counts.hosts_found,
            services=counts.services_open,
            file=xml_file.name,
            sweep_id=sweep.sweep_id,
        )
    )
