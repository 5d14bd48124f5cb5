"""JUnit XML: a testsuite per framework, drift and unmapped, read back with junitparser."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped, TestSuite

from driftscan.model import Finding
from driftscan.report import renderer, verify_report_dir, write_report
from driftscan.report.document import ReportDocument, document
from driftscan.report.junit import render_junit
from tests.report.factory import make_report_data


def _suites(xml: str) -> dict[str, TestSuite]:
    parsed = JUnitXml.fromstring(xml)
    return {s.name: s for s in parsed}


@pytest.fixture(scope="module")
def doc() -> ReportDocument:
    return document(make_report_data(60))


def test_a_suite_per_framework_plus_drift_and_unmapped(doc: ReportDocument) -> None:
    """Frameworks, `drift` and `unmapped` are the suites, and every finding is a testcase."""
    suites = _suites(render_junit(doc))
    assert set(suites) == {"pci-dss-4.0.1", "drift", "unmapped"}
    findings = doc["findings"] or []
    mapped = [f for f in findings if f["frameworks"]]
    assert suites["pci-dss-4.0.1"].tests == len(mapped)
    assert suites["unmapped"].tests == len(findings) - len(mapped)
    assert suites["drift"].tests == len(doc["drift"] or [])


def test_outcomes_follow_the_finding_status(doc: ReportDocument) -> None:
    """Alarm is a failure, not_assessed and error are errors, a waived alarm is skipped with
    its waiver; the suite counts agree with the cases."""
    suites = _suites(render_junit(doc))
    by_case = {}
    for name in ("pci-dss-4.0.1", "unmapped"):
        for case in suites[name]:
            by_case[(case.classname, case.name)] = case
    for f in doc["findings"] or []:
        case = by_case[(f["rule"], f["resource"])]
        kinds = [type(r) for r in case.result]
        if f["status"] == "alarm" and f["waiver"]:
            assert kinds == [Skipped]
            msg = case.result[0].message
            assert "alice" in msg and "SEC-12" in msg and "2027-01-31" in msg
        elif f["status"] == "alarm":
            assert kinds == [Failure] and case.result[0].message == f["reason"]
        elif f["status"] in ("not_assessed", "error"):
            assert kinds == [Error] and case.result[0].type == f["status"]
        elif f["status"] == "skip":
            assert kinds == [Skipped]
        else:
            assert kinds == []
    for s in suites.values():
        cases = list(s)
        assert s.failures == sum(1 for c in cases if any(isinstance(r, Failure) for r in c.result))
        assert s.errors == sum(1 for c in cases if any(isinstance(r, Error) for r in c.result))
        assert s.skipped == sum(1 for c in cases if any(isinstance(r, Skipped) for r in c.result))


def test_drift_cases_are_failures_naming_the_paths(doc: ReportDocument) -> None:
    """Each drifted resource fails in the drift suite; a changed one names its paths."""
    drift = _suites(render_junit(doc))["drift"]
    cases = {c.name: c for c in drift}
    assert drift.failures == len(doc["drift"] or [])
    rds = cases["arn:aws:rds:us-east-1:111122223333:db:payments-db"]
    assert "encrypted" in rds.result[0].message and "public" in rds.result[0].message
    assert cases["arn:aws:s3:::acme-reports"].result[0].type == "missing"


def test_not_evaluated_is_an_error_never_an_empty_suite() -> None:
    """A scan never checked nor diffed gives error cases, not green, empty suites."""
    data = make_report_data(10)
    data.findings, data.drift = None, None
    suites = _suites(render_junit(document(data)))
    assert suites["drift"].errors == 1 and suites["pci-dss-4.0.1"].errors == 1
    assert all(s.tests >= 1 for s in suites.values())


def test_attestations_are_cases_of_their_framework() -> None:
    """Attested passes, an expired attestation fails, a missing one is an error."""
    from driftscan.compliance.frameworks import FrameworkView, RequirementView

    data = make_report_data(10)
    att = {"owner": "bob", "statement": "reviewed", "evidence": "review.pdf",
           "sha256": "cd" * 32, "date": "2026-01-01", "expires": "2026-06-01"}  # fmt: skip
    data.frameworks = [
        FrameworkView("soc2", "SOC 2", None, 42, 0.0, [
            RequirementView("CC1.1", "Integrity", "attested", [], [], att),
            RequirementView("CC1.2", "Board", "attestation_expired", [], [], att,
                            reason="manual part: attestation expired 2026-06-01"),
            RequirementView("CC1.3", "Structure", "attestation_missing", [], [], None),
        ]),
    ]  # fmt: skip
    suite = _suites(render_junit(document(data)))["soc2"]
    cases = {c.name: c for c in suite}
    assert [type(r) for r in cases["CC1.1 Integrity"].result] == []
    (expired,) = cases["CC1.2 Board"].result
    assert isinstance(expired, Failure) and "expired 2026-06-01" in expired.message
    assert "owner: bob" in (expired.text or "")
    (missing,) = cases["CC1.3 Structure"].result
    assert isinstance(missing, Error) and missing.type == "attestation_missing"
    assert (suite.tests, suite.failures, suite.errors) == (3, 1, 1)


def test_clean_drift_is_one_passing_case() -> None:
    """Drift evaluated with nothing drifted reads as one passing case."""
    data = make_report_data(10)
    data.drift = []
    drift = _suites(render_junit(document(data)))["drift"]
    assert drift.tests == 1 and drift.failures == drift.errors == 0


def test_hostile_text_stays_well_formed_xml() -> None:
    """Control characters, markup and quotes in a reason or key still parse, as text."""
    data = make_report_data(5)
    assert data.findings is not None
    data.findings.append(
        Finding(
            rule="rule_39",
            resource='arn:aws:s3:::x"><injected/>\x00',
            status="alarm",
            reason="bell\x07 and ]]> and </failure><pwned/>",
            severity="high",
        )
    )
    xml = render_junit(document(data))
    case = next(c for c in _suites(xml)["unmapped"] if c.classname == "rule_39")
    assert "<pwned/>" in case.result[0].message and "\\u0007" in case.result[0].message
    assert "<injected/>" in case.name and "\x00" not in xml


def test_timestamps_are_whole_seconds_without_a_zone() -> None:
    """The suites' timestamp fits the JUnit schema's pattern (no fraction, no zone)."""
    data = make_report_data(5)
    data.scan = dataclasses.replace(
        data.scan, started_at=data.scan.started_at.replace(microsecond=521147)
    )
    for s in _suites(render_junit(document(data))).values():
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", str(s._elem.get("timestamp")))


def test_identical_documents_give_identical_bytes(doc: ReportDocument) -> None:
    """Two renders of the same document are byte-identical."""
    assert render_junit(doc) == render_junit(document(make_report_data(60)))


def test_registered_written_and_sealed(tmp_path: Path) -> None:
    """`junit` is a registered format; its file is in the manifest and tampering is named."""
    assert "junit" in renderer.names()
    res = write_report(make_report_data(20), tmp_path / "reports", ["junit"])
    assert set(res.artifacts) == {"junit.xml"}
    assert verify_report_dir(res.folder) == []
    path = res.folder / "junit.xml"
    path.write_text(path.read_text().replace('failures="', 'failures="0', 1))
    assert verify_report_dir(res.folder) == [
        "junit.xml: altered (sha256 does not match the manifest)"
    ]
