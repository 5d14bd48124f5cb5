"""Terraform's AWS resource types → declarations in the shape of the AWS collector's resources.

Every type the collector reads (collect/services/*.py) has a mapping here that gives the key
the collector stores (its ARN, or the key the collector builds where the state has none) and
declares the attributes both sides know under the collector's names. Split resources that
the collector stores inside their parent (bucket settings, security group rules, route table
and policy attachments) fold into the parent's declaration. Values are read through
as_bool/as_int so format 3's text flatmaps declare what format 4 does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from driftscan.desired.tfmap import (
    Attrs,
    Mapped,
    TerraformMappings,
    TfContext,
    as_bool,
    as_int,
    as_list,
    clean,
    declared,
    first_block,
    sorted_strs,
    tags_of,
)
from driftscan.providers import Identity
from driftscan.providers.aws.keys import identify

MAPPINGS = TerraformMappings()
# TfContext.index lookup names: id (or name) → ARN of resources seen in the same state.
_SG_ARNS = "aws_security_group"
_RT_ARNS = "aws_route_table"
_ROLE_ARNS = "aws_iam_role"
_USER_ARNS = "aws_iam_user"
_GROUP_ARNS = "aws_iam_group"
_WHERE = "aws_where"  # ":account" / ":region": value → how many ARNs of the state name it
_REGION_OF = "aws_region_of"  # id → the region of its ARN
_BY_ID = {
    "aws_security_group": _SG_ARNS,
    "aws_default_security_group": _SG_ARNS,
    "aws_route_table": _RT_ARNS,
    "aws_default_route_table": _RT_ARNS,
}
_BY_NAME = {"aws_iam_role": _ROLE_ARNS, "aws_iam_user": _USER_ARNS, "aws_iam_group": _GROUP_ARNS}

# Types whose `arn` looks like a collected resource's but is not one: an alias or version of
# a function, an object in a bucket, a topic's subscription, a log stream, a secret's value.
MAPPINGS.not_resources |= {
    "aws_lambda_alias",
    "aws_lambda_permission",
    "aws_lambda_provisioned_concurrency_config",
    "aws_s3_object",
    "aws_s3_bucket_object",
    "aws_s3_object_copy",
    "aws_sns_topic_subscription",
    "aws_sns_topic_policy",
    "aws_sns_topic_data_protection_policy",
    "aws_cloudwatch_log_stream",
    "aws_secretsmanager_secret_version",
    "aws_secretsmanager_secret_policy",
    "aws_kms_ciphertext",
    "aws_iam_role_policy",  # inline documents: the collector keeps fingerprints of its own text
    "aws_iam_user_policy",
    "aws_iam_group_policy",
    "aws_ecr_lifecycle_policy",
    "aws_ecr_repository_policy",
    "aws_s3_bucket_policy",
    "aws_sqs_queue_policy",
}


def _observe(tf_type: str, attrs: Attrs, ctx: TfContext) -> None:
    arn = attrs.get("arn")
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return
    if tf_type in _BY_ID and attrs.get("id"):
        ctx.index.setdefault(_BY_ID[tf_type], {})[str(attrs["id"])] = arn
    if tf_type in _BY_NAME and attrs.get("name"):
        ctx.index.setdefault(_BY_NAME[tf_type], {})[str(attrs["name"])] = arn
    parts = arn.split(":", 5)
    if len(parts) == 6:
        # The state's most common account and region (a CloudFront certificate in us-east-1
        # does not move a eu-central-1 state); and each id's region, for its dependants.
        for field_name, value in (("account", parts[4]), ("region", parts[3])):
            if value:
                seen = ctx.index.setdefault(f"{_WHERE}:{field_name}", {})
                seen[value] = str(int(seen.get(value, "0")) + 1)
        if parts[3] and attrs.get("id"):
            ctx.index.setdefault(_REGION_OF, {})[str(attrs["id"])] = parts[3]


def _fallback_key(attrs: Attrs) -> str | None:
    # Every type the collector reads has a mapping: an unmapped type whose ARN reads like one
    # of them is something inside it (a GuardDuty filter under its detector, a stream's
    # consumer, an S3 access point) and would be a false "missing". Only ARNs of types no
    # collector reads are kept, for presence.
    arn = attrs.get("arn")
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None
    ident = identify(arn)
    return arn if ident is None or ident.type is None else None


MAPPINGS.observers.append(_observe)
MAPPINGS.fallback_keys.append(_fallback_key)


def _aws(arn: str, typ: str, name: str | None, declared: dict[str, Any], *, part: bool = False,
         region: str | None = None, merge_lists: dict[str, list[Any]] | None = None) -> Mapped:  # fmt: skip
    ident = identify(arn) or Identity(arn)
    return Mapped(
        arn, "aws", typ, ident.account, region or ident.region, name, clean(declared), part,
        merge_lists or {},
    )  # fmt: skip


def _most(ctx: TfContext, field_name: str) -> str:
    seen = ctx.index.get(f"{_WHERE}:{field_name}", {})
    return max(sorted(seen), key=lambda k: int(seen[k]), default="")


def _where(ctx: TfContext, a: Attrs, *via: str) -> tuple[str, str, str]:
    """(partition, region, account) for keys the state does not write: the instance's own
    `region` (provider 6), else that of a resource it names (`via`: its subnet), else the
    state's most common; the account its ARNs name most."""
    region = a.get("region") if isinstance(a.get("region"), str) and a.get("region") else None
    of = ctx.index.get(_REGION_OF, {})
    region = region or next((of[str(a[v])] for v in via if str(a.get(v)) in of), None)
    return "aws", str(region or _most(ctx, "region")), _most(ctx, "account")


def _tag_name(a: Attrs) -> str | None:
    return (tags_of(a) or {}).get("Name") or (str(a["id"]) if a.get("id") else None)


# --- a declarative mapping for the many types that are an ARN plus attributes ---------------

Getter = Callable[[Attrs], Any]


def s(name: str) -> Getter:
    return lambda a: a.get(name) if a.get(name) not in ("", None) else None


def b(name: str) -> Getter:
    return lambda a: as_bool(a.get(name))


def n(name: str) -> Getter:
    return lambda a: as_int(a.get(name))


def ls(name: str) -> Getter:
    return lambda a: sorted_strs(a.get(name))


def blk(block: str, get: Getter) -> Getter:
    return lambda a: get(first_block(a.get(block))) if first_block(a.get(block)) else None


def simple(
    tf_types: tuple[str, ...],
    typ: str,
    fields: dict[str, Getter],
    *,
    name: Getter = s("name"),
    key: Callable[[Attrs, TfContext], str | None] | None = None,
    encrypted: Getter | None = None,
    public: Getter | None = None,
) -> None:
    """Register a mapping: key (the `arn` by default), name, collector attribute ← getter."""

    def mapper(a: Attrs, ctx: TfContext) -> Mapped | None:
        arn = key(a, ctx) if key else a.get("arn")
        if not isinstance(arn, str) or not arn.startswith("arn:"):
            return None
        d = declared(a, **{k: get(a) for k, get in fields.items()})
        if encrypted is not None and (e := encrypted(a)) is not None:
            d["encrypted"] = bool(e)
        if public is not None and (p := public(a)) is not None:
            d["public"] = bool(p)
        return _aws(arn, typ, name(a), d)

    MAPPINGS.mapping(*tf_types)(mapper)


# --- S3 ------------------------------------------------------------------------------------


def _bucket_arn(a: Attrs) -> str:
    arn = a.get("arn")
    return str(arn) if isinstance(arn, str) and arn else f"arn:aws:s3:::{a.get('bucket')}"


def _sse_rules(rules: Any) -> list[dict[str, Any]]:
    out = []
    for rule in as_list(rules):
        default = first_block(rule.get("apply_server_side_encryption_by_default"))
        if default.get("sse_algorithm"):
            out.append(default)
    return out


def _logging(blk_: Attrs) -> dict[str, Any] | None:
    if not blk_.get("target_bucket"):
        return None
    return {"target_bucket": blk_.get("target_bucket"), "target_prefix": blk_.get("target_prefix")}


@MAPPINGS.mapping("aws_s3_bucket")
def _s3_bucket(a: Attrs, ctx: TfContext) -> Mapped:
    d = declared(a)
    # Inline blocks of provider v3 (deprecated, still found in old states).
    if _sse_rules(first_block(a.get("server_side_encryption_configuration")).get("rule")):
        d["encrypted"] = True
    versioning = first_block(a.get("versioning"))
    if as_bool(versioning.get("enabled")) is True:
        d["versioning"] = "Enabled"
    log = _logging(first_block(a.get("logging")))
    if log:
        d["logging"] = log
    return _aws(_bucket_arn(a), "AWS::S3::Bucket", a.get("bucket"), d, region=a.get("region"))


def _bucket_part(a: Attrs, d: dict[str, Any]) -> Mapped:
    return _aws(f"arn:aws:s3:::{a['bucket']}", "AWS::S3::Bucket", a["bucket"], d, part=True)


@MAPPINGS.mapping("aws_s3_bucket_server_side_encryption_configuration")
def _s3_sse(a: Attrs, ctx: TfContext) -> Mapped:
    return _bucket_part(a, {"encrypted": bool(_sse_rules(a.get("rule")))})


@MAPPINGS.mapping("aws_s3_bucket_public_access_block")
def _s3_pab(a: Attrs, ctx: TfContext) -> Mapped:
    pab = {
        "BlockPublicAcls": as_bool(a.get("block_public_acls")),
        "IgnorePublicAcls": as_bool(a.get("ignore_public_acls")),
        "BlockPublicPolicy": as_bool(a.get("block_public_policy")),
        "RestrictPublicBuckets": as_bool(a.get("restrict_public_buckets")),
    }
    return _bucket_part(a, {"public_access_block": pab})


@MAPPINGS.mapping("aws_s3_bucket_versioning")
def _s3_versioning(a: Attrs, ctx: TfContext) -> Mapped:
    cfg = first_block(a.get("versioning_configuration"))
    status = cfg.get("status")
    d: dict[str, Any] = {}
    if status in ("Enabled", "Suspended"):
        d["versioning"] = status
    if cfg.get("mfa_delete") in ("Enabled", "Disabled"):
        d["mfa_delete"] = cfg["mfa_delete"]
    return _bucket_part(a, d)


@MAPPINGS.mapping("aws_s3_bucket_logging")
def _s3_logging(a: Attrs, ctx: TfContext) -> Mapped:
    return _bucket_part(a, {"logging": _logging(a)})


@MAPPINGS.mapping("aws_s3_account_public_access_block")
def _s3_account_pab(a: Attrs, ctx: TfContext) -> Mapped | None:
    account = a.get("account_id") or a.get("id") or _where(ctx, a)[2]
    if not account:
        return None
    flags = {
        k: as_bool(a.get(k))
        for k in ("block_public_acls", "ignore_public_acls", "block_public_policy",
                  "restrict_public_buckets")
    }  # fmt: skip
    d = {"configured": True, **flags}
    return _aws(f"arn:aws:s3control::{account}:public-access-block",
                "AWS::S3::AccountPublicAccessBlock", str(account), d)  # fmt: skip


# --- EC2 -----------------------------------------------------------------------------------


@MAPPINGS.mapping("aws_instance")
def _instance(a: Attrs, ctx: TfContext) -> Mapped:
    meta = first_block(a.get("metadata_options"))
    d = declared(
        a,
        instance_id=a.get("id"),
        image_id=a.get("ami"),
        instance_type=a.get("instance_type"),
        subnet_id=a.get("subnet_id"),
        private_ip=a.get("private_ip"),
        state=a.get("instance_state"),
        security_groups=sorted_strs(a.get("vpc_security_group_ids")),
        metadata_http_tokens=meta.get("http_tokens"),
        metadata_http_endpoint=meta.get("http_endpoint"),
    )
    if "public_ip" in a:
        d["public"] = bool(a.get("public_ip"))
    return _aws(str(a["arn"]), "AWS::EC2::Instance", _tag_name(a), d)


def _rule(protocol: Any, from_port: Any, to_port: Any, *, cidrs: Any = (), ipv6: Any = (),
          groups: Any = (), prefix_lists: Any = ()) -> dict[str, Any]:  # fmt: skip
    proto = str(protocol)
    proto = "-1" if proto in ("all", "-1") else proto
    every_port = proto == "-1"
    # Key order matters: the collector sorts rules by json.dumps of this exact shape.
    return {
        "protocol": proto,
        "from_port": None if every_port else as_int(from_port),
        "to_port": None if every_port else as_int(to_port),
        "cidrs": sorted(c for c in cidrs or () if c),
        "ipv6_cidrs": sorted(c for c in ipv6 or () if c),
        "groups": sorted(g for g in groups or () if g),
        "prefix_lists": sorted(p for p in prefix_lists or () if p),
    }


def _inline_rules(blocks: Any, own_id: Any) -> list[dict[str, Any]]:
    out = []
    for blk_ in as_list(blocks):
        groups = list(as_list(blk_.get("security_groups")))
        if as_bool(blk_.get("self")):
            groups.append(own_id)
        out.append(
            _rule(blk_.get("protocol"), blk_.get("from_port"), blk_.get("to_port"),
                  cidrs=as_list(blk_.get("cidr_blocks")), ipv6=as_list(blk_.get("ipv6_cidr_blocks")),
                  groups=groups, prefix_lists=as_list(blk_.get("prefix_list_ids")))
        )  # fmt: skip
    return out


def regroup(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rules in the collector's shape: one entry per (protocol, ports), its sources unioned."""
    merged: dict[tuple[Any, Any, Any], dict[str, Any]] = {}
    for r in rules:
        k = (r["protocol"], r["from_port"], r["to_port"])
        have = merged.setdefault(k, _rule(r["protocol"], r["from_port"], r["to_port"]))
        for f in ("cidrs", "ipv6_cidrs", "groups", "prefix_lists"):
            have[f] = sorted(set(have[f]) | set(r[f]))
    return sorted(merged.values(), key=json.dumps)


def _finalize_sg(d: dict[str, Any]) -> None:
    for direction in ("ingress", "egress"):
        if direction in d:
            d[direction] = regroup(d[direction])
    if "ingress" in d:
        d["public"] = any(
            "0.0.0.0/0" in r["cidrs"] or "::/0" in r["ipv6_cidrs"] for r in d["ingress"]
        )


def _finalize_unique(*fields: str) -> Callable[[dict[str, Any]], None]:
    def fin(d: dict[str, Any]) -> None:
        for f in fields:
            if isinstance(d.get(f), list):
                d[f] = sorted(set(d[f]))

    return fin


MAPPINGS.finalize["AWS::EC2::SecurityGroup"] = _finalize_sg
MAPPINGS.finalize["AWS::EC2::RouteTable"] = _finalize_unique("subnets", "gateways")
for _t in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
    MAPPINGS.finalize[_t] = _finalize_unique("attached_policy_arns")


@MAPPINGS.mapping("aws_security_group", "aws_default_security_group")
def _security_group(a: Attrs, ctx: TfContext) -> Mapped:
    d = declared(a, group_id=a.get("id"), description=a.get("description"), vpc_id=a.get("vpc_id"))
    lists = {
        "ingress": _inline_rules(a.get("ingress"), a.get("id")),
        "egress": _inline_rules(a.get("egress"), a.get("id")),
    }
    return _aws(str(a["arn"]), "AWS::EC2::SecurityGroup", a.get("name"), d, merge_lists=lists)


def _sg_part(group_id: str, ctx: TfContext, direction: str, rule: dict[str, Any],
             rule_arn: Any = None) -> Mapped | None:  # fmt: skip
    arn = ctx.index.get(_SG_ARNS, {}).get(group_id)
    if arn is None and isinstance(rule_arn, str) and rule_arn.startswith("arn:"):
        # arn:aws:ec2:region:account:security-group-rule/sgr-… → the group's ARN
        arn = rule_arn.rsplit(":", 1)[0] + f":security-group/{group_id}"
    if arn is None:
        _, region, account = _where(ctx, {})
        if not (region and account):
            return None  # the group is neither in this state nor derivable: cannot key it
        arn = f"arn:aws:ec2:{region}:{account}:security-group/{group_id}"
    return _aws(
        arn, "AWS::EC2::SecurityGroup", None, {}, part=True, merge_lists={direction: [rule]}
    )


@MAPPINGS.mapping("aws_security_group_rule")
def _sg_rule(a: Attrs, ctx: TfContext) -> Mapped | None:
    groups = [a["source_security_group_id"]] if a.get("source_security_group_id") else []
    if as_bool(a.get("self")):
        groups.append(a["security_group_id"])
    rule = _rule(a.get("protocol"), a.get("from_port"), a.get("to_port"),
                 cidrs=as_list(a.get("cidr_blocks")), ipv6=as_list(a.get("ipv6_cidr_blocks")),
                 groups=groups, prefix_lists=as_list(a.get("prefix_list_ids")))  # fmt: skip
    return _sg_part(str(a["security_group_id"]), ctx, str(a.get("type", "ingress")), rule)


@MAPPINGS.mapping("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")
def _vpc_sg_rule(a: Attrs, ctx: TfContext) -> Mapped | None:
    direction = "egress" if "egress" in str(a.get("arn", "")) else "ingress"
    rule = _rule(a.get("ip_protocol"), a.get("from_port"), a.get("to_port"),
                 cidrs=[a.get("cidr_ipv4")], ipv6=[a.get("cidr_ipv6")],
                 groups=[a.get("referenced_security_group_id")],
                 prefix_lists=[a.get("prefix_list_id")])  # fmt: skip
    return _sg_part(str(a["security_group_id"]), ctx, direction, rule, a.get("arn"))


simple(("aws_vpc",), "AWS::EC2::VPC",
       {"vpc_id": s("id"), "cidr_block": s("cidr_block"), "instance_tenancy": s("instance_tenancy")},
       name=_tag_name)  # fmt: skip
simple(("aws_default_vpc",), "AWS::EC2::VPC",
       {"vpc_id": s("id"), "cidr_block": s("cidr_block"), "is_default": lambda a: True},
       name=_tag_name)  # fmt: skip
simple(("aws_subnet", "aws_default_subnet"), "AWS::EC2::Subnet",
       {"subnet_id": s("id"), "vpc_id": s("vpc_id"), "cidr_block": s("cidr_block"),
        "availability_zone": s("availability_zone"),
        "map_public_ip_on_launch": b("map_public_ip_on_launch")},
       name=_tag_name)  # fmt: skip
simple(("aws_ebs_volume",), "AWS::EC2::Volume",
       {"volume_id": s("id"), "size_gib": n("size"), "volume_type": s("type"),
        "availability_zone": s("availability_zone"), "iops": n("iops")},
       name=_tag_name, encrypted=b("encrypted"))  # fmt: skip
simple(("aws_ami", "aws_ami_copy", "aws_ami_from_instance"), "AWS::EC2::Image",
       {"image_id": s("id"), "architecture": s("architecture"),
        "virtualization_type": s("virtualization_type"), "root_device_type": s("root_device_type"),
        "boot_mode": s("boot_mode")},
       name=s("name"))  # fmt: skip
simple(("aws_launch_template",), "AWS::EC2::LaunchTemplate",
       {"launch_template_id": s("id"), "default_version": n("default_version"),
        "latest_version": n("latest_version")})  # fmt: skip
simple(("aws_ebs_snapshot", "aws_ebs_snapshot_copy"), "AWS::EC2::Snapshot",
       {"snapshot_id": s("id"), "volume_id": s("volume_id"), "volume_size_gib": n("volume_size"),
        "description": s("description"), "storage_tier": s("storage_tier")},
       name=_tag_name, encrypted=b("encrypted"))  # fmt: skip


@MAPPINGS.mapping("aws_ebs_encryption_by_default")
def _ebs_default(a: Attrs, ctx: TfContext) -> Mapped | None:
    _, region, account = _where(ctx, a)
    if not (region and account):
        return None  # no other ARN says which account and region this is
    on = as_bool(a.get("enabled"))
    return _aws(f"arn:aws:ec2:{region}:{account}:ebs-encryption-by-default",
                "AWS::EC2::EBSEncryptionByDefault", "ebs-encryption-by-default",
                {"enabled": on, "encrypted": on})  # fmt: skip


def _asg_tags(a: Attrs) -> dict[str, str] | None:
    tags = {str(t["key"]): str(t.get("value", "")) for t in as_list(a.get("tag")) if "key" in t}
    return tags or tags_of(a)


@MAPPINGS.mapping("aws_autoscaling_group")
def _asg(a: Attrs, ctx: TfContext) -> Mapped:
    # desired_capacity is left out: scaling policies move it, and that is not drift.
    d: dict[str, Any] = {
        "min_size": as_int(a.get("min_size")),
        "max_size": as_int(a.get("max_size")),
        "subnets": sorted_strs(a.get("vpc_zone_identifier")),
        "target_groups": sorted_strs(a.get("target_group_arns")),
        "load_balancers": sorted_strs(a.get("load_balancers")),
        "health_check_type": a.get("health_check_type"),
        "health_check_grace_s": as_int(a.get("health_check_grace_period")),
    }
    tags = _asg_tags(a)
    if tags:
        d["tags"] = tags
    return _aws(str(a["arn"]), "AWS::AutoScaling::AutoScalingGroup", a.get("name"), d)


# --- network -------------------------------------------------------------------------------

simple(("aws_network_acl",), "AWS::EC2::NetworkAcl",
       {"network_acl_id": s("id"), "vpc_id": s("vpc_id"), "subnets": ls("subnet_ids")},
       name=_tag_name)  # fmt: skip
simple(("aws_default_network_acl",), "AWS::EC2::NetworkAcl",
       {"network_acl_id": s("id"), "vpc_id": s("vpc_id"), "is_default": lambda a: True},
       name=_tag_name)  # fmt: skip
simple(("aws_route_table",), "AWS::EC2::RouteTable",
       {"route_table_id": s("id"), "vpc_id": s("vpc_id")}, name=_tag_name)  # fmt: skip
simple(("aws_default_route_table",), "AWS::EC2::RouteTable",
       {"route_table_id": s("id"), "vpc_id": s("vpc_id"), "main": lambda a: True},
       name=_tag_name)  # fmt: skip


def _rt_arn(table_id: str, ctx: TfContext) -> str | None:
    arn = ctx.index.get(_RT_ARNS, {}).get(table_id)
    if arn is None:
        _, region, account = _where(ctx, {})
        arn = (
            f"arn:aws:ec2:{region}:{account}:route-table/{table_id}" if region and account else None
        )
    return arn


@MAPPINGS.mapping("aws_route_table_association")
def _rt_assoc(a: Attrs, ctx: TfContext) -> Mapped | None:
    arn = _rt_arn(str(a["route_table_id"]), ctx)
    if arn is None:
        return None
    lists = {
        k: [a[f]] for k, f in (("subnets", "subnet_id"), ("gateways", "gateway_id")) if a.get(f)
    }
    if not lists:
        return None
    return _aws(arn, "AWS::EC2::RouteTable", None, {}, part=True, merge_lists=lists)


@MAPPINGS.mapping("aws_main_route_table_association")
def _rt_main(a: Attrs, ctx: TfContext) -> Mapped | None:
    arn = _rt_arn(str(a["route_table_id"]), ctx)
    return (
        None if arn is None else _aws(arn, "AWS::EC2::RouteTable", None, {"main": True}, part=True)
    )


simple(("aws_internet_gateway",), "AWS::EC2::InternetGateway",
       {"internet_gateway_id": s("id")}, name=_tag_name)  # fmt: skip


def _nat_key(a: Attrs, ctx: TfContext) -> str | None:
    # The provider writes no ARN for a NAT gateway; the collector builds it from the id.
    _, region, account = _where(ctx, a, "subnet_id")
    return f"arn:aws:ec2:{region}:{account}:natgateway/{a['id']}" if region and account else None


simple(("aws_nat_gateway",), "AWS::EC2::NatGateway",
       {"nat_gateway_id": s("id"), "subnet_id": s("subnet_id"),
        "connectivity_type": s("connectivity_type"),
        "allocation_ids": lambda a: [a["allocation_id"]] if a.get("allocation_id") else None},
       name=_tag_name, key=_nat_key)  # fmt: skip
simple(("aws_flow_log",), "AWS::EC2::FlowLog",
       {"flow_log_id": s("id"), "traffic_type": s("traffic_type"),
        "destination_type": s("log_destination_type"), "destination": s("log_destination"),
        "resource_id": lambda a: next(
            (a[k] for k in ("vpc_id", "subnet_id", "eni_id", "transit_gateway_id") if a.get(k)), None),
        "max_aggregation_interval_s": n("max_aggregation_interval")},
       name=_tag_name)  # fmt: skip
simple(("aws_vpc_endpoint",), "AWS::EC2::VPCEndpoint",
       {"vpc_endpoint_id": s("id"), "endpoint_type": s("vpc_endpoint_type"),
        "service_name": s("service_name"), "vpc_id": s("vpc_id"),
        "private_dns_enabled": b("private_dns_enabled"), "route_tables": ls("route_table_ids"),
        "subnets": ls("subnet_ids"), "security_groups": ls("security_group_ids")},
       name=_tag_name)  # fmt: skip


def _eip_key(a: Attrs, ctx: TfContext) -> str | None:
    arn = a.get("arn")
    if isinstance(arn, str) and arn.startswith("arn:"):
        return arn
    ident = a.get("allocation_id") or a.get("id") or a.get("public_ip")
    _, region, account = _where(ctx, a, "instance", "network_interface")
    return f"arn:aws:ec2:{region}:{account}:elastic-ip/{ident}" if region and account else None


simple(("aws_eip",), "AWS::EC2::EIP",
       {"allocation_id": lambda a: a.get("allocation_id") or a.get("id"),
        "public_ip": s("public_ip"), "domain": s("domain")},
       name=lambda a: (tags_of(a) or {}).get("Name") or a.get("allocation_id") or a.get("id"),
       key=_eip_key, public=lambda a: True)  # fmt: skip


def _scheme(a: Attrs) -> str | None:
    internal = as_bool(a.get("internal"))
    return None if internal is None else ("internal" if internal else "internet-facing")


simple(("aws_lb", "aws_alb"), "AWS::ElasticLoadBalancingV2::LoadBalancer",
       {"type": s("load_balancer_type"), "scheme": _scheme, "security_groups": ls("security_groups"),
        "subnets": ls("subnets")},
       public=lambda a: None if as_bool(a.get("internal")) is None else not as_bool(a.get("internal")))  # fmt: skip


@MAPPINGS.mapping("aws_lb_target_group", "aws_alb_target_group")
def _target_group(a: Attrs, ctx: TfContext) -> Mapped:
    hc = first_block(a.get("health_check"))
    d = declared(
        a,
        protocol=a.get("protocol"),
        port=as_int(a.get("port")),
        vpc_id=a.get("vpc_id"),
        target_type=a.get("target_type"),
        health_check={
            "protocol": hc.get("protocol"),
            "port": hc.get("port"),
            "path": hc.get("path"),
        },
    )
    return _aws(str(a["arn"]), "AWS::ElasticLoadBalancingV2::TargetGroup", a.get("name"), d)


simple(("aws_lb_listener", "aws_alb_listener"), "AWS::ElasticLoadBalancingV2::Listener",
       {"load_balancer_arn": s("load_balancer_arn"), "protocol": s("protocol"), "port": n("port"),
        "ssl_policy": s("ssl_policy")},
       name=lambda a: str(a.get("arn", "")).rsplit("/", 1)[-1] or None)  # fmt: skip
simple(("aws_elb",), "AWS::ElasticLoadBalancing::LoadBalancer",
       {"scheme": _scheme, "subnets": ls("subnets"), "security_groups": ls("security_groups"),
        "availability_zones": ls("availability_zones"), "instances": ls("instances")},
       public=lambda a: None if as_bool(a.get("internal")) is None else not as_bool(a.get("internal")))  # fmt: skip
simple(("aws_cloudfront_distribution",), "AWS::CloudFront::Distribution",
       {"id": s("id"), "domain_name": s("domain_name"), "aliases": lambda a: sorted_strs(a.get("aliases")) or [],
        "enabled": b("enabled"), "price_class": s("price_class"), "http_version": s("http_version"),
        "web_acl_id": s("web_acl_id")},
       name=s("id"), public=b("enabled"))  # fmt: skip
simple(("aws_api_gateway_rest_api",), "AWS::ApiGateway::RestApi",
       {"api_id": s("id"), "api_key_source": s("api_key_source"),
        "endpoint_types": blk("endpoint_configuration", ls("types"))})  # fmt: skip
simple(("aws_api_gateway_stage",), "AWS::ApiGateway::Stage",
       {"api_id": s("rest_api_id"), "stage_name": s("stage_name"), "deployment_id": s("deployment_id"),
        "tracing_enabled": b("xray_tracing_enabled"), "cache_cluster_enabled": b("cache_cluster_enabled"),
        "client_certificate_id": s("client_certificate_id"),
        "access_log_destination": blk("access_log_settings", s("destination_arn"))},
       name=s("stage_name"))  # fmt: skip
simple(("aws_apigatewayv2_api",), "AWS::ApiGatewayV2::Api",
       {"api_id": s("id"), "protocol_type": s("protocol_type"), "api_endpoint": s("api_endpoint")})  # fmt: skip
simple(("aws_apigatewayv2_stage",), "AWS::ApiGatewayV2::Stage",
       {"api_id": s("api_id"), "stage_name": s("name"), "deployment_id": s("deployment_id"),
        "auto_deploy": b("auto_deploy")})  # fmt: skip


def _zone_private(a: Attrs) -> bool:
    return bool(as_list(a.get("vpc")))


simple(("aws_route53_zone",), "AWS::Route53::HostedZone",
       {"zone_id": s("zone_id"), "private": _zone_private,
        # Route 53 names a zone with its trailing dot; the provider writes it without.
        "domain_name": lambda a: (str(a["name"]).rstrip(".") + ".") if a.get("name") else None,
        "comment": s("comment")},
       key=lambda a, ctx: a.get("arn") or (f"arn:aws:route53:::hostedzone/{a['zone_id']}"
                                           if a.get("zone_id") else None),
       public=lambda a: not _zone_private(a))  # fmt: skip


def _waf_default(a: Attrs) -> str | None:
    block = first_block(a.get("default_action"))
    if as_list(block.get("allow")):
        return "Allow"
    if as_list(block.get("block")):
        return "Block"
    return None


simple(("aws_wafv2_web_acl",), "AWS::WAFv2::WebACL",
       {"id": s("id"), "scope": s("scope"), "description": s("description"),
        "default_action": _waf_default})  # fmt: skip


# --- compute services ------------------------------------------------------------------------

simple(("aws_ecr_repository",), "AWS::ECR::Repository",
       {"image_tag_mutability": s("image_tag_mutability"),
        "scan_on_push": blk("image_scanning_configuration", b("scan_on_push")),
        "encryption_type": blk("encryption_configuration", s("encryption_type"))})  # fmt: skip


def _insights(a: Attrs) -> str | None:
    for st in as_list(a.get("setting")):
        if st.get("name") == "containerInsights":
            return str(st.get("value"))
    return None


simple(("aws_ecs_cluster",), "AWS::ECS::Cluster", {"container_insights": _insights})  # fmt: skip
# desired_count is left out: service auto scaling moves it. The provider's id is the ARN.
simple(("aws_ecs_service",), "AWS::ECS::Service",
       # the cluster as an ARN (the collector's); a cluster named by name is not compared
       {"cluster": lambda a: a["cluster"] if str(a.get("cluster", "")).startswith("arn:") else None,
        "launch_type": s("launch_type"),
        "scheduling_strategy": s("scheduling_strategy")},
       key=lambda a, ctx: a.get("arn") or a.get("id"))  # fmt: skip
simple(("aws_ecs_task_definition",), "AWS::ECS::TaskDefinition",
       {"family": s("family"), "revision": n("revision"), "network_mode": s("network_mode"),
        "cpu": s("cpu"), "memory": s("memory"),
        "requires_compatibilities": ls("requires_compatibilities"),
        "task_role": s("task_role_arn"), "execution_role": s("execution_role_arn")},
       name=s("family"))  # fmt: skip
simple(("aws_eks_cluster",), "AWS::EKS::Cluster",
       {"version": s("version"), "role": s("role_arn"),
        "endpoint_public_access": blk("vpc_config", b("endpoint_public_access")),
        "endpoint_private_access": blk("vpc_config", b("endpoint_private_access")),
        "subnets": blk("vpc_config", ls("subnet_ids"))})  # fmt: skip


@MAPPINGS.mapping("aws_lambda_function")
def _function(a: Attrs, ctx: TfContext) -> Mapped:
    env = first_block(a.get("environment")).get("variables") or {}
    vpc = first_block(a.get("vpc_config"))
    d = declared(
        a,
        runtime=a.get("runtime"),
        handler=a.get("handler"),
        role=a.get("role"),
        memory_mb=as_int(a.get("memory_size")),
        timeout_s=as_int(a.get("timeout")),
        code_sha256=a.get("code_sha256") or a.get("source_code_hash"),
        kms_key_arn=a.get("kms_key_arn"),
        architectures=sorted_strs(a.get("architectures")),
        layers=sorted_strs(a.get("layers")),
        vpc_subnets=sorted_strs(vpc.get("subnet_ids")),
        vpc_security_groups=sorted_strs(vpc.get("security_group_ids")),
    )
    if env:
        # In clear here: the declaration passes the collector's redaction (secrets.py) next.
        d["environment"] = {str(k): v for k, v in env.items()}
    return _aws(str(a["arn"]), "AWS::Lambda::Function", a.get("function_name"), d)


@MAPPINGS.mapping("aws_lambda_function_url")
def _function_url(a: Attrs, ctx: TfContext) -> Mapped | None:
    url = a.get("function_url")
    fn = a.get("function_arn")
    if not isinstance(url, str) or not url.startswith("https://"):
        return None
    ident = identify(str(fn)) if isinstance(fn, str) else None
    d = {"url": url, "function_arn": fn, "auth_type": a.get("authorization_type"),
         "invoke_mode": a.get("invoke_mode")}  # fmt: skip
    return Mapped(url, "aws", "AWS::Lambda::Url", ident.account if ident else None,
                  ident.region if ident else None, a.get("function_name"), clean(d))  # fmt: skip


# --- storage services ------------------------------------------------------------------------

simple(("aws_efs_file_system",), "AWS::EFS::FileSystem",
       {"file_system_id": s("id"), "kms_key_id": s("kms_key_id"),
        "performance_mode": s("performance_mode"), "throughput_mode": s("throughput_mode")},
       name=_tag_name, encrypted=b("encrypted"))  # fmt: skip
simple(("aws_dynamodb_table",), "AWS::DynamoDB::Table",
       {"billing_mode": lambda a: a.get("billing_mode") or "PROVISIONED",
        "deletion_protection": b("deletion_protection_enabled"),
        "point_in_time_recovery": blk("point_in_time_recovery", b("enabled")),
        "stream_enabled": lambda a: bool(as_bool(a.get("stream_enabled"))),
        "kms_key_arn": blk("server_side_encryption", s("kms_key_arn"))},
       encrypted=lambda a: True)  # fmt: skip


def _engine_version(a: Attrs) -> Any:
    # engine_version may be a prefix ("15"); the actual one is what RDS reports
    return a.get("engine_version_actual") or a.get("engine_version") or None


simple(("aws_db_instance",), "AWS::RDS::DBInstance",
       {"engine": s("engine"), "engine_version": _engine_version,
        "instance_class": s("instance_class"), "storage_encrypted": b("storage_encrypted"),
        "publicly_accessible": b("publicly_accessible"), "multi_az": b("multi_az"),
        "backup_retention_days": n("backup_retention_period"),
        "deletion_protection": b("deletion_protection"),
        "security_groups": ls("vpc_security_group_ids")},
       name=s("identifier"), encrypted=b("storage_encrypted"), public=b("publicly_accessible"))  # fmt: skip
simple(("aws_rds_cluster_instance",), "AWS::RDS::DBInstance",
       {"engine": s("engine"), "instance_class": s("instance_class"),
        "publicly_accessible": b("publicly_accessible"), "cluster": s("cluster_identifier")},
       name=s("identifier"), public=b("publicly_accessible"))  # fmt: skip
simple(("aws_rds_cluster",), "AWS::RDS::DBCluster",
       {"engine": s("engine"), "engine_version": _engine_version, "engine_mode": s("engine_mode"),
        "storage_encrypted": b("storage_encrypted"), "iam_auth": b("iam_database_authentication_enabled"),
        "backup_retention_days": n("backup_retention_period"),
        "deletion_protection": b("deletion_protection"),
        "security_groups": ls("vpc_security_group_ids")},
       name=s("cluster_identifier"), encrypted=b("storage_encrypted"))  # fmt: skip
simple(("aws_db_snapshot",), "AWS::RDS::DBSnapshot",
       {"source": s("db_instance_identifier"), "engine": s("engine"), "engine_version": s("engine_version")},
       name=s("db_snapshot_identifier"), key=lambda a, ctx: a.get("db_snapshot_arn"),
       encrypted=b("encrypted"))  # fmt: skip
simple(("aws_db_cluster_snapshot",), "AWS::RDS::DBClusterSnapshot",
       {"source": s("db_cluster_identifier"), "engine": s("engine"), "engine_version": s("engine_version")},
       name=s("db_cluster_snapshot_identifier"), key=lambda a, ctx: a.get("db_cluster_snapshot_arn"),
       encrypted=b("storage_encrypted"))  # fmt: skip
simple(("aws_redshift_cluster",), "AWS::Redshift::Cluster",
       {"node_type": s("node_type"), "nodes": n("number_of_nodes"), "kms_key_id": s("kms_key_id"),
        "publicly_accessible": b("publicly_accessible"),
        "enhanced_vpc_routing": b("enhanced_vpc_routing"),
        "snapshot_retention_days": n("automated_snapshot_retention_period")},
       name=s("cluster_identifier"), encrypted=b("encrypted"), public=b("publicly_accessible"))  # fmt: skip
simple(("aws_elasticache_replication_group",), "AWS::ElastiCache::ReplicationGroup",
       {"description": lambda a: a.get("description") or a.get("replication_group_description") or None,
        "engine": s("engine"), "node_type": s("node_type"),
        "at_rest_encryption": b("at_rest_encryption_enabled"),
        "transit_encryption": b("transit_encryption_enabled"), "kms_key_id": s("kms_key_id"),
        "snapshot_retention_days": n("snapshot_retention_limit")},
       name=lambda a: a.get("replication_group_id") or a.get("id"),
       encrypted=b("at_rest_encryption_enabled"))  # fmt: skip


def _domain(engine_prefix: str, version_field: str) -> dict[str, Getter]:
    def version(a: Attrs) -> str | None:
        v = a.get(version_field)
        if not v:
            return None
        return str(v) if "_" in str(v) else f"{engine_prefix}_{v}"

    return {
        "engine_version": version,
        "instance_type": blk("cluster_config", s("instance_type")),
        "instance_count": blk("cluster_config", n("instance_count")),
        "encryption_at_rest": blk("encrypt_at_rest", b("enabled")),
        "node_to_node_encryption": blk("node_to_node_encryption", b("enabled")),
        "enforce_https": blk("domain_endpoint_options", b("enforce_https")),
        "tls_security_policy": blk("domain_endpoint_options", s("tls_security_policy")),
    }


simple(("aws_opensearch_domain",), "AWS::OpenSearchService::Domain",
       _domain("OpenSearch", "engine_version"), name=s("domain_name"),
       encrypted=blk("encrypt_at_rest", b("enabled")))  # fmt: skip
simple(("aws_elasticsearch_domain",), "AWS::OpenSearchService::Domain",
       _domain("Elasticsearch", "elasticsearch_version"), name=s("domain_name"),
       encrypted=blk("encrypt_at_rest", b("enabled")))  # fmt: skip
simple(("aws_kinesis_stream",), "AWS::Kinesis::Stream",
       {"retention_hours": n("retention_period"), "encryption": s("encryption_type"),
        "kms_key_id": s("kms_key_id"), "mode": blk("stream_mode_details", s("stream_mode"))},
       key=lambda a, ctx: a.get("arn") or (a.get("id") if str(a.get("id", "")).startswith("arn:") else None),
       encrypted=lambda a: None if not a.get("encryption_type") else a["encryption_type"] == "KMS")  # fmt: skip
simple(("aws_backup_vault",), "AWS::Backup::BackupVault",
       {"encryption_key_arn": s("kms_key_arn")},
       encrypted=lambda a: True if a.get("kms_key_arn") else None)  # fmt: skip
simple(("aws_backup_plan",), "AWS::Backup::BackupPlan",
       {"plan_id": s("id"), "version_id": s("version")})  # fmt: skip


@MAPPINGS.mapping("aws_backup_vault_lock_configuration")
def _vault_lock(a: Attrs, ctx: TfContext) -> Mapped | None:
    arn = a.get("backup_vault_arn")
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None
    d = {"min_retention_days": as_int(a.get("min_retention_days")),
         "max_retention_days": as_int(a.get("max_retention_days"))}  # fmt: skip
    return _aws(arn, "AWS::Backup::BackupVault", None, d, part=True)


# --- secrets and keys ------------------------------------------------------------------------


def _key_state(a: Attrs) -> str | None:
    enabled = as_bool(a.get("is_enabled"))
    return None if enabled is None else ("Enabled" if enabled else "Disabled")


simple(("aws_kms_key", "aws_kms_replica_key", "aws_kms_external_key"), "AWS::KMS::Key",
       {"key_usage": s("key_usage"),
        "key_spec": lambda a: a.get("customer_master_key_spec") or a.get("key_spec") or None,
        "rotation_enabled": b("enable_key_rotation"), "description": s("description"),
        "multi_region": b("multi_region"), "key_state": _key_state},
       name=lambda a: a.get("key_id") or a.get("id"))  # fmt: skip
simple(("aws_kms_alias",), "AWS::KMS::Alias",
       {"alias_name": s("name"), "target_key_arn": s("target_key_arn")})  # fmt: skip
simple(("aws_secretsmanager_secret",), "AWS::SecretsManager::Secret",
       {"description": s("description"), "kms_key_id": s("kms_key_id")},
       encrypted=lambda a: True)  # fmt: skip


@MAPPINGS.mapping("aws_secretsmanager_secret_rotation")
def _rotation(a: Attrs, ctx: TfContext) -> Mapped | None:
    arn = a.get("secret_id")
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None  # a secret named by name: its ARN carries a suffix the state does not know
    d = {"rotation_enabled": True, "rotation_lambda_arn": a.get("rotation_lambda_arn") or None}
    return _aws(arn, "AWS::SecretsManager::Secret", None, d, part=True)


simple(("aws_acm_certificate",), "AWS::CertificateManager::Certificate",
       {"domain_name": s("domain_name"),
        "subject_alternative_names": ls("subject_alternative_names"),
        "key_algorithm": s("key_algorithm"), "type": s("type")},
       name=s("domain_name"))  # fmt: skip
simple(("aws_sns_topic",), "AWS::SNS::Topic",
       {"display_name": s("display_name"), "kms_master_key_id": s("kms_master_key_id"),
        "fifo_topic": lambda a: bool(as_bool(a.get("fifo_topic")))},
       encrypted=lambda a: bool(a.get("kms_master_key_id")))  # fmt: skip
simple(("aws_sqs_queue",), "AWS::SQS::Queue",
       {"queue_url": lambda a: a.get("url") or a.get("id"), "kms_master_key_id": s("kms_master_key_id"),
        "fifo_queue": lambda a: bool(as_bool(a.get("fifo_queue"))),
        "visibility_timeout": n("visibility_timeout_seconds"),
        "message_retention_period": n("message_retention_seconds"),
        "maximum_message_size": n("max_message_size"), "delay_seconds": n("delay_seconds"),
        "receive_message_wait_time_seconds": n("receive_wait_time_seconds")},
       encrypted=lambda a: bool(a.get("kms_master_key_id")) or bool(as_bool(a.get("sqs_managed_sse_enabled"))))  # fmt: skip

# --- logging and monitoring ------------------------------------------------------------------

simple(("aws_cloudtrail",), "AWS::CloudTrail::Trail",
       {"home_region": s("home_region"), "multi_region": b("is_multi_region_trail"),
        "organization_trail": b("is_organization_trail"),
        "include_global_service_events": b("include_global_service_events"),
        "log_file_validation": b("enable_log_file_validation"), "kms_key_id": s("kms_key_id"),
        "cloudwatch_logs_log_group_arn": s("cloud_watch_logs_group_arn"),
        "cloudwatch_logs_role_arn": s("cloud_watch_logs_role_arn"),
        "is_logging": b("enable_logging")},
       encrypted=lambda a: bool(a.get("kms_key_id")))  # fmt: skip


def _config_key(kind: str) -> Callable[[Attrs, TfContext], str | None]:
    def key(a: Attrs, ctx: TfContext) -> str | None:
        _, region, account = _where(ctx, a)
        name = a.get("name") or a.get("id")
        return (
            f"arn:aws:config:{region}:{account}:{kind}/{name}"
            if region and account and name
            else None
        )

    return key


simple(("aws_config_configuration_recorder",), "AWS::Config::ConfigurationRecorder",
       {"role_arn": s("role_arn"),
        "all_supported": blk("recording_group", b("all_supported")),
        "include_global_resource_types": blk("recording_group", b("include_global_resource_types")),
        "resource_types": blk("recording_group", ls("resource_types"))},
       key=_config_key("configuration-recorder"))  # fmt: skip


@MAPPINGS.mapping("aws_config_configuration_recorder_status")
def _recorder_status(a: Attrs, ctx: TfContext) -> Mapped | None:
    arn = _config_key("configuration-recorder")(a, ctx)
    if arn is None:
        return None
    d = {"recording": as_bool(a.get("is_enabled"))}
    return _aws(arn, "AWS::Config::ConfigurationRecorder", None, d, part=True)


simple(("aws_config_delivery_channel",), "AWS::Config::DeliveryChannel",
       {"s3_bucket": s("s3_bucket_name"), "s3_key_prefix": s("s3_key_prefix"),
        "s3_kms_key_arn": s("s3_kms_key_arn"), "sns_topic_arn": s("sns_topic_arn"),
        "delivery_frequency": blk("snapshot_delivery_properties", s("delivery_frequency"))},
       key=_config_key("delivery-channel"))  # fmt: skip
simple(("aws_guardduty_detector",), "AWS::GuardDuty::Detector",
       {"detector_id": s("id"), "enabled": b("enable"),
        "finding_publishing_frequency": s("finding_publishing_frequency")},
       name=s("id"))  # fmt: skip


def _hub_key(a: Attrs, ctx: TfContext) -> str | None:
    arn = a.get("arn")
    if isinstance(arn, str) and arn.startswith("arn:"):
        return arn
    _, region, account = _where(ctx, a)
    account = account or str(a.get("id") or "")
    return f"arn:aws:securityhub:{region}:{account}:hub/default" if region and account else None


simple(("aws_securityhub_account",), "AWS::SecurityHub::Hub", {},
       name=lambda a: "default", key=_hub_key)  # fmt: skip
simple(("aws_cloudwatch_metric_alarm",), "AWS::CloudWatch::Alarm",
       {"metric_name": s("metric_name"), "namespace": s("namespace"),
        "comparison_operator": s("comparison_operator"), "actions_enabled": b("actions_enabled"),
        "alarm_actions": lambda a: sorted_strs(a.get("alarm_actions")) or [],
        "ok_actions": lambda a: sorted_strs(a.get("ok_actions")) or []},
       name=s("alarm_name"))  # fmt: skip


def _log_group_key(a: Attrs, ctx: TfContext) -> str | None:
    arn = a.get("arn")
    # Provider versions before 3 wrote the ARN with ":*" (its streams); the key has none.
    return str(arn).removesuffix(":*") if isinstance(arn, str) and arn else None


simple(("aws_cloudwatch_log_group",), "AWS::Logs::LogGroup",
       {"retention_days": lambda a: as_int(a.get("retention_in_days")) or None,
        "kms_key_id": s("kms_key_id"), "log_group_class": s("log_group_class")},
       key=_log_group_key)  # fmt: skip


def _metric_filter_key(a: Attrs, ctx: TfContext) -> str | None:
    _, region, account = _where(ctx, a, "log_group_name")
    if not (region and account and a.get("log_group_name") and a.get("name")):
        return None
    return f"arn:aws:logs:{region}:{account}:metric-filter:{a['log_group_name']}:{a['name']}"


simple(("aws_cloudwatch_log_metric_filter",), "AWS::Logs::MetricFilter",
       {"log_group_name": s("log_group_name"), "filter_pattern": s("pattern")},
       key=_metric_filter_key)  # fmt: skip

# --- IAM -------------------------------------------------------------------------------------

simple(("aws_iam_role", "aws_iam_service_linked_role"), "AWS::IAM::Role",
       {"path": s("path"), "description": s("description"),
        "max_session_duration": n("max_session_duration")},
       name=lambda a: a.get("name") or a.get("id"))  # fmt: skip
simple(("aws_iam_user",), "AWS::IAM::User", {"path": s("path")})  # fmt: skip
simple(("aws_iam_group",), "AWS::IAM::Group", {"path": s("path")})  # fmt: skip
simple(("aws_iam_policy",), "AWS::IAM::ManagedPolicy",
       {"path": s("path"), "description": s("description")})  # fmt: skip


def _attachment(field_name: str, index: str, kind: str, typ: str) -> None:
    def mapper(a: Attrs, ctx: TfContext) -> Mapped | None:
        who, policy = a.get(field_name), a.get("policy_arn")
        if not who or not isinstance(policy, str):
            return None
        arn = ctx.index.get(index, {}).get(str(who))
        if arn is None:
            account = _where(ctx, a)[2]
            if not account:
                return None
            arn = f"arn:aws:iam::{account}:{kind}/{who}"  # the default path "/"
        return _aws(arn, typ, None, {}, part=True, merge_lists={"attached_policy_arns": [policy]})

    MAPPINGS.mapping(f"aws_iam_{kind}_policy_attachment")(mapper)


_attachment("role", _ROLE_ARNS, "role", "AWS::IAM::Role")
_attachment("user", _USER_ARNS, "user", "AWS::IAM::User")
_attachment("group", _GROUP_ARNS, "group", "AWS::IAM::Group")

_PASSWORD_FIELDS = (
    "minimum_password_length", "require_symbols", "require_numbers", "require_uppercase",
    "require_lowercase", "allow_users_to_change_password", "max_password_age",
    "password_reuse_prevention", "hard_expiry",
)  # fmt: skip


@MAPPINGS.mapping("aws_iam_account_password_policy")
def _password_policy(a: Attrs, ctx: TfContext) -> Mapped | None:
    account = _where(ctx, a)[2]
    if not account:
        return None
    d: dict[str, Any] = {"configured": True}
    for f in _PASSWORD_FIELDS:
        v = a.get(f)
        d[f] = as_int(v) if f in ("minimum_password_length", "max_password_age",
                                  "password_reuse_prevention") else as_bool(v)  # fmt: skip
    for short in ("uppercase", "lowercase"):  # the provider's names are longer
        if f"require_{short}_characters" in a:
            d[f"require_{short}"] = as_bool(a[f"require_{short}_characters"])
    return _aws(f"arn:aws:iam::{account}:account-password-policy",
                "AWS::IAM::AccountPasswordPolicy", "account-password-policy", d)  # fmt: skip


__all__ = ["MAPPINGS", "regroup", "simple"]
