"""The `driftscan` command line: a thin layer that registers the command modules and runs them."""

from __future__ import annotations

import importlib
import sys

from driftscan.clikit import app, print_error
from driftscan.errors import DriftscanError

# Each module registers its commands on the shared app when imported.
COMMAND_MODULES = ("core", "diff", "checks", "frameworks", "reports", "ops", "export", "scale")
for _name in COMMAND_MODULES:
    importlib.import_module(f"driftscan.commands.{_name}")


def main() -> None:
    """Console entry point: run the app, turning driftscan errors into their exit codes."""
    try:
        # standalone mode: Typer prints usage errors and exits 2 by itself
        app()
    except DriftscanError as exc:
        print_error(exc)
        sys.exit(exc.exit_code)


__all__ = ["app", "main"]
