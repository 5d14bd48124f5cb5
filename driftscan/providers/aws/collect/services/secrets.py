"""AWS secrets and keys: KMS keys."""

from __future__ import annotations

from driftscan.collect.limits import ApiLimits, RateLimit
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

REGIONAL: tuple[ServiceSpec, ...] = (KMS,)
GLOBAL: tuple[ServiceSpec, ...] = ()
