"""CLI commands: the `frameworks` group (list, validate, show)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from driftscan.clikit import ConfigOpt, FormatOpt, StoreOpt, app, command, err
from driftscan.errors import ExitCode, NoStore, StoreError
from driftscan.output import Col, Format, default_format, emit, print_table

# The pipeline, config, compliance and store are imported by the commands that use them
# (start-up time).
if TYPE_CHECKING:
    from driftscan.compliance.frameworks import FrameworkView

frameworks_app = typer.Typer(
    name="frameworks",
    help="Whole framework catalogues: list, validate, and each requirement's status in a scan.",
    short_help="Whole framework catalogues: list, validate, and each requirement's status in a scan.",
    no_args_is_help=True,
)
app.add_typer(frameworks_app)

ScanOpt = Annotated[
    int | None, typer.Option("--scan", help="Scan id [default: the latest]", show_default=False)
]
_COLUMNS = ["id", "status", "title", "rules", "resources", "attestation", "reason"]
# Two fields per cell so the table reads at 80 columns; failing and evidence-lacking rows first.
_TABLE = [
    Col("requirement\nstatus", "fixed", sub_style="dim"),
    Col("title\nwhy", "wrap", min=24, sub_style="dim"),
    # One rule, resource key or evidence per line, shortened in the middle to fit.
    Col("rules\nresources, evidence", "key", min=22, sub_style="dim"),
]
# Rules and resources shown per requirement in the table; JSON and CSV hold them all.
_SHOWN = 2
_LIST_TABLE = [
    Col("framework\nversion", "wrap", min=25, sub_style="dim"),
    Col("title", "wrap", min=16),
    Col("requirements\nmanual", "fixed", sub_style="dim"),
]
_STYLE = {
    "failed": "red",
    "not_assessed": "yellow",
    "attestation_expired": "red",
    "attestation_missing": "yellow",
    "attested": "green",
    "passed": "green",
}


def _attestation_text(a: dict[str, Any] | None) -> str:
    if not a:
        return ""
    digest = f" sha256 {a['sha256']}" if a.get("sha256") else ""
    return f"{a['state']}: {a['owner']} {a['date']}..{a['expires']}, {a['evidence']}{digest}"


def exit_code(view: FrameworkView, scan_status: str) -> ExitCode:
    """§3.3: 3 when the scan is incomplete or any requirement lacks a verdict or its evidence
    (not assessed, attestation missing or expired; wins over 1); 1 when any requirement
    fails; 0 when every one passed or is attested."""
    counts = view.counts()
    lacking = counts["not_assessed"] + counts["attestation_missing"] + counts["attestation_expired"]
    if scan_status != "complete" or lacking:
        return ExitCode.INCOMPLETE
    return ExitCode.FINDINGS if counts["failed"] else ExitCode.OK


@command("list", group=frameworks_app)
def frameworks_list(config: ConfigOpt = None, fmt: FormatOpt = None) -> None:
    """The loaded frameworks: id, version, requirements, how many are automated or manual.

    A requirement is automated when at least one rule evidences it, manual when it carries
    `manual: true` (a requirement may be both).

    Example:  driftscan frameworks list --format json
    """
    from driftscan import pipeline
    from driftscan.config import load_config

    cfg = load_config(config)
    fmt = default_format(fmt)
    pack = pipeline.load_rules(cfg)
    docs = []
    for name, fw in sorted(pack.frameworks.items()):
        total = len(fw.requirements)
        automated = sum(1 for ids in fw.requirements.values() if ids)
        docs.append(
            {"id": name, "title": fw.title, "version": fw.version, "source": fw.source,
             "requirements": total, "automated": automated, "manual": len(fw.manual),
             "automated_share": round(automated / total, 4) if total else 0.0, "file": fw.file}
        )  # fmt: skip
    cols = ["id", "version", "requirements", "automated", "manual", "title"]
    rows = [[d["id"], d["version"] or "", d["requirements"], d["automated"], d["manual"],
             d["title"]] for d in docs]  # fmt: skip
    title = f"frameworks (rules {pack.hash[:12]})"
    if fmt is not Format.table:
        emit(cols, rows, fmt, doc={"rules_hash": pack.hash, "frameworks": docs})
        return
    print_table(
        _LIST_TABLE,
        [[f"{d['id']}\n{d['version'] or ''}", str(d["title"]),
          f"{d['requirements']}: {d['automated']} automated ({d['automated_share']:.0%})"
          f"\n{d['manual']} manual"] for d in docs],
        title=title,
    )  # fmt: skip


@command("validate", group=frameworks_app)
def frameworks_validate(config: ConfigOpt = None) -> None:
    """Load every framework catalogue and every attestation, hashing local evidence.

    Checks that each requirement maps known rules or is `manual: true`, that no id repeats,
    and that each attestation names a loaded framework and requirement, with evidence that is a
    readable regular file (or an https URL). Errors name file, line and key; exit 0 when all
    is valid, 2 otherwise.

    Example:  driftscan frameworks validate -c driftscan.yaml
    """
    from driftscan import pipeline
    from driftscan.config import load_config

    cfg = load_config(config)
    pack = pipeline.load_rules(cfg)
    attested = pipeline.read_attestations(cfg, pack) or []
    reqs = sum(len(f.requirements) for f in pack.frameworks.values())
    print(
        f"ok: {len(pack.frameworks)} frameworks, {reqs} requirements, "
        f"{len(attested)} attestations, rules hash {pack.hash}"
    )
    raise typer.Exit(ExitCode.OK)


@command("show", group=frameworks_app)
def frameworks_show(
    framework: Annotated[str, typer.Argument(help="Framework id, e.g. pci-dss-4.0.1")],
    config: ConfigOpt = None,
    store: StoreOpt = None,
    scan: ScanOpt = None,
    fmt: FormatOpt = None,
) -> None:
    """Each requirement of a framework in a scan: its status, rules, resources, attestation.

    Statuses: failed (a mapped rule alarms), not_assessed (a mapped rule could not assess or
    evaluated nothing), attestation_expired / attestation_missing (the manual part on the
    scan's date), attested, passed; the table leads with failing and evidence-lacking
    requirements. Attestations are the ones sealed with the scan. A scan never checked is
    checked first. Exit 0 when every requirement passed or is attested, 1 when any failed,
    3 when any lacks a verdict or evidence or the scan is incomplete (wins over 1).

    Example:  driftscan frameworks show pci-dss-4.0.1 --scan 12 --format json
    """
    from driftscan import pipeline
    from driftscan.compliance.frameworks import requirement_statuses
    from driftscan.config import load_config
    from driftscan.store import Store, reads

    cfg = load_config(config)
    fmt = default_format(fmt)
    pack = pipeline.load_rules(cfg)
    pack.framework(framework)  # an unknown id is a usage error before the store is opened
    path = Path(store or cfg.store_path)
    if not path.exists():
        raise NoStore(f"{path}: no store here yet; run `driftscan scan` first")
    with Store(path, read_only=True, wait_s=30.0) as st:
        rec = st.scan(scan)
        checked = reads.checked(st, rec.scan_id)
    if rec.pruned:
        raise StoreError(
            f"scan {rec.scan_id} was pruned by retention: its findings and attestations are gone"
        )
    if not checked:
        # Like make (design §6.3): a scan never checked is checked first, then shown.
        err.print(f"scan {rec.scan_id} was never checked: evaluating the rules first")
        with Store(path, wait_s=120.0) as st:
            pipeline.check(cfg, st, rec.scan_id, pack=pack, notify=err.print)
    with Store(path, read_only=True, wait_s=30.0) as st:
        view = requirement_statuses(st, pack, framework, rec.scan_id)
        status = st.scan(rec.scan_id).status
    _emit(view, fmt, status)
    raise typer.Exit(exit_code(view, status))


def _some(items: list[str], what: str) -> list[str]:
    more = len(items) - _SHOWN
    return items[:_SHOWN] + (
        [f"+{more} more {what if more > 1 else what[:-1]}"] if more > 0 else []
    )


def _emit(view: FrameworkView, fmt: Format, scan_status: str) -> None:
    if fmt is Format.json:
        emit([], [], fmt, doc=view.doc())
        return
    reqs = view.ordered() if fmt is Format.table else view.requirements
    if fmt is Format.csv:
        rows = [[r.id, r.status, r.title, " ".join(r.rules), " ".join(r.resources),
                 _attestation_text(r.attestation), r.reason] for r in reqs]  # fmt: skip
        emit(_COLUMNS, rows, fmt)
        return
    from rich.console import Console
    from rich.text import Text

    console = Console()
    title = (
        f"{view.title} ({view.framework}) · scan {view.scan} ({scan_status}) · "
        f"automated {view.automated_share:.0%}"
    )
    rows = []
    for r in reqs:
        behind = [*_some(r.rules, "rules"), *_some(r.resources, "resources")]
        if r.attestation:
            a = r.attestation
            behind += [str(a["evidence"]), *([f"sha256 {a['sha256']}"] if a.get("sha256") else [])]
        rows.append([f"{r.id}\n{r.status}", "\n".join(x for x in (r.title, r.reason) if x),
                     "\n".join(behind)])  # fmt: skip
    print_table(_TABLE, rows, title=title, console=console)
    for status, n in view.counts().items():
        if n:
            console.print(Text(f"  {status:<20} {n:>5}", style=_STYLE[status]))
