"""ReportData → the report document: summary, coverage, drift, controls, what changed; sorted.

Every format renders from this one document (ReportDocument), so HTML, PDF, JSON and CSV never
disagree. It holds no "now": identical inputs give identical documents. The TypedDicts below
are its shape, the contract with every renderer (driftscan.report.renderer).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from driftscan.model import Drift, Finding
from driftscan.redaction import is_fingerprint, is_secret_name, is_secret_subtree
from driftscan.report.data import ReportData, RuleMeta

FORMAT = "driftscan-report/1"
STATUSES = ("alarm", "error", "not_assessed", "skip", "ok")
SEVERITIES = ("critical", "high", "medium", "low", "info")
DRIFT_KINDS = ("missing", "unmanaged", "changed")
_RANK = {s: i for i, s in enumerate(STATUSES)}
UNMAPPED = "(unmapped)"

REDACTED = "[redacted]"

# -- the document's shape ------------------------------------------------------------------------

Period = TypedDict("Period", {"from": str | None, "to": str | None})


class ReportInfo(TypedDict):
    """Who the report is for, what it covers, and what vouches for it."""

    organisation: str
    period: Period
    tool_version: str
    rules_hash: str
    chain_head: str
    chain_verified: bool | None  # None: the chain was not checked
    chain_problems: list[str] | None
    notes: list[str]


class ScanDoc(TypedDict):
    """The scan's ledger row."""

    scan: int
    started_at: str | None
    finished_at: str | None
    status: str
    tool_version: str
    config_hash: str
    rules_hash: str
    resources: int
    content_hash: str
    prev_hash: str
    chain_hash: str


class Summary(TypedDict):
    """Counts by status and severity, drift by kind, coverage. None = not evaluated."""

    scan: int
    scan_status: str
    resources: int
    coverage_pct: float
    slices: int
    slices_not_assessed: int
    findings_evaluated: bool
    drift_evaluated: bool
    findings: dict[str, int] | None
    findings_total: int | None
    failing: int | None
    failing_by_severity: dict[str, int] | None
    waived: int | None
    drift: dict[str, int] | None
    drift_total: int | None


class TrendDoc(TypedDict):
    """One scan of the trend window."""

    scan: int
    started_at: str | None
    status: str
    alarms: int | None
    drift: int | None
    coverage_pct: float | None


class SourceDoc(TypedDict):
    """One source's run."""

    source: str
    provider: str
    status: str
    reason: str | None
    resources: int
    identity: str | None


class SliceDoc(TypedDict):
    """One unit of collection and whether it was read."""

    source: str
    provider: str
    name: str
    status: str
    reason: str | None
    detail: str | None
    account: str | None
    region: str | None
    types: list[str]
    resources: int


class CoverageDoc(TypedDict):
    """What was read: per cent of slices, per source, per slice."""

    pct: float
    sources: list[SourceDoc]
    slices: list[SliceDoc]


class ChangeDoc(TypedDict):
    """One declared path of a drifted resource, secrets scrubbed."""

    path: str | None
    op: str
    desired: Any
    actual: Any


class DriftDoc(TypedDict):
    """One drifted resource: the §3.4 diff shape plus source, account and region."""

    resource: str
    type: str
    provider: str
    kind: str
    desired_source: str | None
    source: str | None
    account: str | None
    region: str | None
    changes: list[ChangeDoc]


class FindingDoc(TypedDict):
    """One finding: the §3.4 findings shape plus title, evidence and first_seen_scan."""

    rule: str
    title: str
    resource: str
    status: str
    reason: str
    severity: str
    frameworks: dict[str, list[str]]
    lifecycle: str | None
    waiver: dict[str, Any] | None
    evidence: dict[str, Any]
    first_seen_scan: int | None


class ResourceDoc(TypedDict):
    """Where a resource that a finding names lives (OCSF and OSCAL carry it)."""

    provider: str
    type: str
    source: str | None
    account: str | None
    region: str | None
    name: str | None


class FrameworkRequirementDoc(TypedDict):
    """One requirement's status in the scan (compliance.frameworks.RequirementView)."""

    id: str
    title: str
    status: str
    reason: str
    manual: bool
    rules: list[str]
    # The resource keys behind it, failing and unassessed first, at most RESOURCES_PER_REQUIREMENT;
    # resources_total counts them all.
    resources: list[str]
    resources_total: int
    attestation: dict[str, Any] | None
    counts: dict[str, int]


class FrameworkDoc(TypedDict):
    """One framework catalogue's requirements in the scan (compliance.frameworks.FrameworkView)."""

    framework: str
    title: str
    version: str | None
    source: str | None
    automated_share: float
    checked: bool
    providers: list[str]  # a provider-specific benchmark's providers; empty: every provider
    requirements: list[FrameworkRequirementDoc]


class RuleDoc(TypedDict):
    """What a rule checks and how to fix it."""

    title: str
    severity: str
    description: str
    risk: str
    remediation: str
    # How many resources of which type the rule gave a verdict on in the scan.
    evaluated: dict[str, int]


class RequirementDoc(TypedDict):
    """One framework requirement and the rules that evidence it."""

    framework: str
    framework_title: str
    requirement: str
    title: str
    rules: list[str]


class FindingRef(TypedDict):
    """A (rule, resource) pair named by "what changed"."""

    rule: str
    resource: str


class NewFailing(FindingRef):
    severity: str


class DriftRef(TypedDict):
    """A drifted resource named by "what changed"."""

    resource: str
    kind: str


class ChangesSincePrevious(TypedDict):
    """What changed since the previous report; the lists only where both sides' records exist."""

    previous_folder: str
    previous_scan: int
    previous_manifest_sha256: str
    previous_summary: dict[str, Any]
    delta: dict[str, int | float | None]
    itemised: bool
    new_failing: NotRequired[list[NewFailing]]
    no_longer_failing: NotRequired[list[FindingRef]]
    newly_not_assessed: NotRequired[list[FindingRef]]
    new_drift: NotRequired[list[DriftRef]]
    drift_gone: NotRequired[list[DriftRef]]


class Appendix(TypedDict):
    """Parameters, scopes and waivers the evaluation used, secrets scrubbed."""

    params: dict[str, Any]
    scopes: dict[str, dict[str, Any]]
    waivers: list[dict[str, Any]]


class ReportDocument(TypedDict):
    """The whole report (report.json); `drift` / `findings` None = not evaluated."""

    format: str
    report: ReportInfo
    scan: ScanDoc
    summary: Summary
    trend: list[TrendDoc]
    coverage: CoverageDoc
    drift: list[DriftDoc] | None
    findings: list[FindingDoc] | None
    resources: dict[str, ResourceDoc]
    rules: dict[str, RuleDoc]
    requirements: list[RequirementDoc]
    frameworks: list[FrameworkDoc]
    changes_since_previous: ChangesSincePrevious | None
    appendix: Appendix


def _secret(name: str) -> bool:
    return any(is_secret_name(p) or is_secret_subtree(p) for p in name.split("."))


def scrub(value: Any, *, secret: bool = False) -> Any:
    """A copy of `value` with secret-looking entries that are not already keyed fingerprints
    replaced by `[redacted]`: belt and braces over the collectors' redaction (one shared
    definition of a secret name, driftscan.redaction)."""
    if isinstance(value, dict):
        return {str(k): scrub(v, secret=secret or _secret(str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, secret=secret) for v in value]
    if secret and isinstance(value, str) and value and not is_fingerprint(value):
        return REDACTED
    return value


def is_failing(f: Finding) -> bool:
    """An unwaived alarm or error: what fails a control."""
    return f.status in ("alarm", "error") and f.waiver is None


def shown_in_full(f: Finding) -> bool:
    """Failing, not assessed, or waived: always listed in every format, never summarised."""
    return f.status in ("alarm", "error", "not_assessed") or f.waiver is not None


def coverage_pct(data: ReportData) -> float:
    """Slices read / slices attempted; a scan with nothing attempted covers 0 %, not 100 %."""
    if not data.slices:
        return 0.0
    ok = sum(1 for s in data.slices if s.status == "ok")
    return round(100.0 * ok / len(data.slices), 1)


def _iso(v: datetime | None) -> str | None:
    return v.isoformat() if v is not None else None


def _finding_key(f: Finding) -> tuple[str, str]:
    return (f.rule, f.resource)


def finding_doc(f: Finding, rules: dict[str, RuleMeta]) -> FindingDoc:
    """One finding: the §3.4 shape plus title, evidence and first_seen_scan."""
    meta = rules.get(f.rule)
    return {
        "rule": f.rule,
        "title": meta.title if meta else "",
        "resource": f.resource,
        "status": f.status,
        "reason": f.reason,
        "severity": f.severity,
        "frameworks": {k: sorted(v) for k, v in sorted(f.frameworks.items())},
        "lifecycle": f.lifecycle,
        "waiver": scrub(f.waiver) if f.waiver is not None else None,
        "evidence": scrub(f.evidence),
        "first_seen_scan": f.first_seen_scan,
    }


def drift_doc(d: Drift) -> DriftDoc:
    """One drifted resource: the §3.4 diff shape plus source, account and region."""
    changes: list[ChangeDoc] = []
    for c in sorted(d.changes, key=lambda c: str(c.get("path", ""))):
        secret = _secret(str(c.get("path", "")))
        changes.append(
            {
                "path": c.get("path"),
                "op": c.get("op") or "eq",
                "desired": scrub(c.get("desired"), secret=secret),
                "actual": scrub(c.get("actual"), secret=secret),
            }
        )
    return {
        "resource": d.resource,
        "type": d.type or "",
        "provider": d.provider or "",
        "kind": d.kind,
        "desired_source": d.desired_source,
        "source": d.source,
        "account": d.account,
        "region": d.region,
        "changes": changes,
    }


def summary(data: ReportData) -> Summary:
    """Counts by status and severity, drift by kind, coverage: the executive summary."""
    out: Summary = {
        "scan": data.scan.scan_id,
        "scan_status": data.scan.status,
        "resources": data.scan.resources,
        "coverage_pct": coverage_pct(data),
        "slices": len(data.slices),
        "slices_not_assessed": sum(1 for s in data.slices if s.status != "ok"),
        "findings_evaluated": data.findings is not None,
        "drift_evaluated": data.drift is not None,
        "findings": None,
        "findings_total": None,
        "failing": None,
        "failing_by_severity": None,
        "waived": None,
        "drift": None,
        "drift_total": None,
    }
    if data.findings is not None:
        by_status: Counter[str] = Counter(f.status for f in data.findings)
        failing_sev: Counter[str] = Counter(f.severity for f in data.findings if is_failing(f))
        out["findings"] = {s: by_status.get(s, 0) for s in STATUSES}
        out["findings_total"] = len(data.findings)
        out["failing"] = sum(failing_sev.values())
        out["failing_by_severity"] = {s: failing_sev.get(s, 0) for s in SEVERITIES}
        out["waived"] = sum(1 for f in data.findings if f.waiver is not None)
    if data.drift is not None:
        kinds: Counter[str] = Counter(d.kind for d in data.drift)
        out["drift"] = {k: kinds.get(k, 0) for k in DRIFT_KINDS}
        out["drift_total"] = len(data.drift)
    return out


def changes_since_previous(data: ReportData, now: Summary) -> ChangesSincePrevious | None:
    """What changed since the previous report: count deltas, and itemised where records exist."""
    prev = data.previous
    if prev is None:
        return None
    before: Mapping[str, Any] = prev.summary or {}
    current: Mapping[str, object] = now

    def delta(key: str) -> int | float | None:
        a, b = current.get(key), before.get(key)
        if isinstance(a, int | float) and isinstance(b, int | float):
            return round(a - b, 1) if isinstance(a, float) or isinstance(b, float) else a - b
        return None

    out: ChangesSincePrevious = {
        "previous_folder": prev.folder,
        "previous_scan": prev.scan_id,
        "previous_manifest_sha256": prev.manifest_sha256,
        "previous_summary": {
            k: before.get(k)
            for k in ("coverage_pct", "failing", "waived", "drift_total", "findings_total")
        },
        "delta": {
            k: delta(k) for k in ("coverage_pct", "failing", "waived", "drift_total", "slices")
        },
        "itemised": False,
    }
    if data.findings is not None and prev.findings is not None:
        was = {_finding_key(f) for f in prev.findings if is_failing(f)}
        is_ = {_finding_key(f): f for f in data.findings if is_failing(f)}
        now_na = {_finding_key(f) for f in data.findings if f.status == "not_assessed"}
        was_na = {_finding_key(f) for f in prev.findings if f.status == "not_assessed"}
        out["new_failing"] = [
            {"rule": r, "resource": res, "severity": is_[(r, res)].severity}
            for r, res in sorted(set(is_) - was)
        ]
        out["no_longer_failing"] = [
            {"rule": r, "resource": res} for r, res in sorted(was - set(is_))
        ]
        out["newly_not_assessed"] = [
            {"rule": r, "resource": res} for r, res in sorted(now_na - was_na)
        ]
        out["itemised"] = True
    if data.drift is not None and prev.drift is not None:
        dnow = {(d.resource, d.kind) for d in data.drift}
        dwas = {(d.resource, d.kind) for d in prev.drift}
        out["new_drift"] = [{"resource": r, "kind": k} for r, k in sorted(dnow - dwas)]
        out["drift_gone"] = [{"resource": r, "kind": k} for r, k in sorted(dwas - dnow)]
        out["itemised"] = True
    return out


def _requirements(data: ReportData) -> list[RequirementDoc]:
    """Framework → requirement → rules, from the pack's mappings and the findings' own tags."""
    reqs: dict[tuple[str, str], dict[str, Any]] = {}
    for r in data.requirements:
        e = reqs.setdefault(
            (r.framework, r.id),
            {
                "framework": r.framework,
                "framework_title": r.framework_title or r.framework,
                "requirement": r.id,
                "title": r.title,
                "rules": set(),
            },
        )
        e["rules"].update(r.rules)
    for f in data.findings or []:
        for fw, ids in f.frameworks.items():
            for req in ids:
                e = reqs.setdefault(
                    (fw, req),
                    {
                        "framework": fw,
                        "framework_title": fw,
                        "requirement": req,
                        "title": "",
                        "rules": set(),
                    },
                )
                e["rules"].add(f.rule)
    mapped = {rid for e in reqs.values() for rid in e["rules"]}
    unmapped = sorted({f.rule for f in data.findings or []} - mapped)
    if unmapped:
        reqs[(UNMAPPED, "")] = {
            "framework": UNMAPPED,
            "framework_title": "Controls not mapped to a framework",
            "requirement": "",
            "title": "",
            "rules": set(unmapped),
        }
    out: list[RequirementDoc] = []
    for key in sorted(reqs, key=lambda k: (k[0] == UNMAPPED, k[0], _req_key(k[1]))):
        e = reqs[key]
        out.append(
            {
                "framework": e["framework"],
                "framework_title": e["framework_title"],
                "requirement": e["requirement"],
                "title": e["title"],
                "rules": sorted(e["rules"]),
            }
        )
    return out


# Resource keys listed per requirement in the document: a requirement over a whole estate would
# otherwise repeat every key the findings already hold.
RESOURCES_PER_REQUIREMENT = 200


def _frameworks(data: ReportData) -> list[FrameworkDoc]:
    """The report data's framework views, by framework id, in catalogue order within each."""
    return [
        {
            "framework": v.framework,
            "title": v.title,
            "version": v.version,
            "source": v.source,
            "automated_share": round(v.automated_share, 4),
            "checked": v.checked,
            "providers": list(v.providers),
            "requirements": [
                {
                    "id": r.id,
                    "title": r.title,
                    "status": r.status,
                    "reason": r.reason,
                    "manual": r.manual,
                    "rules": list(r.rules),
                    "resources": list(r.resources[:RESOURCES_PER_REQUIREMENT]),
                    "resources_total": len(r.resources),
                    "attestation": scrub(r.attestation) if r.attestation is not None else None,
                    "counts": dict(sorted(r.counts.items())),
                }
                for r in v.requirements
            ],
        }
        for v in sorted(data.frameworks, key=lambda v: v.framework)
    ]


def _req_key(req: str) -> tuple[Any, ...]:
    # "1.10.1" after "1.9"; non-numeric parts compare as text.
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-]", req))


def out_of_scope(doc: ReportDocument) -> tuple[frozenset[str], frozenset[str]]:
    """(rules, frameworks) of providers no source of the scan reads, for the HTML and PDF.

    Such a rule's every finding is the one `skip` saying no source reads its types. A
    framework is out of scope when it is about providers (`providers:` in its catalogue) of
    which the scan read none, or when it maps rules and every one of them is out of scope.
    The pages name those frameworks in a line instead of page after page of skips (an
    AWS-only PDF listed the whole GCP, Azure and Kubernetes benchmarks); report.json, the CSV
    and the interchange formats keep every requirement and finding."""
    if doc["findings"] is None:
        return frozenset(), frozenset()
    read = {str(s.get("provider")) for s in doc["coverage"]["sources"]}
    alone: dict[str, bool] = {}
    for f in doc["findings"]:
        types_skip = f["status"] == "skip" and f["resource"] == f"types:{f['rule']}"
        alone[f["rule"]] = alone.get(f["rule"], True) and types_skip
    rules = frozenset(r for r, yes in alone.items() if yes)
    frameworks = set()
    for fw in doc.get("frameworks") or []:
        mapped = {rid for req in fw["requirements"] for rid in req["rules"]}
        about = set(fw.get("providers") or [])
        if (about and not about & read) or (mapped and mapped <= rules):
            frameworks.add(fw["framework"])
    return rules, frozenset(frameworks)


def controls(
    doc: ReportDocument,
    passing_limit: int | None = None,
    leave_out: frozenset[str] = frozenset(),
    leave_out_rules: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Controls grouped by framework → requirement → rule, for the HTML and PDF pages.

    A rule's resource rows are listed where the rule first appears; later requirements that
    cite the same rule point back to it. Failing, not-assessed and waived rows are always
    listed; with `passing_limit` (the PDF), at most that many passing rows are listed overall
    and the rest are counted with a pointer to the HTML and CSV. Frameworks in `leave_out`
    and rules in `leave_out_rules` (out of scope) are not listed, nor a requirement that maps
    only such rules.
    """
    by_rule: dict[str, list[FindingDoc]] = {}
    for f in doc["findings"] or []:
        by_rule.setdefault(f["rule"], []).append(f)
    rules_meta = doc["rules"]
    budget = passing_limit
    # rule → (anchor, "framework requirement") of the requirement its rows are listed under
    listed: dict[str, tuple[str, str]] = {}
    frameworks: list[dict[str, Any]] = []
    for req in doc["requirements"]:
        ids = [rid for rid in req["rules"] if rid not in leave_out_rules]
        if req["framework"] in leave_out or (req["rules"] and not ids):
            continue
        if not frameworks or frameworks[-1]["framework"] != req["framework"]:
            frameworks.append(
                {"framework": req["framework"], "title": req["framework_title"], "items": []}
            )
        anchor_req = f"req-{_slug(req['framework'])}-{_slug(req['requirement'])}"
        rules = []
        for rid in ids:
            first = listed.get(rid)
            rows = by_rule.get(rid, [])
            counts = Counter(r["status"] for r in rows)
            meta: RuleDoc = rules_meta.get(rid) or {
                "title": "",
                "severity": "",
                "description": "",
                "risk": "",
                "remediation": "",
                "evaluated": {},
            }
            entry: dict[str, Any] = {
                "id": rid,
                "meta": meta,
                "counts": {s: counts.get(s, 0) for s in STATUSES},
                "waived": sum(1 for r in rows if r["waiver"] is not None),
                "total": len(rows),
                "anchor": f"rule-{_slug(rid)}",
                "see": None if first is None else first[0],
                "see_label": None if first is None else first[1],
                "full": [],
                "passing": [],
                "passing_omitted": 0,
            }
            # A rule that gave no verdict at all assessed nothing (never read as clean): the
            # status section 4 gives a requirement whose rules evaluated nothing.
            entry["worst"] = next((s for s in STATUSES if entry["counts"][s]), "not_assessed")
            if first is None:
                listed[rid] = (anchor_req, f"{req['framework']} {req['requirement']}")
                ordered = sorted(rows, key=lambda r: (_RANK[r["status"]], r["resource"]))
                full: list[FindingDoc] = []
                passing: list[FindingDoc] = []
                for r in ordered:
                    in_full = r["status"] in ("alarm", "error", "not_assessed") or r["waiver"]
                    (full if in_full else passing).append(r)
                if budget is not None:
                    keep = min(len(passing), budget)
                    budget -= keep
                    entry["passing_omitted"] = len(passing) - keep
                    passing = passing[:keep]
                entry["full"], entry["passing"] = full, passing
            rules.append(entry)
        frameworks[-1]["items"].append(
            {
                "requirement": req["requirement"],
                "title": req["title"],
                "anchor": anchor_req,
                "rules": rules,
                "worst": _worst(r["worst"] for r in rules),
            }
        )
    return frameworks


def rule_summary(
    doc: ReportDocument, leave_out: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """One row per rule with findings: its counts by status and waived, worst first (then by
    severity and id), linking to where its resources are listed. The page an auditor reads
    first; the passing rows themselves are folded away under each rule. Rules in `leave_out`
    (out of scope) have no row."""
    by_rule: dict[str, Counter[str]] = {}
    waived: Counter[str] = Counter()
    for f in doc["findings"] or []:
        if f["rule"] in leave_out:
            continue
        by_rule.setdefault(f["rule"], Counter())[f["status"]] += 1
        waived[f["rule"]] += f["waiver"] is not None
    sev = {s: i for i, s in enumerate(SEVERITIES)}
    rows = []
    for rid, counts in by_rule.items():
        meta = doc["rules"].get(rid)
        worst = next(s for s in STATUSES if counts[s])
        rows.append(
            {
                "id": rid,
                "title": meta["title"] if meta else "",
                "severity": meta["severity"] if meta else "",
                "evaluated": dict(meta.get("evaluated") or {}) if meta else {},
                "counts": {s: counts[s] for s in STATUSES},
                "waived": waived[rid],
                "total": sum(counts.values()),
                "worst": worst,
                "anchor": f"rule-{_slug(rid)}",
            }
        )
    rows.sort(
        key=lambda r: (_RANK[str(r["worst"])], sev.get(str(r["severity"]), len(sev)), str(r["id"]))
    )
    return rows


def _worst(statuses: Iterable[str]) -> str:
    ss = set(statuses)
    return next((s for s in STATUSES if s in ss), "none")


def _slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-").lower() or "x"


def document(data: ReportData) -> ReportDocument:
    """The whole report as one JSON-able, sorted document (report.json)."""
    s = summary(data)
    rules: dict[str, RuleDoc] = {
        rid: {
            "title": m.title,
            "severity": m.severity,
            "description": m.description,
            "risk": m.risk,
            "remediation": m.remediation,
            "evaluated": dict(sorted(data.evaluated.get(rid, {}).items())),
        }
        for rid, m in sorted(data.rules.items())
    }
    findings: list[FindingDoc] | None = None
    if data.findings is not None:
        findings = [finding_doc(f, data.rules) for f in sorted(data.findings, key=_finding_key)]
    drift: list[DriftDoc] | None = None
    if data.drift is not None:
        drift = [drift_doc(d) for d in sorted(data.drift, key=lambda d: (d.resource, d.kind))]
    sc = data.scan
    return {
        "format": FORMAT,
        "report": {
            "organisation": data.organisation,
            "period": {"from": _iso(data.period_start), "to": _iso(data.period_end)},
            "tool_version": data.tool_version,
            "rules_hash": data.rules_hash,
            "chain_head": data.chain_head,
            "chain_verified": None if data.chain_problems is None else not data.chain_problems,
            "chain_problems": data.chain_problems,
            "notes": list(data.notes),
        },
        "scan": {
            "scan": sc.scan_id,
            "started_at": _iso(sc.started_at),
            "finished_at": _iso(sc.finished_at),
            "status": sc.status,
            "tool_version": sc.tool_version,
            "config_hash": sc.config_hash,
            "rules_hash": sc.rules_hash,
            "resources": sc.resources,
            "content_hash": sc.content_hash,
            "prev_hash": sc.prev_hash,
            "chain_hash": sc.chain_hash,
        },
        "summary": s,
        "trend": [
            {
                "scan": p.scan_id,
                "started_at": _iso(p.started_at),
                "status": p.status,
                "alarms": p.alarms,
                "drift": p.drift,
                "coverage_pct": p.coverage_pct,
            }
            for p in sorted(data.trend, key=lambda p: p.scan_id)
        ],
        "coverage": {
            "pct": s["coverage_pct"],
            "sources": [
                {
                    "source": r.source,
                    "provider": r.provider,
                    "status": r.status,
                    "reason": r.reason,
                    "resources": r.resources,
                    "identity": r.identity,
                }
                for r in sorted(data.sources, key=lambda r: r.source)
            ],
            "slices": [
                {
                    "source": x.source,
                    "provider": x.provider,
                    "name": x.name,
                    "status": x.status,
                    "reason": x.reason,
                    "detail": x.detail,
                    "account": x.account,
                    "region": x.region,
                    "types": sorted(x.types),
                    "resources": x.resources,
                }
                for x in sorted(data.slices, key=lambda x: (x.source, x.name))
            ],
        },
        "drift": drift,
        "findings": findings,
        "resources": {
            k: {
                "provider": r.provider,
                "type": r.type,
                "source": r.source,
                "account": r.account,
                "region": r.region,
                "name": r.name,
            }
            for k, r in sorted(data.resources.items())
        },
        "rules": rules,
        "requirements": _requirements(data),
        "frameworks": _frameworks(data),
        "changes_since_previous": changes_since_previous(data, s),
        "appendix": {
            "params": scrub(data.params),
            "scopes": {k: data.scopes[k] for k in sorted(data.scopes)},
            "waivers": sorted(
                (scrub(w) for w in data.waivers),
                key=lambda w: (str(w.get("rule")), str(w.get("resource"))),
            ),
        },
    }
