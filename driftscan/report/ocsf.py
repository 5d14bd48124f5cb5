"""OCSF 1.5 Compliance Finding events (`ocsf`, findings.ocsf.jsonl): one JSON line per finding.

Security Lake, SIEMs and Prowler's users read these. Each line is class_uid 2003 (category 2,
Findings; activity Create, type_uid 200301) with:

- status: the finding's lifecycle as OCSF's status_id (an open alarm, not-assessed or error
  finding New, a waived alarm Suppressed, ok Resolved, skip Other), the reason as
  status_detail, driftscan's own word in `status`
- severity_id / severity from the rule's severity
- compliance: standards (the frameworks), requirements (`framework:requirement`), control
  (the rule id) and status_id (ok Pass, alarm Fail, not_assessed Unknown, error and skip Other)
- resources: uid (the resource key), type, region, name, and the provider, source and
  account in `data`; plus the cloud profile's `cloud` (provider, account, region) when the
  resource is one of the scan's (a finding on `rule:<id>` names no resource)
- metadata: product driftscan with its version, the OCSF version, logged_time the scan's end;
  `time` is the scan's end too, start_time / end_time the scan's interval
- finding_info: uid stable per rule and resource across scans (UUIDv5), title, description
- remediation from the rule; evidence, lifecycle and waiver under `unmapped`

Lines are sorted by rule and resource and their keys sorted, so identical documents give
byte-identical files.
"""

from __future__ import annotations

import json
from typing import Any

from driftscan.report.document import FindingDoc, ReportDocument
from driftscan.report.interchange import epoch_ms, rule_frameworks, uuid5
from driftscan.report.renderer import RenderContext, Renderer

FILE = "findings.ocsf.jsonl"
OCSF_VERSION = "1.5.0"
CLASS_UID = 2003  # Compliance Finding
CATEGORY_UID = 2  # Findings
ACTIVITY_CREATE = 1
SEVERITY_IDS = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
SEVERITY_NAMES = {0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
# compliance.status_id: 0 Unknown, 1 Pass, 2 Warning, 3 Fail, 99 Other.
COMPLIANCE_STATUS = {"ok": 1, "alarm": 3, "not_assessed": 0, "error": 99, "skip": 99}
COMPLIANCE_NAMES = {0: "Unknown", 1: "Pass", 2: "Warning", 3: "Fail", 99: "Other"}
# The finding's status_id: 1 New, 3 Suppressed, 4 Resolved, 99 Other.
STATUS_NAMES = {1: "New", 3: "Suppressed", 4: "Resolved", 99: "Other"}


def _status_id(f: FindingDoc) -> int:
    if f["status"] == "alarm":
        return 3 if f["waiver"] is not None else 1
    return {"ok": 4, "skip": 99}.get(f["status"], 1)


def _event(f: FindingDoc, doc: ReportDocument, mapping: dict[str, dict[str, list[str]]]) -> Any:
    scan, report = doc["scan"], doc["report"]
    meta = doc["rules"].get(f["rule"])
    fws: dict[str, set[str]] = {fw: set(ids) for fw, ids in mapping.get(f["rule"], {}).items()}
    for fw, ids in f["frameworks"].items():
        fws.setdefault(fw, set()).update(ids)
    sev = SEVERITY_IDS.get(f["severity"], 0)
    cstatus = COMPLIANCE_STATUS.get(f["status"], 0)
    status_id = _status_id(f)
    end = epoch_ms(scan["finished_at"]) or epoch_ms(scan["started_at"]) or 0
    event: dict[str, Any] = {
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": "Compliance Finding: Create",
        "time": end,
        "severity_id": sev,
        "severity": SEVERITY_NAMES[sev],
        "status_id": status_id,
        "status": STATUS_NAMES[status_id],
        "status_code": f["status"],
        "status_detail": f["reason"],
        "message": f["reason"],
        "compliance": {
            "control": f["rule"],
            "standards": sorted(fws),
            "requirements": sorted(f"{fw}:{r}" for fw, ids in fws.items() for r in ids),
            "status_id": cstatus,
            "status": COMPLIANCE_NAMES[cstatus],
        },
        "finding_info": {
            "uid": uuid5("ocsf-finding", f["rule"], f["resource"]),
            "title": (meta["title"] if meta and meta["title"] else f["rule"]),
            "types": ["Compliance"],
            "created_time": end,
        },
        "metadata": {
            "version": OCSF_VERSION,
            "uid": uuid5("ocsf-event", scan["scan"], f["rule"], f["resource"]),
            "product": {
                "name": "driftscan",
                "vendor_name": "driftscan",
                "version": report["tool_version"],
            },
            "logged_time": end,
            "correlation_uid": f"driftscan/scan-{scan['scan']}",
            "sequence": scan["scan"],
        },
        "unmapped": {
            "scan": scan["scan"],
            "scan_chain_hash": scan["chain_hash"],
            "lifecycle": f["lifecycle"],
            "first_seen_scan": f["first_seen_scan"],
            "waiver": f["waiver"],
            "evidence": f["evidence"],
        },
    }
    start = epoch_ms(scan["started_at"])
    if start is not None:
        event["start_time"] = start
        event["end_time"] = end
    if meta and meta["description"]:
        event["finding_info"]["desc"] = meta["description"]
    if meta and meta["remediation"]:
        event["remediation"] = {"desc": meta["remediation"]}
    res = doc["resources"].get(f["resource"])
    resource: dict[str, Any] = {"uid": f["resource"]}
    if res is not None:
        resource.update(
            {"type": res["type"], "name": res["name"] or f["resource"], "region": res["region"]}
        )
        resource["data"] = {
            "provider": res["provider"],
            "source": res["source"],
            "account": res["account"],
        }
        cloud: dict[str, Any] = {"provider": res["provider"]}
        if res["region"]:
            cloud["region"] = res["region"]
        if res["account"]:
            # type_id 99 (Other): the account kind is the provider's word, not an OCSF one.
            cloud["account"] = {
                "uid": res["account"],
                "name": res["account"],
                "type_id": 99,
                "type": f"{res['provider']} account",
            }
        event["cloud"] = cloud
        event["metadata"]["profiles"] = ["cloud"]
    event["resources"] = [{k: v for k, v in resource.items() if v is not None}]
    return event


def ocsf_events(doc: ReportDocument) -> list[dict[str, Any]]:
    """One Compliance Finding event per finding of the document; one not-assessed event
    when the controls were not evaluated."""
    mapping = rule_frameworks(doc)
    findings = doc["findings"]
    if findings is None:
        # No line at all would read as a clean estate: say that nothing was evaluated.
        findings = [
            {
                "rule": "controls_not_evaluated",
                "title": "Controls not evaluated",
                "resource": f"scan:{doc['scan']['scan']}",
                "status": "not_assessed",
                "reason": "controls not evaluated: no rule evaluation is recorded for this scan",
                "severity": "high",
                "frameworks": {},
                "lifecycle": None,
                "waiver": None,
                "evidence": {},
                "first_seen_scan": None,
            }
        ]
    return [_event(f, doc, mapping) for f in findings]


def render_ocsf(doc: ReportDocument) -> str:
    """findings.ocsf.jsonl: one sorted JSON object per line."""
    return "".join(
        json.dumps(e, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
        for e in ocsf_events(doc)
    )


def _render(doc: ReportDocument, ctx: RenderContext) -> dict[str, str | bytes]:
    return {FILE: render_ocsf(doc)}


OCSF = Renderer("ocsf", _render, "findings.ocsf.jsonl: OCSF Compliance Finding events")
