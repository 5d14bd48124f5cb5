"""JUnit XML (`junit`, junit.xml): a testsuite per framework, one for drift, one for unmapped rules.

Every CI system reads it. A testcase is one finding (classname the rule, name the resource)
in the suite of each framework its rule evidences; findings of rules in no framework go to
`unmapped`, and the `drift` suite holds one testcase per drifted resource. An unwaived alarm
is a <failure>, `not_assessed` and `error` are <error>s, a waived alarm is <skipped> with the
waiver (owner, ticket, expiry, reason) in its message, `skip` is <skipped>, `ok` passes.
The manual part of a framework is there too: a testcase (classname `attestation`) per
requirement that is attested (passes), whose attestation expired (<failure>) or is missing
(<error>). Controls or drift that were not evaluated are one <error> each, never an empty,
green suite.
Times are UTC without a zone (the JUnit schema's timestamp has none); `time` is 0 throughout,
as a finding has no duration.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from driftscan.report.document import FindingDoc, ReportDocument
from driftscan.report.interchange import aware, framework_statuses, rule_frameworks, xml_text
from driftscan.report.renderer import RenderContext, Renderer

FILE = "junit.xml"
DRIFT_SUITE = "drift"
UNMAPPED_SUITE = "unmapped"
# A manual requirement's attestation state as a testcase outcome (None passes) and its type.
ATTESTATION_OUTCOMES: dict[str, tuple[str | None, str]] = {
    "attested": (None, ""),
    "attestation_expired": ("failure", "attestation_expired"),
    "attestation_missing": ("error", "attestation_missing"),
}


class _Suite:
    """One testsuite as it is filled: its cases and their counts."""

    def __init__(self, name: str, title: str) -> None:
        self.name, self.title = name, title
        self.cases: list[ET.Element] = []
        self.counts = {"failures": 0, "errors": 0, "skipped": 0}

    def case(self, classname: str, name: str, outcome: str | None = None, **attrs: str) -> None:
        """A testcase; `outcome` is failure, error or skipped (None passes), with `attrs` on
        the outcome's element and its `text` as the element's body."""
        tc = ET.Element("testcase", {"classname": xml_text(classname), "name": xml_text(name)})
        tc.set("time", "0")
        if outcome is not None:
            text = attrs.pop("text", "")
            el = ET.SubElement(tc, outcome, {k: xml_text(v) for k, v in attrs.items()})
            if text:
                el.text = xml_text(text)
            self.counts["skipped" if outcome == "skipped" else outcome + "s"] += 1
        self.cases.append(tc)


def _j(v: Any) -> str:
    return json.dumps(v, sort_keys=True, ensure_ascii=False, default=str)


def _waiver_text(w: dict[str, Any]) -> str:
    parts = [f"waived by {w.get('owner') or 'unknown'}"]
    if w.get("ticket"):
        parts.append(f"ticket {w['ticket']}")
    if w.get("expires"):
        parts.append(f"expires {w['expires']}")
    return ", ".join(parts) + (f": {w['reason']}" if w.get("reason") else "")


def _finding_case(suite: _Suite, f: FindingDoc, reqs: list[str], doc: ReportDocument) -> None:
    meta = doc["rules"].get(f["rule"])
    lines = [f"rule: {f['rule']}" + (f" ({meta['title']})" if meta and meta["title"] else "")]
    if reqs:
        lines.append(f"requirements: {', '.join(reqs)}")
    lines += [f"severity: {f['severity']}", f"reason: {f['reason']}"]
    if f["lifecycle"]:
        lines.append(f"lifecycle: {f['lifecycle']}")
    if meta and meta["remediation"] and f["status"] == "alarm":
        lines.append(f"remediation: {meta['remediation']}")
    text = "\n".join(lines)
    status = f["status"]
    if status == "alarm" and f["waiver"] is not None:
        suite.case(f["rule"], f["resource"], "skipped", message=_waiver_text(f["waiver"]),
                   text=text)  # fmt: skip
    elif status == "alarm":
        suite.case(f["rule"], f["resource"], "failure", message=f["reason"], type=f["severity"],
                   text=text)  # fmt: skip
    elif status in ("not_assessed", "error"):
        suite.case(f["rule"], f["resource"], "error", message=f["reason"], type=status, text=text)
    elif status == "skip":
        suite.case(f["rule"], f["resource"], "skipped", message=f"skip: {f['reason']}", text=text)
    else:
        suite.case(f["rule"], f["resource"])


def _suites(doc: ReportDocument) -> list[_Suite]:
    mapping = rule_frameworks(doc)
    titles = {r["framework"]: r["framework_title"] for r in doc["requirements"]}
    suites: dict[str, _Suite] = {
        fw: _Suite(fw, titles.get(fw) or fw) for fws in mapping.values() for fw in fws
    }
    if doc["findings"] is None:
        for s in suites.values():
            s.case("driftscan", "controls", "error", message="controls not evaluated",
                   type="not_evaluated", text="no rule evaluation is recorded for this scan")  # fmt: skip
    for f in doc["findings"] or []:
        fws: dict[str, set[str]] = {fw: set(ids) for fw, ids in mapping.get(f["rule"], {}).items()}
        for fw, ids in f["frameworks"].items():
            fws.setdefault(fw, set()).update(ids)
        if not fws:
            fws = {UNMAPPED_SUITE: set()}
        for fw in sorted(fws):
            suite = suites.get(fw)
            if suite is None:
                title = "Rules in no framework" if fw == UNMAPPED_SUITE else titles.get(fw, fw)
                suite = suites[fw] = _Suite(fw, title)
            _finding_case(suite, f, sorted(fws[fw]), doc)
    # The manual part of a framework: its attestations are evidence too, and a missing or
    # expired one must not leave the suite green.
    for view in framework_statuses(doc):
        for req in view.requirements:
            if req.status not in ATTESTATION_OUTCOMES:
                continue
            suite = suites.get(view.framework)
            if suite is None:
                suite = suites[view.framework] = _Suite(view.framework, view.title)
            outcome, kind = ATTESTATION_OUTCOMES[req.status]
            a = req.attestation or {}
            lines = [f"requirement: {req.id}" + (f" ({req.title})" if req.title else ""),
                     f"status: {req.status}"]  # fmt: skip
            lines += [f"{k}: {a[k]}" for k in ("owner", "statement", "evidence", "sha256",
                                                "date", "expires") if a.get(k)]  # fmt: skip
            name = f"{req.id} {req.title}".strip()
            if outcome is None:
                suite.case("attestation", name)
            else:
                why = req.reason or req.status.replace("_", " ")
                suite.case("attestation", name, outcome, message=why, type=kind,
                           text="\n".join(lines))  # fmt: skip
    drift = _Suite(DRIFT_SUITE, "Drift from the declared state")
    if doc["drift"] is None:
        drift.case("driftscan", "drift", "error", message="drift not evaluated", type="not_evaluated",
                   text="no diff against the declared state is recorded for this scan")  # fmt: skip
    elif not doc["drift"]:
        drift.case("driftscan", "declared state", text="")  # nothing differs: one passing case
    for d in doc["drift"] or []:
        lines = [f"kind: {d['kind']}", f"type: {d['type']}"]
        if d["desired_source"]:
            lines.append(f"declared in: {d['desired_source']}")
        lines += [
            f"{c['path']}: desired {_j(c['desired'])}, actual {_j(c['actual'])}"
            for c in d["changes"]
        ]
        what = {"missing": "declared but missing", "unmanaged": "not declared"}.get(d["kind"])
        message = what or "differs from its declaration: " + ", ".join(
            str(c["path"]) for c in d["changes"]
        )
        drift.case(f"drift.{d['kind']}", d["resource"], "failure", message=message,
                   type=d["kind"], text="\n".join(lines))  # fmt: skip
    return [*(suites[k] for k in sorted(suites)), drift]


def render_junit(doc: ReportDocument) -> str:
    """junit.xml for the document: deterministic, UTF-8, one testsuite per framework."""
    started = aware(doc["scan"]["started_at"])
    stamp = started.replace(tzinfo=None, microsecond=0).isoformat() if started else None
    props = {
        "scan": str(doc["scan"]["scan"]),
        "scan_status": doc["scan"]["status"],
        "coverage_pct": str(doc["summary"]["coverage_pct"]),
        "chain_head": doc["report"]["chain_head"],
        "rules_hash": doc["report"]["rules_hash"],
        "tool_version": doc["report"]["tool_version"],
    }
    root = ET.Element("testsuites", {"name": f"driftscan scan {doc['scan']['scan']}"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for i, s in enumerate(_suites(doc)):
        el = ET.SubElement(root, "testsuite", {"name": xml_text(s.name), "id": str(i)})
        el.set("tests", str(len(s.cases)))
        for k, v in s.counts.items():
            el.set(k, str(v))
        el.set("time", "0")
        if stamp:
            el.set("timestamp", stamp)
        el.set("hostname", "driftscan")
        pe = ET.SubElement(el, "properties")
        for k, text in {"title": s.title, **props}.items():
            ET.SubElement(pe, "property", {"name": k, "value": xml_text(text)})
        el.extend(s.cases)
        totals["tests"] += len(s.cases)
        for k, v in s.counts.items():
            totals[k] += v
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("time", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _render(doc: ReportDocument, ctx: RenderContext) -> dict[str, str | bytes]:
    return {FILE: render_junit(doc)}


JUNIT = Renderer("junit", _render, "junit.xml: a testsuite per framework, drift and unmapped")
