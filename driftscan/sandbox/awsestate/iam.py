"""The seeded estate's iam types (see driftscan/providers/aws/collect/services/iam.py)."""

from __future__ import annotations

import json

from driftscan.sandbox.awsestate.base import Estate, client

READ_DATA = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
}
# The policy's second version, made the default: the collector must report this one.
READ_AND_LIST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}
    ],
}


def seed(endpoint_url: str, est: Estate) -> None:
    """Users (one console user without MFA and with an access key, one with MFA), a group, a
    customer-managed policy with two versions, and the account's password policy.

    IAM is global and moto has one account, so there is no per-region drift here: the failing
    cases are the users themselves. moto stamps access keys with the current time, so the key
    is new (the age rules' failing cases are tested on synthetic scans)."""
    iam = client("iam", endpoint_url, est.regions[0])
    arn = f"arn:aws:iam::{est.account}:{{}}"

    policy = iam.create_policy(
        PolicyName="payments-read",
        Description="read the payments data",
        PolicyDocument=json.dumps(READ_DATA),
        Tags=[{"Key": "owner", "Value": "payments"}],
    )["Policy"]
    iam.create_policy_version(
        PolicyArn=policy["Arn"], PolicyDocument=json.dumps(READ_AND_LIST), SetAsDefault=True
    )
    est.add("AWS::IAM::ManagedPolicy", policy["Arn"])

    # ops-alice: console access (her password is the canary: IAM never returns it), no MFA,
    # one active access key, an inline and an attached policy, member of the ops group.
    iam.create_user(UserName="ops-alice", Tags=[{"Key": "team", "Value": "ops"}])
    iam.create_login_profile(UserName="ops-alice", Password=est.canary)
    iam.create_access_key(UserName="ops-alice")
    iam.attach_user_policy(UserName="ops-alice", PolicyArn=policy["Arn"])
    iam.put_user_policy(
        UserName="ops-alice", PolicyName="debug-logs", PolicyDocument=json.dumps(READ_DATA)
    )
    est.add("AWS::IAM::User", arn.format("user/ops-alice"))

    # ops-bob: console access with a virtual MFA device, no access keys.
    iam.create_user(UserName="ops-bob")
    iam.create_login_profile(UserName="ops-bob", Password=est.canary)
    mfa = iam.create_virtual_mfa_device(VirtualMFADeviceName="ops-bob")["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName="ops-bob",
        SerialNumber=mfa["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    est.add("AWS::IAM::User", arn.format("user/ops-bob"))

    iam.create_group(GroupName="ops")
    iam.add_user_to_group(GroupName="ops", UserName="ops-alice")
    iam.attach_group_policy(GroupName="ops", PolicyArn=policy["Arn"])
    iam.put_group_policy(
        GroupName="ops", PolicyName="ops-extra", PolicyDocument=json.dumps(READ_DATA)
    )
    est.add("AWS::IAM::Group", arn.format("group/ops"))

    iam.update_account_password_policy(
        MinimumPasswordLength=14,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=24,
    )
    est.add("AWS::IAM::AccountPasswordPolicy", arn.format("account-password-policy"))
    est.add("AWS::IAM::AccountSummary", arn.format("account-summary"))
