"""Declared AWS resource specs: the list call, where the items are, and how to turn one into a Resource."""

from __future__ import annotations

import base64
import binascii
import json
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from driftscan.collect.limits import ApiLimits, RateLimit
from driftscan.redaction import Fingerprinter

Item = dict[str, Any]
ClientFor = Callable[[str, str], Any]


@dataclass(frozen=True)
class Reader:
    """Where a spec is being read: the account, region and client, plus a client factory."""

    account: str
    partition: str
    region: str  # an AWS region, or "global"
    client: Any
    client_for: ClientFor  # (service, region) → client; S3 buckets are read in their own region
    fingerprint: Fingerprinter  # the store's keyed fingerprints for secret values

    def arn(self, service: str, resource: str, *, region: str | None = None) -> str:
        where = self.region if region is None else region
        return f"arn:{self.partition}:{service}:{where}:{self.account}:{resource}"


@dataclass
class Found:
    """What a builder read from one item; the collector adds identity and provenance."""

    name: str
    tags: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    encrypted: bool | None = None
    public: bool | None = None
    region: str | None = None  # overrides the slice's region (S3 buckets)


@dataclass(frozen=True)
class ResourceSpec:
    """How to list one resource type (Cloud Custodian's `resource_type`, reduced)."""

    type: str
    call: str  # client method; paginated when botocore has a paginator for it
    items: str  # JMESPath to the items in each page
    key: Callable[[Reader, Item], str]
    build: Callable[[Reader, Item], Found]
    params: Mapping[str, Any] = field(default_factory=dict)
    # Extra read-only calls for one item (tags, attributes). They write fingerprints, never
    # secrets, into the item under "_" keys for `build` to pick up. Run concurrently across
    # items (the service's `fanout`), so they must only touch their own item.
    enrich: Callable[[Reader, Item], None] | None = None
    # The batch form of an enrichment, where the API has one (tags of 20 load balancers in one
    # call): called with up to `batch` items at a time (all of them when `batch` is 0), before
    # `enrich`.
    enrich_batch: Callable[[Reader, list[Item]], None] | None = None
    batch: int = 0
    # For a global listing whose items live in regions (S3 buckets): the item's region. The
    # items are then read as one slice per region, each with that region's client, so a slow
    # or denied region is a gap of its own.
    locate: Callable[[Reader, Item], str] | None = None


@dataclass(frozen=True)
class ServiceSpec:
    """One slice's worth of reading: a service in a region (or once per account when global)."""

    name: str
    client: str
    resources: tuple[ResourceSpec, ...]
    is_global: bool = False
    # The service's published request limits per account and region (None: none published;
    # botocore's adaptive retries still back off on throttling).
    limits: ApiLimits | None = None
    # How many items' enrichment calls run at once within one slice.
    fanout: int = 16

    @property
    def types(self) -> list[str]:
        return [r.type for r in self.resources]


# --- small helpers -------------------------------------------------------------------------


def tag_dict(
    tags: Iterable[Mapping[str, Any]] | None, k: str = "Key", v: str = "Value"
) -> dict[str, str]:
    """[{Key, Value}, ...] → {key: value}."""
    return {str(t[k]): str(t.get(v, "")) for t in tags or []}


def iso(value: Any) -> str | None:
    return (
        value.isoformat()
        if isinstance(value, datetime)
        else (None if value is None else str(value))
    )


DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "AuthFailure",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "OptInRequired",
    }
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_denied(exc: ClientError) -> bool:
    """True when AWS refused the call for want of a permission or valid credentials."""
    code = error_code(exc)
    return code in DENIED_CODES or "NotAuthorized" in code


def missing(exc: ClientError, *codes: str) -> bool:
    """True when a Get call failed only because the optional configuration is not set."""
    return exc.response.get("Error", {}).get("Code") in codes


def optional_get(call: Callable[..., Any], codes: tuple[str, ...], **kwargs: Any) -> Any:
    """Call a Get API; a missing configuration (`codes`) is a value (None), not an error."""
    try:
        return call(**kwargs)
    except ClientError as exc:
        if missing(exc, *codes):
            return None
        raise


def _b64_fingerprint(fingerprint: Fingerprinter, value: str) -> str:
    try:
        return fingerprint(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return fingerprint(value)


def tagging_api(resource_type: str, arn_field: str) -> Callable[[Reader, list[Item]], None]:
    """Tags of every `resource_type` resource of the region from the Resource Groups Tagging
    API, 100 a call, instead of a tag call per resource. A resource it does not list has no
    tags. Denied (the role lacks tag:GetResources): the items keep no `_tags`, and their own
    `enrich` reads them one by one."""

    def enrich(r: Reader, items: list[Item]) -> None:
        client = r.client_for("resourcegroupstaggingapi", r.region)
        pages = client.get_paginator("get_resources").paginate(
            ResourceTypeFilters=[resource_type], ResourcesPerPage=100
        )
        try:
            tags = {
                str(m["ResourceARN"]): tag_dict(m.get("Tags"))
                for m in pages.search("ResourceTagMappingList[]")
            }
        except ClientError as exc:
            if not is_denied(exc):
                raise
            return
        for i in items:
            i["_tags"] = tags.get(str(i[arn_field]), {})

    return enrich


# --- EC2 -----------------------------------------------------------------------------------


def _instance_user_data(r: Reader, item: Item) -> None:
    resp = r.client.describe_instance_attribute(InstanceId=item["InstanceId"], Attribute="userData")
    value = (resp.get("UserData") or {}).get("Value")
    # The script may hold secrets: keep only its fingerprint, drop the response at once.
    item["_user_data"] = _b64_fingerprint(r.fingerprint, value) if value else None


def _instance(r: Reader, i: Item) -> Found:
    tags = tag_dict(i.get("Tags"))
    return Found(
        name=tags.get("Name") or str(i["InstanceId"]),
        tags=tags,
        attrs={
            "instance_id": i["InstanceId"],
            "state": i["State"]["Name"],
            "image_id": i.get("ImageId"),
            "instance_type": i.get("InstanceType"),
            "subnet_id": i.get("SubnetId"),
            "vpc_id": i.get("VpcId"),
            "security_groups": sorted(g["GroupId"] for g in i.get("SecurityGroups", [])),
            "private_ip": i.get("PrivateIpAddress"),
            "public_ip": i.get("PublicIpAddress"),
            "iam_instance_profile": (i.get("IamInstanceProfile") or {}).get("Arn"),
            "launch_time": iso(i.get("LaunchTime")),
            "user_data": i.get("_user_data"),
        },
        public=bool(i.get("PublicIpAddress")),
    )


def _rules(perms: list[Item]) -> list[Item]:
    rules = []
    for p in perms:
        rules.append(
            {
                "protocol": p.get("IpProtocol"),
                "from_port": p.get("FromPort"),
                "to_port": p.get("ToPort"),
                "cidrs": sorted(x["CidrIp"] for x in p.get("IpRanges", [])),
                "ipv6_cidrs": sorted(x["CidrIpv6"] for x in p.get("Ipv6Ranges", [])),
                "groups": sorted(
                    x["GroupId"] for x in p.get("UserIdGroupPairs", []) if "GroupId" in x
                ),
                "prefix_lists": sorted(x["PrefixListId"] for x in p.get("PrefixListIds", [])),
            }
        )
    return sorted(rules, key=json.dumps)


def _security_group(r: Reader, g: Item) -> Found:
    ingress = _rules(g.get("IpPermissions", []))
    open_world = any(
        {"0.0.0.0/0"} & set(x["cidrs"]) or {"::/0"} & set(x["ipv6_cidrs"]) for x in ingress
    )
    return Found(
        name=g["GroupName"],
        tags=tag_dict(g.get("Tags")),
        attrs={
            "group_id": g["GroupId"],
            "description": g.get("Description"),
            "vpc_id": g.get("VpcId"),
            "ingress": ingress,
            "egress": _rules(g.get("IpPermissionsEgress", [])),
        },
        public=open_world,
    )


def _vpc(r: Reader, v: Item) -> Found:
    tags = tag_dict(v.get("Tags"))
    return Found(
        name=tags.get("Name") or str(v["VpcId"]),
        tags=tags,
        attrs={
            "vpc_id": v["VpcId"],
            "cidr_block": v.get("CidrBlock"),
            "cidr_blocks": sorted(c["CidrBlock"] for c in v.get("CidrBlockAssociationSet", [])),
            "is_default": v.get("IsDefault"),
            "state": v.get("State"),
            "instance_tenancy": v.get("InstanceTenancy"),
        },
    )


def _subnet(r: Reader, s: Item) -> Found:
    tags = tag_dict(s.get("Tags"))
    return Found(
        name=tags.get("Name") or str(s["SubnetId"]),
        tags=tags,
        attrs={
            "subnet_id": s["SubnetId"],
            "vpc_id": s.get("VpcId"),
            "cidr_block": s.get("CidrBlock"),
            "availability_zone": s.get("AvailabilityZone"),
            "map_public_ip_on_launch": s.get("MapPublicIpOnLaunch"),
            "state": s.get("State"),
        },
    )


def _volume(r: Reader, v: Item) -> Found:
    tags = tag_dict(v.get("Tags"))
    return Found(
        name=tags.get("Name") or str(v["VolumeId"]),
        tags=tags,
        attrs={
            "volume_id": v["VolumeId"],
            "size_gib": v.get("Size"),
            "volume_type": v.get("VolumeType"),
            "state": v.get("State"),
            "availability_zone": v.get("AvailabilityZone"),
            "encrypted": bool(v["Encrypted"]),
            "kms_key_id": v.get("KmsKeyId"),
            "iops": v.get("Iops"),
            "attached_to": sorted(a["InstanceId"] for a in v.get("Attachments", [])),
        },
        encrypted=bool(v["Encrypted"]),
    )


def _ec2_arn(kind: str, id_field: str) -> Callable[[Reader, Item], str]:
    return lambda r, i: r.arn("ec2", f"{kind}/{i[id_field]}")


EC2 = ServiceSpec(
    "ec2",
    "ec2",
    (
        ResourceSpec(
            "AWS::EC2::Instance",
            "describe_instances",
            "Reservations[].Instances[]",
            key=_ec2_arn("instance", "InstanceId"),
            build=_instance,
            enrich=_instance_user_data,
        ),
        ResourceSpec(
            "AWS::EC2::SecurityGroup",
            "describe_security_groups",
            "SecurityGroups",
            key=_ec2_arn("security-group", "GroupId"),
            build=_security_group,
        ),
        ResourceSpec(
            "AWS::EC2::VPC", "describe_vpcs", "Vpcs", key=_ec2_arn("vpc", "VpcId"), build=_vpc
        ),
        ResourceSpec(
            "AWS::EC2::Subnet",
            "describe_subnets",
            "Subnets",
            key=_ec2_arn("subnet", "SubnetId"),
            build=_subnet,
        ),
        ResourceSpec(
            "AWS::EC2::Volume",
            "describe_volumes",
            "Volumes",
            key=_ec2_arn("volume", "VolumeId"),
            build=_volume,
        ),
    ),
    # "Request throttling for the Amazon EC2 API": non-mutating actions (Describe*), a bucket
    # of 100 tokens refilled at 20 a second, per account and region.
    limits=ApiLimits({"Describe*": RateLimit(100, 20)}),
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

# --- ELBv2 ---------------------------------------------------------------------------------


def _elb_tags(arn_field: str) -> Callable[[Reader, list[Item]], None]:
    """DescribeTags for up to 20 load balancers or target groups in one call."""

    def enrich(r: Reader, items: list[Item]) -> None:
        resp = r.client.describe_tags(ResourceArns=[i[arn_field] for i in items])
        tags = {str(d["ResourceArn"]): tag_dict(d.get("Tags")) for d in resp["TagDescriptions"]}
        for i in items:
            i["_tags"] = tags.get(i[arn_field], {})

    return enrich


def _tg_enrich(r: Reader, item: Item) -> None:
    health = r.client.describe_target_health(TargetGroupArn=item["TargetGroupArn"])
    item["_targets"] = sorted(
        (
            {
                "id": t["Target"]["Id"],
                "port": t["Target"].get("Port"),
                "state": (t.get("TargetHealth") or {}).get("State"),
                "reason": (t.get("TargetHealth") or {}).get("Reason"),
            }
            for t in health.get("TargetHealthDescriptions", [])
        ),
        key=lambda t: (str(t["id"]), t["port"] or 0),
    )


def _load_balancer(r: Reader, lb: Item) -> Found:
    return Found(
        name=lb["LoadBalancerName"],
        tags=lb.get("_tags", {}),
        attrs={
            "type": lb.get("Type"),
            "scheme": lb["Scheme"],
            "state": (lb.get("State") or {}).get("Code"),
            "vpc_id": lb.get("VpcId"),
            "dns_name": lb.get("DNSName"),
            "availability_zones": sorted(z["ZoneName"] for z in lb.get("AvailabilityZones", [])),
            "subnets": sorted(
                z["SubnetId"] for z in lb.get("AvailabilityZones", []) if "SubnetId" in z
            ),
            "security_groups": sorted(lb.get("SecurityGroups", [])),
        },
        public=lb["Scheme"] == "internet-facing",
    )


def _target_group(r: Reader, tg: Item) -> Found:
    return Found(
        name=tg["TargetGroupName"],
        tags=tg.get("_tags", {}),
        attrs={
            "protocol": tg.get("Protocol"),
            "port": tg.get("Port"),
            "vpc_id": tg.get("VpcId"),
            "target_type": tg.get("TargetType"),
            "health_check": {
                "protocol": tg.get("HealthCheckProtocol"),
                "port": tg.get("HealthCheckPort"),
                "path": tg.get("HealthCheckPath"),
            },
            "load_balancers": sorted(tg.get("LoadBalancerArns", [])),
            "targets": tg.get("_targets", []),
        },
    )


ELBV2 = ServiceSpec(
    "elbv2",
    "elbv2",
    (
        ResourceSpec(
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "describe_load_balancers",
            "LoadBalancers",
            key=lambda r, lb: str(lb["LoadBalancerArn"]),
            build=_load_balancer,
            enrich_batch=_elb_tags("LoadBalancerArn"),
            batch=20,
        ),
        ResourceSpec(
            "AWS::ElasticLoadBalancingV2::TargetGroup",
            "describe_target_groups",
            "TargetGroups",
            key=lambda r, tg: str(tg["TargetGroupArn"]),
            build=_target_group,
            enrich=_tg_enrich,
            enrich_batch=_elb_tags("TargetGroupArn"),
            batch=20,
        ),
    ),
    # "Request throttling for the Elastic Load Balancing API": non-mutating actions, a bucket
    # of 40 tokens refilled at 10 a second, per account and region.
    limits=ApiLimits({"Describe*": RateLimit(40, 10)}),
)

# --- Lambda --------------------------------------------------------------------------------


def _function_tags(r: Reader, item: Item) -> None:
    if "_tags" not in item:  # the tagging API was denied: one call per function
        item["_tags"] = dict(r.client.list_tags(Resource=item["FunctionArn"]).get("Tags") or {})


def _function(r: Reader, f: Item) -> Found:
    variables = (f.get("Environment") or {}).get("Variables") or {}
    vpc = f.get("VpcConfig") or {}
    return Found(
        name=f["FunctionName"],
        tags=f.get("_tags", {}),
        attrs={
            "runtime": f.get("Runtime"),
            "handler": f.get("Handler"),
            "role": f.get("Role"),
            "memory_mb": f.get("MemorySize"),
            "timeout_s": f.get("Timeout"),
            "architectures": sorted(f.get("Architectures", [])),
            "code_sha256": f.get("CodeSha256"),
            "kms_key_arn": f.get("KMSKeyArn"),
            "layers": sorted(layer["Arn"] for layer in f.get("Layers", [])),
            "vpc_subnets": sorted(vpc.get("SubnetIds", [])),
            "vpc_security_groups": sorted(vpc.get("SecurityGroupIds", [])),
            # Names are configuration; values are often secrets: fingerprints only.
            "environment": {str(k): r.fingerprint(str(v)) for k, v in variables.items()},
        },
    )


LAMBDA = ServiceSpec(
    "lambda",
    "lambda",
    (
        ResourceSpec(
            "AWS::Lambda::Function",
            "list_functions",
            "Functions",
            key=lambda r, f: str(f["FunctionArn"]),
            build=_function,
            enrich=_function_tags,
            enrich_batch=tagging_api("lambda:function", "FunctionArn"),
        ),
    ),
    # Lambda quotas: control-plane requests, 15 a second per API (each operation its own).
    limits=ApiLimits({"ListFunctions": RateLimit(15, 15), "ListTags": RateLimit(15, 15)}),
)

# --- KMS -----------------------------------------------------------------------------------


def _key_enrich(r: Reader, item: Item) -> None:
    meta = r.client.describe_key(KeyId=item["KeyId"])["KeyMetadata"]
    item["_meta"] = meta
    item["_rotation"] = None
    if meta.get("KeyManager") != "CUSTOMER":
        item["_tags"] = {}
        return  # AWS-managed keys: rotation is AWS's, and their tags cannot be read
    if meta.get("KeyState") in ("Enabled", "Disabled") and meta.get(
        "KeySpec", "SYMMETRIC_DEFAULT"
    ) == ("SYMMETRIC_DEFAULT"):
        status = optional_get(
            r.client.get_key_rotation_status,
            ("KMSInvalidStateException", "UnsupportedOperationException"),
            KeyId=item["KeyId"],
        )
        item["_rotation"] = None if status is None else bool(status["KeyRotationEnabled"])
    if "_tags" not in item:  # the tagging API was denied: one call per key
        pages = r.client.get_paginator("list_resource_tags").paginate(KeyId=item["KeyId"])
        item["_tags"] = tag_dict(pages.search("Tags[]"), "TagKey", "TagValue")


def _key(r: Reader, k: Item) -> Found:
    meta = k["_meta"]
    return Found(
        name=k["KeyId"],
        tags=k.get("_tags", {}),
        attrs={
            "key_state": meta.get("KeyState"),
            "key_usage": meta.get("KeyUsage"),
            "key_spec": meta.get("KeySpec"),
            "key_manager": meta["KeyManager"],
            "customer_managed": meta["KeyManager"] == "CUSTOMER",
            "rotation_enabled": k.get("_rotation"),
            "origin": meta.get("Origin"),
            "multi_region": meta.get("MultiRegion"),
            "description": meta.get("Description"),
            "creation_date": iso(meta.get("CreationDate")),
        },
    )


KMS = ServiceSpec(
    "kms",
    "kms",
    (
        ResourceSpec(
            "AWS::KMS::Key",
            "list_keys",
            "Keys",
            key=lambda r, k: str(k["KeyArn"]),
            build=_key,
            enrich=_key_enrich,
            enrich_batch=tagging_api("kms:key", "KeyArn"),
        ),
    ),
    # "AWS KMS request quotas", per account and region and operation.
    limits=ApiLimits(
        {
            "ListKeys": RateLimit(100, 100),
            "DescribeKey": RateLimit(2000, 2000),
            "GetKeyRotationStatus": RateLimit(1000, 1000),
            "ListResourceTags": RateLimit(50, 50),
        }
    ),
)

# --- IAM (global) --------------------------------------------------------------------------


def _role_tags(r: Reader, items: list[Item]) -> None:
    # ListRoles leaves tags out; the authorization details carry every role's, 100 a page,
    # instead of one ListRoleTags call per role.
    pages = r.client.get_paginator("get_account_authorization_details").paginate(Filter=["Role"])
    tags = {str(d["RoleName"]): tag_dict(d.get("Tags")) for d in pages.search("RoleDetailList[]")}
    for i in items:
        i["_tags"] = tags.get(i["RoleName"], {})


def _trust_is_public(doc: Any) -> bool:
    """An Allow statement that trusts any principal ("*") without conditions."""
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    for st in statements if isinstance(statements, list) else [statements]:
        principal = st.get("Principal")
        aws = principal.get("AWS") if isinstance(principal, dict) else None
        anyone = principal == "*" or aws == "*" or (isinstance(aws, list) and "*" in aws)
        if st.get("Effect") == "Allow" and anyone and not st.get("Condition"):
            return True
    return False


def _role(r: Reader, role: Item) -> Found:
    trust = role.get("AssumeRolePolicyDocument")
    if isinstance(trust, str):  # botocore decodes it; a proxy or an old SDK may not
        trust = json.loads(urllib.parse.unquote(trust))
    return Found(
        name=role["RoleName"],
        tags=role.get("_tags", {}),
        attrs={
            "role_id": role.get("RoleId"),
            "path": role.get("Path"),
            "description": role.get("Description"),
            "max_session_duration": role.get("MaxSessionDuration"),
            "create_date": iso(role.get("CreateDate")),
            "trust_policy": trust,
        },
        public=_trust_is_public(trust),
    )


IAM = ServiceSpec(
    "iam",
    "iam",
    (
        ResourceSpec(
            "AWS::IAM::Role",
            "list_roles",
            "Roles",
            key=lambda r, role: str(role["Arn"]),
            build=_role,
            enrich_batch=_role_tags,
        ),
    ),
    is_global=True,
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

REGIONAL: tuple[ServiceSpec, ...] = (EC2, RDS, ELBV2, LAMBDA, KMS)
GLOBAL: tuple[ServiceSpec, ...] = (S3, IAM)
SERVICES: tuple[ServiceSpec, ...] = REGIONAL + GLOBAL
# Published limits by client name, for the collector's per-request pacing.
LIMITS: dict[str, ApiLimits] = {s.client: s.limits for s in SERVICES if s.limits is not None}
