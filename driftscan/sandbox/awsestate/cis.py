"""Two organisation member accounts for the CIS AWS Foundations account-level rules: one passes, one fails.

The management account's estate (the other modules) keeps its single-region audit trail, so
that `cloudtrail_region_logging` fails there; these members carry what an account-level control
needs to pass (a multi-region trail into CloudWatch Logs with the CIS metric filters and their
alarms, a password policy, the account's public access block, IMDSv2, a closed
default security group) or fail (an IAM user with two keys and an admin policy attached
directly, administration ports open to the Internet, an RDS instance without minor upgrades).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from driftscan.providers.aws.collect.services.storage import drop_account_prefix_on_ip

ClientFor = Callable[[str, str], Any]  # (service, region) → a boto3 client acting in the member
Keys = dict[str, set[str]]

# The CIS AWS Foundations 3.0 section 4 filter patterns, by rule id (the rules carry the same
# text as their parameter; a filter passes when it holds every term of it).
PATTERNS: dict[str, str] = {
    "cloudwatch_filter_unauthorized_api": (
        '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
    ),
    "cloudwatch_filter_console_no_mfa": (
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }'
    ),
    "cloudwatch_filter_root_usage": (
        '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS'
        ' && $.eventType != "AwsServiceEvent" }'
    ),
    "cloudwatch_filter_iam_policy_changes": (
        "{ ($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) ||"
        " ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) ||"
        " ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) ||"
        " ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) ||"
        " ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) ||"
        " ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) ||"
        " ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) ||"
        " ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy) }"
    ),
    "cloudwatch_filter_cloudtrail_changes": (
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) ||"
        " ($.eventName = DeleteTrail) || ($.eventName = StartLogging) ||"
        " ($.eventName = StopLogging) }"
    ),
    "cloudwatch_filter_console_auth_failures": (
        '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'
    ),
    "cloudwatch_filter_cmk_disable": (
        "{ ($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey) ||"
        " ($.eventName=ScheduleKeyDeletion)) }"
    ),
    "cloudwatch_filter_s3_policy_changes": (
        "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) ||"
        " ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) ||"
        " ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) ||"
        " ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) ||"
        " ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }"
    ),
    "cloudwatch_filter_config_changes": (
        "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) ||"
        " ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) ||"
        " ($.eventName=PutConfigurationRecorder)) }"
    ),
    "cloudwatch_filter_sg_changes": (
        "{ ($.eventName = AuthorizeSecurityGroupIngress) ||"
        " ($.eventName = AuthorizeSecurityGroupEgress) ||"
        " ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) ||"
        " ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }"
    ),
    "cloudwatch_filter_nacl_changes": (
        "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) ||"
        " ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) ||"
        " ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }"
    ),
    "cloudwatch_filter_gateway_changes": (
        "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) ||"
        " ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) ||"
        " ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }"
    ),
    "cloudwatch_filter_route_table_changes": (
        "{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) ||"
        " ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) ||"
        " ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) ||"
        " ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }"
    ),
    "cloudwatch_filter_vpc_changes": (
        "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) ||"
        " ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) ||"
        " ($.eventName = CreateVpcPeeringConnection) ||"
        " ($.eventName = DeleteVpcPeeringConnection) ||"
        " ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) ||"
        " ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) ||"
        " ($.eventName = EnableVpcClassicLink) }"
    ),
    "cloudwatch_filter_organizations_changes": (
        "{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = AcceptHandshake) ||"
        ' ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") ||'
        ' ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") ||'
        ' ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") ||'
        ' ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") ||'
        ' ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") ||'
        ' ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") ||'
        ' ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") ||'
        ' ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") ||'
        ' ($.eventName = "UpdateOrganizationalUnit")) }'
    ),
}

LOG_GROUP = "/aws/cloudtrail/cis"
ADMIN_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _add(keys: Keys, type_: str, key: str) -> None:
    keys.setdefault(type_, set()).add(key)


def _bucket(s3: Any, name: str, region: str) -> None:
    where = {} if region == "us-east-1" else {"LocationConstraint": region}
    s3.create_bucket(Bucket=name, **({"CreateBucketConfiguration": where} if where else {}))


def _image(ec2: Any) -> str:
    amzn2 = [{"Name": "name", "Values": ["amzn2-ami-hvm-*"]}]
    images = ec2.describe_images(Owners=["amazon"], Filters=amzn2)["Images"]
    return str((images or ec2.describe_images(Owners=["amazon"])["Images"])[0]["ImageId"])


def _default_vpc(ec2: Any) -> str:
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    return str(vpcs[0]["VpcId"])


def seed_compliant(
    client_for: ClientFor, account: str, regions: tuple[str, ...], keys: Keys
) -> None:
    """The passing member: every account-level control of the CIS rules holds in regions[0]."""
    home = regions[0]
    arn = f"arn:aws:{{}}:{home}:{account}:{{}}"
    iam = client_for("iam", home)
    iam.update_account_password_policy(
        MinimumPasswordLength=16, PasswordReusePrevention=24, RequireSymbols=True
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    # No AWSSupportAccess role: moto creates no AWS-managed policies unless its server starts
    # with MOTO_IAM_LOAD_MANAGED_POLICIES, which would change every account of the sandbox.
    support = iam.create_role(
        RoleName="cloudtrail-logs", AssumeRolePolicyDocument=json.dumps(trust)
    )
    to_logs = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:{home}:{account}:log-group:{LOG_GROUP}:*",
            }
        ],
    }
    policy = iam.create_policy(PolicyName="cloudtrail-to-logs", PolicyDocument=json.dumps(to_logs))
    iam.attach_role_policy(RoleName="cloudtrail-logs", PolicyArn=policy["Policy"]["Arn"])
    _add(keys, "AWS::IAM::Role", support["Role"]["Arn"])
    _add(keys, "AWS::IAM::ManagedPolicy", policy["Policy"]["Arn"])

    s3control = client_for("s3control", home)
    s3control.meta.events.register("before-sign.s3-control", drop_account_prefix_on_ip)
    s3control.put_public_access_block(
        AccountId=account,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )

    # The trail's bucket, with access logging into a bucket of its own.
    s3 = client_for("s3", home)
    trail_bucket, access_bucket = f"cis-trail-{account}", f"cis-access-{account}"
    for b in (trail_bucket, access_bucket):
        _bucket(s3, b, home)
        _add(keys, "AWS::S3::Bucket", f"arn:aws:s3:::{b}")
    s3.put_bucket_acl(
        Bucket=access_bucket,
        GrantWrite='uri="http://acs.amazonaws.com/groups/s3/LogDelivery"',
        GrantReadACP='uri="http://acs.amazonaws.com/groups/s3/LogDelivery"',
    )
    s3.put_bucket_logging(
        Bucket=trail_bucket,
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": access_bucket, "TargetPrefix": "trail/"}
        },
    )

    kms = client_for("kms", home).create_key(Description="cis trail")["KeyMetadata"]["Arn"]
    client_for("logs", home).create_log_group(logGroupName=LOG_GROUP)
    topic = client_for("sns", home).create_topic(Name="cis-alarms")["TopicArn"]
    ct = client_for("cloudtrail", home)
    trail = ct.create_trail(
        Name="cis-trail",
        S3BucketName=trail_bucket,
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        KmsKeyId=kms,
        CloudWatchLogsLogGroupArn=arn.format("logs", f"log-group:{LOG_GROUP}:*"),
        CloudWatchLogsRoleArn=support["Role"]["Arn"],
    )
    ct.put_event_selectors(
        TrailName="cis-trail",
        EventSelectors=[
            {
                "ReadWriteType": "All",
                "IncludeManagementEvents": True,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
            }
        ],
    )
    ct.start_logging(Name="cis-trail")
    _add(keys, "AWS::CloudTrail::Trail", trail["TrailARN"])

    # Each CIS section 4 pattern as a metric filter on the trail's log group, its metric
    # alarmed, the alarm notifying the SNS topic.
    logs, cw = client_for("logs", home), client_for("cloudwatch", home)
    for rule, pattern in PATTERNS.items():
        metric = rule.removeprefix("cloudwatch_filter_")
        logs.put_metric_filter(
            logGroupName=LOG_GROUP,
            filterName=metric,
            filterPattern=pattern,
            metricTransformations=[
                {"metricName": metric, "metricNamespace": "CISBenchmark", "metricValue": "1"}
            ],
        )
        cw.put_metric_alarm(
            AlarmName=f"cis-{metric}",
            MetricName=metric,
            Namespace="CISBenchmark",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            AlarmActions=[topic],
        )
        _add(
            keys,
            "AWS::Logs::MetricFilter",
            arn.format("logs", f"metric-filter:{LOG_GROUP}:{metric}"),
        )
        _add(keys, "AWS::CloudWatch::Alarm", arn.format("cloudwatch", f"alarm:cis-{metric}"))

    # An instance that answers IMDSv2 only, and a default security group with no rules.
    ec2 = client_for("ec2", home)
    vpc = _default_vpc(ec2)
    inst = ec2.run_instances(
        ImageId=_image(ec2),
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
    )["Instances"][0]
    _add(keys, "AWS::EC2::Instance", arn.format("ec2", f"instance/{inst['InstanceId']}"))
    default = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]
    if default.get("IpPermissionsEgress"):
        ec2.revoke_security_group_egress(
            GroupId=default["GroupId"], IpPermissions=default["IpPermissionsEgress"]
        )
    if default.get("IpPermissions"):
        ec2.revoke_security_group_ingress(
            GroupId=default["GroupId"], IpPermissions=default["IpPermissions"]
        )


def seed_failing(client_for: ClientFor, account: str, regions: tuple[str, ...], keys: Keys) -> None:
    """The failing member: no password policy, trail, support role or account block (a new
    account's state), plus an IAM user with two active keys and a full-admin customer policy
    attached directly, a security group open to the Internet on SSH and RDP,
    and an RDS instance that refuses minor version upgrades."""
    home = regions[0]
    arn = f"arn:aws:{{}}:{home}:{account}:{{}}"
    iam = client_for("iam", home)
    admin = iam.create_policy(PolicyName="admin-all", PolicyDocument=json.dumps(ADMIN_ALL))
    _add(keys, "AWS::IAM::ManagedPolicy", admin["Policy"]["Arn"])
    user = iam.create_user(UserName="ci-deploy")["User"]
    for _ in range(2):
        iam.create_access_key(UserName="ci-deploy")
    iam.attach_user_policy(UserName="ci-deploy", PolicyArn=admin["Policy"]["Arn"])
    _add(keys, "AWS::IAM::User", user["Arn"])

    ec2 = client_for("ec2", home)
    sg = ec2.create_security_group(
        GroupName="admin-open", Description="admin from anywhere", VpcId=_default_vpc(ec2)
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
             "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389,
             "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        ],
    )  # fmt: skip
    _add(keys, "AWS::EC2::SecurityGroup", arn.format("ec2", f"security-group/{sg}"))

    db = client_for("rds", home).create_db_instance(
        DBInstanceIdentifier="legacy-db",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        EngineVersion="15.4",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="sandbox-only-password",
        AutoMinorVersionUpgrade=False,
    )["DBInstance"]
    _add(keys, "AWS::RDS::DBInstance", str(db["DBInstanceArn"]))
