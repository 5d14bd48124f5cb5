"""CLI commands for operation: `driftscan run` (the nightly cron job) and `driftscan demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from driftscan import ops
from driftscan.clikit import ConfigOpt, command, err
from driftscan.config import load_config
from driftscan.store import Store


@command()
def run(
    config: ConfigOpt = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only this source (repeatable)")
    ] = None,
    log_file: Annotated[
        Path | None, typer.Option("--log-file", help="Append JSON-lines events here")
    ] = None,
    metrics_file: Annotated[
        Path | None,
        typer.Option("--metrics-file", help="Write a Prometheus textfile-collector file here"),
    ] = None,
    no_report: Annotated[
        bool, typer.Option("--no-report", help="Skip writing the evidence report")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Nothing on stderr but errors")
    ] = False,
) -> None:
    """Scan, diff, check and report in one locked run: the command for cron and systemd timers.

    Holds the store's lock for the whole run; a second run started meanwhile exits at once
    with code 4. Old scans are pruned when `store.keep_days` is set. Exit 0 clean; 1 drift or
    failing controls; 3 something could not be assessed (takes precedence); 4 locked.

    Example:  driftscan run -c /etc/driftscan/driftscan.yaml --log-file /var/log/driftscan.jsonl -q
    """
    cfg = load_config(config)
    log = ops.RunLog(log_file, quiet=quiet)
    try:
        with Store(cfg.store_path) as store:
            out = ops.run(cfg, store, sources=source, log=log, report=not no_report)
        if metrics_file is not None:
            ops.write_metrics(metrics_file, out)
    except Exception as exc:
        log.event("run.failed", level="error", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        log.close()
    if not quiet and out.report is not None:
        err.print(f"report: {out.report.folder}")
    raise typer.Exit(out.exit_code)
