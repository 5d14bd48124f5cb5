"""CLI commands: report (write an evidence pack) and verify-report (check one)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from driftscan import pipeline
from driftscan.clikit import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, ConfigOpt, StoreOpt, command, err
from driftscan.config import Config, find_config, load_config
from driftscan.output import dumps
from driftscan.report import FORMATS, verify_report_dir
from driftscan.store import Store


def _formats(value: str | None) -> list[str] | None:
    if value is None:
        return None
    out = [f.strip().lower() for f in value.split(",") if f.strip()]
    bad = sorted(set(out) - set(FORMATS))
    if bad or not out:
        err.print(
            f"[red]error:[/red] unknown format {', '.join(bad) or '(none)'}; "
            f"choose from {', '.join(FORMATS)}"
        )
        raise typer.Exit(EXIT_USAGE)
    return out


@command()
def report(
    scan: Annotated[
        int | None, typer.Option("--scan", help="Scan id [default: the latest]")
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="Comma-separated: html,pdf,json,csv [default: reports.formats]",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Reports folder [default: reports.dir]; each report is a new "
            "scan-NNNNNN folder inside it, chained through its ledger.jsonl",
            show_default=False,
        ),
    ] = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
) -> None:
    """Write the evidence report of a scan: HTML, PDF, JSON and CSV with a signed manifest.

    The report states what was scanned, when, with which tool version, rule pack hash,
    parameters and chain head, and what could not be assessed.

    Example:  driftscan report --scan 42 --format html,pdf --out reports/out
    """
    formats = _formats(fmt)
    cfg_path = find_config(str(config) if config else None)
    # With --store and no config file, report with the defaults rather than refuse.
    cfg = load_config(config) if (cfg_path.exists() or store is None) else Config()
    with Store(store or cfg.store_path, read_only=True) as st:
        res = pipeline.report(cfg, st, scan, formats, out)
    for note in res.notes:  # what a killed earlier writer left, now cleared up
        err.print(f"[yellow]repaired:[/yellow] {note}", highlight=False)
    print(res.folder)
    for name in sorted(res.artifacts):
        err.print(f"  {name}", highlight=False)
    err.print(
        f"  manifest.json sha256 {res.manifest_sha256}" + (" (signed)" if res.signed else ""),
        highlight=False,
    )


@command("verify-report")
def verify_report(
    path: Annotated[Path, typer.Argument(help="A report folder, or a reports folder with ledger")],
    key: Annotated[
        Path | None,
        typer.Option("--key", help="Require a signature by this Ed25519 key (PEM public key)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    """Check a report's artifacts against its manifest, its signature and the reports chain.

    Exit 0 when intact, 1 naming every altered, missing or added file.

    Example:  driftscan verify-report reports/out/scan-000042 --key signing.pub.pem
    """
    problems = verify_report_dir(path, trusted_key=key)
    if as_json:
        print(dumps({"ok": not problems, "path": str(path), "problems": problems}))
    elif problems:
        print(f"BROKEN: {len(problems)} problem(s) in {path}")
        for p in problems:
            print(f"  - {p}")
    else:
        print(f"ok: {path}")
    raise typer.Exit(EXIT_FINDINGS if problems else EXIT_OK)
