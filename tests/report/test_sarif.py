"""SARIF 2.1.0: checked against the schema's required properties, enums and closed objects.

No PyPI package ships the OASIS SARIF 2.1.0 JSON schema, so SCHEMA below is a subset written
from it (sarif-schema-2.1.0.json): for every object driftscan writes, its required
properties, its enums, and `additionalProperties: false` with the properties the schema
defines, which is how the official schema closes them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from driftscan.report import renderer, verify_report_dir, write_report
from driftscan.report.document import ReportDocument, document
from driftscan.report.sarif import render_sarif, sarif_log
from tests.report.factory import make_report_data

LEVEL = {"enum": ["none", "note", "warning", "error"]}
BAG = {
    "type": "object",
    "properties": {"tags": {"type": "array", "uniqueItems": True, "items": {"type": "string"}}},
}


def _closed(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": props}
    if required:
        out["required"] = required
    return out


D = "#/definitions/"
SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    **_closed(
        {
            "$schema": {"type": "string", "format": "uri"},
            "version": {"enum": ["2.1.0"]},
            "runs": {"type": "array", "items": {"$ref": D + "run"}},
            "properties": {"$ref": D + "propertyBag"},
        },
        ["version", "runs"],
    ),
    "definitions": {
        "propertyBag": BAG,
        "message": {
            **_closed(
                {
                    "text": {"type": "string"},
                    "markdown": {"type": "string"},
                    "id": {"type": "string"},
                    "arguments": {"type": "array", "items": {"type": "string"}},
                    "properties": {"$ref": D + "propertyBag"},
                }
            ),
            "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
        },
        "multiformatMessageString": _closed(
            {
                "text": {"type": "string"},
                "markdown": {"type": "string"},
                "properties": {"$ref": D + "propertyBag"},
            },
            ["text"],
        ),
        "run": _closed(
            {
                "tool": {"$ref": D + "tool"},
                "invocations": {"type": "array", "items": {"$ref": D + "invocation"}},
                "results": {"type": "array", "items": {"$ref": D + "result"}},
                "automationDetails": _closed(
                    {"id": {"type": "string"}, "guid": {"type": "string"}}
                ),
                "columnKind": {"enum": ["utf16CodeUnits", "unicodeCodePoints"]},
                "properties": {"$ref": D + "propertyBag"},
            },
            ["tool"],
        ),
        "tool": _closed(
            {"driver": {"$ref": D + "toolComponent"}, "properties": {"$ref": D + "propertyBag"}},
            ["driver"],
        ),
        "toolComponent": _closed(
            {
                "name": {"type": "string"},
                "version": {"type": "string"},
                "semanticVersion": {"type": "string"},
                "informationUri": {"type": "string", "format": "uri"},
                "rules": {
                    "type": "array",
                    "uniqueItems": True,
                    "items": {"$ref": D + "reportingDescriptor"},
                },
                "properties": {"$ref": D + "propertyBag"},
            },
            ["name"],
        ),
        "reportingDescriptor": _closed(
            {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "shortDescription": {"$ref": D + "multiformatMessageString"},
                "fullDescription": {"$ref": D + "multiformatMessageString"},
                "help": {"$ref": D + "multiformatMessageString"},
                "helpUri": {"type": "string", "format": "uri"},
                "defaultConfiguration": _closed(
                    {
                        "enabled": {"type": "boolean"},
                        "level": LEVEL,
                        "rank": {"type": "number", "minimum": -1, "maximum": 100},
                        "properties": {"$ref": D + "propertyBag"},
                    }
                ),
                "properties": {"$ref": D + "propertyBag"},
            },
            ["id"],
        ),
        "invocation": _closed(
            {
                "executionSuccessful": {"type": "boolean"},
                "startTimeUtc": {"type": "string", "format": "date-time"},
                "endTimeUtc": {"type": "string", "format": "date-time"},
                "toolExecutionNotifications": {
                    "type": "array",
                    "items": _closed(
                        {
                            "message": {"$ref": D + "message"},
                            "level": LEVEL,
                            "properties": {"$ref": D + "propertyBag"},
                        },
                        ["message"],
                    ),
                },
                "properties": {"$ref": D + "propertyBag"},
            },
            ["executionSuccessful"],
        ),
        "result": _closed(
            {
                "ruleId": {"type": "string"},
                "ruleIndex": {"type": "integer", "minimum": -1},
                "kind": {
                    "enum": ["notApplicable", "pass", "fail", "review", "open", "informational"]
                },
                "level": LEVEL,
                "message": {"$ref": D + "message"},
                "locations": {"type": "array", "items": {"$ref": D + "location"}},
                "partialFingerprints": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                },
                "suppressions": {
                    "type": "array",
                    "uniqueItems": True,
                    "items": _closed(
                        {
                            "kind": {"enum": ["inSource", "external"]},
                            "status": {"enum": ["accepted", "underReview", "rejected"]},
                            "justification": {"type": "string"},
                            "guid": {"type": "string"},
                            "properties": {"$ref": D + "propertyBag"},
                        },
                        ["kind"],
                    ),
                },
                "properties": {"$ref": D + "propertyBag"},
            },
            ["message"],
        ),
        "location": _closed(
            {
                "id": {"type": "integer", "minimum": -1},
                "logicalLocations": {
                    "type": "array",
                    "items": _closed(
                        {
                            "name": {"type": "string"},
                            "index": {"type": "integer", "minimum": -1},
                            "fullyQualifiedName": {"type": "string"},
                            "decoratedName": {"type": "string"},
                            "parentIndex": {"type": "integer", "minimum": -1},
                            "kind": {"type": "string"},
                            "properties": {"$ref": D + "propertyBag"},
                        }
                    ),
                },
                "message": {"$ref": D + "message"},
                "properties": {"$ref": D + "propertyBag"},
            }
        ),
    },
}


def validate(log: dict[str, Any]) -> None:
    jsonschema.Draft7Validator(
        SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    ).validate(log)
    for run in log["runs"]:
        rules = run["tool"]["driver"]["rules"]
        for r in run["results"]:
            # §3.27.9/10: a result that is not a failure has level none; ruleIndex points
            # at the descriptor of ruleId.
            if r.get("kind", "fail") != "fail":
                assert r.get("level", "none") == "none"
            assert rules[r["ruleIndex"]]["id"] == r["ruleId"]


@pytest.fixture(scope="module")
def doc() -> ReportDocument:
    return document(make_report_data(80))


def test_the_log_satisfies_the_schema(doc: ReportDocument) -> None:
    """The log validates, and the validator rejects a log missing a required property."""
    log = json.loads(render_sarif(doc))
    validate(log)
    broken = json.loads(render_sarif(doc))
    del broken["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        validate(broken)
    stray = json.loads(render_sarif(doc))
    stray["runs"][0]["results"][0]["resource"] = "x"
    with pytest.raises(jsonschema.ValidationError):
        validate(stray)


def test_results_are_alarms_and_not_assessed_findings(doc: ReportDocument) -> None:
    """One result per alarm, not_assessed and error finding; nothing for ok and skip."""
    run = sarif_log(doc)["runs"][0]
    findings = doc["findings"] or []
    shown = [f for f in findings if f["status"] in ("alarm", "not_assessed", "error")]
    assert len(run["results"]) == len(shown) > 0
    by = {(r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]): r
          for r in run["results"]}  # fmt: skip
    for f in shown:
        r = by[(f["rule"], f["resource"])]
        if f["status"] == "alarm":
            want = {"critical": "error", "high": "error", "medium": "warning"}.get(
                f["severity"], "note"
            )
            assert (r["kind"], r["level"]) == ("fail", want)
            assert r["message"]["text"] == f["reason"]
        else:
            assert (r["kind"], r["level"]) == ("open", "none")
            assert f["reason"] in r["message"]["text"]
        assert r["locations"][0]["logicalLocations"][0]["kind"] == "resource"
        assert ("suppressions" in r) == (f["waiver"] is not None)


def test_a_waived_alarm_is_an_accepted_suppression(doc: ReportDocument) -> None:
    """The waiver's reason is the justification; owner, ticket and expiry ride along."""
    run = sarif_log(doc)["runs"][0]
    waived = [r for r in run["results"] if "suppressions" in r]
    assert len(waived) == 1
    sup = waived[0]["suppressions"][0]
    assert sup["kind"] == "external" and sup["status"] == "accepted"
    assert sup["justification"] == "legacy bucket, migration planned"
    assert sup["properties"] == {"owner": "alice", "ticket": "SEC-12", "expires": "2027-01-31"}


def test_rules_are_descriptors_with_help_and_frameworks(doc: ReportDocument) -> None:
    """Every rule is a descriptor: title, remediation as help, the frameworks it evidences."""
    rules = {r["id"]: r for r in sarif_log(doc)["runs"][0]["tool"]["driver"]["rules"]}
    assert set(doc["rules"]) <= set(rules)
    r0 = rules["rule_00"]
    assert r0["shortDescription"]["text"] == "Storage encrypted (rule_00)"
    assert "Enable default encryption" in r0["help"]["text"]
    assert r0["properties"]["frameworks"] == {"pci-dss-4.0.1": ["3.1"]}
    assert "pci-dss-4.0.1:3.1" in r0["properties"]["tags"]
    assert rules["rule_39"]["properties"]["frameworks"] == {}


def test_an_incomplete_scan_is_an_unsuccessful_invocation(doc: ReportDocument) -> None:
    """Unread slices are error notifications and the invocation did not succeed."""
    inv = sarif_log(doc)["runs"][0]["invocations"][0]
    assert inv["executionSuccessful"] is False
    texts = [n["message"]["text"] for n in inv["toolExecutionNotifications"]]
    assert len(texts) == 2 and any("web-02" in t and "unreachable" in t for t in texts)
    data = make_report_data(10)
    data.findings = None
    log = sarif_log(document(data))
    validate(log)
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("controls not evaluated" in n["message"]["text"] for n in notes)


def test_a_known_resource_is_located_by_name_and_key() -> None:
    """A resource of the scan is named by its name, and fully by its key."""
    from driftscan.report.data import ResourceRef

    data = make_report_data(40)
    key = "arn:aws:s3:::bucket-000015"
    data.resources = {key: ResourceRef(key, "aws", "AWS::S3::Bucket", name="bucket-000015")}
    run = sarif_log(document(data))["runs"][0]
    locs = [r["locations"][0]["logicalLocations"][0] for r in run["results"]]
    mine = next(x for x in locs if x["fullyQualifiedName"] == key)
    assert mine["name"] == "bucket-000015"
    assert all(x["name"] == x["fullyQualifiedName"] for x in locs if x is not mine)


def test_identical_documents_give_identical_bytes(doc: ReportDocument) -> None:
    """Two renders of equal documents are byte-identical."""
    assert render_sarif(doc) == render_sarif(document(make_report_data(80)))


def test_registered_written_and_sealed(tmp_path: Path) -> None:
    """`sarif` is registered; report.sarif is in the manifest and tampering is named."""
    assert "sarif" in renderer.names()
    res = write_report(make_report_data(20), tmp_path / "reports", ["sarif"])
    assert set(res.artifacts) == {"report.sarif"}
    assert verify_report_dir(res.folder) == []
    path = res.folder / "report.sarif"
    path.write_text(path.read_text().replace('"error"', '"note"'))
    assert verify_report_dir(res.folder) == [
        "report.sarif: altered (sha256 does not match the manifest)"
    ]
