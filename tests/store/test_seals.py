"""Findings and drift are sealed to their scan: editing them afterwards is caught by verify."""

from __future__ import annotations

from datetime import UTC, datetime

from driftscan.store import Store
from driftscan.store.drift import record
from driftscan.store.findings import write_findings
from tests.conftest import make_resources, make_run, write


def _finding(resource: str, status: str) -> dict[str, object]:
    return {"rule": "r1", "resource": resource, "status": status, "reason": "why", "severity": "high",
            "frameworks": {"pci-dss-4.0.1": ["1.1"]}, "lifecycle": "new", "waiver": None,
            "evidence": {}, "first_seen_scan": 1}  # fmt: skip


def _sealed_store(store: Store) -> int:
    n = write(store, [make_run(make_resources(2))])
    write_findings(store, n, [_finding("a", "alarm"), _finding("b", "ok")], rules=["r1"],
                   rules_hash="h", evaluated_at=datetime.now(UTC))  # fmt: skip
    record(store, n, drift=[{"resource": "arn:aws:s3:::gone", "type": "AWS::S3::Bucket", "provider": "aws",
                             "kind": "missing", "desired_source": "d.yaml:3", "changes": []}])  # fmt: skip
    return n


def test_untouched_results_verify(store: Store) -> None:
    """Freshly stored findings and drift match their seals."""
    _sealed_store(store)
    assert store.verify().ok, store.verify().problems


def test_edited_finding_is_caught(store: Store) -> None:
    """Turning an alarm into ok after the fact breaks the findings seal."""
    n = _sealed_store(store)
    store.con.execute("update finding set status = 'ok' where status = 'alarm'")
    assert f"scan {n}: stored findings altered (seal mismatch)" in store.verify().problems


def test_deleted_drift_is_caught(store: Store) -> None:
    """Deleting a drift row breaks the drift seal."""
    n = _sealed_store(store)
    store.con.execute("delete from drift_result")
    assert f"scan {n}: stored drift altered (seal mismatch)" in store.verify().problems


def test_reevaluation_reseals(store: Store) -> None:
    """Checking a scan again replaces its findings and their seal, so verify stays clean."""
    n = _sealed_store(store)
    write_findings(store, n, [_finding("a", "ok")], rules=["r1"], rules_hash="h",
                   evaluated_at=datetime.now(UTC))  # fmt: skip
    assert store.verify().ok, store.verify().problems
