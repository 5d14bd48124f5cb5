"""Terraform's AWS resource types → declarations in the shape of the AWS collector's resources.

Attribute names follow driftscan/providers/aws/collect/specs.py.
"""

from __future__ import annotations

import json
from typing import Any

from driftscan.desired.tfmap import (
    Attrs,
    Mapped,
    TerraformMappings,
    TfContext,
    clean,
    declared,
    first_block,
    tags_of,
)
from driftscan.providers import Identity
from driftscan.providers.aws.keys import identify

MAPPINGS = TerraformMappings()
_SG_ARNS = "aws_security_group"  # TfContext.index: security group id → ARN


def _observe(tf_type: str, attrs: Attrs, ctx: TfContext) -> None:
    # A rule resource names its group by id; the group's ARN (its key) is in the state.
    if tf_type == "aws_security_group" and attrs.get("id") and attrs.get("arn"):
        ctx.index.setdefault(_SG_ARNS, {})[str(attrs["id"])] = str(attrs["arn"])


def _fallback_key(attrs: Attrs) -> str | None:
    arn = attrs.get("arn")
    return arn if isinstance(arn, str) and arn.startswith("arn:") else None


MAPPINGS.observers.append(_observe)
MAPPINGS.fallback_keys.append(_fallback_key)


def _aws(arn: str, typ: str, name: str | None, declared: dict[str, Any], *, part: bool = False,
         region: str | None = None, merge_lists: dict[str, list[Any]] | None = None) -> Mapped:  # fmt: skip
    ident = identify(arn) or Identity(arn)
    return Mapped(
        arn, "aws", typ, ident.account, region or ident.region, name, clean(declared), part,
        merge_lists or {},
    )  # fmt: skip


# --- AWS: S3 -------------------------------------------------------------------------------


def _bucket_arn(a: Attrs) -> str:
    arn = a.get("arn")
    return str(arn) if isinstance(arn, str) and arn else f"arn:aws:s3:::{a.get('bucket')}"


def _sse_rules(rules: Any) -> list[dict[str, Any]]:
    out = []
    for rule in rules or []:
        default = first_block(rule.get("apply_server_side_encryption_by_default"))
        if default.get("sse_algorithm"):
            out.append(default)
    return out


@MAPPINGS.mapping("aws_s3_bucket")
def _s3_bucket(a: Attrs, ctx: TfContext) -> Mapped:
    d = declared(a)
    # Inline blocks of provider v3 (deprecated, still found in old states).
    if _sse_rules(first_block(a.get("server_side_encryption_configuration")).get("rule")):
        d["encrypted"] = True
    versioning = first_block(a.get("versioning"))
    if versioning.get("enabled") is True:
        d["versioning"] = "Enabled"
    return _aws(_bucket_arn(a), "AWS::S3::Bucket", a.get("bucket"), d, region=a.get("region"))


@MAPPINGS.mapping("aws_s3_bucket_server_side_encryption_configuration")
def _s3_sse(a: Attrs, ctx: TfContext) -> Mapped:
    on = bool(_sse_rules(a.get("rule")))
    return _aws(
        f"arn:aws:s3:::{a['bucket']}", "AWS::S3::Bucket", a["bucket"], {"encrypted": on}, part=True
    )


@MAPPINGS.mapping("aws_s3_bucket_public_access_block")
def _s3_pab(a: Attrs, ctx: TfContext) -> Mapped:
    pab = {
        "BlockPublicAcls": a.get("block_public_acls"),
        "IgnorePublicAcls": a.get("ignore_public_acls"),
        "BlockPublicPolicy": a.get("block_public_policy"),
        "RestrictPublicBuckets": a.get("restrict_public_buckets"),
    }
    d = {"public_access_block": pab}
    return _aws(f"arn:aws:s3:::{a['bucket']}", "AWS::S3::Bucket", a["bucket"], d, part=True)


@MAPPINGS.mapping("aws_s3_bucket_versioning")
def _s3_versioning(a: Attrs, ctx: TfContext) -> Mapped:
    cfg = first_block(a.get("versioning_configuration"))
    status = cfg.get("status")
    d: dict[str, Any] = {}
    if status in ("Enabled", "Suspended"):
        d["versioning"] = status
    if cfg.get("mfa_delete") in ("Enabled", "Disabled"):
        d["mfa_delete"] = cfg["mfa_delete"]
    return _aws(f"arn:aws:s3:::{a['bucket']}", "AWS::S3::Bucket", a["bucket"], d, part=True)


# --- AWS: EC2 ------------------------------------------------------------------------------


@MAPPINGS.mapping("aws_instance")
def _instance(a: Attrs, ctx: TfContext) -> Mapped:
    d = declared(
        a,
        instance_id=a.get("id"),
        image_id=a.get("ami"),
        instance_type=a.get("instance_type"),
        subnet_id=a.get("subnet_id"),
        private_ip=a.get("private_ip"),
        state=a.get("instance_state"),
    )
    if a.get("vpc_security_group_ids"):
        d["security_groups"] = sorted(a["vpc_security_group_ids"])
    if "public_ip" in a:
        d["public"] = bool(a.get("public_ip"))
    name = (tags_of(a) or {}).get("Name", a.get("id"))
    return _aws(str(a["arn"]), "AWS::EC2::Instance", name, d)


def _rule(protocol: Any, from_port: Any, to_port: Any, *, cidrs: Any = (), ipv6: Any = (),
          groups: Any = (), prefix_lists: Any = ()) -> dict[str, Any]:  # fmt: skip
    proto = str(protocol)
    proto = "-1" if proto in ("all", "-1") else proto
    every_port = proto == "-1"
    # Key order matters: the collector sorts rules by json.dumps of this exact shape.
    return {
        "protocol": proto,
        "from_port": None if every_port else from_port,
        "to_port": None if every_port else to_port,
        "cidrs": sorted(c for c in cidrs or () if c),
        "ipv6_cidrs": sorted(c for c in ipv6 or () if c),
        "groups": sorted(g for g in groups or () if g),
        "prefix_lists": sorted(p for p in prefix_lists or () if p),
    }


def _inline_rules(blocks: Any, own_id: Any) -> list[dict[str, Any]]:
    out = []
    for b in blocks or []:
        groups = list(b.get("security_groups") or [])
        if b.get("self"):
            groups.append(own_id)
        out.append(
            _rule(b.get("protocol"), b.get("from_port"), b.get("to_port"),
                  cidrs=b.get("cidr_blocks"), ipv6=b.get("ipv6_cidr_blocks"), groups=groups,
                  prefix_lists=b.get("prefix_list_ids"))
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


MAPPINGS.finalize["AWS::EC2::SecurityGroup"] = _finalize_sg


@MAPPINGS.mapping("aws_security_group")
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
        return None  # the group is neither in this state nor derivable: cannot key it
    return _aws(
        arn, "AWS::EC2::SecurityGroup", None, {}, part=True, merge_lists={direction: [rule]}
    )


@MAPPINGS.mapping("aws_security_group_rule")
def _sg_rule(a: Attrs, ctx: TfContext) -> Mapped | None:
    groups = [a["source_security_group_id"]] if a.get("source_security_group_id") else []
    if a.get("self"):
        groups.append(a["security_group_id"])
    rule = _rule(a.get("protocol"), a.get("from_port"), a.get("to_port"),
                 cidrs=a.get("cidr_blocks"), ipv6=a.get("ipv6_cidr_blocks"), groups=groups,
                 prefix_lists=a.get("prefix_list_ids"))  # fmt: skip
    return _sg_part(str(a["security_group_id"]), ctx, str(a.get("type", "ingress")), rule)


@MAPPINGS.mapping("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")
def _vpc_sg_rule(a: Attrs, ctx: TfContext) -> Mapped | None:
    direction = "egress" if "egress" in str(a.get("arn", "")) else "ingress"
    rule = _rule(a.get("ip_protocol"), a.get("from_port"), a.get("to_port"),
                 cidrs=[a.get("cidr_ipv4")], ipv6=[a.get("cidr_ipv6")],
                 groups=[a.get("referenced_security_group_id")],
                 prefix_lists=[a.get("prefix_list_id")])  # fmt: skip
    return _sg_part(str(a["security_group_id"]), ctx, direction, rule, a.get("arn"))


@MAPPINGS.mapping("aws_ebs_volume")
def _volume(a: Attrs, ctx: TfContext) -> Mapped:
    d = declared(
        a,
        volume_id=a.get("id"),
        size_gib=a.get("size"),
        volume_type=a.get("type"),
        availability_zone=a.get("availability_zone"),
        encrypted=a.get("encrypted"),
    )
    name = (tags_of(a) or {}).get("Name", a.get("id"))
    return _aws(str(a["arn"]), "AWS::EC2::Volume", name, d)


# --- AWS: RDS, ELBv2, Lambda, KMS ----------------------------------------------------------


@MAPPINGS.mapping("aws_db_instance")
def _db_instance(a: Attrs, ctx: TfContext) -> Mapped:
    d = declared(
        a,
        engine=a.get("engine"),
        # engine_version may be a prefix ("15"); the actual one is what RDS reports
        engine_version=a.get("engine_version_actual") or a.get("engine_version"),
        instance_class=a.get("instance_class"),
        storage_encrypted=a.get("storage_encrypted"),
        publicly_accessible=a.get("publicly_accessible"),
        multi_az=a.get("multi_az"),
        backup_retention_days=a.get("backup_retention_period"),
        deletion_protection=a.get("deletion_protection"),
    )
    if a.get("vpc_security_group_ids"):
        d["security_groups"] = sorted(a["vpc_security_group_ids"])
    if a.get("storage_encrypted") is not None:
        d["encrypted"] = bool(a["storage_encrypted"])
    if a.get("publicly_accessible") is not None:
        d["public"] = bool(a["publicly_accessible"])
    return _aws(str(a["arn"]), "AWS::RDS::DBInstance", a.get("identifier"), d)


@MAPPINGS.mapping("aws_lb", "aws_alb")
def _lb(a: Attrs, ctx: TfContext) -> Mapped:
    internal = a.get("internal")
    d = declared(
        a,
        type=a.get("load_balancer_type"),
        scheme=None if internal is None else ("internal" if internal else "internet-facing"),
    )
    if a.get("security_groups"):
        d["security_groups"] = sorted(a["security_groups"])
    if a.get("subnets"):
        d["subnets"] = sorted(a["subnets"])
    if internal is not None:
        d["public"] = not internal
    return _aws(str(a["arn"]), "AWS::ElasticLoadBalancingV2::LoadBalancer", a.get("name"), d)


@MAPPINGS.mapping("aws_lb_target_group", "aws_alb_target_group")
def _target_group(a: Attrs, ctx: TfContext) -> Mapped:
    hc = first_block(a.get("health_check"))
    d = declared(
        a,
        protocol=a.get("protocol"),
        port=a.get("port"),
        vpc_id=a.get("vpc_id"),
        target_type=a.get("target_type"),
        health_check={
            "protocol": hc.get("protocol"),
            "port": hc.get("port"),
            "path": hc.get("path"),
        },
    )
    return _aws(str(a["arn"]), "AWS::ElasticLoadBalancingV2::TargetGroup", a.get("name"), d)


@MAPPINGS.mapping("aws_lambda_function")
def _function(a: Attrs, ctx: TfContext) -> Mapped:
    env = first_block(a.get("environment")).get("variables") or {}
    d = declared(
        a,
        runtime=a.get("runtime"),
        handler=a.get("handler"),
        role=a.get("role"),
        memory_mb=a.get("memory_size"),
        timeout_s=a.get("timeout"),
        code_sha256=a.get("code_sha256") or a.get("source_code_hash"),
        kms_key_arn=a.get("kms_key_arn"),
    )
    if a.get("architectures"):
        d["architectures"] = sorted(a["architectures"])
    if a.get("layers"):
        d["layers"] = sorted(a["layers"])
    if env:
        # The state holds the values in clear; only their fingerprints are ever compared or stored.
        d["environment"] = {str(k): ctx.fingerprint(str(v)) for k, v in env.items()}
    return _aws(str(a["arn"]), "AWS::Lambda::Function", a.get("function_name"), d)


@MAPPINGS.mapping("aws_kms_key")
def _kms_key(a: Attrs, ctx: TfContext) -> Mapped:
    enabled = a.get("is_enabled")
    d = declared(
        a,
        key_usage=a.get("key_usage"),
        key_spec=a.get("customer_master_key_spec") or a.get("key_spec"),
        rotation_enabled=a.get("enable_key_rotation"),
        description=a.get("description"),
        multi_region=a.get("multi_region"),
        key_state=None if enabled is None else ("Enabled" if enabled else "Disabled"),
    )
    return _aws(str(a["arn"]), "AWS::KMS::Key", a.get("key_id"), d)


__all__ = ["MAPPINGS", "regroup"]
