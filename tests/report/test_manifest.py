"""Integrity: manifests hash every artifact, chain reports, and verification names what changed."""

from __future__ import annotations

import json
from pathlib import Path

from driftscan.report import ReportResult, verify_report_dir, write_report
from driftscan.report.manifest import MANIFEST, read_ledger
from tests.report.conftest import write_key
from tests.report.factory import make_report_data


def test_intact_signed_report_verifies(full_report: tuple[ReportResult, Path]) -> None:
    """A freshly written signed report verifies, also against its trusted key."""
    res, key = full_report
    assert res.signed
    assert verify_report_dir(res.folder) == []
    assert verify_report_dir(res.folder, trusted_key=key) == []
    names = {a["name"] for a in json.loads(res.manifest.read_text())["artifacts"]}  # type: ignore[union-attr]
    assert names == {"report.html", "report.pdf", "report.json", "findings.csv", "drift.csv",
                     "coverage.csv", "assessment-results.oscal.json", "findings.ocsf.jsonl",
                     "report.sarif", "junit.xml"}  # fmt: skip


def test_tampered_artifact_is_named(report_copy: Path) -> None:
    """Changing one byte of findings.csv makes verification fail and name that file."""
    p = report_copy / "findings.csv"
    p.write_bytes(p.read_bytes().replace(b"alarm", b"ok", 1))
    problems = verify_report_dir(report_copy)
    assert problems == ["findings.csv: altered (sha256 does not match the manifest)"]


def test_missing_and_added_files_are_named(report_copy: Path) -> None:
    """A deleted artifact and a file added after sealing are both reported by name."""
    (report_copy / "report.pdf").unlink()
    (report_copy / "extra.html").write_text("<p>not ours</p>")
    problems = verify_report_dir(report_copy)
    assert "report.pdf: missing" in problems
    assert any(p.startswith("extra.html: not listed") for p in problems)


def test_bad_signature_fails(report_copy: Path) -> None:
    """Editing the manifest (even re-hashing an artifact) breaks its signature."""
    m = json.loads((report_copy / MANIFEST).read_text())
    m["summary"]["failing"] = 0
    (report_copy / MANIFEST).write_text(json.dumps(m))
    problems = verify_report_dir(report_copy)
    assert any("signature does not match" in p for p in problems)


def test_resigned_with_another_key_fails_against_trusted_key(
    full_report: tuple[ReportResult, Path], tmp_path: Path
) -> None:
    """A report signed by some other key verifies on its own but not against the trusted key."""
    _, trusted = full_report
    other = write_key(tmp_path / "other.pem")
    res = write_report(make_report_data(5), tmp_path / "r", ["json"], signing_key=other)
    assert verify_report_dir(res.folder) == []
    assert verify_report_dir(res.folder, trusted_key=trusted) == [
        "manifest.json: signed by a key other than the trusted one"
    ]
    unsigned = write_report(make_report_data(5), tmp_path / "u", ["json"])
    assert verify_report_dir(unsigned.folder, trusted_key=trusted) == [
        "manifest.json: not signed, but a signature was required"
    ]


def test_reports_chain_through_the_ledger(tmp_path: Path) -> None:
    """Each manifest carries the previous manifest's hash; rewriting an old one breaks the chain."""
    root = tmp_path / "reports"
    first = write_report(make_report_data(5, scan_id=41), root, ["json"])
    second = write_report(make_report_data(5, scan_id=42), root, ["json"])
    again = write_report(make_report_data(5, scan_id=42), root, ["json"])
    assert [e.folder for e in read_ledger(root)] == ["scan-000041", "scan-000042", "scan-000042-2"]
    m2 = json.loads(second.manifest.read_text())  # type: ignore[union-attr]
    assert m2["previous"]["manifest_sha256"] == first.manifest_sha256
    assert m2["scan_chain_hash"] == f"{42:064x}"
    assert json.loads(again.manifest.read_text())["previous"]["folder"] == "scan-000042"  # type: ignore[union-attr]
    assert verify_report_dir(root) == []
    lines = (root / "ledger.jsonl").read_text().splitlines()
    (root / "ledger.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    assert verify_report_dir(root) == [
        "scan-000042-2: has a valid manifest but is not in the reports ledger (ledger.jsonl): "
        "written by a run that was killed before recording it; the next report written here "
        "records it"
    ]
    (root / "ledger.jsonl").write_text("\n".join(lines) + "\n")

    m1 = json.loads(first.manifest.read_text())  # type: ignore[union-attr]
    m1["summary"]["failing"] = 0
    first.manifest.write_text(json.dumps(m1))  # type: ignore[union-attr]
    assert verify_report_dir(root) == [
        "scan-000041/manifest.json: altered (differs from the hash in ledger.jsonl)"
    ]
    assert verify_report_dir(second.folder) == [
        "manifest.json: previous report's manifest (scan-000041) was altered or replaced"
    ]
