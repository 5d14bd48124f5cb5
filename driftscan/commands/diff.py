"""CLI command `driftscan diff`: drift against the declared state, or between two scans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from driftscan.clikit import ConfigOpt, FormatOpt, StoreOpt, command, err, open_read
from driftscan.errors import ExitCode, NoStore
from driftscan.output import Format, default_format, emit

# The pipeline, config and store are imported by the commands that use them (start-up time).
if TYPE_CHECKING:
    from driftscan.config import Config

_COLUMNS = ["kind", "resource", "type", "provider", "desired_source", "path", "desired", "actual"]


def _exit(status: str, found: bool) -> int:
    # An incomplete scan takes precedence: drift found in part of the estate is not the story.
    if status != "complete":
        return ExitCode.INCOMPLETE
    return ExitCode.FINDINGS if found else ExitCode.OK


@command("diff")
def diff_cmd(
    scan: Annotated[
        int | None, typer.Option("--scan", help="Scan to diff [default: the latest]")
    ] = None,
    against: Annotated[
        int | None,
        typer.Option("--against", help="Compare with this earlier scan instead of desired state"),
    ] = None,
    config: ConfigOpt = None,
    store: StoreOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Drift against the declared state (YAML, Terraform state), stored per scan.

    Kinds: missing (declared, absent from a slice that was read), unmanaged (live, declared
    nowhere), changed (declared attributes differ, with path, desired and actual). A resource
    whose slice could not be read is never reported missing. With --against M, lists what
    appeared, disappeared or changed between scan M and --scan N instead.

    Exit 0 no drift; 1 drift found; 3 the scan is incomplete (takes precedence); 2 config error.

    Example:  driftscan diff --format json
    """
    from driftscan import pipeline
    from driftscan.config import load_config
    from driftscan.store import Store

    fmt = default_format(fmt)
    if against is not None:
        _between(scan, against, config, store, fmt)
        return
    cfg = load_config(config)
    path = store or cfg.store_path
    if not Path(path).exists():
        raise NoStore(f"{path}: no store here yet; run `driftscan scan` first")
    with Store(path) as st:
        result = pipeline.diff(cfg, st, scan)
    if fmt is Format.json:
        emit([], [], fmt, doc=result.doc())
    else:
        rows: list[list[Any]] = []
        for d in result.drifts:
            base = [d.kind, d.resource, d.type, d.provider, d.desired_source]
            if not d.changes:
                rows.append([*base, None, None, None])
            for c in d.changes:
                rows.append([*base, c["path"], _cell(c["desired"]), _cell(c["actual"])])
        cov = result.coverage
        title = (
            f"scan {result.scan_id} ({result.status}): {len(result.drifts)} drifted; "
            f"managed {cov['managed']}/{cov['assessed']} assessed"
            + (f" ({cov['managed_pct']}%)" if cov["managed_pct"] is not None else "")
        )
        emit(_COLUMNS, rows, fmt, title=title)
        if fmt is Format.table:
            _notes(result.status, cov)
    raise typer.Exit(_exit(result.status, result.has_drift))


def _cell(v: Any) -> Any:
    return v if v is None or isinstance(v, str) else json.dumps(v, sort_keys=True)


def _notes(status: str, cov: dict[str, Any]) -> None:
    if status != "complete":
        err.print(
            f"[yellow]scan {status}[/yellow]: resources of unread slices are not assessed "
            f"({cov['declared_not_assessed']} declared resource(s)); see `driftscan scans`"
        )
    if cov.get("presence_only"):
        types = ", ".join(f"{t} ({n})" for t, n in cov["presence_only"].items())
        err.print(f"Terraform types without a mapping, checked for presence only: {types}")


def _between(
    scan: int | None, against: int, config: Path | None, store: Path | None, fmt: Format
) -> None:
    from driftscan import pipeline
    from driftscan.config import find_config, load_config

    cfg: Config | None = None
    if config is not None or store is None or find_config(None).exists():
        cfg = load_config(config)  # ignore rules apply here too
    with open_read(config, store) as st:
        delta = pipeline.delta(st, scan, against, cfg)
    if fmt is Format.json:
        emit([], [], fmt, doc=delta.doc())
    else:
        rows: list[list[Any]] = []
        for c in delta.changes:
            base = [c["kind"], c["resource"], c["type"], c["provider"]]
            if not c["changes"]:
                rows.append([*base, None, None, None])
            for ch in c["changes"]:
                rows.append([*base, ch["path"], _cell(ch["old"]), _cell(ch["new"])])
        emit(
            ["kind", "resource", "type", "provider", "path", "old", "new"],
            rows,
            fmt,
            title=f"scan {delta.against} → {delta.scan_id}: {len(delta.changes)} changed",
        )
    if delta.rekeyed:
        err.print(
            f"note: {delta.rekeyed} fingerprinted value(s) not compared: the fingerprint key "
            "was rotated between these scans"
        )
    raise typer.Exit(_exit(delta.status, bool(delta.changes)))
