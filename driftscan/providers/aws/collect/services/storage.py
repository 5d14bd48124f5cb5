"""AWS storage and data: S3 (buckets, the account's public access block), EBS snapshots and
default encryption, EFS, DynamoDB, RDS, Redshift, ElastiCache, OpenSearch, Kinesis, Backup."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from botocore.exceptions import ClientError

from driftscan.collect.limits import ApiLimits, PageChain, RateLimit
from driftscan.providers.aws.collect.specs import (
    Found,
    Item,
    Reader,
    ResourceSpec,
    ServiceSpec,
    iso,
    optional_get,
    tag_dict,
    tagging_api,
)

# --- policy documents (read for derived facts; only their fingerprint is kept) -------------


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def _statements(policy: str | None) -> list[Item] | None:
    """The statements of a JSON policy document; None when there is none or it is unreadable."""
    if not policy:
        return None
    try:
        doc = json.loads(policy)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    return [s for s in _as_list(doc.get("Statement")) if isinstance(s, dict)]


def _everyone(principal: Any) -> bool:
    """Principal "*" or {"AWS": "*"} (alone or in a list): anyone, signed or not."""
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return "*" in _as_list(principal.get("AWS"))
    return False


def _denies_insecure_transport(statements: list[Item]) -> bool:
    """A statement denies every S3 action to everyone when aws:SecureTransport is false (the
    AWS Config rule s3-bucket-ssl-requests-only's test; the statement's Resource is not read)."""
    for s in statements:
        actions = _as_list(s.get("Action"))
        if s.get("Effect") != "Deny" or not _everyone(s.get("Principal")):
            continue
        if not {"*", "s3:*"} & {str(a).lower() for a in actions}:
            continue
        for op, conditions in (s.get("Condition") or {}).items():
            if str(op).lower() != "bool" or not isinstance(conditions, dict):
                continue
            for k, v in conditions.items():
                if str(k).lower() == "aws:securetransport" and [
                    str(x).lower() for x in _as_list(v)
                ] == ["false"]:
                    return True
    return False


def _allows_anyone(statements: list[Item]) -> bool:
    """An Allow statement for everyone with no Condition: open to the Internet."""
    return any(
        s.get("Effect") == "Allow" and _everyone(s.get("Principal")) and not s.get("Condition")
        for s in statements
    )


# --- S3 (listed once per account; each bucket read in its own region) ---------------------


def _bucket_arn(r: Reader, item: Item) -> str:
    return f"arn:{r.partition}:s3:::{item['Name']}"


def _list_buckets(r: Reader) -> Iterator[Item]:
    """Every bucket of the account, each with its BucketRegion where that can be had in bulk.

    ListBuckets names each bucket's region on AWS. Where it does not (moto, S3-compatible
    endpoints), one region-filtered listing per region the source reads places most buckets,
    and only the rest cost a GetBucketLocation each (`_bucket_region`)."""
    pages = r.client.get_paginator("list_buckets").paginate()
    buckets: list[Item] = list(pages.search("Buckets[]"))
    if any("BucketRegion" not in b for b in buckets):
        placed = _placed(r)
        for b in buckets:
            if "BucketRegion" not in b and b["Name"] in placed:
                b["BucketRegion"] = placed[b["Name"]]
    return iter(buckets)


def _placed(r: Reader) -> dict[str, str]:
    """{bucket: region} from ListBuckets filtered by each of the source's regions, or nothing.

    An endpoint that ignores the filter answers every region with every bucket, which only
    shows with two listings or more (a bucket in two regions): with fewer regions, or any
    error, nothing is placed and each bucket's own location is asked, as before."""
    if len(r.regions) < 2:
        return {}
    where: dict[str, str] = {}
    try:
        for region in r.regions:
            pages = r.client.get_paginator("list_buckets").paginate(BucketRegion=region)
            for name in pages.search("Buckets[].Name"):
                if name in where:
                    return {}
                where[str(name)] = region
    except ClientError:
        return {}
    return where


def _bucket_region(r: Reader, item: Item) -> str:
    # BucketRegion from the listing (`_list_buckets`), else one GetBucketLocation call.
    loc = item.get("BucketRegion")
    if loc is None:
        loc = r.client.get_bucket_location(Bucket=item["Name"]).get("LocationConstraint")
    return str({None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(loc, loc))


def _bucket_enrich(r: Reader, item: Item) -> None:
    """The bucket's settings, through its own region's client (r.client): 5 calls a bucket
    without a policy or versioning, one more for each (and one more where no listing placed
    the bucket in its region, one more for its tags where the tagging API is denied)."""
    bucket = item["Name"]
    s3 = r.client
    enc = optional_get(
        s3.get_bucket_encryption, ("ServerSideEncryptionConfigurationNotFoundError",), Bucket=bucket
    )
    rules = ((enc or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules", [])
    item["_encryption"] = [
        {
            "algorithm": (x.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm"),
            "kms_key_id": (x.get("ApplyServerSideEncryptionByDefault") or {}).get("KMSMasterKeyID"),
            "bucket_key": x.get("BucketKeyEnabled"),
        }
        for x in rules
    ]
    pab = optional_get(
        s3.get_public_access_block, ("NoSuchPublicAccessBlockConfiguration",), Bucket=bucket
    )
    item["_pab"] = None if pab is None else dict(pab["PublicAccessBlockConfiguration"])
    policy = optional_get(s3.get_bucket_policy, ("NoSuchBucketPolicy",), Bucket=bucket)
    text = (policy or {}).get("Policy")
    # AWS's own verdict on the policy; a bucket without one has none to ask about (the
    # status call would answer NoSuchBucketPolicy): one call fewer for most buckets.
    status = (
        None
        if text is None
        else optional_get(s3.get_bucket_policy_status, ("NoSuchBucketPolicy",), Bucket=bucket)
    )
    item["_policy_public"] = False if status is None else bool(status["PolicyStatus"]["IsPublic"])
    # The policy may quote secrets (a Referer value, an external id): derived facts and a
    # fingerprint only.
    statements = _statements(text)
    item["_policy"] = (
        None
        if text is None
        else {
            "fingerprint": r.fingerprint(str(text)),
            "tls_only": None if statements is None else _denies_insecure_transport(statements),
        }
    )
    versioning = s3.get_bucket_versioning(Bucket=bucket)
    item["_versioning"] = versioning.get("Status", "Disabled")
    item["_mfa_delete"] = versioning.get("MFADelete", "Disabled")
    logging = s3.get_bucket_logging(Bucket=bucket).get("LoggingEnabled")
    item["_logging"] = (
        None
        if not logging
        else {
            "target_bucket": logging.get("TargetBucket"),
            "target_prefix": logging.get("TargetPrefix"),
        }
    )
    # Object Lock needs versioning, and a locked bucket's versioning cannot be suspended: a
    # bucket whose versioning is not Enabled has no lock to ask about (one call fewer).
    lock = (
        None
        if item["_versioning"] != "Enabled"
        else optional_get(
            s3.get_object_lock_configuration,
            ("ObjectLockConfigurationNotFoundError",),
            Bucket=bucket,
        )
    )
    lock_cfg = (lock or {}).get("ObjectLockConfiguration") or {}
    retention = (lock_cfg.get("Rule") or {}).get("DefaultRetention") or {}
    item["_object_lock"] = {
        "enabled": lock_cfg.get("ObjectLockEnabled") == "Enabled",
        "mode": retention.get("Mode"),
        "days": retention.get("Days"),
        "years": retention.get("Years"),
    }
    if "_tags" not in item:  # the tagging API was denied: the bucket's own tag call
        tagging = optional_get(s3.get_bucket_tagging, ("NoSuchTagSet",), Bucket=bucket)
        item["_tags"] = tag_dict((tagging or {}).get("TagSet"))


def _bucket(r: Reader, b: Item) -> Found:
    pab = b["_pab"]
    policy = b["_policy"]
    # A public policy has no effect while the bucket's RestrictPublicBuckets is on (the
    # account's own block is the AWS::S3::AccountPublicAccessBlock resource).
    public = b["_policy_public"] and not (pab or {}).get("RestrictPublicBuckets", False)
    return Found(
        name=b["Name"],
        region=b["_region"],
        tags=b["_tags"],
        attrs={
            "creation_date": iso(b.get("CreationDate")),
            "encryption": b["_encryption"],
            "public_access_block": pab,
            "policy_public": b["_policy_public"],
            # fingerprint of the policy document, null when the bucket has none
            "policy": None if policy is None else policy["fingerprint"],
            # the policy denies every request not sent over TLS (false without a policy)
            "tls_only": False if policy is None else policy["tls_only"],
            "versioning": b["_versioning"],
            "mfa_delete": b["_mfa_delete"],
            "logging": b["_logging"],  # {target_bucket, target_prefix} or null
            "object_lock": b["_object_lock"],  # {enabled, mode, days, years}
        },
        encrypted=bool(b["_encryption"]),
        public=bool(public),
    )


S3 = ServiceSpec(
    "s3",
    "s3",
    (
        ResourceSpec(
            "AWS::S3::Bucket",
            "list_buckets",
            "Buckets",
            key=_bucket_arn,
            lister=_list_buckets,
            build=_bucket,
            enrich=_bucket_enrich,
            # Tags a page at a time, per bucket region, instead of GetBucketTagging per bucket.
            enrich_batch=tagging_api("s3", _bucket_arn),
            locate=_bucket_region,
        ),
    ),
    is_global=True,
    fanout=32,  # no published limit for bucket-configuration reads
)

# The S3 Control endpoint is account-scoped: botocore's endpoint rules put the account id in
# front of the host (`<account>.s3-control.<region>.amazonaws.com`), for a custom endpoint too,
# and Config(inject_host_prefix=False) does not stop them. On an endpoint given as an IP
# address (an emulator on loopback) that name can never resolve, so the prefix is dropped there.
_ACCOUNT_ON_IP = re.compile(r"^\d{12}\.(?=(?:\d{1,3}\.){3}\d{1,3}$|localhost$)")


def drop_account_prefix_on_ip(request: Any, **_: Any) -> None:
    """A `before-sign.s3-control` handler (the sandbox's seeding registers it too)."""
    url = urlsplit(request.url)
    host = url.hostname or ""
    bare = _ACCOUNT_ON_IP.sub("", host)
    if bare != host:
        request.url = urlunsplit(url._replace(netloc=bare + (f":{url.port}" if url.port else "")))


def _account_pab(r: Reader) -> Iterator[Item]:
    """The account's S3 Block Public Access settings: one item, configured or not."""
    s3control = r.client
    s3control.meta.events.register(
        "before-sign.s3-control", drop_account_prefix_on_ip, unique_id="driftscan-s3control-ip-host"
    )
    got = optional_get(
        s3control.get_public_access_block,
        ("NoSuchPublicAccessBlockConfiguration",),
        AccountId=r.account,
    )
    yield {"_pab": None if got is None else dict(got["PublicAccessBlockConfiguration"])}


_PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def _account_pab_found(r: Reader, item: Item) -> Found:
    pab = item["_pab"]
    flags = {f: bool((pab or {}).get(f, False)) for f in _PAB_FLAGS}
    return Found(
        name=r.account,
        attrs={
            "configured": pab is not None,  # false: no account-level block at all
            "block_public_acls": flags["BlockPublicAcls"],
            "ignore_public_acls": flags["IgnorePublicAcls"],
            "block_public_policy": flags["BlockPublicPolicy"],
            "restrict_public_buckets": flags["RestrictPublicBuckets"],
            "all_blocked": all(flags.values()),
        },
    )


S3_ACCOUNT = ServiceSpec(
    "s3control",
    "s3control",
    (
        ResourceSpec(
            # AWS Config's type; AWS issues no ARN for it, so the key has the ARN shape of the
            # API that reads it: arn:<partition>:s3control::<account>:public-access-block.
            "AWS::S3::AccountPublicAccessBlock",
            "get_public_access_block",
            "PublicAccessBlockConfiguration",
            key=lambda r, i: f"arn:{r.partition}:s3control::{r.account}:public-access-block",
            build=_account_pab_found,
            lister=_account_pab,
        ),
    ),
    is_global=True,
)

# --- EBS: snapshots and the region's default encryption ------------------------------------


def _own_snapshots(r: Reader) -> Iterator[Item]:
    """Snapshots this account owns. The owner-id filter as well as OwnerIds=self: some
    endpoints (moto) answer `self` with every snapshot they hold."""
    pages = r.client.get_paginator("describe_snapshots").paginate(
        OwnerIds=["self"], Filters=[{"Name": "owner-id", "Values": [r.account]}]
    )
    for s in pages.search("Snapshots[]"):
        if s is not None and s.get("OwnerId") in (None, r.account):
            yield s


def _snapshot_permissions(r: Reader, item: Item) -> None:
    resp = r.client.describe_snapshot_attribute(
        SnapshotId=item["SnapshotId"], Attribute="createVolumePermission"
    )
    perms = resp.get("CreateVolumePermissions") or []
    item["_public"] = any(p.get("Group") == "all" for p in perms)
    item["_shared_with"] = sorted(str(p["UserId"]) for p in perms if p.get("UserId"))


def _snapshot(r: Reader, s: Item) -> Found:
    tags = tag_dict(s.get("Tags"))
    encrypted = s.get("Encrypted")
    return Found(
        name=tags.get("Name") or str(s["SnapshotId"]),
        tags=tags,
        attrs={
            "snapshot_id": s["SnapshotId"],
            "volume_id": s.get("VolumeId"),
            "volume_size_gib": s.get("VolumeSize"),
            "state": s.get("State"),
            "description": s.get("Description"),
            "start_time": iso(s.get("StartTime")),
            "encrypted": encrypted,
            "kms_key_id": s.get("KmsKeyId"),
            "storage_tier": s.get("StorageTier"),
            # createVolumePermission: group "all" makes it public; account ids it is shared with
            "public": s["_public"],
            "shared_with": s["_shared_with"],
        },
        encrypted=None if encrypted is None else bool(encrypted),
        public=s["_public"],
    )


def _ebs_default(r: Reader) -> Iterator[Item]:
    yield dict(r.client.get_ebs_encryption_by_default())


def _ebs_default_found(r: Reader, item: Item) -> Found:
    enabled = item.get("EbsEncryptionByDefault")
    return Found(
        name="ebs-encryption-by-default",
        attrs={
            # new volumes (and snapshot copies) in this region are encrypted without asking
            "enabled": enabled,
            "sse_type": item.get("SseType"),
        },
        encrypted=None if enabled is None else bool(enabled),
    )


EBS = ServiceSpec(
    "ebs",
    "ec2",
    (
        ResourceSpec(
            "AWS::EC2::Snapshot",
            "describe_snapshots",
            "Snapshots",
            # EBS snapshot ARNs carry no account: arn:<partition>:ec2:<region>::snapshot/<id>
            key=lambda r, s: f"arn:{r.partition}:ec2:{r.region}::snapshot/{s['SnapshotId']}",
            build=_snapshot,
            enrich=_snapshot_permissions,
            lister=_own_snapshots,
        ),
        ResourceSpec(
            # A regional setting, one per account and region; no AWS Config type or ARN exists,
            # so the key is arn:<partition>:ec2:<region>:<account>:ebs-encryption-by-default.
            "AWS::EC2::EBSEncryptionByDefault",
            "get_ebs_encryption_by_default",
            "EbsEncryptionByDefault",
            key=lambda r, i: r.arn("ec2", "ebs-encryption-by-default"),
            build=_ebs_default_found,
            lister=_ebs_default,
        ),
    ),
    # The same client as compute's EC2 spec, so the same limits: Describe* 100 then 20 a
    # second. GetEbsEncryptionByDefault (one call a region) is not a Describe and is unpaced.
    limits=ApiLimits({"Describe*": RateLimit(100, 20)}),
)

# --- EFS -----------------------------------------------------------------------------------


def _file_system(r: Reader, f: Item) -> Found:
    tags = tag_dict(f.get("Tags"))
    encrypted = f.get("Encrypted")
    return Found(
        name=f.get("Name") or tags.get("Name") or str(f["FileSystemId"]),
        tags=tags,
        attrs={
            "file_system_id": f["FileSystemId"],
            "encrypted": encrypted,
            "kms_key_id": f.get("KmsKeyId"),
            "performance_mode": f.get("PerformanceMode"),
            "throughput_mode": f.get("ThroughputMode"),
            "lifecycle_state": f.get("LifeCycleState"),
            "availability_zone": f.get("AvailabilityZoneName"),  # One Zone file systems only
            "mount_targets": f.get("NumberOfMountTargets"),
        },
        encrypted=None if encrypted is None else bool(encrypted),
    )


EFS = ServiceSpec(
    "efs",
    "efs",
    (
        ResourceSpec(
            "AWS::EFS::FileSystem",
            "describe_file_systems",
            "FileSystems",
            key=lambda r, f: str(
                f.get("FileSystemArn")
                or r.arn("elasticfilesystem", f"file-system/{f['FileSystemId']}")
            ),
            build=_file_system,
        ),
    ),
)

# --- DynamoDB ------------------------------------------------------------------------------


def _table_names(r: Reader) -> Iterator[Item]:
    for name in r.client.get_paginator("list_tables").paginate().search("TableNames[]"):
        if name is not None:
            yield {"TableName": name}


def _table_enrich(r: Reader, item: Item) -> None:
    """DescribeTable, DescribeContinuousBackups (PITR) and the table's tags: 3 calls a table."""
    ddb = r.client
    name = item["TableName"]
    item["_table"] = ddb.describe_table(TableName=name)["Table"]
    backups = ddb.describe_continuous_backups(TableName=name).get("ContinuousBackupsDescription")
    item["_pitr"] = ((backups or {}).get("PointInTimeRecoveryDescription") or {}).get(
        "PointInTimeRecoveryStatus"
    )
    arn = item["_table"].get("TableArn") or r.arn("dynamodb", f"table/{name}")
    tags = ddb.get_paginator("list_tags_of_resource").paginate(ResourceArn=arn)
    item["_tags"] = tag_dict(t for t in tags.search("Tags[]") if t is not None)


def _table(r: Reader, item: Item) -> Found:
    t = item["_table"]
    sse = t.get("SSEDescription")
    billing = (t.get("BillingModeSummary") or {}).get("BillingMode")
    return Found(
        name=item["TableName"],
        tags=item["_tags"],
        attrs={
            "status": t.get("TableStatus"),
            "billing_mode": billing or "PROVISIONED",
            "table_class": (t.get("TableClassSummary") or {}).get("TableClass"),
            "deletion_protection": t.get("DeletionProtectionEnabled"),
            # PITR: ENABLED | DISABLED (null when the API did not say)
            "point_in_time_recovery": item["_pitr"],
            # No SSEDescription: encrypted with an AWS-owned key (DynamoDB always encrypts).
            "sse_type": (sse or {}).get("SSEType") or ("AWS_OWNED" if sse is None else None),
            "sse_status": (sse or {}).get("Status"),
            "kms_key_arn": (sse or {}).get("KMSMasterKeyArn"),
            "stream_enabled": (t.get("StreamSpecification") or {}).get("StreamEnabled", False),
            "replicas": sorted(str(x.get("RegionName")) for x in t.get("Replicas") or []),
        },
        # DynamoDB encrypts every table at rest; what varies is whose key (sse_type).
        encrypted=True,
    )


DYNAMODB = ServiceSpec(
    "dynamodb",
    "dynamodb",
    (
        ResourceSpec(
            "AWS::DynamoDB::Table",
            "list_tables",
            "TableNames",
            key=lambda r, i: r.arn("dynamodb", f"table/{i['TableName']}"),
            build=_table,
            enrich=_table_enrich,
            lister=_table_names,
        ),
    ),
)

# --- RDS -----------------------------------------------------------------------------------


def _opt_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _db_instance(r: Reader, d: Item) -> Found:
    encrypted = _opt_bool(d.get("StorageEncrypted"))
    # Optional in the API (moto omits it unless it was set): null, not a parse error.
    public = _opt_bool(d.get("PubliclyAccessible"))
    return Found(
        name=d["DBInstanceIdentifier"],
        tags=tag_dict(d.get("TagList")),
        attrs={
            "engine": d.get("Engine"),
            "engine_version": d.get("EngineVersion"),
            "instance_class": d.get("DBInstanceClass"),
            "status": d.get("DBInstanceStatus"),
            "storage_encrypted": encrypted,
            "kms_key_id": d.get("KmsKeyId"),
            "publicly_accessible": public,
            "multi_az": d.get("MultiAZ"),
            "cluster": d.get("DBClusterIdentifier"),
            "vpc_id": (d.get("DBSubnetGroup") or {}).get("VpcId"),
            "security_groups": sorted(
                g["VpcSecurityGroupId"] for g in d.get("VpcSecurityGroups", [])
            ),
            "backup_retention_days": d.get("BackupRetentionPeriod"),
            "deletion_protection": d.get("DeletionProtection"),
            "auto_minor_version_upgrade": d.get("AutoMinorVersionUpgrade"),
        },
        encrypted=encrypted,
        public=public,
    )


def _db_cluster(r: Reader, c: Item) -> Found:
    encrypted = _opt_bool(c.get("StorageEncrypted"))
    # Multi-AZ DB clusters answer PubliclyAccessible; Aurora clusters do not (their
    # instances do): null then.
    public = _opt_bool(c.get("PubliclyAccessible"))
    return Found(
        name=c["DBClusterIdentifier"],
        tags=tag_dict(c.get("TagList")),
        attrs={
            "engine": c.get("Engine"),
            "engine_version": c.get("EngineVersion"),
            "engine_mode": c.get("EngineMode"),
            "status": c.get("Status"),
            "storage_encrypted": encrypted,
            "kms_key_id": c.get("KmsKeyId"),
            "publicly_accessible": public,
            "multi_az": c.get("MultiAZ"),
            "members": sorted(
                str(m["DBInstanceIdentifier"]) for m in c.get("DBClusterMembers") or []
            ),
            "security_groups": sorted(
                g["VpcSecurityGroupId"] for g in c.get("VpcSecurityGroups", [])
            ),
            "iam_auth": c.get("IAMDatabaseAuthenticationEnabled"),
            "backup_retention_days": c.get("BackupRetentionPeriod"),
            "deletion_protection": c.get("DeletionProtection"),
        },
        encrypted=encrypted,
        public=public,
    )


def _restore_grants(values: list[Item]) -> tuple[bool, list[str]]:
    """(public, shared-with accounts) from a snapshot's attributes: restore=all is public."""
    restore = [
        str(v)
        for a in values
        if a.get("AttributeName") == "restore"
        for v in a.get("AttributeValues") or []
    ]
    return "all" in restore, sorted(v for v in restore if v != "all")


def _db_snapshot_attrs(r: Reader, item: Item) -> None:
    if item.get("SnapshotType") == "automated":  # automated snapshots cannot be shared
        item["_public"], item["_shared_with"] = False, []
        return
    resp = r.client.describe_db_snapshot_attributes(
        DBSnapshotIdentifier=item["DBSnapshotIdentifier"]
    )
    attrs = (resp.get("DBSnapshotAttributesResult") or {}).get("DBSnapshotAttributes") or []
    item["_public"], item["_shared_with"] = _restore_grants(attrs)


def _db_cluster_snapshot_attrs(r: Reader, item: Item) -> None:
    if item.get("SnapshotType") == "automated":
        item["_public"], item["_shared_with"] = False, []
        return
    resp = r.client.describe_db_cluster_snapshot_attributes(
        DBClusterSnapshotIdentifier=item["DBClusterSnapshotIdentifier"]
    )
    result = resp.get("DBClusterSnapshotAttributesResult") or {}
    item["_public"], item["_shared_with"] = _restore_grants(
        result.get("DBClusterSnapshotAttributes") or []
    )


def _snapshot_found(s: Item, name: str, source: str | None, encrypted: Any) -> Found:
    enc = _opt_bool(encrypted)
    return Found(
        name=name,
        tags=tag_dict(s.get("TagList")),
        attrs={
            "source": source,  # the instance or cluster it was taken of
            "snapshot_type": s.get("SnapshotType"),  # manual | automated | awsbackup | ...
            "engine": s.get("Engine"),
            "engine_version": s.get("EngineVersion"),
            "status": s.get("Status"),
            "created": iso(s.get("SnapshotCreateTime")),
            "encrypted": enc,
            "kms_key_id": s.get("KmsKeyId"),
            # the `restore` attribute: "all" makes it public; account ids it is shared with
            "public": s["_public"],
            "shared_with": s["_shared_with"],
        },
        encrypted=enc,
        public=s["_public"],
    )


RDS = ServiceSpec(
    "rds",
    "rds",
    (
        ResourceSpec(
            "AWS::RDS::DBInstance",
            "describe_db_instances",
            "DBInstances",
            key=lambda r, d: str(d["DBInstanceArn"]),
            build=_db_instance,
        ),
        ResourceSpec(
            "AWS::RDS::DBCluster",
            "describe_db_clusters",
            "DBClusters",
            key=lambda r, c: str(c["DBClusterArn"]),
            build=_db_cluster,
        ),
        ResourceSpec(
            "AWS::RDS::DBSnapshot",
            "describe_db_snapshots",
            "DBSnapshots",
            key=lambda r, s: str(s["DBSnapshotArn"]),
            build=lambda r, s: _snapshot_found(
                s, s["DBSnapshotIdentifier"], s.get("DBInstanceIdentifier"), s.get("Encrypted")
            ),
            enrich=_db_snapshot_attrs,
        ),
        ResourceSpec(
            "AWS::RDS::DBClusterSnapshot",
            "describe_db_cluster_snapshots",
            "DBClusterSnapshots",
            key=lambda r, s: str(s["DBClusterSnapshotArn"]),
            build=lambda r, s: _snapshot_found(
                s,
                s["DBClusterSnapshotIdentifier"],
                s.get("DBClusterIdentifier"),
                s.get("StorageEncrypted"),
            ),
            enrich=_db_cluster_snapshot_attrs,
        ),
    ),
)

# --- Redshift ------------------------------------------------------------------------------


def _redshift_cluster(r: Reader, c: Item) -> Found:
    encrypted = _opt_bool(c.get("Encrypted"))
    public = _opt_bool(c.get("PubliclyAccessible"))
    return Found(
        name=c["ClusterIdentifier"],
        tags=tag_dict(c.get("Tags")),
        attrs={
            "status": c.get("ClusterStatus"),
            "node_type": c.get("NodeType"),
            "nodes": c.get("NumberOfNodes"),
            "version": c.get("ClusterVersion"),
            "encrypted": encrypted,
            "kms_key_id": c.get("KmsKeyId"),
            "publicly_accessible": public,
            "vpc_id": c.get("VpcId"),
            "security_groups": sorted(
                g["VpcSecurityGroupId"] for g in c.get("VpcSecurityGroups", [])
            ),
            "enhanced_vpc_routing": c.get("EnhancedVpcRouting"),
            "snapshot_retention_days": c.get("AutomatedSnapshotRetentionPeriod"),
            "parameter_groups": sorted(
                str(p["ParameterGroupName"]) for p in c.get("ClusterParameterGroups") or []
            ),
        },
        encrypted=encrypted,
        public=public,
    )


REDSHIFT = ServiceSpec(
    "redshift",
    "redshift",
    (
        ResourceSpec(
            "AWS::Redshift::Cluster",
            "describe_clusters",
            "Clusters",
            key=lambda r, c: r.arn("redshift", f"cluster:{c['ClusterIdentifier']}"),
            build=_redshift_cluster,
        ),
    ),
)

# --- ElastiCache ---------------------------------------------------------------------------


def _replication_group_arn(r: Reader, g: Item) -> str:
    return str(g.get("ARN") or r.arn("elasticache", f"replicationgroup:{g['ReplicationGroupId']}"))


def _replication_group_tags(r: Reader, item: Item) -> None:
    resp = r.client.list_tags_for_resource(ResourceName=_replication_group_arn(r, item))
    item["_tags"] = tag_dict(resp.get("TagList"))


def _replication_group(r: Reader, g: Item) -> Found:
    at_rest = _opt_bool(g.get("AtRestEncryptionEnabled"))
    return Found(
        name=g["ReplicationGroupId"],
        tags=g["_tags"],
        attrs={
            "description": g.get("Description"),
            "status": g.get("Status"),
            "engine": g.get("Engine"),
            "node_type": g.get("CacheNodeType"),
            "members": sorted(str(m) for m in g.get("MemberClusters") or []),
            "cluster_mode": g.get("ClusterEnabled"),
            "multi_az": g.get("MultiAZ"),
            "automatic_failover": g.get("AutomaticFailover"),
            "at_rest_encryption": at_rest,
            "transit_encryption": g.get("TransitEncryptionEnabled"),
            "transit_encryption_mode": g.get("TransitEncryptionMode"),
            "auth_token_enabled": g.get("AuthTokenEnabled"),
            "kms_key_id": g.get("KmsKeyId"),
            "snapshot_retention_days": g.get("SnapshotRetentionLimit"),
        },
        encrypted=at_rest,
    )


ELASTICACHE = ServiceSpec(
    "elasticache",
    "elasticache",
    (
        ResourceSpec(
            "AWS::ElastiCache::ReplicationGroup",
            "describe_replication_groups",
            "ReplicationGroups",
            key=_replication_group_arn,
            build=_replication_group,
            enrich=_replication_group_tags,
        ),
    ),
)

# --- OpenSearch Service --------------------------------------------------------------------


def _domain_enrich(r: Reader, item: Item) -> None:
    """DescribeDomain and ListTags: 2 calls a domain (both GETs)."""
    status = r.client.describe_domain(DomainName=item["DomainName"])["DomainStatus"]
    item["_domain"] = status
    tags = r.client.list_tags(ARN=status.get("ARN") or _domain_arn(r, item)).get("TagList")
    item["_tags"] = tag_dict(tags)


def _domain_arn(r: Reader, d: Item) -> str:
    return r.arn("es", f"domain/{d['DomainName']}")


def _domain(r: Reader, item: Item) -> Found:
    d = item["_domain"]
    at_rest = d.get("EncryptionAtRestOptions") or {}
    endpoint = d.get("DomainEndpointOptions") or {}
    vpc = d.get("VPCOptions") or {}
    policy = d.get("AccessPolicies") or None
    statements = _statements(policy)
    in_vpc = bool(vpc.get("VPCId") or vpc.get("SubnetIds"))
    encrypted = _opt_bool(at_rest.get("Enabled"))
    return Found(
        name=item["DomainName"],
        tags=item["_tags"],
        attrs={
            "engine_version": d.get("EngineVersion"),
            "instance_type": (d.get("ClusterConfig") or {}).get("InstanceType"),
            "instance_count": (d.get("ClusterConfig") or {}).get("InstanceCount"),
            "encryption_at_rest": encrypted,
            "kms_key_id": at_rest.get("KmsKeyId"),
            "node_to_node_encryption": (d.get("NodeToNodeEncryptionOptions") or {}).get("Enabled"),
            "enforce_https": endpoint.get("EnforceHTTPS"),
            "tls_security_policy": endpoint.get("TLSSecurityPolicy"),
            "vpc_id": vpc.get("VPCId"),
            "subnets": sorted(vpc.get("SubnetIds") or []),
            "fine_grained_access": (d.get("AdvancedSecurityOptions") or {}).get("Enabled"),
            # fingerprint of the access policy (it may name secrets), and whether it lets
            # anyone in without a condition
            "access_policy": None if policy is None else r.fingerprint(str(policy)),
            "policy_allows_anyone": None if statements is None else _allows_anyone(statements),
        },
        encrypted=encrypted,
        # An Internet endpoint (no VPC) whose access policy admits anyone.
        public=not in_vpc and bool(statements) and _allows_anyone(statements or []),
    )


OPENSEARCH = ServiceSpec(
    "opensearch",
    "opensearch",
    (
        ResourceSpec(
            "AWS::OpenSearchService::Domain",
            "list_domain_names",
            "DomainNames",
            key=_domain_arn,
            build=_domain,
            enrich=_domain_enrich,
        ),
    ),
)

# --- Kinesis Data Streams ------------------------------------------------------------------


def _stream_enrich(r: Reader, item: Item) -> None:
    """DescribeStreamSummary and the stream's tags (ListTagsForStream, 50 a page)."""
    k = r.client
    name = item["StreamName"]
    item["_summary"] = k.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    tags: list[Item] = []
    start: dict[str, Any] = {}
    chain = PageChain("ListTagsForStream: ExclusiveStartTagKey")
    while True:
        resp = k.list_tags_for_stream(StreamName=name, **start)
        page = resp.get("Tags") or []
        tags += page
        if not resp.get("HasMoreTags") or not page:
            break
        start = {"ExclusiveStartTagKey": chain.follow(str(page[-1]["Key"]))}
    item["_tags"] = tag_dict(tags)


def _stream(r: Reader, item: Item) -> Found:
    s = item["_summary"]
    encryption = s.get("EncryptionType")
    return Found(
        name=item["StreamName"],
        tags=item["_tags"],
        attrs={
            "status": s.get("StreamStatus"),
            "mode": (s.get("StreamModeDetails") or {}).get("StreamMode"),
            "retention_hours": s.get("RetentionPeriodHours"),
            "open_shards": s.get("OpenShardCount"),
            "encryption": encryption,  # KMS | NONE
            "kms_key_id": s.get("KeyId"),
        },
        encrypted=None if encryption is None else encryption == "KMS",
    )


KINESIS = ServiceSpec(
    "kinesis",
    "kinesis",
    (
        ResourceSpec(
            "AWS::Kinesis::Stream",
            "list_streams",
            "StreamSummaries",
            key=lambda r, s: str(
                s.get("StreamARN") or r.arn("kinesis", f"stream/{s['StreamName']}")
            ),
            build=_stream,
            enrich=_stream_enrich,
        ),
    ),
    # Kinesis Data Streams quotas, per account and region: ListStreams and ListTagsForStream
    # 5 a second, DescribeStreamSummary 20 a second.
    limits=ApiLimits(
        {
            "ListStreams": RateLimit(5, 5),
            "ListTagsForStream": RateLimit(5, 5),
            "DescribeStreamSummary": RateLimit(20, 20),
        }
    ),
    fanout=8,
)

# --- AWS Backup ----------------------------------------------------------------------------


def _backup_tags(r: Reader, arn: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    token: dict[str, str] = {}
    chain = PageChain("Backup ListTags: NextToken")
    while True:
        resp = r.client.list_tags(ResourceArn=arn, **token)
        tags.update({str(k): str(v) for k, v in (resp.get("Tags") or {}).items()})
        if not resp.get("NextToken"):
            return tags
        token = {"NextToken": chain.follow(str(resp["NextToken"]))}


def _vault_tags(r: Reader, item: Item) -> None:
    item["_tags"] = _backup_tags(r, str(item["BackupVaultArn"]))


def _vault(r: Reader, v: Item) -> Found:
    key_arn = v.get("EncryptionKeyArn")
    return Found(
        name=v["BackupVaultName"],
        tags=v["_tags"],
        attrs={
            # AWS Backup encrypts every vault; this is the key (AWS managed or the customer's)
            "encryption_key_arn": key_arn,
            "locked": v.get("Locked"),  # Vault Lock: recovery points cannot be deleted early
            "min_retention_days": v.get("MinRetentionDays"),
            "max_retention_days": v.get("MaxRetentionDays"),
            "lock_date": iso(v.get("LockDate")),
            "vault_type": v.get("VaultType"),
        },
        encrypted=True if key_arn else None,
    )


def _plan_enrich(r: Reader, item: Item) -> None:
    item["_plan"] = r.client.get_backup_plan(BackupPlanId=item["BackupPlanId"]).get("BackupPlan")
    item["_tags"] = _backup_tags(r, str(item["BackupPlanArn"]))


def _plan(r: Reader, p: Item) -> Found:
    plan = p["_plan"] or {}
    rules = [
        {
            "name": x.get("RuleName"),
            "target_vault": x.get("TargetBackupVaultName"),
            "schedule": x.get("ScheduleExpression"),
            "delete_after_days": (x.get("Lifecycle") or {}).get("DeleteAfterDays"),
            "cold_after_days": (x.get("Lifecycle") or {}).get("MoveToColdStorageAfterDays"),
            "continuous": x.get("EnableContinuousBackup"),
            "copy_to": sorted(
                str(c.get("DestinationBackupVaultArn")) for c in x.get("CopyActions") or []
            ),
        }
        for x in plan.get("Rules") or []
    ]
    return Found(
        name=p.get("BackupPlanName") or plan.get("BackupPlanName") or str(p["BackupPlanId"]),
        tags=p["_tags"],
        attrs={
            "plan_id": p["BackupPlanId"],
            "version_id": p.get("VersionId"),
            "rules": sorted(rules, key=lambda x: str(x["name"])),
        },
    )


BACKUP = ServiceSpec(
    "backup",
    "backup",
    (
        ResourceSpec(
            "AWS::Backup::BackupVault",
            "list_backup_vaults",
            "BackupVaultList",
            key=lambda r, v: str(v["BackupVaultArn"]),
            build=_vault,
            enrich=_vault_tags,
        ),
        ResourceSpec(
            "AWS::Backup::BackupPlan",
            "list_backup_plans",
            "BackupPlansList",
            key=lambda r, p: str(p["BackupPlanArn"]),
            build=_plan,
            enrich=_plan_enrich,
        ),
    ),
)


REGIONAL: tuple[ServiceSpec, ...] = (
    RDS,
    EBS,
    EFS,
    DYNAMODB,
    REDSHIFT,
    ELASTICACHE,
    OPENSEARCH,
    KINESIS,
    BACKUP,
)
GLOBAL: tuple[ServiceSpec, ...] = (S3, S3_ACCOUNT)
