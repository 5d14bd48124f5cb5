"""`driftscan demo` end to end, in its own process: every seeded incident is found by the right rule."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import demo_env

EXPECTED_RULES = {
    "data_residency_region": 2,
    "lb_target_instance_gone": 1,
    "drift_unmanaged_in_scope": 1,
    "host_file_hash": 2,
    "host_container_digest": 1,
    "drift_changed_in_scope": 1,
    "host_clock_offset": 1,
    "host_package_version_skew": 1,
    "host_cert_expiry": 1,
    "acm_certificate_expiry": 1,
    "coverage_slice_not_assessed": 1,
    # The Kubernetes part, plugged in through Provider.demo.
    "k8s_ghost_pod": 1,
    "k8s_replicas_unavailable": 1,
    "k8s_image_digest_drift": 1,
    "k8s_tls_secret_expiry": 1,
}
# The GCP part: patient data in a region the BAA does not cover (issue 18).
EXPECTED_RULES["data_residency_region"] += 1


@pytest.mark.slow
def test_demo_finds_every_seeded_incident(demo_dir: Path) -> None:
    """Each incident from the design's introduction is found by its rule; the dead host is not assessed."""
    env = demo_env()
    work, out = demo_dir / ".driftscan-demo", demo_dir / "reports" / "out"
    proc_stdout = (demo_dir / "demo.out").read_text()
    summary = json.loads((work / "summary.json").read_text())
    missed = [i for i in summary["incidents"] if i["finding"] is None]
    assert not missed, missed
    counts: dict[str, int] = {}
    for i in summary["incidents"]:
        counts[i["rule"]] = counts.get(i["rule"], 0) + 1
    assert counts == EXPECTED_RULES
    assert summary["status"] == "incomplete" and summary["exit_code"] == 3
    assert summary["not_assessed"] == [
        {"source": "dc1", "slice": "web-03", "reason": "unreachable"}
    ]
    assert "NOT FOUND" not in proc_stdout
    # The closing facts one a line, so at 80 columns no count is wrapped away from its word.
    facts = (
        r"^scan \d+: incomplete, run exit code 3\n  findings: \d+ alarm, \d+ error, .*\n  drift: "
    )
    assert re.search(facts, proc_stdout, re.M), proc_stdout[-600:]

    # The manual change between the two runs shows in the resource's history.
    sql = next(i["resource"] for i in summary["incidents"] if i["rule"] == "drift_changed_in_scope")
    hist = subprocess.run(
        [sys.executable, "-m", "driftscan", "history", sql, "-c", summary["config"], "--format", "json"],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    )  # fmt: skip
    changes = json.loads(hist.stdout)["versions"][-1]["changes"]
    assert {"path": "attrs.properties.minimalTlsVersion", "old": "1.2", "new": "1.0"} in changes

    report = Path(summary["report"])
    names = {p.name for p in report.iterdir()}
    assert {"report.html", "report.pdf", "report.json", "manifest.json"} <= names
    html = (report / "report.html").read_text()
    assert "acme-eu-customers" in html and "web-03" in html

    # What the demo wrote is what the next demo clears first (clear_previous, whose cases are
    # tested in test_demo_clean): its marker names every report folder of the ledger, so a
    # second `make demo` starts clean. Run on a copy, since later tests read this folder.
    import shutil

    from driftscan.report.manifest import read_ledger
    from driftscan.sandbox.demo import DEMO_MARKER, clear_previous

    marker = json.loads((out / DEMO_MARKER).read_text())
    assert marker == sorted(e.folder for e in read_ledger(out)) == ["scan-000001", "scan-000002"]
    copy = demo_dir.parent / f"{demo_dir.name}-again"
    shutil.copytree(demo_dir, copy)
    clear_previous(copy / ".driftscan-demo", copy / "reports" / "out")
    # Only the ledger's lock file stays (an empty file the next report takes again).
    assert [p.name for p in (copy / "reports" / "out").iterdir()] == [".ledger.lock"]
    assert not list((copy / ".driftscan-demo").glob("driftscan.duckdb*"))
    verify = subprocess.run(
        [sys.executable, "-m", "driftscan", "verify", "-c", summary["config"]],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr


@pytest.mark.slow
def test_demo_frameworks_show_every_pci_requirement(demo_dir: Path) -> None:
    """`frameworks show pci-dss-4.0.1` on the demo gives every requirement of the catalogue a
    status; the attested requirement carries its evidence file's SHA-256, the lapsed one reads
    attestation_expired, and the scan's exit code says evidence is lacking (3)."""
    import hashlib

    import yaml

    from driftscan.assets import rules_dir
    from driftscan.sandbox.demo import ATTESTED, EXPIRED, POLICY_EVIDENCE

    summary = json.loads((demo_dir / ".driftscan-demo" / "summary.json").read_text())
    proc = subprocess.run(
        [sys.executable, "-m", "driftscan", "frameworks", "show", ATTESTED[0], "-c",
         summary["config"], "--format", "json"],
        capture_output=True, text=True, env=demo_env(), timeout=120,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    doc = json.loads(proc.stdout)
    catalogue = yaml.safe_load((rules_dir() / "frameworks" / f"{ATTESTED[0]}.yaml").read_text())
    reqs = {r["id"]: r for r in doc["requirements"]}
    assert set(reqs) == {str(k) for k in catalogue["requirements"]}
    assert {r["status"] for r in reqs.values()} <= {
        "passed", "failed", "not_assessed", "attested", "attestation_missing", "attestation_expired"
    }  # fmt: skip
    assert "failed" in {r["status"] for r in reqs.values()}  # the seeded incidents fail some
    evidence = Path(summary["config"]).parent / POLICY_EVIDENCE
    attested = reqs[ATTESTED[1]]
    assert attested["status"] == "attested"
    assert attested["attestation"]["sha256"] == hashlib.sha256(evidence.read_bytes()).hexdigest()
    expired = reqs[EXPIRED[1]]
    assert expired["status"] == "attestation_expired"
    assert expired["attestation"]["state"] == "expired"
    assert 0 < doc["automated_share"] < 1
