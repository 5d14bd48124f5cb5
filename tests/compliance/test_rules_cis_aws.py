"""The CIS AWS Foundations 3.0 rules on synthetic scans shaped like the AWS collector's output:
a passing, a failing and (where facts can be missing) a not-assessed case for each."""

from __future__ import annotations

from typing import Any

import pytest

from driftscan.compliance import CheckResult
from driftscan.model import Resource, Slice, SourceRun
from driftscan.sandbox.awsestate.cis import PATTERNS
from driftscan.store import Store
from tests.compliance.conftest import ACCOUNT, T0, aws, builtin_pack, by_resource, check, statuses

SRC = "aws-prod"
OTHER = "444455556666"
TRAIL = "AWS::CloudTrail::Trail"
SUMMARY = "AWS::IAM::AccountSummary"
USER = "AWS::IAM::User"


def scan(
    store: Store, resources: list[Resource], slices: list[Slice] | None = None, *, rules: list[str]
) -> CheckResult:
    """Write one scan of source SRC (the given slices, else one ok slice covering everything)
    and evaluate the named rules of the built-in pack over it."""
    run = SourceRun(SRC, "aws")
    run.resources.extend(resources)
    run.slices.extend(slices or [Slice(SRC, "aws", "all", "ok", resources=len(resources))])
    run.finish()
    store.write_scan([run], started_at=T0, finished_at=T0, tool_version="test")
    return check(store, rules=rules)


def res(type_: str, name: str, attrs: dict[str, Any], *, account: str = ACCOUNT,
        region: str = "eu-west-1", key: str | None = None) -> Resource:  # fmt: skip
    """A resource of `account` the way the collector stores it."""
    r = aws(type_, name, region=region, attrs=attrs,
            key=key or f"arn:aws:test:{region}:{account}:{type_.split('::')[-1].lower()}/{name}")  # fmt: skip
    r.account = account
    return r


def ok_slice(name: str, types: list[str], account: str = ACCOUNT, region: str | None = None,
             status: str = "ok") -> Slice:  # fmt: skip
    """A slice of `account` (and region) covering `types`: read, or failed (denied)."""
    extra: dict[str, Any] = (
        {"reason": "denied", "detail": "AccessDenied"} if status == "failed" else {}
    )
    return Slice(SRC, "aws", f"{account}/{region or 'global'}/{name}", status,  # type: ignore[arg-type]
                 account=account, region=region, types=types, **extra)  # fmt: skip


# --- one resource, one verdict -------------------------------------------------------------

SINGLE: list[tuple[str, str, dict[str, Any], str]] = [
    # rule, resource type, attrs, expected status
    ("iam_root_no_access_keys", SUMMARY, {"root_access_keys_present": False}, "ok"),
    ("iam_root_no_access_keys", SUMMARY, {"root_access_keys_present": True}, "alarm"),
    ("iam_root_no_access_keys", SUMMARY, {"root_in_credential_report": True,
                                          "root_access_key_2_active": True}, "alarm"),
    ("iam_root_no_access_keys", SUMMARY, {"root_in_credential_report": False}, "not_assessed"),
    ("iam_root_mfa", SUMMARY, {"root_mfa_enabled": True}, "ok"),
    ("iam_root_mfa", SUMMARY, {"root_mfa_active": True}, "ok"),
    ("iam_root_mfa", SUMMARY, {"root_mfa_enabled": False}, "alarm"),
    ("iam_root_mfa", SUMMARY, {"credential_report": "denied"}, "not_assessed"),
    ("iam_root_hardware_mfa", SUMMARY, {"root_mfa_enabled": True, "root_virtual_mfa": False}, "ok"),
    ("iam_root_hardware_mfa", SUMMARY, {"root_mfa_enabled": True, "root_virtual_mfa": True}, "alarm"),
    ("iam_root_hardware_mfa", SUMMARY, {"root_mfa_enabled": False, "root_virtual_mfa": None}, "alarm"),
    ("iam_root_hardware_mfa", SUMMARY, {"root_mfa_enabled": True, "root_virtual_mfa": None},
     "not_assessed"),
    ("iam_root_not_used_recently", SUMMARY, {"root_in_credential_report": True}, "ok"),
    ("iam_root_not_used_recently", SUMMARY, {"root_in_credential_report": True,
     "root_password_last_used": "2025-06-01T10:00:00+00:00"}, "ok"),
    ("iam_root_not_used_recently", SUMMARY, {"root_in_credential_report": True,
     "root_password_last_used": "2026-02-25T10:00:00+00:00"}, "alarm"),
    ("iam_root_not_used_recently", SUMMARY, {"root_in_credential_report": True,
     "root_access_key_1_last_used_date": "2026-02-28T23:00:00+00:00"}, "alarm"),
    ("iam_root_not_used_recently", SUMMARY, {"root_in_credential_report": False}, "not_assessed"),
    ("iam_root_not_used_recently", SUMMARY, {"root_in_credential_report": None}, "not_assessed"),
    ("iam_password_policy_length", "AWS::IAM::AccountPasswordPolicy",
     {"configured": True, "minimum_password_length": 14}, "ok"),
    ("iam_password_policy_length", "AWS::IAM::AccountPasswordPolicy",
     {"configured": True, "minimum_password_length": 8}, "alarm"),
    ("iam_password_policy_length", "AWS::IAM::AccountPasswordPolicy",
     {"configured": False, "minimum_password_length": None}, "alarm"),
    ("iam_password_policy_length", "AWS::IAM::AccountPasswordPolicy", {"x": 1}, "not_assessed"),
    ("iam_password_policy_reuse", "AWS::IAM::AccountPasswordPolicy",
     {"configured": True, "password_reuse_prevention": 24}, "ok"),
    ("iam_password_policy_reuse", "AWS::IAM::AccountPasswordPolicy",
     {"configured": True, "password_reuse_prevention": 5}, "alarm"),
    ("iam_password_policy_reuse", "AWS::IAM::AccountPasswordPolicy",
     {"configured": False, "password_reuse_prevention": None}, "alarm"),
    ("iam_password_policy_reuse", "AWS::IAM::AccountPasswordPolicy", {"x": 1}, "not_assessed"),
    ("iam_single_active_access_key", USER, {"access_keys": [
        {"access_key_id": "AKIA1", "status": "Active"},
        {"access_key_id": "AKIA2", "status": "Inactive"}]}, "ok"),
    ("iam_single_active_access_key", USER, {"access_keys": [
        {"access_key_id": "AKIA1", "status": "Active"},
        {"access_key_id": "AKIA2", "status": "Active"}]}, "alarm"),
    ("iam_single_active_access_key", USER, {"console_access": True}, "not_assessed"),
    ("iam_user_no_attached_policies", USER, {"attached_policies": [], "inline_policies": []}, "ok"),
    ("iam_user_no_attached_policies", USER, {"attached_policies": ["admin"],
                                             "inline_policies": []}, "alarm"),
    ("iam_user_no_attached_policies", USER, {"attached_policies": [],
                                             "inline_policies": ["debug"]}, "alarm"),
    ("iam_user_no_attached_policies", USER, {"attached_policies": None,
                                             "inline_policies": []}, "not_assessed"),
    ("iam_cloudshell_full_access_not_attached", "AWS::IAM::Role",
     {"attached_policy_arns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}, "ok"),
    ("iam_cloudshell_full_access_not_attached", USER,
     {"attached_policy_arns": ["arn:aws:iam::aws:policy/AWSCloudShellFullAccess"]}, "alarm"),
    ("iam_cloudshell_full_access_not_attached", "AWS::IAM::Group",
     {"attached_policy_arns": ["arn:aws-us-gov:iam::aws:policy/AWSCloudShellFullAccess"]}, "alarm"),
    ("iam_cloudshell_full_access_not_attached", USER,
     {"attached_policy_arns": [f"arn:aws:iam::{ACCOUNT}:policy/AWSCloudShellFullAccess"]}, "ok"),
    ("iam_cloudshell_full_access_not_attached", "AWS::IAM::Role",
     {"attached_policy_arns": None}, "not_assessed"),
    ("s3_mfa_delete", "AWS::S3::Bucket", {"mfa_delete": "Enabled", "versioning": "Enabled"}, "ok"),
    ("s3_mfa_delete", "AWS::S3::Bucket", {"mfa_delete": "Disabled", "versioning": "Enabled"}, "alarm"),
    ("s3_mfa_delete", "AWS::S3::Bucket", {"versioning": "Enabled"}, "not_assessed"),
    ("s3_account_public_access_block", "AWS::S3::AccountPublicAccessBlock",
     {"configured": True, "all_blocked": True, "block_public_acls": True,
      "ignore_public_acls": True, "block_public_policy": True,
      "restrict_public_buckets": True}, "ok"),
    ("s3_account_public_access_block", "AWS::S3::AccountPublicAccessBlock",
     {"configured": True, "all_blocked": False, "block_public_acls": True,
      "ignore_public_acls": True, "block_public_policy": True,
      "restrict_public_buckets": False}, "alarm"),
    ("s3_account_public_access_block", "AWS::S3::AccountPublicAccessBlock",
     {"configured": False, "all_blocked": False}, "alarm"),
    ("s3_account_public_access_block", "AWS::S3::AccountPublicAccessBlock", {"x": 1},
     "not_assessed"),
    ("ec2_ebs_default_encryption", "AWS::EC2::EBSEncryptionByDefault", {"enabled": True}, "ok"),
    ("ec2_ebs_default_encryption", "AWS::EC2::EBSEncryptionByDefault", {"enabled": False}, "alarm"),
    ("ec2_ebs_default_encryption", "AWS::EC2::EBSEncryptionByDefault", {"enabled": None},
     "not_assessed"),
    ("rds_storage_encrypted", "AWS::RDS::DBInstance", {"storage_encrypted": True}, "ok"),
    ("rds_storage_encrypted", "AWS::RDS::DBInstance", {"storage_encrypted": False}, "alarm"),
    ("rds_storage_encrypted", "AWS::RDS::DBInstance", {"storage_encrypted": None}, "not_assessed"),
    ("rds_auto_minor_version_upgrade", "AWS::RDS::DBInstance",
     {"auto_minor_version_upgrade": True}, "ok"),
    ("rds_auto_minor_version_upgrade", "AWS::RDS::DBInstance",
     {"auto_minor_version_upgrade": False, "engine": "postgres"}, "alarm"),
    ("rds_auto_minor_version_upgrade", "AWS::RDS::DBInstance", {"engine": "postgres"},
     "not_assessed"),
    ("rds_instance_not_public", "AWS::RDS::DBInstance", {"publicly_accessible": False}, "ok"),
    ("rds_instance_not_public", "AWS::RDS::DBInstance", {"publicly_accessible": True}, "alarm"),
    ("rds_instance_not_public", "AWS::RDS::DBInstance", {"publicly_accessible": None},
     "not_assessed"),
    ("efs_encrypted", "AWS::EFS::FileSystem", {"encrypted": True}, "ok"),
    ("efs_encrypted", "AWS::EFS::FileSystem", {"encrypted": False}, "alarm"),
    ("efs_encrypted", "AWS::EFS::FileSystem", {"encrypted": None}, "not_assessed"),
    ("cloudtrail_kms_encrypted", TRAIL, {"kms_key_id": "arn:aws:kms:eu-west-1:1:key/k"}, "ok"),
    ("cloudtrail_kms_encrypted", TRAIL, {"kms_key_id": None}, "alarm"),
    ("cloudtrail_kms_encrypted", TRAIL, {"is_logging": True}, "not_assessed"),
    ("securityhub_enabled", "AWS::SecurityHub::Hub", {"enabled": True}, "ok"),
    ("securityhub_enabled", "AWS::SecurityHub::Hub", {"enabled": False}, "alarm"),
    ("securityhub_enabled", "AWS::SecurityHub::Hub", {"subscribed_at": None}, "not_assessed"),
    ("ec2_imdsv2_required", "AWS::EC2::Instance",
     {"state": "running", "metadata_http_tokens": "required"}, "ok"),
    ("ec2_imdsv2_required", "AWS::EC2::Instance",
     {"state": "running", "metadata_http_tokens": "optional",
      "metadata_http_endpoint": "disabled"}, "ok"),
    ("ec2_imdsv2_required", "AWS::EC2::Instance",
     {"state": "running", "metadata_http_tokens": "optional"}, "alarm"),
    ("ec2_imdsv2_required", "AWS::EC2::Instance",
     {"state": "terminated", "metadata_http_tokens": "optional"}, "skip"),
    ("ec2_imdsv2_required", "AWS::EC2::Instance", {"state": "running"}, "not_assessed"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "type_", "attrs", "expected"), SINGLE)
def test_single_resource_verdicts(
    store: Store, rule: str, type_: str, attrs: dict[str, Any], expected: str
) -> None:
    """Each per-resource rule judges one resource from the facts the collector records, and
    says it could not when they are missing."""
    r = res(type_, "thing", attrs)
    got = by_resource(scan(store, [r], rules=[rule]), rule)
    assert got[r.key].status == expected, got[r.key].reason
    assert got[r.key].reason


# --- IAM users and policies --------------------------------------------------------------


def user(name: str, **attrs: Any) -> Resource:
    base: dict[str, Any] = {"console_access": False, "password_enabled": False,
                            "access_keys": [], "attached_policies": [], "inline_policies": []}  # fmt: skip
    return res(USER, name, {**base, **attrs}, key=f"arn:aws:iam::{ACCOUNT}:user/{name}")


def key(last_used: str | None, created: str = "2025-01-01T00:00:00+00:00", status: str = "Active",
        kid: str = "AKIA1") -> dict[str, Any]:  # fmt: skip
    return {"access_key_id": kid, "status": status, "create_date": created,
            "last_used_date": last_used}  # fmt: skip


def test_unused_credentials(store: Store) -> None:
    """A password or active key idle 45 days (counted from last use, or from creation when never
    used) alarms; recently used ones pass; no credentials skip; an unread report is not assessed."""
    recent = "2026-02-20T08:00:00+00:00"
    users = [
        user("fresh", console_access=True, password_enabled=True, password_last_used=recent,
             access_keys=[key("2026-02-28T08:00:00+00:00")]),
        user("idle-password", console_access=True, password_enabled=True,
             password_last_used="2025-12-01T08:00:00+00:00"),
        user("never-logged-in", console_access=True, password_enabled=True,
             password_last_changed="2025-11-01T08:00:00+00:00"),
        user("new-password", console_access=True, password_enabled=True,
             password_last_changed="2026-02-27T08:00:00+00:00"),
        user("idle-key", access_keys=[key(None), key(recent, kid="AKIA2")]),
        user("inactive-old-key", access_keys=[key(None, status="Inactive")]),
        user("no-report", console_access=True, password_enabled=None),
        user("no-report-stale-key", console_access=True, password_enabled=None,
             access_keys=[key("2025-10-01T00:00:00+00:00")]),
    ]  # fmt: skip
    result = scan(store, users, rules=["iam_unused_credentials"])
    got = {
        k.rsplit("/", 1)[-1]: f for k, f in by_resource(result, "iam_unused_credentials").items()
    }
    assert {n: f.status for n, f in got.items()} == {
        "fresh": "ok", "idle-password": "alarm", "never-logged-in": "alarm",
        "new-password": "ok", "idle-key": "alarm", "inactive-old-key": "skip",
        "no-report": "not_assessed", "no-report-stale-key": "alarm",
    }  # fmt: skip
    assert got["idle-key"].reason == "AKIA1 never used in 424 days"
    assert "not used for 90 days" in got["idle-password"].reason


def policy(name: str, statement: Any, attachments: int | None = 1) -> Resource:
    doc = None if statement is None else {"Version": "2012-10-17", "Statement": statement}
    return res("AWS::IAM::ManagedPolicy", name, {"document": doc, "attachment_count": attachments},
               key=f"arn:aws:iam::{ACCOUNT}:policy/{name}")  # fmt: skip


def test_full_admin_policies(store: Store) -> None:
    """An attached Allow of * on * (string, list or single statement) alarms; scoped, denying
    or unattached ones pass; a policy without its document is not assessed."""
    star = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    policies = [
        policy("admin", [star]),
        policy("admin-lists", [{"Effect": "Allow", "Action": ["s3:Get*", "*"], "Resource": ["*"]}]),
        policy("admin-single", star),
        policy("admin-unused", [star], attachments=0),
        policy("s3-all", [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]),
        policy("deny-all", [{"Effect": "Deny", "Action": "*", "Resource": "*"}]),
        policy("star-on-one-bucket", [{"Effect": "Allow", "Action": "*",
                                       "Resource": "arn:aws:s3:::b"}]),
        policy("unread", None),
    ]  # fmt: skip
    got = statuses(
        scan(store, policies, rules=["iam_no_full_admin_policy"]), "iam_no_full_admin_policy"
    )
    assert {k.rsplit("/", 1)[-1]: v for k, v in got.items()} == {
        "admin": "alarm", "admin-lists": "alarm", "admin-single": "alarm", "admin-unused": "ok",
        "s3-all": "ok", "deny-all": "ok", "star-on-one-bucket": "ok", "unread": "not_assessed",
    }  # fmt: skip


def role(name: str, arns: list[str] | None, account: str = ACCOUNT) -> Resource:
    return res("AWS::IAM::Role", name, {"attached_policy_arns": arns}, account=account,
               region="global", key=f"arn:aws:iam::{account}:role/{name}")  # fmt: skip


def test_support_role_per_account(store: Store) -> None:
    """An account with a role holding AWSSupportAccess passes, one without alarms, and one whose
    IAM slice failed, or whose roles' policies are unknown, is not assessed."""
    support = "arn:aws:iam::aws:policy/AWSSupportAccess"
    third, fourth = "777788889999", "123123123123"
    roles = [role("support", [support]), role("app", []), role("app", [], account=OTHER),
             role("mystery", None, account=fourth)]  # fmt: skip
    slices = [ok_slice("iam", ["AWS::IAM::Role"], account=a) for a in (ACCOUNT, OTHER, fourth)]
    slices.append(ok_slice("iam", ["AWS::IAM::Role"], account=third, status="failed"))
    result = scan(store, roles, slices, rules=["iam_support_role_exists"])
    assert statuses(result, "iam_support_role_exists") == {
        f"{SRC}/{ACCOUNT}": "ok", f"{SRC}/{OTHER}": "alarm",
        f"{SRC}/{third}": "not_assessed", f"{SRC}/{fourth}": "not_assessed",
    }  # fmt: skip
    assert by_resource(result, "iam_support_role_exists")[f"{SRC}/{ACCOUNT}"].reason == (
        "AWSSupportAccess is attached to support"
    )


# --- S3 buckets ----------------------------------------------------------------------------

ALL_ON = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
          "RestrictPublicBuckets": True}  # fmt: skip


def bucket(name: str, pab: Any, account: str = ACCOUNT, **attrs: Any) -> Resource:
    return res("AWS::S3::Bucket", name, {"public_access_block": pab, **attrs}, account=account,
               key=f"arn:aws:s3:::{name}")  # fmt: skip


def account_block(account: str, all_blocked: bool) -> Resource:
    return res("AWS::S3::AccountPublicAccessBlock", "public-access-block",
               {"configured": True, "all_blocked": all_blocked}, account=account, region="global",
               key=f"arn:aws:s3control::{account}:public-access-block")  # fmt: skip


def test_bucket_public_access_block(store: Store) -> None:
    """All four bucket settings, or an account that blocks everything, pass; a gap alarms naming
    the settings; a gap with the account's block unknown is not assessed."""
    third = "777788889999"
    resources = [
        bucket("locked", ALL_ON),
        bucket("gap", {**ALL_ON, "RestrictPublicBuckets": False}),
        bucket("none", None),
        bucket("covered", None, account=OTHER),
        bucket("unknown-account", None, account=third),
        res("AWS::S3::Bucket", "unread", {"versioning": "Enabled"}, key="arn:aws:s3:::unread"),
        account_block(ACCOUNT, False),
        account_block(OTHER, True),
    ]
    result = scan(store, resources, rules=["s3_bucket_public_access_block"])
    got = by_resource(result, "s3_bucket_public_access_block")
    assert {k.removeprefix("arn:aws:s3:::"): f.status for k, f in got.items()} == {
        "locked": "ok", "gap": "alarm", "none": "alarm", "covered": "ok",
        "unknown-account": "not_assessed", "unread": "not_assessed",
    }  # fmt: skip
    assert got["arn:aws:s3:::gap"].reason == "not blocked: RestrictPublicBuckets"
    assert got["arn:aws:s3:::none"].reason == "no public access block on the bucket or its account"


# --- security groups -----------------------------------------------------------------------


def rule_(protocol: str, ports: tuple[int | None, int | None], cidrs: list[str] = (),  # type: ignore[assignment]
          v6: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]  # fmt: skip
    return {"protocol": protocol, "from_port": ports[0], "to_port": ports[1],
            "cidrs": list(cidrs), "ipv6_cidrs": list(v6), "groups": [], "prefix_lists": []}  # fmt: skip


def sg(name: str, ingress: list[dict[str, Any]] | None, egress: list[dict[str, Any]] = ()) -> Resource:  # type: ignore[assignment]  # fmt: skip
    attrs = {} if ingress is None else {"ingress": ingress, "egress": list(egress),
                                         "group_id": f"sg-{name}", "vpc_id": "vpc-1"}  # fmt: skip
    r = res(
        "AWS::EC2::SecurityGroup",
        name,
        attrs,
        key=f"arn:aws:ec2:eu-west-1:{ACCOUNT}:security-group/sg-{name}",
    )
    return r


def test_admin_ports_by_address_family(store: Store) -> None:
    """SSH or RDP reachable from 0.0.0.0/0 (TCP range or all protocols) alarms the IPv4 rule, from
    ::/0 the IPv6 one; other ports and private sources pass; unreported rules are not assessed."""
    groups = [
        sg("ssh-world", [rule_("tcp", (22, 22), ["0.0.0.0/0"])]),
        sg("all-tcp", [rule_("6", (0, 65535), ["0.0.0.0/0"])]),
        sg("everything", [rule_("-1", (None, None), ["0.0.0.0/0"])]),
        sg("rdp-v6", [rule_("tcp", (3389, 3389), v6=["::/0"])]),
        sg("https", [rule_("tcp", (443, 443), ["0.0.0.0/0"], ["::/0"])]),
        sg("ssh-private", [rule_("tcp", (22, 22), ["10.0.0.0/8"])]),
        sg("udp-rdp", [rule_("udp", (3389, 3389), ["0.0.0.0/0"])]),
        sg("unread", None),
    ]
    result = scan(store, groups, rules=["ec2_sg_admin_ports_ipv4", "ec2_sg_admin_ports_ipv6"])
    short = lambda rule: {k.rsplit("sg-", 1)[-1]: v for k, v in statuses(result, rule).items()}  # noqa: E731
    assert short("ec2_sg_admin_ports_ipv4") == {
        "ssh-world": "alarm", "all-tcp": "alarm", "everything": "alarm", "rdp-v6": "ok",
        "https": "ok", "ssh-private": "ok", "udp-rdp": "ok", "unread": "not_assessed",
    }  # fmt: skip
    assert short("ec2_sg_admin_ports_ipv6") == {
        "ssh-world": "ok", "all-tcp": "ok", "everything": "ok", "rdp-v6": "alarm",
        "https": "ok", "ssh-private": "ok", "udp-rdp": "ok", "unread": "not_assessed",
    }  # fmt: skip
    assert by_resource(result, "ec2_sg_admin_ports_ipv4")[groups[1].key].reason == (
        "port(s) 22, 3389 open to 0.0.0.0/0"
    )


def test_default_security_group(store: Store) -> None:
    """Only groups named default are judged: no rules pass, any rule alarms."""
    egress = [rule_("-1", (None, None), ["0.0.0.0/0"])]
    closed, open_, other = sg("default", [], []), sg("default", [], egress), sg("web", [], egress)
    open_.key += "-2"
    got = statuses(
        scan(store, [closed, open_, other], rules=["ec2_default_sg_restricts_all"]),
        "ec2_default_sg_restricts_all",
    )
    assert got == {closed.key: "ok", open_.key: "alarm"}


# --- trails, account by account ------------------------------------------------------------


def trail(name: str, *, account: str = ACCOUNT, region: str = "eu-west-1", multi: bool = True,
          logging: bool | None = True, mgmt: bool | None = None, rw: str | None = None,
          org: bool = False, reads: bool | None = False, writes: bool | None = False,
          group: str | None = None, bucket: str = "trail-bucket") -> Resource:  # fmt: skip
    """A trail as the collector stores it, in its home region under its owner."""
    arn = None if group is None else f"arn:aws:logs:{region}:{account}:log-group:{group}:*"
    attrs = {"multi_region": multi, "is_logging": logging, "management_events": mgmt,
             "management_events_read_write": rw, "organization_trail": org,
             "s3_object_reads_logged": reads, "s3_object_writes_logged": writes,
             "cloudwatch_logs_log_group_arn": arn, "s3_bucket": bucket, "kms_key_id": None}  # fmt: skip
    return res(TRAIL, name, attrs, account=account, region=region,
               key=f"arn:aws:cloudtrail:{region}:{account}:trail/{name}")  # fmt: skip


def trail_slices(*accounts: str, failed: tuple[str, ...] = (), region: str = "eu-west-1",
                 types: tuple[str, ...] = (TRAIL,)) -> list[Slice]:  # fmt: skip
    return [ok_slice("cloudtrail", list(types), account=a, region=region,
                     status="failed" if a in failed else "ok") for a in accounts]  # fmt: skip


def test_multi_region_trail_per_account(store: Store) -> None:
    """A logging multi-region trail with every management event passes its account (an
    organisation trail every account of the source); read-only, single-region or stopped ones
    alarm; a failed CloudTrail slice or a trail of unknown status makes it not assessed."""
    a, b, c, d, e = ACCOUNT, OTHER, "777788889999", "123123123123", "999900001111"
    trails = [
        trail("main", account=a, mgmt=True, rw="All"),
        trail("reads-only", account=b, mgmt=True, rw="ReadOnly"),
        trail("regional", account=b, multi=False),
        trail("stopped", account=b, logging=False),
        trail("unknown", account=d, logging=None),
    ]
    result = scan(
        store, trails, trail_slices(a, b, c, d, e, failed=(c,)), rules=["cloudtrail_multi_region"]
    )
    got = statuses(result, "cloudtrail_multi_region")
    assert got == {f"{SRC}/{a}": "ok", f"{SRC}/{b}": "alarm", f"{SRC}/{c}": "not_assessed",
                   f"{SRC}/{d}": "not_assessed", f"{SRC}/{e}": "alarm"}  # fmt: skip
    reason = by_resource(result, "cloudtrail_multi_region")[f"{SRC}/{b}"].reason
    assert "reads-only: not all management events" in reason and "regional: single-region" in reason


def test_organisation_trail_covers_members(store: Store) -> None:
    """The management account's organisation trail logs for every member of the same source."""
    trails = [trail("org", account=ACCOUNT, org=True, writes=True)]
    result = scan(
        store,
        trails,
        trail_slices(ACCOUNT, OTHER),
        rules=["cloudtrail_multi_region", "cloudtrail_s3_write_data_events"],
    )
    assert set(statuses(result, "cloudtrail_multi_region").values()) == {"ok"}
    assert statuses(result, "cloudtrail_s3_write_data_events") == {
        f"{SRC}/{ACCOUNT}": "ok", f"{SRC}/{OTHER}": "ok"}  # fmt: skip


def test_s3_data_events_per_account(store: Store) -> None:
    """Object writes and reads are judged apart; a single-region trail does not count; unknown
    selectors on a multi-region trail make the account not assessed."""
    a, b, c = ACCOUNT, OTHER, "777788889999"
    trails = [
        trail("writes", account=a, writes=True, reads=False),
        trail("regional", account=b, multi=False, writes=True, reads=True),
        trail("unknown", account=c, writes=None, reads=None),
    ]
    result = scan(
        store,
        trails,
        trail_slices(a, b, c),
        rules=["cloudtrail_s3_write_data_events", "cloudtrail_s3_read_data_events"],
    )
    assert statuses(result, "cloudtrail_s3_write_data_events") == {
        f"{SRC}/{a}": "ok", f"{SRC}/{b}": "alarm", f"{SRC}/{c}": "not_assessed"}  # fmt: skip
    assert statuses(result, "cloudtrail_s3_read_data_events") == {
        f"{SRC}/{a}": "alarm", f"{SRC}/{b}": "alarm", f"{SRC}/{c}": "not_assessed"}  # fmt: skip


def test_trail_bucket_access_logging(store: Store) -> None:
    """The trail's bucket logging access passes, without logging alarms, and a bucket that is
    not in the scan (another account's) is not assessed."""
    logged = bucket("logged", ALL_ON, logging={"target_bucket": "access", "target_prefix": "t/"})
    silent = bucket("silent", ALL_ON, logging=None)
    trails = [
        trail("a", bucket="logged"),
        trail("b", bucket="silent"),
        trail("c", bucket="elsewhere"),
    ]
    got = statuses(
        scan(store, [logged, silent, *trails], rules=["cloudtrail_bucket_access_logging"]),
        "cloudtrail_bucket_access_logging",
    )
    assert {k.rsplit("/", 1)[-1]: v for k, v in got.items()} == {
        "a": "ok", "b": "alarm", "c": "not_assessed"}  # fmt: skip


# --- per region: Config and GuardDuty ------------------------------------------------------

RECORDER = "AWS::Config::ConfigurationRecorder"
DETECTOR = "AWS::GuardDuty::Detector"


def test_config_recorder_per_region(store: Store) -> None:
    """Per region read: a recorder recording every type passes; stopped, partial or missing
    alarms; a failed slice or a recorder of unknown status is not assessed; an account not read
    at all is one not-assessed finding."""
    regions = {"eu-west-1": "ok", "eu-central-1": "ok", "us-east-1": "ok", "us-west-2": "ok",
               "ap-south-1": "failed", "sa-east-1": "ok"}  # fmt: skip
    rec = lambda region, **a: res(RECORDER, "default", {"excluded_resource_types": [], **a},  # noqa: E731
                                  region=region, key=f"arn:aws:config:{region}:{ACCOUNT}:configuration-recorder/default")  # fmt: skip
    recorders = [
        rec("eu-west-1", recording=True, all_supported=True),
        rec("eu-central-1", recording=False, all_supported=True),
        rec(
            "us-east-1", recording=True, all_supported=False, resource_types=["AWS::EC2::Instance"]
        ),
        rec("sa-east-1", recording=None, all_supported=True),
    ]
    slices = [ok_slice("config", [RECORDER], region=r, status=s) for r, s in regions.items()]
    slices.append(Slice(SRC, "aws", f"{OTHER}/*", "failed", reason="denied", account=OTHER))
    result = scan(store, recorders, slices, rules=["config_recorder_all_regions"])
    got = by_resource(result, "config_recorder_all_regions")
    assert {k: f.status for k, f in got.items()} == {
        f"{SRC}/{ACCOUNT}/eu-west-1": "ok", f"{SRC}/{ACCOUNT}/eu-central-1": "alarm",
        f"{SRC}/{ACCOUNT}/us-east-1": "alarm", f"{SRC}/{ACCOUNT}/us-west-2": "alarm",
        f"{SRC}/{ACCOUNT}/ap-south-1": "not_assessed", f"{SRC}/{ACCOUNT}/sa-east-1": "not_assessed",
        f"{SRC}/{OTHER}": "not_assessed",
    }  # fmt: skip
    assert got[f"{SRC}/{ACCOUNT}/us-east-1"].reason == "default: records only 1 type(s)"
    assert got[f"{SRC}/{ACCOUNT}/us-west-2"].reason == "no configuration recorder in this region"


def test_guardduty_per_region(store: Store) -> None:
    """Per region read: an enabled detector passes, a disabled or missing one alarms, a failed
    slice is not assessed."""
    det = lambda region, enabled: res(DETECTOR, f"d-{region}", {"enabled": enabled}, region=region)  # noqa: E731
    slices = [ok_slice("guardduty", [DETECTOR], region=r, status=s) for r, s in
              {"eu-west-1": "ok", "us-east-1": "ok", "us-west-2": "ok", "ap-south-1": "failed"}.items()]  # fmt: skip
    result = scan(
        store,
        [det("eu-west-1", True), det("us-east-1", False)],
        slices,
        rules=["guardduty_enabled"],
    )
    assert statuses(result, "guardduty_enabled") == {
        f"{SRC}/{ACCOUNT}/eu-west-1": "ok", f"{SRC}/{ACCOUNT}/us-east-1": "alarm",
        f"{SRC}/{ACCOUNT}/us-west-2": "alarm", f"{SRC}/{ACCOUNT}/ap-south-1": "not_assessed",
    }  # fmt: skip


# --- CloudWatch metric filters (CIS section 4) ---------------------------------------------

FILTER_RULES = sorted(PATTERNS)
GROUP = "/aws/cloudtrail/main"
TOPIC = f"arn:aws:sns:eu-west-1:{ACCOUNT}:security"


def metric_filter(
    name: str, pattern: str, *, account: str = ACCOUNT, group: str = GROUP
) -> Resource:
    return res("AWS::Logs::MetricFilter", name,
               {"log_group_name": group, "filter_pattern": pattern,
                "metrics": [{"name": name, "namespace": "CIS", "value": "1"}]},
               account=account, key=f"arn:aws:logs:eu-west-1:{account}:metric-filter:{group}:{name}")  # fmt: skip


def alarm(
    metric: str, actions: list[str], *, account: str = ACCOUNT, enabled: bool = True
) -> Resource:
    return res("AWS::CloudWatch::Alarm", f"alarm-{metric}",
               {"metric_name": metric, "namespace": "CIS", "alarm_actions": actions,
                "actions_enabled": enabled}, account=account,
               key=f"arn:aws:cloudwatch:eu-west-1:{account}:alarm:alarm-{metric}")  # fmt: skip


def pattern_of(rule: str) -> str:
    return str(builtin_pack().rules[rule].spec.params[f"{rule}_pattern"])


def test_sandbox_patterns_are_the_rules_own() -> None:
    """The sandbox seeds exactly the pattern each rule carries as its parameter."""
    assert {r: pattern_of(r) for r in FILTER_RULES} == PATTERNS
    assert len(FILTER_RULES) == 15


def restyle(pattern: str) -> str:
    """The same pattern written another way: no spaces, no quotes, one extra term at the end."""
    out = pattern.replace(" ", "").replace('"', "")
    return out.removesuffix("}") + '&&($.awsRegion="eu-west-1")}'


@pytest.mark.parametrize("rule", FILTER_RULES)
def test_metric_filter_chain(store: Store, rule: str) -> None:
    """Per account: a filter holding every term of the pattern on a multi-region logging trail's
    group, with an alarm that notifies SNS, passes (whatever the spacing, quoting or extra terms);
    a filter missing a term, an alarm without SNS, or no alarm fails; a failed Logs slice makes
    the account not assessed."""
    pattern = pattern_of(rule)
    first_term = pattern.split("||")[0].split("&&")[0] + "}"
    a, b, c, d, e = ACCOUNT, OTHER, "777788889999", "123123123123", "999900001111"
    resources: list[Resource] = []
    for acct in (a, b, c, d, e):
        resources.append(trail("main", account=acct, group=GROUP))
    resources += [
        metric_filter("cis", restyle(pattern)), alarm("cis", [TOPIC]),
        metric_filter("partial", first_term, account=b), alarm("partial", [TOPIC], account=b),
        metric_filter("cis", pattern, account=c), alarm("cis", [], account=c),
        metric_filter("cis", pattern, account=d),
    ]  # fmt: skip
    failed_logs = ok_slice("logs", ["AWS::Logs::MetricFilter"], account=e, region="eu-west-1",
                           status="failed")  # fmt: skip
    slices = [*trail_slices(a, b, c, d, e), failed_logs]
    result = scan(store, resources, slices, rules=[rule])
    got = by_resource(result, rule)
    assert {k: f.status for k, f in got.items()} == {
        f"{SRC}/{a}": "ok", f"{SRC}/{b}": "alarm", f"{SRC}/{c}": "alarm", f"{SRC}/{d}": "alarm",
        f"{SRC}/{e}": "not_assessed",
    }, {k: f.reason for k, f in got.items()}  # fmt: skip
    assert got[f"{SRC}/{a}"].reason == "alarmed through main -> cis -> alarm-cis"
    assert got[f"{SRC}/{b}"].reason == f"no metric filter with the pattern on {GROUP}"
    assert got[f"{SRC}/{c}"].reason == "alarm(s) alarm-cis notify no SNS topic"
    assert got[f"{SRC}/{d}"].reason == "no alarm on filter(s) cis (metric cis)"


def test_metric_filter_needs_a_multi_region_logging_trail(store: Store) -> None:
    """The same filter and alarm on a single-region or stopped trail's group do not count."""
    rule = "cloudwatch_filter_root_usage"
    resources = [
        trail("regional", multi=False, group=GROUP),
        trail("stopped", account=OTHER, logging=False, group=GROUP),
        metric_filter("cis", pattern_of(rule)), alarm("cis", [TOPIC]),
        metric_filter("cis", pattern_of(rule), account=OTHER), alarm("cis", [TOPIC], account=OTHER),
    ]  # fmt: skip
    result = scan(store, resources, trail_slices(ACCOUNT, OTHER), rules=[rule])
    got = by_resource(result, rule)
    assert {f.status for f in got.values()} == {"alarm"}
    assert got[f"{SRC}/{ACCOUNT}"].reason == (
        "no logging multi-region trail delivers to CloudWatch Logs"
    )


def test_metric_filter_terms_match_whole_names(store: Store) -> None:
    """CreateNetworkAclEntry does not stand in for CreateNetworkAcl: terms match whole."""
    rule = "cloudwatch_filter_nacl_changes"
    pattern = pattern_of(rule).replace("($.eventName = CreateNetworkAcl) ||", "")
    resources = [trail("main", group=GROUP), metric_filter("cis", pattern), alarm("cis", [TOPIC])]
    got = statuses(scan(store, resources, trail_slices(ACCOUNT), rules=[rule]), rule)
    assert got == {f"{SRC}/{ACCOUNT}": "alarm"}
