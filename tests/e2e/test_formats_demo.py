"""`driftscan report --format oscal,ocsf,sarif,junit` on the demo's store: four files their validators accept."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from trestle.oscal.assessment_results import AssessmentResults

from tests.e2e.conftest import demo_env
from tests.report.test_sarif import validate as validate_sarif

FILES = ("assessment-results.oscal.json", "findings.ocsf.jsonl", "report.sarif", "junit.xml")


def _report(config: str, out: Path, scan: int) -> Path:
    # The demo's last scan by number: the README tour, sharing the folder, scans once more.
    proc = subprocess.run(
        [sys.executable, "-m", "driftscan", "report", "-c", config, "--scan", str(scan),
         "--format", "oscal,ocsf,sarif,junit", "--out", str(out)],
        capture_output=True, text=True, env=demo_env(), timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folders = sorted(p for p in out.iterdir() if p.is_dir())
    return folders[-1]


@pytest.mark.slow
def test_the_demo_in_four_interchange_formats(demo_dir: Path, tmp_path: Path) -> None:
    """Each file passes its validator, carries the demo's incidents, is sealed, and a second
    report of the same scan gives the same bytes."""
    summary = json.loads((demo_dir / ".driftscan-demo" / "summary.json").read_text())
    folder = _report(summary["config"], tmp_path / "out", summary["scans"][-1])
    assert {p.name for p in folder.iterdir()} == {*FILES, "manifest.json"}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert {a["name"] for a in manifest["artifacts"]} == set(FILES)

    # OSCAL: trestle's models accept it; the failing controls are findings.
    oscal = json.loads((folder / FILES[0]).read_text())["assessment-results"]
    AssessmentResults.model_validate(oscal)
    result = oscal["results"][0]
    props = {p["name"]: p["value"] for p in result["props"]}
    assert props["scan-status"] == "incomplete" and len(props["chain-head"]) == 64
    targets = {f["target"]["target-id"] for f in result["findings"]}
    assert targets and all(t.startswith("req-") for t in targets)
    assert len(result["observations"]) >= len(summary["incidents"])

    # OCSF: every line a Compliance Finding; resources of the scan carry type and region.
    lines = (folder / FILES[1]).read_text().splitlines()
    events = [json.loads(line) for line in lines]
    for e in events:
        ComplianceFinding.model_validate(e)
    rules = {i["rule"] for i in summary["incidents"]}
    failing = {e["compliance"]["control"] for e in events if e["compliance"]["status_id"] == 3}
    assert rules - {"coverage_slice_not_assessed"} <= failing
    typed = [e for e in events if "cloud" in e]
    assert typed and all(e["resources"][0].get("type") for e in typed)
    assert any(e["compliance"]["status_id"] == 0 for e in events)  # web-03 was not read

    # SARIF: the schema subset's required properties; the unread host is a tool error.
    sarif = json.loads((folder / FILES[2]).read_text())
    validate_sarif(sarif)
    run = sarif["runs"][0]
    assert {r["ruleId"] for r in run["results"] if r["kind"] == "fail"} >= rules - {
        "coverage_slice_not_assessed"
    }
    inv = run["invocations"][0]
    assert inv["executionSuccessful"] is False
    assert any("web-03" in n["message"]["text"] for n in inv["toolExecutionNotifications"])

    # JUnit: junitparser reads it; failures and errors are there, drift has its suite.
    xml = JUnitXml.fromfile(str(folder / FILES[3]))
    suites = {s.name: s for s in xml}
    assert "drift" in suites and suites["drift"].failures >= 1
    cases = [c for s in xml for c in s]
    assert any(isinstance(r, Failure) for c in cases for r in c.result)
    assert any(isinstance(r, Error) for c in cases for r in c.result)

    # verify-report: intact, and a tampered file is named.
    verify = [sys.executable, "-m", "driftscan", "verify-report", str(folder)]
    ok = subprocess.run(verify, capture_output=True, text=True, env=demo_env(), timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    again = _report(summary["config"], tmp_path / "out", summary["scans"][-1])
    assert again != folder
    for name in FILES:
        assert (again / name).read_bytes() == (folder / name).read_bytes(), name
    # Tamper with a copy: the store records the folder, and `verify` of the demo reads it.
    copy = tmp_path / "copy" / folder.name
    shutil.copytree(folder, copy)
    (copy / FILES[2]).write_text((copy / FILES[2]).read_text().replace('"fail"', '"pass"'))
    verify[-1] = str(copy)
    bad = subprocess.run(verify, capture_output=True, text=True, env=demo_env(), timeout=60)
    assert bad.returncode != 0 and "report.sarif" in bad.stdout + bad.stderr
