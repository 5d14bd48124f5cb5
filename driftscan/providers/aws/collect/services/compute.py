"""AWS compute: EC2 instances, security groups, VPCs, subnets and volumes; Lambda functions."""

from __future__ import annotations

import json
from collections.abc import Callable

from driftscan.collect.limits import ApiLimits, RateLimit
from driftscan.providers.aws.collect.specs import (
    Found,
    Item,
    Reader,
    ResourceSpec,
    ServiceSpec,
    b64_fingerprint,
    iso,
    tag_dict,
    tagging_api,
)

# --- EC2 -----------------------------------------------------------------------------------


def _instance_user_data(r: Reader, item: Item) -> None:
    resp = r.client.describe_instance_attribute(InstanceId=item["InstanceId"], Attribute="userData")
    value = (resp.get("UserData") or {}).get("Value")
    # The script may hold secrets: keep only its fingerprint, drop the response at once.
    item["_user_data"] = b64_fingerprint(r.fingerprint, value) if value else None


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

REGIONAL: tuple[ServiceSpec, ...] = (EC2, LAMBDA)
GLOBAL: tuple[ServiceSpec, ...] = ()
