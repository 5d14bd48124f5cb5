"""CLI commands: check, findings, and the `rules` group (list, validate)."""

from __future__ import annotations

import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from driftscan.clikit import ConfigOpt, FormatOpt, StoreOpt, app, command, err, open_read, plain
from driftscan.errors import DriftscanError, ExitCode, NoStore
from driftscan.output import Col, Format, default_format, emit, print_table

# The pipeline, config, compliance and store are imported by the commands that use them
# (start-up time).
if TYPE_CHECKING:
    from driftscan.model import Finding

rules_app = typer.Typer(
    name="rules", help="The loaded rule pack: list and validate.", no_args_is_help=True
)
app.add_typer(rules_app)


FrameworkOpt = Annotated[
    str | None,
    typer.Option("--framework", help="Only rules mapped to this framework, e.g. pci-dss-4.0.1"),
]
ScanOpt = Annotated[
    int | None, typer.Option("--scan", help="Scan id [default: the latest]", show_default=False)
]
AllOpt = Annotated[
    bool,
    typer.Option(
        "--all", help="List passing findings (ok, skip) in the table too; JSON and CSV hold all"
    ),
]
_COLUMNS = ["rule", "resource", "status", "severity", "lifecycle", "reason", "waiver"]
# The terminal table stacks two fields per cell so that it reads at 80 columns; failing rows
# come first, by severity, then the not assessed, then (with --all) the passing.
_STATUSES = ("alarm", "error", "not_assessed", "ok", "skip")
_FAILING = ("alarm", "error", "not_assessed")
_SEVERITIES = ("critical", "high", "medium", "low", "info")
_TABLE = [
    Col("status\nseverity", "fixed", sub_style="dim"),
    Col("rule\nresource", "key", min=30),
    Col("reason\nlifecycle", "wrap", min=24, sub_style="dim"),
]


def _waiver_text(w: dict[str, Any] | None) -> str:
    return "" if not w else f"{w['owner']} {w['ticket']} until {w['expires']}: {w['reason']}"


def _emit(
    scan_id: int,
    docs: list[dict[str, Any]],
    fmt: Format,
    title: str,
    *,
    listed: Collection[str] = _FAILING,
    counted: Collection[str] = _STATUSES,
    extra: dict[str, Any] | None = None,
) -> None:
    if fmt is Format.table:
        _print_findings(docs, title, listed, counted)
        return
    rows = [
        [d["rule"], d["resource"], d["status"], d["severity"], d["lifecycle"] or "", d["reason"],
         _waiver_text(d["waiver"])]
        for d in docs
    ]  # fmt: skip
    if fmt is Format.csv:
        rows = [[*r[:5], ";".join(f"{k} {' '.join(v)}" for k, v in d["frameworks"].items()), *r[5:]]
                for r, d in zip(rows, docs, strict=True)]  # fmt: skip
        emit([*_COLUMNS[:5], "frameworks", *_COLUMNS[5:]], rows, fmt)
        return
    emit(_COLUMNS, rows, fmt, title=title, doc={"scan": scan_id, "findings": docs, **(extra or {})})


def _order(d: dict[str, Any]) -> tuple[int, bool, int, str, str]:
    return (_STATUSES.index(d["status"]), d["waiver"] is not None,
            _SEVERITIES.index(d["severity"]), d["rule"], d["resource"])  # fmt: skip


def _print_findings(
    docs: list[dict[str, Any]], title: str, listed: Collection[str], counted: Collection[str]
) -> None:
    """The listed statuses' rows, then one count line per status (hidden ones say so)."""
    from rich.console import Console
    from rich.text import Text

    console = Console()
    shown = sorted((d for d in docs if d["status"] in listed), key=_order)
    rows = [
        [f"{d['status']}\n{d['severity']}", f"{d['rule']}\n{d['resource']}",
         "\n".join(x for x in (d["reason"], d["lifecycle"],
                               d["waiver"] and f"waived: {_waiver_text(d['waiver'])}") if x)]
        for d in shown
    ]  # fmt: skip
    if rows:
        print_table(_TABLE, rows, title=title, console=console)
    else:
        console.print(Text(f"{title}: nothing to list"))
    for status in (s for s in _STATUSES if s in counted):
        of = [d for d in docs if d["status"] == status]
        waived = sum(d["waiver"] is not None for d in of)
        note = f"({waived} waived)" if waived else ""
        if of and status not in listed:
            note = "not listed; --all lists them"
        console.print(Text(f"  {status:<12} {len(of):>5}  {note}".rstrip()))


@command()
def check(
    config: ConfigOpt = None,
    store: StoreOpt = None,
    scan: ScanOpt = None,
    framework: FrameworkOpt = None,
    fmt: FormatOpt = None,
    all_: AllOpt = False,
) -> None:
    """Evaluate the rules for a scan, store the findings with their lifecycle, print them.

    Exit 0 when clean; 1 when an alarm is not covered by a waiver (waived alarms are shown with
    their justification but do not fail); 3 when the scan is incomplete or any rule could not
    be assessed or failed to run (wins over 1); 2 for configuration or rule file errors.
    The table lists failing and not assessed findings and counts the passing (--all lists
    them too); the exit code always counts every finding.

    Example:  driftscan check --framework pci-dss-4.0.1 --format json
    """
    from driftscan import pipeline
    from driftscan.compliance import finding_doc
    from driftscan.config import load_config
    from driftscan.store import Store

    cfg = load_config(config)
    fmt = default_format(fmt)
    path = store or cfg.store_path
    if not Path(path).exists():
        raise NoStore(f"{path}: no store here yet; run `driftscan scan` first")
    with Store(path) as st:
        if scan is None and not st.scans(limit=1):
            raise NoStore(f"{path}: the store holds no scans yet; run `driftscan scan` first")
        result = pipeline.check(cfg, st, scan_id=scan, framework=framework, notify=err.print)
    _emit(
        result.scan_id,
        [finding_doc(f) for f in result.findings],
        fmt,
        f"scan {result.scan_id} ({result.scan_status})",
        listed=_STATUSES if all_ else _FAILING,
        # Per rule, how many resources of which type it judged (rule types, issue 19).
        extra={"evaluated": result.evaluated},
    )
    err.print(
        f"scan {result.scan_id} ({result.scan_status}): {len(result.rules)} rules, "
        f"{result.count('alarm', waived=False)} alarms, {result.count('alarm', waived=True)} "
        f"waived, {result.count('not_assessed')} not assessed, {result.count('error')} errors; "
        f"rules {result.rules_hash[:12]}",
        highlight=False,
    )
    raise typer.Exit(result.exit_code)


@command()
def findings(
    config: ConfigOpt = None,
    store: StoreOpt = None,
    scan: ScanOpt = None,
    status: Annotated[
        str | None, typer.Option("--status", help="ok, alarm, error, skip or not_assessed")
    ] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule id")] = None,
    framework: FrameworkOpt = None,
    fmt: FormatOpt = None,
    all_: AllOpt = False,
) -> None:
    """Stored findings of a scan (default: the latest evaluated) with their lifecycle.

    Lifecycle: new, persisting (first seen scan and days in violation), resolved, regressed.
    The exit code follows `check` for the findings selected by --status, --rule and
    --framework. The table lists failing and not assessed ones (with --status, that status;
    with --all, every status) and counts the rest.

    Example:  driftscan findings --status alarm --framework pci-dss-4.0.1
    """
    from driftscan.compliance import finding_doc
    from driftscan.store import reads

    fmt = default_format(fmt)
    known = ("alarm", "error", "not_assessed", "skip", "ok")
    if status is not None and status not in known:
        raise typer.BadParameter(
            f"unknown status '{status}'; choose from {', '.join(known)}", param_hint="--status"
        )
    with open_read(config, store) as st:
        n = scan if scan is not None else reads.latest_checked_scan(st)
        if n is None:
            raise NoStore("no findings stored yet; run `driftscan check` first")
        rec = st.scan(n)
        stored = reads.findings_of_scan(st, n) or []
    _known_or_fail(stored, config, rule, framework)
    picked = [
        f
        for f in stored
        if (status is None or f.status == status)
        and (rule is None or f.rule == rule)
        and (framework is None or framework in f.frameworks)
    ]
    docs = [finding_doc(f) for f in picked]
    if fmt is Format.table:
        for d, f in zip(docs, picked, strict=True):
            if f.days_in_violation is not None:
                d["lifecycle"] = (
                    f"{d['lifecycle']} (since scan {f.first_seen_scan}, {f.days_in_violation} d)"
                )
    _emit(n, docs, fmt, f"findings of scan {n} ({rec.status})",
          listed=(status,) if status else _STATUSES if all_ else _FAILING,
          counted=(status,) if status else _STATUSES)  # fmt: skip
    if rec.status != "complete" or any(f.status in ("not_assessed", "error") for f in picked):
        raise typer.Exit(ExitCode.INCOMPLETE)
    raise typer.Exit(
        ExitCode.FINDINGS
        if any(f.status == "alarm" and f.waiver is None for f in picked)
        else ExitCode.OK
    )


def _known_or_fail(
    stored: list[Finding], config: Path | None, rule: str | None, framework: str | None
) -> None:
    """A typo in --rule or --framework is a usage error, not an empty (clean-looking) list."""
    if rule is None and framework is None:
        return
    from driftscan import pipeline
    from driftscan.config import load_config

    rules = {f.rule for f in stored}
    frameworks = {fw for f in stored for fw in f.frameworks}
    try:
        pack = pipeline.load_rules(load_config(config))
        rules |= set(pack.rules)
        frameworks |= set(pack.frameworks)
    except DriftscanError:
        pass  # no usable config: what the stored findings name is all there is to go on
    if rule is not None and rule not in rules:
        raise typer.BadParameter(f"no rule '{rule}'", param_hint="--rule")
    if framework is not None and framework not in frameworks:
        raise typer.BadParameter(f"no framework '{framework}'", param_hint="--framework")


_RULES_TABLE = [
    Col("rule\nseverity", "fixed", sub_style="dim"),
    Col("title\nframeworks", "wrap", min=24, sub_style="dim"),
]


@command("list", group=rules_app)
def rules_list(config: ConfigOpt = None, fmt: FormatOpt = None) -> None:
    """The rules of the configured pack: id, severity, scope, frameworks, title.

    Example:  driftscan rules list --format json
    """
    from driftscan import pipeline
    from driftscan.config import load_config

    cfg = load_config(config)
    fmt = default_format(fmt)
    pack = pipeline.load_rules(cfg)
    rows = [
        [r.id, r.severity, r.spec.scope or "",
         "; ".join(f"{k} {', '.join(v)}" for k, v in r.frameworks.items()), r.spec.title]
        for r in pack.select()
    ]  # fmt: skip
    doc = {
        "rules_hash": pack.hash,
        "rules": [
            {"id": r.id, "title": r.spec.title, "severity": r.severity, "scope": r.spec.scope,
             "frameworks": r.frameworks, "file": r.file, "params": r.spec.params,
             "types": r.spec.types}
            for r in pack.select()
        ],
    }  # fmt: skip
    title = f"rules {pack.hash[:12]}"
    if fmt is not Format.table:
        emit(["id", "severity", "scope", "frameworks", "title"], rows, fmt, title=title, doc=doc)
        return
    # Two fields per cell so it reads at 80 columns: the id whole (it is what --rule takes),
    # each framework on a line of its own under the title.
    print_table(
        _RULES_TABLE,
        [[f"{r.id}\n{r.severity}" + (f" · scope {r.spec.scope}" if r.spec.scope else ""),
          "\n".join([r.spec.title, *(f"{k}: {', '.join(v)}" for k, v in r.frameworks.items())])]
         for r in pack.select()],
        title=title,
    )  # fmt: skip


@command("validate", group=rules_app)
def rules_validate(config: ConfigOpt = None, store: StoreOpt = None) -> None:
    """Load every rule file and prepare its SQL against the store's views.

    Uses the configured store when it exists (read-only), else an empty one. Prints every
    error with file and line; exit 0 when all rules are valid, 2 otherwise.

    Example:  driftscan rules validate -c driftscan.yaml
    """
    from driftscan import pipeline
    from driftscan.config import load_config
    from driftscan.store import Store

    cfg = load_config(config)
    pack = pipeline.load_rules(cfg)
    path = store or cfg.store_path
    with tempfile.TemporaryDirectory() as tmp:
        st = (
            Store(path, read_only=True)
            if Path(path).exists()
            else Store(Path(tmp) / "empty.duckdb")
        )
        with st:
            errors = pipeline.validate_rules(cfg, st, pack)
    for e in errors:
        err.print(f"[red]error:[/red] {plain(e)}", highlight=False)
    # Not an error (a built-in PCI rule skips where no `pci` scope is configured), but a
    # misspelt scope silently turns a rule into a skip: name each one the config lacks.
    unscoped: dict[str, list[str]] = {}
    for r in pack.rules.values():
        if r.spec.scope is not None and r.spec.scope not in cfg.scopes:
            unscoped.setdefault(r.spec.scope, []).append(r.id)
    known = ", ".join(sorted(cfg.scopes)) or "none"
    for scope, ids in sorted(unscoped.items()):
        err.print(
            f"[yellow]note:[/yellow] scope '{plain(scope)}' is not in the config's `scopes:`"
            f" (configured: {plain(known)}), so {len(ids)} rule{'s' * (len(ids) != 1)} will"
            f" skip: {plain(', '.join(ids[:5]))}{' ...' * (len(ids) > 5)}",
            highlight=False,
        )
    if errors:
        raise typer.Exit(ExitCode.USAGE)
    print(f"ok: {len(pack.rules)} rules, {len(pack.frameworks)} frameworks, rules hash {pack.hash}")
    raise typer.Exit(ExitCode.OK)
