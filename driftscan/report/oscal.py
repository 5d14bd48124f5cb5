"""OSCAL 1.1.2 assessment-results (`oscal`, assessment-results.oscal.json) for GRC tools.

FedRAMP tooling, ServiceNow and compliance-trestle ingest it. The document holds:

- metadata: title, last-modified (the scan's end, not "now"), version `scan-<N>`,
  oscal-version 1.1.2, the tool version in props
- import-ap: driftscan writes no assessment plan; the rule pack is the plan, so the href is
  `urn:driftscan:rule-pack:<rules hash>` and the remarks say so
- one result for the scan, start and end the scan's; props carry the chain head, the scan's
  chain and content hashes, the rules hash, the scan status and the coverage
- reviewed-controls: a control selection per framework catalogue, every requirement as a
  control id `req-<id>` (an OSCAL token); the framework id, title, version and automated
  share in the selection's props
- local-definitions: an inventory item per resource the findings name (its key, type,
  provider, account, region)
- an observation per finding, method TEST, subject the resource, collected the scan's end,
  the sha256 of the finding's evidence (canonical JSON) and the scan's content hash as
  relevant evidence; an observation per attestation, method EXAMINE, with its evidence's
  location and sha256
- a finding per requirement that failed, was not assessed, or lacks a valid attestation,
  targeting `req-<id>` (objective status not-satisfied: reason `fail` for failed, `other`
  with the status in the remarks otherwise), related to the observations behind it

Every UUID is version 5, derived from what it names (and the document's from its whole
content), so identical documents give byte-identical files.
"""

from __future__ import annotations

from typing import Any

import orjson

from driftscan.errors import ReportError
from driftscan.model import canonical_json
from driftscan.report import oscal_models as m
from driftscan.report.document import FindingDoc, ReportDocument
from driftscan.report.interchange import (
    UNMET,
    FrameworkStatus,
    RequirementStatus,
    aware,
    framework_statuses,
    one_line,
    sha256_text,
    token,
    uuid5,
)
from driftscan.report.renderer import RenderContext, Renderer

FILE = "assessment-results.oscal.json"
NS = "urn:driftscan:oscal"
STATUS_WORDS = {
    "failed": "failed",
    "not_assessed": "not assessed",
    "attestation_missing": "attestation missing",
    "attestation_expired": "attestation expired",
}


def _props(**values: object) -> list[m.Property] | None:
    """Props in driftscan's namespace, by name; empty values left out (OSCAL refuses them)."""
    out = [
        m.Property(name=k.replace("_", "-"), value=one_line(v), ns=NS)
        for k, v in values.items()
        if v is not None and str(v).strip() != ""
    ]
    return out or None


def _inventory(doc: ReportDocument) -> dict[str, m.InventoryItem]:
    items: dict[str, m.InventoryItem] = {}
    for f in doc["findings"] or []:
        key = f["resource"]
        if key in items:
            continue
        r = doc["resources"].get(key)
        if r is None:
            desc = f"{key} (not a resource of the scan: a rule's own subject)"
            props = _props(key=key)
        else:
            desc = key
            props = _props(key=key, asset_type=r["type"], provider=r["provider"],
                           source=r["source"], account=r["account"], region=r["region"])  # fmt: skip
        items[key] = m.InventoryItem(uuid=uuid5("resource", key), description=desc, props=props)
    return items


def _finding_observation(
    f: FindingDoc, doc: ReportDocument, item: m.InventoryItem, collected: Any
) -> m.Observation:
    meta = doc["rules"].get(f["rule"])
    title = meta["title"] if meta and meta["title"] else f["rule"]
    w = f["waiver"] or {}
    evidence = canonical_json(f["evidence"])
    return m.Observation(
        uuid=uuid5("observation", doc["scan"]["scan"], f["rule"], f["resource"]),
        title=one_line(f"{f['rule']}: {f['resource']}"),
        description=f"{title}: {f['status']}. {f['reason']}".strip(),
        props=_props(
            rule=f["rule"],
            status=f["status"],
            severity=f["severity"],
            lifecycle=f["lifecycle"],
            first_seen_scan=f["first_seen_scan"],
            waiver_owner=w.get("owner"),
            waiver_ticket=w.get("ticket"),
            waiver_expires=w.get("expires"),
        ),
        methods=["TEST"],
        types=[
            "finding" if f["status"] in ("alarm", "error", "not_assessed") else "control-objective"
        ],
        subjects=[
            m.SubjectReference(
                subject_uuid=item.uuid, type="inventory-item", title=one_line(f["resource"])
            )
        ],
        relevant_evidence=[
            m.RelevantEvidence(
                description=(
                    "The rule's evidence columns for this resource (the finding's `evidence` in "
                    "report.json and findings.csv); evidence-sha256 is the sha256 of their "
                    "canonical JSON, scan-content-hash the scan's."
                ),
                props=_props(
                    evidence_sha256=sha256_text(evidence),
                    scan_content_hash=doc["scan"]["content_hash"],
                ),
            )
        ],
        collected=collected,
    )


def _attestation_observation(
    fw: FrameworkStatus, req: RequirementStatus, collected: Any
) -> m.Observation | None:
    a = req.attestation
    if not a:
        return None
    evidence = a.get("evidence")
    when = aware(str(a["date"])) if a.get("date") else None
    return m.Observation(
        uuid=uuid5("attestation", fw.framework, req.id, canonical_json(dict(a))),
        title=one_line(f"Attestation: {fw.framework} {req.id}"),
        description=str(a.get("statement") or "attested"),
        props=_props(
            framework=fw.framework,
            requirement=req.id,
            owner=a.get("owner"),
            state=a.get("state"),
            date=a.get("date"),
            expires=a.get("expires"),
        ),
        methods=["EXAMINE"],
        types=["control-objective"],
        relevant_evidence=[
            m.RelevantEvidence(
                href=str(evidence) if evidence else None,
                description="The evidence the attestation names"
                if evidence
                else "No evidence named",
                props=_props(sha256=a.get("sha256")),
            )
        ],
        collected=when or collected,
    )


def _finding(
    fw: FrameworkStatus, req: RequirementStatus, related: list[str], scan: int
) -> m.Finding:
    words = STATUS_WORDS[req.status]
    lines = [
        f"{fw.title} requirement {req.id}"
        + (f" ({req.title})" if req.title else "")
        + f": {words}."
    ]
    if req.rules:
        lines.append(f"Rules: {', '.join(req.rules)}.")
    if req.reason:
        lines.append(f"{req.reason[0].upper()}{req.reason[1:]}.")
    if req.resources:
        shown = req.resources[:20]
        total = max(req.resources_total or 0, len(req.resources))
        more = f" and {total - len(shown)} more" if total > len(shown) else ""
        lines.append(f"Resources: {', '.join(shown)}{more}.")
    return m.Finding(
        uuid=uuid5("finding", scan, fw.framework, req.id),
        title=one_line(f"{fw.framework} {req.id}: {words}"),
        description=" ".join(lines),
        props=_props(framework=fw.framework, requirement=req.id, status=req.status),
        target=m.FindingTarget(
            type="objective-id",
            target_id=token("req", req.id),
            title=one_line(req.title) if req.title else None,
            status=m.ObjectiveStatus(
                state="not-satisfied",
                reason="fail" if req.status == "failed" else "other",
                remarks=None if req.status == "failed" else words,
            ),
        ),
        related_observations=[m.RelatedObservation(observation_uuid=u) for u in related] or None,
    )


def _reviewed(frameworks: list[FrameworkStatus]) -> m.ReviewedControls:
    selections = [
        m.ControlSelection(
            description=fw.title,
            props=_props(
                framework=fw.framework,
                title=fw.title,
                version=fw.version,
                automated_share=f"{fw.automated_share:.4f}",
                statuses_from=fw.origin,
            ),
            include_controls=[
                m.SelectControlById(control_id=token("req", r.id))
                for r in sorted(fw.requirements, key=lambda r: r.id)
            ]
            or None,
            include_all=None if fw.requirements else {},
        )
        for fw in frameworks
    ]
    if not selections:
        selections = [
            m.ControlSelection(
                description="No framework catalogue was loaded: every control of the rule pack",
                include_all={},
            )
        ]
    return m.ReviewedControls(
        description="The requirements of every framework catalogue the rule pack loads",
        control_selections=selections,
    )


def assessment_results(doc: ReportDocument) -> m.Document:
    """The document's OSCAL assessment-results as our models."""
    return _build(doc)[0]


def _build(doc: ReportDocument) -> tuple[m.Document, dict[str, Any]]:
    """The models and their JSON form, serialised once (the document's id is a digest of
    that form, and serialising a large result twice costs seconds)."""
    scan, report = doc["scan"], doc["report"]
    start = aware(scan["started_at"]) or aware(scan["finished_at"])
    end = aware(scan["finished_at"]) or start
    if start is None or end is None:
        raise ReportError(f"scan {scan['scan']} records no start time: no OSCAL result")
    frameworks = framework_statuses(doc)
    items = _inventory(doc)
    observations: list[m.Observation] = []
    by_rule: dict[str, list[tuple[FindingDoc, str]]] = {}
    for f in doc["findings"] or []:
        o = _finding_observation(f, doc, items[f["resource"]], end)
        observations.append(o)
        by_rule.setdefault(f["rule"], []).append((f, o.uuid))
    findings: list[m.Finding] = []
    for fw in frameworks:
        for req in fw.requirements:
            att = _attestation_observation(fw, req, end)
            if att is not None:
                observations.append(att)
            if req.status not in UNMET:
                continue
            want = {"failed": ("alarm",), "not_assessed": ("not_assessed", "error")}.get(
                req.status, ()
            )
            related = [
                u
                for rid in req.rules
                for f, u in by_rule.get(rid, [])
                if f["status"] in want and not (f["status"] == "alarm" and f["waiver"])
            ]
            if att is not None:
                related.append(att.uuid)
            findings.append(_finding(fw, req, related, scan["scan"]))
    result = m.Result(
        uuid=uuid5("result", scan["scan"], scan["chain_hash"]),
        title=one_line(f"driftscan scan {scan['scan']}"),
        description=(
            f"Automated assessment of {report['organisation'] or 'the estate'} by driftscan "
            f"{report['tool_version']}: scan {scan['scan']} ({scan['status']}), "
            f"{doc['summary']['coverage_pct']} % of collection slices read."
        ),
        start=start,
        end=end,
        props=_props(
            scan=scan["scan"],
            scan_status=scan["status"],
            coverage_pct=doc["summary"]["coverage_pct"],
            chain_head=report["chain_head"],
            scan_chain_hash=scan["chain_hash"],
            scan_content_hash=scan["content_hash"],
            rules_hash=report["rules_hash"],
            config_hash=scan["config_hash"],
            controls_evaluated="true" if doc["findings"] is not None else "false",
        ),
        local_definitions=m.LocalDefinitions(inventory_items=list(items.values()))
        if items
        else None,
        reviewed_controls=_reviewed(frameworks),
        observations=observations or None,
        findings=findings or None,
        remarks=None
        if doc["findings"] is not None
        else "Controls were not evaluated for this scan: no requirement is evidenced by it.",
    )
    metadata = m.Metadata(
        title=one_line(
            f"driftscan assessment results: {report['organisation'] or 'estate'}, scan {scan['scan']}"
        ),
        last_modified=end,
        version=f"scan-{scan['scan']}",
        props=_props(tool_version=report["tool_version"], organisation=report["organisation"]),
    )
    import_ap = m.ImportAp(
        href=f"urn:driftscan:rule-pack:{report['rules_hash'] or 'unknown'}",
        remarks=(
            "driftscan writes no assessment plan: the rule pack (rules hash in the href) and "
            f"the configuration (sha256 {scan['config_hash'] or 'not recorded'}) are the plan."
        ),
    )
    parts = {
        "metadata": _dump(metadata),
        "import-ap": _dump(import_ap),
        "results": [_dump(result)],
    }
    # The document's id is its content's.
    doc_uuid = uuid5("assessment-results", sha256_text(canonical_json(parts)))
    model = m.Document(
        assessment_results=m.AssessmentResults(
            uuid=doc_uuid, metadata=metadata, import_ap=import_ap, results=[result]
        )
    )
    return model, {"assessment-results": {"uuid": doc_uuid, **parts}}


def _dump(v: Any) -> Any:
    return v.model_dump(by_alias=True, exclude_none=True, mode="json")


def render_oscal(doc: ReportDocument) -> str:
    """assessment-results.oscal.json: sorted, indented JSON; byte-identical for identical
    documents (orjson: the standard library's indenting encoder takes seconds on large ones)."""
    data = _build(doc)[1]
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"


def _render(doc: ReportDocument, ctx: RenderContext) -> dict[str, str | bytes]:
    return {FILE: render_oscal(doc)}


OSCAL = Renderer("oscal", _render, "assessment-results.oscal.json: OSCAL 1.1.2 assessment results")
