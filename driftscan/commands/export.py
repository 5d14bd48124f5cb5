"""CLI command `driftscan export`: the store's history as Parquet for Spark, Trino and Athena."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from driftscan.clikit import ConfigOpt, ReadWaitOpt, StoreOpt, command, err, open_read, plain


class ExportFormat(StrEnum):
    parquet = "parquet"


@command()
def export(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder the export is written to")],
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="Only parquet (Hive-partitioned)")
    ] = ExportFormat.parquet,
    scan: Annotated[
        int | None, typer.Option("--scan", help="Export this scan [default: the latest]")
    ] = None,
    all_scans: Annotated[
        bool, typer.Option("--all", help="Export every scan the store still holds")
    ] = False,
    verify: Annotated[
        bool, typer.Option("--verify", help="Only check an existing export against its manifest")
    ] = False,
    config: ConfigOpt = None,
    store: StoreOpt = None,
    wait: ReadWaitOpt = 30.0,
) -> None:
    """Write history as Hive-partitioned Parquet: resources (as of each scan) by scan_id and
    provider; drift, findings and slices by scan_id; and the scans ledger, with _manifest.json
    holding every file's SHA-256. Incremental: a scan already in the export is skipped, so a
    nightly `export` after `run` adds only the new scan. Works while a scan is collecting.

    Example:  driftscan export --out /data/driftscan --all
    """
    from driftscan.store.export import export_parquet, verify_export

    if verify:
        problems = verify_export(out)
        for p in problems:
            err.print(f"[red]✗[/red] {plain(p)}")
        if problems:
            raise typer.Exit(1)
        err.print(f"{plain(out)}: every file matches the manifest")
        return
    if scan is not None and all_scans:
        raise typer.BadParameter("give --scan N or --all, not both")
    with open_read(config, store, wait_s=wait) as st:
        chosen: list[int] | None
        if all_scans:
            chosen = [r.scan_id for r in st.scans() if not r.pruned]
        else:
            chosen = [scan] if scan is not None else None

        def step(i: int, total: int, n: int) -> None:
            err.print(f"  [{i}/{total}] scan {n}")

        result = export_parquet(st, out, chosen, progress=step)
    rows = ", ".join(f"{t} {n:,}" for t, n in result.rows.items() if n) or "nothing new"
    if result.exported:
        err.print(f"exported scan(s) {_ids(result.exported)} to {plain(out)}: {rows}")
    if result.skipped:
        err.print(f"already exported: scan(s) {_ids(result.skipped)}")
    if not result.exported and not result.skipped:
        err.print("the store holds no scans yet; nothing to export")


def _ids(ids: list[int]) -> str:
    return ", ".join(str(i) for i in ids)
