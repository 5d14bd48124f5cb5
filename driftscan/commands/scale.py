"""CLI commands for scans at scale: `ingest` of staging bundles, and `scan`'s staged modes."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from driftscan.clikit import ConfigOpt, FormatOpt, WaitOpt, command, err, plain
from driftscan.commands.core import RUN_COLUMNS, print_not_assessed, run_rows
from driftscan.errors import ConfigError, ExitCode
from driftscan.output import Format, default_format, emit

if TYPE_CHECKING:
    from driftscan.config import Config
    from driftscan.pipeline import IngestOutcome
    from driftscan.stage import Shard


def stage_only(
    cfg: Config,
    *,
    shard: Shard,
    stage: str,
    run_id: str | None,
    sources: list[str] | None,
    fmt: Format,
    progress: Any,
) -> None:
    """`scan --shard K/N --stage DIR`: collect this shard into DIR/<run id>/shard-K-of-N."""
    from driftscan import pipeline
    from driftscan.stage import default_run_id
    from driftscan.stage.s3 import is_s3, parse_url, upload_bundle

    run_id = run_id or default_run_id(cfg.digest)
    relative = f"{run_id}/shard-{shard.k}-of-{shard.n}"
    if is_s3(stage):
        parse_url(stage)  # a malformed URL fails before a long collection
        with tempfile.TemporaryDirectory(prefix="driftscan-stage-") as tmp:
            out = pipeline.stage(
                cfg, Path(tmp), shard=shard, run_id=run_id, sources=sources, progress=progress
            )
            where = upload_bundle(Path(tmp), stage, relative)
    else:
        out = pipeline.stage(
            cfg,
            Path(stage) / relative,
            shard=shard,
            run_id=run_id,
            sources=sources,
            progress=progress,
        )
        where = str(Path(stage) / relative)
    status = "complete" if out.complete else "incomplete"
    if not out.units:
        err.print(f"no work unit hashes to shard {shard}: its bundle holds none")
    if fmt is Format.table:
        emit(
            RUN_COLUMNS,
            run_rows(out.runs),
            fmt,
            title=f"shard {shard} of run {run_id}: {status}",
            console=err.console,
        )
        print_not_assessed(out.runs)
        print(where)
    else:
        doc = {
            "run_id": run_id,
            "shard": str(shard),
            "bundle": where,
            "status": status,
            "units": len(out.units),
            "sources": [dict(zip(RUN_COLUMNS, r, strict=True)) for r in run_rows(out.runs)],
        }
        emit(["bundle"], [[where]], fmt, doc=doc)
    raise typer.Exit(ExitCode.OK if out.complete else ExitCode.INCOMPLETE)


def print_ingest(outcome: IngestOutcome, fmt: Format) -> None:
    """The scan an ingest wrote (or found already written), its shards' problems first."""
    asm = outcome.assembled
    rec = outcome.record
    problems = asm.problems if asm is not None else []
    for p in problems:
        err.print(f"[yellow]shard problem:[/yellow] {plain(p)}", highlight=False)
    if outcome.already and asm is not None:
        err.print(f"run {asm.run_id} was already ingested as scan {rec.scan_id}: nothing written")
    if fmt is Format.table:
        emit(
            RUN_COLUMNS,
            run_rows(outcome.runs),
            fmt,
            title=f"scan {rec.scan_id}: {rec.status}",
            console=err.console,
        )
        print_not_assessed(outcome.runs)
        print(rec.scan_id)
    else:
        doc = {
            "scan": rec.scan_id,
            "status": rec.status,
            "resources": rec.resources,
            "run_id": asm.run_id if asm else None,
            "shards": asm.shards if asm else None,
            "already_ingested": outcome.already,
            "problems": problems,
            "sources": [dict(zip(RUN_COLUMNS, r, strict=True)) for r in run_rows(outcome.runs)],
        }
        emit(["scan"], [[rec.scan_id]], fmt, doc=doc)
    for problem in outcome.evidence_errors:
        err.print(
            f"[yellow]warning:[/yellow] {plain(problem)} (the scan is stored)", highlight=False
        )


@command()
def ingest(
    stage: Annotated[
        list[str],
        typer.Argument(help="Folders (or s3://bucket/prefix) holding the run's bundles"),
    ],
    config: ConfigOpt = None,
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run-id", metavar="<id>", help="The run to ingest, when the folders hold several"
        ),
    ] = None,
    fmt: FormatOpt = None,
    wait: WaitOpt = 120.0,
) -> None:
    """Verify the staging bundles of one run and write them into the store as one scan.

    Checks every bundle's seal and SHA-256s, its run id, config hash and the shard
    numbering 1..N. A missing, duplicated or altered shard makes the scan incomplete
    (exit 3), its units not assessed, never clean. The same bundles twice write one scan.

    Example:  driftscan ingest /shared/stage -c driftscan.yaml
    """
    from driftscan import pipeline
    from driftscan.commands.core import _rule_pack
    from driftscan.config import load_config
    from driftscan.stage.s3 import fetched, is_s3
    from driftscan.store import Store

    cfg = load_config(config)
    fmt = default_format(fmt)
    with tempfile.TemporaryDirectory(prefix="driftscan-ingest-") as tmp:
        folders: list[Path] = []
        for i, target in enumerate(stage):
            if is_s3(target):
                with fetched(target, Path(tmp) / str(i)) as got:
                    folders.append(got)
            else:
                folders.append(Path(target))
        if not folders:
            raise ConfigError("name at least one folder of bundles", key="ingest")
        # Verified and assembled before the store is opened: readers wait only for the write.
        pack = _rule_pack(cfg)  # loaded once: its hash for the ledger, its frameworks here
        attested = pipeline.read_attestations(cfg, pack)
        rules_hash = pack.hash if pack is not None else ""
        asm = pipeline.assemble_bundles(cfg, folders, run_id=run_id)
        with Store(cfg.store_path, wait_s=wait) as store:
            outcome = pipeline.ingest(
                cfg, store, folders, rules_hash=rules_hash, attested=attested, assembled=asm
            )
    print_ingest(outcome, fmt)
    raise typer.Exit(ExitCode.OK if outcome.complete else ExitCode.INCOMPLETE)
