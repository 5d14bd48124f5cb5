"""What a report shows, as plain model objects (ReportData), and how to read it from the store.

Rendering reads ReportData only (design §2). `build_report_data` is the one place that reads the
store, through Store methods and small queries of the `drift` and `findings` views; when a view
does not exist yet, that part is None and every report says "not evaluated" rather than showing
an empty, green-looking list (design §1.1).
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from driftscan import __version__
from driftscan.config import Config
from driftscan.errors import DriftscanError
from driftscan.model import Drift, Finding, ScanRecord, Slice
from driftscan.store import Store

TREND_SCANS = 30


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """What a rule checks and how to fix it, as the rule pack states it."""

    id: str
    title: str = ""
    severity: str = ""
    description: str = ""
    risk: str = ""
    remediation: str = ""


@dataclass(frozen=True, slots=True)
class Requirement:
    """One framework requirement and the rules that evidence it."""

    framework: str
    id: str
    rules: tuple[str, ...]
    title: str = ""
    framework_title: str = ""


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One scan of the trend window: alarms (unwaived) and drift counts, None = not evaluated."""

    scan_id: int
    started_at: datetime
    status: str
    alarms: int | None
    drift: int | None
    coverage_pct: float | None = None


@dataclass(frozen=True, slots=True)
class SourceCoverage:
    """One source's run in the scan: ok, partial or failed, and why."""

    source: str
    provider: str
    status: str
    reason: str | None = None
    resources: int = 0
    duration_s: float = 0.0
    identity: str | None = None


@dataclass(slots=True)
class PreviousReport:
    """The report before this one (from the reports ledger), for "what changed since".

    `findings` / `drift` are that report's scan's records when the store still holds them;
    None means only the summary counts can be compared.
    """

    folder: str
    scan_id: int
    manifest_sha256: str
    summary: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] | None = None
    drift: list[Drift] | None = None


@dataclass(slots=True)
class ReportData:
    """Everything one evidence report shows. `drift` / `findings` None = not evaluated."""

    scan: ScanRecord
    organisation: str
    period_start: datetime
    period_end: datetime
    tool_version: str
    rules_hash: str
    chain_head: str
    sources: list[SourceCoverage]
    slices: list[Slice]
    drift: list[Drift] | None
    findings: list[Finding] | None
    rules: dict[str, RuleMeta] = field(default_factory=dict)
    requirements: list[Requirement] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    scopes: dict[str, dict[str, Any]] = field(default_factory=dict)
    waivers: list[dict[str, Any]] = field(default_factory=list)
    previous: PreviousReport | None = None
    # None = the chain was not checked while building; else the problems `verify` found.
    chain_problems: list[str] | None = None
    notes: list[str] = field(default_factory=list)


# -- reading the store ---------------------------------------------------------------------------


def _views(store: Store) -> set[str]:
    """Which of the drift/rules engines' views (and the drift_at macro) this store has."""
    _cols, rows = store.query(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_name IN ('drift', 'drift_runs', 'findings', 'checks')"
    )
    names = {str(r[0]) for r in rows}
    _cols, rows = store.query(
        "SELECT 1 FROM duckdb_functions() WHERE function_name = 'drift_at' LIMIT 1"
    )
    if rows:
        names.add("drift_at")
    return names


def _drift_rows(store: Store, scan_id: int, views: set[str]) -> list[dict[str, Any]] | None:
    # `drift` shows the latest scan only; `drift_at(N)` any scan. `drift_runs` records which
    # scans were diffed at all: an undiffed scan is "not evaluated", not "no drift".
    if "drift_runs" in views and not store.rows(
        "SELECT 1 FROM drift_runs WHERE scan_id = ? LIMIT 1", [scan_id]
    ):
        return None
    if "drift_at" in views:
        return store.rows("SELECT * FROM drift_at(?)", [scan_id])
    if "drift" in views:
        return store.rows("SELECT * FROM drift WHERE scan_id = ?", [scan_id])
    return None


def _json(v: Any, default: Any) -> Any:
    if v is None:
        return default
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return default
    return v


def read_drift(store: Store, scan_id: int) -> list[Drift] | None:
    """One scan's drift as Drift records; None when drift was not evaluated (or cannot be read)."""
    rows = _drift_rows(store, scan_id, _views(store))
    if rows is None:
        return None
    out = []
    for r in rows:
        out.append(
            Drift(
                resource=str(r["resource"]),
                type=str(r.get("type") or ""),
                provider=str(r.get("provider") or ""),
                kind=r["kind"],
                desired_source=r.get("desired_source"),
                changes=list(_json(r.get("changes"), [])),
                source=r.get("source"),
                account=r.get("account"),
                region=r.get("region"),
            )
        )
    out.sort(key=lambda d: (d.resource, d.kind))
    return out


def read_findings(store: Store, scan_id: int) -> list[Finding] | None:
    """The `findings` view's rows for one scan; None when the view is absent or, where the
    `checks` view records evaluations, when this scan was never evaluated."""
    views = _views(store)
    if "findings" not in views:
        return None
    if "checks" in views and not store.rows(
        "SELECT 1 FROM checks WHERE scan_id = ? LIMIT 1", [scan_id]
    ):
        return None
    out = []
    for r in store.rows("SELECT * FROM findings WHERE scan_id = ?", [scan_id]):
        out.append(
            Finding(
                rule=str(r["rule"]),
                resource=str(r["resource"]),
                status=r["status"],
                reason=str(r.get("reason") or ""),
                severity=r.get("severity") or "info",
                frameworks=dict(_json(r.get("frameworks"), {})),
                lifecycle=r.get("lifecycle"),
                waiver=_json(r.get("waiver"), None),
                evidence=dict(_json(r.get("evidence"), {})),
                first_seen_scan=r.get("first_seen_scan"),
            )
        )
    out.sort(key=lambda f: (f.rule, f.resource))
    return out


def _trend(store: Store, scan: ScanRecord, views: set[str]) -> list[TrendPoint]:
    recs = [r for r in store.scans() if r.scan_id <= scan.scan_id][:TREND_SCANS]
    if not recs:
        return []
    lo, hi = recs[-1].scan_id, recs[0].scan_id
    alarms: dict[int, int] = {}
    drift: dict[int, int] = {}
    evaluated: set[int] | None = None
    if "findings" in views:
        for r in store.rows(
            "SELECT scan_id, count(*) FILTER (WHERE status = 'alarm' AND waiver IS NULL) AS n "
            "FROM findings WHERE scan_id BETWEEN ? AND ? GROUP BY scan_id",
            [lo, hi],
        ):
            alarms[int(r["scan_id"])] = int(r["n"])
        if "checks" in views:
            evaluated = {
                int(r["scan_id"])
                for r in store.rows(
                    "SELECT DISTINCT scan_id FROM checks WHERE scan_id BETWEEN ? AND ?", [lo, hi]
                )
            }
    has_drift = bool(views & {"drift", "drift_at"})
    if has_drift:
        for rec in recs:
            rows = _drift_rows(store, rec.scan_id, views)
            if rows is not None:
                drift[rec.scan_id] = len(rows)
    cover: dict[int, float] = {}
    for r in store.rows(
        "SELECT scan_id, round(100.0 * count(*) FILTER (WHERE status = 'ok') / count(*), 1) AS pct "
        "FROM slices WHERE scan_id BETWEEN ? AND ? GROUP BY 1",
        [lo, hi],
    ):
        cover[int(r["scan_id"])] = float(r["pct"])
    points = []
    for rec in reversed(recs):
        a: int | None = None
        if "findings" in views and (evaluated is None or rec.scan_id in evaluated):
            a = alarms.get(rec.scan_id, 0)
        d = drift.get(rec.scan_id)
        points.append(
            TrendPoint(rec.scan_id, rec.started_at, rec.status, a, d, cover.get(rec.scan_id, 0.0))
        )
    return points


def _rule_pack(config: Config) -> tuple[dict[str, RuleMeta], list[Requirement], str, str | None]:
    """Rule metadata and framework mappings from the rule engine's loader, when it is present.

    Imported by name so the report works (with bare rule ids) before the engine lands.
    """
    try:
        compliance: Any = importlib.import_module("driftscan.compliance")
        pack = compliance.load_pack(config)
    except ModuleNotFoundError:
        return {}, [], "", "rule pack loader not available: rules are shown by id only"
    except DriftscanError as exc:
        return {}, [], "", f"rule pack could not be loaded ({exc}): rules are shown by id only"
    rules = {
        rid: RuleMeta(
            id=rid,
            title=str(r.spec.title),
            severity=str(r.spec.severity),
            description=str(r.spec.description),
            risk=str(r.spec.risk),
            remediation=str(r.spec.remediation),
        )
        for rid, r in pack.rules.items()
    }
    reqs = [
        Requirement(
            framework=str(name),
            id=str(req),
            rules=tuple(ids),
            title=str(fw.titles.get(req, "")),
            framework_title=str(fw.title),
        )
        for name, fw in sorted(pack.frameworks.items())
        for req, ids in fw.requirements.items()
    ]
    return rules, reqs, str(pack.hash), None


def _slice(r: dict[str, Any]) -> Slice:
    return Slice(
        source=r["source"],
        provider=r["provider"],
        name=r["name"],
        status=r["status"],
        reason=r["reason"],
        detail=r["detail"],
        account=r["account"],
        region=r["region"],
        types=list(r["types"] or []),
        keys=list(r["keys"] or []),
        resources=int(r["resources"] or 0),
    )


def build_report_data(
    config: Config,
    store: Store,
    scan_id: int | None = None,
    *,
    reports_root: Path | None = None,
    verify_chain: bool = True,
) -> ReportData:
    """Read one scan (default: the latest) and everything around it into a ReportData.

    `reports_root` (default: the config's reports.dir) is where the previous report is found.
    """
    from driftscan.report.manifest import latest_report

    rec = store.scan(scan_id)
    views = _views(store)
    notes: list[str] = []
    drift = read_drift(store, rec.scan_id)
    if drift is None:
        notes.append(
            "drift not evaluated: no diff against the declared state is recorded for this scan"
        )
    findings = read_findings(store, rec.scan_id)
    if findings is None:
        notes.append("controls not evaluated: no rule evaluation is recorded for this scan")
    rules, reqs, pack_hash, note = _rule_pack(config)
    if note:
        notes.append(note)
    rules_hash = rec.rules_hash
    if "checks" in views:
        rows = store.rows(
            "SELECT rules_hash FROM checks WHERE scan_id = ? ORDER BY evaluated_at DESC LIMIT 1",
            [rec.scan_id],
        )
        if rows and rows[0]["rules_hash"]:
            rules_hash = str(rows[0]["rules_hash"])
    if not rules_hash and pack_hash:
        rules_hash = pack_hash
        notes.append("rule pack hash taken from the pack loaded now (the scan recorded none)")

    trend = _trend(store, rec, views)
    head_rec = store.scans(limit=1)
    chain_head = head_rec[0].chain_hash if head_rec else rec.chain_hash
    chain_problems: list[str] | None = None
    if verify_chain:
        res = store.verify()
        chain_head, chain_problems = res.head, list(res.problems)

    root = reports_root if reports_root is not None else config.resolve(config.reports.dir)
    previous: PreviousReport | None = None
    period_start = trend[0].started_at if trend else rec.started_at
    entry = latest_report(root)
    if entry is not None:
        previous = PreviousReport(
            folder=entry.folder,
            scan_id=entry.scan_id,
            manifest_sha256=entry.manifest_sha256,
            summary=entry.summary,
        )
        try:
            prev_rec = store.scan(entry.scan_id)
        except DriftscanError:
            prev_rec = None
        if prev_rec is not None and not prev_rec.pruned:
            previous.findings = read_findings(store, prev_rec.scan_id)
            previous.drift = read_drift(store, prev_rec.scan_id)
            if prev_rec.scan_id < rec.scan_id:
                period_start = prev_rec.finished_at

    return ReportData(
        scan=rec,
        organisation=config.reports.organisation or config.organisation,
        period_start=period_start,
        period_end=rec.finished_at,
        tool_version=__version__,
        rules_hash=rules_hash,
        chain_head=chain_head,
        sources=[
            SourceCoverage(
                r["source"],
                r["provider"],
                r["status"],
                r["reason"],
                int(r["resources"]),
                float(r["duration_s"]),
                r.get("identity"),
            )
            for r in store.source_runs(rec.scan_id)
        ],
        slices=[_slice(r) for r in store.slices(rec.scan_id)],
        drift=drift,
        findings=findings,
        rules=rules,
        requirements=reqs,
        trend=trend,
        params=dict(config.params),
        scopes={k: v.model_dump() for k, v in sorted(config.scopes.items())},
        waivers=[w.model_dump(mode="json") for w in config.waivers],
        previous=previous,
        chain_problems=chain_problems,
        notes=notes,
    )
