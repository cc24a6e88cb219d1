"""``secposture lab …`` and ``secposture demo``: the namespace lab, for tests and demos."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from secposture.cli.common import cli_context, fail
from secposture.model import exitcodes


@click.group("lab")
def lab_group() -> None:
    """A demo commune LAN in network namespaces (root only). Nothing leaves the lab."""


def _lab_error(exc: Exception) -> None:
    fail(f"lab: {exc}", exitcodes.ENVIRONMENT)


@lab_group.command("up")
@click.option("--json", "as_json", is_flag=True)
def lab_up(as_json: bool) -> None:
    """Build the lab: a bridge, a scanner namespace and host namespaces with real services."""
    from secposture import lab

    try:
        state = lab.up()
    except lab.LabError as exc:
        _lab_error(exc)
        return
    if as_json:
        click.echo(state.model_dump_json(indent=2))
        return
    click.echo(f"lab {state.lab_id} up; scanner namespace {state.scanner_ns}")
    for h in state.hosts:
        click.echo(f"  {h.ip:<14} {h.name:<14} {h.role}")


@lab_group.command("down")
@click.argument("lab_id", required=False)
@click.option(
    "--orphans-only",
    is_flag=True,
    help="Only remove what crashed runs left behind; keep labs that are up.",
)
def lab_down(lab_id: str | None, orphans_only: bool) -> None:
    """Remove lab LAB_ID, or every lab (also ones left by a crash) with all their processes."""
    from secposture import lab

    try:
        # down(id) removes that lab plus orphans of crashed runs; down_all() every lab.
        one = lab_id is not None or orphans_only
        removed = lab.down(lab_id) if one else lab.down_all()
    except lab.LabError as exc:
        _lab_error(exc)
        return
    click.echo(f"removed: {', '.join(removed) if removed else 'nothing'}")


@lab_group.command("status")
@click.option("--json", "as_json", is_flag=True)
def lab_status(as_json: bool) -> None:
    """List labs that are up."""
    from secposture import lab

    states = lab.status()
    if as_json:
        click.echo(json.dumps([json.loads(s.model_dump_json()) for s in states], indent=2))
        return
    if not states:
        click.echo("no lab is up")
    for s in states:
        click.echo(f"{s.lab_id}: scanner {s.scanner_ns}, {len(s.hosts)} hosts")


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("out/demo"),
    show_default=True,
    help="Report folder.",
)
@click.option(
    "--var",
    "var_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("var/demo"),
    show_default=True,
    help="Store and config folder.",
)
@click.option("--keep-lab", is_flag=True, help="Leave the lab up after the sweep.")
def demo(out: Path, var_dir: Path, keep_lab: bool) -> None:
    """Lab up → sweep it (from inside the lab's scanner namespace) → report → lab down."""
    from secposture import lab
    from secposture.lab.netns import scanner_exec

    try:
        state = lab.up()
    except lab.LabError as exc:
        _lab_error(exc)
        return
    code = exitcodes.OK
    try:
        var_dir.mkdir(parents=True, exist_ok=True)
        config_path = (var_dir / "demo.toml").resolve()
        config_path.write_text(
            lab.demo_config_text(
                state, store_path=(var_dir / "inventory.json").resolve(), report_dir=out.resolve()
            ),
            encoding="utf-8",
        )
        click.echo(f"lab {state.lab_id} up; sweeping from {state.scanner_ns}", err=True)
        # The sweep runs as a child inside the scanner namespace: this process, in the root
        # namespace, never sends a packet to a lab address.
        explicit = cli_context().explicit
        lang_opt = ["--lang", explicit] if explicit else []
        proc = scanner_exec(
            state,
            [sys.executable, "-m", "secposture", *lang_opt, "sweep", "-c", str(config_path)],
            check=False,
        )
        code = proc.returncode
        click.echo(f"report: {out.resolve() / 'report.html'}")
    finally:
        if not keep_lab:
            lab.down(state.lab_id)
    sys.exit(code)  # the sweep's own exit code: 0 ok, 3 incomplete, …
