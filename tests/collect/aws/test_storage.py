"""Storage and data types against the seeded moto server: attributes, facets, odd payloads."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSRequest

from driftscan.collect.base import run_source
from driftscan.model import Resource, SourceRun
from driftscan.providers.aws import AwsSource
from driftscan.providers.aws.collect.services import storage
from driftscan.providers.aws.keys import identify
from driftscan.sandbox.aws import ACCOUNT, AwsSandbox
from tests.conftest import TEST_FP

from .conftest import canned

US, EU = "us-east-1", "eu-west-1"  # region index 0 (compliant) and 1 (drifting)


@pytest.fixture(scope="module")
def run(sandbox: AwsSandbox) -> SourceRun:
    """One full collection of the sandbox, shared by the read-only tests of this module."""
    sandbox.proxy.reset()
    got = run_source(
        AwsSource(**sandbox.source(concurrency=16, max_attempts=3)), fingerprint=TEST_FP
    )
    _OPS[:] = sandbox.proxy.operations  # before any other test resets the proxy
    return got


_OPS: list[tuple[str, str]] = []  # the requests of that collection


def of(run: SourceRun, type_: str, region: str | None = None) -> list[Resource]:
    return [r for r in run.resources if r.type == type_ and region in (None, r.region)]


def named(run: SourceRun, type_: str, name: str) -> Resource:
    [found] = [r for r in run.resources if r.type == type_ and r.name == name]
    assert found.error is None, found.error
    return found


def test_storage_slices_ok(run: SourceRun) -> None:
    """Every storage service's slice is read in both regions, and the account-wide ones once."""
    names = {s.name: s for s in run.slices}
    for region in (US, EU):
        for svc in storage.REGIONAL:
            assert names[f"{ACCOUNT}/{region}/{svc.name}"].status == "ok", svc.name
    assert names[f"{ACCOUNT}/global/s3control"].status == "ok"
    assert names[f"{ACCOUNT}/global/s3control"].types == ["AWS::S3::AccountPublicAccessBlock"]


def test_bucket_logging_lock_and_tls_policy(run: SourceRun) -> None:
    """Buckets report access logging, Object Lock and a TLS-only policy, keeping only a
    fingerprint of the policy; a bucket without them says so."""
    good = named(run, "AWS::S3::Bucket", f"acme-data-{US}")
    assert good.attrs["tls_only"] is True
    assert good.attrs["policy"].startswith("hmac-sha256:")
    assert good.attrs["logging"] == {"target_bucket": f"acme-logs-{US}", "target_prefix": "s3/"}
    assert good.attrs["object_lock"]["enabled"] is False
    logs = named(run, "AWS::S3::Bucket", f"acme-logs-{US}")
    assert logs.attrs["object_lock"] == {
        "enabled": True,
        "mode": "COMPLIANCE",
        "days": 365,
        "years": logs.attrs["object_lock"]["years"],  # moto answers 0, AWS omits it
    }
    assert (logs.encrypted, logs.public, logs.attrs["policy"]) == (True, False, None)
    bad = named(run, "AWS::S3::Bucket", f"acme-data-{EU}")
    # A public Allow policy: fingerprinted, and it does not deny plain HTTP.
    assert bad.attrs["policy"].startswith("hmac-sha256:") and bad.attrs["tls_only"] is False
    assert bad.attrs["logging"] is None and bad.attrs["object_lock"]["enabled"] is False
    assert bad.public is True


def test_account_public_access_block(run: SourceRun) -> None:
    """The account's S3 Block Public Access settings are one resource, read through S3 Control."""
    [pab] = of(run, "AWS::S3::AccountPublicAccessBlock")
    assert pab.key == f"arn:aws:s3control::{ACCOUNT}:public-access-block"
    assert pab.region == "global" and pab.name == ACCOUNT and pab.error is None
    assert pab.attrs == {
        "configured": True,
        "block_public_acls": True,
        "ignore_public_acls": True,
        "block_public_policy": True,
        "restrict_public_buckets": False,
        "all_blocked": False,
    }
    assert getattr(identify(pab.key), "type", None) == "AWS::S3::AccountPublicAccessBlock"


def test_ebs_snapshots_and_default_encryption(run: SourceRun) -> None:
    """Own snapshots only, public when createVolumePermission names group all; the region's
    default encryption is a resource of its own."""
    good = named(run, "AWS::EC2::Snapshot", "data-True-nightly")
    bad = named(run, "AWS::EC2::Snapshot", "data-False-nightly")
    assert good.key.startswith(f"arn:aws:ec2:{US}::snapshot/snap-")
    assert (good.encrypted, good.public, good.region) == (True, False, US)
    assert (bad.encrypted, bad.public, bad.region) == (False, True, EU)
    assert bad.attrs["volume_size_gib"] == 8 and bad.tags["pci"] == "true"
    # moto's own AMI snapshots (other owners) are not listed as the account's.
    assert len(of(run, "AWS::EC2::Snapshot")) < 50
    defaults = {r.region: r for r in of(run, "AWS::EC2::EBSEncryptionByDefault")}
    assert set(defaults) == {US, EU}
    assert defaults[US].key == f"arn:aws:ec2:{US}:{ACCOUNT}:ebs-encryption-by-default"
    assert (defaults[US].attrs["enabled"], defaults[US].encrypted) == (True, True)
    assert (defaults[EU].attrs["enabled"], defaults[EU].encrypted) == (False, False)


def test_efs_and_dynamodb(run: SourceRun) -> None:
    """EFS encryption and key; DynamoDB PITR and whose key encrypts the table."""
    fs0, fs1 = (
        named(run, "AWS::EFS::FileSystem", "shared-0"),
        named(run, "AWS::EFS::FileSystem", "shared-1"),
    )
    assert fs0.key.startswith(f"arn:aws:elasticfilesystem:{US}:{ACCOUNT}:file-system/fs-")
    assert (fs0.encrypted, fs0.attrs["kms_key_id"] is not None) == (True, True)
    assert (fs1.encrypted, fs1.attrs["kms_key_id"]) == (False, None)
    assert fs0.tags == {"Name": "shared-0", "pci": "true"}
    t0, t1 = (
        named(run, "AWS::DynamoDB::Table", "ledger-0"),
        named(run, "AWS::DynamoDB::Table", "ledger-1"),
    )
    assert t0.key == f"arn:aws:dynamodb:{US}:{ACCOUNT}:table/ledger-0"
    assert (t0.attrs["point_in_time_recovery"], t0.attrs["sse_type"]) == ("ENABLED", "KMS")
    assert t0.attrs["kms_key_arn"].startswith(f"arn:aws:kms:{US}:{ACCOUNT}:key/")
    assert (t1.attrs["point_in_time_recovery"], t1.attrs["sse_type"]) == ("DISABLED", "AWS_OWNED")
    assert t1.attrs["kms_key_arn"] is None and t0.encrypted is t1.encrypted is True
    assert t0.tags == {"pci": "true"} and t0.attrs["billing_mode"] == "PAY_PER_REQUEST"


def test_rds_clusters_and_snapshots(run: SourceRun) -> None:
    """Clusters and both kinds of snapshot: encrypted, public only with restore=all, shared
    accounts listed; automated snapshots are read too, never public."""
    c0, c1 = (
        named(run, "AWS::RDS::DBCluster", "orders-0"),
        named(run, "AWS::RDS::DBCluster", "orders-1"),
    )
    assert c0.key == f"arn:aws:rds:{US}:{ACCOUNT}:cluster:orders-0"
    assert (c0.encrypted, c1.encrypted) == (True, False)
    assert c0.attrs["engine"] == "aurora-postgresql" and c0.tags == {"pci": "true"}
    s0 = named(run, "AWS::RDS::DBSnapshot", "payments-db-0-manual")
    s1 = named(run, "AWS::RDS::DBSnapshot", "payments-db-1-manual")
    assert (s0.encrypted, s0.public, s0.attrs["shared_with"]) == (True, False, ["210987654321"])
    assert (s1.encrypted, s1.public, s1.attrs["source"]) == (False, True, "payments-db-1")
    assert s1.key == f"arn:aws:rds:{EU}:{ACCOUNT}:snapshot:payments-db-1-manual"
    cs0 = named(run, "AWS::RDS::DBClusterSnapshot", "orders-0-manual")
    cs1 = named(run, "AWS::RDS::DBClusterSnapshot", "orders-1-manual")
    assert (cs0.encrypted, cs0.public, cs1.encrypted, cs1.public) == (True, False, False, True)
    automated = [
        r for r in of(run, "AWS::RDS::DBSnapshot") if r.attrs["snapshot_type"] == "automated"
    ]
    assert automated and all(r.public is False for r in automated)
    for r in (c0, s1, cs1):
        assert getattr(identify(r.key), "type", None) == r.type, r.key


def test_redshift_elasticache_opensearch(run: SourceRun) -> None:
    """Redshift encryption and public access; ElastiCache at-rest and in-transit encryption;
    OpenSearch encryption, HTTPS, TLS policy, and public only when open to anyone outside a VPC."""
    w0, w1 = (
        named(run, "AWS::Redshift::Cluster", "warehouse-0"),
        named(run, "AWS::Redshift::Cluster", "warehouse-1"),
    )
    assert w0.key == f"arn:aws:redshift:{US}:{ACCOUNT}:cluster:warehouse-0"
    assert (w0.encrypted, w0.public, w1.encrypted, w1.public) == (True, False, False, True)
    e0, e1 = (
        named(run, "AWS::ElastiCache::ReplicationGroup", "sessions-0"),
        named(run, "AWS::ElastiCache::ReplicationGroup", "sessions-1"),
    )
    assert e0.key == f"arn:aws:elasticache:{US}:{ACCOUNT}:replicationgroup:sessions-0"
    assert (e0.attrs["at_rest_encryption"], e0.attrs["transit_encryption"]) == (True, True)
    assert (e1.attrs["at_rest_encryption"], e1.attrs["transit_encryption"]) == (False, False)
    assert (e0.encrypted, e1.encrypted) == (True, False) and e0.tags == {"pci": "true"}
    d0, d1 = (
        named(run, "AWS::OpenSearchService::Domain", "search-0"),
        named(run, "AWS::OpenSearchService::Domain", "search-1"),
    )
    assert d0.key == f"arn:aws:es:{US}:{ACCOUNT}:domain/search-0" and d0.tags == {"pci": "true"}
    assert {k: d0.attrs[k] for k in ("node_to_node_encryption", "enforce_https")} == {
        "node_to_node_encryption": True,
        "enforce_https": True,
    }
    assert d0.attrs["tls_security_policy"] == "Policy-Min-TLS-1-2-2019-07"
    assert d1.attrs["tls_security_policy"] == "Policy-Min-TLS-1-0-2019-07"
    assert (d0.encrypted, d0.public, d1.encrypted, d1.public) == (True, False, False, True)
    assert d0.attrs["access_policy"].startswith("hmac-sha256:")
    assert d1.attrs["policy_allows_anyone"] is True


def test_kinesis_and_backup(run: SourceRun) -> None:
    """Kinesis stream encryption; Backup vault key and lock, and plan rules with retention."""
    k0, k1 = (
        named(run, "AWS::Kinesis::Stream", "events-0"),
        named(run, "AWS::Kinesis::Stream", "events-1"),
    )
    assert k0.key == f"arn:aws:kinesis:{US}:{ACCOUNT}:stream/events-0"
    assert (k0.attrs["encryption"], k0.encrypted, k1.attrs["encryption"], k1.encrypted) == (
        "KMS",
        True,
        "NONE",
        False,
    )
    assert k0.tags == {"pci": "true"} and k0.attrs["retention_hours"] == 24
    v0, v1 = (
        named(run, "AWS::Backup::BackupVault", "vault-0"),
        named(run, "AWS::Backup::BackupVault", "vault-1"),
    )
    assert v0.key == f"arn:aws:backup:{US}:{ACCOUNT}:backup-vault:vault-0"
    assert (v0.attrs["locked"], v0.attrs["min_retention_days"], v0.encrypted) == (True, 7, True)
    # moto names no key for a vault created without one (AWS names its managed key): unknown.
    assert (v1.attrs["locked"], v1.encrypted) == (False, None)
    p0, p1 = (
        named(run, "AWS::Backup::BackupPlan", "daily-0"),
        named(run, "AWS::Backup::BackupPlan", "daily-1"),
    )
    assert p0.key.startswith(f"arn:aws:backup:{US}:{ACCOUNT}:backup-plan:")
    assert [(x["target_vault"], x["delete_after_days"]) for x in p0.attrs["rules"]] == [
        ("vault-0", 35)
    ]
    assert [x["delete_after_days"] for x in p1.attrs["rules"]] == [None]
    assert p0.tags == {"pci": "true"} and (p0.encrypted, p0.public) == (None, None)


def test_canary_in_policies_is_only_fingerprinted(sandbox: AwsSandbox, run: SourceRun) -> None:
    """The canary in a bucket policy and an OpenSearch access policy never reaches a resource."""
    types = {spec.type for svc in storage.REGIONAL + storage.GLOBAL for spec in svc.resources}
    text = json.dumps([r.doc() for r in run.resources if r.type in types], default=str)
    assert sandbox.estate.canary not in text
    assert "aws:Referer" not in text and "SecureTransport" not in text


def test_missing_optional_fields_are_null(
    source: Callable[..., AwsSource], on_session: Any
) -> None:
    """An RDS instance without PubliclyAccessible or StorageEncrypted (moto omits them unless
    set) is read with those facets null, not recorded as a parse error."""
    bare = {"DBInstances": [{"DBInstanceIdentifier": "bare", "Engine": "postgres",
                             "DBInstanceArn": f"arn:aws:rds:{EU}:{ACCOUNT}:db:bare"}]}  # fmt: skip
    on_session("before-call.rds.DescribeDBInstances", canned("DescribeDBInstances", bare))
    got = run_source(source(regions=[EU]))
    assert got.status == "ok"
    db = named(got, "AWS::RDS::DBInstance", "bare")
    assert (db.public, db.encrypted, db.attrs["publicly_accessible"]) == (None, None, None)
    assert db.attrs["security_groups"] == [] and db.attrs["vpc_id"] is None


def test_unimplemented_detail_call_is_unsupported(
    source: Callable[..., AwsSource], on_session: Any
) -> None:
    """An endpoint that does not implement DescribeSnapshotAttribute (an emulator's 404) leaves
    the region's EBS slice not assessed as `unsupported`, never empty."""
    # What botocore makes of moto's HTML 404 page: the status as the code.
    missing = {"Error": {"Code": "404", "Message": "Not Found"},
               "ResponseMetadata": {"HTTPStatusCode": 404}}  # fmt: skip
    on_session(
        "before-call.ec2.DescribeSnapshotAttribute",
        canned("DescribeSnapshotAttribute", missing, 404),
    )
    got = run_source(source(regions=[EU]))
    ebs = {s.name: s for s in got.slices}[f"{ACCOUNT}/{EU}/ebs"]
    assert (ebs.status, ebs.reason) == ("failed", "unsupported")
    assert not of(got, "AWS::EC2::Snapshot")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://123456789012.127.0.0.1:4566/v20180820/x", "http://127.0.0.1:4566/v20180820/x"),
        ("http://123456789012.localhost:4566/x", "http://localhost:4566/x"),
        (
            "https://123456789012.s3-control.eu-west-1.amazonaws.com/x",
            "https://123456789012.s3-control.eu-west-1.amazonaws.com/x",
        ),
    ],
)
def test_s3control_account_prefix_dropped_only_on_ip_hosts(url: str, expected: str) -> None:
    """The account label S3 Control puts before the host is dropped only where the host is an
    IP address or localhost (a name that can never resolve); AWS's own endpoints keep it."""
    request = AWSRequest(method="GET", url=url)
    storage.drop_account_prefix_on_ip(request)
    assert request.url == expected


def _stmt(**kw: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Principal": "*", "Action": "s3:*", **kw}


@pytest.mark.parametrize(
    ("statement", "tls_only"),
    [
        (_stmt(Condition={"Bool": {"aws:SecureTransport": "false"}}), True),
        (_stmt(Principal={"AWS": ["*"]}, Condition={"Bool": {"aws:securetransport": False}}), True),
        (_stmt(Condition={"Bool": {"aws:SecureTransport": "true"}}), False),
        (_stmt(Effect="Allow", Condition={"Bool": {"aws:SecureTransport": "false"}}), False),
        (_stmt(Action="s3:GetObject", Condition={"Bool": {"aws:SecureTransport": "false"}}), False),
        (
            _stmt(
                Principal={"AWS": "arn:aws:iam::1:root"},
                Condition={"Bool": {"aws:SecureTransport": "false"}},
            ),
            False,
        ),
        (_stmt(), False),
    ],
)
def test_tls_only_policy(statement: dict[str, Any], tls_only: bool) -> None:
    """TLS-only means: deny every S3 action to everyone when aws:SecureTransport is false."""
    doc = json.dumps({"Version": "2012-10-17", "Statement": statement})
    statements = storage._statements(doc)
    assert statements is not None
    assert storage._denies_insecure_transport(statements) is tls_only


def test_policy_status_is_asked_only_of_buckets_with_a_policy(run: SourceRun) -> None:
    """GetBucketPolicyStatus answers NoSuchBucketPolicy for a bucket without a policy, so it
    is not asked: one request fewer for most buckets, and the same verdict."""
    buckets = of(run, "AWS::S3::Bucket")
    asked = {op.split()[1].split("?")[0].strip("/") for svc, op in _OPS
             if svc == "s3" and op.endswith("?policyStatus")}  # fmt: skip
    with_policy = {b.name for b in buckets if b.attrs["policy"] is not None}
    assert with_policy and len(with_policy) < len(buckets)  # the sandbox has both kinds
    assert asked == with_policy
    assert all(b.attrs["policy_public"] is False for b in buckets if b.name not in with_policy)


def test_object_lock_is_asked_only_of_versioned_buckets(run: SourceRun) -> None:
    """Object Lock needs versioning (and a locked bucket's versioning cannot be suspended),
    so only versioned buckets are asked for their lock; the others read as not locked."""
    buckets = of(run, "AWS::S3::Bucket")
    asked = {op.split()[1].split("?")[0].strip("/") for svc, op in _OPS
             if svc == "s3" and op.endswith("?object-lock")}  # fmt: skip
    versioned = {b.name for b in buckets if b.attrs["versioning"] == "Enabled"}
    assert versioned and len(versioned) < len(buckets)  # the sandbox has both kinds
    assert asked == versioned
    assert any(b.attrs["object_lock"]["enabled"] for b in buckets)  # a locked one is still seen
    assert all(not b.attrs["object_lock"]["enabled"] for b in buckets if b.name not in versioned)


def _locations(ops: list[tuple[str, str]]) -> int:
    return sum(1 for svc, op in ops if svc == "s3" and op.endswith("?location"))


def test_bucket_regions_come_from_region_filtered_listings(run: SourceRun) -> None:
    """moto's ListBuckets names no BucketRegion: one listing filtered by each of the source's
    regions places every bucket there, so no bucket costs a GetBucketLocation."""
    buckets = of(run, "AWS::S3::Bucket")
    assert {b.region for b in buckets} == {US, EU}
    assert _locations(_OPS) == 0
    assert sum(1 for svc, op in _OPS if svc == "s3" and op == "GET /?bucket-region") == 2


@pytest.mark.parametrize("case", ["one region", "filter ignored"])
def test_bucket_regions_asked_one_by_one_otherwise(
    case: str,
    run: SourceRun,
    sandbox: AwsSandbox,
    source: Callable[..., AwsSource],
    on_session: Any,
) -> None:
    """With one region there is no second listing to show an endpoint that ignores the filter,
    and an endpoint that ignores it answers every region with every bucket: either way each
    bucket's own location is asked, and every bucket lands in its own region."""
    regions = [US, EU]
    if case == "one region":
        regions = [EU]
    else:

        def drop_filter(params: dict[str, Any], **_: Any) -> None:
            params.pop("BucketRegion", None)  # as an endpoint that does not know it

        on_session("provide-client-params.s3.ListBuckets", drop_filter)
    sandbox.proxy.reset()
    got = run_source(source(regions=regions), fingerprint=TEST_FP)
    buckets = [r for r in got.resources if r.type == "AWS::S3::Bucket"]
    ops = sandbox.proxy.operations
    assert buckets and _locations(ops) == len(buckets)
    assert {b.key: b.region for b in buckets} == {
        b.key: b.region for b in of(run, "AWS::S3::Bucket")
    }
