"""Shared pieces of the CLI: the Typer app, the error-mapping command decorator, common options."""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.exceptions import TyperException

from driftscan.errors import DriftscanError, ExitCode, disk_failure
from driftscan.output import Format

# The CLI imports only this much at start-up: the config (pydantic), the store (DuckDB) and
# Rich load when a command first needs them, so `--help` and `query` start fast.
if TYPE_CHECKING:
    from rich.console import Console

    from driftscan.store import Store

app = typer.Typer(
    name="driftscan",
    help="Drift detection and audit evidence across clouds, clusters and hosts.\n\n"
    "Exit codes: 0 complete and clean; 1 drift or failing controls; 2 usage or configuration "
    "error; 3 incomplete (a source or control could not be assessed); 4 another run holds the "
    "store's lock; 5 the scan is stored but its report could not be made; 74 the store or a "
    "report could not be written (disk full or failing).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Click's plain help and usage errors: Typer's Rich help imports Rich's markdown, syntax
    # and traceback modules, as costly as the rest of start-up, and read our options'
    # "[default: ...]" notes as markup tags and dropped them.
    rich_markup_mode=None,
)
F = TypeVar("F", bound=Callable[..., Any])

# True once the console entry point (cli.main) runs: driftscan owns this process and may end
# it. An embedding program (a test runner calling the app) is never ended.
owns_process = False


@contextmanager
def hard_deadline(seconds: float, message: str) -> Iterator[None]:
    """Past `seconds` inside, print `message` as an error and end the process with exit 2:
    for work an interrupt cannot stop (DuckDB stops a query between vectors, so one long
    function call runs to its end). Only where driftscan owns the process (owns_process)."""
    if not owns_process:
        yield
        return

    def expire() -> None:
        print_error(message)
        sys.stderr.flush()
        os._exit(ExitCode.USAGE)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@app.callback()
def _group() -> None:
    # Keeps the app a group of commands (`driftscan CMD ...`) when cli.main hands Typer the
    # one command it runs; with a single command and no callback Typer would make that
    # command the whole program.
    pass


class _Stderr:
    """Rich's stderr Console, made on first use: a command that writes nothing to stderr
    (`query` piped to a script) never imports Rich."""

    @functools.cached_property
    def console(self) -> Console:
        from rich.console import Console

        console = Console(stderr=True)
        # Piped (a log; Rich assumes 80 columns) a message is one line whatever its length,
        # never broken where a log reader or grep would split it. On a terminal a long line
        # wraps at a word, not wherever the terminal cuts it.
        console.soft_wrap = not console.is_terminal
        return console

    @property
    def is_terminal(self) -> bool:
        return self.console.is_terminal

    def print(self, *objects: Any, **kwargs: Any) -> None:
        self.console.print(*objects, **kwargs)

    def print_exception(self) -> None:
        self.console.print_exception()


err = _Stderr()


def plain(value: object) -> str:
    """`value` as Rich markup that prints as it is: a `[...]` in it (`[redacted]`, a key) is
    text, not a style tag that Rich would swallow."""
    from rich.markup import escape

    return escape(str(value))


def print_error(message: object) -> None:
    """`error: message` on stderr, one line (wrapped at words on a terminal); a message of
    several errors (every mistake in a config file) is one `error:` line each."""
    from driftscan.redaction import redact_url_credentials

    # A configured endpoint quoted by an error (botocore's "Could not connect to the endpoint
    # URL") keeps its user name, never its password.
    text = redact_url_credentials(str(message))
    # Blank lines (DuckDB's errors hold some before their `LINE 1:` excerpt) are left out.
    for line in [ln for ln in text.splitlines() if ln.strip()] or [""]:
        err.print(f"[red]error:[/red] {plain(line)}", highlight=False)


def command(*args: Any, group: typer.Typer | None = None, **kwargs: Any) -> Callable[[F], F]:
    """`group.command` (default: the top-level app), with driftscan errors printed and mapped
    to their exit codes."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def run(*a: Any, **k: Any) -> Any:
            try:
                return fn(*a, **k)
            except DriftscanError as exc:
                print_error(exc)
                raise typer.Exit(exc.exit_code) from None
            except OSError as exc:
                if (reason := disk_failure(exc)) is not None:
                    # A full or failing disk is not a usage mistake: exit 74, as for the store.
                    print_error(f"{exc.filename or 'a file'}: could not be written: {reason}")
                    raise typer.Exit(ExitCode.IOERR) from None
                # A path given on the command line or in the config that cannot be read or
                # written is the user's to fix, not a finding (1) and not a crash.
                print_error(exc)
                raise typer.Exit(ExitCode.USAGE) from None
            except (typer.Exit, typer.Abort, TyperException, KeyboardInterrupt):
                raise  # Typer's own: usage errors print themselves and exit 2
            except Exception as exc:
                if disk_failure(exc) is not None:
                    # The disk refused a write that no layer translated: still one clean line.
                    print_error(f"could not write: {str(exc).strip().splitlines()[0]}")
                    raise typer.Exit(ExitCode.IOERR) from None
                # Never exit 1 (reserved for findings) on a bug: say so and exit 70.
                err.print_exception()
                err.print("[red]internal error[/red]: please report it with the traceback above")
                raise typer.Exit(ExitCode.INTERNAL) from None

        options = dict(kwargs)
        if "short_help" not in options and fn.__doc__:
            options["short_help"] = _summary(fn.__doc__)
        (group or app).command(*args, **options)(run)
        return fn

    return wrap


def _summary(doc: str) -> str:
    """A command's line in `driftscan --help`: its docstring's first sentence, whole (Click
    would cut it at 45 characters with "...")."""
    first = " ".join(doc.strip().split("\n\n", 1)[0].split())
    end = first.find(". ")
    return first if end < 0 else first[: end + 1]


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Config file [default: $DRIFTSCAN_CONFIG or ./driftscan.yaml]",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    Format | None,
    typer.Option(
        "--format", "-f", help="table (default on a terminal), json or csv", show_default=False
    ),
]
StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="Store file, overriding the config's `store`", show_default=False),
]


WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        help="Seconds to wait for readers (query, report) to close the store before exit 4",
    ),
]


ReadWaitOpt = Annotated[
    float,
    typer.Option(
        "--wait",
        min=0,
        help="Seconds to wait while a scan writes the store before exit 4",
    ),
]


def _store_path(config: Path | None, store: Path | None) -> Path:
    if store is not None:
        return store
    from driftscan.config import load_config

    return load_config(config).store_path


def open_read(
    config: Path | None,
    store: Path | None,
    *,
    sandboxed: bool = False,
    memory_mb: int | None = None,
    wait_s: float = 30.0,
) -> Store:
    """The store opened for reading; while a scan's ingest writes it, wait up to `wait_s`."""
    from driftscan.store import Store

    return Store(
        _store_path(config, store),
        read_only=True,
        sandboxed=sandboxed,
        memory_mb=memory_mb,
        wait_s=wait_s,
    )


def coverage_text(runs: list[dict[str, Any]]) -> str:
    return ", ".join(
        f"{r['source']} {r['status']}" + (f" ({r['reason']})" if r["reason"] else "") for r in runs
    )
