"""The `driftscan` command line: a thin layer that registers the command modules and runs them."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from typer.main import get_command_name, solve_typer_info_defaults
from typer.models import CommandInfo

from driftscan import clikit
from driftscan.clikit import app, print_error
from driftscan.errors import DriftscanError

# Each module registers its commands on the shared app when imported.
COMMAND_MODULES = ("core", "diff", "checks", "frameworks", "reports", "ops", "export", "scale")
for _name in COMMAND_MODULES:
    importlib.import_module(f"driftscan.commands.{_name}")


@contextmanager
def only_named(argv: Sequence[str]) -> Iterator[None]:
    """While inside, the app holds only the command or group that `argv` names first.

    Typer builds every command's Click object (signatures, type hints, options) before it
    dispatches to one: some 45 ms of each start for 23 commands. The app has no options of
    its own but --help, so the first argument is the command, and the rest need not be
    built. Anything else (`--help`, no argument, a misspelt command, which Click answers
    with the names it knows) sees the whole app.
    """
    commands, groups = app.registered_commands, app.registered_groups
    name = argv[0] if argv and not argv[0].startswith("-") else None
    keep_c = [c for c in commands if _command_name(c) == name]
    keep_g = [g for g in groups if solve_typer_info_defaults(g).name == name]
    if keep_c or keep_g:
        app.registered_commands, app.registered_groups = keep_c, keep_g
    try:
        yield
    finally:
        app.registered_commands, app.registered_groups = commands, groups


def _command_name(info: CommandInfo) -> str:
    # As Typer names a command (typer.main.get_command_from_info).
    assert info.callback is not None
    return info.name or get_command_name(info.callback.__name__)


def main() -> None:
    """Console entry point: run the app, turning driftscan errors into their exit codes."""
    clikit.owns_process = True
    try:
        with only_named(sys.argv[1:]):
            # standalone mode: Typer prints usage errors and exits 2 by itself
            app()
    except DriftscanError as exc:
        print_error(exc)
        sys.exit(exc.exit_code)


__all__ = ["app", "main"]
