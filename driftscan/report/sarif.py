"""SARIF 2.1.0 (`sarif`, report.sarif): one run with driftscan as the tool, for code-scanning dashboards.

Every rule of the pack is a reportingDescriptor (id, title as shortDescription, description,
remediation as help, severity and the frameworks it evidences in properties). Results are
the findings that are not clean: an alarm is `kind: fail` with a level from its severity
(critical and high: error, medium: warning, low and info: note) and a waived alarm carries
the waiver as an accepted external suppression; `not_assessed` and `error` findings are
`kind: open` ("could not determine"), which SARIF requires to be `level: none`. So that an
unread source is never silent, the run's invocation is unsuccessful when the scan is
incomplete or controls were not evaluated, with one error notification per unread slice.
The resource is the result's logical location (kind `resource`, its name, and its key as
the fully qualified name). partialFingerprints (rule and resource) let a dashboard follow a finding
from scan to scan.
"""

from __future__ import annotations

from typing import Any

from driftscan.output import dumps
from driftscan.report.document import FindingDoc, ReportDocument
from driftscan.report.interchange import iso_utc, rule_frameworks, sha256_text
from driftscan.report.renderer import RenderContext, Renderer

FILE = "report.sarif"
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
# GitHub code scanning ranks security results by this property (a CVSS-like score).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
SHOWN = ("alarm", "not_assessed", "error")


def _text(s: str, fallback: str) -> dict[str, str]:
    return {"text": s or fallback}


def _descriptor(rid: str, doc: ReportDocument, fws: dict[str, list[str]]) -> dict[str, Any]:
    meta = doc["rules"].get(rid)
    title = meta["title"] if meta else ""
    severity = meta["severity"] if meta else ""
    props: dict[str, Any] = {
        "frameworks": fws,
        "tags": sorted({"compliance", *(f"{fw}:{r}" for fw, ids in fws.items() for r in ids)}),
    }
    if severity:
        props["severity"] = severity
        if severity in SECURITY_SEVERITY:
            props["security-severity"] = SECURITY_SEVERITY[severity]
    d: dict[str, Any] = {
        "id": rid,
        "name": rid,
        "shortDescription": _text(title, rid),
        "properties": props,
    }
    if meta and meta["description"]:
        d["fullDescription"] = {"text": meta["description"]}
    if meta and (meta["remediation"] or meta["risk"]):
        help_ = " ".join(x for x in (meta["risk"], meta["remediation"]) if x)
        d["help"] = {"text": help_}
    if severity in LEVELS:
        d["defaultConfiguration"] = {"level": LEVELS[severity]}
    return d


def _result(f: FindingDoc, index: int, name: str | None = None) -> dict[str, Any]:
    status = f["status"]
    r: dict[str, Any] = {"ruleId": f["rule"], "ruleIndex": index}
    if status == "alarm":
        r["kind"], r["level"] = "fail", LEVELS.get(f["severity"], "warning")
        text = f["reason"] or "alarm"
    else:
        r["kind"], r["level"] = "open", "none"
        text = f"{'Not assessed' if status == 'not_assessed' else 'Rule error'}: {f['reason']}"
    r["message"] = {"text": text}
    r["locations"] = [
        {
            "logicalLocations": [
                {
                    "name": name or f["resource"],
                    "fullyQualifiedName": f["resource"],
                    "kind": "resource",
                }
            ]
        }
    ]
    r["partialFingerprints"] = {
        "driftscanFinding/v1": sha256_text(f"{f['rule']}\x1f{f['resource']}")
    }
    props: dict[str, Any] = {"status": status, "severity": f["severity"]}
    if f["lifecycle"]:
        props["lifecycle"] = f["lifecycle"]
    if f["first_seen_scan"] is not None:
        props["first_seen_scan"] = f["first_seen_scan"]
    if f["frameworks"]:
        props["frameworks"] = f["frameworks"]
    if f["evidence"]:
        props["evidence"] = f["evidence"]
    r["properties"] = props
    w = f["waiver"]
    if w is not None and status == "alarm":
        sup: dict[str, Any] = {"kind": "external", "status": "accepted"}
        if w.get("reason"):
            sup["justification"] = str(w["reason"])
        extra = {k: w[k] for k in ("owner", "ticket", "expires") if w.get(k) is not None}
        if extra:
            sup["properties"] = extra
        r["suppressions"] = [sup]
    return r


def sarif_log(doc: ReportDocument) -> dict[str, Any]:
    """The SARIF log of the document as a JSON-able mapping."""
    mapping = rule_frameworks(doc)
    named = {f["rule"] for f in doc["findings"] or []}
    rule_ids = sorted(set(doc["rules"]) | named)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    names = {k: r["name"] for k, r in doc["resources"].items() if r["name"]}
    results = [
        _result(f, index[f["rule"]], names.get(f["resource"]))
        for f in doc["findings"] or []
        if f["status"] in SHOWN
    ]
    scan, report = doc["scan"], doc["report"]
    notes: list[dict[str, Any]] = []
    if doc["findings"] is None:
        notes.append(
            {"level": "error", "message": {"text": "controls not evaluated for this scan"}}
        )
    for s in doc["coverage"]["slices"]:
        if s["status"] != "ok":
            why = f"{s['source']} {s['name']}: not read ({s['reason'] or 'unknown'})"
            if s["detail"]:
                why += f": {s['detail']}"
            notes.append({"level": "error", "message": {"text": why}})
    invocation: dict[str, Any] = {
        "executionSuccessful": scan["status"] == "complete" and doc["findings"] is not None,
    }
    for k, v in (("startTimeUtc", scan["started_at"]), ("endTimeUtc", scan["finished_at"])):
        if iso_utc(v):
            invocation[k] = iso_utc(v)
    if notes:
        invocation["toolExecutionNotifications"] = notes
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "driftscan",
                "version": report["tool_version"],
                "semanticVersion": report["tool_version"],
                "rules": [_descriptor(rid, doc, mapping.get(rid, {})) for rid in rule_ids],
            }
        },
        "automationDetails": {"id": f"driftscan/scan-{scan['scan']}"},
        "invocations": [invocation],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "scan": scan["scan"],
            "scan_status": scan["status"],
            "coverage_pct": doc["summary"]["coverage_pct"],
            "chain_head": report["chain_head"],
            "scan_chain_hash": scan["chain_hash"],
            "rules_hash": report["rules_hash"],
            "organisation": report["organisation"],
            "findings": doc["summary"]["findings"],
        },
    }
    return {"$schema": SCHEMA, "version": VERSION, "runs": [run]}


def render_sarif(doc: ReportDocument) -> str:
    """report.sarif: sorted, indented JSON; byte-identical for identical documents."""
    return dumps(sarif_log(doc)) + "\n"


def _render(doc: ReportDocument, ctx: RenderContext) -> dict[str, str | bytes]:
    return {FILE: render_sarif(doc)}


SARIF = Renderer("sarif", _render, "report.sarif: SARIF 2.1.0 for code-scanning dashboards")
