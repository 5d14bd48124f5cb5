"""The CIS AWS rules on the moto organisation: the facts the collector reads for them, and a
passing and a failing finding per rule from one scan of the management account and its members."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from driftscan.collect.base import run_source
from driftscan.compliance import CheckResult
from driftscan.model import Resource, SourceRun
from driftscan.providers.aws import AwsSource
from driftscan.providers.aws.collect.services.logging import _s3_object_events
from driftscan.sandbox.aws import ACCOUNT, AwsSandbox, Organization
from driftscan.store import Store
from tests.compliance.conftest import builtin_pack, check
from tests.conftest import TEST_FP

from .conftest import canned

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)

# Every rule of the CIS AWS part of the pack (issue 19), by id.
CIS_RULES = (
    "iam_root_no_access_keys", "iam_root_mfa", "iam_root_hardware_mfa",
    "iam_root_not_used_recently", "iam_password_policy_length", "iam_password_policy_reuse",
    "iam_unused_credentials", "iam_single_active_access_key", "iam_user_no_attached_policies",
    "iam_no_full_admin_policy", "iam_support_role_exists",
    "iam_cloudshell_full_access_not_attached",
    "s3_mfa_delete", "s3_bucket_public_access_block", "s3_account_public_access_block",
    "ec2_ebs_default_encryption", "rds_storage_encrypted", "rds_auto_minor_version_upgrade",
    "rds_instance_not_public", "efs_encrypted",
    "cloudtrail_multi_region", "config_recorder_all_regions", "cloudtrail_bucket_access_logging",
    "cloudtrail_kms_encrypted", "cloudtrail_s3_write_data_events", "cloudtrail_s3_read_data_events",
    "cloudwatch_filter_unauthorized_api", "cloudwatch_filter_console_no_mfa",
    "cloudwatch_filter_root_usage", "cloudwatch_filter_iam_policy_changes",
    "cloudwatch_filter_cloudtrail_changes", "cloudwatch_filter_console_auth_failures",
    "cloudwatch_filter_cmk_disable", "cloudwatch_filter_s3_policy_changes",
    "cloudwatch_filter_config_changes", "cloudwatch_filter_sg_changes",
    "cloudwatch_filter_nacl_changes", "cloudwatch_filter_gateway_changes",
    "cloudwatch_filter_route_table_changes", "cloudwatch_filter_vpc_changes",
    "cloudwatch_filter_organizations_changes", "securityhub_enabled",
    "ec2_sg_admin_ports_ipv4", "ec2_sg_admin_ports_ipv6", "ec2_default_sg_restricts_all",
    "ec2_imdsv2_required", "guardduty_enabled",
)  # fmt: skip

# What moto cannot seed, so the sandbox cannot show that verdict (the synthetic tests in
# tests/compliance/test_rules_cis_aws.py cover both sides of each).
MOTO_CANNOT: dict[str, tuple[set[str], str]] = {
    "iam_root_no_access_keys": ({"alarm"}, "moto cannot create access keys for root"),
    "iam_root_mfa": ({"ok"}, "moto's AccountMFAEnabled is always 0: root MFA cannot be enabled"),
    "iam_root_hardware_mfa": ({"ok"}, "moto's AccountMFAEnabled is always 0"),
    "iam_root_not_used_recently": (
        {"ok", "alarm"},
        "moto's credential report has no <root_account> row (not assessed)",
    ),
    "iam_unused_credentials": (
        {"alarm"},
        "moto stamps passwords and keys with the current time and never records their use",
    ),
    "iam_support_role_exists": (
        {"ok"},
        "moto creates AWS-managed policies (AWSSupportAccess) only when its server starts with "
        "MOTO_IAM_LOAD_MANAGED_POLICIES, which would change every account of the shared sandbox",
    ),
    "iam_cloudshell_full_access_not_attached": (
        {"alarm"},
        "AWSCloudShellFullAccess is an AWS-managed policy (see iam_support_role_exists)",
    ),
    "s3_mfa_delete": ({"ok"}, "moto's GetBucketVersioning never reports MFADelete Enabled"),
}


@pytest.fixture(scope="module")
def org(sandbox: AwsSandbox) -> Organization:
    return sandbox.organization()


@pytest.fixture(scope="module")
def run(sandbox: AwsSandbox, org: Organization) -> SourceRun:
    """One collection of the organisation: management account, dev (failing), prod (passing)
    and locked (a new account), every slice read."""
    sandbox.proxy.reset()
    cfg = AwsSource(
        **sandbox.source(
            accounts="organization", role_name=org.role_name, concurrency=16, max_attempts=3
        )
    )
    result = run_source(cfg, fingerprint=TEST_FP)
    assert result.status == "ok", [(s.name, s.reason, s.detail) for s in result.slices]
    return result


@pytest.fixture(scope="module")
def result(run: SourceRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CheckResult]:
    """The built-in pack evaluated once over that scan."""
    with Store(tmp_path_factory.mktemp("cis") / "store.duckdb") as store:
        store.write_scan([run], started_at=T0, finished_at=T0, tool_version="test")
        yield check(store)


def found(run: SourceRun, type_: str, account: str, name: str) -> Resource:
    [r] = [r for r in run.resources if (r.type, r.account, r.name) == (type_, account, name)]
    return r


class TestCollectedFacts:
    def test_roles_carry_their_attached_policies(self, run: SourceRun, org: Organization) -> None:
        """A role's attached managed policies come from the authorization details, names and ARNs."""
        prod = org.members["prod"]
        role = found(run, "AWS::IAM::Role", prod, "cloudtrail-logs")
        assert role.attrs["attached_policies"] == ["cloudtrail-to-logs"]
        assert role.attrs["attached_policy_arns"] == [
            f"arn:aws:iam::{prod}:policy/cloudtrail-to-logs"
        ]
        assert found(run, "AWS::IAM::Role", ACCOUNT, "payments-fn").attrs["attached_policies"] == []

    def test_summary_says_whether_root_has_a_virtual_device_and_a_report_row(
        self, run: SourceRun
    ) -> None:
        """The summary records root's virtual MFA (none here) and that moto's report has no root row."""
        summary = found(run, "AWS::IAM::AccountSummary", ACCOUNT, "account-summary").attrs
        assert summary["root_virtual_mfa"] is False
        assert summary["credential_report"] == "read"
        assert summary["root_in_credential_report"] is False

    def test_trails_record_s3_object_events(self, run: SourceRun, org: Organization) -> None:
        """A selector for AWS::S3::Object on arn:aws:s3 logs reads and writes; management-only logs neither."""
        cis = found(run, "AWS::CloudTrail::Trail", org.members["prod"], "cis-trail").attrs
        assert (cis["s3_object_reads_logged"], cis["s3_object_writes_logged"]) == (True, True)
        audit = found(run, "AWS::CloudTrail::Trail", ACCOUNT, "audit").attrs
        assert (audit["s3_object_reads_logged"], audit["s3_object_writes_logged"]) == (False, False)

    def test_instances_and_databases_carry_the_new_settings(
        self, run: SourceRun, org: Organization
    ) -> None:
        """Instances report their metadata options; DB instances their automatic minor upgrades."""
        tokens = {
            r.account: r.attrs["metadata_http_tokens"]
            for r in run.resources
            if r.type == "AWS::EC2::Instance"
        }
        assert tokens == {ACCOUNT: "optional", org.members["prod"]: "required"}
        upgrades = {
            (r.account, r.name): r.attrs["auto_minor_version_upgrade"]
            for r in run.resources
            if r.type == "AWS::RDS::DBInstance"
        }
        assert upgrades[(org.members["dev"], "legacy-db")] is False
        assert upgrades[(ACCOUNT, "payments-db-0")] is True


@pytest.mark.parametrize(
    ("selectors", "expected"),
    [
        ({"EventSelectors": [{"ReadWriteType": "WriteOnly", "DataResources": [
            {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]}, (False, True)),
        ({"EventSelectors": [{"ReadWriteType": "All", "DataResources": [
            {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::one-bucket/"]}]}]}, (False, False)),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "readOnly", "Equals": ["true"]}]}]}, (True, False)),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::logs/"]}]}]}, (False, False)),
        ({"AdvancedEventSelectors": [{"FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::DynamoDB::Table"]}]}]}, (False, False)),
    ],
)  # fmt: skip
def test_s3_object_event_selectors(selectors: dict[str, Any], expected: tuple[bool, bool]) -> None:
    """Only selectors covering every bucket's objects count, per read and write, in either form."""
    assert _s3_object_events(selectors) == expected


def test_virtual_mfa_listing_denied_is_unknown(
    source: Any, on_session: Any, sandbox: AwsSandbox
) -> None:
    """A denied ListVirtualMFADevices leaves root_virtual_mfa null, the summary still read."""
    denied = {"Error": {"Code": "AccessDenied", "Message": "no ListVirtualMFADevices"}}
    on_session(
        "before-call.iam.ListVirtualMFADevices", canned("ListVirtualMFADevices", denied, 403)
    )
    got = run_source(source(regions=["us-east-1"]), fingerprint=TEST_FP)
    [summary] = [r for r in got.resources if r.type == "AWS::IAM::AccountSummary"]
    assert summary.error is None
    assert summary.attrs["root_virtual_mfa"] is None and summary.attrs["users"] >= 2


def test_root_virtual_mfa_device_is_recognised(source: Any, on_session: Any) -> None:
    """An assigned virtual device whose user is root (moto cannot assign one) reads as virtual."""
    root = {"SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/root-account-mfa-device",
            "User": {"Arn": f"arn:aws:iam::{ACCOUNT}:root", "UserName": "root", "UserId": ACCOUNT,
                     "Path": "/", "CreateDate": T0}, "EnableDate": T0}  # fmt: skip
    other = {"SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/ops-bob",
             "User": {"Arn": f"arn:aws:iam::{ACCOUNT}:user/ops-bob"}}  # fmt: skip
    answer = {"VirtualMFADevices": [other, root], "IsTruncated": False}
    on_session("before-call.iam.ListVirtualMFADevices", canned("ListVirtualMFADevices", answer))
    got = run_source(source(regions=["us-east-1"]), fingerprint=TEST_FP)
    [summary] = [r for r in got.resources if r.type == "AWS::IAM::AccountSummary"]
    assert summary.attrs["root_virtual_mfa"] is True


@pytest.mark.parametrize("rule", CIS_RULES)
def test_sandbox_passes_and_fails_each_rule(result: CheckResult, rule: str) -> None:
    """Each CIS rule finds at least one ok and one alarm in the sandbox organisation, except the
    verdicts moto cannot seed (MOTO_CANNOT, each with its reason)."""
    got = {f.status for f in result.findings if f.rule == rule}
    assert got, f"{rule} produced no finding"
    missing, why = MOTO_CANNOT.get(rule, (set(), ""))
    for status in ("ok", "alarm"):
        if status in missing:
            assert status not in got, f"{rule}: {status} now appears; drop it from MOTO_CANNOT"
        else:
            assert status in got, f"{rule}: no {status} finding ({sorted(got)})"
    assert "error" not in got, why


def test_every_cis_rule_is_in_the_pack() -> None:
    """The ids above are exactly the pack's CIS AWS rules, each declaring the types it reads."""
    pack = builtin_pack()
    for rule in CIS_RULES:
        assert rule in pack.rules, rule
        assert pack.rules[rule].spec.types, f"{rule} declares no types"
    assert set(MOTO_CANNOT) <= set(CIS_RULES)
