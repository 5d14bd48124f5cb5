"""CLI command `driftscan diff`: drift against the declared state, or between two scans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from driftscan.clikit import ConfigOpt, FormatOpt, StoreOpt, command, err, open_read, plain
from driftscan.commands import desired as _desired  # noqa: F401 - registers `desired stats`
from driftscan.errors import ExitCode, NoStore
from driftscan.output import Col, Format, default_format, emit, print_table

# The pipeline, config and store are imported by the commands that use them (start-up time).
if TYPE_CHECKING:
    from driftscan.config import Config

_COLUMNS = ["kind", "resource", "type", "provider", "desired_source", "path", "desired", "actual"]
DRIFT_KINDS = ("missing", "unmanaged", "changed")
DELTA_KINDS = ("appeared", "disappeared", "changed")
# The terminal table gives the resource the width: one row per resource, its type and
# declaration under it, each changed path above its two values.
_ABSENT = "(absent)"


def _table_cols(sub: str, values: str) -> list[Col]:
    return [
        Col("kind", "fixed"),
        Col(f"resource\n{sub}", "key", min=36, sub_style="dim"),
        Col(f"path\n{values}", "wrap", min=24),
    ]


def _change_text(changes: list[dict[str, Any]], old: str, new: str) -> str:
    """Each path, then `old → new` under it; a value the resource lacks reads (absent)."""
    return "\n".join(
        f"{c['path']}\n  {_shown(c[old], old)} → {_shown(c[new], new)}" for c in changes
    )


def _shown(v: Any, side: str) -> str:
    # A declared null is a value; on every other side None means the attribute is not there.
    if v is None:
        return "null" if side == "desired" else _ABSENT
    return str(_cell(v))


def _kind_or_fail(kind: str | None, kinds: tuple[str, ...]) -> None:
    if kind is not None and kind not in kinds:
        raise typer.BadParameter(
            f"unknown kind '{kind}'; choose {', '.join(kinds[:-1])} or {kinds[-1]}",
            param_hint="--kind",
        )


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
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="List only this kind: missing, unmanaged or changed (with --against: "
            "appeared, disappeared or changed); the exit code still counts every kind",
            show_default=False,
        ),
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
    --kind narrows what is listed, never the exit code: drift of another kind is still drift.

    Example:  driftscan diff --kind changed --format json
    """
    from driftscan import pipeline
    from driftscan.config import load_config
    from driftscan.store import Store

    fmt = default_format(fmt)
    _kind_or_fail(kind, DRIFT_KINDS if against is None else DELTA_KINDS)
    if against is not None:
        _between(scan, against, config, store, fmt, kind)
        return
    cfg = load_config(config)
    path = store or cfg.store_path
    if not Path(path).exists():
        raise NoStore(f"{path}: no store here yet; run `driftscan scan` first")
    with Store(path) as st:
        result = pipeline.diff(cfg, st, scan)
    listed = [d for d in result.drifts if kind is None or d.kind == kind]
    if fmt is Format.json:
        doc = result.doc()
        doc["changes"] = [c for c in doc["changes"] if kind is None or c["kind"] == kind]
        emit([], [], fmt, doc=doc)
    elif fmt is Format.csv:
        rows: list[list[Any]] = []
        for d in listed:
            base = [d.kind, d.resource, d.type, d.provider, d.desired_source]
            if not d.changes:
                rows.append([*base, None, None, None])
            for c in d.changes:
                rows.append([*base, c["path"], _cell(c["desired"]), _cell(c["actual"])])
        emit(_COLUMNS, rows, fmt)
    else:
        cov = result.coverage
        title = (
            f"scan {result.scan_id} ({result.status}): {len(result.drifts)} drifted"
            + (f", {len(listed)} {kind} listed" if kind else "")
            + f"; {cov['managed']} of {cov['assessed']} managed"
            + (f" ({cov['managed_pct']}%)" if cov["managed_pct"] is not None else "")
        )
        table = [
            [d.kind, d.resource + "\n" + " · ".join(x for x in (d.type, d.desired_source) if x),
             _change_text(d.changes, "desired", "actual")]
            for d in listed
        ]  # fmt: skip
        print_table(_table_cols("type · declared in", "desired → actual"), table, title=title)
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
    for failed in cov.get("desired_failed", []):
        err.print(
            f"[yellow]declared state not read[/yellow], its resources not assessed: {plain(failed)}"
        )
    if cov.get("presence_only"):
        types = ", ".join(f"{t} ({n})" for t, n in cov["presence_only"].items())
        err.print(f"Terraform types without a mapping, checked for presence only: {plain(types)}")


def _between(
    scan: int | None,
    against: int,
    config: Path | None,
    store: Path | None,
    fmt: Format,
    kind: str | None,
) -> None:
    from driftscan import pipeline
    from driftscan.config import find_config, load_config

    cfg: Config | None = None
    if config is not None or store is None or find_config(None).exists():
        cfg = load_config(config)  # ignore rules apply here too
    with open_read(config, store) as st:
        delta = pipeline.delta(st, scan, against, cfg)
    listed = [c for c in delta.changes if kind is None or c["kind"] == kind]
    if fmt is Format.json:
        emit([], [], fmt, doc={**delta.doc(), "changes": listed})
    elif fmt is Format.csv:
        rows: list[list[Any]] = []
        for c in listed:
            base = [c["kind"], c["resource"], c["type"], c["provider"]]
            if not c["changes"]:
                rows.append([*base, None, None, None])
            for ch in c["changes"]:
                rows.append([*base, ch["path"], _cell(ch["old"]), _cell(ch["new"])])
        emit(["kind", "resource", "type", "provider", "path", "old", "new"], rows, fmt)
    else:
        title = f"scan {delta.against} → {delta.scan_id}: {len(delta.changes)} changed" + (
            f", {len(listed)} {kind} listed" if kind else ""
        )
        table = [
            [c["kind"], f"{c['resource']}\n{c['type']}", _change_text(c["changes"], "old", "new")]
            for c in listed
        ]
        print_table(_table_cols("type", "old → new"), table, title=title)
    if delta.rekeyed:
        err.print(
            f"note: {delta.rekeyed} fingerprinted value(s) not compared: the fingerprint key "
            "was rotated between these scans"
        )
    raise typer.Exit(_exit(delta.status, bool(delta.changes)))
