"""The seeded estate's logging types (see driftscan/providers/aws/collect/services/logging.py).

Region index 0 is the compliant configuration: a trail that logs (log-file validation, KMS,
CloudWatch Logs delivery, all management events), an AWS Config recorder that records every
supported type with a delivery channel, an enabled GuardDuty detector, Security Hub, a CIS-style
metric filter with its alarm, and an audit log group kept 365 days under KMS.

The trail there is single-region on purpose, so that every other region is uncovered and the
rule `cloudtrail_region_logging` has a failing case in the sandbox; a multi-region trail whose
logging was never started sits beside it (it is listed in every region, recorded once in its
home region, and covers nothing). Other regions drift: a trail that does not log, a recorder
that records one type and is stopped (no delivery channel), a disabled detector, Security Hub
not subscribed, an alarm with its actions off, log groups without retention and with 14 days.
"""

from __future__ import annotations

from driftscan.sandbox.awsestate.base import Estate, client

PCI = [{"Key": "pci", "Value": "true"}]


def seed(endpoint_url: str, est: Estate) -> None:
    """Create this domain's resources in every region of `est` and record their keys."""
    acct = est.account
    for region in est.regions:
        ctx = est.context[region]
        good = ctx.index == 0
        kms_arn = f"arn:aws:kms:{region}:{acct}:key/{ctx.kms_key_id}"
        arn = f"arn:aws:{{}}:{region}:{acct}:{{}}"

        logs = client("logs", endpoint_url, region)
        groups = (
            {"/aws/cloudtrail/audit": (365, kms_arn)}
            if good
            else {f"/app/{region}": (None, None), "/app/debug": (14, None)}
        )
        for group, (days, key) in groups.items():
            logs.create_log_group(
                logGroupName=group, tags={"pci": "true"}, **({"kmsKeyId": key} if key else {})
            )
            if days is not None:
                logs.put_retention_policy(logGroupName=group, retentionInDays=days)
            est.add("AWS::Logs::LogGroup", arn.format("logs", f"log-group:{group}"))

        cw = client("cloudwatch", endpoint_url, region)
        if good:
            logs.put_metric_filter(
                logGroupName="/aws/cloudtrail/audit",
                filterName="root-usage",
                filterPattern='{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }',
                metricTransformations=[
                    {"metricName": "RootAccountUsage", "metricNamespace": "CISBenchmark",
                     "metricValue": "1"}
                ],
            )  # fmt: skip
            est.add(
                "AWS::Logs::MetricFilter",
                arn.format("logs", "metric-filter:/aws/cloudtrail/audit:root-usage"),
            )
            cw.put_metric_alarm(
                AlarmName="root-usage",
                MetricName="RootAccountUsage",
                Namespace="CISBenchmark",
                Statistic="Sum",
                Period=300,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
                AlarmActions=[arn.format("sns", "security-alerts")],
                Tags=PCI,
            )
            est.add("AWS::CloudWatch::Alarm", arn.format("cloudwatch", "alarm:root-usage"))
        else:
            cw.put_metric_alarm(
                AlarmName="cpu-high",
                MetricName="CPUUtilization",
                Namespace="AWS/EC2",
                Dimensions=[{"Name": "InstanceId", "Value": ctx.instance_id}],
                Statistic="Average",
                Period=60,
                EvaluationPeriods=3,
                Threshold=90,
                ComparisonOperator="GreaterThanThreshold",
                ActionsEnabled=False,
            )
            est.add("AWS::CloudWatch::Alarm", arn.format("cloudwatch", "alarm:cpu-high"))

        ct = client("cloudtrail", endpoint_url, region)
        if good:
            audit = ct.create_trail(
                Name="audit",
                S3BucketName=ctx.bucket,
                IsMultiRegionTrail=False,
                EnableLogFileValidation=True,
                KmsKeyId=kms_arn,
                CloudWatchLogsLogGroupArn=arn.format("logs", "log-group:/aws/cloudtrail/audit:*"),
                CloudWatchLogsRoleArn=est.role_arn,
                TagsList=PCI,
            )
            ct.put_event_selectors(
                TrailName="audit",
                EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}],
            )
            ct.start_logging(Name="audit")
            est.add("AWS::CloudTrail::Trail", audit["TrailARN"])
            org = ct.create_trail(
                Name="org-audit", S3BucketName=ctx.bucket, IsMultiRegionTrail=True
            )
            est.add("AWS::CloudTrail::Trail", org["TrailARN"])
        else:
            local = ct.create_trail(Name="local", S3BucketName=ctx.bucket)
            est.add("AWS::CloudTrail::Trail", local["TrailARN"])

        cfg = client("config", endpoint_url, region)
        group_config = (
            {"allSupported": True, "includeGlobalResourceTypes": True}
            if good
            else {
                "allSupported": False,
                "includeGlobalResourceTypes": False,
                "resourceTypes": ["AWS::EC2::Instance"],
                "recordingStrategy": {"useOnly": "INCLUSION_BY_RESOURCE_TYPES"},
            }
        )
        cfg.put_configuration_recorder(
            ConfigurationRecorder={
                "name": "default",
                "roleARN": est.role_arn,
                "recordingGroup": group_config,
            }
        )
        est.add(
            "AWS::Config::ConfigurationRecorder",
            arn.format("config", "configuration-recorder/default"),
        )
        if good:
            cfg.put_delivery_channel(
                DeliveryChannel={
                    "name": "default",
                    "s3BucketName": ctx.bucket,
                    "configSnapshotDeliveryProperties": {"deliveryFrequency": "One_Hour"},
                }
            )
            cfg.start_configuration_recorder(ConfigurationRecorderName="default")
            est.add(
                "AWS::Config::DeliveryChannel", arn.format("config", "delivery-channel/default")
            )

        gd = client("guardduty", endpoint_url, region)
        detector = gd.create_detector(
            Enable=good,
            FindingPublishingFrequency="FIFTEEN_MINUTES" if good else "SIX_HOURS",
            Tags={"pci": "true"} if good else {},
        )["DetectorId"]
        est.add("AWS::GuardDuty::Detector", arn.format("guardduty", f"detector/{detector}"))

        if good:
            client("securityhub", endpoint_url, region).enable_security_hub(
                EnableDefaultStandards=False
            )
        # Subscribed or not, each region has one hub record.
        est.add("AWS::SecurityHub::Hub", arn.format("securityhub", "hub/default"))
