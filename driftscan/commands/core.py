"""CLI commands over the store: scan, scans, history, query, views, verify, version."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from driftscan.clikit import (
    ConfigOpt,
    FormatOpt,
    ReadWaitOpt,
    StoreOpt,
    WaitOpt,
    command,
    coverage_text,
    err,
    hard_deadline,
    open_read,
    plain,
    print_error,
)
from driftscan.errors import ConfigError, ExitCode, RuleError, StoreError
from driftscan.output import Format, cell, default_format, emit, shorten

# The pipeline, config and store are imported by the commands that use them (start-up time).
if TYPE_CHECKING:
    from collections.abc import Sequence

    from driftscan.compliance.rules import RulePack
    from driftscan.config import Config
    from driftscan.model import SourceRun
    from driftscan.pipeline import ScanOutcome


# How `scan` and `ingest` show the runs of a scan: a row per source, then what was not read.
RUN_COLUMNS = ["source", "provider", "status", "reason", "resources", "seconds"]


def run_rows(runs: Sequence[SourceRun]) -> list[list[Any]]:
    return [
        [r.source, r.provider, r.status, r.reason, r.resource_count, f"{r.duration_s:.1f}"]
        for r in runs
    ]


def print_not_assessed(runs: Sequence[SourceRun]) -> None:
    for run in runs:
        for s in run.slices:
            if s.status == "failed":
                err.print(
                    f"[red]not assessed[/red] {plain(s.source)} {plain(s.name)}: {s.reason}: {plain(s.detail)}",
                    highlight=False,
                )


@command()
def scan(
    config: ConfigOpt = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Scan only this source (repeatable)")
    ] = None,
    fmt: FormatOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output")] = False,
    wait: WaitOpt = 120.0,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            metavar="<K/N>",
            help="Collect only the K-th of N parts of the work (K/N); needs --stage",
            show_default=False,
        ),
    ] = None,
    stage: Annotated[
        str | None,
        typer.Option(
            "--stage",
            metavar="<dir|s3://bucket/prefix>",
            help="Write the bundle under this folder or s3://bucket/prefix instead of the "
            "store, for `driftscan ingest`",
            show_default=False,
        ),
    ] = None,
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run-id",
            metavar="<id>",
            help="The run a staged shard belongs to (default: UTC date + config hash)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Collect live state from every configured source (or --source NAME) into the store.

    Collection never holds the store: it streams into a staging bundle that is then written
    in one short transaction, so query, scans, report and verify work meanwhile. With
    --shard K/N --stage DIR, only the K-th of N parts of the work units (hosts, listed
    accounts) is collected, into DIR/<run id>/shard-K-of-N, for `driftscan ingest`.

    Prints the new scan's id (the bundle's folder when staging). Exit 0 when every source
    was read completely, 3 when any region, service, subscription or host could not be
    assessed.

    Example:  driftscan scan -c driftscan.yaml --source aws-prod
    """
    from driftscan.config import load_config

    cfg = load_config(config)
    fmt = default_format(fmt)
    if shard is not None or stage is not None:
        from driftscan.commands.scale import stage_only
        from driftscan.stage import parse_shard

        if stage is None:
            raise ConfigError("--shard needs --stage DIR: a shard worker writes only its bundle",
                              key="--shard")  # fmt: skip
        with _Progress(quiet) as progress:
            stage_only(cfg, shard=parse_shard(shard or "1/1"), stage=stage, run_id=run_id,
                       sources=source, fmt=fmt, progress=progress.update)  # fmt: skip
    with _Progress(quiet) as progress:
        outcome, runs = _scan(cfg, source, progress.update, wait)
    rec = outcome.record
    if fmt is Format.table:
        emit(RUN_COLUMNS, run_rows(outcome.runs), fmt, title=f"scan {rec.scan_id}: {rec.status}",
             console=err.console)  # fmt: skip
        print_not_assessed(outcome.runs)
        print(rec.scan_id)
    else:
        doc = {
            "scan": rec.scan_id,
            "status": rec.status,
            "resources": rec.resources,
            "sources": runs,
        }
        emit(["scan"], [[rec.scan_id]], fmt, doc=doc)
    for problem in outcome.evidence_errors:
        err.print(
            f"[yellow]warning:[/yellow] {plain(problem)} (the scan is stored)", highlight=False
        )
    raise typer.Exit(ExitCode.OK if outcome.complete else ExitCode.INCOMPLETE)


def _scan(
    cfg: Config, sources: list[str] | None, progress: Any, wait: float
) -> tuple[ScanOutcome, list[dict[str, Any]]]:
    """Collect, then open the store only to write; a first scan makes the store (and its
    fingerprint key) before collecting, as nothing can be reading it yet."""
    from driftscan import pipeline
    from driftscan.store import Store

    def open_store() -> Store:
        return Store(cfg.store_path, wait_s=wait)

    pack = _rule_pack(cfg)
    if cfg.store_path.exists():
        outcome = pipeline.scan(cfg, open_store, sources=sources, progress=progress, pack=pack)
    else:
        with open_store() as store:
            outcome = pipeline.scan(cfg, store, sources=sources, progress=progress, pack=pack)
    # As the store's source_run rows hold them (ordered by source).
    runs = [
        {"source": r.source, "provider": r.provider, "status": r.status, "reason": r.reason,
         "resources": r.resource_count, "duration_s": float(r.duration_s),
         "identity": r.identity}
        for r in sorted(outcome.runs, key=lambda r: r.source)
    ]  # fmt: skip
    return outcome, runs


def _rule_pack(cfg: Config) -> RulePack | None:
    """The rule pack, for its hash in the ledger (and the attestations' frameworks); a broken
    pack must not stop a scan (check reports it): None, with a warning."""
    from driftscan import pipeline

    try:
        return pipeline.load_rules(cfg)
    except RuleError as exc:
        err.print(
            f"[yellow]warning:[/yellow] rule pack not loaded, scan recorded without its hash: {plain(exc)}"
        )
        return None


class _Progress:
    """A live line per source on stderr while collectors run (thread-safe via Rich)."""

    def __init__(self, quiet: bool) -> None:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.quiet = quiet or not err.is_terminal
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err.console,
            transient=True,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _Progress:
        if not self.quiet:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.quiet:
            self.progress.stop()

    def update(self, source: str, message: str) -> None:
        if self.quiet:
            return
        line = f"[bold]{source}[/bold] {message.splitlines()[0] if message else ''}"
        if source not in self.tasks:
            self.tasks[source] = self.progress.add_task(line, total=None)
        else:
            self.progress.update(self.tasks[source], description=line)


@command()
def scans(
    config: ConfigOpt = None,
    store: StoreOpt = None,
    limit: Annotated[int, typer.Option(help="Show at most this many, newest first")] = 30,
    fmt: FormatOpt = None,
    wait: ReadWaitOpt = 30.0,
) -> None:
    """The scan ledger: id, times, status and per-source coverage.

    Example:  driftscan scans --limit 10 --format json
    """
    fmt = default_format(fmt)
    with open_read(config, store, wait_s=wait) as st:
        rows = []
        for rec in st.scans(limit=limit):
            slices = st.slices(rec.scan_id)
            ok = sum(1 for s in slices if s["status"] == "ok")
            cov = round(100.0 * ok / len(slices), 1) if slices else 0.0
            rows.append(
                [rec.scan_id, rec.started_at, rec.finished_at, rec.status, rec.resources, cov,
                 coverage_text(st.source_runs(rec.scan_id)), rec.chain_hash[:16]]
            )  # fmt: skip
    if fmt is Format.table:
        # Stacked pairs, so the ledger reads at 80 columns; JSON and CSV keep one field a column.
        from driftscan.output import Col, print_table

        cols = [Col("scan", "fixed"), Col("started\nfinished", "fixed"),
                Col("status\ncoverage", "fixed"), Col("resources", "fixed"),
                Col("sources\nchain", "wrap", sub_style="dim")]  # fmt: skip
        cells = [[str(r[0]), f"{cell(r[1])}\n{cell(r[2])}", f"{r[3]}\n{r[5]} %", str(r[4]),
                  f"{r[6]}\n{r[7]}"] for r in rows]  # fmt: skip
        print_table(cols, cells)
        return
    emit(
        ["scan", "started", "finished", "status", "resources", "coverage_pct", "sources", "chain"],
        rows,
        fmt,
    )


@command()
def history(
    key: Annotated[
        str,
        typer.Argument(
            help="Resource key: an ARN, an Azure resource ID, a GCP asset name, "
            "k8s://<cluster>/<namespace>/<kind>/<name> or ssh://<host>"
        ),
    ],
    config: ConfigOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """The timeline of one resource: each version, when first and last seen, what changed.

    Example:  driftscan history arn:aws:s3:::acme-eu-archive
    """
    from driftscan import pipeline

    fmt = default_format(fmt)
    with open_read(config, store) as st:
        versions = pipeline.history(st, key)
    if not versions:
        # Cut: the key is the user's argument, which may be any size.
        print_error(f"no resource with key '{shorten(key, 200)}' in the store")
        raise typer.Exit(ExitCode.USAGE)
    timeline: list[dict[str, Any]] = [
        {"first_scan": v.entry.first_scan, "last_scan": v.entry.last_scan,
         "first_seen": v.entry.first_seen, "last_seen": v.entry.last_seen,
         "doc_hash": v.entry.doc_hash, "changes": v.changes, "reappeared": v.reappeared,
         "gone": None if v.gone_scan is None else {"scan": v.gone_scan, "at": v.gone_at}}
        for v in versions
    ]  # fmt: skip
    if fmt is Format.json:
        doc = {"key": key, "versions": timeline, "current": versions[-1].entry.doc}
        emit([], [], fmt, doc=doc)
        return
    rows: list[list[Any]] = []
    for t in timeline:
        what = "; ".join(f"{c['path']}: {c['old']!r} → {c['new']!r}" for c in t["changes"])
        if t is timeline[0]:
            what = "first seen"
        elif t["reappeared"]:
            what = "reappeared" + (f"; {what}" if what else "")
        rows.append([t["first_scan"], t["last_scan"] if t["last_scan"] is not None else "current",
                     t["first_seen"], t["last_seen"], what])  # fmt: skip
        if t["gone"] is not None:
            rows.append([t["gone"]["scan"], "", t["gone"]["at"], "", "disappeared"])
    if fmt is Format.table:
        from driftscan.output import Col, print_table

        cols = [Col("scans", "fixed"), Col("first seen\nlast seen", "fixed"),
                Col("what changed", "wrap", min=20)]  # fmt: skip
        cells = [[f"{r[0]} → {r[1]}" if r[1] != "" else str(r[0]),
                  f"{cell(r[2])}\n{cell(r[3])}".rstrip(), str(r[4])] for r in rows]  # fmt: skip
        print_table(cols, cells, title=key)
        return
    emit(["from scan", "to scan", "first seen", "last seen", "what changed"], rows, fmt, title=key)


# How long past --timeout a query that DuckDB could not interrupt may run before the process
# ends it (the interrupt lands within milliseconds otherwise).
DEADLINE_GRACE_S = 5.0


@command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL over the documented views")],
    config: ConfigOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Stop the query after this many seconds")
    ] = 60.0,
    memory_mb: Annotated[
        int, typer.Option("--memory-limit", min=64, help="Memory ceiling for the query, in MB")
    ] = 2048,
    wait: ReadWaitOpt = 30.0,
) -> None:
    """Read-only SQL over the store's views (the connection cannot write or read other files).

    Views: scans, source_runs, slices, resource_versions, resources, drift, findings and more
    (`driftscan views` lists them all); the macro resources_at(N) gives the estate at scan N.
    A query past --timeout or --memory-limit stops with exit 2.

    Example:  driftscan query "select type, count(*) from resources group by 1"
    """
    from driftscan.store.memcap import RESULT_OVER_LIMIT, address_space_cap

    fmt = default_format(fmt)
    # DuckDB's memory limit bounds its buffers; the address-space cap bounds what it and the
    # rows' Python objects allocate beside them. The interrupt at --timeout stops a query
    # between vectors; the hard deadline ends one stuck in a single long call.
    stuck = f"the query ran longer than {timeout:g} s and could not be interrupted; stopped"
    with (
        open_read(config, store, sandboxed=True, memory_mb=memory_mb, wait_s=wait) as st,
        address_space_cap(memory_mb),
    ):
        with hard_deadline(timeout + DEADLINE_GRACE_S, stuck):
            cols, rows = st.read_query(sql, timeout_s=timeout)
        try:
            emit(cols, rows, fmt)
        except MemoryError:
            raise StoreError(RESULT_OVER_LIMIT) from None


@command()
def views(fmt: FormatOpt = None) -> None:
    """Describe the views that `driftscan query` and rules can read.

    Example:  driftscan views --format json
    """
    import shutil
    import textwrap

    from driftscan.store import view_docs

    docs = view_docs()
    fmt = default_format(fmt)
    if fmt is not Format.table:
        emit(["view", "description"], list(docs.items()), fmt)
        return
    pad = max(map(len, docs)) + 2
    # Wrapped to the terminal (piped: 80 columns), continuation lines under the description.
    width = max(pad + 30, shutil.get_terminal_size((80, 24)).columns - 1)
    for name, doc in docs.items():
        print(textwrap.fill(doc, width, initial_indent=f"{name:{pad}}",
                            subsequent_indent=" " * pad, break_on_hyphens=False))  # fmt: skip


@command()
def verify(
    config: ConfigOpt = None,
    store: StoreOpt = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", help="Check a report folder (or reports root) against its manifest instead"
        ),
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option(
            "--key",
            help="Require every report to be signed by this key (public key PEM, DER or raw "
            "Ed25519; for KMS, the key's public key)",
        ),
    ] = None,
    fmt: FormatOpt = None,
    wait: ReadWaitOpt = 30.0,
) -> None:
    """Check the scan ledger's hash chain, the result chain, every report and the anchors.

    Names the first broken or missing link: altered or deleted scans, findings, drift and
    their seals; scans deleted from the newest end (against the heads file beside the store
    and the anchors of evidence.anchor); every report folder the store recorded (altered,
    missing, or signed once and stripped since), with or without a config. With --report
    DIR, check only that report folder (or reports root). Exit 0 when everything matches
    its seal, 1 otherwise.

    Example:  driftscan verify --key signing.pub.pem && driftscan verify --report reports/out
    """
    fmt = default_format(fmt)
    if report is not None:
        from driftscan.report import verify_report_dir

        problems = verify_report_dir(report, trusted_key=key)
        doc: dict[str, Any] = {"ok": not problems, "report": str(report), "problems": problems}
    else:
        from driftscan.config import find_config, load_config
        from driftscan.evidence.verify import verify_evidence
        from driftscan.store import Store

        cfg: Config | None
        if store is None:
            cfg = load_config(config)
            path = cfg.store_path
        else:
            # With --store and no config file: what the store itself records is checked.
            has_config = find_config(str(config) if config else None).exists()
            cfg, path = (load_config(config) if has_config else None), store
        with Store(path, read_only=True, wait_s=wait) as st:
            res = verify_evidence(st, cfg, trusted_key=key)
        doc = {"ok": not res.problems, "scans": res.scans, "head": res.head,
               "first_broken": res.first_broken, "problems": res.problems}  # fmt: skip
    if fmt is Format.json:
        emit([], [], fmt, doc=doc)
    elif doc["ok"]:
        print(
            f"ok: {report}"
            if report is not None
            else f"ok: {doc['scans']} scans, chain head {doc['head']}"
        )
    else:
        first = doc.get("first_broken")
        where = f"; first broken scan: {first}" if first is not None else ""
        print(f"BROKEN: {len(doc['problems'])} problem(s){where}")
        for p in doc["problems"]:
            print(f"  - {p}")
    raise typer.Exit(ExitCode.OK if doc["ok"] else ExitCode.FINDINGS)


@command()
def version() -> None:
    """Print driftscan's version."""
    from driftscan import __version__

    print(__version__)
