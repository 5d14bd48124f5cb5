"""Storage rules of the built-in pack: public snapshots and TLS-only buckets, passing and failing."""

from __future__ import annotations

from driftscan.store import Store
from tests.compliance.conftest import aws, by_resource, check, statuses, write_scan

PCI_TAG = {"pci": "true"}


def _short(got: dict[str, str]) -> dict[str, str]:
    return {k.rsplit("/", 1)[-1].rsplit(":", 1)[-1]: v for k, v in got.items()}


class TestSnapshots:
    def test_public_ebs_snapshot_alarms(self, store: Store) -> None:
        """A public EBS snapshot alarms in or out of scope; a private or shared one passes; an
        unread permission is not assessed."""
        write_scan(store, [
            aws("AWS::EC2::Snapshot", "snap-private", public=False, encrypted=True),
            aws("AWS::EC2::Snapshot", "snap-shared", public=False,
                attrs={"shared_with": ["210987654321"]}),
            aws("AWS::EC2::Snapshot", "snap-open", public=True, tags=PCI_TAG),
            aws("AWS::EC2::Snapshot", "snap-unknown", public=None),
            aws("AWS::EC2::Volume", "vol-not-a-snapshot", public=True),
        ])  # fmt: skip
        result = check(store)
        got = _short(statuses(result, "ebs_snapshot_not_public"))
        assert got == {"snap-private": "ok", "snap-shared": "ok", "snap-open": "alarm",
                       "snap-unknown": "not_assessed"}  # fmt: skip
        [open_] = [f for k, f in by_resource(result, "ebs_snapshot_not_public").items()
                   if k.endswith("snap-open")]  # fmt: skip
        assert "any AWS account" in open_.reason
        assert open_.frameworks["pci-dss-4.0.1"] == ["1.4.4"]

    def test_public_rds_snapshots_alarm(self, store: Store) -> None:
        """Public DB and DB cluster snapshots alarm; private ones pass; instances are not checked."""
        write_scan(store, [
            aws("AWS::RDS::DBSnapshot", "db-private", public=False),
            aws("AWS::RDS::DBSnapshot", "db-open", public=True),
            aws("AWS::RDS::DBClusterSnapshot", "cluster-private", public=False),
            aws("AWS::RDS::DBClusterSnapshot", "cluster-open", public=True),
            aws("AWS::RDS::DBInstance", "instance-open", public=True),
        ])  # fmt: skip
        got = _short(statuses(check(store), "storage_rds_snapshot_not_public"))
        assert got == {"db-private": "ok", "db-open": "alarm", "cluster-private": "ok",
                       "cluster-open": "alarm"}  # fmt: skip


class TestBuckets:
    def test_s3_tls_only(self, store: Store) -> None:
        """An in-scope bucket without a TLS-only policy alarms (with or without a policy); one
        with it passes; an unreadable policy is not assessed; out of scope is not checked."""
        fp = "hmac-sha256:k:00"
        write_scan(store, [
            aws("AWS::S3::Bucket", "tls", tags=PCI_TAG, attrs={"policy": fp, "tls_only": True}),
            aws("AWS::S3::Bucket", "plain", tags=PCI_TAG, attrs={"policy": fp, "tls_only": False}),
            aws("AWS::S3::Bucket", "nopolicy", tags=PCI_TAG,
                attrs={"policy": None, "tls_only": False}),
            aws("AWS::S3::Bucket", "unread", tags=PCI_TAG, attrs={"policy": fp, "tls_only": None}),
            aws("AWS::S3::Bucket", "elsewhere", attrs={"policy": None, "tls_only": False}),
        ])  # fmt: skip
        result = check(store)
        got = _short(statuses(result, "storage_s3_tls_only"))
        assert got == {"tls": "ok", "plain": "alarm", "nopolicy": "alarm",
                       "unread": "not_assessed"}  # fmt: skip
        reasons = {k.rsplit(":", 1)[-1]: f.reason
                   for k, f in by_resource(result, "storage_s3_tls_only").items()}  # fmt: skip
        assert reasons["nopolicy"].startswith("no bucket policy")
        assert "aws:SecureTransport" in reasons["plain"]


class TestStorageFacets:
    def test_new_storage_types_in_pci_rules(self, store: Store) -> None:
        """The PCI encryption and public-access rules cover the new storage and data types."""
        write_scan(store, [
            aws("AWS::DynamoDB::Table", "ddb", tags=PCI_TAG, encrypted=True),
            aws("AWS::EFS::FileSystem", "efs", tags=PCI_TAG, encrypted=False),
            aws("AWS::Kinesis::Stream", "stream", tags=PCI_TAG, encrypted=False),
            aws("AWS::Redshift::Cluster", "dwh", tags=PCI_TAG, encrypted=True, public=True),
            aws("AWS::OpenSearchService::Domain", "search", tags=PCI_TAG, encrypted=True,
                public=False),
            aws("AWS::EC2::Snapshot", "snap", tags=PCI_TAG, encrypted=False, public=True),
        ])  # fmt: skip
        result = check(store)
        assert _short(statuses(result, "pci_storage_encrypted")) == {
            "ddb": "ok", "efs": "alarm", "stream": "alarm", "dwh": "ok", "search": "ok",
            "snap": "alarm"}  # fmt: skip
        assert _short(statuses(result, "pci_storage_not_public")) == {
            "dwh": "alarm", "search": "ok", "snap": "alarm"}  # fmt: skip
