"""Hand-made ReportData for report tests and the report benchmark (no store needed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from driftscan.model import Drift, Finding, ScanRecord, Slice
from driftscan.report.data import (
    PreviousReport,
    ReportData,
    Requirement,
    RuleMeta,
    SourceCoverage,
    TrendPoint,
)

XSS = "<script>document.title='PWNED';document.body.setAttribute('data-pwned','1')</script>"
XSS_IMG = "<img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">"
T0 = datetime(2026, 11, 1, 2, 0, 0)
RULES = [f"rule_{i:02d}" for i in range(40)]
STATUS_CYCLE = ["ok"] * 14 + ["alarm", "alarm", "not_assessed", "error", "skip", "ok"]


def _scan(n: int, status: str = "incomplete") -> ScanRecord:
    start = T0 + timedelta(days=n)
    return ScanRecord(
        scan_id=n,
        started_at=start,
        finished_at=start + timedelta(minutes=7),
        status=status,  # type: ignore[arg-type]
        tool_version="0.1.0",
        config_hash="c" * 64,
        rules_hash="r" * 64,
        resources=5000,
        content_hash="d" * 64,
        prev_hash=f"{n - 1:064x}",
        chain_hash=f"{n:064x}",
    )


def make_findings(n: int, *, scan_id: int = 42) -> list[Finding]:
    """n findings over 40 rules: mostly ok, some alarms, not-assessed, errors and one waiver."""
    out = []
    for i in range(n):
        rule = RULES[i % len(RULES)]
        status: Any = STATUS_CYCLE[i % len(STATUS_CYCLE)]
        waiver = None
        if i == 14:
            waiver = {
                "owner": "alice",
                "reason": "legacy bucket, migration planned",
                "ticket": "SEC-12",
                "expires": "2027-01-31",
            }
        out.append(
            Finding(
                rule=rule,
                resource=f"arn:aws:s3:::bucket-{i:06d}",
                status=status,
                reason={
                    "ok": "encrypted with aws:kms",
                    "alarm": "bucket is not encrypted",
                    "not_assessed": "region eu-west-1 not read: denied",
                    "error": "query failed: timeout",
                    "skip": "not in scope",
                }[status],
                severity=("critical", "high", "medium", "low", "info")[i % 5],  # type: ignore[arg-type]
                frameworks={"pci-dss-4.0.1": [f"3.{i % 4 + 1}"]} if i % 40 < 30 else {},
                lifecycle="new" if status == "alarm" else None,
                waiver=waiver,
                evidence={
                    "encryption": "none" if status == "alarm" else "aws:kms",
                    "region": "eu-west-1",
                },
                first_seen_scan=scan_id if status == "alarm" else None,
            )
        )
    return out


def make_report_data(n_findings: int = 60, *, scan_id: int = 42, trend: int = 30) -> ReportData:
    """A realistic report: two sources, one denied region, drift of every kind, findings."""
    scan = _scan(scan_id)
    findings = make_findings(n_findings, scan_id=scan_id)
    # A hostile tag value that must stay text everywhere.
    findings.append(
        Finding(
            rule="rule_00",
            resource=f"arn:aws:s3:::evil-{XSS}",
            status="alarm",
            reason=f"tag owner is {XSS_IMG}",
            severity="critical",
            frameworks={"pci-dss-4.0.1": ["3.1"]},
            lifecycle="new",
            evidence={"tag": '=HYPERLINK("http://evil")', "password": "hunter2"},
        )
    )
    slices = [
        Slice(
            "aws-prod",
            "aws",
            "111122223333/us-east-1",
            "ok",
            account="111122223333",
            region="us-east-1",
            resources=3000,
        ),
        Slice(
            "aws-prod",
            "aws",
            "111122223333/eu-west-1",
            "failed",
            reason="denied",
            detail="AccessDenied on s3:ListAllMyBuckets",
            account="111122223333",
            region="eu-west-1",
        ),
        Slice("dc1", "ssh", "web-01", "ok", region="dc1", keys=["ssh://web-01"], resources=1),
        Slice(
            "dc1",
            "ssh",
            "web-02",
            "failed",
            reason="unreachable",
            detail="timeout after 30 s",
            region="dc1",
            keys=["ssh://web-02"],
        ),
    ]
    drift = [
        Drift(
            "arn:aws:rds:us-east-1:111122223333:db:payments-db",
            "AWS::RDS::DBInstance",
            "aws",
            "changed",
            "desired/rds.yaml",
            [
                {"path": "encrypted", "desired": True, "actual": False},
                {"path": "public", "desired": False, "actual": True},
            ],
            source="aws-prod",
            account="111122223333",
            region="us-east-1",
        ),
        Drift(
            "arn:aws:s3:::acme-reports",
            "AWS::S3::Bucket",
            "aws",
            "missing",
            "desired/s3.yaml",
            source="aws-prod",
            account="111122223333",
            region="us-east-1",
        ),
        Drift(
            "ssh://web-01",
            "host",
            "ssh",
            "changed",
            "desired/hosts.yaml",
            [
                {"path": "packages.openssl", "desired": "3.0.13", "actual": "3.0.11"},
                {"path": "attrs.user_data", "desired": "sha256:" + "a" * 64, "actual": "s3cr3t"},
            ],
            source="dc1",
            account="dc1",
            region="dc1",
        ),
        Drift(
            "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc",
            "AWS::EC2::Instance",
            "aws",
            "unmanaged",
            None,
            source="aws-prod",
            account="111122223333",
            region="us-east-1",
        ),
    ]
    rules = {
        rid: RuleMeta(
            rid,
            title=f"Storage encrypted ({rid})",
            severity="high",
            description="Data at rest must be encrypted.",
            risk="Disclosure.",
            remediation="Enable default encryption with a KMS key.",
        )
        for rid in RULES
    }
    reqs = [
        Requirement(
            "pci-dss-4.0.1",
            f"3.{k}",
            tuple(r for j, r in enumerate(RULES) if j % 4 == k - 1 and j < 30),
            title=f"Protect stored account data {k}",
            framework_title="PCI DSS v4.0.1",
        )
        for k in range(1, 5)
    ]
    points = [
        TrendPoint(
            n,
            T0 + timedelta(days=n),
            "complete" if n % 7 else "incomplete",
            alarms=(n * 3) % 17,
            drift=(n * 5) % 11,
            coverage_pct=100.0 if n % 7 else 75.0,
        )
        for n in range(max(1, scan_id - trend + 1), scan_id + 1)
    ]
    prev_findings = [
        f
        for f in make_findings(n_findings, scan_id=scan_id - 1)
        if f.resource != "arn:aws:s3:::bucket-000014"
    ]
    return ReportData(
        scan=scan,
        organisation="Acme Payments Ltd",
        period_start=T0 + timedelta(days=scan_id - 1),
        period_end=scan.finished_at,
        tool_version="0.1.0",
        rules_hash="r" * 64,
        chain_head=f"{scan_id:064x}",
        sources=[
            SourceCoverage("aws-prod", "aws", "partial", "denied", 3000, 12.5),
            SourceCoverage("dc1", "ssh", "partial", "unreachable", 1, 30.1),
        ],
        slices=slices,
        drift=drift,
        findings=findings,
        rules=rules,
        requirements=reqs,
        trend=points,
        params={
            "classification_tag": "data_class",
            "residency": {"eu-personal": ["eu-west-1"]},
            "api_token": "tok-123",
        },
        scopes={"pci": {"tags": {"pci": "true"}, "accounts": [], "regions": []}},
        waivers=[
            {
                "rule": "rule_14",
                "resource": "arn:aws:s3:::bucket-000014",
                "owner": "alice",
                "reason": "legacy bucket, migration planned",
                "ticket": "SEC-12",
                "expires": "2027-01-31",
            }
        ],
        previous=PreviousReport(
            "scan-000041",
            scan_id - 1,
            "e" * 64,
            {
                "coverage_pct": 100.0,
                "failing": 3,
                "waived": 0,
                "drift_total": 2,
                "findings_total": n_findings,
            },
            findings=prev_findings,
            drift=drift[:2],
        ),
        chain_problems=[],
        notes=[],
    )
