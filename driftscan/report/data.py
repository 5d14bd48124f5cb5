"""What a report shows, as plain model objects (ReportData), and how to read it from the store.

Rendering reads ReportData only (design §2). `build_report_data` reads the store through its
read API (driftscan.store.reads, Store's readers) and takes the rule pack already loaded, or
loads it. A scan never diffed or checked has `drift` / `findings` None, and every report then
says "not evaluated" rather than showing an empty, green-looking list (design §1.1).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from driftscan import __version__
from driftscan.compliance import RulePack, load_pack
from driftscan.compliance.frameworks import FrameworkView, framework_views
from driftscan.config import Config
from driftscan.errors import DriftscanError
from driftscan.model import Drift, Finding, ScanRecord, Slice
from driftscan.store import Store, reads, rule_types
from driftscan.store.reads import ResourceRef, SourceCoverage, TrendPoint

TREND_SCANS = reads.TREND_SCANS

__all__ = [
    "TREND_SCANS",
    "PreviousReport",
    "ReportData",
    "Requirement",
    "ResourceRef",
    "RuleMeta",
    "SourceCoverage",
    "TrendPoint",
    "build_report_data",
]


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
    # Every loaded framework's requirements with their status in this scan (design §6.6).
    frameworks: list[FrameworkView] = field(default_factory=list)
    # Per rule, how many resources of which type it gave a verdict on in this scan.
    evaluated: dict[str, dict[str, int]] = field(default_factory=dict)
    trend: list[TrendPoint] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    scopes: dict[str, dict[str, Any]] = field(default_factory=dict)
    waivers: list[dict[str, Any]] = field(default_factory=list)
    previous: PreviousReport | None = None
    # None = the chain was not checked while building; else the problems `verify` found.
    chain_problems: list[str] | None = None
    notes: list[str] = field(default_factory=list)
    # The resources the findings name, by key (type, provider, account, region): OCSF and
    # OSCAL carry them; a key absent here is not a resource of the scan (`rule:<id>`).
    resources: dict[str, ResourceRef] = field(default_factory=dict)


# -- the rule pack -------------------------------------------------------------------------------


def _rule_pack(
    config: Config, pack: RulePack | None
) -> tuple[dict[str, RuleMeta], list[Requirement], str, str | None]:
    """Rule metadata and framework mappings from `pack`, or from the pack loaded now."""
    if pack is None:
        try:
            pack = load_pack(config)
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


def build_report_data(
    config: Config,
    store: Store,
    scan_id: int | None = None,
    *,
    reports_root: Path | None = None,
    verify_chain: bool = True,
    pack: RulePack | None = None,
) -> ReportData:
    """Read one scan (default: the latest) and everything around it into a ReportData.

    `reports_root` (default: the config's reports.dir) is where the previous report is found;
    `pack` is the rule pack already loaded for this run (default: load it now).
    """
    from driftscan.report.manifest import latest_report

    rec = store.scan(scan_id)
    notes: list[str] = []
    drift = reads.drift_of_scan(store, rec.scan_id)
    if drift is None:
        notes.append(
            "drift not evaluated: no diff against the declared state is recorded for this scan"
        )
    findings = reads.findings_of_scan(store, rec.scan_id)
    if findings is None:
        notes.append("controls not evaluated: no rule evaluation is recorded for this scan")
    if pack is None:
        with suppress(DriftscanError):  # _rule_pack says so in the notes
            pack = load_pack(config)
    rules, reqs, pack_hash, note = _rule_pack(config, pack)
    views = framework_views(store, pack, rec.scan_id) if pack is not None else []
    if note:
        notes.append(note)
    rules_hash = reads.check_rules_hash(store, rec.scan_id) or rec.rules_hash
    if not rules_hash and pack_hash:
        rules_hash = pack_hash
        notes.append("rule pack hash taken from the pack loaded now (the scan recorded none)")

    trend = reads.trend(store, rec.scan_id, TREND_SCANS)
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
            previous.findings = reads.findings_of_scan(store, prev_rec.scan_id)
            previous.drift = reads.drift_of_scan(store, prev_rec.scan_id)
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
        sources=reads.source_runs(store, rec.scan_id),
        slices=reads.slices(store, rec.scan_id),
        drift=drift,
        findings=findings,
        rules=rules,
        requirements=reqs,
        frameworks=views,
        evaluated=rule_types.evaluated_types(store, rec.scan_id) if findings is not None else {},
        trend=trend,
        params=dict(config.params),
        scopes={k: v.model_dump() for k, v in sorted(config.scopes.items())},
        waivers=[w.model_dump(mode="json") for w in config.waivers],
        previous=previous,
        chain_problems=chain_problems,
        notes=notes,
        resources=reads.finding_resources(store, rec.scan_id) if findings is not None else {},
    )
