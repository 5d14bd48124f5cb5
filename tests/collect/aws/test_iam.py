"""IAM types against the seeded moto server: users, groups, customer-managed policies, the
account's password policy and summary, and the credential report folded into them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from driftscan.collect.base import run_source
from driftscan.model import Resource, SourceRun
from driftscan.providers.aws import AwsSource
from driftscan.providers.aws.keys import identify
from driftscan.sandbox.aws import ACCOUNT, AwsSandbox
from driftscan.sandbox.awsestate.iam import READ_AND_LIST
from driftscan.store import Store
from tests.compliance.conftest import check, statuses
from tests.conftest import TEST_FP

from .conftest import canned

IAM_ARN = f"arn:aws:iam::{ACCOUNT}:"


@pytest.fixture(scope="module")
def run(sandbox: AwsSandbox) -> SourceRun:
    """One full collection of the sandbox, shared by the read-only assertions of this module."""
    sandbox.proxy.reset()
    cfg = AwsSource(**sandbox.source(concurrency=16, max_attempts=3))
    result = run_source(cfg, fingerprint=TEST_FP)
    assert result.status == "ok", [(s.name, s.reason, s.detail) for s in result.slices]
    return result


def named(run: SourceRun, type_: str, name: str) -> Resource:
    [found] = [r for r in run.resources if r.type == type_ and r.name == name]
    return found


def iam_only(source: Callable[..., AwsSource]) -> AwsSource:
    return source(regions=["eu-west-1"])


class TestUsers:
    def test_console_user_without_mfa(self, run: SourceRun) -> None:
        """A console user without MFA: login profile, no MFA device, one active access key, policies and group."""
        alice = named(run, "AWS::IAM::User", "ops-alice")
        assert alice.key == f"{IAM_ARN}user/ops-alice" and alice.region == "global"
        assert alice.tags == {"team": "ops"} and alice.error is None
        a = alice.attrs
        assert (a["console_access"], a["mfa_enabled"], a["mfa_devices"]) == (True, False, [])
        assert a["groups"] == ["ops"]
        assert a["attached_policies"] == ["payments-read"]
        assert a["attached_policy_arns"] == [f"{IAM_ARN}policy/payments-read"]
        assert a["inline_policies"] == ["debug-logs"]
        assert a["inline_policy_fingerprints"]["debug-logs"].startswith("hmac-sha256:")
        [key] = a["access_keys"]
        assert key["access_key_id"].startswith("AKIA") and key["status"] == "Active"
        created = datetime.fromisoformat(key["create_date"])
        assert created.utcoffset() is not None and created.utcoffset().total_seconds() == 0
        assert abs((datetime.now(UTC) - created).total_seconds()) < 3600
        # Never used: moto answers N/A, which is null, not a date.
        assert (key["last_used_date"], key["last_used_service"]) == (None, None)
        assert "age_days" not in key  # ages change daily: the rules compute them
        # From the credential report.
        assert (a["password_enabled"], a["mfa_active"]) == (True, False)

    def test_console_user_with_mfa(self, run: SourceRun) -> None:
        """A console user with a virtual MFA device and no access keys."""
        bob = named(run, "AWS::IAM::User", "ops-bob").attrs
        assert (bob["console_access"], bob["mfa_enabled"], bob["access_keys"]) == (True, True, [])
        assert bob["mfa_devices"][0]["serial_number"] == f"{IAM_ARN}mfa/ops-bob"
        assert bob["mfa_active"] is True and bob["groups"] == []

    def test_passwords_never_stored(self, sandbox: AwsSandbox, run: SourceRun) -> None:
        """The users' console password (the canary) appears nowhere in what is collected."""
        text = json.dumps([r.doc() for r in run.resources], default=str)
        assert sandbox.estate.canary not in text

    def test_access_key_last_use(self, source: Callable[..., AwsSource], on_session: Any) -> None:
        """GetAccessKeyLastUsed's date, service and region are kept, the date in UTC."""
        used = {
            "UserName": "ops-alice",
            "AccessKeyLastUsed": {
                "LastUsedDate": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                "ServiceName": "s3",
                "Region": "eu-west-1",
            },
        }
        on_session("before-call.iam.GetAccessKeyLastUsed", canned("GetAccessKeyLastUsed", used))
        got = run_source(iam_only(source), fingerprint=TEST_FP)
        [key] = named(got, "AWS::IAM::User", "ops-alice").attrs["access_keys"]
        assert key["last_used_date"] == "2026-01-02T03:04:05+00:00"
        assert (key["last_used_service"], key["last_used_region"]) == ("s3", "eu-west-1")

    def test_denied_user_detail_marks_only_users(
        self, source: Callable[..., AwsSource], on_session: Any
    ) -> None:
        """A denied GetLoginProfile leaves the users not assessed; roles, groups and the rest are read."""
        denied = {"Error": {"Code": "AccessDenied", "Message": "no"}}
        on_session("before-call.iam.GetLoginProfile", canned("GetLoginProfile", denied, 403))
        got = run_source(iam_only(source), fingerprint=TEST_FP)
        assert got.status == "ok"
        users = [r for r in got.resources if r.type == "AWS::IAM::User"]
        assert users and all(
            u.error and u.error.startswith("denied: GetLoginProfile") for u in users
        )
        assert named(got, "AWS::IAM::Group", "ops").error is None
        assert named(got, "AWS::IAM::Role", "payments-fn").error is None


class TestGroupsAndPolicies:
    def test_group(self, run: SourceRun) -> None:
        """A group's members come from the users' group lists; its policies are named."""
        ops = named(run, "AWS::IAM::Group", "ops")
        assert ops.key == f"{IAM_ARN}group/ops" and ops.region == "global"
        assert ops.attrs["members"] == ["ops-alice"]
        assert ops.attrs["attached_policies"] == ["payments-read"]
        assert ops.attrs["inline_policies"] == ["ops-extra"]

    def test_customer_managed_policy(self, run: SourceRun) -> None:
        """Only customer-managed policies, each with its default version's document and its tags."""
        policies = [r for r in run.resources if r.type == "AWS::IAM::ManagedPolicy"]
        assert [p.name for p in policies] == ["payments-read"]  # no AWS-managed ones
        p = policies[0]
        assert p.key == f"{IAM_ARN}policy/payments-read" and p.tags == {"owner": "payments"}
        assert p.attrs["default_version_id"] == "v2" and p.attrs["version_count"] == 2
        assert p.attrs["document"] == READ_AND_LIST  # v2, the default, not v1
        assert p.attrs["attachment_count"] == 2 and p.attrs["is_attachable"] is True


class TestAccount:
    def test_password_policy(self, run: SourceRun) -> None:
        """The seeded password policy is one resource with its settings in snake_case."""
        pp = named(run, "AWS::IAM::AccountPasswordPolicy", "account-password-policy")
        assert pp.key == f"{IAM_ARN}account-password-policy" and pp.region == "global"
        assert pp.attrs["configured"] is True
        assert pp.attrs["minimum_password_length"] == 14
        assert pp.attrs["password_reuse_prevention"] == 24 and pp.attrs["max_password_age"] == 90
        assert pp.attrs["require_symbols"] is True and pp.attrs["hard_expiry"] is False

    def test_no_password_policy_is_a_resource(
        self, source: Callable[..., AwsSource], on_session: Any
    ) -> None:
        """An account without a password policy has the resource, configured=false, settings null."""
        none = {
            "Error": {"Code": "NoSuchEntity", "Message": "The Password Policy cannot be found."}
        }
        on_session(
            "before-call.iam.GetAccountPasswordPolicy",
            canned("GetAccountPasswordPolicy", none, 404),
        )
        got = run_source(iam_only(source), fingerprint=TEST_FP)
        pp = named(got, "AWS::IAM::AccountPasswordPolicy", "account-password-policy")
        assert pp.error is None and pp.attrs["configured"] is False
        assert pp.attrs["minimum_password_length"] is None

    def test_account_summary(self, run: SourceRun) -> None:
        """Root MFA and root access keys from the summary; counts; the credential report was read."""
        s = named(run, "AWS::IAM::AccountSummary", "account-summary")
        assert s.key == f"{IAM_ARN}account-summary"
        assert (s.attrs["root_mfa_enabled"], s.attrs["root_access_keys_present"]) == (False, False)
        assert s.attrs["users"] == 2 and s.attrs["groups"] == 1 and s.attrs["policies"] == 1
        assert s.attrs["credential_report"] == "read"
        assert "UsersQuota" not in s.attrs and "users_quota" not in s.attrs

    def test_root_row_folds_into_the_summary(
        self, source: Callable[..., AwsSource], on_session: Any
    ) -> None:
        """The credential report's <root_account> row fills the summary's root_* fields; users keep theirs."""
        header = (
            "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
            "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
            "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
            "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
            "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
            "cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
        )
        root = (
            f"<root_account>,arn:aws:iam::{ACCOUNT}:root,2020-01-01T00:00:00+00:00,not_supported,"
            "2026-02-01T10:00:00+00:00,not_supported,not_supported,false,true,"
            "2020-01-01T00:00:00+00:00,2026-02-02T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,"
            "N/A,false,N/A,false,N/A"
        )
        alice = (
            f"ops-alice,{IAM_ARN}user/ops-alice,2026-01-01T00:00:00+00:00,true,"
            "2026-02-03T00:00:00+00:00,2026-01-01T00:00:00+00:00,N/A,false,true,"
            "2026-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A"
        )
        report = {
            "Content": f"{header}\n{root}\n{alice}\n".encode(),
            "ReportFormat": "text/csv",
            "GeneratedTime": datetime(2026, 2, 4, tzinfo=UTC),
        }
        on_session("before-call.iam.GetCredentialReport", canned("GetCredentialReport", report))
        got = run_source(iam_only(source), fingerprint=TEST_FP)
        s = named(got, "AWS::IAM::AccountSummary", "account-summary").attrs
        assert s["root_mfa_active"] is False and s["root_access_key_1_active"] is True
        assert s["root_access_key_1_last_used_date"] == "2026-02-02T00:00:00+00:00"
        assert s["root_password_last_used"] == "2026-02-01T10:00:00+00:00"
        assert s["root_access_key_2_active"] is False
        assert s["credential_report_generated"] == "2026-02-04T00:00:00+00:00"
        a = named(got, "AWS::IAM::User", "ops-alice").attrs
        assert a["password_last_used"] == "2026-02-03T00:00:00+00:00"
        assert a["password_next_rotation"] is None  # N/A
        # A user the report does not list has no report fields.
        assert named(got, "AWS::IAM::User", "ops-bob").attrs["password_enabled"] is None

    def test_report_denied_leaves_its_fields_null(
        self, source: Callable[..., AwsSource], on_session: Any
    ) -> None:
        """Without the credential report the users are still read, its fields null, the summary says why."""
        denied = {"Error": {"Code": "AccessDenied", "Message": "no"}}
        on_session(
            "before-call.iam.GenerateCredentialReport",
            canned("GenerateCredentialReport", denied, 403),
        )
        got = run_source(iam_only(source), fingerprint=TEST_FP)
        assert got.status == "ok"
        alice = named(got, "AWS::IAM::User", "ops-alice")
        assert alice.error is None and alice.attrs["console_access"] is True
        assert alice.attrs["password_enabled"] is None and alice.attrs["mfa_active"] is None
        summary = named(got, "AWS::IAM::AccountSummary", "account-summary")
        assert summary.attrs["credential_report"] == "denied"
        assert summary.attrs["root_mfa_enabled"] is False  # the summary itself was read

    def test_report_generation_is_waited_for(
        self, source: Callable[..., AwsSource], on_session: Any
    ) -> None:
        """A report still being generated is asked for again until IAM says it is complete."""
        calls: list[str] = []

        def started_once(model: Any, **_: Any) -> Any:
            if model.name == "GenerateCredentialReport":
                calls.append(model.name)
                if len(calls) == 1:
                    return canned(model.name, {"State": "STARTED"})(model)
            return None

        on_session("before-call.iam.GenerateCredentialReport", started_once)
        got = run_source(iam_only(source), fingerprint=TEST_FP)
        assert len(calls) >= 2
        assert named(got, "AWS::IAM::User", "ops-alice").attrs["password_enabled"] is True


def test_identify_iam_keys() -> None:
    """The IAM keys map to their types."""
    assert identify(f"{IAM_ARN}user/ops-alice").type == "AWS::IAM::User"  # type: ignore[union-attr]
    assert identify(f"{IAM_ARN}group/ops").type == "AWS::IAM::Group"  # type: ignore[union-attr]
    assert identify(f"{IAM_ARN}policy/p").type == "AWS::IAM::ManagedPolicy"  # type: ignore[union-attr]
    got = identify(f"{IAM_ARN}account-password-policy")
    assert got is not None and got.type == "AWS::IAM::AccountPasswordPolicy"
    got = identify(f"{IAM_ARN}account-summary")
    assert got is not None and got.type == "AWS::IAM::AccountSummary"


class TestRulesOnTheSeededEstate:
    def test_console_mfa_and_access_keys(self, run: SourceRun, tmp_path: Path) -> None:
        """Checked end to end on today's scan: the console user without MFA alarms, the one with
        MFA passes; the fresh access key passes, the user without keys is skipped."""
        at = datetime.now(UTC)
        with Store(tmp_path / "s.duckdb") as store:
            store.write_scan([run], started_at=at, finished_at=at, tool_version="test")
            res = check(store)
        alice, bob = f"{IAM_ARN}user/ops-alice", f"{IAM_ARN}user/ops-bob"
        mfa, keys = statuses(res, "iam_console_user_mfa"), statuses(res, "iam_access_key_rotation")
        assert (mfa[alice], mfa[bob]) == ("alarm", "ok")
        assert (keys[alice], keys[bob]) == ("ok", "skip")
