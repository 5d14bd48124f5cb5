"""OCSF Compliance Finding JSON lines, validated with py-ocsf-models."""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.objects.cloud import Cloud
from pydantic import ValidationError

from driftscan.report import renderer, verify_report_dir, write_report
from driftscan.report.data import ReportData, ResourceRef
from driftscan.report.document import document
from driftscan.report.ocsf import render_ocsf
from tests.report.factory import make_report_data


def _data() -> ReportData:
    data = make_report_data(60)
    data.resources = {
        f.resource: ResourceRef(f.resource, "aws", "AWS::S3::Bucket", "aws-prod",
                                "111122223333", "eu-west-1", f.resource.rsplit(":", 1)[-1])
        for f in data.findings or [] if "bucket-0000" in f.resource
    }  # fmt: skip
    return data


def _lines(text: str) -> list[dict[str, Any]]:
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return _lines(render_ocsf(document(_data())))


def test_every_line_is_a_valid_compliance_finding(events: list[dict[str, Any]]) -> None:
    """Each line validates as ComplianceFinding (class 2003), one per finding; the validator
    refuses a line without its compliance object."""
    data = _data()
    assert len(events) == len(data.findings or [])
    for e in events:
        model = ComplianceFinding.model_validate(e)
        assert model.class_uid == 2003 and model.category_uid == 2 and model.type_uid == 200301
        assert e["metadata"]["version"].startswith("1.")
    broken = dict(events[0])
    del broken["compliance"]
    with pytest.raises(ValidationError):
        ComplianceFinding.model_validate(broken)


def test_status_severity_and_compliance_follow_the_finding(events: list[dict[str, Any]]) -> None:
    """ok passes, alarm fails, not_assessed is unknown; a waived alarm is suppressed."""
    findings = {(f.rule, f.resource): f for f in _data().findings or []}
    for e in events:
        f = findings[(e["compliance"]["control"], e["resources"][0]["uid"])]
        assert e["compliance"]["status_id"] == {"ok": 1, "alarm": 3, "not_assessed": 0}.get(
            f.status, 99
        )
        assert (
            e["severity_id"]
            == {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}[f.severity]
        )
        assert e["status_detail"] == f.reason and e["status_code"] == f.status
        if f.status == "alarm":
            assert e["status"] == ("Suppressed" if f.waiver else "New")
            assert (e["unmapped"]["waiver"] is not None) == bool(f.waiver)
        if f.frameworks:
            assert e["compliance"]["standards"] == ["pci-dss-4.0.1"]
            assert e["compliance"]["requirements"] == [
                f"pci-dss-4.0.1:{r}" for r in f.frameworks["pci-dss-4.0.1"]
            ]


def test_resources_carry_type_region_and_cloud_provider(events: list[dict[str, Any]]) -> None:
    """A known resource has uid, type, region and the cloud profile's provider and account;
    an unknown one only its uid and no cloud claim."""
    known = [e for e in events if "bucket-0000" in e["resources"][0]["uid"]]
    assert known
    for e in known:
        res = e["resources"][0]
        assert res["type"] == "AWS::S3::Bucket" and res["region"] == "eu-west-1"
        assert res["data"]["provider"] == "aws"
        cloud = Cloud.model_validate(e["cloud"])
        assert cloud.provider == "aws" and cloud.account is not None
        assert cloud.account.uid == "111122223333"
        assert e["metadata"]["profiles"] == ["cloud"]
    unknown = [e for e in events if "evil-" in e["resources"][0]["uid"]]
    assert unknown and "cloud" not in unknown[0] and set(unknown[0]["resources"][0]) == {"uid"}


def test_metadata_names_the_product_and_the_scan_time(events: list[dict[str, Any]]) -> None:
    """Product driftscan with its version; logged and event time are the scan's end (ms)."""
    data = _data()
    end_ms = int(data.scan.finished_at.replace(tzinfo=UTC).timestamp() * 1000)
    for e in events:
        assert e["metadata"]["product"]["name"] == "driftscan"
        assert e["metadata"]["product"]["version"] == data.tool_version
        assert e["metadata"]["logged_time"] == e["time"] == end_ms
    uids = [e["finding_info"]["uid"] for e in events]
    assert len(set(uids)) == len(uids)


def test_no_evaluation_is_one_unknown_event_not_an_empty_file() -> None:
    """A scan never checked gives one not-assessed event, never an empty (clean) stream."""
    data = _data()
    data.findings = None
    (e,) = _lines(render_ocsf(document(data)))
    ComplianceFinding.model_validate(e)
    assert e["compliance"]["status_id"] == 0 and "not evaluated" in e["status_detail"]


def test_identical_documents_give_identical_bytes() -> None:
    """Two renders of equal documents are byte-identical, keys sorted."""
    a, b = render_ocsf(document(_data())), render_ocsf(document(_data()))
    assert a == b
    first = a.splitlines()[0]
    assert first == json.dumps(json.loads(first), sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False)  # fmt: skip


def test_registered_written_and_sealed(tmp_path: Path) -> None:
    """`ocsf` is registered; its file is in the manifest and a dropped line is named."""
    assert "ocsf" in renderer.names()
    res = write_report(_data(), tmp_path / "reports", ["ocsf"])
    assert set(res.artifacts) == {"findings.ocsf.jsonl"}
    assert verify_report_dir(res.folder) == []
    path = res.folder / "findings.ocsf.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[1:]))
    assert verify_report_dir(res.folder) == [
        "findings.ocsf.jsonl: altered (sha256 does not match the manifest)"
    ]
