"""AWS storage and databases: S3 buckets (each read in its own region), RDS instances."""

from __future__ import annotations

from driftscan.providers.aws.collect.specs import (
    Found,
    Item,
    Reader,
    ResourceSpec,
    ServiceSpec,
    iso,
    optional_get,
    tag_dict,
)

# --- RDS -----------------------------------------------------------------------------------


def _db_instance(r: Reader, d: Item) -> Found:
    return Found(
        name=d["DBInstanceIdentifier"],
        tags=tag_dict(d.get("TagList")),
        attrs={
            "engine": d["Engine"],
            "engine_version": d.get("EngineVersion"),
            "instance_class": d.get("DBInstanceClass"),
            "status": d.get("DBInstanceStatus"),
            "storage_encrypted": bool(d["StorageEncrypted"]),
            "kms_key_id": d.get("KmsKeyId"),
            "publicly_accessible": bool(d["PubliclyAccessible"]),
            "multi_az": d.get("MultiAZ"),
            "vpc_id": (d.get("DBSubnetGroup") or {}).get("VpcId"),
            "security_groups": sorted(
                g["VpcSecurityGroupId"] for g in d.get("VpcSecurityGroups", [])
            ),
            "backup_retention_days": d.get("BackupRetentionPeriod"),
            "deletion_protection": d.get("DeletionProtection"),
        },
        encrypted=bool(d["StorageEncrypted"]),
        public=bool(d["PubliclyAccessible"]),
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
    ),
)

# --- S3 (listed once per account; each bucket read in its own region) ---------------------


def _bucket_region(r: Reader, item: Item) -> str:
    # ListBuckets names each bucket's region (BucketRegion) where the API is new enough;
    # otherwise one GetBucketLocation call per bucket.
    loc = item.get("BucketRegion")
    if loc is None:
        loc = r.client.get_bucket_location(Bucket=item["Name"]).get("LocationConstraint")
    return str({None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(loc, loc))


def _bucket_enrich(r: Reader, item: Item) -> None:
    """The bucket's settings, through its own region's client (r.client)."""
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
    status = optional_get(s3.get_bucket_policy_status, ("NoSuchBucketPolicy",), Bucket=bucket)
    item["_policy_public"] = False if status is None else bool(status["PolicyStatus"]["IsPublic"])
    versioning = s3.get_bucket_versioning(Bucket=bucket)
    item["_versioning"] = versioning.get("Status", "Disabled")
    item["_mfa_delete"] = versioning.get("MFADelete", "Disabled")
    tagging = optional_get(s3.get_bucket_tagging, ("NoSuchTagSet",), Bucket=bucket)
    item["_tags"] = tag_dict((tagging or {}).get("TagSet"))


def _bucket(r: Reader, b: Item) -> Found:
    pab = b["_pab"]
    # A public policy has no effect while the bucket's RestrictPublicBuckets is on.
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
            "versioning": b["_versioning"],
            "mfa_delete": b["_mfa_delete"],
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
            key=lambda r, b: f"arn:{r.partition}:s3:::{b['Name']}",
            build=_bucket,
            enrich=_bucket_enrich,
            locate=_bucket_region,
        ),
    ),
    is_global=True,
    fanout=32,  # no published limit for bucket-configuration reads
)


REGIONAL: tuple[ServiceSpec, ...] = (RDS,)
GLOBAL: tuple[ServiceSpec, ...] = (S3,)
