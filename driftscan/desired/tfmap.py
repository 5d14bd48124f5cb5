"""Terraform resource types → driftscan keys, types and the attributes the collectors produce.

Each mapping reads one instance's `attributes` and returns the declaration in the comparable
shape (`{**attrs, tags, encrypted, public}`), using the attribute names of
driftscan/collect/aws/specs.py and driftscan/collect/azure.py. Split configuration resources
(`aws_s3_bucket_versioning`, `aws_security_group_rule`, ...) return `part=True` and are merged
into their parent's declaration. A type without a mapping counts as managed, presence only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from driftscan.desired.declaration import identity
from driftscan.redaction import Fingerprinter

Attrs = dict[str, Any]


@dataclass
class Mapped:
    """One instance mapped onto a driftscan resource."""

    key: str
    provider: str
    type: str
    account: str | None
    region: str | None
    name: str | None
    declared: dict[str, Any]
    part: bool = False
    # lists appended to (not replacing) the parent's: security group rules from rule resources
    merge_lists: dict[str, list[Any]] = field(default_factory=dict)


@dataclass
class TfContext:
    """State-wide lookups a mapping may need (a rule names its group by id, not by ARN)."""

    # The store's keyed fingerprints: declared secrets compare with live ones, never in clear.
    fingerprint: Fingerprinter = field(default_factory=lambda: Fingerprinter(os.urandom(32)))
    sg_arns: dict[str, str] = field(default_factory=dict)

    def observe(self, tf_type: str, attrs: Attrs) -> None:
        if tf_type == "aws_security_group" and attrs.get("id") and attrs.get("arn"):
            self.sg_arns[str(attrs["id"])] = str(attrs["arn"])


Mapper = Callable[[Attrs, TfContext], Mapped | None]
MAPPINGS: dict[str, Mapper] = {}
FINALIZE: dict[str, Callable[[dict[str, Any]], None]] = {}


def mapping(*tf_types: str) -> Callable[[Mapper], Mapper]:
    """Register a mapping for one or more Terraform resource types."""

    def reg(fn: Mapper) -> Mapper:
        for t in tf_types:
            MAPPINGS[t] = fn
        return fn

    return reg


def _tags(a: Attrs) -> dict[str, str] | None:
    # tags_all includes the provider's default_tags: what is really on the resource.
    tags = a.get("tags_all") or a.get("tags")
    return {str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) and tags else None


def _first(v: Any) -> Attrs:
    """Terraform nests blocks as one-element lists."""
    if isinstance(v, list) and v and isinstance(v[0], dict):
        return v[0]
    return v if isinstance(v, dict) else {}


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    """Drop what the state leaves empty or null: unset is not declared."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            v = _clean(v)
            if v:
                out[k] = v
        elif v is not None and v != "":
            out[k] = v
    return out


def _aws(arn: str, typ: str, name: str | None, declared: dict[str, Any], *, part: bool = False,
         region: str | None = None, merge_lists: dict[str, list[Any]] | None = None) -> Mapped:  # fmt: skip
    ident = identity(arn)
    return Mapped(
        arn, "aws", typ, ident.account, region or ident.region, name, _clean(declared), part,
        merge_lists or {},
    )  # fmt: skip


def _declared(a: Attrs, **attrs: Any) -> dict[str, Any]:
    d = dict(attrs)
    tags = _tags(a)
    if tags:
        d["tags"] = tags
    return d


# --- AWS: S3 -------------------------------------------------------------------------------


def _bucket_arn(a: Attrs) -> str:
    arn = a.get("arn")
    return str(arn) if isinstance(arn, str) and arn else f"arn:aws:s3:::{a.get('bucket')}"


def _sse_rules(rules: Any) -> list[dict[str, Any]]:
    out = []
    for rule in rules or []:
        default = _first(rule.get("apply_server_side_encryption_by_default"))
        if default.get("sse_algorithm"):
            out.append(default)
    return out


@mapping("aws_s3_bucket")
def _s3_bucket(a: Attrs, ctx: TfContext) -> Mapped:
    d = _declared(a)
    # Inline blocks of provider v3 (deprecated, still found in old states).
    if _sse_rules(_first(a.get("server_side_encryption_configuration")).get("rule")):
        d["encrypted"] = True
    versioning = _first(a.get("versioning"))
    if versioning.get("enabled") is True:
        d["versioning"] = "Enabled"
    return _aws(_bucket_arn(a), "AWS::S3::Bucket", a.get("bucket"), d, region=a.get("region"))


@mapping("aws_s3_bucket_server_side_encryption_configuration")
def _s3_sse(a: Attrs, ctx: TfContext) -> Mapped:
    on = bool(_sse_rules(a.get("rule")))
    return _aws(
        f"arn:aws:s3:::{a['bucket']}", "AWS::S3::Bucket", a["bucket"], {"encrypted": on}, part=True
    )


@mapping("aws_s3_bucket_public_access_block")
def _s3_pab(a: Attrs, ctx: TfContext) -> Mapped:
    pab = {
        "BlockPublicAcls": a.get("block_public_acls"),
        "IgnorePublicAcls": a.get("ignore_public_acls"),
        "BlockPublicPolicy": a.get("block_public_policy"),
        "RestrictPublicBuckets": a.get("restrict_public_buckets"),
    }
    d = {"public_access_block": pab}
    return _aws(f"arn:aws:s3:::{a['bucket']}", "AWS::S3::Bucket", a["bucket"], d, part=True)


@mapping("aws_s3_bucket_versioning")
def _s3_versioning(a: Attrs, ctx: TfContext) -> Mapped:
    cfg = _first(a.get("versioning_configuration"))
    status = cfg.get("status")
    d: dict[str, Any] = {}
    if status in ("Enabled", "Suspended"):
        d["versioning"] = status
    if cfg.get("mfa_delete") in ("Enabled", "Disabled"):
        d["mfa_delete"] = cfg["mfa_delete"]
    return _aws(f"arn:aws:s3:::{a['bucket']}", "AWS::S3::Bucket", a["bucket"], d, part=True)


# --- AWS: EC2 ------------------------------------------------------------------------------


@mapping("aws_instance")
def _instance(a: Attrs, ctx: TfContext) -> Mapped:
    d = _declared(
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
    name = (_tags(a) or {}).get("Name", a.get("id"))
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


FINALIZE["AWS::EC2::SecurityGroup"] = _finalize_sg


@mapping("aws_security_group")
def _security_group(a: Attrs, ctx: TfContext) -> Mapped:
    d = _declared(a, group_id=a.get("id"), description=a.get("description"), vpc_id=a.get("vpc_id"))
    lists = {
        "ingress": _inline_rules(a.get("ingress"), a.get("id")),
        "egress": _inline_rules(a.get("egress"), a.get("id")),
    }
    return _aws(str(a["arn"]), "AWS::EC2::SecurityGroup", a.get("name"), d, merge_lists=lists)


def _sg_part(group_id: str, ctx: TfContext, direction: str, rule: dict[str, Any],
             rule_arn: Any = None) -> Mapped | None:  # fmt: skip
    arn = ctx.sg_arns.get(group_id)
    if arn is None and isinstance(rule_arn, str) and rule_arn.startswith("arn:"):
        # arn:aws:ec2:region:account:security-group-rule/sgr-… → the group's ARN
        arn = rule_arn.rsplit(":", 1)[0] + f":security-group/{group_id}"
    if arn is None:
        return None  # the group is neither in this state nor derivable: cannot key it
    return _aws(
        arn, "AWS::EC2::SecurityGroup", None, {}, part=True, merge_lists={direction: [rule]}
    )


@mapping("aws_security_group_rule")
def _sg_rule(a: Attrs, ctx: TfContext) -> Mapped | None:
    groups = [a["source_security_group_id"]] if a.get("source_security_group_id") else []
    if a.get("self"):
        groups.append(a["security_group_id"])
    rule = _rule(a.get("protocol"), a.get("from_port"), a.get("to_port"),
                 cidrs=a.get("cidr_blocks"), ipv6=a.get("ipv6_cidr_blocks"), groups=groups,
                 prefix_lists=a.get("prefix_list_ids"))  # fmt: skip
    return _sg_part(str(a["security_group_id"]), ctx, str(a.get("type", "ingress")), rule)


@mapping("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")
def _vpc_sg_rule(a: Attrs, ctx: TfContext) -> Mapped | None:
    direction = "egress" if "egress" in str(a.get("arn", "")) else "ingress"
    rule = _rule(a.get("ip_protocol"), a.get("from_port"), a.get("to_port"),
                 cidrs=[a.get("cidr_ipv4")], ipv6=[a.get("cidr_ipv6")],
                 groups=[a.get("referenced_security_group_id")],
                 prefix_lists=[a.get("prefix_list_id")])  # fmt: skip
    return _sg_part(str(a["security_group_id"]), ctx, direction, rule, a.get("arn"))


@mapping("aws_ebs_volume")
def _volume(a: Attrs, ctx: TfContext) -> Mapped:
    d = _declared(
        a,
        volume_id=a.get("id"),
        size_gib=a.get("size"),
        volume_type=a.get("type"),
        availability_zone=a.get("availability_zone"),
        encrypted=a.get("encrypted"),
    )
    name = (_tags(a) or {}).get("Name", a.get("id"))
    return _aws(str(a["arn"]), "AWS::EC2::Volume", name, d)


# --- AWS: RDS, ELBv2, Lambda, KMS ----------------------------------------------------------


@mapping("aws_db_instance")
def _db_instance(a: Attrs, ctx: TfContext) -> Mapped:
    d = _declared(
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


@mapping("aws_lb", "aws_alb")
def _lb(a: Attrs, ctx: TfContext) -> Mapped:
    internal = a.get("internal")
    d = _declared(
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


@mapping("aws_lb_target_group", "aws_alb_target_group")
def _target_group(a: Attrs, ctx: TfContext) -> Mapped:
    hc = _first(a.get("health_check"))
    d = _declared(
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


@mapping("aws_lambda_function")
def _function(a: Attrs, ctx: TfContext) -> Mapped:
    env = _first(a.get("environment")).get("variables") or {}
    d = _declared(
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


@mapping("aws_kms_key")
def _kms_key(a: Attrs, ctx: TfContext) -> Mapped:
    enabled = a.get("is_enabled")
    d = _declared(
        a,
        key_usage=a.get("key_usage"),
        key_spec=a.get("customer_master_key_spec") or a.get("key_spec"),
        rotation_enabled=a.get("enable_key_rotation"),
        description=a.get("description"),
        multi_region=a.get("multi_region"),
        key_state=None if enabled is None else ("Enabled" if enabled else "Disabled"),
    )
    return _aws(str(a["arn"]), "AWS::KMS::Key", a.get("key_id"), d)


# --- Azure (ARM IDs lower-cased; attrs under `properties` in ARM's camelCase) ---------------

_OPEN = frozenset({"*", "internet", "any", "0.0.0.0/0", "::/0", "0.0.0.0"})


def _az(a: Attrs, typ: str, declared: dict[str, Any]) -> Mapped:
    rid = str(a["id"]).lower()
    ident = identity(rid)
    loc = a.get("location")
    region = str(loc).replace(" ", "").lower() if loc else None
    d = dict(declared)
    tags = _tags(a)
    if tags:
        d["tags"] = tags
    return Mapped(rid, "azure", typ, ident.account, region, a.get("name"), _clean(d))


@mapping("azurerm_resource_group")
def _resource_group(a: Attrs, ctx: TfContext) -> Mapped:
    return _az(a, "microsoft.resources/subscriptions/resourcegroups", {})


@mapping("azurerm_storage_account")
def _storage_account(a: Attrs, ctx: TfContext) -> Mapped:
    https = a.get("https_traffic_only_enabled", a.get("enable_https_traffic_only"))
    blob_public = a.get("allow_nested_items_to_be_public", a.get("allow_blob_public_access"))
    rules = _first(a.get("network_rules"))
    d: dict[str, Any] = {
        "kind": a.get("account_kind"),
        "properties": {
            "minimumTlsVersion": a.get("min_tls_version"),
            "supportsHttpsTrafficOnly": https,
        },
        "encrypted": True,  # storage service encryption cannot be switched off
    }
    # The collector's rule: anonymous blob access → public; network access off → not;
    # otherwise the firewall's default action (ARM's default is Allow).
    if blob_public is True:
        d["public"] = True
    elif a.get("public_network_access_enabled") is False:
        d["public"] = False
    else:
        d["public"] = rules.get("default_action", "Allow") == "Allow"
    return _az(a, "microsoft.storage/storageaccounts", d)


@mapping("azurerm_linux_virtual_machine", "azurerm_windows_virtual_machine")
def _vm(a: Attrs, ctx: TfContext) -> Mapped:
    # OS disks of these resources are always managed, hence encrypted at rest.
    d = {"properties": {"hardwareProfile": {"vmSize": a.get("size")}}, "encrypted": True}
    return _az(a, "microsoft.compute/virtualmachines", d)


@mapping("azurerm_network_security_group")
def _nsg(a: Attrs, ctx: TfContext) -> Mapped:
    public = False
    for r in a.get("security_rule") or []:
        sources = [r.get("source_address_prefix"), *(r.get("source_address_prefixes") or [])]
        if (
            str(r.get("direction", "")).lower() == "inbound"
            and str(r.get("access", "")).lower() == "allow"
            and any(isinstance(s, str) and s.lower() in _OPEN for s in sources)
        ):
            public = True
    return _az(a, "microsoft.network/networksecuritygroups", {"public": public})


@mapping("azurerm_key_vault")
def _key_vault(a: Attrs, ctx: TfContext) -> Mapped:
    acls = _first(a.get("network_acls"))
    if a.get("public_network_access_enabled") is False:
        public = False
    else:
        public = acls.get("default_action", "Allow") != "Deny"
    d: dict[str, Any] = {"public": public, "properties": {"tenantId": a.get("tenant_id")}}
    if a.get("purge_protection_enabled") is True:
        d["properties"]["enablePurgeProtection"] = True
    return _az(a, "microsoft.keyvault/vaults", d)


@mapping("azurerm_mssql_server", "azurerm_sql_server")
def _sql_server(a: Attrs, ctx: TfContext) -> Mapped:
    d: dict[str, Any] = {
        "properties": {
            "version": a.get("version"),
            "minimalTlsVersion": a.get("minimum_tls_version"),
            "administratorLogin": a.get("administrator_login"),
        }
    }
    if a.get("public_network_access_enabled") is not None:
        d["public"] = bool(a["public_network_access_enabled"])
    return _az(a, "microsoft.sql/servers", d)


__all__ = ["FINALIZE", "MAPPINGS", "Mapped", "TfContext", "mapping", "regroup"]
