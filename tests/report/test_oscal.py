"""OSCAL assessment-results: validated with compliance-trestle's models, deterministic, sealed."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, cast

import pytest
from pydantic import ValidationError
from trestle.oscal.assessment_results import AssessmentResults

from driftscan.report import renderer, verify_report_dir, write_report
from driftscan.report.data import ResourceRef
from driftscan.report.document import ReportDocument, document
from driftscan.report.oscal import render_oscal
from tests.report.factory import make_report_data


def _doc(n: int = 60) -> ReportDocument:
    data = make_report_data(n)
    data.resources = {
        f.resource: ResourceRef(f.resource, "aws", "AWS::S3::Bucket", "aws-prod",
                                "111122223333", "eu-west-1")
        for f in data.findings or [] if "bucket-" in f.resource
    }  # fmt: skip
    return document(data)


def _ar(text: str) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(text)["assessment-results"])


def _trestle(text: str) -> AssessmentResults:
    return AssessmentResults.model_validate(_ar(text))


ATTESTED = {
    "owner": "alice",
    "statement": "Quarterly access review done",
    "evidence": "evidence/review-q3.pdf",
    "sha256": "ab" * 32,
    "date": "2026-10-01",
    "expires": "2027-01-01",
    "state": "attested",
}


def _with_views(doc: ReportDocument) -> ReportDocument:
    """`doc` with framework views (the report data's FrameworkView as JSON): one requirement
    per status, one of them attested and one with an expired attestation."""
    d = cast(dict[str, Any], dict(doc))
    reqs = [
        ("3.1", "failed", ["rule_00"], None),
        ("3.2", "not_assessed", ["rule_01"], None),
        ("3.3", "passed", ["rule_02"], None),
        ("12.1", "attested", [], ATTESTED),
        ("12.2", "attestation_expired", [], {**ATTESTED, "expires": "2026-01-01", "state": "expired"}),
        ("12.3", "attestation_missing", [], None),
    ]  # fmt: skip
    d["frameworks"] = [
        {
            "framework": "pci-dss-4.0.1",
            "title": "PCI DSS v4.0.1",
            "version": "4.0.1",
            "scan": 42,
            "automated_share": 0.5,
            "requirements": [
                {
                    "id": i,
                    "title": f"Requirement {i}",
                    "status": s,
                    "rules": r,
                    "resources": ["arn:aws:s3:::bucket-000000"] if r else [],
                    "attestation": a,
                }
                for i, s, r, a in reqs
            ],
        }
    ]
    return cast(ReportDocument, d)


def test_trestle_accepts_the_document() -> None:
    """compliance-trestle's AssessmentResults parses the output, and refuses it broken."""
    text = render_oscal(_doc())
    ar = _trestle(text)
    assert ar.metadata.oscal_version.root.root == "1.1.2"
    assert len(ar.results) == 1
    broken = _ar(text)
    broken["results"][0]["findings"][0]["target"]["target-id"] = "1.3.1"  # not a token
    with pytest.raises(ValidationError):
        AssessmentResults.model_validate(broken)


def test_one_result_with_the_scan_times_and_chain_head() -> None:
    """The result spans the scan; its props carry the chain head and the hashes."""
    doc = _doc()
    (result,) = _ar(render_oscal(doc))["results"]
    assert result["start"] == "2026-12-13T02:00:00Z" and result["end"] == "2026-12-13T02:07:00Z"
    props = {p["name"]: p["value"] for p in result["props"]}
    assert props["chain-head"] == doc["report"]["chain_head"]
    assert props["scan-chain-hash"] == doc["scan"]["chain_hash"]
    assert props["rules-hash"] == doc["report"]["rules_hash"]
    assert props["scan"] == "42"


def test_an_observation_per_finding_with_subject_and_evidence_hash() -> None:
    """Every finding is a TEST observation of its resource, collected at the scan's end."""
    doc = _doc()
    result = _ar(render_oscal(doc))["results"][0]
    obs = result["observations"]
    findings = doc["findings"] or []
    assert len(obs) == len(findings)
    items = {i["uuid"]: i for i in result["local-definitions"]["inventory-items"]}
    for o in obs:
        assert o["methods"] == ["TEST"] and o["collected"] == "2026-12-13T02:07:00Z"
        (subject,) = o["subjects"]
        assert subject["type"] == "inventory-item" and subject["subject-uuid"] in items
        ev = {p["name"]: p["value"] for p in o["relevant-evidence"][0]["props"]}
        assert len(ev["evidence-sha256"]) == 64
    bucket = next(i for i in items.values() if i["description"] == "arn:aws:s3:::bucket-000000")
    assert {
        "name": "asset-type",
        "ns": "urn:driftscan:oscal",
        "value": "AWS::S3::Bucket",
    } in bucket["props"]


def test_reviewed_controls_and_findings_from_the_mappings() -> None:
    """Without framework views, each mapped requirement is reviewed as `req-<id>`, and the
    failing ones are findings targeting it, related to their alarms' observations."""
    doc = _doc()
    result = _ar(render_oscal(doc))["results"][0]
    (sel,) = result["reviewed-controls"]["control-selections"]
    assert [c["control-id"] for c in sel["include-controls"]] == [
        "req-3.1", "req-3.2", "req-3.3", "req-3.4"
    ]  # fmt: skip
    targets = {f["target"]["target-id"]: f for f in result["findings"]}
    assert set(targets) == {"req-3.1", "req-3.2", "req-3.3", "req-3.4"}
    obs = {o["uuid"]: o for o in result["observations"]}
    f31 = targets["req-3.1"]
    assert f31["target"]["status"] == {"state": "not-satisfied", "reason": "fail"}
    related = [obs[r["observation-uuid"]] for r in f31["related-observations"]]
    assert related and all(
        {"name": "status", "ns": "urn:driftscan:oscal", "value": "alarm"} in o["props"]
        for o in related
    )


def test_framework_views_give_each_status_and_attestations_are_examined() -> None:
    """With views: failed, not-assessed and unattested requirements are findings; passed and
    attested are not; attestations are EXAMINE observations with their evidence's sha256."""
    text = render_oscal(_with_views(_doc()))
    _trestle(text)
    result = _ar(text)["results"][0]
    found = {f["target"]["target-id"]: f["target"]["status"] for f in result["findings"]}
    assert found == {
        "req-3.1": {"state": "not-satisfied", "reason": "fail"},
        "req-3.2": {"state": "not-satisfied", "reason": "other", "remarks": "not assessed"},
        "req-12.2": {"state": "not-satisfied", "reason": "other", "remarks": "attestation expired"},
        "req-12.3": {"state": "not-satisfied", "reason": "other", "remarks": "attestation missing"},
    }
    examined = [o for o in result["observations"] if o["methods"] == ["EXAMINE"]]
    assert len(examined) == 2
    ok = next(o for o in examined if o["description"] == "Quarterly access review done")
    ev = ok["relevant-evidence"][0]
    assert ev["href"] == "evidence/review-q3.pdf"
    assert ev["props"][0]["value"] == "ab" * 32
    assert ok["collected"].startswith("2026-10-01")
    sel = result["reviewed-controls"]["control-selections"][0]
    props = {p["name"]: p["value"] for p in sel["props"]}
    assert props["framework"] == "pci-dss-4.0.1" and props["version"] == "4.0.1"


def test_the_report_datas_framework_views_reach_the_document() -> None:
    """FrameworkView objects on the report data drive the findings (not a derivation), with
    their reasons, and the document lists a bounded number of resources per requirement."""
    from driftscan.compliance.frameworks import FrameworkView, RequirementView
    from driftscan.report.document import RESOURCES_PER_REQUIREMENT

    data = make_report_data(20)
    many = [f"arn:aws:s3:::bucket-{i:06d}" for i in range(RESOURCES_PER_REQUIREMENT + 5)]
    data.frameworks = [
        FrameworkView("pci-dss-4.0.1", "PCI DSS v4.0.1", "4.0.1", 42, 1.0, [
            RequirementView("1.3.1", "Inbound traffic", "failed", ["rule_00"], many, None,
                            reason="2 alarm(s) from rule_00"),
            RequirementView("3.5.1", "PAN unreadable", "passed", ["rule_01"], [], None),
        ]),
    ]  # fmt: skip
    doc = document(data)
    (fw,) = doc["frameworks"]
    assert len(fw["requirements"][0]["resources"]) == RESOURCES_PER_REQUIREMENT
    assert fw["requirements"][0]["resources_total"] == len(many)
    text = render_oscal(doc)
    _trestle(text)
    result = _ar(text)["results"][0]
    (finding,) = result["findings"]
    assert finding["target"]["target-id"] == "req-1.3.1"
    assert "2 alarm(s) from rule_00" in finding["description"]
    assert f"and {len(many) - 20} more" in finding["description"]
    sel = result["reviewed-controls"]["control-selections"][0]
    assert {"name": "statuses-from", "ns": "urn:driftscan:oscal", "value": "views"} in sel["props"]
    assert [c["control-id"] for c in sel["include-controls"]] == ["req-1.3.1", "req-3.5.1"]


def test_uuids_are_version_5_and_follow_the_content() -> None:
    """Every UUID is v5; equal documents give byte-identical files, a changed one a new id."""
    a, b = render_oscal(_doc()), render_oscal(_doc())
    assert a == b
    ids = [v for k, v in _walk(json.loads(a)) if k in ("uuid", "subject-uuid", "observation-uuid")]
    assert ids and all(uuid.UUID(i).version == 5 for i in ids)
    other = render_oscal(_doc(61))
    assert _ar(other)["uuid"] != _ar(a)["uuid"]


def test_hostile_requirement_ids_become_tokens_and_unevaluated_scans_validate() -> None:
    """A requirement id with spaces or slashes is still a token; a scan never checked gives
    a valid document whose requirements are not assessed."""
    data = make_report_data(10)
    data.findings = None
    from driftscan.report.data import Requirement

    data.requirements.append(Requirement("weird", "A 1/2 <x>", ("rule_00",), "odd"))
    text = render_oscal(document(data))
    _trestle(text)
    result = _ar(text)["results"][0]
    targets = {f["target"]["target-id"] for f in result["findings"]}
    assert "req-A_1_2__x_" in targets and "req-3.1" in targets
    assert "observations" not in result and "not evaluated" in result["remarks"]


def test_hostile_keys_and_reasons_stay_valid() -> None:
    """A resource key or reason with newlines, markup and control characters still gives a
    document trestle accepts, the key kept whole in the inventory."""
    from driftscan.model import Finding

    data = make_report_data(5)
    assert data.findings is not None
    key = "arn:aws:s3:::x\n<script>\x07 "
    data.findings.append(
        Finding("rule_00", key, "alarm", "  line one\nline two\x00 ", "high",
                frameworks={"pci-dss-4.0.1": ["3.1"]})
    )  # fmt: skip
    text = render_oscal(document(data))
    _trestle(text)
    items = _ar(text)["results"][0]["local-definitions"]["inventory-items"]
    assert any(i["description"].startswith(key) for i in items)


def test_registered_written_and_sealed(tmp_path: Path) -> None:
    """`oscal` is registered; its file is in the manifest and tampering is named."""
    assert "oscal" in renderer.names()
    data = make_report_data(20)
    res = write_report(data, tmp_path / "reports", ["oscal", "json"])
    assert set(res.artifacts) == {"assessment-results.oscal.json", "report.json"}
    assert verify_report_dir(res.folder) == []
    path = res.folder / "assessment-results.oscal.json"
    path.write_text(path.read_text().replace('"fail"', '"pass"'))
    assert verify_report_dir(res.folder) == [
        "assessment-results.oscal.json: altered (sha256 does not match the manifest)"
    ]


def _walk(v: Any) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if isinstance(v, dict):
        for k, x in v.items():
            out.append((k, x))
            out += _walk(x)
    elif isinstance(v, list):
        for x in v:
            out += _walk(x)
    return out
