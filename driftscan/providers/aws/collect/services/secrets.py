"""AWS secrets and keys: KMS keys and aliases, Secrets Manager secrets, ACM certificates, SNS topics, SQS queues."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from driftscan.collect.limits import ApiLimits, RateLimit
from driftscan.providers.aws.collect.services.iam import utc_iso
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


def _alias(r: Reader, a: Item) -> Found:
    target = a.get("TargetKeyId")
    return Found(
        name=a["AliasName"],
        attrs={
            "alias_name": a["AliasName"],
            # Null for an AWS-managed alias whose key AWS has not created yet.
            "target_key_id": target,
            "target_key_arn": None if target is None else r.arn("kms", f"key/{target}"),
            "aws_managed": str(a["AliasName"]).startswith("alias/aws/"),
            "creation_date": utc_iso(a.get("CreationDate")),
            "last_updated_date": utc_iso(a.get("LastUpdatedDate")),
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
        ResourceSpec(
            "AWS::KMS::Alias",
            "list_aliases",
            "Aliases",
            key=lambda r, a: str(a["AliasArn"]),
            build=_alias,
        ),
    ),
    # "AWS KMS request quotas", per account and region and operation.
    limits=ApiLimits(
        {
            "ListKeys": RateLimit(100, 100),
            "DescribeKey": RateLimit(2000, 2000),
            "GetKeyRotationStatus": RateLimit(1000, 1000),
            "ListResourceTags": RateLimit(50, 50),
            "ListAliases": RateLimit(100, 100),
        }
    ),
)

# --- resource policies (SNS, SQS) --------------------------------------------------------

# Condition keys that tie an "anyone" statement to known accounts, organisations, networks or
# resources: with one of them the statement is not open to the public.
_RESTRICTING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:SourceArn",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:SourceIp",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:ResourceAccount",
        "aws:userid",
        "aws:username",
    )
)


def _anyone(principal: Any) -> bool:
    aws = principal.get("AWS") if isinstance(principal, dict) else None
    return principal == "*" or aws == "*" or (isinstance(aws, list) and "*" in aws)


def policy_is_public(doc: Any) -> bool:
    """A resource policy lets anyone in: an Allow statement for any principal ("*", or a
    NotPrincipal) whose conditions, if any, name no account, organisation, network or source."""
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    for st in statements if isinstance(statements, list) else [statements]:
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        if not (_anyone(st.get("Principal")) or "NotPrincipal" in st):
            continue
        conditions = st.get("Condition") or {}
        keys = {
            str(k).lower()
            for values in (conditions.values() if isinstance(conditions, dict) else [])
            if isinstance(values, dict)
            for k in values
        }
        if not keys & _RESTRICTING_KEYS:
            return True
    return False


def _policy_doc(text: Any) -> Any:
    """A policy attribute (JSON text) as a document; None when absent or not JSON."""
    if not text:
        return None
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


def _public(text: Any) -> bool | None:
    """No policy: only the owner's account has access. A policy that is not JSON: unknown."""
    if not text:
        return False
    doc = _policy_doc(text)
    return None if doc is None else policy_is_public(doc)


# --- Secrets Manager (values are never read) ---------------------------------------------


def _secret(r: Reader, s: Item) -> Found:
    rules = s.get("RotationRules") or {}
    return Found(
        name=s["Name"],
        tags=tag_dict(s.get("Tags")),
        attrs={
            "description": s.get("Description"),
            # Null: the account's default key, aws/secretsmanager.
            "kms_key_id": s.get("KmsKeyId"),
            "rotation_enabled": bool(s.get("RotationEnabled", False)),
            "rotation_lambda_arn": s.get("RotationLambdaARN") or None,
            "rotation_rules": {
                "automatically_after_days": rules.get("AutomaticallyAfterDays"),
                "duration": rules.get("Duration"),
                "schedule_expression": rules.get("ScheduleExpression"),
            },
            "last_rotated_date": utc_iso(s.get("LastRotatedDate")),
            "next_rotation_date": utc_iso(s.get("NextRotationDate")),
            "last_changed_date": utc_iso(s.get("LastChangedDate")),
            "last_accessed_date": utc_iso(s.get("LastAccessedDate")),
            "created_date": utc_iso(s.get("CreatedDate")),
            "deleted_date": utc_iso(s.get("DeletedDate")),
            "owning_service": s.get("OwningService"),
            "primary_region": s.get("PrimaryRegion"),
        },
        # Secrets Manager always encrypts secret values with KMS (aws/secretsmanager by default).
        encrypted=True,
    )


SECRETS_MANAGER = ServiceSpec(
    "secretsmanager",
    "secretsmanager",
    (
        ResourceSpec(
            # ListSecrets carries rotation, dates, KMS key and tags: no per-secret call, and
            # never GetSecretValue.
            "AWS::SecretsManager::Secret",
            "list_secrets",
            "SecretList",
            key=lambda r, s: str(s["ARN"]),
            build=_secret,
        ),
    ),
    # "AWS Secrets Manager quotas": ListSecrets 100 requests per second.
    limits=ApiLimits({"ListSecrets": RateLimit(100, 100)}),
)

# --- ACM -------------------------------------------------------------------------------------

# ListCertificates returns only RSA_1024 and RSA_2048 certificates unless asked for the rest.
_KEY_TYPES = [
    "RSA_1024",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "EC_prime256v1",
    "EC_secp384r1",
    "EC_secp521r1",
]


def _certificate_enrich(r: Reader, item: Item) -> None:
    arn = item["CertificateArn"]
    item["_cert"] = r.client.describe_certificate(CertificateArn=arn).get("Certificate", {})
    item["_tags"] = tag_dict(r.client.list_tags_for_certificate(CertificateArn=arn).get("Tags"))


def _certificate(r: Reader, c: Item) -> Found:
    d = {**c, **c["_cert"]}  # the summary's fields, overridden by the full description
    renewal = d.get("RenewalSummary") or {}
    return Found(
        name=d.get("DomainName") or str(c["CertificateArn"]).rsplit("/", 1)[-1],
        tags=c["_tags"],
        attrs={
            "domain_name": d.get("DomainName"),
            "subject_alternative_names": sorted(d.get("SubjectAlternativeNames") or []),
            "status": d.get("Status"),
            "type": d.get("Type"),  # AMAZON_ISSUED | IMPORTED | PRIVATE
            "key_algorithm": d.get("KeyAlgorithm"),
            "signature_algorithm": d.get("SignatureAlgorithm"),
            "issuer": d.get("Issuer"),
            "not_before": utc_iso(d.get("NotBefore")),
            # Null until issued; the expiry rule compares it with the scan's date.
            "not_after": utc_iso(d.get("NotAfter")),
            "in_use_by": sorted(d.get("InUseBy") or []),
            "in_use": bool(d.get("InUseBy")),
            "renewal_eligibility": d.get("RenewalEligibility"),
            "renewal_status": renewal.get("RenewalStatus"),
            "created_at": utc_iso(d.get("CreatedAt")),
            "issued_at": utc_iso(d.get("IssuedAt")),
            "imported_at": utc_iso(d.get("ImportedAt")),
            "revoked_at": utc_iso(d.get("RevokedAt")),
            "failure_reason": d.get("FailureReason"),
        },
    )


ACM = ServiceSpec(
    "acm",
    "acm",
    (
        ResourceSpec(
            "AWS::CertificateManager::Certificate",
            "list_certificates",
            "CertificateSummaryList",
            key=lambda r, c: str(c["CertificateArn"]),
            build=_certificate,
            params={"Includes": {"keyTypes": _KEY_TYPES}},
            enrich=_certificate_enrich,
        ),
    ),
    # "AWS Certificate Manager quotas", API rate quotas per account and region.
    limits=ApiLimits(
        {
            "ListCertificates": RateLimit(1, 1),
            "DescribeCertificate": RateLimit(10, 10),
            "ListTagsForCertificate": RateLimit(10, 10),
        }
    ),
    fanout=10,
)

# --- SNS -------------------------------------------------------------------------------------


def _topic_enrich(r: Reader, item: Item) -> None:
    arn = item["TopicArn"]
    item["_attrs"] = r.client.get_topic_attributes(TopicArn=arn).get("Attributes", {})
    if "_tags" not in item:  # the tagging API was denied: one call per topic
        item["_tags"] = tag_dict(r.client.list_tags_for_resource(ResourceArn=arn).get("Tags"))


def _flag(value: Any) -> bool | None:
    return None if value is None else str(value).lower() == "true"


def _topic(r: Reader, t: Item) -> Found:
    a = t["_attrs"]
    kms = a.get("KmsMasterKeyId") or None
    return Found(
        name=str(t["TopicArn"]).rsplit(":", 1)[-1],
        tags=t.get("_tags", {}),
        attrs={
            "display_name": a.get("DisplayName") or None,
            "owner": a.get("Owner"),
            "kms_master_key_id": kms,
            "fifo_topic": bool(_flag(a.get("FifoTopic"))),
            "content_based_deduplication": _flag(a.get("ContentBasedDeduplication")),
            "policy": _policy_doc(a.get("Policy")),
        },
        encrypted=kms is not None,
        public=_public(a.get("Policy")),
    )


SNS = ServiceSpec(
    "sns",
    "sns",
    (
        ResourceSpec(
            "AWS::SNS::Topic",
            "list_topics",
            "Topics",
            key=lambda r, t: str(t["TopicArn"]),
            build=_topic,
            enrich=_topic_enrich,
            enrich_batch=tagging_api("sns", "TopicArn"),
        ),
    ),
    # The SNS API reference: ListTopics is throttled at 30 transactions per second.
    limits=ApiLimits({"ListTopics": RateLimit(30, 30)}),
)

# --- SQS -------------------------------------------------------------------------------------


def _queues(r: Reader) -> Iterator[Item]:
    """Queue URLs, each with its ARN (account and name are the URL's path) for the key and the
    tagging API."""
    for url in r.client.get_paginator("list_queues").paginate().search("QueueUrls[]"):
        if url is None:
            continue
        account, name = urlsplit(str(url)).path.strip("/").split("/")[-2:]
        arn = f"arn:{r.partition}:sqs:{r.region}:{account}:{name}"
        yield {"QueueUrl": str(url), "QueueArn": arn, "QueueName": name}


def _queue_enrich(r: Reader, item: Item) -> None:
    url = item["QueueUrl"]
    got = r.client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    item["_attrs"] = got.get("Attributes", {})
    if "_tags" not in item:  # the tagging API was denied: one call per queue
        item["_tags"] = dict(r.client.list_queue_tags(QueueUrl=url).get("Tags") or {})


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _queue(r: Reader, q: Item) -> Found:
    a = q["_attrs"]
    kms = a.get("KmsMasterKeyId") or None
    sse_sqs = _flag(a.get("SqsManagedSseEnabled"))
    redrive = _policy_doc(a.get("RedrivePolicy")) or {}
    created = a.get("CreatedTimestamp")
    return Found(
        name=q["QueueName"],
        tags=q.get("_tags", {}),
        # The message counts (ApproximateNumberOf*) are left out: they change by the second.
        attrs={
            "queue_url": q["QueueUrl"],
            "kms_master_key_id": kms,
            "kms_data_key_reuse_period_seconds": _int(a.get("KmsDataKeyReusePeriodSeconds")),
            "sqs_managed_sse_enabled": sse_sqs,
            "fifo_queue": bool(_flag(a.get("FifoQueue"))),
            "content_based_deduplication": _flag(a.get("ContentBasedDeduplication")),
            "visibility_timeout": _int(a.get("VisibilityTimeout")),
            "message_retention_period": _int(a.get("MessageRetentionPeriod")),
            "maximum_message_size": _int(a.get("MaximumMessageSize")),
            "delay_seconds": _int(a.get("DelaySeconds")),
            "receive_message_wait_time_seconds": _int(a.get("ReceiveMessageWaitTimeSeconds")),
            "dead_letter_target_arn": redrive.get("deadLetterTargetArn"),
            "max_receive_count": redrive.get("maxReceiveCount"),
            "created": None
            if created is None
            else utc_iso(datetime.fromtimestamp(float(created), UTC)),
            "policy": _policy_doc(a.get("Policy")),
        },
        # Encrypted at rest with a KMS key (SSE-KMS) or SQS-owned keys (SSE-SQS).
        encrypted=kms is not None or bool(sse_sqs),
        public=_public(a.get("Policy")),
    )


SQS = ServiceSpec(
    "sqs",
    "sqs",
    (
        ResourceSpec(
            "AWS::SQS::Queue",
            "list_queues",
            "QueueUrls",
            key=lambda r, q: str(q["QueueArn"]),
            build=_queue,
            lister=_queues,
            enrich=_queue_enrich,
            enrich_batch=tagging_api("sqs", "QueueArn"),
        ),
    ),
)

REGIONAL: tuple[ServiceSpec, ...] = (KMS, SECRETS_MANAGER, ACM, SNS, SQS)
GLOBAL: tuple[ServiceSpec, ...] = ()
