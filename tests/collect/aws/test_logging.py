"""Logging and detection types against the moto server: CloudTrail, Config, GuardDuty, Security
Hub, CloudWatch alarms, Logs log groups and metric filters, in the compliant and drifting region."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from driftscan.collect.base import run_source
from driftscan.model import Resource, SourceRun
from driftscan.providers.aws import AwsSource
from driftscan.providers.aws.collect.services.logging import _management_events
from driftscan.providers.aws.keys import identify
from driftscan.sandbox.aws import ACCOUNT, AwsSandbox, FaultProxy
from driftscan.store import Store
from tests.compliance.conftest import T0, check, statuses
from tests.conftest import TEST_FP

from .conftest import canned

GOOD, DRIFT = "us-east-1", "eu-west-1"  # region index 0 and 1 of the sandbox


@pytest.fixture(scope="module")
def run(sandbox: AwsSandbox, aws_env: None) -> SourceRun:
    """One clean collection of both regions, shared by the read-only tests of this module."""
    sandbox.proxy.reset()
    return run_source(
        AwsSource(**sandbox.source(concurrency=16, max_attempts=3)), fingerprint=TEST_FP
    )


def of(run: SourceRun, type_: str, region: str) -> dict[str, Resource]:
    return {r.name: r for r in run.resources if r.type == type_ and r.region == region}


def arn(service: str, region: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource}"


def test_logging_slices_ok(run: SourceRun) -> None:
    """Every logging slice of both regions is read completely and holds what was seeded."""
    names = {s.name: s for s in run.slices}
    for region in (GOOD, DRIFT):
        for svc in ("cloudtrail", "config", "guardduty", "securityhub", "cloudwatch", "logs"):
            s = names[f"{ACCOUNT}/{region}/{svc}"]
            assert (s.status, s.region, s.account) == ("ok", region, ACCOUNT), s
    assert names[f"{ACCOUNT}/{GOOD}/cloudtrail"].types == ["AWS::CloudTrail::Trail"]
    assert all(
        r.error is None
        for r in run.resources
        if r.type.startswith(("AWS::CloudTrail", "AWS::Logs"))
    )


def test_trails_once_in_their_home_region(run: SourceRun) -> None:
    """A multi-region trail is stored once, in its home region, though every region lists it."""
    good, drift = of(run, "AWS::CloudTrail::Trail", GOOD), of(run, "AWS::CloudTrail::Trail", DRIFT)
    assert set(good) == {"audit", "org-audit"} and set(drift) == {"local"}
    org = good["org-audit"]
    assert org.key == arn("cloudtrail", GOOD, "trail/org-audit")
    assert org.attrs["multi_region"] is True and org.attrs["home_region"] == GOOD
    assert org.attrs["is_logging"] is False  # created, logging never started
    keys = [r.key for r in run.resources if r.type == "AWS::CloudTrail::Trail"]
    assert len(keys) == len(set(keys)) == 3


def test_trail_attributes(run: SourceRun) -> None:
    """Logging on, log-file validation, KMS (encrypted), S3 target, selectors; the drifting trail lacks them."""
    audit = of(run, "AWS::CloudTrail::Trail", GOOD)["audit"]
    assert audit.key == arn("cloudtrail", GOOD, "trail/audit")
    assert audit.tags == {"pci": "true"}
    a = audit.attrs
    assert (a["is_logging"], a["log_file_validation"], a["multi_region"]) == (True, True, False)
    assert a["kms_key_id"].startswith(f"arn:aws:kms:{GOOD}:{ACCOUNT}:key/")
    assert audit.encrypted is True and audit.public is None
    assert a["s3_bucket"] == f"acme-data-{GOOD}"
    assert a["cloudwatch_logs_log_group_arn"] == arn(
        "logs", GOOD, "log-group:/aws/cloudtrail/audit:*"
    )
    assert (a["management_events"], a["management_events_read_write"]) == (True, "All")
    assert a["start_logging_time"] and a["stop_logging_time"] is None
    local = of(run, "AWS::CloudTrail::Trail", DRIFT)["local"]
    assert local.tags == {} and local.encrypted is False
    b = local.attrs
    assert (b["is_logging"], b["log_file_validation"], b["kms_key_id"]) == (False, False, None)
    assert b["home_region"] == DRIFT and b["s3_bucket"] == f"acme-data-{DRIFT}"
    assert b["management_events"] is None  # no selectors: AWS's default (all management events)


def test_management_event_selectors() -> None:
    """Basic and advanced event selectors both say whether, and which, management events are logged."""
    assert _management_events({}) == (None, None)
    basic = {"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]}
    assert _management_events(basic) == (True, "WriteOnly")
    data_only = {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": False}]}
    assert _management_events(data_only) == (False, None)

    def adv(*read_only: str) -> dict[str, Any]:
        fields: list[dict[str, Any]] = [{"Field": "eventCategory", "Equals": ["Management"]}]
        return {
            "AdvancedEventSelectors": [
                {"FieldSelectors": [*fields, {"Field": "readOnly", "Equals": [v]}]} if v else
                {"FieldSelectors": fields}
                for v in read_only
            ]
        }  # fmt: skip

    assert _management_events(adv("")) == (True, "All")
    assert _management_events(adv("true")) == (True, "ReadOnly")
    assert _management_events(adv("true", "false")) == (True, "All")
    s3_data = {
        "AdvancedEventSelectors": [
            {"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]}]}
        ]
    }
    assert _management_events(s3_data) == (False, None)


def test_config_recorders_and_delivery_channels(run: SourceRun) -> None:
    """Recorders carry recording status, all-supported and global types; delivery channels their target."""
    rec = of(run, "AWS::Config::ConfigurationRecorder", GOOD)["default"]
    assert rec.key == arn("config", GOOD, "configuration-recorder/default")
    assert (rec.attrs["recording"], rec.attrs["all_supported"]) == (True, True)
    assert rec.attrs["include_global_resource_types"] is True
    assert rec.attrs["recording_strategy"] == "ALL_SUPPORTED_RESOURCE_TYPES"
    assert rec.attrs["last_start_time"]
    drift = of(run, "AWS::Config::ConfigurationRecorder", DRIFT)["default"]
    assert (drift.attrs["recording"], drift.attrs["all_supported"]) == (False, False)
    assert drift.attrs["resource_types"] == ["AWS::EC2::Instance"]
    assert drift.attrs["include_global_resource_types"] is False
    channel = of(run, "AWS::Config::DeliveryChannel", GOOD)["default"]
    assert channel.key == arn("config", GOOD, "delivery-channel/default")
    assert channel.attrs["s3_bucket"] == f"acme-data-{GOOD}"
    assert channel.attrs["delivery_frequency"] == "One_Hour"
    assert of(run, "AWS::Config::DeliveryChannel", DRIFT) == {}  # none in the drifting region


def test_guardduty_detectors(run: SourceRun) -> None:
    """A detector's status and finding frequency; tags come with GetDetector."""
    [good] = of(run, "AWS::GuardDuty::Detector", GOOD).values()
    assert good.key == arn("guardduty", GOOD, f"detector/{good.attrs['detector_id']}")
    assert (good.attrs["status"], good.attrs["enabled"]) == ("ENABLED", True)
    assert good.attrs["finding_publishing_frequency"] == "FIFTEEN_MINUTES"
    assert good.tags == {"pci": "true"}
    assert "CloudTrail" in good.attrs["data_sources"]
    [drift] = of(run, "AWS::GuardDuty::Detector", DRIFT).values()
    assert (drift.attrs["status"], drift.attrs["enabled"]) == ("DISABLED", False)
    assert drift.attrs["finding_publishing_frequency"] == "SIX_HOURS"


def test_security_hub_subscribed_or_not(run: SourceRun) -> None:
    """Each region has one hub record: enabled where subscribed, enabled=false (not a failure) elsewhere."""
    good = of(run, "AWS::SecurityHub::Hub", GOOD)["default"]
    assert good.key == arn("securityhub", GOOD, "hub/default")
    assert good.attrs["enabled"] is True and good.attrs["subscribed_at"]
    drift = of(run, "AWS::SecurityHub::Hub", DRIFT)["default"]
    assert drift.key == arn("securityhub", DRIFT, "hub/default")
    assert drift.error is None
    assert drift.attrs == {
        "enabled": False,
        "subscribed_at": None,
        "auto_enable_controls": None,
        "control_finding_generator": None,
    }


def test_cloudwatch_alarms(run: SourceRun) -> None:
    """An alarm's metric, namespace, actions and state; tags through the tagging API."""
    root = of(run, "AWS::CloudWatch::Alarm", GOOD)["root-usage"]
    assert root.key == arn("cloudwatch", GOOD, "alarm:root-usage")
    assert (root.attrs["metric_name"], root.attrs["namespace"]) == (
        "RootAccountUsage",
        "CISBenchmark",
    )
    assert root.attrs["actions_enabled"] is True
    assert root.attrs["alarm_actions"] == [arn("sns", GOOD, "security-alerts")]
    assert root.attrs["state"] == "OK" and root.attrs["threshold"] == 1.0
    assert root.tags == {"pci": "true"}
    cpu = of(run, "AWS::CloudWatch::Alarm", DRIFT)["cpu-high"]
    assert cpu.attrs["actions_enabled"] is False and cpu.attrs["alarm_actions"] == []
    assert cpu.attrs["namespace"] == "AWS/EC2" and set(cpu.attrs["dimensions"]) == {"InstanceId"}
    assert cpu.tags == {}


def test_log_groups_and_metric_filters(run: SourceRun) -> None:
    """Log groups carry retention and KMS (the encrypted facet); metric filters their group, pattern, metric."""
    audit = of(run, "AWS::Logs::LogGroup", GOOD)["/aws/cloudtrail/audit"]
    assert audit.key == arn("logs", GOOD, "log-group:/aws/cloudtrail/audit")  # no ':*'
    assert audit.attrs["retention_days"] == 365 and audit.encrypted is True
    assert audit.attrs["kms_key_id"].startswith(f"arn:aws:kms:{GOOD}:")
    assert audit.tags == {"pci": "true"} and audit.attrs["created_at"]
    drift = of(run, "AWS::Logs::LogGroup", DRIFT)
    assert drift[f"/app/{DRIFT}"].attrs["retention_days"] is None  # never expires
    assert drift["/app/debug"].attrs["retention_days"] == 14
    assert {g.encrypted for g in drift.values()} == {False}
    mf = of(run, "AWS::Logs::MetricFilter", GOOD)["root-usage"]
    assert mf.key == arn("logs", GOOD, "metric-filter:/aws/cloudtrail/audit:root-usage")
    assert mf.attrs["log_group_name"] == "/aws/cloudtrail/audit"
    assert "$.userIdentity.type" in mf.attrs["filter_pattern"]
    assert [(m["name"], m["namespace"], m["value"]) for m in mf.attrs["metrics"]] == [
        ("RootAccountUsage", "CISBenchmark", "1")
    ]
    assert of(run, "AWS::Logs::MetricFilter", DRIFT) == {}


def test_keys_identify_their_types(run: SourceRun) -> None:
    """Every logging key names its own type, account and region when read back as an ARN."""
    mine = [r for r in run.resources if r.type.split("::")[1] in LOGGING_SERVICES]
    assert {r.type for r in mine} == LOGGING_TYPES
    for r in mine:
        ident = identify(r.key)
        assert ident is not None
        assert (ident.type, ident.account, ident.region) == (r.type, ACCOUNT, r.region), r.key


LOGGING_SERVICES = {"CloudTrail", "Config", "GuardDuty", "SecurityHub", "CloudWatch", "Logs"}
LOGGING_TYPES = {
    "AWS::CloudTrail::Trail",
    "AWS::Config::ConfigurationRecorder",
    "AWS::Config::DeliveryChannel",
    "AWS::GuardDuty::Detector",
    "AWS::SecurityHub::Hub",
    "AWS::CloudWatch::Alarm",
    "AWS::Logs::LogGroup",
    "AWS::Logs::MetricFilter",
}


def test_rules_on_the_sandbox(run: SourceRun, store: Store) -> None:
    """The seeded estate gives the logging rules a passing and a failing case each."""
    store.write_scan([run], started_at=T0, finished_at=T0, tool_version="test")
    result = check(store)
    assert statuses(result, "cloudtrail_region_logging") == {
        f"aws-sandbox/{ACCOUNT}/{GOOD}": "ok",
        f"aws-sandbox/{ACCOUNT}/{DRIFT}": "alarm",
    }
    assert statuses(result, "cloudtrail_log_file_validation") == {
        arn("cloudtrail", GOOD, "trail/audit"): "ok",
        arn("cloudtrail", GOOD, "trail/org-audit"): "alarm",
        arn("cloudtrail", DRIFT, "trail/local"): "alarm",
    }
    assert statuses(result, "logging_log_group_retention") == {
        arn("logs", GOOD, "log-group:/aws/cloudtrail/audit"): "ok",
        arn("logs", DRIFT, f"log-group:/app/{DRIFT}"): "ok",
        arn("logs", DRIFT, "log-group:/app/debug"): "alarm",
    }


def test_security_hub_denied_is_not_assessed(
    proxy: FaultProxy, source: Callable[..., AwsSource]
) -> None:
    """A DescribeHub the role may not call fails the slice (denied), never reads as 'not subscribed'."""
    proxy.deny("securityhub", region=DRIFT)
    got = run_source(source(regions=[DRIFT]))
    hub = {s.name: s for s in got.slices}[f"{ACCOUNT}/{DRIFT}/securityhub"]
    assert (hub.status, hub.reason) == ("failed", "denied")
    assert not [r for r in got.resources if r.type == "AWS::SecurityHub::Hub"]
    assert {s.name: s for s in got.slices}[f"{ACCOUNT}/{DRIFT}/cloudtrail"].status == "ok"


def test_trail_status_denied_marks_only_the_trail(
    on_session: Any, source: Callable[..., AwsSource]
) -> None:
    """A denied GetTrailStatus leaves that trail not assessed; the CloudTrail slice is still read."""
    denied = {"Error": {"Code": "AccessDeniedException", "Message": "no GetTrailStatus"}}
    on_session("before-call.cloudtrail.GetTrailStatus", canned("GetTrailStatus", denied, 400))
    got = run_source(source(regions=[DRIFT]))
    assert {s.name: s for s in got.slices}[f"{ACCOUNT}/{DRIFT}/cloudtrail"].status == "ok"
    [local] = [r for r in got.resources if r.type == "AWS::CloudTrail::Trail"]
    assert local.key == arn("cloudtrail", DRIFT, "trail/local")
    assert local.error and local.error.startswith("denied: GetTrailStatus: ")
    assert local.attrs == {}


def test_unsubscribed_hub_answer_is_only_that(
    on_session: Any, source: Callable[..., AwsSource]
) -> None:
    """An InvalidAccessException that does not say 'not subscribed' fails the slice as an error."""
    other = {"Error": {"Code": "InvalidAccessException", "Message": "something else"}}
    on_session("before-call.securityhub.DescribeHub", canned("DescribeHub", other, 401))
    got = run_source(source(regions=[GOOD]))
    hub = {s.name: s for s in got.slices}[f"{ACCOUNT}/{GOOD}/securityhub"]
    assert (hub.status, hub.reason) == ("failed", "error")


def test_recorder_status_is_asked_only_where_there_is_a_recorder(
    on_session: Any, source: Callable[..., AwsSource], read_only: dict[str, list[str]]
) -> None:
    """A region without a Config recorder (most of them) costs no DescribeConfigurationRecorderStatus;
    its delivery channels are still read."""
    none = {"ConfigurationRecorders": []}
    on_session(
        "before-call.config.DescribeConfigurationRecorders",
        canned("DescribeConfigurationRecorders", none),
    )
    got = run_source(source(regions=[GOOD]))
    assert {s.name: s for s in got.slices}[f"{ACCOUNT}/{GOOD}/config"].status == "ok"
    assert not [r for r in got.resources if r.type == "AWS::Config::ConfigurationRecorder"]
    assert [r for r in got.resources if r.type == "AWS::Config::DeliveryChannel"]
    assert "config.DescribeConfigurationRecorderStatus" not in read_only["calls"]
