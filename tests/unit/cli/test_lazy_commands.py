"""The top-level group imports a command's module only when it runs (issue #20)."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from secposture.cli import COMMANDS, main


def test_every_listed_command_resolves_to_itself() -> None:
    ctx = click.Context(main)
    assert main.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name
    assert main.get_command(ctx, "no-such-command") is None


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    listed = result.output.split("Commands:")[1]
    assert all(f"  {name} " in listed for name in COMMANDS)


def test_an_inventory_command_does_not_load_the_collector_or_the_lab() -> None:
    code = (
        "import sys\n"
        "from secposture.cli import main\n"
        "try:\n"
        "    main(['inventory', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('fastapi', 'secposture.lab', 'secposture.province', "
        "'secposture.report.outputs.pdf') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
