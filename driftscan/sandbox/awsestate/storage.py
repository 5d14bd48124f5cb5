"""The seeded estate's storage types (see driftscan/providers/aws/collect/services/storage.py)."""

from __future__ import annotations

import json
from typing import Any

from driftscan.providers.aws.collect.services.storage import drop_account_prefix_on_ip
from driftscan.sandbox.awsestate.base import Estate, Region, client

PCI = {"Key": "pci", "Value": "true"}


def seed(endpoint_url: str, est: Estate) -> None:
    """Create this domain's resources in every region of `est` and record their keys.

    The first region holds the compliant configuration of each type, the others its
    failing one (unencrypted, public, unlocked, no PITR ...).
    """
    _account_block(endpoint_url, est)
    for region in est.regions:
        ctx = est.context[region]
        _buckets(endpoint_url, est, region, ctx)
        _ebs(endpoint_url, est, region, ctx)
        _efs(endpoint_url, est, region, ctx)
        _dynamodb(endpoint_url, est, region, ctx)
        _rds(endpoint_url, est, region, ctx)
        _redshift(endpoint_url, est, region, ctx)
        _elasticache(endpoint_url, est, region, ctx)
        _opensearch(endpoint_url, est, region, ctx)
        _kinesis(endpoint_url, est, region, ctx)
        _backup(endpoint_url, est, region, ctx)


def _kms_arn(est: Estate, region: str, ctx: Region) -> str:
    return f"arn:aws:kms:{region}:{est.account}:key/{ctx.kms_key_id}"


def _account_block(endpoint_url: str, est: Estate) -> None:
    s3control = client("s3control", endpoint_url, est.regions[0])
    s3control.meta.events.register("before-sign.s3-control", drop_account_prefix_on_ip)
    s3control.put_public_access_block(
        AccountId=est.account,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False,  # one gap, for the attributes to show
        },
    )
    est.add(
        "AWS::S3::AccountPublicAccessBlock", f"arn:aws:s3control::{est.account}:public-access-block"
    )


def _buckets(endpoint_url: str, est: Estate, region: str, ctx: Region) -> None:
    """The core bucket of the first region gets a TLS-only policy (with the canary in a
    Referer condition: policies can hold secrets), access logging and an Object Lock log
    bucket; the others keep no policy of the kind, no logging, no lock."""
    if ctx.index != 0:
        return
    s3 = client("s3", endpoint_url, region)
    logs = f"acme-logs-{region}"
    where: dict[str, Any] = (
        {}
        if region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    )
    s3.create_bucket(Bucket=logs, ObjectLockEnabledForBucket=True, **where)
    s3.put_object_lock_configuration(
        Bucket=logs,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 365}},
        },
    )
    s3.put_bucket_encryption(
        Bucket=logs,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_acl(
        Bucket=logs,
        GrantWrite='uri="http://acs.amazonaws.com/groups/s3/LogDelivery"',
        GrantReadACP='uri="http://acs.amazonaws.com/groups/s3/LogDelivery"',
    )
    s3.put_bucket_logging(
        Bucket=ctx.bucket,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": logs, "TargetPrefix": "s3/"}},
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{ctx.bucket}", f"arn:aws:s3:::{ctx.bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "OnlyFromTheApp",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{ctx.bucket}/*",
                "Condition": {"StringNotEquals": {"aws:Referer": est.canary}},
            },
        ],
    }
    s3.put_bucket_policy(Bucket=ctx.bucket, Policy=json.dumps(policy))
    est.add("AWS::S3::Bucket", f"arn:aws:s3:::{logs}")


def _ebs(endpoint_url: str, est: Estate, region: str, ctx: Region) -> None:
    """A private snapshot of the encrypted core volume, or a public one of the plain volume."""
    good = ctx.index == 0
    ec2 = client("ec2", endpoint_url, region)
    name = f"data-{good}"  # the core estate's volumes: data-True is encrypted
    [vol] = ec2.describe_volumes(Filters=[{"Name": "tag:Name", "Values": [name]}])["Volumes"]
    snap = ec2.create_snapshot(
        VolumeId=vol["VolumeId"],
        Description="nightly data backup",
        TagSpecifications=[
            {"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": f"{name}-nightly"}, PCI]}
        ],
    )
    if good:
        ec2.enable_ebs_encryption_by_default()
    else:
        ec2.modify_snapshot_attribute(
            SnapshotId=snap["SnapshotId"],
            Attribute="createVolumePermission",
            OperationType="add",
            GroupNames=["all"],
        )
    est.add("AWS::EC2::Snapshot", f"arn:aws:ec2:{region}::snapshot/{snap['SnapshotId']}")
    est.add(
        "AWS::EC2::EBSEncryptionByDefault",
        f"arn:aws:ec2:{region}:{est.account}:ebs-encryption-by-default",
    )


def _efs(endpoint_url: str, est: Estate, region: str, ctx: Region) -> None:
    good = ctx.index == 0
    fs = client("efs", endpoint_url, region).create_file_system(
        CreationToken=f"shared-{region}",
        Encrypted=good,
        **({"KmsKeyId": ctx.kms_key_id} if good else {}),
        Tags=[{"Key": "Name", "Value": f"shared-{ctx.index}"}, PCI],
    )
    est.add("AWS::EFS::FileSystem", fs["FileSystemArn"])


def _dynamodb(endpoint_url: str, est: Estate, region: str, ctx: Region) -> None:
    good = ctx.index == 0
    ddb = client("dynamodb", endpoint_url, region)
    name = f"ledger-{ctx.index}"
    sse = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": _kms_arn(est, region, ctx)}
    table = ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        Tags=[PCI],
        **({"SSESpecification": sse} if good else {}),
    )["TableDescription"]
    if good:
        ddb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    est.add("AWS::DynamoDB::Table", table["TableArn"])


def _rds(endpoint_url: str, est: Estate, region: str, ctx: Region) -> None:
    """An Aurora cluster with a manual snapshot, and a manual snapshot of the core instance;
    outside the first region both snapshots are public (restore=all) and nothing is encrypted."""
    good = ctx.index == 0
    rds = client("rds", endpoint_url, region)
    cluster = rds.create_db_cluster(
        DBClusterIdentifier=f"orders-{ctx.index}",
        Engine="aurora-postgresql",
        MasterUsername="admin",
        MasterUserPassword="sandbox-only-password",
        StorageEncrypted=good,
        Tags=[PCI],
    )["DBCluster"]
    est.add("AWS::RDS::DBCluster", cluster["DBClusterArn"])
    csnap = rds.create_db_cluster_snapshot(
        DBClusterSnapshotIdentifier=f"orders-{ctx.index}-manual",
        DBClusterIdentifier=cluster["DBClusterIdentifier"],
        Tags=[PCI],
    )["DBClusterSnapshot"]
    dsnap = rds.create_db_snapshot(
        DBSnapshotIdentifier=f"payments-db-{ctx.index}-manual",
        DBInstanceIdentifier=f"payments-db-{ctx.index}",
        Tags=[PCI],
    )["DBSnapshot"]
    if not good:
        rds.modify_db_cluster_snapshot_attribute(
            DBClusterSnapshotIdentifier=csnap["DBClusterSnapshotIdentifier"],
            AttributeName="restore",
            ValuesToAdd=["all"],
        )
        rds.modify_db_snapshot_attribute(
            DBSnapshotIdentifier=dsnap["DBSnapshotIdentifier"],
            AttributeName="restore",
            ValuesToAdd=["all"],
        )
    else:
        rds.modify_db_snapshot_attribute(
            DBSnapshotIdentifier=dsnap["DBSnapshotIdentifier"],
            AttributeName="restore",
            ValuesToAdd=["210987654321"],  # shared with one account: not public
        )
    est.add("AWS::RDS::DBClusterSnapshot", csnap["DBClusterSnapshotArn"])
    est.add("AWS::RDS::DBSnapshot", dsnap["DBSnapshotArn"])


def _redshift(endpoint_url: str, est: Estate, region: str, ctx: Region) -> None:
    good = ctx.index == 0
    name = f"warehouse-{ctx.index}"
    client("redshift", endpoint_url, region).create_cluster(
        ClusterIdentifier=name,
        NodeType="dc2.large",
        ClusterType="single-node",
        MasterUsername="admin",
        MasterUserPassword="Sandbox-only-1",
        Encrypted=good,
        **({"KmsKeyId": _kms_arn(est, region, ctx)} if good else {}),
        PubliclyAccessible=not good,
        Tags=[PCI],
    )
    est.add("AWS::Redshift::Cluster", f"arn:aws:redshift:{region}:{est.account}:cluster:{name}")


def _elasticache(endpoint_url: str, est: Estate, region: str, ctx: Region) -> None:
    good = ctx.index == 0
    group = client("elasticache", endpoint_url, region).create_replication_group(
        ReplicationGroupId=f"sessions-{ctx.index}",
        ReplicationGroupDescription="session cache",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        NumCacheClusters=1,
        TransitEncryptionEnabled=good,
        AtRestEncryptionEnabled=good,
        **({"KmsKeyId": _kms_arn(est, region, ctx)} if good else {}),
        Tags=[PCI],
    )["ReplicationGroup"]
    est.add("AWS::ElastiCache::ReplicationGroup", group["ARN"])


def _opensearch(endpoint_url: str, est: Estate, region: str, ctx: Region) -> None:
    """A private, encrypted, TLS 1.2 domain (its policy names the account only, with the
    canary in a condition) or an open, unencrypted one accepting TLS 1.0."""
    good = ctx.index == 0
    name = f"search-{ctx.index}"
    arn = f"arn:aws:es:{region}:{est.account}:domain/{name}"
    if good:
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{est.account}:root"},
            "Action": "es:ESHttp*",
            "Resource": f"{arn}/*",
            "Condition": {"StringEquals": {"aws:UserAgent": est.canary}},
        }
    else:
        statement = {"Effect": "Allow", "Principal": "*", "Action": "es:*", "Resource": f"{arn}/*"}
    client("opensearch", endpoint_url, region).create_domain(
        DomainName=name,
        EngineVersion="OpenSearch_2.11",
        EncryptionAtRestOptions={"Enabled": good, **({"KmsKeyId": ctx.kms_key_id} if good else {})},
        NodeToNodeEncryptionOptions={"Enabled": good},
        DomainEndpointOptions={
            "EnforceHTTPS": good,
            "TLSSecurityPolicy": (
                "Policy-Min-TLS-1-2-2019-07" if good else "Policy-Min-TLS-1-0-2019-07"
            ),
        },
        AccessPolicies=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        TagList=[PCI],
    )
    est.add("AWS::OpenSearchService::Domain", arn)


def _kinesis(endpoint_url: str, est: Estate, region: str, ctx: Region) -> None:
    good = ctx.index == 0
    name = f"events-{ctx.index}"
    kinesis = client("kinesis", endpoint_url, region)
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.add_tags_to_stream(StreamName=name, Tags={"pci": "true"})
    if good:
        kinesis.start_stream_encryption(
            StreamName=name, EncryptionType="KMS", KeyId=_kms_arn(est, region, ctx)
        )
    est.add("AWS::Kinesis::Stream", f"arn:aws:kinesis:{region}:{est.account}:stream/{name}")


def _backup(endpoint_url: str, est: Estate, region: str, ctx: Region) -> None:
    """A locked vault under the region's KMS key with a 35-day daily plan, or an unlocked
    vault (no key named) whose plan keeps backups forever."""
    good = ctx.index == 0
    backup = client("backup", endpoint_url, region)
    vault = f"vault-{ctx.index}"
    made = backup.create_backup_vault(
        BackupVaultName=vault,
        BackupVaultTags={"pci": "true"},
        **({"EncryptionKeyArn": _kms_arn(est, region, ctx)} if good else {}),
    )
    if good:
        backup.put_backup_vault_lock_configuration(BackupVaultName=vault, MinRetentionDays=7)
    rule: dict[str, Any] = {
        "RuleName": "daily",
        "TargetBackupVaultName": vault,
        "ScheduleExpression": "cron(0 5 ? * * *)",
    }
    if good:
        rule["Lifecycle"] = {"DeleteAfterDays": 35}
    plan = backup.create_backup_plan(
        BackupPlan={"BackupPlanName": f"daily-{ctx.index}", "Rules": [rule]},
        BackupPlanTags={"pci": "true"},
    )
    est.add("AWS::Backup::BackupVault", made["BackupVaultArn"])
    est.add("AWS::Backup::BackupPlan", plan["BackupPlanArn"])
