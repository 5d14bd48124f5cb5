"""CLI commands for operation: `driftscan run` (the nightly cron job) and `driftscan demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from driftscan.clikit import ConfigOpt, WaitOpt, command, err, plain


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
    wait: WaitOpt = 120.0,
) -> None:
    """Scan, diff, check and report in one run: the command for cron and systemd timers.

    Collects into a staging bundle first, without the store, so `query`, `report` and the
    other readers work meanwhile; then takes the store for the ingest and the stages after
    it. A second run started meanwhile exits at once with code 4. A reader holding the file
    when the ingest begins is waited for up to --wait seconds. Old scans are pruned when `store.keep_days` is set; the `notify:` targets get a
    summary (a failed notification is logged, never the exit code). Exit 0 clean; 1 drift or
    failing controls; 3 something could not be assessed (takes precedence); 4 locked.

    Example:  driftscan run -c /etc/driftscan/driftscan.yaml --log-file /var/log/driftscan.jsonl -q
    """
    from driftscan import pipeline
    from driftscan.config import load_config
    from driftscan.metrics import write_metrics
    from driftscan.runlog import RunLog
    from driftscan.store import Store, run_lock

    cfg = load_config(config)
    if not no_report and cfg.reports.formats:
        from driftscan.report.render import check_reports_root

        # A reports.dir that cannot be written is a config mistake: found before the scan.
        check_reports_root(cfg.resolve(cfg.reports.dir))
    log = RunLog(log_file, quiet=quiet)
    try:
        # Collected before the store is opened: readers work while the run collects.
        with run_lock(cfg.store_path):
            out = pipeline.run(cfg, lambda: Store(cfg.store_path, wait_s=wait), sources=source,
                               log=log, with_report=not no_report)  # fmt: skip
        if metrics_file is not None:
            try:
                write_metrics(metrics_file, out)
            except OSError as exc:
                # The run's own result (findings, incomplete) must not be replaced by this.
                log.event("metrics.failed", level="error", error=str(exc))
                err.print(f"[red]error:[/red] metrics file not written: {plain(exc)}")
    except Exception as exc:
        log.event("run.failed", level="error", error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        log.close()
    if not quiet and out.report is not None:
        err.print(f"report: {plain(out.report.folder)}")
    raise typer.Exit(out.exit_code)


def _invocation() -> str:
    """How to run this driftscan as typed: `driftscan` when that is the one on PATH, else its
    path (after `make demo` the virtual environment is not activated)."""
    import shutil
    import sys

    here = Path(sys.executable).parent / "driftscan"
    found = shutil.which("driftscan")
    if found is not None and Path(found).resolve() == here.resolve():
        return "driftscan"
    try:
        return str(here.relative_to(Path.cwd()))
    except ValueError:
        return str(here)


@command()
def demo(
    workdir: Annotated[
        Path, typer.Option("--dir", help="Where the demo keeps its config, state and store")
    ] = Path(".driftscan-demo"),
    out: Annotated[Path, typer.Option("--out", help="Where the reports go")] = Path("reports/out"),
) -> None:
    """Run driftscan against a local sandbox estate seeded with real-world incidents.

    Starts a moto server (AWS), an HTTPS ARM emulator (Azure), SSH fixture hosts and the
    sandbox of every provider that offers one (Kubernetes, ...) on 127.0.0.1, runs scan → diff → check → report twice with a manual change in between, and
    shows which rule found each seeded incident. Nothing leaves this machine.

    Example:  driftscan demo --out reports/out
    """
    from rich.console import Console

    from driftscan.output import Col, print_table
    from driftscan.sandbox.demo import run_demo

    console = Console()
    result = run_demo(
        workdir.resolve(), out.resolve(), progress=lambda m: err.print(f"[dim]·[/dim] {plain(m)}")
    )
    # As `check` prints findings: the rule over its resource (keys shortened in the middle,
    # never broken mid-word), the incident and the finding wrapped beside them.
    cols = [Col("incident", "wrap", min=16), Col("rule\nresource", "key", min=24, sub_style="dim"),
            Col("finding", "wrap", min=26)]  # fmt: skip
    rows = [[inc.what, f"{inc.rule}\n{inc.resource}", reason or "NOT FOUND"]
            for inc, reason in result.found]  # fmt: skip
    print_table(cols, rows, title="Seeded incidents and the rules that found them",
                console=console)  # fmt: skip
    second = result.second
    statuses = ("alarm", "error", "not_assessed", "skip", "ok")
    counts = ", ".join(f"{second.check.count(s)} {s.replace('_', ' ')}" for s in statuses)
    kinds = ("unmanaged", "changed", "missing")
    drift = ", ".join(f"{sum(d.kind == k for d in second.drift.drifts)} {k}" for k in kinds)
    # One fact a line, each under 80 columns: as one line it wrapped between a count and its word.
    console.print(
        f"scan {second.scan.record.scan_id}: {second.scan.record.status}, run exit code"
        f" {second.exit_code}\n  findings: {counts}\n  drift: {drift}",
        highlight=False,
    )
    if second.report is not None:
        html = second.report.artifacts.get("report.html")
        console.print(f"report: {second.report.folder}" + (f"\n  open {html}" if html else ""))
    changed = next(
        (inc.resource for inc, _ in result.found if inc.rule == "drift_changed_in_scope"), None
    )
    exe = _invocation()
    lines = [f"explore the demo's store (config {result.config}):",
             f"  {exe} findings -c {result.config} --status alarm",
             f"  {exe} diff -c {result.config}"]  # fmt: skip
    if changed:
        lines.append(f"  {exe} history -c {result.config} '{changed}'")
    console.print("\n".join(lines), soft_wrap=True)
    raise typer.Exit(0 if result.all_found else 1)
