"""AWS logging and detection: CloudTrail, AWS Config, GuardDuty, Security Hub, CloudWatch, Logs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from driftscan.providers.aws.collect.specs import (
    Found,
    Item,
    Reader,
    ResourceSpec,
    ServiceSpec,
    error_code,
    iso,
    optional_get,
    tag_dict,
    tagging_api,
)

# None of these services publishes per-operation request rates for its read calls that we
# could verify, so no `limits`: botocore's adaptive retries back off when they throttle.

# --- CloudTrail ----------------------------------------------------------------------------


def _own_trails(r: Reader) -> Iterator[Item]:
    """The trails this account owns whose home is this region.

    DescribeTrails lists a multi-region trail in every region (and an organisation's trail in
    each member account, as a shadow): each is stored once, by its owner, in its home region.
    """
    for t in r.client.describe_trails().get("trailList") or []:
        arn = str(t["TrailARN"])
        parts = arn.split(":")
        home = t.get("HomeRegion") or (parts[3] if len(parts) > 4 else None)
        owner = parts[4] if len(parts) > 4 else None
        if home == r.region and owner == r.account:
            yield t


def _trail_tags(r: Reader, items: list[Item]) -> None:
    pages = r.client.get_paginator("list_tags").paginate(
        ResourceIdList=[str(t["TrailARN"]) for t in items]
    )
    tags = {
        str(x["ResourceId"]): tag_dict(x.get("TagsList")) for x in pages.search("ResourceTagList[]")
    }
    for t in items:
        t["_tags"] = tags.get(str(t["TrailARN"]), {})


def _management_events(resp: Item) -> tuple[bool | None, str | None]:
    """(management events logged?, "All" | "ReadOnly" | "WriteOnly") from either selector form.

    (None, None) when the trail has no selectors at all: AWS then logs all management events.
    """
    basic = resp.get("EventSelectors") or []
    advanced = resp.get("AdvancedEventSelectors") or []
    if not basic and not advanced:
        return None, None
    modes: set[str] = set()
    for s in basic:
        if s.get("IncludeManagementEvents"):
            modes.add(str(s.get("ReadWriteType") or "All"))
    for s in advanced:
        fields = {str(f.get("Field")): f for f in s.get("FieldSelectors") or []}
        if (fields.get("eventCategory") or {}).get("Equals") != ["Management"]:
            continue
        read_only = (fields.get("readOnly") or {}).get("Equals")
        modes.add(
            {"true": "ReadOnly", "false": "WriteOnly"}.get(str((read_only or [""])[0]), "All")
        )
    if not modes:
        return False, None
    if "All" in modes or {"ReadOnly", "WriteOnly"} <= modes:
        return True, "All"
    return True, modes.pop()


def _all_buckets(values: list[Any] | None) -> bool:
    # "arn:aws:s3" (or "arn:aws:s3:::") selects the objects of every bucket, now and later.
    return any(
        str(v).rstrip(":") in ("arn:aws:s3", "arn:aws-cn:s3", "arn:aws-us-gov:s3")
        for v in values or []
    )


def _s3_object_events(resp: Item) -> tuple[bool, bool]:
    """(object reads logged, object writes logged) for every bucket, from either selector form.

    Selectors naming particular buckets only do not count: CIS asks for all of them."""
    modes: set[str] = set()
    for s in resp.get("EventSelectors") or []:
        for d in s.get("DataResources") or []:
            if d.get("Type") == "AWS::S3::Object" and _all_buckets(d.get("Values")):
                modes.add(str(s.get("ReadWriteType") or "All"))
    for s in resp.get("AdvancedEventSelectors") or []:
        fields = {str(f.get("Field")): f for f in s.get("FieldSelectors") or []}
        if (fields.get("eventCategory") or {}).get("Equals") != ["Data"]:
            continue
        if (fields.get("resources.type") or {}).get("Equals") != ["AWS::S3::Object"]:
            continue
        arn = fields.get("resources.ARN")
        if arn is not None and not _all_buckets(arn.get("StartsWith") or arn.get("Equals")):
            continue
        read_only = (fields.get("readOnly") or {}).get("Equals")
        modes.add(
            {"true": "ReadOnly", "false": "WriteOnly"}.get(str((read_only or [""])[0]), "All")
        )
    return bool(modes & {"All", "ReadOnly"}), bool(modes & {"All", "WriteOnly"})


def _trail_detail(r: Reader, t: Item) -> None:
    arn = str(t["TrailARN"])
    # A trail deleted between the listing and these calls: its status is unknown (null).
    t["_status"] = optional_get(r.client.get_trail_status, ("TrailNotFoundException",), Name=arn)
    t["_selectors"] = optional_get(
        r.client.get_event_selectors, ("TrailNotFoundException",), TrailName=arn
    )


def _trail(r: Reader, t: Item) -> Found:
    status = t.get("_status")
    mgmt, mgmt_rw = _management_events(t["_selectors"]) if t.get("_selectors") else (None, None)
    s3_reads, s3_writes = (
        _s3_object_events(t["_selectors"]) if t.get("_selectors") else (None, None)
    )
    kms = t.get("KmsKeyId")
    return Found(
        name=str(t["Name"]),
        tags=t.get("_tags", {}),
        attrs={
            "home_region": t.get("HomeRegion"),
            "multi_region": t.get("IsMultiRegionTrail"),
            "organization_trail": t.get("IsOrganizationTrail"),
            "include_global_service_events": t.get("IncludeGlobalServiceEvents"),
            "log_file_validation": t.get("LogFileValidationEnabled"),
            "kms_key_id": kms,
            "s3_bucket": t.get("S3BucketName"),
            "s3_key_prefix": t.get("S3KeyPrefix"),
            "sns_topic_arn": t.get("SnsTopicARN"),
            "cloudwatch_logs_log_group_arn": t.get("CloudWatchLogsLogGroupArn"),
            "cloudwatch_logs_role_arn": t.get("CloudWatchLogsRoleArn"),
            "has_insight_selectors": t.get("HasInsightSelectors"),
            # GetTrailStatus: null when the trail vanished before it could be asked.
            "is_logging": None if status is None else status.get("IsLogging"),
            "start_logging_time": None if status is None else iso(status.get("StartLoggingTime")),
            "stop_logging_time": None if status is None else iso(status.get("StopLoggingTime")),
            # Not LatestDeliveryTime: it moves with every delivery (minutes apart), so it would
            # make a new version of every logging trail at every scan.
            "latest_delivery_error": None if status is None else status.get("LatestDeliveryError"),
            # GetEventSelectors: whether management events are logged (null: no selectors,
            # which AWS treats as all management events) and which of reads / writes.
            "management_events": mgmt,
            "management_events_read_write": mgmt_rw,
            # S3 object-level (data) events of every bucket: reads, writes (null: the
            # selectors could not be read).
            "s3_object_reads_logged": s3_reads,
            "s3_object_writes_logged": s3_writes,
        },
        # Log files are always SSE-S3 encrypted; `encrypted` says whether a KMS key is set.
        encrypted=kms is not None,
    )


CLOUDTRAIL = ServiceSpec(
    "cloudtrail",
    "cloudtrail",
    (
        ResourceSpec(
            "AWS::CloudTrail::Trail",
            "describe_trails",
            "trailList",
            key=lambda r, t: str(t["TrailARN"]),
            build=_trail,
            lister=_own_trails,
            enrich=_trail_detail,
            enrich_batch=_trail_tags,
            batch=20,  # ListTags takes at most 20 trail ARNs
        ),
    ),
)

# --- AWS Config ----------------------------------------------------------------------------


def _recorders(r: Reader) -> Iterator[Item]:
    """Recorders with their status (one call each for the region: neither is paginated)."""
    recorders = r.client.describe_configuration_recorders().get("ConfigurationRecorders") or []
    if not recorders:  # most regions have none: no status to ask for
        return
    statuses = (
        r.client.describe_configuration_recorder_status().get("ConfigurationRecordersStatus") or []
    )
    by_name = {str(s.get("name")): s for s in statuses}
    for rec in recorders:
        yield {**rec, "_status": by_name.get(str(rec["name"]))}


def _recorder_key(r: Reader, rec: Item) -> str:
    # Newer API versions return the ARN (…:configuration-recorder/<name>/<id>); else by name.
    return str(rec.get("arn") or r.arn("config", f"configuration-recorder/{rec['name']}"))


def _recorder(r: Reader, rec: Item) -> Found:
    group = rec.get("recordingGroup") or {}
    status = rec.get("_status") or {}
    mode = rec.get("recordingMode") or {}
    return Found(
        name=str(rec["name"]),
        attrs={
            "role_arn": rec.get("roleARN"),
            "all_supported": group.get("allSupported"),
            "include_global_resource_types": group.get("includeGlobalResourceTypes"),
            "resource_types": sorted(group.get("resourceTypes") or []),
            "excluded_resource_types": sorted(
                (group.get("exclusionByResourceTypes") or {}).get("resourceTypes") or []
            ),
            "recording_strategy": (group.get("recordingStrategy") or {}).get("useOnly"),
            "recording_frequency": mode.get("recordingFrequency"),
            # DescribeConfigurationRecorderStatus: null when it did not list this recorder.
            "recording": status.get("recording"),
            "last_status": status.get("lastStatus"),
            "last_error_code": status.get("lastErrorCode"),
            "last_start_time": iso(status.get("lastStartTime")),
            "last_stop_time": iso(status.get("lastStopTime")),
        },
    )


def _delivery_channel(r: Reader, dc: Item) -> Found:
    props = dc.get("configSnapshotDeliveryProperties") or {}
    return Found(
        name=str(dc["name"]),
        attrs={
            "s3_bucket": dc.get("s3BucketName"),
            "s3_key_prefix": dc.get("s3KeyPrefix"),
            "s3_kms_key_arn": dc.get("s3KmsKeyArn"),
            "sns_topic_arn": dc.get("snsTopicARN"),
            "delivery_frequency": props.get("deliveryFrequency"),
        },
    )


CONFIG = ServiceSpec(
    "config",
    "config",
    (
        ResourceSpec(
            "AWS::Config::ConfigurationRecorder",
            "describe_configuration_recorders",
            "ConfigurationRecorders",
            key=_recorder_key,
            build=_recorder,
            lister=_recorders,
        ),
        ResourceSpec(
            "AWS::Config::DeliveryChannel",
            "describe_delivery_channels",
            "DeliveryChannels",
            # Delivery channels have no ARN of their own: this one is by name, like the recorder's.
            key=lambda r, dc: r.arn("config", f"delivery-channel/{dc['name']}"),
            build=_delivery_channel,
        ),
    ),
)

# --- GuardDuty -----------------------------------------------------------------------------


def _detector_ids(r: Reader) -> Iterator[Item]:
    pages = r.client.get_paginator("list_detectors").paginate()
    for detector_id in pages.search("DetectorIds[]"):
        yield {"DetectorId": detector_id}


def _detector_detail(r: Reader, d: Item) -> None:
    d.update(r.client.get_detector(DetectorId=d["DetectorId"]))
    d.pop("ResponseMetadata", None)


def _source_statuses(sources: Item, prefix: str = "") -> dict[str, Any]:
    """{"CloudTrail": {"Status": ...}, "Kubernetes": {"AuditLogs": {...}}} → {"Kubernetes.AuditLogs": ...}."""
    out: dict[str, Any] = {}
    for name, value in sources.items():
        if not isinstance(value, dict):
            continue
        if "Status" in value:
            out[f"{prefix}{name}"] = value.get("Status")
        else:
            out.update(_source_statuses(value, f"{prefix}{name}."))
    return out


def _detector(r: Reader, d: Item) -> Found:
    return Found(
        name=str(d["DetectorId"]),
        tags={str(k): str(v) for k, v in (d.get("Tags") or {}).items()},
        attrs={
            "detector_id": d["DetectorId"],
            "status": d.get("Status"),
            "enabled": None if d.get("Status") is None else d.get("Status") == "ENABLED",
            "finding_publishing_frequency": d.get("FindingPublishingFrequency"),
            "service_role": d.get("ServiceRole"),
            "created_at": iso(d.get("CreatedAt")),
            "updated_at": iso(d.get("UpdatedAt")),
            # Protection plans: the older DataSources form and the newer Features list.
            "data_sources": _source_statuses(d.get("DataSources") or {}),
            "features": {
                str(f.get("Name")): f.get("Status") for f in d.get("Features") or [] if "Name" in f
            },
        },
    )


GUARDDUTY = ServiceSpec(
    "guardduty",
    "guardduty",
    (
        ResourceSpec(
            "AWS::GuardDuty::Detector",
            "list_detectors",
            "DetectorIds",
            key=lambda r, d: r.arn("guardduty", f"detector/{d['DetectorId']}"),
            build=_detector,
            lister=_detector_ids,
            enrich=_detector_detail,
        ),
    ),
)

# --- Security Hub --------------------------------------------------------------------------


def _hub(r: Reader) -> Iterator[Item]:
    """The region's hub, subscribed or not: "not subscribed" is a fact about the region.

    Security Hub answers DescribeHub in a region where it is not enabled with
    InvalidAccessException "... is not subscribed to AWS Security Hub"; any other refusal
    (AccessDeniedException: the role lacks securityhub:DescribeHub) fails the slice.
    """
    try:
        hub = r.client.describe_hub()
    except ClientError as exc:
        message = str(exc.response.get("Error", {}).get("Message", "")).lower()
        if error_code(exc) == "InvalidAccessException" and "not subscribed" in message:
            yield {"_subscribed": False}
            return
        raise
    hub.pop("ResponseMetadata", None)
    yield {**hub, "_subscribed": True}


def _hub_key(r: Reader, h: Item) -> str:
    return str(h.get("HubArn") or r.arn("securityhub", "hub/default"))


def _hub_found(r: Reader, h: Item) -> Found:
    # Tags (ListTagsForResource) and enabled standards (GetEnabledStandards) are not read:
    # the moto server the collector is tested against implements neither.
    return Found(
        name=_hub_key(r, h).rsplit("/", 1)[-1],
        attrs={
            "enabled": bool(h["_subscribed"]),
            "subscribed_at": iso(h.get("SubscribedAt")),
            "auto_enable_controls": h.get("AutoEnableControls"),
            "control_finding_generator": h.get("ControlFindingGenerator"),
        },
    )


SECURITYHUB = ServiceSpec(
    "securityhub",
    "securityhub",
    (
        ResourceSpec(
            "AWS::SecurityHub::Hub",
            "describe_hub",
            "@",
            key=_hub_key,
            build=_hub_found,
            lister=_hub,
        ),
    ),
)

# --- CloudWatch alarms ---------------------------------------------------------------------


def _alarm_tags(r: Reader, a: Item) -> None:
    if "_tags" not in a:  # the tagging API was denied: one call per alarm
        a["_tags"] = tag_dict(
            r.client.list_tags_for_resource(ResourceARN=a["AlarmArn"]).get("Tags")
        )


def _alarm(r: Reader, a: Item) -> Found:
    metrics = a.get("Metrics") or []
    return Found(
        name=str(a["AlarmName"]),
        tags=a.get("_tags", {}),
        attrs={
            # A metric-math alarm has no single metric: its queries' metrics are listed instead.
            "metric_name": a.get("MetricName"),
            "namespace": a.get("Namespace"),
            "metric_math": bool(metrics),
            "metrics": sorted(
                {
                    f"{metric.get('Namespace')}/{metric.get('MetricName')}"
                    for m in metrics
                    if (metric := (m.get("MetricStat") or {}).get("Metric"))
                }
            ),
            "dimensions": {str(d.get("Name")): d.get("Value") for d in a.get("Dimensions") or []},
            "statistic": a.get("Statistic") or a.get("ExtendedStatistic"),
            "period_s": a.get("Period"),
            "evaluation_periods": a.get("EvaluationPeriods"),
            "threshold": a.get("Threshold"),
            "comparison_operator": a.get("ComparisonOperator"),
            "actions_enabled": a.get("ActionsEnabled"),
            "alarm_actions": sorted(a.get("AlarmActions") or []),
            "ok_actions": sorted(a.get("OKActions") or []),
            "insufficient_data_actions": sorted(a.get("InsufficientDataActions") or []),
            "state": a.get("StateValue"),
            "state_updated_at": iso(a.get("StateUpdatedTimestamp")),
        },
    )


CLOUDWATCH = ServiceSpec(
    "cloudwatch",
    "cloudwatch",
    (
        ResourceSpec(
            # Metric alarms only (DescribeAlarms' default); composite alarms are not read.
            "AWS::CloudWatch::Alarm",
            "describe_alarms",
            "MetricAlarms",
            key=lambda r, a: str(a["AlarmArn"]),
            build=_alarm,
            enrich=_alarm_tags,
            enrich_batch=tagging_api("cloudwatch:alarm", "AlarmArn"),
        ),
    ),
)

# --- CloudWatch Logs -----------------------------------------------------------------------


def _log_group_key(r: Reader, g: Item) -> str:
    # `logGroupArn` is the ARN itself; the older `arn` field ends in ":*" (its streams).
    arn = g.get("logGroupArn") or g.get("arn")
    if arn:
        return str(arn).removesuffix(":*")
    return r.arn("logs", f"log-group:{g['logGroupName']}")


def _log_group_tags(r: Reader, g: Item) -> None:
    # One call per group: the tagging API would do it in bulk, but moto's does not list log
    # groups, and a resource it does not list would wrongly read as untagged.
    resp = r.client.list_tags_for_resource(resourceArn=_log_group_key(r, g))
    g["_tags"] = {str(k): str(v) for k, v in (resp.get("tags") or {}).items()}


def _millis(value: Any) -> str | None:
    if not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value / 1000, UTC).isoformat()


def _log_group(r: Reader, g: Item) -> Found:
    kms = g.get("kmsKeyId")
    return Found(
        name=str(g["logGroupName"]),
        tags=g.get("_tags", {}),
        attrs={
            # null: the group never expires its events.
            "retention_days": g.get("retentionInDays"),
            "kms_key_id": kms,
            "log_group_class": g.get("logGroupClass"),
            "data_protection_status": g.get("dataProtectionStatus"),
            "metric_filter_count": g.get("metricFilterCount"),
            "stored_bytes": g.get("storedBytes"),
            "created_at": _millis(g.get("creationTime")),
        },
        # CloudWatch Logs always encrypts with a service key; `encrypted` says whether a
        # customer-managed KMS key is associated.
        encrypted=kms is not None,
    )


def _metric_filter(r: Reader, f: Item) -> Found:
    return Found(
        name=str(f["filterName"]),
        attrs={
            "log_group_name": f.get("logGroupName"),
            "filter_pattern": f.get("filterPattern"),
            "metrics": [
                {
                    "name": m.get("metricName"),
                    "namespace": m.get("metricNamespace"),
                    "value": m.get("metricValue"),
                    "default_value": m.get("defaultValue"),
                    "unit": m.get("unit"),
                }
                for m in f.get("metricTransformations") or []
            ],
            "created_at": _millis(f.get("creationTime")),
        },
    )


LOGS = ServiceSpec(
    "logs",
    "logs",
    (
        ResourceSpec(
            "AWS::Logs::LogGroup",
            "describe_log_groups",
            "logGroups",
            key=_log_group_key,
            build=_log_group,
            enrich=_log_group_tags,
        ),
        ResourceSpec(
            "AWS::Logs::MetricFilter",
            "describe_metric_filters",
            "metricFilters",
            # Metric filters have no ARN: named within their log group (names hold no ':').
            key=lambda r, f: r.arn("logs", f"metric-filter:{f['logGroupName']}:{f['filterName']}"),
            build=_metric_filter,
        ),
    ),
)

REGIONAL: tuple[ServiceSpec, ...] = (CLOUDTRAIL, CONFIG, GUARDDUTY, SECURITYHUB, CLOUDWATCH, LOGS)
GLOBAL: tuple[ServiceSpec, ...] = ()
